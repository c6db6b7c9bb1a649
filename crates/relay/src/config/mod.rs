//! What the relay serves and on whose behalf: settings layered from a TOML
//! file and `BILLING_*` environment variables, keys read from the
//! environment or a file and held as secrets.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use billing::{Endpoint, Generation, ProfileSummary, Role};
use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use ipnet::IpNet;
use secrecy::SecretString;
use serde::Deserialize;

use crate::hosts::HostPattern;

mod schedule;
mod smtp;
mod webhook;

pub use schedule::{AlertRule, CronExpression, Job, Slot, WindowRule};
pub use smtp::{Security, SmtpConfig};
pub use webhook::{WebhookConfig, WebhookShape};

/// The relay's configuration, ready to serve with.
pub struct RelayConfig {
    pub listen: SocketAddr,
    /// The built web app (trunk's `dist/`).
    pub app_dir: PathBuf,
    pub profiles: Vec<Profile>,
    /// Clients allowed in. Empty admits nobody, as at the vendor.
    pub allowlist: Vec<IpNet>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    pub timeouts: Timeouts,
    pub rate_limit: RateLimit,
    /// How long running downloads may go on after SIGTERM.
    pub shutdown_grace: Duration,
    /// Single sign-on; without it the relay serves whoever the allowlist
    /// admits, which is meant for one person on loopback.
    pub sign_in: Option<SignInConfig>,
    /// Who may use which profile once signed in; nobody unless a rule says so.
    pub access: Vec<AccessRule>,
    /// Listening beyond loopback without sign-in must be asked for.
    pub allow_remote_without_sign_in: bool,
    /// Where the audit log goes as JSON lines; without it, to the log on
    /// stderr under the `audit` target.
    pub audit_log: Option<PathBuf>,
    /// `GET /metrics` for Prometheus; not served without it.
    pub metrics: Option<MetricsConfig>,
    /// Where sessions live and how their cookies are signed.
    pub sessions: SessionsConfig,
    /// Names besides the relay's own under which browsers may reach it
    /// (its listening address, loopback and the host of `public_url`).
    pub allowed_hosts: Vec<HostPattern>,
    /// How long clients may take and how many may be connected at once.
    pub connections: ConnectionLimits,
    /// Where documents and records are kept, and for how long.
    pub archive: ArchiveConfig,
    /// Jobs the relay runs by itself (`[[schedule]]`).
    pub schedule: Vec<Job>,
    /// How often the relay looks for jobs due (and at start).
    pub schedule_check: Duration,
    /// How long a relay holds a run before another may take it over; the
    /// holder renews it while it is still running.
    pub schedule_lease: Duration,
    /// The mail server jobs tell people through.
    pub smtp: Option<SmtpConfig>,
    /// Where jobs post their runs (`[[webhook]]`).
    pub webhooks: Vec<WebhookConfig>,
}

/// The archive: records in a database, bytes in an object store.
pub struct ArchiveConfig {
    /// Off only for measuring what archiving costs.
    pub enabled: bool,
    /// The SQLite file and the local store live here unless configured
    /// elsewhere.
    pub data_dir: PathBuf,
    /// `postgres://…`, where several relays share their records; may hold
    /// a password, so a secret. Without it, SQLite in `data_dir`.
    pub database_url: Option<SecretString>,
    /// `s3://…`, `az://…`, `gs://…` or `file:///…`; without it, `documents/`
    /// in `data_dir`.
    pub store_url: Option<String>,
    /// Nothing younger is ever removed (Dutch fiscal retention: seven years).
    pub retention_years: u32,
}

impl ArchiveConfig {
    pub const DEFAULT_RETENTION_YEARS: u32 = 7;

    /// On, in `data_dir`, with SQLite and the local file system.
    pub fn in_directory(data_dir: PathBuf) -> Self {
        Self {
            enabled: true,
            data_dir,
            database_url: None,
            store_url: None,
            retention_years: Self::DEFAULT_RETENTION_YEARS,
        }
    }
}

/// How the relay treats the connections themselves, whoever is on them.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// A request's headers must have arrived this long after the
    /// connection opened or the previous answer ended; else it is closed.
    #[serde(with = "seconds")]
    pub header_timeout: Duration,
    /// A connection with no request under way and no bytes moving is
    /// closed after this long.
    #[serde(with = "seconds")]
    pub idle_timeout: Duration,
    /// Connections open at once; past this, new ones wait in the kernel's
    /// queue until one closes, and the open ones go on.
    pub max_open: usize,
}

impl ConnectionLimits {
    fn checked(self) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !self.header_timeout.is_zero() && !self.idle_timeout.is_zero() && self.max_open > 0,
            "connections: header_timeout, idle_timeout and max_open must be above zero"
        );
        Ok(self)
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(15),
            max_open: 4096,
        }
    }
}

/// Sessions shared by several relays: in Redis, with cookies every relay
/// signs with the same key. Without these, in memory with a key made at
/// start (one relay; a restart signs everyone out).
#[derive(Default)]
pub struct SessionsConfig {
    /// e.g. `redis://127.0.0.1:6379/0`; may hold a password, so a secret.
    pub redis_url: Option<SecretString>,
    /// At least 64 bytes, e.g. `openssl rand -hex 32`.
    pub cookie_key: Option<SecretString>,
}

/// Where the metrics are served and to whom.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// An address of their own; without it, `/metrics` on the relay's
    /// address, outside its allowlist and sign-in.
    pub listen: Option<SocketAddr>,
    /// Scrapers allowed in, by their own address (never a forwarded one).
    #[serde(default = "loopback")]
    pub allowlist: Vec<IpNet>,
}

/// IPv4 and IPv6 loopback.
pub fn loopback() -> Vec<IpNet> {
    ["127.0.0.0/8", "::1/128"].iter().map(|net| net.parse().expect("a valid network")).collect()
}

/// OpenID Connect sign-in: the provider, this relay as its client, and the
/// session's lifetimes.
pub struct SignInConfig {
    /// Discovery is at `{issuer_url}/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// The relay as browsers reach it, e.g. `https://billing.example.com`;
    /// the provider sends them back to `{public_url}/auth/callback`.
    pub public_url: reqwest::Url,
    /// The ID token or userinfo claim listing the person's groups.
    pub groups_claim: String,
    pub scopes: Vec<String>,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    /// Whom a refused person should ask, e.g. `finance-it@example.com`.
    pub access_contact: Option<String>,
    /// `prompt=login` at every sign-in: the provider asks for the password
    /// even when its own session is still open (kiosks, shared computers).
    pub always_ask: bool,
    /// The `aud` an access token must carry to be accepted as a bearer
    /// token; the public URL's origin unless set.
    pub token_audience: String,
    /// The JWT `typ` headers accepted for access tokens, lowercase:
    /// RFC 9068's `at+jwt` unless set. Entra ID and Keycloak type theirs
    /// plain `JWT`, which must then be listed.
    pub token_types: Vec<String>,
}

impl SignInConfig {
    /// Whether the session cookie must be Secure (and `__Host-` prefixed).
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public URL's origin, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

/// One `[[access]]` rule: who may use `profile`. A deny wins over an allow.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    pub profile: String,
    #[serde(default)]
    pub allow_groups: Vec<String>,
    /// Counted only when the provider says the e-mail is verified.
    #[serde(default)]
    pub allow_emails: Vec<String>,
    /// Service accounts, by the `client_id` of their access tokens.
    #[serde(default)]
    pub allow_clients: Vec<String>,
    #[serde(default)]
    pub deny_groups: Vec<String>,
    /// What those it admits may do: `read` unless the rule says more.
    #[serde(default)]
    pub role: Role,
}

/// One vendor API key and how to reach the vendor with it.
pub struct Profile {
    pub name: String,
    pub environment: String,
    pub generation: Generation,
    pub base_url: String,
    pub versions: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub key: SecretString,
    pub key_header: String,
}

impl Profile {
    /// A profile offering every version and endpoint of its generation, with
    /// the key in the vendor's default header.
    pub fn whole_generation(
        name: &str,
        environment: &str,
        generation: Generation,
        base_url: String,
        key: SecretString,
    ) -> Self {
        Self {
            name: name.to_owned(),
            environment: environment.to_owned(),
            generation,
            base_url,
            versions: generation.versions().iter().map(|version| (*version).to_owned()).collect(),
            endpoints: generation.endpoints().to_vec(),
            key,
            key_header: billing::api::vendor::DEFAULT_KEY_HEADER.to_owned(),
        }
    }

    /// What a browser may know about this profile: never the key or URL;
    /// and `role`, what the caller may do with it.
    pub fn summary(&self, role: Role) -> ProfileSummary {
        ProfileSummary {
            name: self.name.clone(),
            environment: self.environment.clone(),
            generation: self.generation,
            versions: self.versions.clone(),
            endpoints: self.endpoints.clone(),
            role,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Connecting to the vendor.
    #[serde(with = "seconds")]
    pub connect: Duration,
    /// From sending the request to the vendor's status line.
    #[serde(with = "seconds")]
    pub response: Duration,
    /// The longest pause between two pieces of a body.
    #[serde(with = "seconds")]
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            response: Duration::from_secs(60),
            idle: Duration::from_secs(60),
        }
    }
}

/// Requests per client address, refilled steadily, with a burst allowance.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_minute: 120, burst: 30 }
    }
}

pub(crate) mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        f64::deserialize(deserializer).and_then(|seconds| {
            Duration::try_from_secs_f64(seconds)
                .map_err(|_| serde::de::Error::custom("not a number of seconds"))
        })
    }
}

/// The settings as written in the file and the environment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    #[serde(default = "default_app_dir")]
    app_dir: PathBuf,
    #[serde(default)]
    allowlist: Vec<IpNet>,
    #[serde(default)]
    trusted_proxies: Vec<IpNet>,
    #[serde(default)]
    timeouts: Timeouts,
    #[serde(default)]
    rate_limit: RateLimit,
    #[serde(default = "default_grace")]
    shutdown_grace_seconds: u64,
    #[serde(default)]
    profiles: Vec<ProfileSettings>,
    sign_in: Option<SignInSettings>,
    #[serde(default)]
    access: Vec<AccessRule>,
    #[serde(default)]
    allow_remote_without_sign_in: bool,
    audit_log: Option<PathBuf>,
    metrics: Option<MetricsConfig>,
    #[serde(default)]
    sessions: SessionsSettings,
    #[serde(default)]
    allowed_hosts: Vec<HostPattern>,
    #[serde(default)]
    connections: ConnectionLimits,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    database_url: Option<SecretString>,
    archive_store: Option<String>,
    #[serde(default = "default_retention_years")]
    retention_years: u32,
    #[serde(default = "default_archive")]
    archive: bool,
    #[serde(default)]
    schedule: Vec<Job>,
    #[serde(default = "default_schedule_check", with = "seconds")]
    schedule_check_seconds: Duration,
    #[serde(default = "default_schedule_lease", with = "seconds")]
    schedule_lease_seconds: Duration,
    smtp: Option<smtp::SmtpSettings>,
    #[serde(default)]
    webhook: Vec<webhook::WebhookSettings>,
}

fn default_schedule_lease() -> Duration {
    Duration::from_secs(600)
}

fn default_schedule_check() -> Duration {
    Duration::from_secs(3600)
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("billing-data")
}

fn default_retention_years() -> u32 {
    ArchiveConfig::DEFAULT_RETENTION_YEARS
}

fn default_archive() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsSettings {
    redis_url: Option<SecretString>,
    /// The environment variable holding the cookie key.
    cookie_key_env: Option<String>,
    /// A file holding the cookie key.
    cookie_key_file: Option<PathBuf>,
}

impl SessionsSettings {
    fn into_config(self) -> anyhow::Result<SessionsConfig> {
        let cookie_key = match (&self.cookie_key_env, &self.cookie_key_file) {
            (None, None) => None,
            _ => Some(read_secret("sessions", "cookie_key", self.cookie_key_env, self.cookie_key_file)?),
        };
        if let Some(key) = &cookie_key {
            anyhow::ensure!(
                secrecy::ExposeSecret::expose_secret(key).len() >= 64,
                "sessions: the cookie_key must be at least 64 bytes (e.g. `openssl rand -hex 32`)"
            );
        }
        anyhow::ensure!(
            self.redis_url.is_none() || cookie_key.is_some(),
            "sessions: redis_url needs cookie_key_env or cookie_key_file: every relay sharing the \
             sessions must sign cookies with the same key"
        );
        Ok(SessionsConfig { redis_url: self.redis_url, cookie_key })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInSettings {
    issuer_url: String,
    client_id: String,
    /// The environment variable holding the client secret.
    client_secret_env: Option<String>,
    /// A file holding the client secret.
    client_secret_file: Option<PathBuf>,
    public_url: String,
    #[serde(default = "default_groups_claim")]
    groups_claim: String,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    #[serde(default = "default_session_idle", with = "seconds")]
    session_idle_seconds: Duration,
    #[serde(default = "default_session_absolute", with = "seconds")]
    session_absolute_seconds: Duration,
    access_contact: Option<String>,
    #[serde(default)]
    always_ask: bool,
    token_audience: Option<String>,
    #[serde(default = "default_token_types")]
    token_types: Vec<String>,
}

fn default_token_types() -> Vec<String> {
    vec!["at+jwt".to_owned(), "application/at+jwt".to_owned()]
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(str::to_owned).to_vec()
}

fn default_session_idle() -> Duration {
    Duration::from_secs(8 * 3600)
}

fn default_session_absolute() -> Duration {
    Duration::from_secs(12 * 3600)
}

impl SignInSettings {
    fn into_config(self) -> anyhow::Result<SignInConfig> {
        let client_secret =
            read_secret("sign_in", "client_secret", self.client_secret_env, self.client_secret_file)?;
        let public_url = reqwest::Url::parse(self.public_url.trim_end_matches('/'))
            .context("sign_in: public_url is not a URL")?;
        anyhow::ensure!(
            matches!(public_url.scheme(), "http" | "https")
                && public_url.path() == "/"
                && public_url.query().is_none(),
            "sign_in: public_url must be the relay's http(s) origin, without a path or query"
        );
        reqwest::Url::parse(&self.issuer_url).context("sign_in: issuer_url is not a URL")?;
        anyhow::ensure!(
            self.session_idle_seconds <= self.session_absolute_seconds,
            "sign_in: session_idle_seconds must not exceed session_absolute_seconds"
        );
        let token_audience = self.token_audience.unwrap_or_else(|| public_url.origin().ascii_serialization());
        let token_types: Vec<String> = self.token_types.iter().map(|typ| typ.to_ascii_lowercase()).collect();
        // An ID token is a plain JWT whose audience is the client id: with
        // both, one could pass for an access token.
        anyhow::ensure!(
            !(token_types.iter().any(|typ| typ == "jwt") && token_audience == self.client_id),
            "sign_in: with token_types listing JWT, token_audience must differ from client_id, or an ID \
             token would pass for an access token"
        );
        Ok(SignInConfig {
            token_audience,
            token_types,
            issuer_url: self.issuer_url,
            client_id: self.client_id,
            client_secret,
            public_url,
            groups_claim: self.groups_claim,
            scopes: self.scopes,
            session_idle: self.session_idle_seconds,
            session_absolute: self.session_absolute_seconds,
            access_contact: self.access_contact,
            always_ask: self.always_ask,
        })
    }
}

/// A secret from exactly one of an environment variable and a file;
/// `setting` names the pair, e.g. `key` for `key_env` and `key_file`.
fn read_secret(
    owner: &str,
    setting: &str,
    variable: Option<String>,
    file: Option<PathBuf>,
) -> anyhow::Result<SecretString> {
    let secret = match (variable, file) {
        (Some(variable), None) => std::env::var(&variable)
            .with_context(|| format!("{owner}: the environment variable {variable} holds no {setting}"))?,
        (None, Some(file)) => std::fs::read_to_string(&file)
            .with_context(|| format!("{owner}: cannot read the {setting} file {}", file.display()))?
            .trim()
            .to_owned(),
        _ => bail!("{owner}: give exactly one of {setting}_env and {setting}_file"),
    };
    anyhow::ensure!(!secret.is_empty(), "{owner}: the {setting} is empty");
    Ok(SecretString::from(secret))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSettings {
    name: String,
    environment: String,
    generation: Generation,
    base_url: String,
    /// Defaults to every version of the generation.
    versions: Option<Vec<String>>,
    /// Defaults to every endpoint of the generation.
    endpoints: Option<Vec<Endpoint>>,
    /// The environment variable holding the key.
    key_env: Option<String>,
    /// A file holding the key (e.g. a mounted secret).
    key_file: Option<PathBuf>,
    #[serde(default = "default_key_header")]
    key_header: String,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_app_dir() -> PathBuf {
    PathBuf::from("dist")
}

fn default_grace() -> u64 {
    30
}

fn default_key_header() -> String {
    billing::api::vendor::DEFAULT_KEY_HEADER.to_owned()
}

/// The settings the environment may set, as `BILLING_<NAME>`; nested ones
/// with `__`, e.g. `BILLING_TIMEOUTS__RESPONSE=120`. Other `BILLING_*`
/// variables (such as the ones holding keys) are not settings.
const ENVIRONMENT_SETTINGS: [&str; 26] = [
    "listen",
    "app_dir",
    "allowlist",
    "trusted_proxies",
    "timeouts",
    "rate_limit",
    "shutdown_grace_seconds",
    "profiles",
    "sign_in",
    "access",
    "allow_remote_without_sign_in",
    "audit_log",
    "metrics",
    "sessions",
    "allowed_hosts",
    "connections",
    "data_dir",
    "database_url",
    "archive_store",
    "retention_years",
    "archive",
    "schedule",
    "schedule_check_seconds",
    "schedule_lease_seconds",
    "smtp",
    "webhook",
];

impl RelayConfig {
    /// Every setting at its default, serving the app in `app_dir` with no
    /// profiles, nobody on the allowlist and no sign-in.
    pub fn defaults(app_dir: PathBuf) -> Self {
        Self {
            listen: default_listen(),
            app_dir,
            profiles: Vec::new(),
            allowlist: Vec::new(),
            trusted_proxies: Vec::new(),
            timeouts: Timeouts::default(),
            rate_limit: RateLimit::default(),
            shutdown_grace: Duration::from_secs(default_grace()),
            sign_in: None,
            access: Vec::new(),
            allow_remote_without_sign_in: false,
            audit_log: None,
            metrics: None,
            sessions: SessionsConfig::default(),
            allowed_hosts: Vec::new(),
            connections: ConnectionLimits::default(),
            archive: ArchiveConfig::in_directory(default_data_dir()),
            schedule: Vec::new(),
            schedule_check: default_schedule_check(),
            schedule_lease: default_schedule_lease(),
            smtp: None,
            webhooks: Vec::new(),
        }
    }

    /// Reads `file` (if any), then `BILLING_*` environment variables over it,
    /// then each profile's key.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            anyhow::ensure!(file.is_file(), "the configuration file {} does not exist", file.display());
            figment = figment.merge(Toml::file_exact(file));
        }
        let environment = Env::prefixed("BILLING_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                // `BILLING_SIGN_IN_SECRET` holding a secret is not the setting `sign_in`.
                ENVIRONMENT_SETTINGS.iter().any(|setting| {
                    key.strip_prefix(setting).is_some_and(|rest| rest.is_empty() || rest.starts_with("__"))
                })
            })
            .split("__");
        let settings: Settings =
            figment.merge(environment).extract().context("invalid relay configuration")?;
        anyhow::ensure!(
            settings.retention_years >= 1,
            "retention_years must be at least 1 (finance keeps invoices 7 years, the default)"
        );
        let profiles =
            settings.profiles.into_iter().map(ProfileSettings::into_profile).collect::<Result<_, _>>()?;
        let webhooks: Vec<WebhookConfig> = settings
            .webhook
            .into_iter()
            .map(webhook::WebhookSettings::into_config)
            .collect::<Result<_, _>>()?;
        if let Some(twice) = webhooks
            .iter()
            .find(|webhook| webhooks.iter().filter(|other| other.name == webhook.name).count() > 1)
        {
            bail!("two [[webhook]]s are named `{}`", twice.name);
        }
        Ok(Self {
            listen: settings.listen,
            app_dir: settings.app_dir,
            profiles,
            allowlist: settings.allowlist,
            trusted_proxies: settings.trusted_proxies,
            timeouts: settings.timeouts,
            rate_limit: settings.rate_limit,
            shutdown_grace: Duration::from_secs(settings.shutdown_grace_seconds),
            sign_in: settings.sign_in.map(SignInSettings::into_config).transpose()?,
            access: settings.access,
            allow_remote_without_sign_in: settings.allow_remote_without_sign_in,
            audit_log: settings.audit_log,
            metrics: settings.metrics,
            sessions: settings.sessions.into_config()?,
            allowed_hosts: settings.allowed_hosts,
            connections: settings.connections.checked()?,
            archive: ArchiveConfig {
                enabled: settings.archive,
                data_dir: settings.data_dir,
                database_url: settings.database_url,
                store_url: settings.archive_store,
                retention_years: settings.retention_years,
            },
            schedule: settings.schedule,
            schedule_check: settings.schedule_check_seconds,
            schedule_lease: settings.schedule_lease_seconds,
            smtp: settings.smtp.map(smtp::SmtpSettings::into_config).transpose()?,
            webhooks,
        })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|profile| profile.name == name)
    }
}

impl ProfileSettings {
    fn into_profile(self) -> anyhow::Result<Profile> {
        let name = self.name;
        let key = read_secret(&format!("profile {name}"), "key", self.key_env, self.key_file)?;
        let generation = self.generation;
        let versions =
            self.versions.unwrap_or_else(|| generation.versions().iter().map(|v| (*v).to_owned()).collect());
        if let Some(unknown) =
            versions.iter().find(|version| !generation.versions().contains(&version.as_str()))
        {
            bail!("profile {name}: the {} API has no version {unknown}", generation.label());
        }
        let endpoints = self.endpoints.unwrap_or_else(|| generation.endpoints().to_vec());
        if let Some(unknown) = endpoints.iter().find(|endpoint| !generation.endpoints().contains(endpoint)) {
            bail!("profile {name}: the {} API has no endpoint {}", generation.label(), unknown.path());
        }
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&base_url).with_context(|| format!("profile {name}: bad base_url"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.query().is_none(),
            "profile {name}: base_url must be an http(s) URL without a query"
        );
        anyhow::ensure!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')),
            "profile name `{name}` may use only letters, digits, `-` and `_`"
        );
        Ok(Profile {
            name,
            environment: self.environment,
            generation,
            base_url,
            versions,
            endpoints,
            key,
            key_header: self.key_header,
        })
    }
}

#[cfg(test)]
// figment's test jail fixes the closures' error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        listen = "127.0.0.1:9000"
        allowlist = ["10.0.0.0/8"]

        [timeouts]
        response = 90

        [[profiles]]
        name = "main"
        environment = "PRODUCTION"
        generation = "current"
        base_url = "https://vendor.example/"
        key_file = "key.txt"
    "#;

    #[test]
    fn the_environment_overrides_the_file_and_keys_come_from_files_or_variables() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("relay.toml", FILE)?;
            jail.create_file("key.txt", "  secret-from-file\n")?;
            jail.set_env("BILLING_LISTEN", "127.0.0.1:9100");
            jail.set_env("BILLING_TIMEOUTS__IDLE", "15");
            jail.set_env("BILLING_KEY_NOT_A_SETTING", "ignored");
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            assert_eq!(config.listen, "127.0.0.1:9100".parse().unwrap());
            assert_eq!(config.allowlist, vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]);
            assert_eq!(config.timeouts.response, Duration::from_secs(90));
            assert_eq!(config.timeouts.idle, Duration::from_secs(15));
            assert_eq!(config.timeouts.connect, Timeouts::default().connect);
            let profile = &config.profiles[0];
            assert_eq!(profile.base_url, "https://vendor.example");
            assert_eq!(profile.versions, ["v1"]);
            assert_eq!(profile.endpoints, Generation::Current.endpoints());
            assert_eq!(secrecy::ExposeSecret::expose_secret(&profile.key), "secret-from-file");
            Ok(())
        });
    }

    #[test]
    fn a_profile_asking_for_what_its_generation_lacks_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("key.txt", "k")?;
            jail.create_file(
                "relay.toml",
                &FILE.replace("generation = \"current\"", "generation = \"current\"\nversions = [\"v3\"]"),
            )?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert_eq!(error.to_string(), "profile main: the current API has no version v3");
            jail.create_file(
                "relay.toml",
                &FILE.replace("key_file = \"key.txt\"", "key_file = \"key.txt\"\nkey_env = \"K\""),
            )?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert_eq!(error.to_string(), "profile main: give exactly one of key_env and key_file");
            Ok(())
        });
    }

    #[test]
    fn shared_sessions_need_one_long_cookie_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("key.txt", "k")?;
            let with = |sessions: &str| format!("{FILE}\n[sessions]\n{sessions}");
            jail.create_file("relay.toml", &with(r#"redis_url = "redis://127.0.0.1:6379/0""#))?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(error.to_string().contains("needs cookie_key_env or cookie_key_file"), "{error}");
            jail.set_env("COOKIE_KEY", "too-short");
            jail.create_file(
                "relay.toml",
                &with("redis_url = \"redis://127.0.0.1:6379/0\"\ncookie_key_env = \"COOKIE_KEY\""),
            )?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(error.to_string().contains("at least 64 bytes"), "{error}");
            jail.set_env("COOKIE_KEY", "0123456789abcdef".repeat(4));
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            assert!(config.sessions.redis_url.is_some() && config.sessions.cookie_key.is_some());
            Ok(())
        });
    }

    #[test]
    fn plain_jwt_access_tokens_need_an_audience_unlike_the_client_id() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("key.txt", "k")?;
            jail.set_env("SECRET", "s");
            let sign_in = |extra: &str| {
                format!(
                    "{FILE}\n[sign_in]\nissuer_url = \"https://id.example\"\nclient_id = \"relay\"\n\
                     client_secret_env = \"SECRET\"\npublic_url = \"https://billing.example\"\n{extra}"
                )
            };
            jail.create_file("relay.toml", &sign_in("token_types = [\"JWT\"]\ntoken_audience = \"relay\""))?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(error.to_string().contains("an ID token would pass"), "{error}");
            jail.create_file("relay.toml", &sign_in("token_types = [\"JWT\"]"))?;
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            let sign_in = config.sign_in.expect("sign-in");
            assert_eq!(
                (sign_in.token_audience.as_str(), sign_in.token_types),
                ("https://billing.example", vec!["jwt".to_owned()])
            );
            Ok(())
        });
    }

    #[test]
    fn host_names_and_connection_limits_are_read_and_checked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("key.txt", "k")?;
            let with = |extra: &str| {
                format!(
                    "allowed_hosts = [\"Billing.Corp.Example.\", \"reports.example:8443\", \".intra.example\"]\n{FILE}\n{extra}"
                )
            };
            jail.create_file("relay.toml", &with("[connections]\nheader_timeout = 10\nmax_open = 100"))?;
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            assert_eq!(
                config.allowed_hosts,
                [
                    HostPattern::Name { name: "billing.corp.example".into(), port: None },
                    HostPattern::Name { name: "reports.example".into(), port: Some(8443) },
                    HostPattern::WithSubdomains { domain: "intra.example".into() },
                ]
            );
            assert_eq!(
                (
                    config.connections.header_timeout,
                    config.connections.idle_timeout,
                    config.connections.max_open
                ),
                (Duration::from_secs(10), ConnectionLimits::default().idle_timeout, 100)
            );
            jail.create_file("relay.toml", &with("[connections]\nmax_open = 0"))?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(error.to_string().contains("above zero"), "{error}");
            jail.create_file("relay.toml", &format!("allowed_hosts = [\"evil.example/path\"]\n{FILE}"))?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(format!("{error:#}").contains("evil.example/path"), "{error:#}");
            Ok(())
        });
    }

    #[test]
    fn the_mail_server_reads_its_password_as_a_secret_and_refuses_one_sent_in_clear() {
        figment::Jail::expect_with(|jail| {
            let smtp = "[smtp]\nhost = \"smtp.office365.com\"\nusername = \"billing@corp.example\"\n\
                        password_env = \"SMTP_TEST_PASSWORD\"\nfrom = \"Billing <billing@corp.example>\"\n";
            jail.set_env("SMTP_TEST_PASSWORD", "p4ss-w0rd");
            jail.create_file("relay.toml", smtp)?;
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            let smtp_config = config.smtp.expect("configured");
            assert_eq!((smtp_config.port, smtp_config.security), (587, Security::Starttls));
            let (_, password) = smtp_config.credentials.expect("a login");
            assert!(!format!("{password:?}").contains("p4ss-w0rd"), "a secret, never printed");
            jail.create_file("relay.toml", &format!("{smtp}security = \"none\"\n"))?;
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            assert!(format!("{error:#}").contains("only to a server on loopback"), "{error:#}");
            Ok(())
        });
    }

    #[test]
    fn a_webhooks_url_is_a_secret_from_a_file_or_the_environment_and_must_be_https() {
        figment::Jail::expect_with(|jail| {
            let url =
                "https://prod-12.westeurope.logic.azure.com/workflows/5e1f/triggers/manual?sig=s3cr3t-sig";
            jail.create_file("hook-url", &format!("{url}\n"))?;
            let hooks = "[[webhook]]\nname = \"teams\"\nshape = \"teams\"\nurl_file = \"hook-url\"\n\n\
                         [[webhook]]\nname = \"ours\"\nshape = \"json\"\nurl_env = \"HOOK_TEST_URL\"\n";
            jail.set_env("HOOK_TEST_URL", "http://127.0.0.1:9/runs");
            jail.create_file("relay.toml", hooks)?;
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            let [teams, ours] = config.webhooks.as_slice() else { panic!("two webhooks") };
            assert_eq!((teams.shape, ours.shape), (WebhookShape::Teams, WebhookShape::Json));
            assert_eq!(secrecy::ExposeSecret::expose_secret(&teams.url), url, "read whole, trimmed");
            assert!(!format!("{:?}", teams.url).contains("s3cr3t-sig"), "a secret, never printed");

            jail.set_env("HOOK_TEST_URL", "http://hooks.corp.example/runs?token=s3cr3t-token");
            let error = RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused");
            let error = format!("{error:#}");
            assert!(error.contains("webhook ours: the url must be https"), "{error}");
            assert!(!error.contains("s3cr3t-token"), "the URL is not echoed: {error}");
            jail.set_env("HOOK_TEST_URL", "not a URL s3cr3t-token");
            let error =
                format!("{:#}", RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused"));
            assert!(
                error.contains("webhook ours: the url is not a URL") && !error.contains("s3cr3t"),
                "{error}"
            );
            jail.set_env("HOOK_TEST_URL", "https://hooks.slack.com/services/T0/B0/x");
            jail.create_file("relay.toml", &hooks.replace("\"ours\"", "\"teams\""))?;
            let error =
                format!("{:#}", RelayConfig::load(Some(Path::new("relay.toml"))).err().expect("refused"));
            assert!(error.contains("two [[webhook]]s are named `teams`"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_documented_example_loads() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("relay.toml", include_str!("../../relay.example.toml"))?;
            jail.set_env("BILLING_KEY_PRODUCTION", "k1");
            let key_file = jail.directory().join("key");
            jail.create_file("key", "k2")?;
            let example = include_str!("../../relay.example.toml")
                .replace("/run/secrets/billing-key-current", &key_file.display().to_string());
            jail.create_file("relay.toml", &example)?;
            let config =
                RelayConfig::load(Some(Path::new("relay.toml"))).map_err(|error| format!("{error:#}"))?;
            let names: Vec<_> = config.profiles.iter().map(|profile| profile.name.as_str()).collect();
            assert_eq!(names, ["production", "production-current"]);
            assert_eq!(config.rate_limit.burst, 30);
            let jobs: Vec<_> =
                config.schedule.iter().map(|job| (job.name.as_str(), job.window.clone())).collect();
            assert_eq!(jobs, [("invoice-run", WindowRule::InvoiceRun { from_day: 20 })]);
            for job in &config.schedule {
                job.check(&config).map_err(|error| format!("{error:#}"))?;
            }
            Ok(())
        });
    }
}
