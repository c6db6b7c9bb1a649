//! Telling people what a run found: an e-mail in plain text and HTML with
//! the totals, the change from last month, the worklist and a link that
//! opens the month in the portal.

use billing::api::{
    DocumentRequest, Scope,
    runs::{RunRecord, RunStatus},
};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
};
use secrecy::ExposeSecret;

use crate::config::{Security, SmtpConfig};

/// The mail server, connected to when a message goes.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The portal as people reach it, for links.
    portal: String,
}

impl Mailer {
    pub fn new(config: &SmtpConfig, portal: String) -> anyhow::Result<Self> {
        let builder = match config.security {
            Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        };
        let mut builder = builder.port(config.port).timeout(Some(std::time::Duration::from_secs(30)));
        if let Some((username, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from.parse()?,
            portal: config.portal_url.clone().unwrap_or(portal),
        })
    }

    /// Sends one message about `run` (fetched with `request`) to `to`; the
    /// server's refusal, or why it could not be reached, in words.
    pub async fn send(
        &self,
        to: &[String],
        run: &RunRecord,
        version: &str,
        format: billing::Format,
    ) -> Result<(), String> {
        let link = format!("{}{}", self.portal, page_of(run, version, format));
        let mut message = Message::builder().from(self.from.clone()).subject(subject(run));
        for address in to {
            message = message.to(address.parse().map_err(|error| format!("`{address}`: {error}"))?);
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(plain(run, &link), html(run, &link)))
            .map_err(|error| error.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|error| error.to_string())
    }
}

/// The page's address for the run's month, as the job fetched it.
fn page_of(run: &RunRecord, version: &str, format: billing::Format) -> String {
    DocumentRequest::new(run.profile.clone(), version, run.endpoint, format, Scope::Window(run.window))
        .map(|request| request.page_path())
        .unwrap_or_else(|_| "/".to_owned())
}

pub fn subject(run: &RunRecord) -> String {
    let lines: usize =
        run.findings.iter().flat_map(|findings| findings.exceptions.values()).map(|count| count.lines).sum();
    let outcome = match run.status {
        RunStatus::Failed => "failed".to_owned(),
        _ if lines == 0 => "nothing on the worklist".to_owned(),
        _ => format!("{lines} lines on the worklist"),
    };
    format!("Billing {} {} of {}: {outcome}", run.endpoint.path(), run.month, run.profile)
}

fn plain(run: &RunRecord, link: &str) -> String {
    format!("{}\n\nOpen the month in the portal: {link}\n", run.summary())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(run: &RunRecord, link: &str) -> String {
    let lines: String = run.summary().lines().map(|line| format!("<p>{}</p>", escape(line.trim()))).collect();
    let mut rows = String::new();
    for total in run.findings.iter().flat_map(|findings| &findings.totals) {
        rows.push_str(&format!(
            "<tr><td>{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td></tr>",
            escape(&total.currency),
            escape(&total.excluding_vat),
            escape(&total.vat),
            escape(&total.including_vat)
        ));
    }
    let table = if rows.is_empty() {
        String::new()
    } else {
        format!(
            "<table><thead><tr><th>Currency</th><th>Excluding VAT</th><th>VAT</th><th>Including VAT</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    format!(
        "<!DOCTYPE html><html><body>{lines}{table}<p><a href=\"{}\">Open the month in the portal</a></p></body></html>",
        escape(link)
    )
}
