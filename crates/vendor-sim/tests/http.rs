//! The emulator over real HTTP on loopback: every status code of the
//! contract, the negotiation table, date windows, whitelists, permissions,
//! each fault knob, and documents that are deterministic and obey the
//! contract's arithmetic.

use std::time::{Duration, Instant};

use billing::{
    InvoiceDocument, json,
    matching::match_documents,
    rows::rows,
    scalars::Id,
    totals::{check, currency_of},
    xml,
};
use chrono::{Datelike, NaiveDate};
use futures_util::StreamExt;
use reqwest::{StatusCode, header::CONTENT_TYPE};
use vendor_sim::{ApiKey, Config, DataSpec, Permission, RunningVendor};

const KEY: &str = "test-key-0123456789";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn config(keys: Vec<ApiKey>, seed: u64) -> Config {
    Config {
        keys,
        today: Some(today()),
        data: DataSpec { seed, customers: 12, hostile_names: false },
        ..Config::single_key("unused", String::new().into())
    }
}

async fn start_with(config: Config) -> RunningVendor {
    vendor_sim::spawn("127.0.0.1:0".parse().unwrap(), config).await.expect("emulator binds a loopback port")
}

async fn start() -> RunningVendor {
    start_with(config(vec![ApiKey::new("test", KEY.to_owned().into())], 7)).await
}

/// A request with the test key, and `headers` as `(name, value)` pairs.
async fn get(vendor: &RunningVendor, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().get(format!("{}{path}", vendor.base_url())).header("X-Api-Key", KEY);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("errors are JSON");
    (status, body["error"].as_str().expect("an error message").to_owned())
}

async fn xml_document(vendor: &RunningVendor, path: &str) -> InvoiceDocument {
    let response = get(vendor, path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    xml::parse_invoices(&response.bytes().await.unwrap()).unwrap_or_else(|error| panic!("{path}: {error}"))
}

const YEAR: &str = "startDate=20251101&endDate=20261124";

#[tokio::test]
async fn missing_unknown_and_expired_keys_are_401() {
    let expired = ApiKey {
        expires: Some(today().pred_opt().unwrap()),
        ..ApiKey::new("old", "expired-key".to_owned().into())
    };
    let vendor = start_with(config(vec![ApiKey::new("test", KEY.to_owned().into()), expired], 7)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v3/invoices", vendor.base_url());
    let cases = [
        (None, "missing API key"),
        (Some("wrong"), "unknown API key"),
        (Some("expired-key"), "expired API key"),
    ];
    for (key, message) in cases {
        let mut request = client.get(&url).header("Accept", "application/xml");
        if let Some(key) = key {
            request = request.header("X-Api-Key", key);
        }
        assert_eq!(
            error_of(request.send().await.unwrap()).await,
            (StatusCode::UNAUTHORIZED, message.to_owned())
        );
    }
}

#[tokio::test]
async fn the_key_header_name_is_configurable() {
    let vendor = start_with(Config {
        key_header: "x-reseller-key".parse().unwrap(),
        ..config(vec![ApiKey::new("test", KEY.to_owned().into())], 7)
    })
    .await;
    let (status, _) = error_of(get(&vendor, "/v3/invoices", &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the default header is not read");
    let response = get(&vendor, "/v3/invoices", &[("X-Reseller-Key", KEY)]).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn whitelists_admit_listed_callers_and_an_empty_one_refuses_everyone() {
    let elsewhere = ApiKey {
        whitelist: vec!["10.0.0.0/8".parse().unwrap()],
        ..ApiKey::new("far", "far-key".to_owned().into())
    };
    let nobody = ApiKey { whitelist: Vec::new(), ..ApiKey::new("new", "new-key".to_owned().into()) };
    let vendor =
        start_with(config(vec![ApiKey::new("test", KEY.to_owned().into()), elsewhere, nobody], 7)).await;
    assert_eq!(get(&vendor, "/v3/invoices", &[]).await.status(), StatusCode::OK, "loopback is listed");
    for key in ["far-key", "new-key"] {
        let response = reqwest::Client::new()
            .get(format!("{}/v3/invoices", vendor.base_url()))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap();
        let (status, message) = error_of(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(message, "IP address 127.0.0.1 is not whitelisted for this API key");
    }
}

#[tokio::test]
async fn a_key_for_one_endpoint_is_refused_the_others() {
    let narrow = ApiKey {
        permission: Permission::Only(billing::Endpoint::Invoices),
        ..ApiKey::new("narrow", KEY.to_owned().into())
    };
    let vendor = start_with(config(vec![narrow], 7)).await;
    assert_eq!(get(&vendor, "/api/v1/invoices", &[]).await.status(), StatusCode::OK);
    let (status, message) = error_of(get(&vendor, "/api/v1/customer-specifications", &[]).await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::FORBIDDEN, "this API key has no permission for customer-specifications")
    );
}

#[tokio::test]
async fn unknown_versions_and_endpoints_are_404() {
    let vendor = start().await;
    for path in [
        "/v4/invoices",
        "/v3/nothing",
        "/api/v1/customerinvoices",
        "/api/v2/invoices",
        "/v3/customer-specifications",
    ] {
        assert_eq!(
            error_of(get(&vendor, path, &[]).await).await,
            (StatusCode::NOT_FOUND, "unknown version or endpoint".to_owned()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn bad_and_reversed_dates_are_400_naming_the_parameter() {
    let vendor = start().await;
    let cases = [
        ("startDate=2026-01-01", "startDate must be a date written YYYYMMDD, not `2026-01-01`"),
        ("startDate=20260101&endDate=20260231", "endDate must be a date written YYYYMMDD, not `20260231`"),
        ("startDate=20260301&endDate=20260201", "startDate 20260301 is after endDate 20260201"),
    ];
    for (query, message) in cases {
        let (status, error) = error_of(get(&vendor, &format!("/v3/invoices?{query}"), &[]).await).await;
        assert_eq!((status, error.as_str()), (StatusCode::BAD_REQUEST, message));
    }
}

#[tokio::test]
async fn accept_chooses_the_format_and_anything_else_is_406() {
    let vendor = start().await;
    let table = [
        (None, Some("application/xml")),
        (Some("application/xml"), Some("application/xml")),
        (Some("text/xml"), Some("application/xml")),
        (Some("*/*"), Some("application/xml")),
        (Some("application/json"), Some("application/json")),
        (Some("text/html, application/json;q=0.9"), Some("application/json")),
        (Some("text/csv"), None),
    ];
    for (accept, answered) in table {
        let headers: Vec<_> = accept.map(|accept| ("Accept", accept)).into_iter().collect();
        let response = get(&vendor, &format!("/v3/invoices?{YEAR}"), &headers).await;
        match answered {
            Some(media) => {
                assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
                let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
                assert!(content_type.starts_with(media), "{accept:?} gave {content_type}");
                let bytes = response.bytes().await.unwrap();
                let parsed = if media == "application/xml" {
                    xml::parse_invoices(&bytes)
                } else {
                    json::parse_invoices(&bytes)
                };
                assert!(!parsed.unwrap().invoices.is_empty());
            }
            None => {
                let (status, message) = error_of(response).await;
                assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
                assert!(message.contains("text/csv"), "{message}");
            }
        }
    }
    let (status, _) =
        error_of(get(&vendor, "/api/v1/invoices", &[("Accept", "application/xml")]).await).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "the current API speaks JSON only");
}

fn invoice_dates(document: &InvoiceDocument) -> Vec<NaiveDate> {
    document.invoices.iter().map(|invoice| invoice.header.date.unwrap()).collect()
}

#[tokio::test]
async fn date_windows_are_inclusive_and_default_to_three_months() {
    let vendor = start().await;
    let year = xml_document(&vendor, &format!("/v3/invoices?{YEAR}")).await;
    let dates = invoice_dates(&year);
    let day = dates[dates.len() / 2];
    let on_the_day = dates.iter().filter(|date| **date == day).count();
    let compact = |date: NaiveDate| date.format("%Y%m%d").to_string();
    let exact = xml_document(&vendor, &format!("/v3/invoices?startDate={0}&endDate={0}", compact(day))).await;
    assert_eq!(invoice_dates(&exact), vec![day; on_the_day], "both bounds are inclusive");
    let after = xml_document(
        &vendor,
        &format!(
            "/v3/invoices?startDate={}&endDate={}",
            compact(day.succ_opt().unwrap()),
            compact(day.succ_opt().unwrap())
        ),
    )
    .await;
    assert!(!invoice_dates(&after).contains(&day));

    let default = get(&vendor, "/v3/invoices", &[]).await.bytes().await.unwrap();
    let explicit =
        get(&vendor, "/v3/invoices?startDate=20260825&endDate=20261125", &[]).await.bytes().await.unwrap();
    assert_eq!(default, explicit, "no dates means the three months up to today");
    let default = xml::parse_invoices(&default).unwrap();
    assert!(!default.invoices.is_empty());
    assert!(
        invoice_dates(&default)
            .iter()
            .all(|date| (NaiveDate::from_ymd_opt(2026, 8, 25).unwrap()..=today()).contains(date))
    );
}

#[tokio::test]
async fn the_same_seed_gives_byte_identical_documents_and_another_seed_does_not() {
    let path = format!("/v3/customerinvoices?{YEAR}");
    let first = get(&start().await, &path, &[("Accept", "application/json")]).await.bytes().await.unwrap();
    let again = get(&start().await, &path, &[("Accept", "application/json")]).await.bytes().await.unwrap();
    assert_eq!(first, again);
    let other = start_with(config(vec![ApiKey::new("test", KEY.to_owned().into())], 8)).await;
    assert_ne!(get(&other, &path, &[("Accept", "application/json")]).await.bytes().await.unwrap(), first);
}

#[tokio::test]
async fn documents_obey_the_contract() {
    let vendor = start().await;
    let purchases = xml_document(&vendor, &format!("/v3/invoices?{YEAR}")).await;
    let sales = xml_document(&vendor, &format!("/v3/customerinvoices?{YEAR}")).await;
    for document in [&purchases, &sales] {
        assert_eq!(check(document), [], "every line and total obeys the formulas");
        for invoice in &document.invoices {
            let day = invoice.header.date.unwrap().day();
            assert!((22..=25).contains(&day), "invoices are dated around the 23rd, not the {day}th");
        }
    }
    let currencies: std::collections::BTreeSet<_> = purchases.invoices.iter().map(currency_of).collect();
    assert_eq!(currencies.into_iter().collect::<Vec<_>>(), ["EUR", "USD"]);
    let charge_types: std::collections::BTreeSet<_> =
        rows(&purchases).filter_map(|row| row.line.charge_type.clone()).collect();
    assert_eq!(charge_types.len(), 6, "{charge_types:?}");
    assert!(
        rows(&purchases).any(|row| row.line.extended_price.unwrap().is_sign_negative()),
        "corrections are negative"
    );
    assert!(rows(&purchases).any(|row| row.line.vat == Some(Default::default())
        && row.line.tax_zone_id == Some(Id::Text("Reverse charge (telecom)".to_owned()))));
    // One publisher per invoice, read from its lines, as the description
    // says only "Invoice".
    let publishers = billing::publisher::Publishers::default();
    for invoice in &purchases.invoices {
        assert_eq!(invoice.header.description.as_deref(), Some("Invoice"));
        let named: std::collections::BTreeSet<_> = billing::rows::invoice_rows(invoice)
            .map(|row| publishers.of(row.subscription, row.line).map(|name| name.into_owned()))
            .collect();
        assert_eq!(named.len(), 1, "{named:?}");
        assert!(named.iter().all(Option::is_some), "every line names its publisher: {named:?}");
    }

    let report = match_documents(&purchases, &sales);
    assert!(report.purchase_only.is_empty() && report.sale_only.is_empty(), "every line has its other side");
    assert!(report.currency_mismatches.is_empty());
    assert!(
        report.matched.iter().all(|pair| pair.margin.sale.abs() >= pair.margin.cost.abs()),
        "the reseller sells at a markup"
    );
}

#[tokio::test]
async fn consolidatedinvoices_pairs_prices_but_misses_and_duplicates_a_few_lines() {
    let vendor = start().await;
    let purchases = xml_document(&vendor, &format!("/v3/invoices?{YEAR}")).await;
    let consolidated = xml_document(&vendor, &format!("/v3/consolidatedinvoices?{YEAR}")).await;
    assert_eq!(check(&consolidated), []);
    let hashes = |document: &InvoiceDocument| -> Vec<String> {
        rows(document).map(|row| row.line.invoice_row_hash.as_deref().unwrap().to_owned()).collect()
    };
    let (all, paired) = (hashes(&purchases), hashes(&consolidated));
    let missing = all.iter().filter(|hash| !paired.contains(hash)).count();
    let duplicated = paired.len() + missing - all.len();
    assert!(missing > 0 && duplicated > 0, "missing {missing}, duplicated {duplicated}");
    assert!(
        missing + duplicated < all.len() / 10,
        "a few, not many: {missing} + {duplicated} of {}",
        all.len()
    );
    assert!(
        rows(&consolidated).all(|row| row.line.purchase_price.is_some() && row.line.sales_price.is_some())
    );
    assert!(
        consolidated
            .invoices
            .iter()
            .flat_map(|invoice| &invoice.customers)
            .any(|customer| customer.customer_cost_center.is_some())
    );
}

#[tokio::test]
async fn the_current_api_sends_ids_as_strings_and_specifications_without_vat() {
    let vendor = start().await;
    let invoices = get(&vendor, &format!("/api/v1/invoices?{YEAR}"), &[]).await.text().await.unwrap();
    assert!(
        invoices.contains("\"InvoiceID\":\"") && !invoices.contains("\"InvoiceID\":2"),
        "ids are strings"
    );
    let specifications =
        get(&vendor, &format!("/api/v1/customer-specifications?{YEAR}"), &[]).await.bytes().await.unwrap();
    let specifications = json::parse_invoices(&specifications).unwrap();
    assert!(rows(&specifications).all(|row| row.line.vat.is_none()));
    assert_eq!(check(&specifications), []);
    let examples =
        get(&vendor, &format!("/api/v1/example-invoices?{YEAR}"), &[]).await.bytes().await.unwrap();
    assert!(!json::parse_invoices(&examples).unwrap().invoices.is_empty());
}

#[tokio::test]
async fn subscriptiondetails_needs_a_known_subscription_id() {
    let vendor = start().await;
    let purchases = xml_document(&vendor, &format!("/v3/invoices?{YEAR}")).await;
    let Some(Id::Number(id)) = rows(&purchases).next().unwrap().subscription.subscription_id.clone() else {
        panic!("legacy ids are numbers")
    };
    let response = get(&vendor, &format!("/v3/subscriptiondetails?subscriptionId={id}"), &[]).await;
    let length = response.content_length().expect("a small document states its length");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, length);
    let details = xml::parse_subscription_details(&bytes).unwrap();
    assert_eq!(details.subscription.subscription_id, Some(Id::Number(id)));
    assert!(details.service_plan.plan_name.best_for("nl").unwrap().contains("maandelijks"));
    let response = get(
        &vendor,
        &format!("/v3/subscriptiondetails?subscriptionId={id}"),
        &[("Accept", "application/json")],
    )
    .await;
    assert_eq!(json::parse_subscription_details(&response.bytes().await.unwrap()).unwrap(), details);

    let cases = [
        ("", StatusCode::BAD_REQUEST, "subscriptionId is required".to_owned()),
        (
            "?subscriptionId=abc",
            StatusCode::BAD_REQUEST,
            "subscriptionId must be a number, not `abc`".to_owned(),
        ),
        ("?subscriptionId=1", StatusCode::NOT_FOUND, "no subscription 1".to_owned()),
    ];
    for (query, status, message) in cases {
        assert_eq!(
            error_of(get(&vendor, &format!("/v3/subscriptiondetails{query}"), &[]).await).await,
            (status, message)
        );
    }
}

async fn with_fault(vendor: &RunningVendor, fault: &str) -> reqwest::Response {
    get(vendor, &format!("/v3/invoices?{YEAR}"), &[("X-Sim-Fault", fault)]).await
}

#[tokio::test]
async fn fault_knobs_answer_500_html_and_late() {
    let vendor = start().await;
    assert_eq!(
        error_of(with_fault(&vendor, "status500").await).await,
        (StatusCode::INTERNAL_SERVER_ERROR, "internal server error".to_owned())
    );
    let html = with_fault(&vendor, "html200").await;
    assert_eq!(html.status(), StatusCode::OK);
    assert!(html.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(xml::parse_invoices(&html.bytes().await.unwrap()).is_err());
    let started = Instant::now();
    assert_eq!(with_fault(&vendor, "latency=300").await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300), "the answer waited");
    let (status, message) = error_of(with_fault(&vendor, "sometimes").await).await;
    assert_eq!((status, message.as_str()), (StatusCode::BAD_REQUEST, "unknown fault `sometimes`"));
}

#[tokio::test]
async fn fault_knobs_break_the_body() {
    let vendor = start().await;
    let whole = with_fault(&vendor, "latency=0").await.bytes().await.unwrap();

    let dropped = with_fault(&vendor, "drop").await;
    assert_eq!(dropped.status(), StatusCode::OK, "the break comes after the headers");
    assert!(dropped.bytes().await.is_err(), "reading a dropped body fails");

    let truncated = with_fault(&vendor, "truncate").await.bytes().await.expect("a clean end");
    assert!(truncated.len() < whole.len() && whole.starts_with(&truncated));
    assert!(xml::parse_invoices(&truncated).unwrap_err().message.contains("ends inside"));

    let malformed = with_fault(&vendor, "malformed").await.bytes().await.unwrap();
    assert!(xml::parse_invoices(&malformed).is_err());

    let mut dripped = with_fault(&vendor, "drip=4096:1").await.bytes_stream();
    let (mut received, mut pieces) = (Vec::new(), 0);
    while let Some(piece) = dripped.next().await {
        let piece = piece.unwrap();
        assert!(piece.len() <= 4096, "a drip of {} bytes", piece.len());
        received.extend_from_slice(&piece);
        pieces += 1;
    }
    assert_eq!(received, whole, "dripping changes the pace, not the bytes");
    assert!(pieces >= whole.len() / 4096);
}

#[tokio::test]
async fn faults_configured_on_a_key_apply_to_every_answer() {
    let failing = ApiKey {
        faults: vec!["status500".parse().unwrap()],
        ..ApiKey::new("failing", KEY.to_owned().into())
    };
    let vendor = start_with(config(vec![failing], 7)).await;
    assert_eq!(get(&vendor, "/v3/invoices", &[]).await.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_vendor_failing_its_first_requests_recovers_after_them() {
    let recovering = ApiKey {
        faults: vec!["status500=2".parse().unwrap()],
        ..ApiKey::new("recovering", KEY.to_owned().into())
    };
    let vendor = start_with(config(vec![recovering], 7)).await;
    let month = "/v3/invoices?startDate=20261016&endDate=20261031";
    for _ in 0..2 {
        assert_eq!(get(&vendor, month, &[]).await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert_eq!(get(&vendor, month, &[]).await.status(), StatusCode::OK, "the third request is answered");
    assert_eq!(get(&vendor, month, &[]).await.status(), StatusCode::OK);
    let (status, message) = error_of(with_fault(&vendor, "status500=later").await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::BAD_REQUEST, "status500's `later` is not a count of requests")
    );
}

#[tokio::test]
async fn a_reissue_changes_one_line_of_a_month_with_its_totals_after_the_keys_first_documents() {
    let reissuing = ApiKey {
        faults: vec!["reissue=1".parse().unwrap()],
        ..ApiKey::new("reissuing", KEY.to_owned().into())
    };
    let vendor = start_with(config(vec![reissuing], 7)).await;
    let month = "/v3/invoices?startDate=20261016&endDate=20261031";
    let first = xml_document(&vendor, month).await;
    let reissued = xml_document(&vendor, month).await;
    assert_eq!(xml_document(&vendor, month).await, reissued, "re-issued once, then the same");
    assert_eq!(check(&reissued), [], "the re-issued document's totals follow its line");
    let comparison = billing::changes::compare(&first, &reissued);
    let [change] = comparison.changes.as_slice() else {
        panic!("one charge changes: {:?}", comparison.changes);
    };
    let (before, after) = (change.before.as_ref().unwrap(), change.after.as_ref().unwrap());
    assert_eq!(after.quantity - before.quantity, 1.into(), "one unit more");
    assert!(after.amount != before.amount);
    let lines = rows(&first).zip(rows(&reissued));
    assert_eq!(lines.filter(|(first, reissued)| first.line != reissued.line).count(), 1, "one line changes");

    let (status, message) = error_of(with_fault(&vendor, "reissue=soon").await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::BAD_REQUEST, "reissue's `soon` is not a count of documents")
    );
}

#[tokio::test]
async fn health_needs_no_key() {
    let vendor = start().await;
    let response = reqwest::get(format!("{}/healthz", vendor.base_url())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
