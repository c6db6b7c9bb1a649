//! Headless Chromium through chromedriver, and the page actions the
//! browser tests share.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

#[path = "../../crates/relay/tests/support/ports.rs"]
pub mod ports;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
pub use ports::free_loopback_port;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const STARTUP: Duration = Duration::from_secs(30);

/// The `billing-relay` binary serving the release build of the app.
pub struct Relay {
    pub url: String,
    /// Everything the relay logged so far.
    pub logs: Arc<Mutex<String>>,
    _process: Child,
    /// The archive, when the relay was not given a place for it.
    _data_dir: Option<tempfile::TempDir>,
}

impl Relay {
    /// The relay as browsers reach it, e.g. by name rather than address.
    pub fn reached_at(mut self, url: String) -> Self {
        self.url = url;
        self
    }
}

pub fn workspace_path(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default))
}

/// The directory `cargo xtask` put the split app in, `app-<hash>`.
pub fn split_app_dir(app_dir: &Path) -> String {
    std::fs::read_dir(app_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .find(|name| name.starts_with("app-") && app_dir.join(name).is_dir())
        .expect("the split app's directory: build the app with `cargo xtask test`")
}

/// Every wasm file of the split app, as paths the relay serves.
pub fn split_app_wasm(app_dir: &Path) -> Vec<String> {
    let dir = split_app_dir(app_dir);
    let mut files: Vec<String> = std::fs::read_dir(app_dir.join(&dir))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".wasm"))
        .map(|name| format!("/{dir}/{name}"))
        .collect();
    files.sort();
    files
}

/// Starts `billing-relay ARGS --app-dir dist` with `environment` added,
/// and waits for the address it prints.
pub async fn start_relay_with(args: &[&str], environment: &[(&str, &str)]) -> Relay {
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
    let given_data_dir = environment.iter().any(|(name, _)| *name == "BILLING_DATA_DIR");
    let data_dir = (!given_data_dir).then(|| tempfile::tempdir().unwrap());
    let mut process = Command::new(&binary)
        .args(args)
        .arg("--app-dir")
        .arg(&app_dir)
        .envs(data_dir.iter().map(|dir| ("BILLING_DATA_DIR", dir.path())))
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the relay binary starts");
    let logs = Arc::new(Mutex::new(String::new()));
    let mut log_lines = BufReader::new(process.stderr.take().unwrap()).lines();
    let collected = logs.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = log_lines.next_line().await {
            let mut logs = collected.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(STARTUP, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("billing-relay listening on ") {
                return url.to_owned();
            }
        }
        panic!("the relay exited without printing its address: {}", logs.lock().unwrap());
    })
    .await
    .expect("the relay prints its address");
    Relay { url: url.trim_end_matches('/').to_owned(), logs, _process: process, _data_dir: data_dir }
}

/// The vendor emulator as a process of its own, so a test can stop it as
/// an outage would.
pub struct VendorProcess {
    pub url: String,
    process: Child,
}

impl VendorProcess {
    pub async fn start(key: &str) -> Self {
        Self::start_with(key, &[]).await
    }

    /// The emulator with `args` added, e.g. `--fault reissue=1`.
    pub async fn start_with(key: &str, args: &[&str]) -> Self {
        let binary = workspace_path("BILLING_VENDOR_BIN", "target/debug/vendor-sim");
        assert!(binary.is_file(), "{} is missing: run `cargo xtask test`", binary.display());
        let mut process = Command::new(&binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("VENDOR_SIM_KEY", key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the emulator starts");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let url = tokio::time::timeout(STARTUP, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("vendor-sim listening on ") {
                    return url.trim_end_matches('/').to_owned();
                }
            }
            panic!("the emulator exited without printing its address");
        })
        .await
        .expect("the emulator prints its address");
        Self { url, process }
    }

    pub async fn stop(mut self) {
        self.process.kill().await.unwrap();
    }
}

pub struct Browser {
    pub client: Client,
    /// Where Chromium saves downloads.
    pub downloads: tempfile::TempDir,
    driver: Child,
}

impl Drop for Browser {
    /// Kills chromedriver's process group: killed alone, it left a failed
    /// test's Chromium running (one spun at 65 % of a core for the rest of
    /// the run), its session never closed.
    fn drop(&mut self) {
        if let Some(group) = self.driver.id() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status();
        }
    }
}

pub async fn start_browser() -> Browser {
    start_browser_with(&[]).await
}

/// A browser whose reader prefers `language` (and so its number format).
pub async fn start_browser_speaking(language: &str) -> Browser {
    start_browser_with(&[format!("--accept-lang={language}")]).await
}

/// A browser that records every request it sends, for
/// [`requested_urls`].
pub async fn start_browser_recording_requests() -> Browser {
    start_browser_configured(&[], true).await
}

pub async fn start_browser_with(extra_arguments: &[String]) -> Browser {
    start_browser_configured(extra_arguments, false).await
}

async fn start_browser_configured(extra_arguments: &[String], record_requests: bool) -> Browser {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let port = free_loopback_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start {chromedriver} ({error}): run `cargo xtask test`, which installs it")
        });
    let downloads = tempfile::tempdir().unwrap();
    let mut arguments: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(str::to_owned)
    .to_vec();
    arguments.extend_from_slice(extra_arguments);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "prefs": {
                "download.default_directory": downloads.path(),
                "download.prompt_for_download": false,
            },
            "args": arguments
        }),
    );
    if record_requests {
        capabilities.insert("goog:loggingPrefs".to_owned(), serde_json::json!({ "performance": "ALL" }));
    }
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
    Browser { client, downloads, driver }
}

/// Waits for the first element matching `css`.
pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(STARTUP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no `{css}` appeared: {error}"))
}

pub async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css).await.text().await.unwrap()
}

/// Waits until `css`'s text contains `wanted`.
pub async fn wait_for_text(client: &Client, css: &str, wanted: &str) {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(wanted) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "`{css}` says {text:?}, not {wanted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Shows the tab whose URL name is `tab` and waits for its panel.
pub async fn show_tab(client: &Client, tab: &str) {
    wait_for(client, &format!("#tab-{tab}")).await.click().await.unwrap();
    wait_for(client, &format!("#panel-{tab}:not([hidden])")).await;
}

/// Opens the query panel, folded to one line while a document is open,
/// when `css` names something in it.
pub async fn unfold_query_for(client: &Client, css: &str) {
    let script = "const [css] = arguments; const target = document.querySelector(css); \
                  if (target && target.closest('form.query[hidden]')) document.querySelector('.change-query').click();";
    client.execute(script, vec![serde_json::json!(css)]).await.unwrap();
}

pub async fn choose(client: &Client, select: &str, value: &str) {
    wait_for(client, select).await;
    unfold_query_for(client, select).await;
    wait_for(client, &format!("{select} option[value='{value}']")).await.click().await.unwrap();
}

pub async fn click_button(client: &Client, label: &str) {
    unfold_query_for(client, "form.query").await;
    let xpath = format!("//button[normalize-space(.)='{label}']");
    client.wait().at_most(STARTUP).for_element(Locator::XPath(&xpath)).await.unwrap().click().await.unwrap();
}

/// Waits until the previous results are gone and new ones, or a problem,
/// have appeared.
pub async fn fetch(client: &Client) {
    client
        .execute(
            "document.querySelectorAll('.results, .problem').forEach(e => e.classList.add('stale'))",
            vec![],
        )
        .await
        .unwrap();
    // A fetch the page started by itself may fold the panel again between
    // unfolding it and the click: then unfold and click again.
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        unfold_query_for(client, ".fetch").await;
        match wait_for(client, ".fetch").await.click().await {
            Ok(()) => break,
            Err(error) => assert!(tokio::time::Instant::now() < deadline, "cannot press Fetch: {error}"),
        }
    }
    wait_for(client, ".results:not(.stale), .problem:not(.stale)").await;
}

/// Clicks the download link or button and returns the file Chromium saved.
pub async fn download(browser: &Browser, css: &str) -> Vec<u8> {
    let link = wait_for(&browser.client, css).await;
    let name = link.attr("data-file").await.unwrap().expect("a download names its file");
    let path = browser.downloads.path().join(&name);
    let _ = std::fs::remove_file(&path);
    link.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let partial = browser.downloads.path().join(format!("{name}.crdownload"));
        if path.is_file() && !partial.exists() {
            return std::fs::read(&path).unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} was not downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// chromedriver's log of what the browser did (`goog:loggingPrefs`).
#[derive(Debug)]
struct PerformanceLog;

impl fantoccini::wd::WebDriverCompatibleCommand for PerformanceLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"performance"}"#.to_owned()))
    }
}

/// Every URL the browser has requested since the last call, redirects
/// and form submissions included, from a browser started by
/// [`start_browser_recording_requests`].
pub async fn requested_urls(client: &Client) -> Vec<String> {
    let entries = client.issue_cmd(PerformanceLog).await.expect("the performance log");
    let mut urls = Vec::new();
    for entry in entries.as_array().expect("log entries") {
        let Some(message) = entry["message"].as_str() else { continue };
        let message: serde_json::Value = serde_json::from_str(message).unwrap();
        let event = &message["message"];
        let url = match event["method"].as_str() {
            Some("Network.requestWillBeSent") => event["params"]["request"]["url"].as_str(),
            Some("Page.frameNavigated") => event["params"]["frame"]["url"].as_str(),
            _ => None,
        };
        urls.extend(url.map(str::to_owned));
    }
    urls
}

/// A sheet of a workbook, header first.
pub fn sheet(workbook: &[u8], name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(workbook.to_vec())).unwrap();
    workbook.worksheet_range(name).unwrap().rows().map(<[calamine::Data]>::to_vec).collect()
}

/// A number cell as the decimal it was written from (Excel's double is the
/// nearest to it, and its shortest form gives it back), or text as it is.
pub fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(number) => number.to_string(),
        calamine::Data::Int(number) => number.to_string(),
        calamine::Data::Empty => String::new(),
        other => other.to_string(),
    }
}
