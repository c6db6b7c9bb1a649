//! A relay in front of the real emulator, both on loopback ports.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::{net::SocketAddr, path::Path, time::Duration};

use billing::Generation;
use chrono::NaiveDate;
use relay::{Application, Profile, RateLimit, RelayConfig, Timeouts};
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
    _app_dir: tempfile::TempDir,
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
    let mut config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        app_dir: app_dir.path().to_owned(),
        profiles,
        allowlist: vendor_sim::config::loopback(),
        trusted_proxies: Vec::new(),
        timeouts: Timeouts::default(),
        rate_limit: RateLimit { per_minute: 10_000, burst: 10_000 },
        shutdown_grace: Duration::from_secs(1),
    };
    adjust(&mut config);
    let application = Application::build(config).await.unwrap();
    let base_url = format!("http://{}", application.local_addr().unwrap());
    tokio::spawn(application.run_until_stopped());
    TestRelay { base_url, _app_dir: app_dir }
}

/// The relay's JSON error: status, `error` and `detail`.
pub async fn error_of(response: reqwest::Response) -> (reqwest::StatusCode, String, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON error");
    let field = |name: &str| body[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}")).to_owned();
    (status, field("error"), field("detail"))
}
