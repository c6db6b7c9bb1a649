//! The `billing-relay` binary as deployed: configured by a TOML file and the
//! environment, its logs captured whole.

mod support;

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use support::{ports::free_loopback_port, *};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};
use vendor_sim::ApiKey;

const WRONG_KEY: &str = "revoked-key-9d2e61b0";

struct RunningRelay {
    url: String,
    process: Child,
    /// Holds the configuration, the app and the audit log.
    dir: tempfile::TempDir,
}

/// Starts the binary with `config` (TOML, `{app_dir}` filled in) and the
/// keys in its environment, as an operator would.
async fn start_binary(config: &str) -> RunningRelay {
    start_binary_on(config, "127.0.0.1:0").await
}

async fn start_binary_on(config: &str, listen: &str) -> RunningRelay {
    let dir = tempfile::tempdir().unwrap();
    write_app(dir.path());
    let file = dir.path().join("relay.toml");
    std::fs::write(&file, config.replace("{app_dir}", &dir.path().display().to_string())).unwrap();
    let mut process = Command::new(env!("CARGO_BIN_EXE_billing-relay"))
        .arg("--config")
        .arg(&file)
        .env("RELAY_TEST_KEY", KEY)
        .env("RELAY_TEST_WRONG_KEY", WRONG_KEY)
        .env("RELAY_TEST_CLIENT_SECRET", support::oidc::CLIENT_SECRET)
        .env("RELAY_TEST_SMTP_PASSWORD", support::smtp::PASSWORD)
        .env("RUST_LOG", "debug")
        .env("BILLING_LISTEN", listen)
        .env("BILLING_DATA_DIR", dir.path().join("data"))
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
    RunningRelay { url, process, dir }
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
    assert!(
        logs.contains("forwarding") && logs.contains(r#"outcome="complete""#),
        "the logs were captured: {logs}"
    );
    for secret in [KEY, WRONG_KEY] {
        assert!(!seen.contains(secret), "a key is in an answer");
        assert!(!logs.contains(secret), "a key is in the logs");
    }
}

#[tokio::test]
async fn the_audit_log_says_whether_each_document_was_archived_and_a_purge_keeps_what_is_young() {
    let vendor = vendor().await;
    let config = format!("audit_log = \"{{app_dir}}/audit.jsonl\"\n{}", config_for(&vendor.base_url()));
    let relay = start_binary(&config).await;
    let document = format!("{}/api/documents/main/v3/invoices?start=2026-06-01&end=2026-07-31", relay.url);
    let archived = reqwest::get(&document).await.unwrap();
    let archived_request: u64 = archived.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    let whole = archived.bytes().await.unwrap();
    let receipt = format!("{}/api/archive/receipts/{archived_request}", relay.url);
    let receipt: billing::api::ArchiveReceipt = reqwest::get(&receipt).await.unwrap().json().await.unwrap();
    assert!(matches!(receipt, billing::api::ArchiveReceipt::Archived { .. }), "{receipt:?}");
    // Root may write anywhere, so the store's directory becomes a file.
    let store = relay.dir.path().join("data/documents");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, b"not a directory").unwrap();
    let unarchived = reqwest::get(&document).await.unwrap();
    let unarchived_request: u64 = unarchived.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    assert_eq!(unarchived.bytes().await.unwrap(), whole, "the person still gets the document");
    let receipt = format!("{}/api/archive/receipts/{unarchived_request}", relay.url);
    let receipt: billing::api::ArchiveReceipt = reqwest::get(&receipt).await.unwrap().json().await.unwrap();
    assert!(matches!(receipt, billing::api::ArchiveReceipt::NotArchived { .. }), "{receipt:?}");
    send_sigterm(&relay.process);
    let dir = relay.dir.path().to_owned();
    all_output(relay.process).await;
    let lines = audit_lines(&dir);
    let archive_line = |request: u64| {
        lines
            .iter()
            .find(|line| line["event"] == "archive" && line["request_id"] == request)
            .unwrap_or_else(|| panic!("no archive line for {request} in {lines:#?}"))
            .clone()
    };
    let kept = archive_line(archived_request);
    assert_eq!((kept["archived"].as_bool(), kept["outcome"].as_str()), (Some(true), Some("archived")));
    assert_eq!(kept["sha256"].as_str().map(str::len), Some(64));
    let lost = archive_line(unarchived_request);
    assert_eq!((lost["archived"].as_bool(), lost["outcome"].as_str()), (Some(false), Some("not_archived")));
    assert!(lost["reason"].as_str().unwrap().contains("storage"), "{lost}");

    std::fs::remove_file(&store).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_billing-relay"))
        .args(["--config"])
        .arg(dir.join("relay.toml"))
        .args(["archive", "purge"])
        .env("RELAY_TEST_KEY", KEY)
        .env("RELAY_TEST_WRONG_KEY", WRONG_KEY)
        .env("BILLING_DATA_DIR", dir.join("data"))
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("0 documents older than 7 years removed"), "{said}");
    assert!(!audit_lines(&dir).iter().any(|line| line["event"] == "archive_purge"), "nothing was due");
}

#[tokio::test]
async fn every_decision_is_audited_with_who_before_and_after() {
    use billing::api::decisions::{
        ItemId, LineIdentity, Mark, ReviewChange, ReviewStatus, Settings, SettingsChange, paths,
    };
    let vendor = vendor().await;
    let config = format!("audit_log = \"{{app_dir}}/audit.jsonl\"\n{}", config_for(&vendor.base_url()));
    let relay = start_binary(&config).await;
    let client = reqwest::Client::new();
    let mut settings = Settings::default();
    for (base_version, product) in [(0, "Telephony"), (1, "Mobile")] {
        settings.corrections.insert(product.to_owned(), "KPN".to_owned());
        let change = SettingsChange { base_version, settings: settings.clone() };
        let response = client
            .put(format!("{}{}", relay.url, paths::settings("main")))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
    }
    let item = ItemId {
        kind: billing::exceptions::ExceptionKind::NotBilled,
        line: LineIdentity::RowHash("c0ffee".into()),
    };
    let mark = ReviewChange {
        item,
        base_version: 0,
        mark: Mark { status: ReviewStatus::ToFix, note: "ask sales".into() },
    };
    let month = paths::reviews("main", "2026-09".parse().unwrap());
    let response = client.put(format!("{}{month}", relay.url)).json(&mark).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let stale = client.put(format!("{}{month}", relay.url)).json(&mark).send().await.unwrap();
    assert_eq!(stale.status(), reqwest::StatusCode::CONFLICT);
    send_sigterm(&relay.process);
    let dir = relay.dir.path().to_owned();
    all_output(relay.process).await;
    let decisions: Vec<serde_json::Value> =
        audit_lines(&dir).into_iter().filter(|line| line["event"] == "decision").collect();
    assert_eq!(decisions.len(), 3, "each change, not the refused one: {decisions:#?}");
    let json = |text: &serde_json::Value| -> serde_json::Value {
        text.as_str()
            .filter(|text| !text.is_empty())
            .map_or(serde_json::Value::Null, |text| serde_json::from_str(text).unwrap())
    };
    let second = &decisions[1];
    assert_eq!((second["topic"].as_str(), second["version"].as_u64()), (Some("settings"), Some(2)));
    assert_eq!(json(&second["before"])["corrections"], serde_json::json!({ "Telephony": "KPN" }));
    assert_eq!(
        json(&second["after"])["corrections"],
        serde_json::json!({ "Mobile": "KPN", "Telephony": "KPN" })
    );
    let marked = &decisions[2];
    assert_eq!((marked["topic"].as_str(), marked["month"].as_str()), (Some("review"), Some("2026-09")));
    assert_eq!(marked["before"], "", "its first mark");
    assert_eq!(json(&marked["after"])["note"], "ask sales");
    assert_eq!(marked["item"], "NotBilled hash c0ffee");
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
        .env("BILLING_DATA_DIR", config.with_file_name("data"))
        .env_remove("RELAY_TEST_UNSET_KEY")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The emulator behind a layer that answers with the whole body and its
/// Content-Length, as a .NET service does.
async fn vendor_sending_content_length() -> (String, tokio::task::JoinHandle<()>) {
    let config = vendor_sim::Config {
        keys: vec![ApiKey::new("relay", KEY.to_owned().into())],
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
        data: vendor_sim::DataSpec { seed: 11, customers: 10, hostile_names: false },
        ..vendor_sim::Config::single_key("unused", String::new().into())
    };
    let app = vendor_sim::app(config).layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut response =
                axum::response::Response::from_parts(parts, axum::body::Body::from(bytes.clone()));
            response.headers_mut().insert(reqwest::header::CONTENT_LENGTH, bytes.len().into());
            response
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .unwrap();
    });
    (url, task)
}

fn signed_in_config(whole: &str, faulty: &str, issuer: &str, public_url: &str) -> String {
    format!(
        r#"
app_dir = "{{app_dir}}"
allowlist = ["127.0.0.0/8", "::1/128"]
audit_log = "{{app_dir}}/audit.jsonl"

[sign_in]
issuer_url = "{issuer}"
client_id = "{client_id}"
client_secret_env = "RELAY_TEST_CLIENT_SECRET"
public_url = "{public_url}"
access_contact = "finance-it@corp.example"

[[access]]
profile = "production"
allow_groups = ["finance"]
allow_clients = ["{export}"]

[[access]]
profile = "broken"
allow_groups = ["finance"]

[[access]]
profile = "slow"
allow_groups = ["finance"]

[[profiles]]
name = "production"
environment = "PRODUCTION"
generation = "legacy"
base_url = "{whole}"
key_env = "RELAY_TEST_KEY"

[[profiles]]
name = "broken"
environment = "PRODUCTION"
generation = "legacy"
base_url = "{faulty}"
key_env = "RELAY_TEST_WRONG_KEY"

[[profiles]]
name = "slow"
environment = "PRODUCTION"
generation = "legacy"
base_url = "{faulty}"
key_env = "RELAY_TEST_KEY"
"#,
        client_id = support::oidc::CLIENT_ID,
        export = support::oidc::EXPORT_CLIENT,
    )
}

/// Every audit line of the run, as JSON.
fn audit_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[tokio::test]
async fn sign_in_keeps_every_secret_out_of_answers_and_logs_and_audits_what_happened() {
    use support::oidc::{Browser, OidcProvider, query_value};

    let (whole, _whole_vendor) = vendor_sending_content_length().await;
    // On the faulty vendor the "broken" profile's key drops every answer
    // midway and the "slow" one's trickles.
    let faulty = vendor_with(vec![
        ApiKey { faults: vec!["drop".parse().unwrap()], ..ApiKey::new("drop", WRONG_KEY.to_owned().into()) },
        ApiKey {
            faults: vec!["drip=4096:200".parse().unwrap()],
            ..ApiKey::new("slow", KEY.to_owned().into())
        },
    ])
    .await;
    let port = free_loopback_port();
    let public_url = format!("http://localhost:{port}");
    let provider = OidcProvider::start(&public_url).await;
    let config = signed_in_config(&whole, &faulty.base_url(), &provider.issuer, &public_url);
    let relay = start_binary_on(&config, &format!("127.0.0.1:{port}")).await;
    let at = |path: &str| format!("{public_url}{path}");

    // Everything the relay says is collected and searched at the end.
    let mut seen = String::new();
    let record = |response: reqwest::Response| async {
        let mut text = format!("{}\n", response.status());
        // Set-Cookie is where the cookie belongs; anywhere else it would leak.
        for (name, value) in
            response.headers().iter().filter(|(name, _)| *name != reqwest::header::SET_COOKIE)
        {
            text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or_default()));
        }
        let body = response.bytes().await.unwrap_or_default();
        text.push_str(&String::from_utf8_lossy(&body));
        (text, body.len())
    };

    let unsigned = Browser::default();
    let (text, _) = record(unsigned.get(&at("/api/profiles")).await).await;
    seen.push_str(&text);
    let forged = unsigned.get(&at("/auth/callback?code=forged-code&state=forged-state")).await;
    seen.push_str(&record(forged).await.0);

    let alice = Browser::default();
    let authorization = alice.start_sign_in(&public_url, "/").await;
    let callback = alice.log_in_at_provider(&authorization, "alice").await;
    let code = query_value(&callback, "code").unwrap();
    seen.push_str(&record(alice.get(&callback).await).await.0);
    let cookie = {
        use reqwest::cookie::CookieStore;
        let header = alice.jar.cookies(&public_url.parse().unwrap()).unwrap();
        header.to_str().unwrap().split_once('=').unwrap().1.to_owned()
    };
    let window = "start=2026-06-01&end=2026-09-30";
    let (text, complete_bytes) =
        record(alice.get(&at(&format!("/api/documents/production/v3/invoices?{window}"))).await).await;
    seen.push_str(&text);
    assert!(complete_bytes > 1000, "a whole document came through");
    // Wide enough that the vendor sends whole chunks before it drops the
    // connection halfway: a break inside the first chunk can reach the
    // relay before any byte, and is then a 502, not a broken body.
    let wide = "start=2025-01-01&end=2026-09-30";
    let broken = alice.get(&at(&format!("/api/documents/broken/v3/invoices?{wide}"))).await;
    assert_eq!(broken.status(), StatusCode::OK);
    assert!(broken.bytes().await.is_err(), "the client sees the break");
    let slow = alice.get(&at(&format!("/api/documents/slow/v3/invoices?{window}"))).await;
    let mut slow = slow.bytes_stream();
    futures_util::StreamExt::next(&mut slow).await.unwrap().unwrap();
    drop(slow);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let bob = Browser::default();
    bob.sign_in(&public_url, "bob", "/").await;
    seen.push_str(
        &record(bob.get(&at(&format!("/api/documents/production/v3/invoices?{window}"))).await).await.0,
    );
    let signed_out = alice
        .client
        .post(at("/auth/logout"))
        .header(reqwest::header::ORIGIN, &public_url)
        .send()
        .await
        .unwrap();
    // The one answer that carries alice's ID token: the page her own
    // browser posts to the provider as the sign-out hint, never cached.
    assert_eq!(signed_out.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    let (sign_out_page, _) = record(signed_out).await;
    assert!(sign_out_page.contains("<form method=\"post\""), "{sign_out_page}");
    let hint = sign_out_page
        .split_once("name=\"id_token_hint\" value=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(hint, _)| hint.to_owned())
        .unwrap_or_else(|| panic!("no hint in {sign_out_page}"));
    assert!(hint.starts_with("eyJ") && hint.matches('.').count() == 2, "a JWT: {hint}");
    assert!(!sign_out_page.replace(&hint, "").contains("eyJ"), "the JWT only as the hint: {sign_out_page}");
    for secret in [support::oidc::CLIENT_SECRET, cookie.as_str(), code.as_str()] {
        assert!(!sign_out_page.contains(secret), "{sign_out_page}");
    }
    seen.push_str(&record(alice.get(&at("/api/me")).await).await.0);

    // A month-end script: its token downloads, and a token for another
    // service is refused; neither token may show up anywhere.
    let script = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = provider.service_token(support::oidc::EXPORT_CLIENT, &public_url).await;
    let foreign = provider.service_token(support::oidc::EXPORT_CLIENT, "https://other.corp.example").await;
    let document = at(&format!("/api/documents/production/v3/invoices?{window}"));
    let (text, script_bytes) = record(script.get(&document).bearer_auth(&token).send().await.unwrap()).await;
    seen.push_str(&text);
    assert!(script_bytes > 1000, "the script got the document");
    seen.push_str(&record(script.get(&document).bearer_auth(&foreign).send().await.unwrap()).await.0);

    send_sigterm(&relay.process);
    let dir = relay.dir.path().to_owned();
    let logs = all_output(relay.process).await;
    let audit = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    for (what, secret) in [
        ("the vendor key", KEY),
        ("the other vendor key", WRONG_KEY),
        ("the client secret", support::oidc::CLIENT_SECRET),
        ("the session cookie", cookie.as_str()),
        ("the authorization code", code.as_str()),
        ("a JWT (ID or access token)", "eyJ"),
        ("the service account's token", token.as_str()),
        ("the foreign token", foreign.as_str()),
        ("the service account's secret", support::oidc::SERVICE_SECRET),
    ] {
        assert!(!seen.contains(secret), "{what} is in an answer");
        assert!(!logs.contains(secret), "{what} is in the log");
        assert!(!audit.contains(secret), "{what} is in the audit log");
    }
    assert!(logs.contains("forwarding"), "the debug log was captured: {logs}");
    assert!(!logs.contains(r#"event="sign_in""#), "the audit log has its own file");

    let lines = audit_lines(&dir);
    let find = |event: &str, outcome: &str| {
        lines
            .iter()
            .find(|line| {
                line["event"] == event && line["outcome"].as_str().is_some_and(|o| o.starts_with(outcome))
            })
            .unwrap_or_else(|| panic!("no {event} {outcome} in {lines:#?}"))
    };
    let signed_in = find("sign_in", "signed_in");
    assert_eq!(signed_in["email"], "alice@corp.example");
    assert_eq!(signed_in["subject"], "alice");
    assert_eq!(signed_in["issuer"], provider.issuer.as_str());
    find("sign_in", "failed");
    assert_eq!(find("sign_out", "signed_out")["email"], "alice@corp.example");
    let unsigned = find("refusal", "sign_in_required");
    assert_eq!(unsigned["path"], "/api/profiles");
    let forbidden = find("refusal", "profile_forbidden");
    assert_eq!(
        (forbidden["email"].as_str(), forbidden["profile"].as_str()),
        (Some("bob@corp.example"), Some("production"))
    );
    let complete = find("document", "complete");
    assert_eq!(
        complete["bytes"], complete_bytes as u64,
        "a complete transfer with Content-Length is complete"
    );
    assert_eq!(
        (complete["profile"].as_str(), complete["endpoint"].as_str(), complete["window"].as_str()),
        (Some("production"), Some("invoices"), Some("2026-06-01..2026-09-30"))
    );
    assert_eq!(complete["email"], "alice@corp.example");
    let scripted = lines
        .iter()
        .find(|line| line["event"] == "document" && line["client"] == support::oidc::EXPORT_CLIENT)
        .unwrap_or_else(|| panic!("no document line for the service account in {lines:#?}"));
    assert_eq!(
        (scripted["outcome"].as_str(), scripted["bytes"].as_u64()),
        (Some("complete"), Some(script_bytes as u64))
    );
    assert_eq!(scripted["subject"], support::oidc::EXPORT_CLIENT);
    assert_eq!(find("refusal", "token_invalid")["path"], "/api/documents/production/v3/invoices");
    assert!(complete["request_id"].as_u64().is_some() && complete["duration_ms"].as_u64().is_some());
    assert_eq!(find("document", "broken_by_vendor")["profile"], "broken");
    assert_eq!(find("document", "abandoned_by_client")["profile"], "slow");
    assert!(
        !lines.iter().any(|line| line["profile"] == "production" && line["outcome"] == "abandoned_by_client"),
        "no complete transfer is logged as abandoned"
    );
}

/// A `[[schedule]]` job for last month's invoices of `main`, told by e-mail
/// and to the webhook `finance`, over `config_for`'s profiles.
fn scheduled_config(vendor_url: &str, smtp: &str, webhook: &str, extra: &str) -> String {
    format!(
        r#"schedule_check_seconds = 1
{extra}
{base}
{smtp}
{webhook}
[[schedule]]
name = "monthly"
profile = "main"
endpoint = "invoices"
format = "xml"
window = {{ rule = "last_month" }}
retries = 0
tell = ["finance@corp.example"]
webhooks = ["finance"]

[metrics]
allowlist = ["127.0.0.0/8"]
"#,
        base = config_for(vendor_url)
    )
}

/// The one run a relay lists, once it has `status`.
async fn the_run(relay_url: &str, status: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page: serde_json::Value =
            reqwest::get(format!("{relay_url}/api/runs")).await.unwrap().json().await.unwrap();
        if let [run] = page["runs"].as_array().unwrap().as_slice()
            && run["status"] == status
        {
            return run.clone();
        }
        assert!(Instant::now() < deadline, "no run came to {status}: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many times the relay has looked for due jobs.
async fn checks(relay_url: &str) -> f64 {
    let metrics = scrape(&format!("{relay_url}/metrics")).await;
    metrics.get("billing_relay_schedule_checks_total{}").copied().unwrap_or_default()
}

/// Waits until the relay has looked for due jobs `more` times after now.
async fn checked_more(relay_url: &str, more: f64) {
    let target = checks(relay_url).await + more;
    let deadline = Instant::now() + Duration::from_secs(60);
    while checks(relay_url).await < target {
        assert!(Instant::now() < deadline, "the relay stopped looking for due jobs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_run_is_told_over_starttls_once_the_mail_server_is_back_and_no_secret_reaches_a_log() {
    let vendor = vendor().await;
    let mut smtp = support::smtp::SmtpServer::start_with(relay::config::Security::Starttls).await;
    smtp.stop();
    // The webhook's receiver is not up yet: posting to it fails to connect.
    let hook_port = free_loopback_port();
    let hook_path = "/workflows/finance-7d41c0e2/triggers/manual/run";
    let secrets = tempfile::tempdir().unwrap();
    let url_file = secrets.path().join("webhook-url");
    std::fs::write(&url_file, format!("http://127.0.0.1:{hook_port}{hook_path}")).unwrap();
    let mail = format!(
        r#"[smtp]
host = "localhost"
port = {}
security = "starttls"
username = "{}"
password_env = "RELAY_TEST_SMTP_PASSWORD"
ca_file = "{}"
from = "Billing portal <billing@corp.example>"
portal_url = "https://billing.corp.example"
"#,
        smtp.port,
        support::smtp::USER,
        smtp.ca_file.as_ref().unwrap().display()
    );
    let webhook = format!(
        "[[webhook]]\nname = \"finance\"\nshape = \"teams\"\nurl_file = \"{}\"\n",
        url_file.display()
    );
    let relay = start_binary(&scheduled_config(&vendor.base_url(), &mail, &webhook, "")).await;

    // Both the mail server and the webhook are down: the run is kept.
    let run = the_run(&relay.url, "succeeded").await;
    checked_more(&relay.url, 2.0).await;
    assert!(smtp.messages().is_empty());
    smtp.start_again().await;
    let receiver = support::webhook::Receiver::start_on(hook_port).await;
    receiver.wait_for(1).await;
    checked_more(&relay.url, 3.0).await;
    let [message] = smtp.messages().try_into().expect("one message, once the server is back");
    assert!(message.starts_with("X-Test-Arrived: tls=yes authenticated=yes"), "{message}");
    assert_eq!(receiver.received(hook_path).len(), 1, "one card");
    let told = the_run(&relay.url, "succeeded").await;
    assert_eq!(told["id"], run["id"]);
    assert_eq!(told["told"], serde_json::json!(["email", "webhook:finance"]));

    send_sigterm(&relay.process);
    let logs = all_output(relay.process).await;
    assert!(logs.contains("cannot tell of the run; trying again later"), "the outage was logged: {logs}");
    assert!(logs.contains("told of the run"), "{logs}");
    for secret in [support::smtp::PASSWORD, "finance-7d41c0e2", KEY] {
        assert!(!logs.contains(secret), "`{secret}` is in the logs");
    }
}

/// Two relays on one PostgreSQL: the one holding a run's lease is killed
/// mid-run (its vendor never answers), and the other takes the run over
/// once the lease runs out, runs it and tells of it once.
#[tokio::test]
async fn a_relay_killed_mid_run_is_taken_over_and_the_run_told_once() {
    let postgres = support::postgres::PostgresServer::start().await;
    let database = postgres.database("archive").await;
    let hanging = vendor_with(vec![ApiKey {
        faults: vec!["latency=600000".parse().unwrap()],
        ..ApiKey::new("relay", KEY.to_owned().into())
    }])
    .await;
    let answering = vendor().await;
    let smtp = support::smtp::SmtpServer::start().await;
    let mail = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"billing@corp.example\"\n",
        smtp.port
    );
    let receiver = support::webhook::Receiver::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let url_file = secrets.path().join("webhook-url");
    std::fs::write(&url_file, format!("{}/hook", receiver.base_url)).unwrap();
    let webhook =
        format!("[[webhook]]\nname = \"finance\"\nshape = \"json\"\nurl_file = \"{}\"\n", url_file.display());
    let extra = format!("schedule_lease_seconds = 2\ndatabase_url = \"{database}\"");
    let mut holder = start_binary(&scheduled_config(&hanging.base_url(), &mail, &webhook, &extra)).await;
    let running = the_run(&holder.url, "running").await;
    holder.process.start_kill().unwrap();
    holder.process.wait().await.unwrap();

    let taker = start_binary(&scheduled_config(&answering.base_url(), &mail, &webhook, &extra)).await;
    let run = the_run(&taker.url, "succeeded").await;
    assert_eq!(run["id"], running["id"], "the same run, taken over");
    receiver.wait_for(1).await;
    checked_more(&taker.url, 3.0).await;
    assert_eq!(smtp.messages().len(), 1, "one e-mail");
    assert_eq!(receiver.received("/hook").len(), 1, "one notice");
    assert_eq!(
        the_run(&taker.url, "succeeded").await["told"],
        serde_json::json!(["email", "webhook:finance"])
    );
}
