//! `[[webhook]]`: where scheduled runs are posted, as the relay's own JSON
//! or in the shape a Microsoft Teams or Slack incoming webhook takes. The
//! URL carries its own credential, so it is a secret read from the
//! environment or a file like the vendor keys, and never echoed.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::read_secret;

/// What a webhook's receiver reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookShape {
    /// `RunNotice` from the OpenAPI description.
    Json,
    /// An Adaptive Card, as a Teams workflow's "When a Teams webhook
    /// request is received" takes it.
    Teams,
    /// Block Kit, as a Slack app's incoming webhook takes it.
    Slack,
}

/// One receiver, ready to post to.
pub struct WebhookConfig {
    pub name: String,
    pub shape: WebhookShape,
    pub url: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookSettings {
    name: String,
    shape: WebhookShape,
    /// The environment variable holding the URL.
    url_env: Option<String>,
    /// A file holding the URL.
    url_file: Option<PathBuf>,
}

impl WebhookSettings {
    pub(super) fn into_config(self) -> anyhow::Result<WebhookConfig> {
        let name = self.name;
        let owner = format!("webhook {name}");
        let url = read_secret(&owner, "url", self.url_env, self.url_file)?;
        // The URL is the credential: say what is wrong with it, never what it is.
        let parsed = reqwest::Url::parse(url.expose_secret())
            .map_err(|error| anyhow::anyhow!("{owner}: the url is not a URL ({error})"))?;
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        anyhow::ensure!(
            parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback),
            "{owner}: the url must be https (http only to a receiver on loopback)"
        );
        Ok(WebhookConfig { name, shape: self.shape, url })
    }
}
