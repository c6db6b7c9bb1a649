//! The relay over real loopback HTTP in front of the real emulator:
//! admission, the document route and its refusals, streaming, vendor error
//! mapping, rate limiting, concurrency and what it serves besides.

mod support;

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use billing::Generation::{Current, Legacy};
use futures_util::future::join_all;
use reqwest::{StatusCode, header};
use support::*;
use vendor_sim::ApiKey;

#[tokio::test]
async fn profiles_describe_each_profile_without_key_or_url() {
    let vendor = vendor().await;
    let profiles = vec![
        profile("legacy", Legacy, vendor.base_url(), KEY),
        profile("current", Current, vendor.base_url(), KEY),
    ];
    let relay = relay_with(profiles, |_| {}).await;
    let body = reqwest::get(relay.url("/api/profiles")).await.unwrap().text().await.unwrap();
    let profiles: Vec<billing::ProfileSummary> = serde_json::from_str(&body).unwrap();
    let names: Vec<_> = profiles.iter().map(|profile| (profile.name.as_str(), profile.generation)).collect();
    assert_eq!(names, [("legacy", Legacy), ("current", Current)]);
    assert_eq!(profiles[1].versions, ["v1"]);
    // Without sign-in the one local person has every role.
    assert!(profiles.iter().all(|profile| profile.role == billing::Role::Approve), "{body}");
    assert!(!body.contains(KEY) && !body.contains(&vendor.base_url()), "{body}");
}

#[tokio::test]
async fn a_document_streams_through_byte_identical_to_the_vendors() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let through =
        reqwest::get(relay.url(&format!("/api/documents/p/v3/invoices?{WINDOW}&format=json"))).await.unwrap();
    assert_eq!(through.status(), StatusCode::OK);
    assert!(through.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    assert_eq!(through.headers()[header::CACHE_CONTROL], "no-store");
    assert!(through.headers().get(header::CONTENT_DISPOSITION).is_none(), "only download=1 asks for a file");
    let through = through.bytes().await.unwrap();
    let direct = reqwest::Client::new()
        .get(format!("{}/v3/invoices?startDate=20260601&endDate=20260930", vendor.base_url()))
        .header("X-Api-Key", KEY)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(through, direct);
    assert!(!billing::json::parse_invoices(&through).unwrap().invoices.is_empty());
}

#[tokio::test]
async fn download_names_the_file_and_a_known_length_is_passed_on() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let response =
        reqwest::get(relay.url("/api/documents/p/v3/invoices?start=2026-01-01&end=2026-03-31&download=1"))
            .await
            .unwrap();
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"invoices_v3_2026-01-01_2026-03-31.xml\""
    );
    let invoices = billing::xml::parse_invoices(&response.bytes().await.unwrap()).unwrap();
    let id = match &invoices.invoices[0].customers[0].subscriptions[0].subscription_id {
        Some(billing::scalars::Id::Number(id)) => *id,
        other => panic!("{other:?}"),
    };
    let url = relay
        .url(&format!("/api/documents/p/v3/subscriptiondetails?subscription={id}&format=json&download=1"));
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"subscriptiondetails_v3_{id}.json\"").as_str()
    );
    let length = response.content_length().expect("the vendor's Content-Length is passed on");
    let details = response.bytes().await.unwrap();
    assert_eq!(details.len() as u64, length);

    // The id goes on as typed: the vendor reads `00…` as the same number,
    // and the file keeps the zeros the person typed.
    let padded = format!("00{id}");
    let response = reqwest::get(relay.url(&format!(
        "/api/documents/p/v3/subscriptiondetails?subscription={padded}&format=json&download=1"
    )))
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"subscriptiondetails_v3_{padded}.json\"").as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), details);

    let response =
        reqwest::get(relay.url("/api/documents/p/v3/subscriptiondetails?subscription=0001")).await.unwrap();
    let (status, error, detail) = error_of(response).await;
    assert_eq!((status, error.as_str()), (StatusCode::NOT_FOUND, "unknown subscription"));
    assert!(
        detail.contains("no subscription `0001` for profile p") && detail.contains("check the id"),
        "{detail}"
    );
}

#[tokio::test]
async fn clients_outside_the_allowlist_are_refused_with_their_address() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.allowlist = vec!["203.0.113.0/24".parse().unwrap()];
    })
    .await;
    for path in ["/", "/api/profiles", "/api/documents/p/v3/invoices"] {
        // A client that is not behind a trusted proxy cannot claim an address.
        let response = reqwest::Client::new()
            .get(relay.url(path))
            .header("X-Forwarded-For", "203.0.113.5")
            .send()
            .await
            .unwrap();
        let (status, error, detail) = error_of(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error, "this address is not on the relay's allowlist");
        assert!(detail.contains("saw your address as 127.0.0.1"), "{detail}");
    }
    assert_eq!(
        reqwest::get(relay.url("/healthz")).await.unwrap().status(),
        StatusCode::OK,
        "health is for everyone"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.allowlist = vec!["198.51.100.0/24".parse().unwrap()];
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let with_forwarded = |value: &'static str| {
        reqwest::Client::new().get(relay.url("/api/profiles")).header("X-Forwarded-For", value).send()
    };
    let admitted = with_forwarded("203.0.113.5, 198.51.100.9, 10.0.0.7").await.unwrap();
    assert_eq!(admitted.status(), StatusCode::OK, "the spoofed leftmost hop is not the client");
    let mapped = with_forwarded("::ffff:198.51.100.9").await.unwrap();
    assert_eq!(mapped.status(), StatusCode::OK, "an IPv4-mapped address is its IPv4 address");
    let (status, _, detail) = error_of(with_forwarded("198.51.100.9, 203.0.113.5").await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(detail.contains("203.0.113.5"), "{detail}");
    let (status, _, detail) = error_of(with_forwarded("198.51.100.9, not-an-address").await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(detail.contains("could not read"), "{detail}");
}

/// A stand-in vendor that only counts who reaches it.
fn counting_vendor() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(connection);
        }
    });
    (url, reached)
}

#[tokio::test]
async fn path_and_parameter_attacks_are_refused_without_reaching_the_vendor() {
    let (vendor_url, reached) = counting_vendor();
    let relay = relay_with(vec![profile("p", Legacy, vendor_url, KEY)], |_| {}).await;
    let long = "9".repeat(300);
    let attacks: Vec<(String, StatusCode)> = vec![
        ("/api/documents/p/v3/..%2F..%2Fadmin".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/v3/invoices%2F..%2F..%2Fsecret".into(), StatusCode::NOT_FOUND),
        ("/api/documents/..%2Fp/v3/invoices".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/%2e%2e/invoices".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/v3/http:%2F%2Fevil.example%2Finvoices".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/v3/invoices/extra".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/v9/invoices".into(), StatusCode::NOT_FOUND),
        ("/api/documents/p/v3/customer-specifications".into(), StatusCode::NOT_FOUND),
        (
            "/api/documents/p/v3/invoices?start=2026-01-01%0D%0AX-Injected:%201".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/documents/p/v3/invoices?start=http://evil.example/".into(), StatusCode::BAD_REQUEST),
        (format!("/api/documents/p/v3/invoices?start={long}"), StatusCode::BAD_REQUEST),
        ("/api/documents/p/v3/invoices?format=xml&format=json".into(), StatusCode::BAD_REQUEST),
        ("/api/documents/p/v3/invoices?format=xml%00".into(), StatusCode::BAD_REQUEST),
        ("/api/documents/p/v3/invoices?endDate=20260101".into(), StatusCode::BAD_REQUEST),
        ("/api/documents/p/v3/invoices?subscription=1".into(), StatusCode::BAD_REQUEST),
        (
            "/api/documents/p/v3/subscriptiondetails?subscription=1%26startDate%3D1".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/documents/p/v3/invoices?start=2026-02-30".into(), StatusCode::BAD_REQUEST),
        ("/api/documents/p/v3/invoices?start=2026-03-01&end=2026-02-01".into(), StatusCode::BAD_REQUEST),
    ];
    for (path, expected) in &attacks {
        let response = reqwest::get(relay.url(path)).await.unwrap();
        let (status, error, detail) = error_of(response).await;
        assert_eq!(status, *expected, "{path}: {error}: {detail}");
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0, "no attack reached the vendor");
}

#[tokio::test]
async fn bad_and_reversed_dates_say_which() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let cases = [
        ("start=2026-1-5", "start must be a date written YYYY-MM-DD, not `2026-1-5`"),
        ("end=20260105", "end must be a date written YYYY-MM-DD, not `20260105`"),
        ("start=2026-03-01&end=2026-02-01", "start 2026-03-01 is after end 2026-02-01"),
    ];
    for (query, expected) in cases {
        let response =
            reqwest::get(relay.url(&format!("/api/documents/p/v3/invoices?{query}"))).await.unwrap();
        let (status, error, detail) = error_of(response).await;
        assert_eq!(
            (status, error.as_str(), detail.as_str()),
            (StatusCode::BAD_REQUEST, "bad request parameter", expected)
        );
    }
    let (status, _, detail) =
        error_of(reqwest::get(relay.url("/api/documents/nobody/v3/invoices")).await.unwrap()).await;
    assert_eq!((status, detail.as_str()), (StatusCode::NOT_FOUND, "the relay has no profile named `nobody`"));
}

async fn vendor_error(
    key: ApiKey,
    relay_key: &str,
    adjust: impl FnOnce(&mut relay::RelayConfig),
) -> (StatusCode, String, String) {
    let vendor = vendor_with(vec![key]).await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), relay_key)], adjust).await;
    error_of(reqwest::get(relay.url(&format!("/api/documents/p/v3/invoices?{WINDOW}"))).await.unwrap()).await
}

#[tokio::test]
async fn vendor_errors_become_errors_a_person_can_act_on() {
    let key = || ApiKey::new("relay", KEY.to_owned().into());
    let (status, error, detail) = vendor_error(key(), "a-revoked-key", |_| {}).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_GATEWAY, "the vendor rejected the API key"));
    assert!(detail.contains("profile p's API key") && detail.contains("expired or been revoked"), "{detail}");

    let elsewhere = ApiKey { whitelist: vec!["192.0.2.0/24".parse().unwrap()], ..key() };
    let (status, error, detail) = vendor_error(elsewhere, KEY, |_| {}).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_GATEWAY, "the vendor refused the relay"));
    assert!(detail.contains("not on the key's whitelist"), "{detail}");

    let failing = ApiKey { faults: vec!["status500".parse().unwrap()], ..key() };
    let (status, error, detail) = vendor_error(failing, KEY, |_| {}).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_GATEWAY, "the vendor failed"));
    assert!(
        detail.contains("500 Internal Server Error") && detail.contains("internal server error"),
        "{detail}"
    );

    let html = ApiKey { faults: vec!["html200".parse().unwrap()], ..key() };
    let (status, error, detail) = vendor_error(html, KEY, |_| {}).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_GATEWAY, "the vendor answered in the wrong format")
    );
    assert_eq!(detail, "the vendor answered 200 OK with text/html; charset=utf-8 instead of XML");

    let slow = ApiKey { faults: vec!["latency=3000".parse().unwrap()], ..key() };
    let (status, error, detail) =
        vendor_error(slow, KEY, |config| config.timeouts.response = Duration::from_millis(300)).await;
    assert_eq!((status, error.as_str()), (StatusCode::GATEWAY_TIMEOUT, "the vendor is too slow"));
    assert!(detail.contains("within 0.3 s"), "{detail}");

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let relay = relay_with(vec![profile("p", Legacy, closed_url, KEY)], |_| {}).await;
    let (status, error, _) =
        error_of(reqwest::get(relay.url("/api/documents/p/v3/invoices")).await.unwrap()).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_GATEWAY, "the vendor cannot be reached"));
}

#[tokio::test]
async fn a_vendor_that_breaks_off_or_stalls_mid_body_ends_the_clients_body_in_an_error() {
    let dropping =
        ApiKey { faults: vec!["drop".parse().unwrap()], ..ApiKey::new("relay", KEY.to_owned().into()) };
    let stalling = ApiKey {
        faults: vec!["drip=100000:2000".parse().unwrap()],
        ..ApiKey::new("stall", "stalling-key".to_owned().into())
    };
    let vendor = vendor_with(vec![dropping, stalling]).await;
    let profiles = vec![
        profile("dropping", Legacy, vendor.base_url(), KEY),
        profile("stalling", Legacy, vendor.base_url(), "stalling-key"),
    ];
    let relay = relay_with(profiles, |config| config.timeouts.idle = Duration::from_millis(500)).await;
    for name in ["dropping", "stalling"] {
        let response = reqwest::get(
            relay.url(&format!("/api/documents/{name}/v3/invoices?start=2025-01-01&end=2026-09-30")),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}: the break comes after the headers");
        assert!(response.bytes().await.is_err(), "{name}: a truncated file must not end cleanly");
    }
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_when_to_come_back() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.rate_limit = relay::RateLimit { per_minute: 6, burst: 3 };
    })
    .await;
    let document = relay.url(&format!("/api/documents/p/v3/invoices?{WINDOW}"));
    for _ in 0..3 {
        assert_eq!(reqwest::get(document.clone()).await.unwrap().status(), StatusCode::OK);
    }
    // The relay's own records are not rationed: the page reads them after each fetch.
    for _ in 0..10 {
        assert_eq!(reqwest::get(relay.url("/api/profiles")).await.unwrap().status(), StatusCode::OK);
    }
    let response = reqwest::get(document).await.unwrap();
    let retry_after: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let (status, error, _) = error_of(response).await;
    assert_eq!((status, error.as_str()), (StatusCode::TOO_MANY_REQUESTS, "too many requests"));
}

#[tokio::test]
async fn fifty_concurrent_downloads_are_byte_identical_to_direct_ones() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let client = reqwest::Client::new();
    let windows: Vec<(String, String)> = (0..50)
        .map(|index| (format!("2025-{:02}-01", 1 + index % 12), format!("2026-{:02}-28", 1 + index % 9)))
        .collect();
    let through = join_all(windows.iter().map(|(start, end)| {
        let url = relay.url(&format!("/api/documents/p/v3/customerinvoices?start={start}&end={end}"));
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().bytes().await.unwrap() }
    }))
    .await;
    for ((start, end), through) in windows.iter().zip(through) {
        let direct = client
            .get(format!(
                "{}/v3/customerinvoices?startDate={}&endDate={}",
                vendor.base_url(),
                start.replace('-', ""),
                end.replace('-', "")
            ))
            .header("X-Api-Key", KEY)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(!direct.is_empty());
        assert_eq!(through, direct, "{start}..{end}");
    }
}

#[tokio::test]
async fn the_apps_files_go_precompressed_as_built_and_hashed_ones_are_kept_a_year() {
    let app = tempfile::tempdir().unwrap();
    write_app(app.path());
    let script = "console.log('billing portal');\n".repeat(200);
    std::fs::write(app.path().join("app-0123456789abcdef.js"), &script).unwrap();
    // The relay sends what the build wrote, as it is.
    let (brotli, gzip) = (b"brotli as built".to_vec(), b"gzip as built".to_vec());
    std::fs::write(app.path().join("app-0123456789abcdef.js.br"), &brotli).unwrap();
    std::fs::write(app.path().join("app-0123456789abcdef.js.gz"), &gzip).unwrap();
    let relay = relay_with(Vec::new(), |config| config.app_dir = app.path().to_owned()).await;
    let client = reqwest::Client::new();
    let get = |path: &str, encodings: &str| {
        let request = client.get(relay.url(path));
        let request =
            if encodings.is_empty() { request } else { request.header(header::ACCEPT_ENCODING, encodings) };
        async move { request.send().await.unwrap() }
    };
    for (encodings, expected_encoding, expected) in [
        ("br, gzip", Some("br"), &brotli),
        ("gzip", Some("gzip"), &gzip),
        ("", None, &script.clone().into_bytes()),
    ] {
        let response = get("/app-0123456789abcdef.js", encodings).await;
        assert_eq!(response.status(), StatusCode::OK);
        let encoding =
            response.headers().get(header::CONTENT_ENCODING).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(encoding.as_deref(), expected_encoding, "asking for `{encodings}`");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(response.bytes().await.unwrap().to_vec(), *expected, "asking for `{encodings}`");
    }
    let page = get("/", "br").await;
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache", "the page is asked about each time");
    assert_eq!(page.headers()[header::CONTENT_ENCODING], "br", "compressed per answer when not built so");
    let gone = get("/app-fedcba9876543210.js", "").await;
    assert_eq!(
        gone.headers()[header::CACHE_CONTROL],
        "no-cache",
        "an old hashed name falls back to the page, not kept"
    );
}

#[tokio::test]
async fn the_app_is_served_with_security_headers_and_health_readiness_and_openapi() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    for path in ["/", "/deep/link"] {
        let response = reqwest::get(relay.url(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{policy}");
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"),
            "{policy}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(response.text().await.unwrap(), INDEX);
    }
    let (status, error, detail) = error_of(reqwest::get(relay.url("/api/nothing")).await.unwrap()).await;
    assert_eq!(
        (status, error.as_str(), detail.as_str()),
        (StatusCode::NOT_FOUND, "no such API route", "the relay has no API at /api/nothing")
    );
    assert_eq!(reqwest::get(relay.url("/healthz")).await.unwrap().status(), StatusCode::OK);
    let ready: serde_json::Value = reqwest::get(relay.url("/readyz")).await.unwrap().json().await.unwrap();
    assert_eq!(ready["ready"], true);
}

/// Fills a documented path's parameters with their examples (or first
/// allowed value), as a generated client would.
fn request_from(path: &str, operation: &serde_json::Value, profile: &str) -> (String, Vec<String>) {
    let mut url = path.replace("{profile}", profile);
    let mut query = Vec::new();
    let mut names = Vec::new();
    for parameter in operation["parameters"].as_array().unwrap() {
        let name = parameter["name"].as_str().unwrap();
        let schema = &parameter["schema"];
        let value = schema["examples"][0]
            .as_str()
            .or(schema["enum"].as_array().and_then(|values| values.last()?.as_str()));
        match (parameter["in"].as_str().unwrap(), value) {
            ("path", Some(value)) => url = url.replace(&format!("{{{name}}}"), value),
            ("query", Some(value)) if name != "format" => query.push(format!("{name}={value}")),
            _ => {}
        }
        if parameter["in"] == "query" {
            names.push(name.to_owned());
        }
    }
    (format!("{url}?{}", query.join("&")), names)
}

#[tokio::test]
async fn the_openapi_description_matches_what_the_relay_accepts_and_answers() {
    let vendor = vendor().await;
    let profiles = vec![
        profile("legacy", Legacy, vendor.base_url(), KEY),
        profile("current", Current, vendor.base_url(), KEY),
    ];
    let relay = relay_with(profiles, |_| {}).await;
    let openapi: serde_json::Value =
        reqwest::get(relay.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    let bearer = &openapi["components"]["securitySchemes"]["bearerToken"];
    assert_eq!((bearer["scheme"].as_str(), bearer["bearerFormat"].as_str()), (Some("bearer"), Some("JWT")));
    let codes: Vec<&str> = billing::api::ErrorCode::ALL.iter().map(|code| code.name()).collect();
    let paths = openapi["paths"].as_object().unwrap();
    let operations = paths.iter().filter(|(path, _)| path.starts_with("/api/")).flat_map(|(path, item)| {
        ["get", "put"].into_iter().filter_map(move |method| Some((path, method, item.get(method)?)))
    });
    for (path, method, operation) in operations {
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}"));
        for status in ["200", "403", "421"] {
            assert!(responses.contains_key(status), "{method} {path} leaves out {status}");
        }
        // Only what reaches the vendor is rationed.
        assert_eq!(responses.contains_key("429"), path.starts_with("/api/documents/"), "{method} {path}");
        assert!(!responses.contains_key("401"), "{path}: without sign-in there is no 401");
        if let Some(unavailable) = responses.get("503") {
            let named =
                &unavailable["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"];
            let own = if path.starts_with("/api/profiles/") {
                "decisions_unavailable"
            } else if path.starts_with("/api/runs") {
                "runs_unavailable"
            } else {
                "archive_unavailable"
            };
            assert_eq!(named["enum"], serde_json::json!([own]), "{path}: without sign-in");
        }
        for response in responses.values() {
            let named =
                &response["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"];
            for code in named.as_array().into_iter().flatten() {
                assert!(codes.contains(&code.as_str().unwrap()), "{path}: unknown code {code}");
            }
        }
    }
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(key, _)| *key != "parameters") {
            assert!(
                operation["responses"].get("421").is_some(),
                "{method} {path} leaves out 421 host_not_allowed"
            );
        }
    }
    for (path, item) in paths.iter().filter(|(path, _)| path.starts_with("/api/profiles/")) {
        let url = relay.url(&path.replace("{profile}", "legacy").replace("{month}", "2026-09"));
        if item.get("get").is_some() {
            assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::OK, "GET {path}");
        }
        if item.get("put").is_some() {
            let empty = reqwest::Client::new().put(&url).json(&serde_json::json!({})).send().await.unwrap();
            assert_eq!(
                empty.status(),
                StatusCode::BAD_REQUEST,
                "PUT {path} is served and refuses an empty change"
            );
        }
    }
    let documents: Vec<(&String, &serde_json::Value)> =
        paths.iter().filter(|(path, _)| path.starts_with("/api/documents/")).collect();
    assert_eq!(documents.len(), billing::Endpoint::ALL.len(), "one path per endpoint");
    let every_query: std::collections::BTreeSet<String> =
        documents.iter().flat_map(|(path, item)| request_from(path, &item["get"], "legacy").1).collect();
    for (path, item) in documents {
        let endpoint = billing::Endpoint::from_path(path.rsplit('/').next().unwrap()).unwrap();
        let profile = if Legacy.endpoints().contains(&endpoint) { "legacy" } else { "current" };
        let (url, taken) = request_from(path, &item["get"], profile);
        let answer = reqwest::get(relay.url(&url)).await.unwrap();
        let status = answer.status();
        if endpoint == billing::Endpoint::SubscriptionDetails {
            // The emulator knows no subscription 1234567; what matters is that the relay forwarded it.
            assert_ne!(status, StatusCode::BAD_REQUEST, "{url}: {}", answer.text().await.unwrap());
        } else {
            assert_eq!(status, StatusCode::OK, "{url}: {}", answer.text().await.unwrap());
        }
        for other in every_query.iter().filter(|name| !taken.contains(name)) {
            let value = if other == "subscription" { "1234567" } else { "2026-06-01" };
            let refused = reqwest::get(relay.url(&format!("{url}&{other}={value}"))).await.unwrap();
            assert_eq!(
                refused.status(),
                StatusCode::BAD_REQUEST,
                "{path} does not document {other}, so it is refused"
            );
        }
    }
}

#[tokio::test]
async fn the_description_lists_what_is_configured_and_the_rest_is_404_json_never_the_app() {
    let vendor = vendor().await;
    let description = |relay: &TestRelay| {
        let url = relay.url("/api/openapi.json");
        async move { reqwest::get(url).await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let plain =
        relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| config.metrics = None).await;
    let paths = description(&plain).await["paths"].as_object().unwrap().clone();
    for path in CONFIGURED_ONLY {
        assert!(!paths.contains_key(path), "{path} is listed but not served");
    }
    let start = &paths["/api/documents/{profile}/{version}/invoices"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "start")
        .unwrap()["description"];
    assert!(start.as_str().unwrap().contains("not after end"), "the rule a schema cannot say: {start}");
    for (method, path) in [
        ("GET", "/auth/login"),
        ("GET", "/auth/callback?code=x&state=y"),
        ("POST", "/auth/logout"),
        ("GET", "/auth/signed-out"),
        ("POST", "/auth/backchannel-logout"),
        ("GET", "/auth/anything/else"),
        ("GET", "/metrics"),
    ] {
        let response =
            reqwest::Client::new().request(method.parse().unwrap(), plain.url(path)).send().await.unwrap();
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let (status, error, _) = error_of(response).await;
        assert_eq!((status, error.as_str()), (StatusCode::NOT_FOUND, "no such API route"), "{method} {path}");
        assert_eq!(content_type, "application/json", "{method} {path} is not the app's page");
    }
}

#[tokio::test]
async fn readiness_fails_while_a_vendor_host_does_not_resolve() {
    let relay =
        relay_with(vec![profile("lost", Legacy, "http://vendor.invalid".to_owned(), KEY)], |_| {}).await;
    let response = reqwest::get(relay.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["unresolved_profiles"][0], "lost");
}

#[tokio::test]
async fn an_app_dir_without_index_is_refused_at_build() {
    let empty = tempfile::tempdir().unwrap();
    let config = relay::RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..relay::RelayConfig::defaults(empty.path().to_owned())
    };
    let message = relay::Application::build(config).await.err().expect("build must fail").to_string();
    assert!(message.contains("has no index.html"), "{message}");
    assert!(message.contains(&empty.path().display().to_string()), "{message}");
}

#[tokio::test]
async fn metrics_count_documents_vendor_errors_and_refusals_on_their_own_address() {
    let failing = ApiKey {
        faults: vec!["status500".parse().unwrap()],
        ..ApiKey::new("failing", "failing-key".to_owned().into())
    };
    let dropping = ApiKey {
        faults: vec!["drop".parse().unwrap()],
        ..ApiKey::new("dropping", "dropping-key".to_owned().into())
    };
    let vendor = vendor_with(vec![ApiKey::new("relay", KEY.to_owned().into()), failing, dropping]).await;
    let profiles = vec![
        profile("main", Legacy, vendor.base_url(), KEY),
        profile("revoked", Legacy, vendor.base_url(), "revoked-key"),
        profile("failing", Legacy, vendor.base_url(), "failing-key"),
        profile("dropping", Legacy, vendor.base_url(), "dropping-key"),
    ];
    let relay = relay_with(profiles, |config| {
        config.rate_limit = relay::RateLimit { per_minute: 1, burst: 12 };
        config.metrics = Some(relay::MetricsConfig {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            allowlist: vendor_sim::config::loopback(),
        });
    })
    .await;
    let metrics =
        format!("{}/metrics", relay.metrics_url.as_deref().expect("metrics have their own address"));
    let before = scrape(&metrics).await;
    let get = |path: String| {
        let url = relay.url(&path);
        async move { reqwest::get(url).await.unwrap() }
    };
    // The profile's series are held after its first document: a second
    // is counted on them, and another endpoint's on its own.
    let mut bytes = 0.0;
    for _ in 0..2 {
        let document = get(format!("/api/documents/main/v3/invoices?{WINDOW}")).await;
        assert_eq!(document.status(), StatusCode::OK);
        bytes += document.bytes().await.unwrap().len() as f64;
    }
    let customer_invoices = get(format!("/api/documents/main/v3/customerinvoices?{WINDOW}")).await;
    assert_eq!(customer_invoices.status(), StatusCode::OK);
    let customer_bytes = customer_invoices.bytes().await.unwrap().len() as f64;
    for name in ["revoked", "failing"] {
        assert_eq!(
            get(format!("/api/documents/{name}/v3/invoices?{WINDOW}")).await.status(),
            StatusCode::BAD_GATEWAY
        );
    }
    let broken = get("/api/documents/dropping/v3/invoices?start=2025-01-01&end=2026-09-30".to_owned()).await;
    assert!(broken.bytes().await.is_err());
    assert_eq!(get("/api/documents/nobody/v3/invoices".to_owned()).await.status(), StatusCode::NOT_FOUND);
    let mut limited = 0;
    for _ in 0..12 {
        if get("/api/documents/nobody/v3/invoices".to_owned()).await.status() == StatusCode::TOO_MANY_REQUESTS
        {
            limited += 1;
        }
    }
    assert!(limited > 0, "the burst of 12 is spent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = scrape(&metrics).await;
    let moved = |series: &str| {
        after.get(series).copied().unwrap_or_else(|| panic!("no {series} in {after:#?}"))
            - before.get(series).copied().unwrap_or(0.0)
    };
    let documents = "/api/documents";
    assert_eq!(
        moved(&format!(
            r#"billing_relay_http_requests_total{{method="GET",route="{documents}",status="200"}}"#
        )),
        4.0,
        "main's three and dropping"
    );
    assert_eq!(
        moved(&format!(
            r#"billing_relay_http_requests_total{{method="GET",route="{documents}",status="502"}}"#
        )),
        2.0
    );
    assert_eq!(
        moved(&format!(
            r#"billing_relay_http_requests_total{{method="GET",route="{documents}",status="404"}}"#
        )),
        f64::from(1 + 12 - limited)
    );
    assert_eq!(moved(r#"billing_relay_document_bytes_total{endpoint="invoices",profile="main"}"#), bytes);
    assert_eq!(
        moved(r#"billing_relay_document_bytes_total{endpoint="customerinvoices",profile="main"}"#),
        customer_bytes
    );
    assert_eq!(
        moved(r#"billing_relay_documents_total{endpoint="invoices",outcome="complete",profile="main"}"#),
        2.0
    );
    assert_eq!(
        moved(
            r#"billing_relay_documents_total{endpoint="customerinvoices",outcome="complete",profile="main"}"#
        ),
        1.0
    );
    assert_eq!(
        moved(r#"billing_relay_documents_total{endpoint="invoices",outcome="failed",profile="revoked"}"#),
        1.0
    );
    assert_eq!(
        moved(
            r#"billing_relay_documents_total{endpoint="invoices",outcome="broken_by_vendor",profile="dropping"}"#
        ),
        1.0
    );
    assert_eq!(moved(r#"billing_relay_vendor_errors_total{kind="rejected_key",profile="revoked"}"#), 1.0);
    assert_eq!(moved(r#"billing_relay_vendor_errors_total{kind="failed",profile="failing"}"#), 1.0);
    assert_eq!(
        moved(r#"billing_relay_vendor_errors_total{kind="broke_off_mid_document",profile="dropping"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"billing_relay_vendor_response_seconds_count{endpoint="invoices",profile="main"}"#),
        2.0
    );
    assert_eq!(
        moved(r#"billing_relay_document_duration_seconds_count{endpoint="invoices",profile="main"}"#),
        2.0
    );
    assert_eq!(moved(r#"billing_relay_refusals_total{code="rate_limited"}"#), f64::from(limited));
    assert_eq!(after["billing_relay_transfers_in_progress{}"], 0.0, "every transfer ended");
    assert!(
        !after
            .keys()
            .any(|series| series.contains("nobody") || series.contains("127.0.0.1") || series.contains(KEY)),
        "no path, address or key in a label"
    );
    let elsewhere = get("/metrics".to_owned()).await;
    assert_eq!(
        (elsewhere.status(), elsewhere.headers()[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::NOT_FOUND, "application/json"),
        "the relay's own address has no metrics, and says so rather than serve the app"
    );
    assert!(
        !get("/metrics".to_owned()).await.text().await.unwrap().contains("billing_relay_"),
        "the metrics are only on their own address"
    );
}

#[tokio::test]
async fn metrics_on_the_relays_address_answer_only_their_allowlist() {
    let vendor = vendor().await;
    let scraper_elsewhere = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.metrics =
            Some(relay::MetricsConfig { listen: None, allowlist: vec!["192.0.2.0/24".parse().unwrap()] });
    })
    .await;
    let (status, error, detail) =
        error_of(reqwest::get(scraper_elsewhere.url("/metrics")).await.unwrap()).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::FORBIDDEN, "this address is not on the relay's allowlist")
    );
    assert!(detail.contains("127.0.0.1"), "{detail}");
    let local = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        // The relay's own allowlist admits nobody; the scraper still may.
        config.allowlist = Vec::new();
        config.metrics =
            Some(relay::MetricsConfig { listen: None, allowlist: vendor_sim::config::loopback() });
    })
    .await;
    let series = scrape(&local.url("/metrics")).await;
    assert!(series.keys().any(|series| series.starts_with("billing_relay_")), "{series:#?}");
}
