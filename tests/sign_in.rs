#![cfg(not(target_arch = "wasm32"))]
//! Signing in to the portal in real headless Chromium: the release build
//! of the app served by `billing-relay --demo` with sign-in through a real
//! OpenID Connect provider (npm's oidc-provider) on 127.0.0.1, the relay
//! reached as `localhost`, so the flow crosses sites as in production.

use std::time::Duration;

// The relay's tests' provider; its HTTP-level browser is theirs alone.
#[allow(dead_code)]
#[path = "../crates/relay/tests/support/oidc.rs"]
mod oidc;
mod support;

use fantoccini::{Client, Locator};
use oidc::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use support::*;

async fn start_signed_in_portal() -> (Relay, OidcProvider, tempfile::TempDir) {
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

[[access]]
profile = "demo"
allow_groups = ["finance"]

[[access]]
profile = "demo-current"
allow_groups = ["finance", "account-managers"]
"#,
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

async fn sign_in_from_the_prompt(client: &Client, relay: &Relay, login: &str) {
    client.goto(&relay.url).await.unwrap();
    wait_for(client, ".sign-in-prompt a.sign-in").await.click().await.unwrap();
    log_in_at_provider_if_asked(client, login, &relay.url).await;
}

async fn profile_choices(client: &Client) -> Vec<String> {
    wait_for(client, "#profile").await;
    let mut names = Vec::new();
    for option in client.find_all(Locator::Css("#profile option")).await.unwrap() {
        names.push(option.attr("value").await.unwrap().unwrap());
    }
    names
}

async fn session_cookie(client: &Client) -> String {
    let cookies = client.get_all_cookies().await.unwrap();
    let cookie = cookies.iter().find(|cookie| cookie.name() == "billing_session").expect("a session cookie");
    assert!(cookie.http_only().unwrap_or(false), "the page's scripts cannot read it");
    format!("billing_session={}", cookie.value())
}

async fn api_status_with(relay: &Relay, cookie: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/me", relay.url))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// Signs out with the header's button and confirms at the provider, back
/// to the portal's sign-in prompt.
async fn sign_out(client: &Client, relay: &Relay) {
    wait_for(client, ".account .sign-out").await.click().await.unwrap();
    wait_for(client, "button[name='logout']").await.click().await.unwrap();
    wait_for_url(client, &relay.url).await;
    wait_for(client, ".sign-in-prompt").await;
}

#[tokio::test]
async fn each_person_signs_in_sees_their_profiles_fetches_and_signs_out() {
    let (relay, _provider, _dir) = start_signed_in_portal().await;
    let browser = start_browser().await;
    let client = &browser.client;

    client.goto(&relay.url).await.unwrap();
    let prompt = text_of(client, ".sign-in-prompt h2").await;
    assert_eq!(prompt, "Sign in to see your invoices");
    assert!(client.find(Locator::Css("#profile")).await.is_err(), "no portal before sign-in");

    sign_in_from_the_prompt(client, &relay, "bob").await;
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
    assert_eq!(api_status_with(&relay, &bobs_cookie).await, reqwest::StatusCode::OK, "not signed out yet");

    let renewed = session_cookie(client).await;
    sign_out(client, &relay).await;
    assert_eq!(api_status_with(&relay, &renewed).await, reqwest::StatusCode::UNAUTHORIZED, "signed out");

    sign_in_from_the_prompt(client, &relay, "alice").await;
    assert_eq!(text_of(client, ".account-name").await, "Alice Finance");
    assert_eq!(profile_choices(client).await, ["demo", "demo-current"]);
    choose(client, "#profile", "demo").await;
    fetch(client).await;
    wait_for(client, ".invoice-count").await;
    sign_out(client, &relay).await;

    sign_in_from_the_prompt(client, &relay, "dave").await;
    let refusal = text_of(client, ".no-access").await;
    assert!(refusal.contains("no access to any profile"), "{refusal}");
    assert!(refusal.contains("finance-it@corp.example"), "says whom to ask: {refusal}");

    let logs = relay.logs.lock().unwrap().clone();
    assert!(!logs.contains(CLIENT_SECRET) && !logs.contains("eyJ"), "no secret or token in the log");
    client.clone().close().await.unwrap();
}
