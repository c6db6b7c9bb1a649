//! The `billing-relay` binary as deployed: configured by a TOML file and the
//! environment, its logs captured whole.

mod support;

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use support::*;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};
use vendor_sim::ApiKey;

const WRONG_KEY: &str = "revoked-key-9d2e61b0";

struct RunningRelay {
    url: String,
    process: Child,
    _dir: tempfile::TempDir,
}

/// Starts the binary with `config` (TOML, `{app_dir}` filled in) and the
/// keys in its environment, as an operator would.
async fn start_binary(config: &str) -> RunningRelay {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path());
    let file = dir.path().join("relay.toml");
    std::fs::write(&file, config.replace("{app_dir}", &dir.path().display().to_string())).unwrap();
    let mut process = Command::new(env!("CARGO_BIN_EXE_billing-relay"))
        .arg("--config")
        .arg(&file)
        .env("RELAY_TEST_KEY", KEY)
        .env("RELAY_TEST_WRONG_KEY", WRONG_KEY)
        .env("RUST_LOG", "debug")
        .env("BILLING_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("billing-relay listening on ") {
                return url.trim_end_matches('/').to_owned();
            }
        }
        panic!("the relay exited without printing its address");
    })
    .await
    .expect("the relay prints its address");
    RunningRelay { url, process, _dir: dir }
}

fn config_for(vendor_url: &str) -> String {
    format!(
        r#"
app_dir = "{{app_dir}}"
allowlist = ["127.0.0.0/8", "::1/128"]
shutdown_grace_seconds = 20

[[profiles]]
name = "main"
environment = "PRODUCTION"
generation = "legacy"
base_url = "{vendor_url}"
key_env = "RELAY_TEST_KEY"

[[profiles]]
name = "revoked"
environment = "PRODUCTION"
generation = "legacy"
base_url = "{vendor_url}"
key_env = "RELAY_TEST_WRONG_KEY"
"#
    )
}

async fn all_output(mut process: Child) -> String {
    let mut output = String::new();
    process.stderr.take().unwrap().read_to_string(&mut output).await.unwrap();
    process.wait().await.unwrap();
    output
}

fn send_sigterm(process: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &process.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn the_key_reaches_the_vendor_and_no_answer_or_log_line() {
    let vendor = vendor().await;
    let relay = start_binary(&config_for(&vendor.base_url())).await;
    let mut seen = String::new();
    for path in [
        "/api/profiles",
        "/api/openapi.json",
        "/",
        "/api/documents/main/v3/invoices?start=2026-06-01&end=2026-07-31&download=1",
        "/api/documents/main/v3/customerinvoices?start=2026-06-01&end=2026-07-31&format=json",
        "/api/documents/revoked/v3/invoices",
        "/api/documents/main/v3/invoices?start=bad",
    ] {
        let response = reqwest::get(format!("{}{path}", relay.url)).await.unwrap();
        for (name, value) in response.headers() {
            seen.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or_default()));
        }
        let status = response.status();
        seen.push_str(&response.text().await.unwrap());
        if path.contains("download") {
            assert_eq!(status, StatusCode::OK, "the key reached the vendor, which answered");
        }
    }
    assert!(seen.contains("the vendor rejected the API key"), "the wrong key was sent and refused");
    send_sigterm(&relay.process);
    let logs = all_output(relay.process).await;
    assert!(logs.contains("forwarding") && logs.contains("document sent"), "the logs were captured: {logs}");
    for secret in [KEY, WRONG_KEY] {
        assert!(!seen.contains(secret), "a key is in an answer");
        assert!(!logs.contains(secret), "a key is in the logs");
    }
}

#[tokio::test]
async fn sigterm_lets_a_running_download_finish() {
    let slow = ApiKey {
        faults: vec!["drip=16384:100".parse().unwrap()],
        ..ApiKey::new("slow", KEY.to_owned().into())
    };
    let vendor = vendor_with(vec![slow]).await;
    let relay = start_binary(&config_for(&vendor.base_url())).await;
    let path = "/api/documents/main/v3/invoices?start=2026-01-01&end=2026-09-30";
    let response = reqwest::get(format!("{}{path}", relay.url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let started = Instant::now();
    send_sigterm(&relay.process);
    let body = response.bytes().await.expect("the download finishes after SIGTERM");
    assert!(started.elapsed() > Duration::from_millis(300), "the download was still running at SIGTERM");
    billing::xml::parse_invoices(&body).expect("a whole document");
    let logs = all_output(relay.process).await;
    assert!(logs.contains("shutting down"), "{logs}");
    let refused = reqwest::get(format!("{}/healthz", relay.url)).await;
    assert!(refused.is_err(), "no new connections after shutdown");
}

#[tokio::test]
async fn a_missing_key_or_a_bad_setting_stops_the_relay_at_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[profiles]]\nname = \"p\"\nenvironment = \"E\"\ngeneration = \"legacy\"\nbase_url = \"http://127.0.0.1:1\"\nkey_env = \"RELAY_TEST_UNSET_KEY\"\n",
            "profile p: the environment variable RELAY_TEST_UNSET_KEY holds no key",
        ),
        ("allowlist = [\"not-a-network\"]\n", "invalid relay configuration"),
        ("listn = \"127.0.0.1:1\"\n", "invalid relay configuration"),
    ];
    for (config, expected) in cases {
        let file = dir.path().join("relay.toml");
        std::fs::write(&file, config).unwrap();
        let output = run_to_end(&file).await;
        assert!(output.contains(expected), "{config}: {output}");
    }
}

async fn run_to_end(config: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_billing-relay"))
        .arg("--config")
        .arg(config)
        .env_remove("RELAY_TEST_UNSET_KEY")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}
