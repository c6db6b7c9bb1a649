//! Sign-in and per-profile access over real loopback HTTP: the relay in
//! front of the real emulator, people signing in at a real OpenID Connect
//! provider (npm's oidc-provider) on 127.0.0.1 while the relay is reached
//! as `localhost`, so the flow is cross-site as in production; and a
//! hostile provider for the ID tokens a real one never issues.

mod support;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use billing::{
    Generation::{Current, Legacy},
    Role,
    api::{ArchivePage, ErrorBody, ErrorCode, Me},
};
use relay::RelayConfig;
use reqwest::{StatusCode, cookie::CookieStore, header};
use support::{
    hostile_provider::{Forgery, HostileProvider},
    oidc::{Browser, OidcProvider, location, query_value},
    ports::free_loopback_port,
    *,
};

const PRODUCTION: &str = "/api/documents/production/v3/invoices?start=2026-06-01&end=2026-07-31";
const SANDBOX: &str = "/api/documents/sandbox/v1/invoices?start=2026-06-01&end=2026-07-31";

struct Portal {
    /// The relay as browsers reach it: `http://localhost:PORT`.
    url: String,
    vendor_calls: Arc<AtomicUsize>,
    relay: TestRelay,
    provider: OidcProvider,
    _vendor: tokio::task::JoinHandle<()>,
}

impl Portal {
    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

async fn portal_with(adjust: impl FnOnce(&mut RelayConfig)) -> Portal {
    let (vendor_url, vendor_calls, vendor) = counting_vendor().await;
    let port = free_loopback_port();
    let url = format!("http://localhost:{port}");
    let provider = OidcProvider::start(&url).await;
    let profiles = vec![
        profile("production", Legacy, vendor_url.clone(), KEY),
        profile("sandbox", Current, vendor_url, KEY),
    ];
    let relay = relay_with(profiles, |config| {
        config.listen = SocketAddr::from(([127, 0, 0, 1], port));
        config.sign_in = Some(sign_in_config(&provider.issuer, &url));
        config.access = access_rules();
        adjust(config);
    })
    .await;
    Portal { url, vendor_calls, relay, provider, _vendor: vendor }
}

async fn portal() -> Portal {
    portal_with(|_| {}).await
}

async fn error_body(response: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not a relay error: {text}")))
}

async fn me(browser: &Browser, portal: &Portal) -> Me {
    let response = browser.get(&portal.at("/api/me")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn each_person_gets_exactly_the_profiles_their_rules_name() {
    let portal = portal().await;
    // (login, the profiles listed with the highest role their rules give)
    let cases = [
        ("alice", vec![("production", Role::Approve), ("sandbox", Role::Read)]),
        ("bob", vec![("sandbox", Role::Read)]),
        ("carol", vec![]),
        ("dave", vec![]),
        ("erin", vec![("sandbox", Role::Read)]),
        ("frank", vec![("production", Role::Review)]),
    ];
    for (login, expected_roles) in cases {
        let expected: Vec<&str> = expected_roles.iter().map(|(name, _)| *name).collect();
        let browser = Browser::default();
        assert_eq!(browser.sign_in(&portal.url, login, "/").await, "/");
        let me = me(&browser, &portal).await;
        assert_eq!(me.profiles, expected, "{login}: /api/me");
        assert!(me.sign_in_enabled);
        assert_eq!(
            me.person.as_ref().unwrap().email.as_deref(),
            Some(format!("{login}@corp.example").as_str())
        );
        let listed: Vec<billing::ProfileSummary> =
            browser.get(&portal.at("/api/profiles")).await.json().await.unwrap();
        let listed: Vec<_> = listed.iter().map(|profile| (profile.name.as_str(), profile.role)).collect();
        assert_eq!(listed, expected_roles, "{login}: /api/profiles");
        for (name, path) in [("production", PRODUCTION), ("sandbox", SANDBOX)] {
            let response = browser.get(&portal.at(path)).await;
            if expected.contains(&name) {
                assert_eq!(response.status(), StatusCode::OK, "{login} may use {name}");
                assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
                assert!(!response.bytes().await.unwrap().is_empty());
            } else {
                let (status, body) = error_body(response).await;
                assert_eq!(
                    (status, body.code),
                    (StatusCode::FORBIDDEN, ErrorCode::ProfileForbidden),
                    "{login}: {name}"
                );
                assert!(body.detail.contains(&format!("has no access to profile {name}")), "{}", body.detail);
                assert!(body.detail.contains("finance-it@corp.example"), "says whom to ask: {}", body.detail);
                assert!(
                    body.detail.contains(&format!("{login}@corp.example")),
                    "names the account: {}",
                    body.detail
                );
            }
        }
    }
}

/// The headers an authenticating proxy would set, as any client can.
fn claiming_to_be_alice(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("X-Forwarded-User", "alice")
        .header("X-Forwarded-Email", "alice@corp.example")
        .header("X-Auth-Request-Email", "alice@corp.example")
        .header("Remote-User", "alice")
        .header(header::AUTHORIZATION, "Basic YWxpY2U6eA==")
}

#[tokio::test]
async fn without_a_session_every_api_route_is_401_and_the_vendor_is_never_called() {
    let portal = portal().await;
    let browser = Browser::default();
    for path in [
        "/api/profiles",
        "/api/me",
        PRODUCTION,
        SANDBOX,
        "/api/documents/nope/v3/invoices",
        "/api/archive",
        "/api/archive?profile=production",
        "/api/archive/1",
        "/api/archive/receipts/1",
        "/api/runs",
        "/api/runs?job=invoice-run",
        "/api/openapi.json",
        "/api/unknown",
        "/api/",
    ] {
        let response = claiming_to_be_alice(browser.client.get(portal.at(path))).send().await.unwrap();
        let cache =
            response.headers().get(header::CACHE_CONTROL).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(cache.as_deref(), Some("no-store"), "{path}: {}", response.status());
        let (status, body) = error_body(response).await;
        assert_eq!((status, body.code), (StatusCode::UNAUTHORIZED, ErrorCode::SignInRequired), "{path}");
        assert_eq!(body.sign_in_url.as_deref(), Some("/auth/login"));
    }
    assert_eq!(portal.vendor_calls.load(Ordering::SeqCst), 0, "no request reached the vendor");
    assert_eq!(browser.get(&portal.at("/healthz")).await.status(), StatusCode::OK);
    assert_eq!(browser.get(&portal.at("/")).await.status(), StatusCode::OK, "the app shell is public");
}

#[tokio::test]
async fn another_profile_cannot_be_reached_through_the_path_query_or_headers() {
    let portal = portal().await;
    let bob = Browser::default();
    bob.sign_in(&portal.url, "bob", "/").await;
    let refused = |path: &'static str| {
        let bob = &bob;
        let portal = &portal;
        async move {
            let response = claiming_to_be_alice(bob.client.get(portal.at(path)))
                .header("X-Profile", "production")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(status, StatusCode::OK, "{path}: {body}");
            (status, body)
        }
    };
    for path in [
        PRODUCTION,
        "/api/documents/%70roduction/v3/invoices?start=2026-06-01&end=2026-07-31",
        "/api/documents/PRODUCTION/v3/invoices",
        "/api/documents/production%2Fv3/invoices",
    ] {
        let (status, _) = refused(path).await;
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{path}: {status}");
    }
    let (status, body) =
        refused("/api/documents/sandbox/v1/invoices?start=2026-06-01&end=2026-07-31&profile=production")
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = refused("/api/documents/production/v3/invoices?profile=sandbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The identity headers were ignored: bob still reaches his own profile.
    assert_eq!(bob.get(&portal.at(SANDBOX)).await.status(), StatusCode::OK);
}

fn request_id(response: &reqwest::Response) -> u64 {
    response.headers()["x-request-id"].to_str().unwrap().parse().unwrap()
}

/// The id of the archived copy of what `browser` fetched under `request_id`.
async fn archived(browser: &Browser, portal: &Portal, request_id: u64) -> i64 {
    let receipt = browser.get(&portal.at(&format!("/api/archive/receipts/{request_id}"))).await;
    match receipt.json().await.unwrap() {
        billing::api::ArchiveReceipt::Archived { id } => id,
        other => panic!("not archived: {other:?}"),
    }
}

#[tokio::test]
async fn the_archive_refuses_what_the_live_route_refuses_and_keeps_no_secret() {
    let portal = portal().await;
    let alice = Browser::default();
    alice.sign_in(&portal.url, "alice", "/").await;
    let fetched = alice.get(&portal.at(PRODUCTION)).await;
    let alices_request = request_id(&fetched);
    let live = fetched.bytes().await.unwrap();
    let production = archived(&alice, &portal, alices_request).await;
    let listed: ArchivePage =
        alice.get(&portal.at("/api/archive?profile=production")).await.json().await.unwrap();
    assert_eq!(listed.documents.len(), 1);
    assert_eq!(listed.documents[0].fetched_by.as_deref(), Some("alice@corp.example"), "who fetched it");
    let token = portal.provider.service_token(oidc::EXPORT_CLIENT, &portal.url).await;
    let by_token = reqwest::Client::new()
        .get(portal.at(&format!("/api/archive/{production}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.bytes().await.unwrap(), live, "a service account with the profile opens it");

    let bob = Browser::default();
    bob.sign_in(&portal.url, "bob", "/").await;
    let own = bob.get(&portal.at(SANDBOX)).await;
    let bobs_request = request_id(&own);
    assert!(!own.bytes().await.unwrap().is_empty());
    let sandbox = archived(&bob, &portal, bobs_request).await;
    let bobs: ArchivePage = bob.get(&portal.at("/api/archive")).await.json().await.unwrap();
    let ids: Vec<i64> = bobs.documents.iter().map(|document| document.id).collect();
    assert_eq!(ids, [sandbox], "bob lists only his own profile's documents");
    let as_bob = |path: String| {
        let bob = &bob;
        async move {
            let response = claiming_to_be_alice(bob.client.get(path))
                .header("X-Profile", "production")
                .header("X-Forwarded-Groups", "finance")
                .send()
                .await
                .unwrap();
            error_body(response).await
        }
    };
    for query in ["?profile=production", "?profile=%70roduction", "?profile=production&endpoint=invoices"] {
        let (status, body) = as_bob(portal.at(&format!("/api/archive{query}"))).await;
        assert_eq!((status, body.code), (StatusCode::FORBIDDEN, ErrorCode::ProfileForbidden), "{query}");
    }
    let (status, _) = as_bob(portal.at("/api/archive?profile=sandbox&profile=production")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for path in [
        format!("/api/archive/{production}"),
        format!("/api/archive/{production}?download=1"),
        format!("/api/archive/{production}/"),
        {
            // The same id with its first digit percent-encoded.
            let digits = production.to_string();
            format!("/api/archive/%3{}{}", &digits[..1], &digits[1..])
        },
        format!("/api/archive/receipts/{alices_request}"),
    ] {
        let (status, body) = as_bob(portal.at(&path)).await;
        assert_ne!(status, StatusCode::OK, "{path}");
        assert!(
            matches!(body.code, ErrorCode::ArchivedDocumentNotFound | ErrorCode::UnknownRoute),
            "{path}: {body:?}"
        );
    }
    let (status, _) = as_bob(portal.at(&format!("/api/archive/{production}?profile=sandbox"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing secret in the records: no key, cookie or token.
    let cookie = alice.jar.cookies(&portal.url.parse().unwrap()).unwrap().to_str().unwrap().to_owned();
    let cookie_value = cookie.split_once('=').unwrap().1.to_owned();
    let mut database = Vec::new();
    for file in std::fs::read_dir(portal.relay.data_dir.path()).unwrap().flatten() {
        if file.file_name().to_string_lossy().starts_with("billing.sqlite3") {
            database.extend(std::fs::read(file.path()).unwrap());
        }
    }
    assert!(!database.is_empty());
    let text = String::from_utf8_lossy(&database);
    assert!(text.contains("alice@corp.example"), "the records are where this test looks");
    for secret in [KEY, cookie_value.as_str(), token.as_str(), oidc::CLIENT_SECRET] {
        assert!(!text.contains(secret), "a secret in the database");
    }
    let listed = alice.get(&portal.at("/api/archive")).await.text().await.unwrap();
    for secret in [KEY, cookie_value.as_str(), token.as_str()] {
        assert!(!listed.contains(secret), "a secret in the list");
    }
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_cookie_holds_only_a_signed_id() {
    let portal = portal().await;
    let browser = Browser::default();
    let started = browser.get(&portal.at("/auth/login?return=/")).await;
    let before = set_cookie(&started);
    assert!(
        before.contains("HttpOnly") && before.contains("SameSite=Lax") && before.contains("Path=/"),
        "{before}"
    );
    assert!(!before.contains("Secure"), "the public URL is http: {before}");
    assert!(before.starts_with("billing_session="), "{before}");
    assert_eq!(started.headers()[header::CACHE_CONTROL], "no-store");
    let callback = browser.log_in_at_provider(&location(&started), "alice").await;
    let finished = browser.get(&callback).await;
    let after = set_cookie(&finished);
    let value = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    assert_ne!(value(&before), value(&after), "a new session id at sign-in");
    for personal in ["alice", "Alice", "finance", "corp.example"] {
        assert!(!after.contains(personal), "the cookie holds no user data: {after}");
    }
    assert_eq!(me(&browser, &portal).await.profiles, ["production", "sandbox"]);

    // The id from before sign-in is worth nothing after it.
    let planted = reqwest::Client::new()
        .get(portal.at("/api/me"))
        .header(header::COOKIE, value(&before))
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::UNAUTHORIZED);
    // Nor is a cookie changed by one character.
    let good = value(&after);
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for cookie in [tampered, good.replacen('=', "=x", 1)] {
        let response = reqwest::Client::new()
            .get(portal.at("/api/me"))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response =
        reqwest::Client::new().get(portal.at("/api/me")).header(header::COOKIE, good).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the untouched cookie still works");
}

#[tokio::test]
async fn a_cookie_signed_by_another_relay_is_refused() {
    let first = portal().await;
    let second = portal().await;
    let browser = Browser::default();
    let callback = {
        let authorization = browser.start_sign_in(&first.url, "/").await;
        browser.log_in_at_provider(&authorization, "alice").await
    };
    let cookie = set_cookie(&browser.get(&callback).await);
    let value = cookie.split(';').next().unwrap().to_owned();
    let response = reqwest::Client::new()
        .get(second.at("/api/me"))
        .header(header::COOKIE, value.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "another relay's key");
    let response =
        reqwest::Client::new().get(first.at("/api/me")).header(header::COOKIE, value).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.contains("billing_session="))
        .unwrap_or_else(|| panic!("no session cookie set: {:?}", response.headers()))
}

#[tokio::test]
async fn state_must_be_this_browsers_unspent_and_the_code_and_verifier_must_match() {
    let portal = portal().await;
    let browser = Browser::default();

    // No state, and a state never issued.
    let authorization = browser.start_sign_in(&portal.url, "/").await;
    let callback = browser.log_in_at_provider(&authorization, "alice").await;
    let code = query_value(&callback, "code").unwrap();
    for bad in [format!("/auth/callback?code={code}"), format!("/auth/callback?code={code}&state=forged")] {
        let response = browser.get(&portal.at(&bad)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(response.text().await.unwrap().contains("Sign in again"));
    }
    // Another browser cannot finish this browser's sign-in (login CSRF).
    let stranger = Browser::default();
    assert_eq!(stranger.get(&callback).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(browser.get(&portal.at("/api/me")).await.status(), StatusCode::UNAUTHORIZED);

    // The genuine answer signs in once; replayed, its state is spent.
    assert_eq!(browser.get(&callback).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get(&portal.at("/api/me")).await.status(), StatusCode::OK);
    assert_eq!(browser.get(&callback).await.status(), StatusCode::BAD_REQUEST, "replayed state");

    // A code already used, under a fresh state of this browser.
    let fresh = browser.start_sign_in(&portal.url, "/").await;
    let state = query_value(&fresh, "state").unwrap();
    let reused = browser.get(&portal.at(&format!("/auth/callback?code={code}&state={state}"))).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST, "a code used twice");

    // A genuine unused code under another sign-in's state: its PKCE verifier is wrong.
    let first = Browser::default();
    let tab_a = first.start_sign_in(&portal.url, "/a").await;
    let tab_b = first.start_sign_in(&portal.url, "/b").await;
    let answer_a = first.log_in_at_provider(&tab_a, "alice").await;
    let code_a = query_value(&answer_a, "code").unwrap();
    let state_b = query_value(&tab_b, "state").unwrap();
    let crossed = first.get(&portal.at(&format!("/auth/callback?code={code_a}&state={state_b}"))).await;
    assert_eq!(crossed.status(), StatusCode::BAD_REQUEST, "wrong PKCE verifier");
    assert_eq!(first.get(&portal.at("/api/me")).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn several_tabs_can_sign_in_at_once() {
    let portal = portal().await;
    let browser = Browser::default();
    let tab_a = browser.start_sign_in(&portal.url, "/?tab=a").await;
    let tab_b = browser.start_sign_in(&portal.url, "/?tab=b").await;
    let answer_b = browser.log_in_at_provider(&tab_b, "alice").await;
    let answer_a = browser.log_in_at_provider(&tab_a, "alice").await;
    assert_eq!(location(&browser.get(&answer_b).await), "/?tab=b");
    assert_eq!(location(&browser.get(&answer_a).await), "/?tab=a", "tab a's sign-in survived tab b's");
    assert_eq!(me(&browser, &portal).await.person.unwrap().name.as_deref(), Some("Alice Finance"));
}

#[tokio::test]
async fn the_return_address_is_only_ever_a_path_on_the_relay() {
    let portal = portal().await;
    for hostile in
        ["//evil.example/", "/\\evil.example", "https://evil.example/", "/%09/evil.example", "/\r\nX: y"]
    {
        let browser = Browser::default();
        assert_eq!(browser.sign_in(&portal.url, "alice", hostile).await, "/", "{hostile:?}");
    }
    let browser = Browser::default();
    let query = "/?profile=production&version=v3&endpoint=invoices&start=2026-06-01";
    assert_eq!(browser.sign_in(&portal.url, "alice", query).await, query);
}

#[tokio::test]
async fn a_session_ends_when_idle_and_at_its_absolute_lifetime() {
    let idle = portal_with(|config| {
        let sign_in = config.sign_in.as_mut().unwrap();
        sign_in.session_idle = Duration::from_secs(2);
    })
    .await;
    let browser = Browser::default();
    browser.sign_in(&idle.url, "alice", "/").await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(browser.get(&idle.at("/api/me")).await.status(), StatusCode::OK, "kept alive by use");
    }
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(browser.get(&idle.at("/api/me")).await.status(), StatusCode::UNAUTHORIZED, "idle too long");

    let absolute = portal_with(|config| {
        let sign_in = config.sign_in.as_mut().unwrap();
        sign_in.session_idle = Duration::from_secs(2);
        sign_in.session_absolute = Duration::from_secs(3);
    })
    .await;
    let browser = Browser::default();
    browser.sign_in(&absolute.url, "alice", "/").await;
    let mut statuses = Vec::new();
    for _ in 0..9 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        statuses.push(browser.get(&absolute.at("/api/me")).await.status());
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert_eq!(statuses[8], StatusCode::UNAUTHORIZED, "past the absolute lifetime though busy: {statuses:?}");
    assert!(statuses.windows(2).all(|pair| pair[0] == StatusCode::OK || pair[1] == StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn sign_out_is_a_post_from_the_relays_own_pages_only() {
    let portal = portal().await;
    let browser = Browser::default();
    browser.sign_in(&portal.url, "alice", "/").await;
    let logout = portal.at("/auth/logout");
    assert_eq!(browser.get(&logout).await.status(), StatusCode::METHOD_NOT_ALLOWED);
    for origin in [Some("https://evil.example"), Some("http://localhost:1"), Some("null"), None] {
        let mut request = browser.client.post(&logout);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        let (status, body) = error_body(request.send().await.unwrap()).await;
        assert_eq!((status, body.code), (StatusCode::FORBIDDEN, ErrorCode::CrossSiteRequest), "{origin:?}");
    }
    let cross_site = browser
        .client
        .post(&logout)
        .header(header::ORIGIN, &portal.url)
        .header("Sec-Fetch-Site", "cross-site");
    assert_eq!(cross_site.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get(&portal.at("/api/me")).await.status(), StatusCode::OK, "still signed in");

    let cookie = browser.jar.cookies(&portal.url.parse().unwrap()).unwrap();
    let (signed_out, end_session, posted) = browser.sign_out(&portal.url).await;
    assert_eq!(signed_out.status(), StatusCode::OK);
    let page = signed_out.text().await.unwrap();
    assert!(page.contains("<h1>You are signed out</h1>"), "{page}");
    assert!(page.contains("href=\"/auth/login?return=/\""), "a Sign in button, not a silent sign-in: {page}");
    // The hint went in the form's body; the provider required it.
    let hint = posted.iter().find(|(name, _)| name == "id_token_hint").map(|(_, hint)| hint.clone());
    assert!(hint.as_deref().is_some_and(|hint| hint.starts_with("eyJ")), "{posted:?}");
    assert!(!end_session.contains("eyJ") && !end_session.contains("id_token_hint"), "{end_session}");
    let logs = portal.provider.logs();
    assert!(logs.contains("request POST /session/end"), "{logs}");
    assert!(!logs.contains("eyJ"), "no token in any URL the provider saw: {logs}");
    assert_eq!(browser.get(&portal.at("/api/me")).await.status(), StatusCode::UNAUTHORIZED);
    let replayed = reqwest::Client::new()
        .get(portal.at(PRODUCTION))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "the old cookie is dead on the server");
    // The provider's session is over too: signing in asks for the account.
    let authorization = browser.start_sign_in(&portal.url, "/").await;
    assert!(browser.provider_asks_for_login(&authorization).await, "not a one-click return");
    // Coming back without this browser's sign-out state says nothing of the kind.
    let forged = browser.get(&portal.at("/auth/signed-out?state=forged")).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(!forged.text().await.unwrap().contains("You are signed out"));
}

#[tokio::test]
async fn always_ask_makes_the_provider_ask_even_with_its_session_open() {
    let portal = portal_with(|config| config.sign_in.as_mut().unwrap().always_ask = true).await;
    let browser = Browser::default();
    let authorization = browser.start_sign_in(&portal.url, "/").await;
    assert_eq!(query_value(&authorization, "prompt").as_deref(), Some("login"));
    let callback = browser.log_in_at_provider(&authorization, "alice").await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::SEE_OTHER);
    let again = browser.start_sign_in(&portal.url, "/").await;
    assert!(browser.provider_asks_for_login(&again).await, "asked again though the provider knows alice");
    let ordinary = portal_with(|_| {}).await;
    let browser = Browser::default();
    browser.sign_in(&ordinary.url, "alice", "/").await;
    let authorization = browser.start_sign_in(&ordinary.url, "/").await;
    assert!(!browser.provider_asks_for_login(&authorization).await, "the control: a one-click return");
}

async fn with_token(token: &str, url: String) -> reqwest::Response {
    reqwest::Client::builder().no_proxy().build().unwrap().get(url).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn a_service_accounts_token_reaches_exactly_the_profiles_its_rules_name() {
    use support::oidc::{EXPORT_CLIENT, REPORTING_CLIENT};
    let portal = portal().await;
    // (client, profiles listed): by client id, and by the groups its tokens carry.
    // A token's role comes from the same rules as a person's.
    for (client, allowed, role) in
        [(EXPORT_CLIENT, "production", Role::Review), (REPORTING_CLIENT, "sandbox", Role::Read)]
    {
        let token = portal.provider.service_token(client, &portal.url).await;
        let listed: Vec<billing::ProfileSummary> =
            with_token(&token, portal.at("/api/profiles")).await.json().await.unwrap();
        let listed: Vec<_> = listed.iter().map(|profile| (profile.name.as_str(), profile.role)).collect();
        assert_eq!(listed, [(allowed, role)], "{client}");
        for (name, path) in [("production", PRODUCTION), ("sandbox", SANDBOX)] {
            let response = with_token(&token, portal.at(path)).await;
            assert!(response.headers().get(header::SET_COOKIE).is_none(), "a token makes no session");
            if name == allowed {
                assert_eq!(response.status(), StatusCode::OK, "{client} may use {name}");
                assert!(response.bytes().await.unwrap().len() > 1000);
            } else {
                let (status, body) = error_body(response).await;
                assert_eq!((status, body.code), (StatusCode::FORBIDDEN, ErrorCode::ProfileForbidden));
                assert!(body.detail.contains(client), "names the client: {}", body.detail);
            }
        }
    }
    let before = portal.vendor_calls.load(Ordering::SeqCst);
    let elsewhere = portal.provider.service_token(EXPORT_CLIENT, "https://reports.corp.example").await;
    for (what, token) in [("another audience", elsewhere.as_str()), ("no JWT", "not-a-token")] {
        let response = with_token(token, portal.at(PRODUCTION)).await;
        let challenge = response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer ") && challenge.contains("invalid_token"), "{challenge}");
        let (status, body) = error_body(response).await;
        assert_eq!((status, body.code), (StatusCode::UNAUTHORIZED, ErrorCode::TokenInvalid), "{what}");
    }
    let (_, body) = error_body(with_token(&elsewhere, portal.at(PRODUCTION)).await).await;
    assert!(body.detail.contains("another service (audience)"), "{}", body.detail);
    assert!(body.detail.contains(&portal.url), "says which audience it wants: {}", body.detail);
    assert_eq!(portal.vendor_calls.load(Ordering::SeqCst), before, "refused tokens never reach the vendor");
}

#[tokio::test]
async fn forged_access_tokens_are_refused_and_rotated_keys_are_fetched() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (url, _relay) = relay_trusting(&provider).await;
    let document = format!("{url}{PRODUCTION}");
    let status = |forgery: Forgery| {
        let token = provider.access_token(forgery, &url);
        let document = document.clone();
        async move { with_token(&token, document).await.status() }
    };
    assert_eq!(status(Forgery::None).await, StatusCode::OK, "the control case is admitted");
    for forgery in [
        Forgery::WrongIssuer,
        Forgery::WrongAudience,
        Forgery::Expired,
        Forgery::UnsignedAlgNone,
        Forgery::Hs256WithClientSecret,
        Forgery::UnknownKey,
        Forgery::ForeignKeyUnderPublishedId,
        Forgery::NotAnAccessToken,
        Forgery::NotYetValid,
    ] {
        assert_eq!(status(forgery).await, StatusCode::UNAUTHORIZED, "{forgery:?} must be refused");
    }
    // The unknown key above made the relay fetch the keys again just now;
    // it waits a little before the next fetch, so the rotation is seen then.
    provider.rotate_keys();
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(status(Forgery::None).await, StatusCode::OK, "a token signed with the new key");
    assert_eq!(status(Forgery::ForeignKeyUnderPublishedId).await, StatusCode::UNAUTHORIZED);
}

/// The relay in front of the hostile provider; returns the relay's public URL.
async fn relay_trusting(provider: &HostileProvider) -> (String, TestRelay) {
    relay_trusting_with(provider, |_| {}).await
}

/// [`relay_trusting`], with `adjust` applied to its configuration last.
async fn relay_trusting_with(
    provider: &HostileProvider,
    adjust: impl FnOnce(&mut RelayConfig),
) -> (String, TestRelay) {
    let vendor = vendor().await;
    let port = free_loopback_port();
    let url = format!("http://localhost:{port}");
    let relay = relay_with(vec![profile("production", Legacy, vendor.base_url(), KEY)], |config| {
        config.listen = SocketAddr::from(([127, 0, 0, 1], port));
        config.sign_in = Some(sign_in_config(&provider.issuer, &url));
        config.access = access_rules().into_iter().filter(|rule| rule.profile == "production").collect();
        adjust(config);
    })
    .await;
    std::mem::forget(vendor);
    (url, relay)
}

#[tokio::test]
async fn forged_id_tokens_are_refused() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (url, _relay) = relay_trusting(&provider).await;
    let attempt = |forgery: Forgery| {
        let url = url.clone();
        let provider = &provider;
        async move {
            let browser = Browser::default();
            let authorization = browser.start_sign_in(&url, "/").await;
            let nonce = query_value(&authorization, "nonce").expect("the relay sends a nonce");
            let state = query_value(&authorization, "state").expect("the relay sends a state");
            assert_eq!(query_value(&authorization, "code_challenge_method").as_deref(), Some("S256"));
            provider.forge_next(forgery, &nonce);
            let response = browser.get(&format!("{url}/auth/callback?code=any&state={state}")).await;
            let status = response.status();
            let me = browser.get(&format!("{url}/api/me")).await.status();
            (status, me)
        }
    };
    assert_eq!(
        attempt(Forgery::None).await,
        (StatusCode::SEE_OTHER, StatusCode::OK),
        "the control case signs in"
    );
    for forgery in [
        Forgery::WrongNonce,
        Forgery::WrongIssuer,
        Forgery::WrongAudience,
        Forgery::Expired,
        Forgery::UnsignedAlgNone,
        Forgery::Hs256WithClientSecret,
        Forgery::UnknownKey,
        Forgery::ForeignKeyUnderPublishedId,
    ] {
        assert_eq!(
            attempt(forgery).await,
            (StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED),
            "{forgery:?} must not sign in"
        );
    }
}

#[tokio::test]
async fn logout_tokens_are_checked_like_id_tokens_and_each_is_accepted_once() {
    use support::hostile_provider::LOGOUT_EVENT;
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (url, _relay) = relay_trusting(&provider).await;
    let signed_in = || signed_in_by(&provider, &url);
    let me = |browser: &Browser| {
        let me = format!("{url}/api/me");
        let client = browser.client.clone();
        async move { client.get(me).send().await.unwrap().status() }
    };
    let log_out = |token: Option<String>| {
        let endpoint = format!("{url}/auth/backchannel-logout");
        async move {
            let form: Vec<(&str, String)> = token.map(|token| ("logout_token", token)).into_iter().collect();
            let response = reqwest::Client::new().post(endpoint).form(&form).send().await.unwrap();
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let mallory = signed_in().await;
    assert_eq!(me(&mallory).await, StatusCode::OK);
    let edited = |edit: fn(&mut serde_json::Value)| provider.logout_token(Forgery::None, edit);
    let refused = [
        ("no token", None),
        ("not a JWT", Some("not-a-token".to_owned())),
        ("a wrong signature", Some(provider.logout_token(Forgery::ForeignKeyUnderPublishedId, |_| {}))),
        ("an unpublished key", Some(provider.logout_token(Forgery::UnknownKey, |_| {}))),
        ("alg none", Some(provider.logout_token(Forgery::UnsignedAlgNone, |_| {}))),
        ("HMAC with the client secret", Some(provider.logout_token(Forgery::Hs256WithClientSecret, |_| {}))),
        ("another issuer", Some(provider.logout_token(Forgery::WrongIssuer, |_| {}))),
        ("another audience", Some(provider.logout_token(Forgery::WrongAudience, |_| {}))),
        ("expired", Some(provider.logout_token(Forgery::Expired, |_| {}))),
        ("no events claim", Some(edited(|claims| drop(claims.as_object_mut().unwrap().remove("events"))))),
        (
            "another event",
            Some(edited(|claims| {
                claims["events"] = serde_json::json!({ "http://schemas.openid.net/event/other": {} })
            })),
        ),
        ("a nonce, as ID tokens carry", Some(edited(|claims| claims["nonce"] = serde_json::json!("n")))),
        ("neither sub nor sid", Some(edited(|claims| drop(claims.as_object_mut().unwrap().remove("sub"))))),
        ("no jti", Some(edited(|claims| drop(claims.as_object_mut().unwrap().remove("jti"))))),
        (
            "issued an hour ago",
            Some(edited(|claims| claims["iat"] = serde_json::json!(claims["iat"].as_i64().unwrap() - 3600))),
        ),
    ];
    for (what, token) in refused {
        let (status, body) = log_out(token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        let body: ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(body.code, ErrorCode::TokenInvalid, "{what}");
        assert_eq!(me(&mallory).await, StatusCode::OK, "{what} ended nothing");
    }
    let genuine =
        provider.logout_token(Forgery::None, |claims| assert!(claims["events"][LOGOUT_EVENT].is_object()));
    assert_eq!(log_out(Some(genuine.clone())).await.0, StatusCode::OK);
    assert_eq!(me(&mallory).await, StatusCode::UNAUTHORIZED, "the provider ended mallory's session");

    let again = signed_in().await;
    let (status, body) = log_out(Some(genuine)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a replay: {body}");
    assert!(body.contains("already used"), "{body}");
    assert_eq!(me(&again).await, StatusCode::OK, "the replay ended nothing");
    assert_eq!(log_out(Some(provider.logout_token(Forgery::None, |_| {}))).await.0, StatusCode::OK);
    assert_eq!(me(&again).await, StatusCode::UNAUTHORIZED, "a new token ends the new session");
}

/// A browser signed in to the relay at `url` by the hostile provider's
/// genuine ID token.
async fn signed_in_by(provider: &HostileProvider, url: &str) -> Browser {
    let browser = Browser::default();
    let authorization = browser.start_sign_in(url, "/").await;
    provider.forge_next(Forgery::None, &query_value(&authorization, "nonce").unwrap());
    let state = query_value(&authorization, "state").unwrap();
    let callback = browser.get(&format!("{url}/auth/callback?code=any&state={state}")).await;
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    browser
}

#[tokio::test]
async fn with_sign_in_and_metrics_on_the_description_lists_their_routes() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (url, _relay) = relay_trusting_with(&provider, |config| {
        config.metrics =
            Some(relay::MetricsConfig { listen: None, allowlist: vendor_sim::config::loopback() });
    })
    .await;
    let browser = signed_in_by(&provider, &url).await;
    let openapi: serde_json::Value =
        browser.client.get(format!("{url}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    for path in CONFIGURED_ONLY {
        assert!(paths.contains_key(path), "{path} is served, so listed");
    }
    let profiles = &paths["/api/profiles"]["get"]["responses"];
    assert!(profiles.get("401").is_some() && profiles.get("503").is_some(), "sign-in's refusals: {profiles}");
    assert_eq!(openapi["security"], serde_json::json!([{ "session": [] }, { "bearerToken": [] }]));
    let unknown = browser.get(&format!("{url}/auth/nothing-here")).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "an unknown sign-in path is not the app");
}

#[tokio::test]
async fn a_provider_without_end_session_gets_a_page_saying_its_session_may_still_be_open() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let (url, _relay) = relay_trusting(&provider).await;
    let browser = signed_in_by(&provider, &url).await;
    let me = || browser.client.get(format!("{url}/api/me")).send();
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);

    let response =
        browser.client.post(format!("{url}/auth/logout")).header(header::ORIGIN, &url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("may still be open"), "{page}");
    assert!(page.contains("sign out at the provider yourself"), "says how to close it: {page}");
    assert!(!page.contains("<form"), "nothing is posted to a provider that has no end-session endpoint");
    assert_eq!(me().await.unwrap().status(), StatusCode::UNAUTHORIZED, "the relay's session is ended");
}

#[tokio::test]
async fn on_https_the_cookie_is_secure_and_host_prefixed() {
    let provider = HostileProvider::start(support::oidc::CLIENT_ID, support::oidc::CLIENT_SECRET).await;
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("production", Legacy, vendor.base_url(), KEY)], |config| {
        config.sign_in = Some(sign_in_config(&provider.issuer, "https://billing.example"));
    })
    .await;
    let response = Browser::default().get(&relay.url("/auth/login?return=/")).await;
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-billing_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain: {cookie}");
    let redirect = location(&response);
    assert_eq!(
        query_value(&redirect, "redirect_uri").as_deref(),
        Some("https://billing.example/auth/callback"),
        "the provider sends the browser back to the public URL"
    );
}

#[tokio::test]
async fn a_relay_beyond_loopback_needs_sign_in_or_an_explicit_override() {
    let app_dir = tempfile::tempdir().unwrap();
    write_app(app_dir.path());
    let config = || RelayConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        allowlist: vendor_sim::config::loopback(),
        ..RelayConfig::defaults(app_dir.path().to_owned())
    };
    // Refused before anything is bound; the override is checked in the unit tests.
    let refused = relay::Application::build(config()).await.err().expect("refused without sign-in");
    assert!(refused.to_string().contains("without sign-in"), "{refused}");

    let typo = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        sign_in: Some(sign_in_config("http://127.0.0.1:9", "http://localhost:1")),
        access: vec![relay::AccessRule { profile: "prodution".into(), ..Default::default() }],
        ..RelayConfig::defaults(app_dir.path().to_owned())
    };
    let refused = relay::Application::build(typo).await.err().expect("a rule for no profile");
    assert!(refused.to_string().contains("`prodution`, which is not configured"), "{refused}");
    let rules_without_sign_in = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        access: access_rules(),
        ..RelayConfig::defaults(app_dir.path().to_owned())
    };
    let refused = relay::Application::build(rules_without_sign_in).await.err().expect("rules need sign-in");
    assert!(refused.to_string().contains("need [sign_in]"), "{refused}");
}

#[tokio::test]
async fn metrics_count_sign_ins_and_refusals_and_name_nobody() {
    let portal = portal_with(|config| {
        config.metrics =
            Some(relay::MetricsConfig { listen: None, allowlist: vendor_sim::config::loopback() });
    })
    .await;
    let metrics = portal.at("/metrics");
    let before = scrape(&metrics).await;
    for login in ["alice", "bob"] {
        Browser::default().sign_in(&portal.url, login, "/").await;
    }
    let bob = Browser::default();
    bob.sign_in(&portal.url, "bob", "/").await;
    assert_eq!(bob.get(&portal.at(PRODUCTION)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(Browser::default().get(&portal.at(PRODUCTION)).await.status(), StatusCode::UNAUTHORIZED);
    let forged = Browser::default().get(&portal.at("/auth/callback?code=forged&state=forged")).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert_eq!(with_token("not-a-token", portal.at(PRODUCTION)).await.status(), StatusCode::UNAUTHORIZED);
    let after = scrape(&metrics).await;
    let moved =
        |series: &str| after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0);
    assert_eq!(moved(r#"billing_relay_sign_ins_total{outcome="signed_in"}"#), 3.0);
    assert_eq!(moved(r#"billing_relay_sign_ins_total{outcome="failed"}"#), 1.0);
    for code in ["profile_forbidden", "sign_in_required", "token_invalid"] {
        assert_eq!(moved(&format!(r#"billing_relay_refusals_total{{code="{code}"}}"#)), 1.0, "{code}");
    }
    for person in ["alice", "bob", "corp.example", "@"] {
        assert!(!after.keys().any(|series| series.contains(person)), "{person} in a label: {after:#?}");
    }
}

/// The month-end export script exactly as the README gives it.
fn readme_script() -> String {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```sh\n#!/bin/sh\n# Month-end export").expect("the script in the README")
        + "```sh\n".len();
    let length = readme[start..].find("```").unwrap();
    readme[start..start + length].to_owned()
}

#[tokio::test]
async fn the_readmes_month_end_script_downloads_and_stops_with_the_providers_own_error() {
    let portal = portal().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("month-end.sh");
    std::fs::write(&script, readme_script()).unwrap();
    let run = |secret: &str| {
        let secret_file = dir.path().join("secret");
        std::fs::write(&secret_file, secret).unwrap();
        let mut command = tokio::process::Command::new("sh");
        command
            .arg(&script)
            .current_dir(dir.path())
            .env("PORTAL", &portal.url)
            .env("ISSUER", &portal.provider.issuer)
            .env("CLIENT_SECRET_FILE", &secret_file);
        async move {
            let output = command.output().await.expect("sh runs the script");
            (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
        }
    };
    let (succeeded, said) = run("not-the-secret").await;
    assert!(!succeeded, "a wrong secret stops the script");
    assert!(said.contains("the provider refused a token (401)") && said.contains("invalid_client"), "{said}");
    let downloaded = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|extension| extension == "json"))
            .count()
    };
    assert_eq!(downloaded(), 0, "nothing was fetched with a token it never got");
    assert_eq!(portal.vendor_calls.load(Ordering::SeqCst), 0);

    let (succeeded, said) = run(support::oidc::SERVICE_SECRET).await;
    assert!(succeeded, "{said}");
    assert_eq!(downloaded(), 2, "purchase and sales invoices");
    for entry in std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "json") {
            let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert!(document.is_object(), "{}", path.display());
        }
    }
}

/// A change through each decisions route, as `client` sends it (a signed-in
/// browser's cookie client, or a token's): the answer's status and code.
async fn change_each_decision(
    client: &reqwest::Client,
    portal: &Portal,
    profile: &str,
    token: Option<&str>,
) -> Vec<(&'static str, StatusCode, Option<ErrorCode>)> {
    use billing::api::decisions::{
        ItemId, LineIdentity, Mark, ReviewChange, ReviewStatus, Settings, SettingsChange, SignOffAction,
        SignOffChange, paths,
    };
    let month = "2026-06".parse().unwrap();
    let item = ItemId {
        kind: billing::exceptions::ExceptionKind::NotBilled,
        line: LineIdentity::RowHash("ab".into()),
    };
    let changes: [(&str, String, serde_json::Value); 4] = [
        (
            "settings",
            paths::settings(profile),
            serde_json::to_value(SettingsChange { base_version: 0, settings: Settings::default() }).unwrap(),
        ),
        (
            "review",
            paths::reviews(profile, month),
            serde_json::to_value(ReviewChange {
                item,
                base_version: 0,
                mark: Mark { status: ReviewStatus::Explained, note: "n".into() },
            })
            .unwrap(),
        ),
        (
            "sign-off",
            paths::sign_off(profile, month),
            serde_json::to_value(SignOffChange {
                endpoint: billing::Endpoint::Invoices,
                base_version: 0,
                action: SignOffAction::SignOff { documents: vec![999_999] },
            })
            .unwrap(),
        ),
        (
            "reopen",
            paths::sign_off(profile, month),
            serde_json::to_value(SignOffChange {
                endpoint: billing::Endpoint::Invoices,
                base_version: 0,
                action: SignOffAction::Reopen { reason: "r".into() },
            })
            .unwrap(),
        ),
    ];
    let mut answers = Vec::new();
    for (what, path, body) in changes {
        let mut request = client.put(portal.at(&path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let code = response.json::<ErrorBody>().await.ok().map(|body| body.code);
        answers.push((what, status, code));
    }
    answers
}

#[tokio::test]
async fn each_role_changes_only_what_it_allows_on_every_route_person_or_token() {
    use support::oidc::{EXPORT_CLIENT, REPORTING_CLIENT};
    let portal = portal().await;
    let forbidden = (StatusCode::FORBIDDEN, Some(ErrorCode::RoleForbidden));
    // bob reads sandbox: every change refused for his role.
    let bob = Browser::default();
    bob.sign_in(&portal.url, "bob", "/").await;
    for (what, status, code) in change_each_decision(&bob.client, &portal, "sandbox", None).await {
        assert_eq!((status, code), forbidden, "bob: {what}");
    }
    // Where he has no access at all it is that refusal, whatever the route.
    for (what, status, code) in change_each_decision(&bob.client, &portal, "production", None).await {
        assert_eq!((status, code), (StatusCode::FORBIDDEN, Some(ErrorCode::ProfileForbidden)), "bob: {what}");
    }
    let refused = bob
        .client
        .put(portal.at(&billing::api::decisions::paths::settings("sandbox")))
        .json(&serde_json::json!({ "base_version": 0, "settings": { "low_margin_percent": "5", "corrections": {} } }))
        .send()
        .await
        .unwrap();
    let (_, body) = error_body(refused).await;
    assert!(body.detail.contains("your role on profile sandbox is read"), "{}", body.detail);
    assert!(body.detail.contains("needs review"), "{}", body.detail);
    // frank reviews production: marks and settings, no sign-off (which
    // would otherwise be refused for its unknown document, 400).
    let frank = Browser::default();
    frank.sign_in(&portal.url, "frank", "/").await;
    let answers = change_each_decision(&frank.client, &portal, "production", None).await;
    assert_eq!(
        answers,
        [
            ("settings", StatusCode::OK, None),
            ("review", StatusCode::OK, None),
            ("sign-off", forbidden.0, forbidden.1),
            ("reopen", forbidden.0, forbidden.1),
        ]
    );
    // alice approves production: past the role check, to the sign-off's own checks.
    let alice = Browser::default();
    alice.sign_in(&portal.url, "alice", "/").await;
    let answers = change_each_decision(&alice.client, &portal, "production", None).await;
    let conflict = (StatusCode::CONFLICT, Some(ErrorCode::DecisionConflict));
    assert_eq!(answers[0..2], [("settings", conflict.0, conflict.1), ("review", conflict.0, conflict.1)]);
    assert_eq!(answers[2], ("sign-off", StatusCode::BAD_REQUEST, Some(ErrorCode::BadParameter)));
    assert_eq!(answers[3], ("reopen", StatusCode::BAD_REQUEST, Some(ErrorCode::BadParameter)));
    // Tokens get their roles from the same rules.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let reporting = portal.provider.service_token(REPORTING_CLIENT, &portal.url).await;
    for (what, status, code) in change_each_decision(&plain, &portal, "sandbox", Some(&reporting)).await {
        assert_eq!((status, code), forbidden, "{REPORTING_CLIENT}: {what}");
    }
    let export = portal.provider.service_token(EXPORT_CLIENT, &portal.url).await;
    let answers = change_each_decision(&plain, &portal, "production", Some(&export)).await;
    assert_eq!(answers[2..], [("sign-off", forbidden.0, forbidden.1), ("reopen", forbidden.0, forbidden.1)]);
    // A script with a token reads the month's decisions: frank's mark is there.
    let month = billing::api::decisions::paths::reviews("production", "2026-06".parse().unwrap());
    let read = with_token(&reporting, portal.at(&month)).await;
    assert_eq!(read.status(), StatusCode::FORBIDDEN, "not reporting's profile");
    let read: billing::api::decisions::MonthDecisions =
        with_token(&export, portal.at(&month)).await.json().await.unwrap();
    assert_eq!(
        read.reviews.iter().map(|review| review.changed.by.as_str()).collect::<Vec<_>>(),
        ["frank@corp.example"]
    );
    assert_eq!(portal.vendor_calls.load(Ordering::SeqCst), 0, "no decision reaches the vendor");
}
