//! DNS rebinding: the relay answers only requests sent to one of its own
//! names, whatever form the name takes on the wire (a `Host` header, none
//! at all, an absolute request target, HTTP/2's `:authority`), on every
//! route, and a refused request never reaches the vendor.

mod support;

use std::{net::SocketAddr, sync::atomic::Ordering, time::Duration};

use billing::{Generation::Legacy, api::ErrorCode};
use relay::HostPattern;
use reqwest::StatusCode;
use support::{
    hostile_provider::{Forgery, HostileProvider},
    ports::free_loopback_port,
    *,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOCUMENT: &str = "/api/documents/production/v3/invoices?start=2026-06-01&end=2026-07-31";

/// One request written as `head` (with its blank line added) on a fresh
/// connection to `address`: the answer's status and body.
async fn raw(address: SocketAddr, head: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status =
        answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{answer:?}"));
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// An HTTP/2 (prior knowledge) client that reaches `address` under `name`.
fn http2_as(name: &str, address: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder().no_proxy().http2_prior_knowledge().resolve(name, address).build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_relays_own_names_are_answered_on_every_route_and_the_vendor_is_never_called_otherwise() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (vendor_url, vendor_calls, _vendor) = counting_vendor().await;
    let port = free_loopback_port();
    let public_url = format!("http://portal.corp.example:{port}");
    let relay = relay_with(vec![profile("production", Legacy, vendor_url, KEY)], |config| {
        config.listen = SocketAddr::from(([127, 0, 0, 1], port));
        config.sign_in = Some(sign_in_config(&provider.issuer, &public_url));
        config.access = access_rules().into_iter().filter(|rule| rule.profile == "production").collect();
        config.allowed_hosts = vec!["billing.corp.example".parse::<HostPattern>().unwrap()];
        config.metrics =
            Some(relay::MetricsConfig { listen: None, allowlist: vendor_sim::config::loopback() });
    })
    .await;
    let address: SocketAddr = relay.base_url.trim_start_matches("http://").parse().unwrap();
    let token = provider.access_token(Forgery::None, &public_url);
    let bearer = format!("Authorization: Bearer {token}");
    let before = scrape(&format!("http://localhost:{port}/metrics")).await;

    let mut refused = 0;
    for path in [DOCUMENT, "/", "/index.html", "/auth/login?return=/", "/auth/callback?code=x&state=y"] {
        for (what, head) in [
            (
                "a foreign name",
                format!("GET {path} HTTP/1.1\r\nHost: rebind.evil.example:{port}\r\n{bearer}"),
            ),
            (
                "loopback as a prefix",
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1.evil.example:{port}\r\n{bearer}"),
            ),
            (
                "the right name, another port",
                format!("GET {path} HTTP/1.1\r\nHost: localhost:{}\r\n{bearer}", port + 1),
            ),
            ("no Host at all", format!("GET {path} HTTP/1.0\r\n{bearer}")),
            (
                "an absolute target naming another authority",
                format!(
                    "GET http://evil.example:{port}{path} HTTP/1.1\r\nHost: localhost:{port}\r\n{bearer}"
                ),
            ),
            (
                "two Host headers",
                format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nHost: evil.example\r\n{bearer}"),
            ),
        ] {
            let (status, body) = raw(address, &head).await;
            assert_eq!(status, 421, "{what} on {path}: {body}");
            let body: billing::api::ErrorBody = serde_json::from_str(&body).unwrap();
            assert_eq!(body.code, ErrorCode::HostNotAllowed, "{what} on {path}");
            refused += 1;
        }
        let foreign = http2_as("rebind.evil.example", address)
            .get(format!("http://rebind.evil.example:{port}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.version(), reqwest::Version::HTTP_2);
        assert_eq!(foreign.status(), StatusCode::MISDIRECTED_REQUEST, "HTTP/2 :authority on {path}");
        refused += 1;
    }
    assert_eq!(vendor_calls.load(Ordering::SeqCst), 0, "no refused request reached the vendor");
    let after = scrape(&format!("http://localhost:{port}/metrics")).await;
    let moved =
        |series: &str| after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0);
    assert_eq!(moved(r#"billing_relay_refusals_total{code="host_not_allowed"}"#), f64::from(refused));

    // Every name the relay has still works: loopback in any case with a
    // trailing dot, the public URL's host, a configured name, and HTTP/2.
    for name in [
        format!("LocalHost.:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("portal.corp.example:{port}"),
        "billing.corp.example".to_owned(),
    ] {
        let (status, body) = raw(address, &format!("GET / HTTP/1.1\r\nHost: {name}")).await;
        assert_eq!(status, 200, "{name}: {body}");
        let (status, _) = raw(address, &format!("GET /auth/login?return=/ HTTP/1.1\r\nHost: {name}")).await;
        assert_eq!(status, 303, "{name}: signing in starts");
        let (status, body) = raw(address, &format!("GET /api/me HTTP/1.1\r\nHost: {name}")).await;
        assert_eq!(status, 401, "{name}: the API asks for sign-in: {body}");
    }
    let (status, body) = raw(
        address,
        &format!("GET http://localhost:{port}{DOCUMENT} HTTP/1.1\r\nHost: localhost:{port}\r\n{bearer}"),
    )
    .await;
    assert_eq!(status, 200, "an absolute target naming the relay: {body}");
    let document = http2_as("portal.corp.example", address)
        .get(format!("{public_url}{DOCUMENT}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!((document.version(), document.status()), (reqwest::Version::HTTP_2, StatusCode::OK));
    assert!(document.bytes().await.unwrap().len() > 1000, "the whole document over HTTP/2");
    assert_eq!(vendor_calls.load(Ordering::SeqCst), 2, "only the allowed requests reached the vendor");
}
