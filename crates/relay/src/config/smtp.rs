//! `[smtp]`: the mail server scheduled runs are told through, its login a
//! secret read from the environment or a file like the vendor keys.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::read_secret;

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain first, then STARTTLS, required (port 587: Microsoft 365, Gmail).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Unprotected: only to a server on loopback.
    None,
}

/// The mail server, ready to send with.
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login and its password, when the server wants one.
    pub credentials: Option<(String, SecretString)>,
    /// `Billing portal <billing@corp.example>`.
    pub from: String,
    /// Where the links in a message point: the portal as people reach it.
    pub portal_url: Option<String>,
    /// A certificate authority trusted besides the system's, in PEM, for a
    /// mail server with an internal certificate.
    pub extra_root: Option<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SmtpSettings {
    host: String,
    port: Option<u16>,
    #[serde(default = "default_security")]
    security: Security,
    username: Option<String>,
    /// The environment variable holding the password.
    password_env: Option<String>,
    /// A file holding the password.
    password_file: Option<PathBuf>,
    from: String,
    portal_url: Option<String>,
    ca_file: Option<PathBuf>,
}

fn default_security() -> Security {
    Security::Starttls
}

impl SmtpSettings {
    pub(super) fn into_config(self) -> anyhow::Result<SmtpConfig> {
        let credentials = match self.username {
            Some(username) => {
                Some((username, read_secret("smtp", "password", self.password_env, self.password_file)?))
            }
            None => {
                anyhow::ensure!(
                    self.password_env.is_none() && self.password_file.is_none(),
                    "smtp: a password needs its username"
                );
                None
            }
        };
        let loopback = matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1");
        anyhow::ensure!(
            self.security != Security::None || loopback,
            "smtp: security = \"none\" only to a server on loopback; use starttls or tls for {}",
            self.host
        );
        anyhow::ensure!(
            credentials.is_none() || self.security != Security::None,
            "smtp: a password is never sent unprotected; use starttls or tls"
        );
        self.from
            .parse::<lettre::message::Mailbox>()
            .map_err(|error| anyhow::anyhow!("smtp: from: {error}"))?;
        let port = self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        let portal_url = self.portal_url.map(|url| url.trim_end_matches('/').to_owned());
        let extra_root = self
            .ca_file
            .map(|file| {
                std::fs::read(&file).map_err(|error| {
                    anyhow::anyhow!("smtp: cannot read the ca_file {}: {error}", file.display())
                })
            })
            .transpose()?;
        anyhow::ensure!(
            extra_root.is_none() || self.security != Security::None,
            "smtp: a ca_file is for starttls or tls"
        );
        Ok(SmtpConfig {
            host: self.host,
            port,
            security: self.security,
            credentials,
            from: self.from,
            portal_url,
            extra_root,
        })
    }
}
