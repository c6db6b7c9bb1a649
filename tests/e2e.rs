#![cfg(not(target_arch = "wasm32"))]
//! The whole product in real headless Chromium: the `billing-relay --demo`
//! binary serving the release build of the app.
//!
//! `cargo xtask test` builds both and sets `BILLING_RELAY_BIN` and
//! `BILLING_APP_DIR`; run alone, the test looks in `target/debug` and `dist`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const STARTUP: Duration = Duration::from_secs(30);

struct Relay {
    url: String,
    _process: Child,
}

fn workspace_path(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default))
}

async fn start_relay() -> Relay {
    let binary = workspace_path("BILLING_RELAY_BIN", "target/debug/billing-relay");
    let app_dir = workspace_path("BILLING_APP_DIR", "dist");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo xtask test`, or `cargo build -p relay` first",
        binary.display()
    );
    assert!(
        app_dir.join("index.html").is_file(),
        "{} has no built app: run `cargo xtask test`, or `trunk build --release` first",
        app_dir.display()
    );
    let mut process = Command::new(&binary)
        .args(["--demo", "--listen", "127.0.0.1:0", "--app-dir"])
        .arg(&app_dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the relay binary starts");
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(STARTUP, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("billing-relay listening on ") {
                return url.to_owned();
            }
        }
        panic!("the relay exited without printing its address");
    })
    .await
    .expect("the relay prints its address");
    Relay { url, _process: process }
}

struct Browser {
    client: Client,
    _driver: Child,
}

fn free_loopback_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_browser() -> Browser {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let port = free_loopback_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start {chromedriver} ({error}): run `cargo xtask test`, which installs it")
        });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ]
        }),
    );
    let webdriver_url = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + STARTUP;
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&webdriver_url)
            .await
        {
            Ok(client) => break client,
            // chromedriver takes a moment to listen after it starts.
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("chromedriver did not accept a session: {error}"),
        }
    };
    Browser { client, _driver: driver }
}

#[tokio::test]
async fn the_page_lists_the_demo_profile() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();

    let profile = client
        .wait()
        .at_most(STARTUP)
        .for_element(Locator::Css(".profile-name"))
        .await
        .expect("the app renders a profile");
    assert_eq!(profile.text().await.unwrap(), "demo");
    let environment = client.find(Locator::Css(".profile .environment")).await.unwrap();
    assert_eq!(environment.text().await.unwrap(), "DEMO");
    assert_eq!(client.title().await.unwrap(), "Billing portal");

    browser.client.clone().close().await.unwrap();
}
