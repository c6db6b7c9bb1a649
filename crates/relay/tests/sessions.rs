//! Two relays sharing their sessions through a real Redis, with sign-in at
//! the real OpenID Connect provider: a session made on one works on the
//! other, a sign-out on one ends it on both, and losing Redis gives a clear
//! 503 until it is back.

mod support;

use std::net::SocketAddr;

use billing::{
    Generation::Legacy,
    api::{ErrorBody, ErrorCode, Me},
};
use reqwest::{StatusCode, header};
use support::{
    oidc::{Browser, EXPORT_CLIENT, OidcProvider},
    ports::free_loopback_port,
    redis::RedisServer,
    *,
};

const COOKIE_KEY: &str = "4f1d9c0b7e2a58631d0c9f4b7a2e6d18c3b5a7f90e1d2c4b6a8f0e2d4c6b8a0f1e3d";
const PRODUCTION: &str = "/api/documents/production/v3/invoices?start=2026-06-01&end=2026-07-31";

struct Pair {
    /// Each relay's address, as browsers reach it by name.
    urls: [String; 2],
    provider: OidcProvider,
    _relays: Vec<TestRelay>,
    _vendor: vendor_sim::RunningVendor,
}

/// Two relays on `redis` with one cookie key; people sign in through the
/// first (the provider knows its callback), as through a load balancer.
async fn pair(redis: &RedisServer) -> Pair {
    let vendor = vendor().await;
    let ports = [free_loopback_port(), free_loopback_port()];
    let urls = ports.map(|port| format!("http://localhost:{port}"));
    let provider = OidcProvider::start(&urls[0]).await;
    let mut relays = Vec::new();
    for (port, url) in ports.iter().zip(&urls) {
        let profiles = vec![profile("production", Legacy, vendor.base_url(), KEY)];
        relays.push(
            relay_with(profiles, |config| {
                config.listen = SocketAddr::from(([127, 0, 0, 1], *port));
                config.sign_in = Some(sign_in_config(&provider.issuer, url));
                config.access =
                    access_rules().into_iter().filter(|rule| rule.profile == "production").collect();
                config.sessions = relay::SessionsConfig {
                    redis_url: Some(redis.url().into()),
                    cookie_key: Some(COOKIE_KEY.to_owned().into()),
                };
            })
            .await,
        );
    }
    Pair { urls, provider, _relays: relays, _vendor: vendor }
}

async fn me_status(browser: &Browser, relay: &str) -> StatusCode {
    browser.get(&format!("{relay}/api/me")).await.status()
}

#[tokio::test]
async fn a_session_made_on_one_relay_works_on_the_other_and_a_sign_out_ends_it_on_both() {
    let redis = RedisServer::start().await;
    let pair = pair(&redis).await;
    let alice = Browser::default();
    alice.sign_in(&pair.urls[0], "alice", "/").await;
    for relay in &pair.urls {
        let me: Me = alice.get(&format!("{relay}/api/me")).await.json().await.unwrap();
        assert_eq!(me.person.unwrap().email.as_deref(), Some("alice@corp.example"), "{relay}");
        let document = alice.get(&format!("{relay}{PRODUCTION}")).await;
        assert_eq!(document.status(), StatusCode::OK, "{relay}");
        assert!(document.bytes().await.unwrap().len() > 1000);
    }
    let bob = Browser::default();
    bob.sign_in(&pair.urls[0], "bob", "/").await;
    assert_eq!(bob.get(&format!("{}{PRODUCTION}", pair.urls[1])).await.status(), StatusCode::FORBIDDEN);

    let signed_out = alice
        .client
        .post(format!("{}/auth/logout", pair.urls[1]))
        .header(header::ORIGIN, &pair.urls[1])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::OK, "the page that signs out at the provider");
    for relay in &pair.urls {
        assert_eq!(me_status(&alice, relay).await, StatusCode::UNAUTHORIZED, "signed out on {relay}");
    }
    assert_eq!(me_status(&bob, &pair.urls[1]).await, StatusCode::OK, "bob's session is his own");
}

#[tokio::test]
async fn the_provider_ending_alices_sessions_ends_them_on_both_relays() {
    let redis = RedisServer::start().await;
    let pair = pair(&redis).await;
    let alice = Browser::default();
    alice.sign_in(&pair.urls[0], "alice", "/").await;
    let alice_elsewhere = Browser::default();
    alice_elsewhere.sign_in(&pair.urls[0], "alice", "/").await;
    let bob = Browser::default();
    bob.sign_in(&pair.urls[0], "bob", "/").await;
    for relay in &pair.urls {
        assert_eq!(me_status(&alice, relay).await, StatusCode::OK, "{relay}");
    }
    // The provider posts a logout token per session to the first relay.
    assert_eq!(pair.provider.end_sessions_of("alice").await, 2);
    for relay in &pair.urls {
        for browser in [&alice, &alice_elsewhere] {
            assert_eq!(me_status(browser, relay).await, StatusCode::UNAUTHORIZED, "ended on {relay}");
            assert_eq!(browser.get(&format!("{relay}{PRODUCTION}")).await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(me_status(&bob, relay).await, StatusCode::OK, "bob's session is his own");
    }
    let logs = pair.provider.logs();
    assert!(!logs.contains("back-channel logout failed"), "{logs}");
}

#[tokio::test]
async fn without_redis_sessions_answer_503_saying_so_and_come_back_with_it() {
    let mut redis = RedisServer::start().await;
    let pair = pair(&redis).await;
    let relay = &pair.urls[0];
    let alice = Browser::default();
    alice.sign_in(relay, "alice", "/").await;
    assert_eq!(me_status(&alice, relay).await, StatusCode::OK);

    redis.stop().await;
    let response = alice.get(&format!("{relay}{PRODUCTION}")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::SignInUnavailable);
    assert!(body.detail.contains("cannot reach its session store"), "{}", body.detail);
    let page = Browser::default().get(&format!("{relay}/auth/login?return=/")).await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("session store"), "a person is told what is wrong");
    // A script's token needs no session, so month-end jobs go on.
    let token = pair.provider.service_token(EXPORT_CLIENT, relay).await;
    let scripted = alice.client.get(format!("{relay}{PRODUCTION}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(scripted.status(), StatusCode::OK, "bearer tokens do not touch Redis");

    redis.start_again().await;
    // This Redis kept nothing: the very first request after it is back is
    // answered from it (not 503), and alice signs in again.
    assert_eq!(me_status(&alice, relay).await, StatusCode::UNAUTHORIZED, "the relay reconnects at once");
    alice.sign_in(relay, "alice", "/").await;
    assert_eq!(me_status(&alice, &pair.urls[1]).await, StatusCode::OK);
}
