//! A relay in front of the real emulator, both on loopback ports.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod database;
pub mod hostile_provider;
pub mod oidc;
pub mod ports;
pub mod postgres;
pub mod redis;
pub mod smtp;
pub mod tls;
pub mod webhook;

use std::{
    net::SocketAddr,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{extract::Request, middleware::Next};

use billing::Generation;
use chrono::NaiveDate;
use relay::{Application, Profile, RateLimit, RelayConfig};
use vendor_sim::{ApiKey, Config, DataSpec, RunningVendor};

pub const KEY: &str = "relay-test-key-5f1c9a77e2";
pub const INDEX: &str = "<!DOCTYPE html><title>app shell</title><script type=\"module\">start();</script>";
pub const WINDOW: &str = "start=2026-06-01&end=2026-09-30";

pub async fn vendor_with(keys: Vec<ApiKey>) -> RunningVendor {
    let config = Config {
        keys,
        today: NaiveDate::from_ymd_opt(2026, 11, 25),
        data: DataSpec { seed: 11, customers: 10, hostile_names: false },
        ..Config::single_key("unused", String::new().into())
    };
    vendor_sim::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.unwrap()
}

/// The emulator, counting the requests that reach it.
pub async fn counting_vendor() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let config = vendor_sim::Config {
        keys: vec![vendor_sim::ApiKey::new("relay", KEY.to_owned().into())],
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
        data: vendor_sim::DataSpec { seed: 11, customers: 4, hostile_names: false },
        ..vendor_sim::Config::single_key("unused", String::new().into())
    };
    let app =
        vendor_sim::app(config).layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            counted.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (url, calls, task)
}

pub async fn vendor() -> RunningVendor {
    vendor_with(vec![ApiKey::new("relay", KEY.to_owned().into())]).await
}

pub fn profile(name: &str, generation: Generation, base_url: String, key: &str) -> Profile {
    Profile::whole_generation(name, "TEST", generation, base_url, key.to_owned().into())
}

pub fn write_app(dir: &Path) {
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
}

pub struct TestRelay {
    pub base_url: String,
    /// `http://ADDRESS` when the metrics have an address of their own.
    pub metrics_url: Option<String>,
    _app_dir: tempfile::TempDir,
    /// The archive's SQLite file and store, unless `adjust` put them elsewhere.
    pub data_dir: tempfile::TempDir,
}

impl TestRelay {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// A relay for `profiles` admitting loopback; `adjust` changes anything else.
pub async fn relay_with(profiles: Vec<Profile>, adjust: impl FnOnce(&mut RelayConfig)) -> TestRelay {
    let app_dir = tempfile::tempdir().unwrap();
    write_app(app_dir.path());
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = RelayConfig {
        archive: relay::ArchiveConfig::in_directory(data_dir.path().to_owned()),
        listen: "127.0.0.1:0".parse().unwrap(),
        profiles,
        allowlist: vendor_sim::config::loopback(),
        rate_limit: RateLimit { per_minute: 10_000, burst: 10_000 },
        shutdown_grace: Duration::from_secs(1),
        ..RelayConfig::defaults(app_dir.path().to_owned())
    };
    adjust(&mut config);
    let application = Application::build(config).await.unwrap();
    let base_url = format!("http://{}", application.local_addr().unwrap());
    let metrics_url = application.metrics_addr().map(|address| format!("http://{address}"));
    tokio::spawn(application.run_until_stopped());
    TestRelay { base_url, metrics_url, _app_dir: app_dir, data_dir }
}

/// One scrape of `/metrics` at `url`: each sample as its name and labels
/// (`name{a="1",b="2"}`, labels sorted) with its value.
pub async fn scrape(url: &str) -> std::collections::BTreeMap<String, f64> {
    let response = reqwest::Client::builder().no_proxy().build().unwrap().get(url).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK, "{url}");
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = response.text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
        .unwrap_or_else(|error| panic!("not Prometheus text ({error}): {text}"));
    scrape
        .samples
        .into_iter()
        .flat_map(|sample| {
            let mut labels: Vec<String> =
                sample.labels.iter().map(|(name, value)| format!("{name}=\"{value}\"")).collect();
            labels.sort();
            let series = |name: &str| format!("{name}{{{}}}", labels.join(","));
            match sample.value {
                prometheus_parse::Value::Counter(value)
                | prometheus_parse::Value::Gauge(value)
                | prometheus_parse::Value::Untyped(value) => vec![(series(&sample.metric), value)],
                prometheus_parse::Value::Histogram(buckets) => {
                    let count = buckets.last().map_or(0.0, |bucket| bucket.count);
                    vec![(series(&format!("{}_count", sample.metric)), count)]
                }
                prometheus_parse::Value::Summary(_) => Vec::new(),
            }
        })
        .collect()
}

/// The relay's JSON error: status, `error` and `detail`.
/// The routes a relay serves only as configured: sign-in's and the metrics'.
pub const CONFIGURED_ONLY: [&str; 6] = [
    "/auth/login",
    "/auth/callback",
    "/auth/logout",
    "/auth/signed-out",
    "/auth/backchannel-logout",
    "/metrics",
];

pub async fn error_of(response: reqwest::Response) -> (reqwest::StatusCode, String, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    let field = |name: &str| body[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}")).to_owned();
    (status, field("error"), field("detail"))
}

/// Sign-in against `issuer` for a relay browsers reach at `public_url`.
pub fn sign_in_config(issuer: &str, public_url: &str) -> relay::SignInConfig {
    relay::SignInConfig {
        issuer_url: issuer.to_owned(),
        client_id: oidc::CLIENT_ID.to_owned(),
        client_secret: oidc::CLIENT_SECRET.to_owned().into(),
        public_url: public_url.parse().unwrap(),
        groups_claim: "groups".to_owned(),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        session_idle: Duration::from_secs(3600),
        session_absolute: Duration::from_secs(7200),
        access_contact: Some("finance-it@corp.example".to_owned()),
        always_ask: false,
        token_audience: public_url.to_owned(),
        token_types: vec!["at+jwt".to_owned()],
    }
}

/// `production` to finance (not contractors), to frank's verified e-mail
/// and carol's unverified one, and to the month-end export service
/// account; `sandbox` to finance and account managers.
pub fn access_rules() -> Vec<relay::AccessRule> {
    vec![
        relay::AccessRule {
            profile: "production".into(),
            allow_groups: vec!["finance".into()],
            allow_emails: vec!["frank@corp.example".into(), "carol@corp.example".into()],
            deny_groups: vec!["contractors".into()],
            ..Default::default()
        },
        relay::AccessRule {
            profile: "production".into(),
            allow_clients: vec![oidc::EXPORT_CLIENT.into()],
            role: billing::Role::Review,
            ..Default::default()
        },
        relay::AccessRule {
            profile: "production".into(),
            allow_emails: vec!["alice@corp.example".into()],
            role: billing::Role::Approve,
            ..Default::default()
        },
        relay::AccessRule {
            profile: "production".into(),
            allow_emails: vec!["frank@corp.example".into()],
            role: billing::Role::Review,
            ..Default::default()
        },
        relay::AccessRule {
            profile: "sandbox".into(),
            allow_groups: vec!["finance".into(), "account-managers".into()],
            ..Default::default()
        },
    ]
}
