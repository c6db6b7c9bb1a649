//! A real SMTP server on loopback (Debian's aiosmtpd, through
//! `smtp_server.py`) delivering into a maildir: plain, with STARTTLS or
//! with TLS from the first byte, optionally asking for a login. A test can
//! stop it as an outage would and start it again on the same port.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use relay::config::Security;

/// The login a protected test server asks for.
pub const USER: &str = "billing@corp.example";
pub const PASSWORD: &str = "smtp-password-5b1e9d";

pub struct SmtpServer {
    pub port: u16,
    security: Security,
    maildir: tempfile::TempDir,
    /// The certificate authority a client trusts for a protected server.
    pub ca_file: Option<PathBuf>,
    process: Option<Child>,
}

impl SmtpServer {
    /// A plain server without a login.
    pub async fn start() -> Self {
        Self::start_with(Security::None).await
    }

    /// A server with `security`; a protected one asks for [`USER`]'s login.
    pub async fn start_with(security: Security) -> Self {
        let port = super::ports::free_loopback_port();
        let maildir = tempfile::tempdir().unwrap();
        let ca_file = (security != Security::None).then(|| super::tls::certificate(maildir.path()));
        let mut server = Self { port, security, maildir, ca_file, process: None };
        server.start_again().await;
        server
    }

    pub async fn start_again(&mut self) {
        let python = std::env::var("BILLING_SMTP_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_owned());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut command = Command::new(&python);
        command
            .arg(script)
            .args(["--port", &self.port.to_string()])
            .arg("--maildir")
            .arg(self.maildir.path().join("mail"));
        let security = match self.security {
            Security::None => "none",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        };
        command.args(["--security", security]);
        if self.security != Security::None {
            let dir = self.maildir.path();
            command.arg("--cert").arg(dir.join("cert.pem")).arg("--key").arg(dir.join("key.pem"));
            command.args(["--login", &format!("{USER}:{PASSWORD}")]);
        }
        let process = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|error| {
            panic!("{python} starts ({error}): run `cargo xtask test`, which installs python3-aiosmtpd")
        });
        self.process = Some(process);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the SMTP server did not listen on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Every message delivered so far, as received, each after a first
    /// line `X-Test-Arrived: tls=yes|no authenticated=yes|no`.
    pub fn messages(&self) -> Vec<String> {
        let delivered = self.maildir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(delivered) else { return Vec::new() };
        entries.map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
