#![cfg(not(target_arch = "wasm32"))]
//! Signing in to the portal in real headless Chromium: the release build
//! of the app served by `billing-relay --demo` with sign-in through a real
//! OpenID Connect provider (npm's oidc-provider) on 127.0.0.1, the relay
//! reached as `localhost`, so the flow crosses sites as in production; and
//! the hosted setup: two relays behind nginx with TLS, sharing sessions in
//! a real Redis.

use std::time::Duration;

// The relay's tests' provider; its HTTP-level browser is theirs alone.
#[allow(dead_code)]
#[path = "../crates/relay/tests/support/oidc.rs"]
mod oidc;
#[allow(dead_code)]
#[path = "../crates/relay/tests/support/postgres.rs"]
mod postgres;
#[path = "../crates/relay/tests/support/redis.rs"]
mod redis;
mod support;
// The Redis and PostgreSQL servers' files find their ports through it.
use support::ports;

use billing::api::{decisions::LineIdentity, routes};
use fantoccini::{Client, Locator};
use oidc::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use support::*;

const ACCESS: &str = r#"
[[access]]
profile = "demo"
allow_groups = ["finance"]

[[access]]
profile = "demo-current"
allow_groups = ["finance", "account-managers"]
"#;

async fn start_signed_in_portal() -> (Relay, OidcProvider, tempfile::TempDir) {
    start_signed_in_portal_with(ACCESS).await
}

/// The portal with sign-in on and `access` as its access rules.
async fn start_signed_in_portal_with(access: &str) -> (Relay, OidcProvider, tempfile::TempDir) {
    let port = free_loopback_port();
    let public_url = format!("http://localhost:{port}");
    let provider = OidcProvider::start(&public_url).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[sign_in]
issuer_url = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret_env = "RELAY_TEST_CLIENT_SECRET"
public_url = "{public_url}"
access_contact = "finance-it@corp.example"
{access}"#,
            issuer = provider.issuer
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{port}");
    let config = config.display().to_string();
    let relay = start_relay_with(
        &["--demo", "--config", &config, "--listen", &listen],
        &[("RELAY_TEST_CLIENT_SECRET", CLIENT_SECRET)],
    )
    .await;
    (relay.reached_at(public_url), provider, dir)
}

/// Signs in at the provider's page when it asks; it may not, when its own
/// session from an earlier sign-in is still on.
async fn log_in_at_provider_if_asked(client: &Client, login: &str, relay: &str) {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if url.starts_with(relay) {
            return;
        }
        if let Ok(field) = client.find(Locator::Css("input[name='login']")).await {
            field.send_keys(login).await.unwrap();
            client.find(Locator::Css("button[type='submit']")).await.unwrap().click().await.unwrap();
            wait_for_url(client, relay).await;
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "stuck at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_url(client: &Client, prefix: &str) {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if url.starts_with(prefix) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the browser stayed at {url}, not {prefix}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in_from_the_prompt(client: &Client, portal: &str, login: &str) {
    client.goto(portal).await.unwrap();
    wait_for(client, ".sign-in-prompt a.sign-in").await.click().await.unwrap();
    log_in_at_provider_if_asked(client, login, portal).await;
}

async fn profile_choices(client: &Client) -> Vec<String> {
    wait_for(client, "#profile").await;
    let mut names = Vec::new();
    for option in client.find_all(Locator::Css("#profile option")).await.unwrap() {
        names.push(option.attr("value").await.unwrap().unwrap());
    }
    names
}

/// The session cookie as a `Cookie` header: `billing_session` on http,
/// `__Host-billing_session` on https.
async fn session_cookie(client: &Client) -> String {
    let cookies = client.get_all_cookies().await.unwrap();
    let cookie =
        cookies.iter().find(|cookie| cookie.name().ends_with("billing_session")).expect("a session cookie");
    assert!(cookie.http_only().unwrap_or(false), "the page's scripts cannot read it");
    format!("{}={}", cookie.name(), cookie.value())
}

async fn api_status_with(relay: &str, cookie: &str) -> reqwest::StatusCode {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{relay}/api/me"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// The status of `/api/me` asked of nginx on `port` over TLS with `host` as
/// the Host header, by curl, as a script or a rebinding page would ask.
async fn status_through_nginx(port: u16, host: &str, cookie: &str) -> String {
    use tokio::io::AsyncWriteExt;
    // The cookie goes in on stdin, as the README's script sends its token:
    // never on a command line another user could list.
    let mut curl = tokio::process::Command::new("curl")
        .args(["--silent", "--insecure", "--noproxy", "*", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code}", "--header", "@-"])
        .arg(format!("https://localhost:{port}/api/me"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl runs: `cargo xtask test` installs it");
    let mut headers = curl.stdin.take().unwrap();
    headers.write_all(format!("Host: {host}\nCookie: {cookie}\n").as_bytes()).await.unwrap();
    drop(headers);
    let output = curl.wait_with_output().await.unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// Signs out with the header's button; the relay's page posts the
/// sign-out to the provider, where it is confirmed, and the provider sends
/// the browser back to the relay's "You are signed out".
async fn sign_out(client: &Client, portal: &str) {
    wait_for(client, ".account .sign-out").await.click().await.unwrap();
    wait_for(client, "button[name='logout']").await.click().await.unwrap();
    wait_for_url(client, &format!("{portal}/auth/signed-out")).await;
    assert_eq!(text_of(client, "h1").await, "You are signed out");
}

/// From the signed-out page: "Sign in" must show the provider's login
/// form (its session ended too), where `login` signs in.
async fn sign_in_after_signing_out(client: &Client, portal: &str, login: &str) {
    wait_for(client, "a.sign-in").await.click().await.unwrap();
    let field = wait_for(client, "input[name='login']").await;
    field.send_keys(login).await.unwrap();
    client.find(Locator::Css("button[type='submit']")).await.unwrap().click().await.unwrap();
    wait_for_url(client, portal).await;
}

#[tokio::test]
async fn each_person_signs_in_sees_their_profiles_fetches_and_signs_out() {
    let (relay, provider, _dir) = start_signed_in_portal().await;
    let browser = start_browser_recording_requests().await;
    let client = &browser.client;

    client.goto(&relay.url).await.unwrap();
    let prompt = text_of(client, ".sign-in-prompt h2").await;
    assert_eq!(prompt, "Sign in to see your invoices");
    assert!(client.find(Locator::Css("#profile")).await.is_err(), "no portal before sign-in");

    sign_in_from_the_prompt(client, &relay.url, "bob").await;
    assert_eq!(text_of(client, ".account-name").await, "Bob Accounts");
    assert_eq!(profile_choices(client).await, ["demo-current"]);
    fetch(client).await;
    let invoices = text_of(client, ".invoice-count").await;
    assert!(invoices.parse::<usize>().is_ok_and(|count| count > 0), "bob's document came: {invoices}");

    // The session ends mid-use: the next fetch says so and offers to sign
    // in again, back to the same query.
    let bobs_cookie = session_cookie(client).await;
    client.delete_cookie("billing_session").await.unwrap();
    fetch(client).await;
    assert_eq!(text_of(client, ".problem:not(.stale) .problem-title").await, "Please sign in");
    let again = wait_for(client, ".problem:not(.stale) a.sign-in").await;
    let href = again.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/auth/login?return=/%3Fprofile%3Ddemo-current"), "{href}");
    let page_before = client.current_url().await.unwrap().to_string();
    again.click().await.unwrap();
    log_in_at_provider_if_asked(client, "bob", &relay.url).await;
    wait_for(client, ".invoice-count").await;
    assert_eq!(client.current_url().await.unwrap().to_string(), page_before, "back to the same query");
    assert_eq!(
        api_status_with(&relay.url, &bobs_cookie).await,
        reqwest::StatusCode::OK,
        "not signed out yet"
    );

    let renewed = session_cookie(client).await;
    sign_out(client, &relay.url).await;
    assert_eq!(api_status_with(&relay.url, &renewed).await, reqwest::StatusCode::UNAUTHORIZED, "signed out");

    // The provider's session ended too: the next person is asked who they are.
    sign_in_after_signing_out(client, &relay.url, "alice").await;
    assert_eq!(text_of(client, ".account-name").await, "Alice Finance");
    assert_eq!(profile_choices(client).await, ["demo", "demo-current"]);
    choose(client, "#profile", "demo").await;
    fetch(client).await;
    wait_for(client, ".invoice-count").await;
    sign_out(client, &relay.url).await;

    sign_in_after_signing_out(client, &relay.url, "dave").await;
    let refusal = text_of(client, ".no-access").await;
    assert!(refusal.contains("no access to any profile"), "{refusal}");
    assert!(refusal.contains("finance-it@corp.example"), "says whom to ask: {refusal}");

    let logs = relay.logs.lock().unwrap().clone();
    assert!(!logs.contains(CLIENT_SECRET) && !logs.contains("eyJ"), "no secret or token in the log");
    // The ID token went to the provider as a form's body: in no URL the
    // browser requested, nor any the provider saw.
    let urls = requested_urls(client).await;
    assert!(urls.iter().any(|url| url.contains("/session/end")), "the sign-outs are recorded: {urls:#?}");
    assert!(urls.iter().any(|url| url.contains("/auth/signed-out?state=")), "{urls:#?}");
    // A JSON Web Token begins `eyJ`; random values (a state, a PKCE
    // challenge) may hold those letters further in.
    for url in &urls {
        let token_in_it = url.split(['?', '&', '=', '/', '#']).any(|part| part.starts_with("eyJ"));
        assert!(!token_in_it && !url.contains("id_token_hint"), "a token in {url}");
    }
    let provider_logs = provider.logs();
    assert!(provider_logs.contains("request POST /session/end"), "{provider_logs}");
    assert!(!provider_logs.contains("eyJ"), "no token in the provider's log");
    client.clone().close().await.unwrap();
}

/// nginx with TLS on `port`, round-robin over `relays`, as the README's
/// "Hosting for a team" sets it up; killed when dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    /// SIGTERM, so the master stops its workers too (SIGKILL would orphan them).
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

/// A self-signed certificate for `localhost` in `dir`, made now; returns
/// the base64 SHA-256 of its public key, which the test's Chromium trusts.
fn make_certificate(dir: &std::path::Path) -> String {
    let status = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl makes the test's certificate");
    assert!(status.success());
    let spki = std::process::Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg("openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64")
        .output()
        .unwrap();
    assert!(spki.status.success());
    String::from_utf8(spki.stdout).unwrap().trim().to_owned()
}

async fn start_nginx(dir: &std::path::Path, port: u16, relays: &[&str]) -> Nginx {
    let servers: String = relays
        .iter()
        .map(|relay| format!("server {} max_fails=1 fail_timeout=10s; ", relay.trim_start_matches("http://")))
        .collect();
    let root = dir.display();
    let config = format!(
        r#"worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream relays {{ {servers} }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {root}/cert.pem;
        ssl_certificate_key {root}/key.pem;
        location / {{
            proxy_pass http://relays;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), config).unwrap();
    let nginx =
        std::process::Command::new(std::env::var("BILLING_NGINX").unwrap_or_else(|_| "nginx".to_owned()))
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts: run `cargo xtask test`, which installs it");
    let mut nginx = Nginx(nginx);
    let deadline = tokio::time::Instant::now() + STARTUP;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "nginx did not listen on {port}");
        let exited = nginx.0.try_wait().unwrap();
        assert!(exited.is_none(), "nginx stopped ({exited:?}): {}", nginx_errors(dir));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nginx
}

fn nginx_errors(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("nginx-error.log")).unwrap_or_default()
}

/// The relay's audit lines for transfers, as JSON.
fn transfers(audit_log: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(audit_log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|line| line["event"] == "document")
        .collect()
}

const COOKIE_KEY: &str = "c2a9f04e1b7d36e85a0c4f92d17b3e6a58f0c1d9e2b4a6f8071c3e5d7b9a1f20e4c6";

/// Two relays behind nginx with TLS, sharing sessions in a real Redis, as
/// the README's "Hosting for a team" sets them up; given a PostgreSQL
/// database, they also share it and one archive.
struct Hosted {
    portal: String,
    port: u16,
    /// The certificate's key, which the tests' browsers trust.
    spki: String,
    relays: Vec<Relay>,
    relay_urls: Vec<String>,
    redis: redis::RedisServer,
    dir: tempfile::TempDir,
    _provider: OidcProvider,
    _nginx: Nginx,
}

impl Hosted {
    async fn start(access: &str, database_url: Option<&str>) -> Self {
        let redis = redis::RedisServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let spki = make_certificate(dir.path());
        let port = free_loopback_port();
        let portal = format!("https://localhost:{port}");
        let provider = OidcProvider::start(&portal).await;
        let shared_data = dir.path().join("shared-data");
        let database = match database_url {
            Some(url) => format!("database_url = \"{url}\"\n"),
            None => String::new(),
        };
        let mut relays = Vec::new();
        for number in 0..2 {
            let config = dir.path().join(format!("relay-{number}.toml"));
            std::fs::write(
                &config,
                format!(
                    r#"
trusted_proxies = ["127.0.0.1/32"]
audit_log = "{audit}"
{database}
# Sign-ins and a dozen fetches in seconds from one address: faster than a person.
[rate_limit]
per_minute = 600
burst = 200

[sign_in]
issuer_url = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret_env = "RELAY_TEST_CLIENT_SECRET"
public_url = "{portal}"

[sessions]
redis_url = "{redis}"
cookie_key_env = "RELAY_TEST_COOKIE_KEY"
{access}"#,
                    audit = dir.path().join(format!("audit-{number}.jsonl")).display(),
                    issuer = provider.issuer,
                    redis = redis.url(),
                ),
            )
            .unwrap();
            let config = config.display().to_string();
            let mut environment =
                vec![("RELAY_TEST_CLIENT_SECRET", CLIENT_SECRET), ("RELAY_TEST_COOKIE_KEY", COOKIE_KEY)];
            let shared_data = shared_data.display().to_string();
            if database_url.is_some() {
                environment.push(("BILLING_DATA_DIR", &shared_data));
            }
            relays.push(
                start_relay_with(&["--demo", "--config", &config, "--listen", "127.0.0.1:0"], &environment)
                    .await,
            );
        }
        let relay_urls: Vec<String> = relays.iter().map(|relay| relay.url.clone()).collect();
        let nginx =
            start_nginx(dir.path(), port, &relay_urls.iter().map(String::as_str).collect::<Vec<_>>()).await;
        Self { portal, port, spki, relays, relay_urls, redis, dir, _provider: provider, _nginx: nginx }
    }

    async fn browser(&self) -> Browser {
        start_browser_with(&[format!("--ignore-certificate-errors-spki-list={}", self.spki)]).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_relays_behind_nginx_with_tls_share_sessions_survive_one_dying_and_say_when_redis_is_away() {
    let access = "[[access]]\nprofile = \"demo\"\nallow_groups = [\"finance\"]\n";
    let hosted = Hosted::start(access, None).await;
    let browser = hosted.browser().await;
    let Hosted { portal, port, mut relays, relay_urls, mut redis, dir, .. } = hosted;
    let client = &browser.client;

    sign_in_from_the_prompt(client, &portal, "alice").await;
    assert_eq!(text_of(client, ".account-name").await, "Alice Finance");
    choose(client, "#profile", "demo").await;
    // Round-robin takes the page's follow-up requests (archive receipts and
    // lists) in turn with the documents: fetch until each relay served one.
    let served_alice = |number: usize| {
        transfers(&dir.path().join(format!("audit-{number}.jsonl")))
            .iter()
            .any(|line| line["email"] == "alice@corp.example" && line["outcome"] == "complete")
    };
    for _ in 0..8 {
        fetch(client).await;
        wait_for(client, ".invoice-count").await;
        if served_alice(0) && served_alice(1) {
            break;
        }
        // A fetch may take an even number of requests every time, which
        // would send each document to the same relay: one more request
        // shifts the turn.
        let shift = format!("return fetch('{}').then(response => response.status)", routes::ME);
        client.execute(&shift, vec![]).await.unwrap();
    }
    for (number, relay) in relay_urls.iter().enumerate() {
        let served = transfers(&dir.path().join(format!("audit-{number}.jsonl")));
        assert!(
            served.iter().any(|line| line["email"] == "alice@corp.example" && line["outcome"] == "complete"),
            "relay {number} ({relay}) served alice a document: {served:?}"
        );
    }
    let cookie = session_cookie(client).await;
    assert!(cookie.starts_with("__Host-billing_session="), "a Secure, host-only cookie on https: {cookie}");
    for relay in &relay_urls {
        assert_eq!(
            api_status_with(relay, &cookie).await,
            reqwest::StatusCode::OK,
            "{relay} knows the session"
        );
    }
    // nginx passes the browser's Host on: the portal's own name is served,
    // a rebinding name is refused before any session or profile is looked at.
    assert_eq!(status_through_nginx(port, &format!("localhost:{port}"), &cookie).await, "200");
    assert_eq!(status_through_nginx(port, &format!("rebind.evil.example:{port}"), &cookie).await, "421");
    sign_out(client, &portal).await;
    for relay in &relay_urls {
        assert_eq!(
            api_status_with(relay, &cookie).await,
            reqwest::StatusCode::UNAUTHORIZED,
            "ended on {relay}"
        );
    }

    // One relay dies mid-run: nginx sends everything to the other.
    sign_in_from_the_prompt(client, &portal, "alice").await;
    choose(client, "#profile", "demo").await;
    drop(relays.remove(0));
    let survivor = dir.path().join("audit-1.jsonl");
    let before = transfers(&survivor).len();
    for _ in 0..3 {
        fetch(client).await;
        let invoices = text_of(client, ".invoice-count").await;
        assert!(invoices.parse::<usize>().is_ok_and(|count| count > 0), "a document came: {invoices}");
    }
    assert_eq!(transfers(&survivor).len(), before + 3, "the surviving relay served all three");

    // Redis goes away: the page says the portal cannot check sign-ins now.
    redis.stop().await;
    fetch(client).await;
    assert_eq!(
        text_of(client, ".problem:not(.stale) .problem-title").await,
        "The relay cannot check sign-ins right now"
    );
    let detail = text_of(client, ".problem:not(.stale)").await;
    assert!(detail.contains("session store"), "{detail}");

    // Redis is back (empty: it kept nothing), and signing in works again.
    redis.start_again().await;
    fetch(client).await;
    assert_eq!(text_of(client, ".problem:not(.stale) .problem-title").await, "Please sign in");
    wait_for(client, ".problem:not(.stale) a.sign-in").await.click().await.unwrap();
    log_in_at_provider_if_asked(client, "alice", &portal).await;
    fetch(client).await;
    wait_for(client, ".invoice-count").await;
    let logs: String = relays.iter().map(|relay| relay.logs.lock().unwrap().clone()).collect();
    assert!(
        !logs.contains(COOKIE_KEY) && !logs.contains(&cookie[cookie.find('=').unwrap() + 1..]),
        "no cookie or key logged"
    );
    client.clone().close().await.unwrap();
}

/// The portal on last month's invoices, both sides joined, on the Exceptions tab.
async fn open_last_month_for_review(client: &Client, portal: &str) -> String {
    let today = chrono::Local::now().date_naive();
    let month = billing::api::decisions::InvoiceMonth::containing(today).back(1);
    let (start, end) = (month.first_day(), month.last_day());
    client
        .goto(&format!(
            "{portal}/?profile=demo&version=v3&endpoint=invoices&format=json&start={start}&end={end}"
        ))
        .await
        .unwrap();
    show_tab(client, "margin").await;
    wait_for(client, ".load-other").await.click().await.unwrap();
    wait_for(client, ".margin-row").await;
    show_tab(client, "exceptions").await;
    wait_for(client, ".exception-row").await;
    month.to_string()
}

/// Shows the lines of the first kind with any, and returns the kind.
async fn show_first_flagged_kind(client: &Client) -> String {
    let kind: String = serde_json::from_value(
        client
            .execute(
                "const row = [...document.querySelectorAll('.exception-row')].find(row => Number(row.dataset.count) > 0); \
                 return row ? row.dataset.kind : null",
                vec![],
            )
            .await
            .unwrap(),
    )
    .expect("last month has something on the worklist");
    wait_for(client, &format!(".exception-row[data-kind='{kind}'] .show-exceptions"))
        .await
        .click()
        .await
        .unwrap();
    wait_for(client, ".flagged-row .review").await;
    kind
}

/// Chooses a decision and types a note in the row of `item`, and saves.
async fn mark(client: &Client, item: &str, status: &str, note: &str, save: bool) {
    let row = format!(".flagged-row[data-item='{item}']");
    wait_for(client, &format!("{row} .review-choice option[value='{status}']")).await.click().await.unwrap();
    let field = wait_for(client, &format!("{row} .review-note")).await;
    field.clear().await.unwrap();
    field.send_keys(note).await.unwrap();
    if save {
        wait_for(client, &format!("{row} .save-review")).await.click().await.unwrap();
    }
}

#[tokio::test]
async fn two_people_review_one_month_and_each_sees_the_others_decisions_as_they_are_made() {
    let access = r#"
[[access]]
profile = "demo"
allow_emails = ["alice@corp.example"]
role = "approve"

[[access]]
profile = "demo"
allow_emails = ["bob@corp.example"]
role = "review"
"#;
    let postgres = postgres::PostgresServer::start().await;
    let hosted = Hosted::start(access, Some(&postgres.database("decisions").await)).await;
    let (alices, bobs) = tokio::join!(hosted.browser(), hosted.browser());
    let (alice, bob) = (&alices.client, &bobs.client);
    sign_in_from_the_prompt(alice, &hosted.portal, "alice").await;
    sign_in_from_the_prompt(bob, &hosted.portal, "bob").await;
    let month = open_last_month_for_review(alice, &hosted.portal).await;
    open_last_month_for_review(bob, &hosted.portal).await;
    let kind = show_first_flagged_kind(alice).await;
    assert_eq!(show_first_flagged_kind(bob).await, kind);
    let item = wait_for(alice, ".flagged-row").await.attr("data-item").await.unwrap().unwrap();
    let open_before: usize = wait_for(alice, &format!(".exception-row[data-kind='{kind}']"))
        .await
        .attr("data-open")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();

    // Bob explains a line; Alice sees it, and one fewer open, without reloading.
    mark(bob, &item, "explained", "Internal test tenant, never billed", true).await;
    let status = format!(".flagged-row[data-item='{item}'] .review-status");
    wait_for_text(bob, &status, "Explained: Internal test tenant").await;
    wait_for_text(alice, &status, "Explained: Internal test tenant, never billed (bob@corp.example").await;
    wait_for(alice, &format!(".exception-row[data-kind='{kind}'][data-open='{}']", open_before - 1)).await;
    // Only the open lines: the explained one leaves the list, and comes back.
    let row = format!(".flagged-row[data-item='{item}']");
    wait_for(alice, "#only-open").await.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + STARTUP;
    while alice.find(Locator::Css(&row)).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "an explained line is listed among the open ones");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if open_before > 1 {
        wait_for(alice, ".flagged-row").await;
    }
    wait_for(alice, "#only-open").await.click().await.unwrap();
    wait_for(alice, &row).await;

    // Both change it; Bob began first, Alice saved first: Bob is told, sees
    // hers, and applies his again on top of it.
    mark(bob, &item, "to_fix", "Bill it from next month", false).await;
    mark(alice, &item, "accepted", "Agreed with sales", true).await;
    wait_for_text(bob, &status, "Accepted: Agreed with sales (alice@corp.example").await;
    wait_for(bob, &format!(".flagged-row[data-item='{item}'] .save-review")).await.click().await.unwrap();
    wait_for_text(
        bob,
        &format!(".flagged-row[data-item='{item}'] .conflict"),
        "alice@corp.example marked this first",
    )
    .await;
    wait_for(bob, &format!(".flagged-row[data-item='{item}'] .reapply")).await.click().await.unwrap();
    wait_for_text(alice, &status, "To fix: Bill it from next month (bob@corp.example").await;
    wait_for(bob, &format!(".flagged-row[data-item='{item}'] .show-history")).await.click().await.unwrap();
    let history = text_of(bob, &format!(".flagged-row[data-item='{item}'] .review-history")).await;
    for said in ["bob@corp.example: To fix", "alice@corp.example: Accepted", "bob@corp.example: Explained"] {
        assert!(history.contains(said), "{said} in {history}");
    }

    // Alice corrects a publisher for the team; Bob's filters and charts follow.
    show_tab(alice, "overview").await;
    wait_for(alice, ".publishers summary").await.click().await.unwrap();
    let field = wait_for(alice, ".publisher-row .publisher-input").await;
    field.send_keys("Team Publisher B.V.").await.unwrap();
    alice
        .execute("document.querySelector('.publisher-input').dispatchEvent(new Event('change', { bubbles: true }))", vec![])
        .await
        .unwrap();
    let offered = "return [...document.querySelectorAll('#line-publisher option')].map(o => o.value)";
    show_tab(bob, "lines").await;
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let values: Vec<String> =
            serde_json::from_value(bob.execute(offered, vec![]).await.unwrap()).unwrap();
        if values.iter().any(|value| value == "Team Publisher B.V.") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "bob's filter offers {values:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Alice signs the month off: Bob's decisions become read-only; she
    // reopens it with a reason and he may mark again.
    show_tab(alice, "exceptions").await;
    show_tab(bob, "exceptions").await;
    assert!(bob.find(Locator::Css(".sign-off-month")).await.is_err(), "review does not sign off");
    wait_for(alice, ".sign-off-month").await.click().await.unwrap();
    wait_for_text(bob, ".signed-off-by", &format!("{month} signed off by alice@corp.example")).await;
    wait_for(bob, ".pinned-documents li").await;
    let deadline = tokio::time::Instant::now() + STARTUP;
    while bob.find(Locator::Css(".review-form")).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "bob's forms stay after sign-off");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Bob's workbook carries the sign-off and every line's status.
    let workbook = download(&bobs, ".download[data-file$='.xlsx']").await;
    let exceptions = sheet(&workbook, "Exceptions");
    let signed_off = cell_text(&exceptions[0][0]);
    assert!(signed_off.starts_with(&format!("{month} signed off by alice@corp.example on ")), "{signed_off}");
    let header: Vec<String> = exceptions[2].iter().map(cell_text).collect();
    let column = |name: &str| {
        header.iter().position(|cell| cell == name).unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let billing::api::decisions::ItemId { kind: marked_kind, line: LineIdentity::RowHash(marked_hash) } =
        billing::api::decisions::ItemId::from_key(&item).unwrap()
    else {
        panic!("the demo's lines have row hashes: {item}");
    };
    let mut marked = 0;
    for row in &exceptions[3..] {
        let cell = |name: &str| cell_text(&row[column(name)]);
        if cell("Exception") == marked_kind.label() && cell("InvoiceRowHash") == marked_hash {
            marked += 1;
            assert_eq!(
                [cell("Status"), cell("Note"), cell("Decided by")],
                ["To fix", "Bill it from next month", "bob@corp.example"]
            );
            assert!(cell("Decided at").ends_with(" UTC"));
        } else {
            assert_eq!(cell("Status"), "Open", "unmarked lines are open: {row:?}");
        }
    }
    assert!(marked > 0, "the marked line is in the sheet");
    wait_for(alice, "#reopen-reason")
        .await
        .send_keys("The vendor credited invoice lines late")
        .await
        .unwrap();
    wait_for(alice, ".reopen-month:not([disabled])").await.click().await.unwrap();
    wait_for_text(bob, ".sign-off .reopened", "The vendor credited invoice lines late").await;
    wait_for(bob, ".review-form").await;
    alice.clone().close().await.unwrap();
    bob.clone().close().await.unwrap();
}
