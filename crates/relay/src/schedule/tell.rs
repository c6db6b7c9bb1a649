//! Telling people what a run found: an e-mail in plain text and HTML, and
//! webhooks in the relay's own JSON or the shapes Teams and Slack take;
//! each with the totals, the change from last month, the worklist and a
//! link that opens the month in the portal.

use std::time::Duration;

use billing::api::{
    DocumentRequest, Scope,
    runs::{RunNotice, RunRecord},
};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::{
    config::{Job, Security, SmtpConfig, WebhookConfig, WebhookShape},
    pages::escape,
};

/// How long a mail server or a webhook's receiver may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// One way a job tells of its runs.
#[derive(Clone, Copy)]
pub enum Channel<'a> {
    Email,
    Webhook(&'a WebhookConfig),
}

impl<'a> Channel<'a> {
    /// As a run's `told` lists it.
    pub fn label(self) -> String {
        match self {
            Self::Email => "email".to_owned(),
            Self::Webhook(webhook) => format!("webhook:{}", webhook.name),
        }
    }

    /// The channels `job` names, its webhooks found among `webhooks` (each
    /// name was checked against them when the configuration was read).
    pub fn of(job: &Job, webhooks: &'a [WebhookConfig]) -> Vec<Self> {
        let email = (!job.tell.is_empty()).then_some(Channel::Email);
        let named =
            job.webhooks.iter().filter_map(|name| webhooks.iter().find(|webhook| &webhook.name == name));
        email.into_iter().chain(named.map(Channel::Webhook)).collect()
    }
}

/// The mail server, connected to when a message goes.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let protected = || -> anyhow::Result<TlsParameters> {
            let mut parameters = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.extra_root {
                parameters = parameters.add_root_certificate(Certificate::from_pem(pem)?);
            }
            Ok(parameters.build()?)
        };
        let tls = match config.security {
            Security::Starttls => Tls::Required(protected()?),
            Security::Tls => Tls::Wrapper(protected()?),
            Security::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .tls(tls)
            .port(config.port)
            .timeout(Some(DELIVERY_TIMEOUT));
        if let Some((username, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self { transport: builder.build(), from: config.from.parse()? })
    }

    /// Sends one message about `run` to `to`; the server's refusal, or why
    /// it could not be reached, in words.
    pub async fn send(&self, to: &[String], run: &RunRecord, link: &str) -> Result<(), String> {
        let mut message = Message::builder().from(self.from.clone()).subject(run.subject());
        for address in to {
            message = message.to(address.parse().map_err(|error| format!("`{address}`: {error}"))?);
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(plain(run, link), html(run, link)))
            .map_err(|error| error.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|error| error.to_string())
    }
}

/// Posts runs to webhooks.
pub struct Poster {
    client: reqwest::Client,
}

impl Poster {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client })
    }

    /// Posts `run` to `webhook` in its shape; why it did not arrive, in
    /// words that never hold the URL.
    pub async fn post(&self, webhook: &WebhookConfig, run: &RunRecord, link: &str) -> Result<(), String> {
        let response = self
            .client
            .post(webhook.url.expose_secret())
            .json(&body(webhook.shape, run, link))
            .send()
            .await
            .map_err(|error| error.without_url().to_string())?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("the receiver answered {status}")) }
    }
}

/// The page's address for the run's month, as the job fetched it, under
/// `portal` (the portal as people reach it).
pub fn link(portal: &str, run: &RunRecord, version: &str, format: billing::Format) -> String {
    let page =
        DocumentRequest::new(run.profile.clone(), version, run.endpoint, format, Scope::Window(run.window))
            .map(|request| request.page_path())
            .unwrap_or_else(|_| "/".to_owned());
    format!("{portal}{page}")
}

/// What a webhook of `shape` receives about `run`.
pub fn body(shape: WebhookShape, run: &RunRecord, link: &str) -> Value {
    let notice = RunNotice::new(run.clone(), link.to_owned());
    match shape {
        WebhookShape::Json => json!(notice),
        WebhookShape::Teams => teams_card(&notice),
        WebhookShape::Slack => slack_message(&notice),
    }
}

/// The Adaptive Card a Teams workflow posts to its channel: the subject,
/// the summary's lines, and a button that opens the month.
fn teams_card(notice: &RunNotice) -> Value {
    let mut lines = notice.summary.lines();
    let headline = lines.next().unwrap_or_default();
    let details: Vec<Value> = lines
        .map(|line| json!({ "type": "TextBlock", "text": line.trim(), "wrap": true, "spacing": "None" }))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    { "type": "TextBlock", "text": notice.subject, "weight": "Bolder", "size": "Medium", "wrap": true },
                    { "type": "TextBlock", "text": headline, "wrap": true },
                    { "type": "Container", "items": details }
                ],
                "actions": [{ "type": "Action.OpenUrl", "title": "Open the month in the portal", "url": notice.link }]
            }
        }]
    })
}

/// Slack's Block Kit: a header, the summary as preformatted text (Slack
/// takes at most 3,000 characters in a section) and a button.
fn slack_message(notice: &RunNotice) -> Value {
    const SECTION_MOST: usize = 3000 - 6;
    let escaped = notice.summary.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut summary: String = escaped.chars().take(SECTION_MOST - 1).collect();
    if summary.len() < escaped.len() {
        summary.push('…');
    }
    let header: String = notice.subject.chars().take(150).collect();
    json!({
        "text": notice.subject,
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": header } },
            { "type": "section", "text": { "type": "mrkdwn", "text": format!("```{summary}```") } },
            { "type": "actions", "elements": [{
                "type": "button",
                "text": { "type": "plain_text", "text": "Open the month in the portal" },
                "url": notice.link
            }] }
        ]
    })
}

fn plain(run: &RunRecord, link: &str) -> String {
    format!("{}\n\nOpen the month in the portal: {link}\n", run.summary())
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
