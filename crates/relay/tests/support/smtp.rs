//! A real SMTP server on loopback (Debian's aiosmtpd) delivering into a
//! maildir, that a test can stop as an outage would and start again on
//! the same port.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct SmtpServer {
    pub port: u16,
    maildir: tempfile::TempDir,
    process: Option<Child>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self { port, maildir: tempfile::tempdir().unwrap(), process: None };
        server.start_again().await;
        server
    }

    pub async fn start_again(&mut self) {
        let program = std::env::var("BILLING_AIOSMTPD").unwrap_or_else(|_| "aiosmtpd".to_owned());
        let process = Command::new(&program)
            .args(["-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{program} starts ({error}): run `cargo xtask test`, which installs it")
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

    /// Every message delivered so far, as received.
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
