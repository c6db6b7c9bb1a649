#![cfg(not(target_arch = "wasm32"))]
//! The whole product in real headless Chromium: the `billing-relay --demo
//! --demo-faults` binary serving the release build of the app, checked
//! against direct downloads and crates/billing's own computations.
//!
//! `cargo xtask test` builds both and sets `BILLING_RELAY_BIN` and
//! `BILLING_APP_DIR`; run alone, the test looks in `target/debug` and `dist`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

mod support;

use fantoccini::{Client, Locator};
use support::*;

async fn start_relay() -> Relay {
    start_relay_with(&["--demo", "--demo-faults", "--listen", "127.0.0.1:0"], &[]).await
}

/// Per currency: (excluding VAT, VAT) as the page shows them in its data.
async fn page_totals(client: &Client) -> Vec<(String, String, String)> {
    let rows = client.find_all(Locator::Css(".currency-total")).await.unwrap();
    let mut totals = Vec::new();
    for row in rows {
        let attribute = |name: &'static str| {
            let row = row.clone();
            async move { row.attr(name).await.unwrap().unwrap() }
        };
        totals.push((
            attribute("data-currency").await,
            attribute("data-excluding").await,
            attribute("data-vat").await,
        ));
    }
    totals
}

fn expected_totals(document: &billing::InvoiceDocument) -> Vec<(String, String, String)> {
    billing::totals::totals_by_currency(document)
        .into_iter()
        .map(|(currency, (_, sums))| (currency, sums.excluding_vat.to_string(), sums.vat.to_string()))
        .collect()
}

async fn direct(relay: &Relay, path: &str) -> Vec<u8> {
    let response = reqwest::get(format!("{}{path}", relay.url)).await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.bytes().await.unwrap().to_vec()
}

/// Opens the page on the demo's last three months of `endpoint`, which it
/// fetches at once; returns the relay query string of the same window.
async fn open_last_three_months(relay: &Relay, client: &Client, endpoint: &str, format: &str) -> String {
    let today = chrono::Local::now().date_naive();
    let (start, end) = billing_portal::query::Preset::LastThreeMonths.window(today);
    let window = format!("start={start}&end={end}");
    let page = format!("{}/?profile=demo&version=v3&endpoint={endpoint}&format={format}&{window}", relay.url);
    client.goto(&page).await.unwrap();
    window
}

/// Loads the other side of the margin on its tab and waits for the join.
async fn join_the_other_side(client: &Client) {
    show_tab(client, "margin").await;
    wait_for(client, ".load-other").await.click().await.unwrap();
    wait_for(client, ".margin-row").await;
}

/// Shows the Lines tab grouped by publisher and waits for the subtotals.
async fn group_lines_by_publisher(client: &Client) {
    show_tab(client, "lines").await;
    wait_for(client, ".line-row:not([hidden])").await;
    wait_for(client, ".column-choice summary").await.click().await.unwrap();
    choose(client, "#line-group", "publisher").await;
    wait_for(client, ".group-row").await;
}

/// Fetches the window before on the Changes tab and waits for the comparison.
async fn compare_with_the_window_before(client: &Client) {
    show_tab(client, "changes").await;
    wait_for(client, ".load-earlier").await.click().await.unwrap();
    wait_for(client, ".change-total").await;
}

/// Waits until the table's status line counts `shown` of `total` lines
/// (whatever it says next of the sort and grouping).
async fn wait_for_line_count(client: &Client, shown: usize, total: usize) {
    let expected = format!("{shown} of {total} lines");
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let status = text_of(client, ".lines-shown").await;
        if status == expected || status.starts_with(&format!("{expected},")) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the table shows {status:?}, not {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_preset_fetch_renders_totals_and_downloads_that_match_the_source() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Billing portal");
    choose(client, "#profile", "demo").await;
    let page = String::from_utf8(direct(&relay, "/").await).unwrap();
    assert!(page.contains(r#"id="starting""#), "a page whose app cannot start says so");
    assert!(client.find(Locator::Id("starting")).await.is_err(), "the app replaces it as it starts");
    assert!(page.contains(r#"id="type-samples""#), "the page sets type while the app loads");
    assert!(
        client.find(Locator::Id("type-samples")).await.is_err(),
        "and the app takes it away as it starts"
    );
    click_button(client, "Last quarter").await;
    let worker_loaded = || relay.logs.lock().unwrap().contains(r#"path="/worker_bg.wasm""#);
    assert!(!worker_loaded(), "the worker is not part of the first load");
    fetch(client).await;
    assert!(worker_loaded(), "the background worker made the transfer");
    let folded = text_of(client, ".query-line .query-summary").await;
    assert!(folded.starts_with("demo · invoices v3 · "), "the open document folds the panel: {folded}");
    let loader = reqwest::get(format!("{}/worker_loader.js", relay.url)).await.unwrap();
    assert_eq!(loader.headers()["cache-control"], "no-cache", "the worker's unhashed files are revalidated");
    // The page's wasm, under a directory named by its hash, goes as
    // `cargo xtask` compressed it, kept a year.
    let app_dir = workspace_path("BILLING_APP_DIR", "dist");
    let wasm = format!("{}/app_bg.wasm", split_app_dir(&app_dir));
    let response = reqwest::Client::new()
        .get(format!("{}/{wasm}", relay.url))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    let built =
        std::fs::read(app_dir.join(format!("{wasm}.br"))).expect("cargo xtask precompresses the build");
    assert_eq!(response.bytes().await.unwrap().to_vec(), built, "sent as built");

    let today = chrono::Local::now().date_naive();
    let (start, end) = billing_portal::query::Preset::LastQuarter.window(today);
    let window = format!("start={start}&end={end}");
    let xml = direct(&relay, &format!("/api/documents/demo/v3/invoices?format=xml&{window}")).await;
    let document = billing::xml::parse_invoices(&xml).unwrap();
    assert!(!document.invoices.is_empty(), "the demo has invoices last quarter");
    assert_eq!(page_totals(client).await, expected_totals(&document), "the summary is crates/billing's");
    assert_eq!(text_of(client, ".invoice-count").await, document.invoices.len().to_string());

    let raw = download(&browser, ".download[data-file$='.xml']").await;
    assert_eq!(raw, xml, "the raw file is byte for byte what the relay sent");
    let csv = download(&browser, ".download[data-file$='.csv']").await;
    let records = csv::Reader::from_reader(csv.as_slice()).records().count();
    assert_eq!(records, billing::rows::rows(&document).count(), "one CSV row per price line");
    let converted = download(&browser, ".download[data-file$='.json']").await;
    assert_eq!(
        billing::json::parse_invoices(&converted).unwrap(),
        document,
        "the conversion keeps the model"
    );

    unfold_query_for(client, "form.query").await;
    let link = wait_for(client, "#request-url").await.prop("value").await.unwrap().unwrap();
    assert_eq!(link, format!("{}/api/documents/demo/v3/invoices?format=xml&{window}&download=1", relay.url));

    let xml_totals = page_totals(client).await;
    unfold_query_for(client, "input[name='format']").await;
    wait_for(client, "input[name='format']:not(:checked):not([disabled])").await.click().await.unwrap();
    fetch(client).await;
    wait_for(client, ".download[data-file$='.json'][data-file^='invoices']").await;
    assert_eq!(page_totals(client).await, xml_totals, "JSON and XML of the same window agree");
    let json_raw = download(&browser, ".download[data-file^='invoices'][data-file$='.json']").await;
    assert_eq!(
        json_raw,
        direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&{window}")).await
    );

    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn each_failure_says_what_happened_and_what_to_do() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();
    let cases = [
        ("demo-revoked", "The vendor rejected this profile's API key"),
        ("demo-unwhitelisted", "The vendor refused the relay"),
        ("demo-failing", "The vendor's service failed"),
        ("demo-maintenance", "The vendor sent something other than the document"),
        ("demo-down", "The vendor cannot be reached"),
        ("demo-unresponsive", "The vendor took too long to answer"),
        ("demo-malformed", "The document could not be read"),
    ];
    for (profile, title) in cases {
        choose(client, "#profile", profile).await;
        fetch(client).await;
        assert_eq!(text_of(client, ".problem:not(.stale) .problem-title").await, title, "{profile}");
        let advice = text_of(client, ".problem:not(.stale) .problem-advice").await;
        assert!(!advice.is_empty(), "{profile} gives advice");
    }
    let detail = text_of(client, ".problem:not(.stale) .problem-detail").await;
    assert!(detail.starts_with("XML line"), "a broken document says where: {detail}");

    client
        .goto(&format!(
            "{}/?profile=demo&version=v3&endpoint=invoices&format=xml&start=2026-11-01&end=2026-11-10",
            relay.url
        ))
        .await
        .unwrap();
    let empty = text_of(client, ".results .empty").await;
    assert!(empty.contains("around the 23rd of month M+1"), "{empty}");

    choose(client, "#endpoint", "subscriptiondetails").await;
    assert!(wait_for(client, ".fetch").await.attr("disabled").await.unwrap().is_some());
    assert_eq!(text_of(client, ".problems li").await, "Enter the subscription id.");
    client.clone().close().await.unwrap();
}

/// The file name the relay gives `path` (with `download=1`), and the file.
async fn relay_download(relay: &Relay, path: &str) -> (String, Vec<u8>) {
    let response = reqwest::get(format!("{}{path}", relay.url)).await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    let disposition = response.headers()[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    let name = disposition
        .strip_prefix("attachment; filename=\"")
        .and_then(|name| name.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{disposition}"))
        .to_owned();
    (name, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_page_the_relay_and_the_workbook_name_a_request_alike() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "json").await;
    wait_for(client, ".invoice-count").await;
    let relay_path = format!("/api/documents/demo/v3/invoices?format=json&{window}&download=1");
    let (relay_name, purchases) = relay_download(&relay, &relay_path).await;
    let stem = relay_name.strip_suffix(".json").unwrap().to_owned();
    let raw = wait_for(client, ".download[data-file^='invoices'][data-file$='.json']").await;
    assert_eq!(raw.attr("data-file").await.unwrap().as_deref(), Some(relay_name.as_str()), "the raw file");
    unfold_query_for(client, "form.query").await;
    let link = wait_for(client, "#request-url").await.prop("value").await.unwrap().unwrap();
    assert_eq!(link, format!("{}{relay_path}", relay.url), "the request link is the relay's route");
    // The worker names the workbook it writes; the download helper waits for
    // the name the page shows, so a difference would never arrive.
    let workbook = download(&browser, &format!(".download[data-file='{stem}.xlsx']")).await;
    assert!(workbook.starts_with(b"PK"), "a workbook (a zip) came");

    // A subscription id keeps its leading zeros everywhere.
    let purchases = billing::json::parse_invoices(&purchases).unwrap();
    let id = match &purchases.invoices[0].customers[0].subscriptions[0].subscription_id {
        Some(billing::scalars::Id::Number(id)) => format!("00{id}"),
        other => panic!("{other:?}"),
    };
    let relay_path =
        format!("/api/documents/demo/v3/subscriptiondetails?format=json&subscription={id}&download=1");
    let (relay_name, _) = relay_download(&relay, &relay_path).await;
    assert_eq!(relay_name, format!("subscriptiondetails_v3_{id}.json"));
    client
        .goto(&format!(
            "{}/?profile=demo&version=v3&endpoint=subscriptiondetails&format=json&subscription={id}",
            relay.url
        ))
        .await
        .unwrap();
    wait_for(client, ".subscription-details").await;
    let raw = wait_for(client, ".download[data-file$='.json']").await;
    assert_eq!(raw.attr("data-file").await.unwrap().as_deref(), Some(relay_name.as_str()));
    let converted =
        download(&browser, &format!(".download[data-file='subscriptiondetails_v3_{id}.xml']")).await;
    assert!(
        billing::xml::parse_subscription_details(&converted).is_ok(),
        "the worker wrote it under that name"
    );
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn markup_in_company_names_is_shown_as_text_and_runs_nothing() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    open_last_three_months(&relay, client, "customerinvoices", "xml").await;
    show_tab(client, "invoices").await;
    wait_for(client, ".invoice-table").await;
    let receivers = client.find_all(Locator::Css(".invoice-row td:nth-child(5)")).await.unwrap();
    let mut shown = Vec::new();
    for receiver in receivers {
        shown.push(receiver.text().await.unwrap());
    }
    assert!(
        shown.iter().any(|name| name.starts_with("<script>window.__pwned = 1</script><img src=x")),
        "{shown:?}"
    );
    let pwned = client
        .execute("return window.__pwned === undefined && !document.querySelector('img[src=\"x\"]')", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::json!(true), "the markup ran or became elements");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn cancel_stops_the_transfer() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();
    choose(client, "#profile", "demo-slow").await;
    click_button(client, "This year").await;
    unfold_query_for(client, ".fetch").await;
    wait_for(client, ".fetch").await.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let received = text_of(client, ".received").await;
        if received != "0 B" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no bytes arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(client, ".cancel").await.click().await.unwrap();
    assert!(text_of(client, ".cancelled").await.starts_with("Cancelled after"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !relay.logs.lock().unwrap().contains(r#"outcome="abandoned_by_client""#) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay kept sending: {}",
            relay.logs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(client.find(Locator::Css(".results")).await.is_err(), "nothing partial is shown");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn filtering_lines_by_a_customer_agrees_with_its_subtotals_its_csv_and_crates_billing() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "xml").await;
    show_tab(client, "lines").await;
    wait_for(client, ".line-table").await;
    let document = billing::xml::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/invoices?format=xml&{window}")).await,
    )
    .unwrap();
    let total = billing::rows::rows(&document).count();
    assert_eq!(text_of(client, ".lines-shown").await, format!("{total} of {total} lines"));

    // A customer without markup in its name, chosen by the page's own list.
    let customer = client
        .execute(
            "return [...document.querySelectorAll('#line-customer-values option')].map(o => o.value).find(v => v && !v.includes('<'))",
            vec![],
        )
        .await
        .unwrap();
    let customer = customer.as_str().unwrap().to_owned();
    // A part of the name offers only names that contain it, and filters
    // nothing yet.
    let part: String = customer.chars().skip(1).take(4).collect();
    let type_into = "const field = document.querySelector('#line-customer'); field.value = arguments[0]; field.dispatchEvent(new Event('input', { bubbles: true }));";
    client.execute(type_into, vec![serde_json::json!(part)]).await.unwrap();
    let offered_now =
        "return [...document.querySelectorAll('#line-customer-values option')].map(o => o.value)";
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let offered: Vec<String> =
            serde_json::from_value(client.execute(offered_now, vec![]).await.unwrap()).unwrap();
        let fitting = offered.iter().all(|value| value.to_lowercase().contains(&part.to_lowercase()));
        if fitting && !offered.is_empty() {
            assert!(offered.len() <= billing_portal::choices::OFFERED);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{part:?} offers {offered:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text_of(client, ".lines-shown").await, format!("{total} of {total} lines"));
    client
        .execute(
            "const field = document.querySelector('#line-customer'); field.value = arguments[0]; field.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![serde_json::json!(customer)],
        )
        .await
        .unwrap();
    let theirs: Vec<_> = billing::rows::rows(&document)
        .filter(|row| row.customer.company_name.as_deref() == Some(customer.as_str()))
        .collect();
    assert!(!theirs.is_empty());
    wait_for_line_count(client, theirs.len(), total).await;
    assert!(
        text_of(client, ".chips").await.contains(&format!("Customer: {customer}")),
        "the filter is shown"
    );

    let mut expected: std::collections::BTreeMap<String, rust_decimal::Decimal> = Default::default();
    for row in &theirs {
        *expected.entry(billing::totals::currency_of(row.invoice).to_owned()).or_default() +=
            row.line.extended_price.unwrap_or_default();
    }
    choose(client, "#line-group", "customer").await;
    wait_for(client, ".group-row").await;
    let mut subtotals = std::collections::BTreeMap::new();
    for row in client.find_all(Locator::Css(".group-row")).await.unwrap() {
        assert_eq!(row.attr("data-group").await.unwrap().as_deref(), Some(customer.as_str()));
        let currency = row.attr("data-currency").await.unwrap().unwrap();
        let excluding: rust_decimal::Decimal =
            row.attr("data-excluding").await.unwrap().unwrap().parse().unwrap();
        subtotals.insert(currency, excluding);
    }
    assert_eq!(subtotals, expected, "the subtotals are crates/billing's");

    let csv = download(&browser, ".download[data-file$='_lines.csv']").await;
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let (customer_column, amount_column, currency_column) =
        (column("Customer"), column("ExtendedPrice"), column("Currency"));
    let mut from_csv: std::collections::BTreeMap<String, rust_decimal::Decimal> = Default::default();
    let mut records = 0;
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(&record[customer_column], customer);
        *from_csv.entry(record[currency_column].to_owned()).or_default() +=
            record[amount_column].parse::<rust_decimal::Decimal>().unwrap();
        records += 1;
    }
    assert_eq!(records, theirs.len(), "the CSV holds exactly the table's rows");
    assert_eq!(from_csv, expected, "and the same amounts");

    wait_for(client, ".clear-all").await.click().await.unwrap();
    wait_for_line_count(client, total, total).await;
    let rendered = client.find_all(Locator::Css(".line-row")).await.unwrap().len();
    assert!(rendered < total.min(60), "only the rows in view are in the page: {rendered} of {total}");

    // Hiding a column takes it out of the table, and the choice outlives a reload.
    let headers = |client: &Client| {
        let client = client.clone();
        async move {
            let mut labels = Vec::new();
            for header in client.find_all(Locator::Css(".line-table thead th")).await.unwrap() {
                labels.push(header.text().await.unwrap());
            }
            labels
        }
    };
    assert!(headers(client).await.contains(&"VAT".to_owned()));
    wait_for(client, ".column-choice summary").await.click().await.unwrap();
    wait_for(client, ".column-choice input[data-column='VAT']").await.click().await.unwrap();
    assert!(!headers(client).await.contains(&"VAT".to_owned()), "the VAT column is hidden");
    let first_row = wait_for(client, ".line-row:not([hidden])").await;
    let cells = first_row.find_all(Locator::Css("td")).await.unwrap().len();
    assert_eq!(cells, headers(client).await.len(), "rows have a cell per shown column");
    open_last_three_months(&relay, client, "invoices", "xml").await;
    show_tab(client, "lines").await;
    wait_for(client, ".line-table").await;
    let after_reload = headers(client).await;
    assert!(!after_reload.is_empty() && !after_reload.contains(&"VAT".to_owned()), "{after_reload:?}");
    client.clone().close().await.unwrap();
}

/// The descriptions of the matched lines whose margin is the smallest.
fn exact_smallest_margin_descriptions(report: &billing::matching::MatchReport<'_>) -> Vec<String> {
    let smallest = report.matched.iter().map(|line| line.margin.margin()).min().expect("matched lines");
    report
        .matched
        .iter()
        .filter(|line| line.margin.margin() == smallest)
        .map(|line| line.purchase.line.description.as_deref().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_margin_view_matches_a_join_computed_here() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "json").await;
    join_the_other_side(client).await;

    let purchases = direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&{window}")).await;
    let sales =
        direct(&relay, &format!("/api/documents/demo/v3/customerinvoices?format=json&{window}")).await;
    let (purchases, sales) =
        (billing::json::parse_invoices(&purchases).unwrap(), billing::json::parse_invoices(&sales).unwrap());
    let report = billing::matching::match_documents(&purchases, &sales);
    assert!(!report.matched.is_empty());
    let expected: Vec<(String, String, String, String)> = report
        .per_customer
        .iter()
        .map(|((customer, currency), margin)| {
            (customer.clone(), currency.clone(), margin.cost.to_string(), margin.sale.to_string())
        })
        .collect();
    let mut shown = Vec::new();
    for row in client.find_all(Locator::Css(".margin-row")).await.unwrap() {
        let attribute = |name: &'static str| {
            let row = row.clone();
            async move { row.attr(name).await.unwrap().unwrap() }
        };
        shown.push((
            attribute("data-customer").await,
            attribute("data-currency").await,
            attribute("data-cost").await,
            attribute("data-sale").await,
        ));
    }
    assert_eq!(shown, expected, "per customer, the page's margin is the join's");
    let subscriptions = client.find_all(Locator::Css(".subscription-margin-row")).await.unwrap().len();
    assert_eq!(subscriptions, report.per_subscription.len(), "one row per subscription and currency");
    let counts = text_of(client, ".margin-counts").await;
    assert!(counts.starts_with(&format!("{} lines matched", report.matched.len())), "{counts}");

    // Each line's cost, sale and margin become columns of the lines table.
    show_tab(client, "lines").await;
    let mut headers = Vec::new();
    for header in client.find_all(Locator::Css(".line-table thead th")).await.unwrap() {
        headers.push(header.text().await.unwrap());
    }
    for column in ["Cost", "Sale", "Margin", "Margin %"] {
        assert!(headers.iter().any(|header| header == column), "{column} in {headers:?}");
    }

    // Sorting by margin puts a line with the smallest margin first.
    let smallest = exact_smallest_margin_descriptions(&report);
    let margin_header = client
        .find(Locator::XPath(
            "//table[contains(@class,'line-table')]//th/button[normalize-space(.)='Margin']",
        ))
        .await
        .unwrap();
    margin_header.click().await.unwrap();
    wait_for(client, "th[aria-sort='ascending']").await;
    let description_column = headers.iter().position(|header| header == "Description").unwrap();
    let first_row = wait_for(client, ".line-row:not([hidden])").await;
    let first_description =
        first_row.find_all(Locator::Css("td")).await.unwrap()[description_column].text().await.unwrap();
    assert!(smallest.contains(&first_description), "{first_description:?} is not among {smallest:?}");

    // The lines CSV carries each line's cost and sale; summed per customer
    // they are the join's.
    let csv = download(&browser, ".download[data-file$='_lines.csv']").await;
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let csv_headers = reader.headers().unwrap().clone();
    let at = |name: &str| csv_headers.iter().position(|header| header == name).unwrap();
    let (customer_at, currency_at, cost_at, sale_at) =
        (at("Customer"), at("Currency"), at("Cost"), at("Sale"));
    let mut from_csv: std::collections::BTreeMap<
        (String, String),
        (rust_decimal::Decimal, rust_decimal::Decimal),
    > = Default::default();
    for record in reader.records() {
        let record = record.unwrap();
        let sums =
            from_csv.entry((record[customer_at].to_owned(), record[currency_at].to_owned())).or_default();
        sums.0 += record[cost_at].parse::<rust_decimal::Decimal>().unwrap();
        sums.1 += record[sale_at].parse::<rust_decimal::Decimal>().unwrap();
    }
    let from_join: std::collections::BTreeMap<_, _> =
        report.per_customer.iter().map(|(key, margin)| (key.clone(), (margin.cost, margin.sale))).collect();
    assert_eq!(from_csv, from_join, "the CSV's cost and sale per customer are the join's");

    // The vendor's consolidated view, against the join computed here.
    let consolidated = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/consolidatedinvoices?format=json&{window}")).await,
    )
    .unwrap();
    let exact = billing::matching::MarginSummary::from(report);
    let comparison = billing::matching::compare_consolidated(&exact, &consolidated);
    assert!(
        !comparison.missing.is_empty() || !comparison.duplicated.is_empty(),
        "the demo's consolidated view is imperfect on purpose"
    );
    show_tab(client, "margin").await;
    wait_for(client, ".load-consolidated").await.click().await.unwrap();
    let said = text_of(client, ".consolidated-counts").await;
    let expected = format!(
        "{} lines agree. {} joined lines are missing from it, {} are listed more than once, {} differ in cost or sale",
        comparison.agreeing,
        comparison.missing.len(),
        comparison.duplicated.len(),
        comparison.differing.len()
    );
    assert!(said.starts_with(&expected), "{said:?} against {expected:?}");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn clicking_a_customer_bar_filters_the_lines_table() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "xml").await;
    wait_for(client, ".chart .bar").await;
    let bars = client.find_all(Locator::Css(".chart:nth-of-type(2) .bar")).await.unwrap();
    let mut chosen = None;
    for bar in bars {
        let label = bar.attr("data-label").await.unwrap().unwrap();
        if !label.contains('<') && label != billing::charts::REST {
            chosen = Some((bar, label));
            break;
        }
    }
    let (bar, customer) = chosen.expect("a customer bar");
    bar.click().await.unwrap();
    wait_for(client, "#panel-lines:not([hidden])").await;
    let url = client.current_url().await.unwrap();
    assert!(url.as_str().ends_with("&view=lines"), "a chosen bar shows the lines: {url}");
    let document = billing::xml::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/invoices?format=xml&{window}")).await,
    )
    .unwrap();
    let total = billing::rows::rows(&document).count();
    let theirs = billing::rows::rows(&document)
        .filter(|row| row.customer.company_name.as_deref() == Some(customer.as_str()))
        .count();
    wait_for_line_count(client, theirs, total).await;
    assert!(text_of(client, ".chips").await.contains(&format!("Customer: {customer}")));
    let field = client.find(Locator::Css("#line-customer")).await.unwrap();
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some(customer.as_str()),
        "the field shows it too"
    );

    wait_for(client, ".clear-all").await.click().await.unwrap();
    // Every invoice's description is "Invoice": the publisher comes from the lines.
    show_tab(client, "overview").await;
    let publisher_bar = wait_for(client, ".chart:nth-of-type(4) .bar").await;
    let publisher = publisher_bar.attr("data-label").await.unwrap().unwrap();
    publisher_bar.click().await.unwrap();
    let publishers = billing::publisher::Publishers::default();
    let theirs = billing::rows::rows(&document)
        .filter(|row| publishers.of(row.subscription, row.line).as_deref() == Some(publisher.as_str()))
        .count();
    assert!(theirs > 0 && theirs < total, "{publisher} has some of the lines");
    wait_for_line_count(client, theirs, total).await;
    assert!(text_of(client, ".chips").await.contains(&format!("Publisher: {publisher}")));
    client.clone().close().await.unwrap();
}

/// Runs axe-core's audit in the page, WCAG 2.2's target size (24 by 24 CSS
/// px, or spaced so) included, and fails with every violation.
async fn assert_no_axe_violations(client: &Client, state: &str) {
    let script_path = std::env::var_os("BILLING_AXE_SCRIPT").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(&std::env::var("HOME").unwrap())
            .join(".cache/billing-portal/tools/node_modules/axe-core/axe.min.js")
    });
    let axe = std::fs::read_to_string(&script_path).unwrap_or_else(|error| {
        panic!("{}: {error}: run `cargo xtask test`, which installs axe-core", script_path.display())
    });
    client.execute(&axe, vec![]).await.unwrap();
    let result = client
        .execute_async(
            "const done = arguments[0];
             axe.run(document, { resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } })
                .then(result => done(result.violations.map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))))
                .catch(error => done([{ id: 'axe failed', help: String(error), nodes: [] }]));",
            vec![],
        )
        .await
        .unwrap();
    let violations = result.as_array().expect("axe answers a list");
    assert!(
        violations.is_empty(),
        "axe-core finds violations {state}: {}",
        serde_json::to_string_pretty(&result).unwrap()
    );
}

#[tokio::test]
async fn the_page_passes_an_axe_core_audit_in_light_and_dark() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();
    wait_for(client, ".fetch").await;
    assert_no_axe_violations(client, "on the empty form").await;

    open_last_three_months(&relay, client, "invoices", "xml").await;
    join_the_other_side(client).await;
    wait_for(client, ".load-consolidated").await.click().await.unwrap();
    wait_for(client, ".consolidated-counts").await;
    group_lines_by_publisher(client).await;
    show_tab(client, "invoices").await;
    wait_for(client, ".invoice-row button").await.click().await.unwrap();
    wait_for(client, ".invoice-detail").await;
    compare_with_the_window_before(client).await;
    show_tab(client, "exceptions").await;
    wait_for(client, ".exception-row").await;
    for theme in ["light", "dark"] {
        choose(client, ".theme select", theme).await;
        for tab in billing_portal::tabs::Tab::ALL {
            show_tab(client, tab.slug()).await;
            assert_no_axe_violations(
                client,
                &format!("on the {} tab, everything loaded, in {theme} colours", tab.label()),
            )
            .await;
        }
    }
    client.clone().close().await.unwrap();
}

/// The app as `cargo xtask` builds it, split: the first screen fetches
/// none of the document's parts; opening a document, going through every
/// tab and view, and the offer of corrections kept in the browser fetch
/// every file of the build, and each part draws.
#[tokio::test]
async fn every_file_of_the_split_app_loads_and_draws_on_its_tab() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let files = split_app_wasm(&workspace_path("BILLING_APP_DIR", "dist"));
    let fetched = |file: &str| relay.logs.lock().unwrap().contains(&format!(r#"path="{file}""#));
    let part = |name: &str| {
        files
            .iter()
            .find(|file| file.ends_with(&format!("/split_{name}.wasm")))
            .cloned()
            .unwrap_or_else(|| panic!("the build has no file for {name}: {files:?}"))
    };
    client.goto(&relay.url).await.unwrap();
    wait_for(client, ".fetch").await;
    // Before any document, the archive's list is drawn below the query.
    wait_for(client, "section.archive").await;
    assert!(
        files.iter().any(|file| file.ends_with("/app_bg.wasm") && fetched(file)),
        "the first screen's module"
    );
    for name in
        ["document_part", "lines_part", "invoices_part", "margin_part", "changes_part", "exceptions_part"]
    {
        assert!(!fetched(&part(name)), "{name} is not part of the first screen");
    }

    open_last_three_months(&relay, client, "invoices", "xml").await;
    wait_for(client, ".summary .currency-total").await;
    wait_for(client, ".publishers summary").await;
    show_tab(client, "invoices").await;
    wait_for(client, ".invoice-row button").await.click().await.unwrap();
    wait_for(client, ".invoice-detail").await;
    group_lines_by_publisher(client).await;
    join_the_other_side(client).await;
    compare_with_the_window_before(client).await;
    show_tab(client, "exceptions").await;
    wait_for(client, ".exception-row").await;
    show_tab(client, "archive").await;
    wait_for(client, "#panel-archive .archive-table").await;
    // Only a browser that kept corrections before the team shared them
    // is offered to import them.
    assert!(!fetched(&part("import_offer_part")), "no offer without kept corrections");
    client
        .execute("localStorage.setItem('billing-portal.publishers', 'Telephony\\tKPN\\n')", vec![])
        .await
        .unwrap();
    client.refresh().await.unwrap();
    wait_for(client, ".import-offer .import-kept").await;

    let missing: Vec<&String> = files.iter().filter(|file| !fetched(file)).collect();
    assert!(missing.is_empty(), "never fetched, so never run: {missing:?}");
    let page = client.source().await.unwrap();
    assert!(!page.contains("could not be loaded"), "a part of the page failed to load");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_corrected_publisher_filters_the_lines_and_is_remembered() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "xml").await;
    let document = billing::xml::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/invoices?format=xml&{window}")).await,
    )
    .unwrap();
    let total = billing::rows::rows(&document).count();
    // The emulator writes "Invoice" as every description, as the vendor does:
    // each product's publisher is read from the plans and SKUs.
    assert!(document.invoices.iter().all(|invoice| invoice.header.description.as_deref() == Some("Invoice")));
    wait_for(client, ".publishers summary").await.click().await.unwrap();
    let row = wait_for(client, ".publisher-row").await;
    let product = row.attr("data-product").await.unwrap().unwrap();
    let theirs = billing::rows::rows(&document)
        .filter(|row| billing::publisher::product_of(row.subscription) == Some(product.as_str()))
        .count();
    assert!(theirs > 0 && theirs < total, "{product} has some of the lines");

    let input = row.find(Locator::Css(".publisher-input")).await.unwrap();
    input.send_keys("Test Publisher B.V.").await.unwrap();
    client
        .execute("document.querySelector('.publisher-input').dispatchEvent(new Event('change', { bubbles: true }))", vec![])
        .await
        .unwrap();
    let offered = "return [...document.querySelectorAll('#line-publisher option')].map(o => o.value)";
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let values: Vec<String> =
            serde_json::from_value(client.execute(offered, vec![]).await.unwrap()).unwrap();
        if values.iter().any(|value| value == "Test Publisher B.V.") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the filter offers {values:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    show_tab(client, "lines").await;
    choose(client, "#line-publisher", "Test Publisher B.V.").await;
    wait_for_line_count(client, theirs, total).await;

    // Fetched again, the correction holds from the start.
    client.refresh().await.unwrap();
    wait_for(client, "#panel-lines:not([hidden]) .line-row:not([hidden])").await;
    show_tab(client, "overview").await;
    wait_for(client, ".publishers summary").await.click().await.unwrap();
    let field = wait_for(client, &format!(".publisher-row[data-product='{product}'] .publisher-input")).await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("Test Publisher B.V."));
    let offered_now: Vec<String> =
        serde_json::from_value(client.execute(offered, vec![]).await.unwrap()).unwrap();
    assert!(offered_now.iter().any(|value| value == "Test Publisher B.V."), "{offered_now:?}");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn every_exceptions_count_is_crates_billings_on_direct_downloads() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "json").await;
    show_tab(client, "exceptions").await;
    wait_for(client, ".exception-row").await;
    join_the_other_side(client).await;
    wait_for(client, ".load-consolidated").await.click().await.unwrap();
    wait_for(client, ".consolidated-counts").await;
    show_tab(client, "exceptions").await;
    // A threshold most of the demo's margins are under, so the list is long.
    let field = wait_for(client, "#low-margin").await;
    field.clear().await.unwrap();
    field.send_keys("50").await.unwrap();
    client
        .execute(
            "document.querySelector('#low-margin').dispatchEvent(new Event('change', { bubbles: true }))",
            vec![],
        )
        .await
        .unwrap();

    let purchases = direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&{window}")).await;
    let sales =
        direct(&relay, &format!("/api/documents/demo/v3/customerinvoices?format=json&{window}")).await;
    let (purchases, sales) =
        (billing::json::parse_invoices(&purchases).unwrap(), billing::json::parse_invoices(&sales).unwrap());
    let mut expected = billing::exceptions::worklist(Some(&purchases), Some(&sales), "50".parse().unwrap());
    let consolidated = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/consolidatedinvoices?format=json&{window}")).await,
    )
    .unwrap();
    let margins =
        billing::matching::MarginSummary::from(billing::matching::match_documents(&purchases, &sales));
    let comparison = billing::matching::compare_consolidated(&margins, &consolidated);
    billing::exceptions::flag_consolidated(&mut expected, &purchases, &margins, &comparison);
    assert!(
        expected.stake(billing::exceptions::ExceptionKind::ConsolidatedDisagrees).0 > 0,
        "the demo's consolidated view is imperfect on purpose"
    );
    let expected: Vec<(String, usize)> = billing::exceptions::ExceptionKind::ALL
        .iter()
        .map(|kind| (format!("{kind:?}"), expected.stake(*kind).0))
        .collect();
    assert!(expected.iter().any(|(_, count)| *count > 0), "the demo has something on the list: {expected:?}");
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let shown: Vec<(String, usize)> = serde_json::from_value(
            client
                .execute(
                    "return [...document.querySelectorAll('.exception-row')].map(row => [row.dataset.kind, Number(row.dataset.count)])",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        if shown == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page lists {shown:?}, crates/billing {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (busiest, count) = expected.iter().max_by_key(|(_, count)| *count).unwrap().clone();
    wait_for(client, &format!(".exception-row[data-kind='{busiest}'] .show-exceptions"))
        .await
        .click()
        .await
        .unwrap();
    wait_for(client, ".flagged-row").await;
    let listed = client.find_all(Locator::Css(".flagged-row")).await.unwrap().len();
    assert_eq!(listed, count.min(analysis::LISTED), "the kind's lines, the first of them");

    let csv = download(&browser, ".download[data-file$='_exceptions.csv']").await;
    let records = csv::Reader::from_reader(csv.as_slice()).records().count();
    assert_eq!(records, expected.iter().map(|(_, count)| count).sum::<usize>(), "one row a flagged line");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn changes_between_two_invoice_runs_are_the_comparison_of_direct_downloads() {
    use chrono::Datelike;
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let today = chrono::Local::now().date_naive();
    let month = (today.with_day(1).unwrap() - chrono::Months::new(2)).with_day(1).unwrap();
    let (start, end, _) = billing_portal::query::invoice_run_window(month);
    let (earlier_start, earlier_end, _) =
        billing_portal::query::invoice_run_window(month - chrono::Months::new(1));
    let page = format!(
        "{}/?profile=demo&version=v3&endpoint=invoices&format=json&start={start}&end={end}",
        relay.url
    );
    // This window's other side first: then the earlier one's follows, and
    // the margins are compared too.
    client.goto(&format!("{page}&view=margin")).await.unwrap();
    wait_for(client, "#panel-margin:not([hidden]) .load-other").await.click().await.unwrap();
    wait_for(client, ".margin-row").await;
    show_tab(client, "changes").await;
    let button = wait_for(client, "#panel-changes:not([hidden]) .load-earlier").await;
    assert_eq!(
        button.text().await.unwrap(),
        format!("Compare with {earlier_start} to {earlier_end}"),
        "the run before"
    );
    button.click().await.unwrap();
    wait_for(client, ".change-counts[data-joined='true']").await;

    let now =
        direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&start={start}&end={end}")).await;
    let before = direct(
        &relay,
        &format!("/api/documents/demo/v3/invoices?format=json&start={earlier_start}&end={earlier_end}"),
    )
    .await;
    let (now, before) =
        (billing::json::parse_invoices(&now).unwrap(), billing::json::parse_invoices(&before).unwrap());
    let sales = |start, end| {
        let path = format!("/api/documents/demo/v3/customerinvoices?format=json&start={start}&end={end}");
        let relay = &relay;
        async move { billing::json::parse_invoices(&direct(relay, &path).await).unwrap() }
    };
    let (now_sales, before_sales) = (sales(start, end).await, sales(earlier_start, earlier_end).await);
    let margins = |purchases, sales| {
        billing::matching::MarginSummary::from(billing::matching::match_documents(purchases, sales))
    };
    let (now_margins, before_margins) = (margins(&now, &now_sales), margins(&before, &before_sales));
    let expected = billing::changes::compare_joined(&before, Some(&before_margins), &now, Some(&now_margins));
    assert!(!expected.changes.is_empty(), "a month changes something");
    let margin_changed = expected
        .changes
        .iter()
        .filter(|change| change.kinds.contains(&billing::changes::ChangeKind::MarginChanged))
        .count();
    assert!(margin_changed > 0, "some margin moves from one month to the next");
    let counts = text_of(client, ".change-counts").await;
    assert!(
        counts.starts_with(&format!(
            "{} charges changed, {} the same",
            expected.changes.len(),
            expected.unchanged
        )),
        "{counts}"
    );
    let mut totals = Vec::new();
    for row in client.find_all(Locator::Css(".change-total")).await.unwrap() {
        let attribute = |name: &'static str| {
            let row = row.clone();
            async move { row.attr(name).await.unwrap().unwrap() }
        };
        totals.push((
            attribute("data-currency").await,
            attribute("data-before").await,
            attribute("data-after").await,
        ));
    }
    let expected_totals: Vec<(String, String, String)> = expected
        .per_currency
        .iter()
        .map(|(currency, amounts)| (currency.clone(), amounts.before.to_string(), amounts.after.to_string()))
        .collect();
    assert_eq!(totals, expected_totals, "per currency, never netted");

    // The largest change opens its lines in both windows.
    let largest = expected.changes_by_difference().next().unwrap();
    let shown = client.find(Locator::Css(".charge-change")).await.unwrap();
    assert_eq!(shown.attr("data-difference").await.unwrap(), Some(largest.difference().to_string()));
    shown.find(Locator::Css(".show-change")).await.unwrap().click().await.unwrap();
    wait_for(client, ".window-line").await;
    let lines = client.find_all(Locator::Css(".window-line")).await.unwrap().len();
    let count =
        |figures: &Option<billing::changes::Figures>| figures.as_ref().map_or(0, |figures| figures.lines);
    assert_eq!(lines, count(&largest.before) + count(&largest.after), "its lines, before and now");

    // So do a customer's, in one currency.
    let row = wait_for(client, ".customer-change").await;
    let customer = row.find(Locator::Css("th")).await.unwrap().text().await.unwrap();
    let currency = row.find(Locator::Css("td")).await.unwrap().text().await.unwrap();
    let theirs = |document: &billing::InvoiceDocument| {
        billing::rows::rows(document)
            .filter(|line| {
                let key = billing::changes::ChargeKey::of(line);
                key.customer == customer && key.currency == currency
            })
            .count()
    };
    let expected_lines = theirs(&before) + theirs(&now);
    row.find(Locator::Css(".show-customer-change")).await.unwrap().click().await.unwrap();
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let shown = client.find_all(Locator::Css(".window-line")).await.unwrap().len();
        if shown == expected_lines {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{customer}: {shown} lines, not {expected_lines}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A chart per currency of the customers whose total moved most.
    let mut moved: Vec<(&(String, String), &billing::changes::BeforeAfter)> =
        expected.per_customer.iter().filter(|(_, amounts)| amounts.difference() != 0.into()).collect();
    moved.sort_by_key(|(_, amounts)| std::cmp::Reverse(amounts.difference().abs()));
    for currency in expected.per_currency.keys() {
        let mut largest: Vec<String> = moved
            .iter()
            .filter(|((_, in_currency), _)| in_currency == currency)
            .take(10)
            .map(|((customer, _), _)| customer.clone())
            .collect();
        if largest.is_empty() {
            continue;
        }
        let title = format!("Change per customer in {currency}: the {} largest", largest.len());
        let mut charted: Vec<String> = serde_json::from_value(
            client
                .execute(
                    "return [...document.querySelectorAll('.changes .chart')].filter(chart => chart.querySelector('figcaption').textContent === arguments[0]).flatMap(chart => [...chart.querySelectorAll('.bar')].map(bar => bar.dataset.label))",
                    vec![serde_json::json!(title)],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        largest.sort();
        charted.sort();
        assert_eq!(charted, largest, "{title}");
    }

    // Listed by customer, as the reader asks; the worker sorts every charge.
    choose(client, "#change-order", "customer").await;
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let customers: Vec<String> = serde_json::from_value(
            client
                .execute("return [...document.querySelectorAll('.charge-change td:first-child')].map(td => td.textContent)", vec![])
                .await
                .unwrap(),
        )
        .unwrap();
        let mut by_name: Vec<String> =
            expected.changes.iter().map(|change| change.key.customer.clone()).collect();
        by_name.sort();
        by_name.truncate(customers.len());
        if !customers.is_empty() && customers == by_name {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "listed {customers:?}, not {by_name:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A customer's bar shows that customer's lines.
    let bar = wait_for(client, ".changes .chart .bar").await;
    let customer = bar.attr("data-label").await.unwrap().unwrap();
    bar.click().await.unwrap();
    wait_for(client, "#panel-lines:not([hidden])").await;
    let chips = text_of(client, ".chips").await;
    assert!(chips.contains(&format!("Customer: {customer}")), "{chips}");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn in_a_decimal_comma_locale_the_csv_is_semicolons_and_the_choice_is_remembered() {
    let relay = start_relay().await;
    let browser = start_browser_speaking("nl").await;
    let client = &browser.client;
    open_last_three_months(&relay, client, "invoices", "xml").await;
    let semicolon = wait_for(client, "#csv-semicolon").await;
    assert_eq!(semicolon.prop("checked").await.unwrap().as_deref(), Some("true"), "Dutch Excel's default");
    let csv = download(
        &browser,
        ".download[data-file$='.csv']:not([data-file$='_lines.csv']):not([data-file$='_exceptions.csv'])",
    )
    .await;
    let text = String::from_utf8(csv).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.contains(';') && !header.contains(','), "{header}");

    semicolon.click().await.unwrap();
    open_last_three_months(&relay, client, "invoices", "xml").await;
    let semicolon = wait_for(client, "#csv-semicolon").await;
    assert_eq!(
        semicolon.prop("checked").await.unwrap().as_deref(),
        Some("false"),
        "the user's choice, remembered"
    );
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn at_laptop_width_chart_text_is_readable_and_no_number_is_cut() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.set_window_size(1366, 768).await.unwrap();
    open_last_three_months(&relay, client, "invoices", "xml").await;
    join_the_other_side(client).await;
    show_tab(client, "overview").await;
    wait_for(client, ".chart .bar-label").await;
    let smallest: f64 = serde_json::from_value(
        client
            .execute(
                "return Math.min(...[...document.querySelectorAll('.chart text')].map(text => parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a))",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(smallest >= 12.0, "the smallest chart text is {smallest:.1} px");
    let months: Vec<String> = serde_json::from_value(
        client
            .execute(
                "return [...document.querySelectorAll('.chart.columns .bar')].map(bar => bar.dataset.label)",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(months.len() >= 2, "{months:?}");
    assert!(months.windows(2).all(|pair| pair[0] < pair[1]), "months as columns in time order: {months:?}");
    let lefts: Vec<f64> = serde_json::from_value(
        client
            .execute("return [...document.querySelectorAll('.chart.columns .bar rect:not(.hit)')].map(rect => rect.getBoundingClientRect().left)", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(lefts.windows(2).all(|pair| pair[0] < pair[1]), "side by side, left to right: {lefts:?}");

    // With the margin joined, the table has every numeric column.
    show_tab(client, "lines").await;
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let headers: Vec<String> = serde_json::from_value(
            client
                .execute(
                    "return [...document.querySelectorAll('.line-table thead th')].map(th => th.textContent)",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        if headers.iter().any(|header| header.starts_with("Margin")) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no margin columns in {headers:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(client, ".line-row:not([hidden]) td.number").await;
    let cut: Vec<String> = serde_json::from_value(
        client
            .execute(
                "return [...document.querySelectorAll('.line-row:not([hidden]) td.number')].filter(td => td.scrollWidth > td.clientWidth).map(td => td.textContent)",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let checked: u64 = serde_json::from_value(
        client
            .execute("return document.querySelectorAll('.line-row:not([hidden]) td.number').length", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(checked > 0);
    assert!(cut.is_empty(), "numbers cut off: {cut:?}");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_scroll_faster_than_the_worker_answers_ends_on_the_rows_where_it_stops() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    // Three years of lines: thousands, many windows of rows.
    let today = chrono::Local::now().date_naive();
    let start = today.checked_sub_months(chrono::Months::new(36)).unwrap();
    let page = format!(
        "{}/?profile=demo&version=v3&endpoint=invoices&format=json&start={start}&end={today}",
        relay.url
    );
    client.goto(&page).await.unwrap();
    show_tab(client, "lines").await;
    wait_for(client, ".line-row:not([hidden])").await;
    // Jumps of more than a window a frame: each window the worker sends
    // answers a place the view has already left. Where it stops, its rows come.
    let stopped = client
        .execute_async(
            "const done = arguments[0];
             (async () => {
                 const viewport = document.querySelector('.viewport');
                 const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
                 const distance = viewport.scrollHeight - viewport.clientHeight;
                 for (let step = 1; step <= 10; step++) {
                     await frame();
                     viewport.scrollTop = Math.round(distance * 0.9 * step / 10);
                 }
                 const covered = () => {
                     const rows = [...viewport.querySelectorAll('tr.line-row:not([hidden])')];
                     const header = viewport.querySelector('thead th').getBoundingClientRect().bottom;
                     return rows.length > 0 && rows[0].getBoundingClientRect().top <= header + 1
                         && rows.at(-1).getBoundingClientRect().bottom >= viewport.getBoundingClientRect().bottom - 1;
                 };
                 // About ten seconds of frames.
                 for (let waited = 0; waited < 600 && !covered(); waited++) await frame();
                 done({ covered: covered(), top: viewport.scrollTop, lines: viewport.scrollHeight / 32,
                        in_view: viewport.clientHeight / 32,
                        status: document.querySelector('.lines-shown').textContent });
             })();",
            vec![],
        )
        .await
        .unwrap();
    let jump = stopped["lines"].as_f64().unwrap() * 0.9 / 10.0;
    let window = stopped["in_view"].as_f64().unwrap() + 3.0 * billing_portal::scrolling::BLOCK as f64;
    assert!(jump > window, "each jump passes more than a window of rows: {stopped}");
    assert_eq!(stopped["covered"], true, "the rows where the view stopped: {stopped}");
    client.clone().close().await.unwrap();
}

/// The number a tab shows beside its name, without its digit grouping.
async fn tab_count(client: &Client, tab: &str) -> usize {
    let text = text_of(client, &format!("#tab-{tab} .tab-count")).await;
    text.replace([',', '.', '\u{a0}', '\u{202f}'], "").parse().unwrap_or_else(|_| panic!("{tab}: {text:?}"))
}

async fn selected_tab(client: &Client) -> String {
    let selected = wait_for(client, "[role='tab'][aria-selected='true']").await;
    selected.attr("id").await.unwrap().unwrap().trim_start_matches("tab-").to_owned()
}

#[tokio::test]
async fn tabs_live_in_the_url_count_their_items_and_back_returns() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let today = chrono::Local::now().date_naive();
    let (start, end) = billing_portal::query::Preset::LastThreeMonths.window(today);
    let window = format!("start={start}&end={end}");
    let link = format!(
        "{}/?profile=demo&version=v3&endpoint=invoices&format=json&{window}&view=exceptions",
        relay.url
    );
    client.goto(&link).await.unwrap();

    // A shared link opens its tab, and only that tab's panel is shown.
    wait_for(client, "#panel-exceptions:not([hidden]) .exception-row").await;
    assert_eq!(selected_tab(client).await, "exceptions");
    let shown: Vec<String> = serde_json::from_value(
        client
            .execute(
                "return [...document.querySelectorAll('[role=tabpanel]:not([hidden])')].map(p => p.id)",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(shown, ["panel-exceptions"]);

    let document = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&{window}")).await,
    )
    .unwrap();
    assert_eq!(tab_count(client, "invoices").await, document.invoices.len());
    assert_eq!(tab_count(client, "lines").await, billing::rows::rows(&document).count());
    let worklist = billing::exceptions::worklist(Some(&document), None, "10".parse().unwrap());
    let flagged: usize =
        billing::exceptions::ExceptionKind::ALL.iter().map(|kind| worklist.stake(*kind).0).sum();
    assert_eq!(tab_count(client, "exceptions").await, flagged, "the worklist's lines");
    assert!(
        client.find(Locator::Css("#tab-margin .tab-count")).await.is_err(),
        "nothing is counted before it is loaded"
    );

    // Choosing a tab is a step in the history; the keyboard moves along them.
    show_tab(client, "lines").await;
    assert!(client.current_url().await.unwrap().as_str().ends_with("&view=lines"));
    wait_for(client, "#tab-lines").await.send_keys(&fantoccini::key::Key::Right.to_string()).await.unwrap();
    wait_for(client, "#panel-margin:not([hidden])").await;
    assert_eq!(selected_tab(client).await, "margin");
    let focused = client.execute("return document.activeElement.id", vec![]).await.unwrap();
    assert_eq!(focused, serde_json::json!("tab-margin"), "the focus follows");
    wait_for(client, ".load-other").await.click().await.unwrap();
    wait_for(client, ".margin-row").await;
    let sales = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/customerinvoices?format=json&{window}")).await,
    )
    .unwrap();
    let report = billing::matching::match_documents(&document, &sales);
    assert_eq!(
        tab_count(client, "margin").await,
        report.per_customer.len(),
        "a row per customer and currency"
    );

    client.back().await.unwrap();
    wait_for(client, "#panel-lines:not([hidden])").await;
    assert!(client.current_url().await.unwrap().as_str().ends_with("&view=lines"));
    client.back().await.unwrap();
    wait_for(client, "#panel-exceptions:not([hidden])").await;
    assert_eq!(selected_tab(client).await, "exceptions");
    assert!(client.find(Locator::Css(".margin-row")).await.is_ok(), "going back loses nothing loaded");

    // The overview needs no mention in the URL.
    show_tab(client, "overview").await;
    let url = client.current_url().await.unwrap();
    assert!(!url.as_str().contains("view="), "{url}");
    client.clone().close().await.unwrap();
}

fn decimal(cell: &calamine::Data) -> rust_decimal::Decimal {
    cell_text(cell).parse().unwrap_or_else(|_| panic!("{cell:?} is not a number"))
}

#[tokio::test]
async fn the_workbook_read_back_has_the_pages_totals_and_the_tables_lines() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    let window = open_last_three_months(&relay, client, "invoices", "json").await;
    join_the_other_side(client).await;
    compare_with_the_window_before(client).await;

    // The lines of one charge type, largest amount first.
    show_tab(client, "lines").await;
    let purchases = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/invoices?format=json&{window}")).await,
    )
    .unwrap();
    let total = billing::rows::rows(&purchases).count();
    let charge = billing::rows::rows(&purchases).find_map(|row| row.line.charge_type.clone()).unwrap();
    let theirs: Vec<_> = billing::rows::rows(&purchases)
        .filter(|row| row.line.charge_type.as_deref() == Some(&charge))
        .collect();
    assert!(theirs.len() < total, "{charge} is some of the lines");
    choose(client, "#line-charge", &charge).await;
    wait_for_line_count(client, theirs.len(), total).await;
    client
        .execute(
            "[...document.querySelectorAll('button.sort')].find(b => b.textContent.startsWith('Amount')).click()",
            vec![],
        )
        .await
        .unwrap();
    wait_for(client, "th[aria-sort='ascending']").await;
    let table_headers: Vec<String> = serde_json::from_value(
        client
            .execute("return [...document.querySelectorAll('.line-table thead th')].map(th => th.textContent.trim())", vec![])
            .await
            .unwrap(),
    )
    .unwrap();

    let workbook = download(&browser, ".download[data-file$='.xlsx']").await;
    use calamine::Reader;
    let names =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(workbook.clone()))
            .unwrap()
            .sheet_names();
    assert_eq!(names, ["Summary", "Invoices", "Lines", "Margin", "Changes", "Exceptions"]);

    // The summary's totals are the page's, to the cent.
    let summary = sheet(&workbook, "Summary");
    let page: Vec<(String, String, String)> = page_totals(client).await;
    let mut from_workbook = Vec::new();
    for row in summary[1..].iter().take_while(|row| row[0] != calamine::Data::Empty) {
        from_workbook.push((cell_text(&row[0]), decimal(&row[3]).to_string(), decimal(&row[4]).to_string()));
    }
    let normalised = |totals: Vec<(String, String, String)>| -> Vec<(String, rust_decimal::Decimal, rust_decimal::Decimal)> {
        totals.into_iter().map(|(currency, excluding, vat)| (currency, excluding.parse().unwrap(), vat.parse().unwrap())).collect()
    };
    assert_eq!(normalised(from_workbook), normalised(page), "the workbook's totals are the page's");

    // The lines are the table's: its filter, its order, its columns.
    let lines = sheet(&workbook, "Lines");
    let headers: Vec<String> = lines[0].iter().map(cell_text).collect();
    let mut expected_headers = Vec::new();
    for header in &table_headers {
        match header.trim_end_matches(['▲', '▼']).trim() {
            "Period" => expected_headers.extend(["Start".to_owned(), "End".to_owned()]),
            header => expected_headers.push(header.to_owned()),
        }
    }
    expected_headers.push("Currency".to_owned());
    assert_eq!(headers, expected_headers);
    assert_eq!(lines.len() - 1, theirs.len(), "exactly the filtered lines");
    let amount_at = headers.iter().position(|header| header == "Amount").unwrap();
    let amounts: Vec<rust_decimal::Decimal> = lines[1..].iter().map(|row| decimal(&row[amount_at])).collect();
    assert!(amounts.windows(2).all(|pair| pair[0] <= pair[1]), "in the table's order");
    let mut expected_amounts: Vec<_> =
        theirs.iter().map(|row| row.line.extended_price.unwrap_or_default()).collect();
    expected_amounts.sort();
    assert_eq!(amounts, expected_amounts, "the amounts are crates/billing's");

    // The margin per customer is the join's; the worklist is crates/billing's.
    let sales = billing::json::parse_invoices(
        &direct(&relay, &format!("/api/documents/demo/v3/customerinvoices?format=json&{window}")).await,
    )
    .unwrap();
    let margins =
        billing::matching::MarginSummary::from(billing::matching::match_documents(&purchases, &sales));
    let margin_rows = sheet(&workbook, "Margin");
    let from_workbook: Vec<(String, String, rust_decimal::Decimal, rust_decimal::Decimal)> = margin_rows[1..]
        .iter()
        .map(|row| (cell_text(&row[0]), cell_text(&row[1]), decimal(&row[2]), decimal(&row[3])))
        .collect();
    let expected: Vec<_> = margins
        .per_customer
        .iter()
        .map(|((customer, currency), margin)| (customer.clone(), currency.clone(), margin.cost, margin.sale))
        .collect();
    assert_eq!(from_workbook, expected);
    let threshold = "10".parse().unwrap();
    let worklist = billing::exceptions::worklist(Some(&purchases), Some(&sales), threshold);
    let flagged: usize = worklist.kinds.values().map(Vec::len).sum();
    assert_eq!(sheet(&workbook, "Exceptions").len() - 1, flagged, "every line on the worklist");
    client.clone().close().await.unwrap();
}

/// A document of several of the worker's Blob parts and a rest downloads
/// byte for byte as the relay sent it: the parts are joined in order.
#[tokio::test]
async fn a_document_of_several_parts_downloads_exactly_as_received() {
    let vendor = VendorProcess::start_with(ARCHIVE_KEY, &["--customers", "800"]).await;
    let data_dir = tempfile::tempdir().unwrap();
    let relay = relay_archiving(&vendor, data_dir.path()).await;
    let today = chrono::Local::now().date_naive();
    let window = format!("start={}&end={today}", today - chrono::Months::new(24));
    let sent = direct(&relay, &format!("/api/documents/archived/v3/invoices?format=json&{window}")).await;
    let parts = sent.len() / worker_protocol::BLOB_PART_BYTES;
    assert!(parts >= 2 && sent.len() % worker_protocol::BLOB_PART_BYTES > 0, "{} bytes", sent.len());
    let browser = start_browser().await;
    let client = &browser.client;
    client
        .goto(&format!("{}/?profile=archived&version=v3&endpoint=invoices&format=json&{window}", relay.url))
        .await
        .unwrap();
    let raw = download(&browser, ".download[data-file^='invoices'][data-file$='.json']").await;
    assert!(raw == sent, "the raw file, {} bytes, is the {} bytes the relay sent", raw.len(), sent.len());
    client.clone().close().await.unwrap();
}

/// A relay in front of `vendor`, archiving into `data_dir`.
async fn relay_archiving(vendor: &VendorProcess, data_dir: &Path) -> Relay {
    let config = data_dir.join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "allowlist = [\"127.0.0.0/8\"]\n\n[[profiles]]\nname = \"archived\"\nenvironment = \"TEST\"\n\
             generation = \"legacy\"\nbase_url = \"{}\"\nkey_env = \"ARCHIVE_TEST_KEY\"\n",
            vendor.url
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let data = data_dir.display().to_string();
    start_relay_with(
        &["--config", &config, "--listen", "127.0.0.1:0"],
        &[("ARCHIVE_TEST_KEY", ARCHIVE_KEY), ("BILLING_DATA_DIR", &data)],
    )
    .await
}

const ARCHIVE_KEY: &str = "archive-test-key-0b9e";

/// Waits until the archive note says `words` (or starts so).
async fn wait_for_note(client: &Client, words: &str) -> String {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let note = text_of(client, ".archive-note").await;
        if note.starts_with(words) {
            return note;
        }
        assert!(tokio::time::Instant::now() < deadline, "the archive note says {note:?}, not {words:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_archived_document_opens_with_every_tab_while_the_vendor_is_down() {
    use chrono::Datelike;
    let vendor = VendorProcess::start(ARCHIVE_KEY).await;
    let data_dir = tempfile::tempdir().unwrap();
    let relay = relay_archiving(&vendor, data_dir.path()).await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.set_window_rect(0, 0, 1366, 768).await.unwrap();
    let today = chrono::Local::now().date_naive();
    let month = (today.with_day(1).unwrap() - chrono::Months::new(2)).with_day(1).unwrap();
    let (start, end, _) = billing_portal::query::invoice_run_window(month);
    let (earlier_start, earlier_end, _) =
        billing_portal::query::invoice_run_window(month - chrono::Months::new(1));
    let page = |start, end| {
        format!(
            "{}/?profile=archived&version=v3&endpoint=invoices&format=xml&start={start}&end={end}",
            relay.url
        )
    };

    // A store that cannot be written: the document arrives, the page says
    // it was not archived and why, and archiving resumes once it can.
    let documents = data_dir.path().join("documents");
    std::fs::remove_dir_all(&documents).unwrap();
    std::fs::write(&documents, b"not a directory").unwrap();
    let (oldest_start, oldest_end, _) =
        billing_portal::query::invoice_run_window(month - chrono::Months::new(2));
    client.goto(&page(oldest_start, oldest_end)).await.unwrap();
    wait_for(client, ".results").await;
    let note = wait_for_note(client, "Not archived").await;
    assert!(
        note.contains("storage could not be written") && note.contains("You have the whole document"),
        "{note}"
    );
    std::fs::remove_file(&documents).unwrap();
    std::fs::create_dir(&documents).unwrap();

    // Both windows fetched while the vendor is up: each is archived.
    client.goto(&page(earlier_start, earlier_end)).await.unwrap();
    wait_for(client, ".results").await;
    wait_for_note(client, "Archived exactly as received").await;
    client.goto(&page(start, end)).await.unwrap();
    wait_for(client, ".results").await;
    wait_for_note(client, "Archived exactly as received").await;
    let live = download(&browser, ".download[data-file$='.xml']").await;

    // With a document open the panel is one line, and the tabs and the
    // first rows of the open tab show on a 1366×768 screen.
    assert!(wait_for(client, ".query-line").await.is_displayed().await.unwrap());
    assert!(!wait_for(client, "form.query").await.is_displayed().await.unwrap());
    let (tabs_bottom, rows_top, viewport): (f64, f64, f64) = {
        let measured = client
            .execute(
                "return [document.querySelector('[role=tablist]').getBoundingClientRect().bottom, \
                 document.querySelector('#panel-overview .currency-total').getBoundingClientRect().top, \
                 window.innerHeight]",
                vec![],
            )
            .await
            .unwrap();
        let number = |at: usize| measured[at].as_f64().unwrap();
        (number(0), number(1), number(2))
    };
    assert!(
        tabs_bottom < viewport && rows_top + 24.0 < viewport,
        "tabs end at {tabs_bottom}, rows start at {rows_top} of {viewport}"
    );

    show_tab(client, "archive").await;
    wait_for(client, "#panel-archive .archive-table tbody tr").await;
    let rows = client.find_all(Locator::Css("#panel-archive .archive-table tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "both windows are listed");
    let newest = rows[0].text().await.unwrap();
    assert!(newest.contains(&format!("{start} to {end}")) && newest.contains("XML"), "{newest}");

    // The vendor goes down; the reloaded page cannot fetch, and offers the archive.
    vendor.stop().await;
    client.refresh().await.unwrap();
    assert_eq!(text_of(client, ".problem-title").await, "The vendor cannot be reached");
    let offer = text_of(client, ".archive-offer").await;
    assert!(offer.starts_with("The archive has exactly this document, fetched"), "{offer}");
    wait_for(client, ".archive-offer .open-archived").await.click().await.unwrap();
    wait_for(client, ".results").await;
    let note = wait_for_note(client, "Opened from the archive").await;
    assert!(note.contains("The vendor was not asked"), "{note}");
    let archived = download(&browser, ".download[data-file$='.xml']").await;
    assert_eq!(archived, live, "the raw download is the archived bytes");
    let document = billing::xml::parse_invoices(&archived).unwrap();
    assert_eq!(page_totals(client).await, expected_totals(&document), "every tab works on the archived copy");
    show_tab(client, "lines").await;
    wait_for(client, ".line-row:not([hidden])").await;

    // Changes compares with the archived earlier window, the vendor still down.
    compare_with_the_window_before(client).await;
    show_tab(client, "archive").await;
    let open_older =
        client.find_all(Locator::Css("#panel-archive .archive-table tbody tr .open-archived")).await.unwrap();
    assert_eq!(open_older.len(), 2, "opening from the archive archives nothing new");
    open_older[1].click().await.unwrap();
    wait_for(client, "#panel-overview:not([hidden])").await;
    let summary = text_of(client, ".query-summary").await;
    assert!(summary.contains(&format!("{earlier_start} to {earlier_end}")), "{summary}");
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn corrections_kept_in_a_browser_are_offered_once_and_imported_for_the_team() {
    let relay = start_relay().await;
    let browser = start_browser().await;
    let client = &browser.client;
    client.goto(&relay.url).await.unwrap();
    wait_for(client, "#profile").await;
    client
        .execute(
            "localStorage.setItem('billing-portal.publishers', 'Telephony\\tKPN\\nMobile\\tVodafone\\n'); \
             localStorage.setItem('billing-portal.low-margin-percent', '12,5')",
            vec![],
        )
        .await
        .unwrap();
    client.refresh().await.unwrap();
    let offer = text_of(client, ".import-offer").await;
    assert!(offer.contains("2 publisher corrections and a low-margin threshold of 12.5 %"), "{offer}");
    wait_for(client, ".import-kept").await.click().await.unwrap();
    let deadline = tokio::time::Instant::now() + STARTUP;
    while client.find(Locator::Css(".import-offer")).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "the offer stays after importing");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settings: billing::api::decisions::SharedSettings =
        serde_json::from_slice(&direct(&relay, &billing::api::decisions::paths::settings("demo")).await)
            .unwrap();
    assert_eq!(settings.version, 1, "imported in one change");
    assert_eq!(settings.settings.corrections.get("Telephony").map(String::as_str), Some("KPN"));
    assert_eq!(settings.settings.corrections.get("Mobile").map(String::as_str), Some("Vodafone"));
    assert_eq!(settings.settings.low_margin_percent.to_string(), "12.5");
    assert_eq!(settings.changed.map(|changed| changed.by), Some("you".to_owned()), "the local person");
    let left: serde_json::Value = client
        .execute(
            "return [localStorage.getItem('billing-portal.publishers'), localStorage.getItem('billing-portal.low-margin-percent')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(left, serde_json::json!([null, null]), "the browser's copy is gone");
    // Not offered again: opened anew, the page has nothing to import.
    client.refresh().await.unwrap();
    wait_for(client, "#profile").await;
    assert!(client.find(Locator::Css(".import-offer")).await.is_err());
    client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_month_the_vendor_reissues_after_sign_off_is_flagged_with_the_changed_line() {
    let vendor = VendorProcess::start_with(ARCHIVE_KEY, &["--fault", "reissue=1"]).await;
    let data_dir = tempfile::tempdir().unwrap();
    let relay = relay_archiving(&vendor, data_dir.path()).await;
    let browser = start_browser_recording_requests().await;
    let client = &browser.client;
    let month = billing::api::decisions::InvoiceMonth::containing(chrono::Local::now().date_naive()).back(1);
    client
        .goto(&format!(
            "{}/?profile=archived&version=v3&endpoint=invoices&format=xml&start={}&end={}",
            relay.url,
            month.first_day(),
            month.last_day()
        ))
        .await
        .unwrap();
    wait_for(client, ".results").await;
    wait_for_note(client, "Archived exactly as received").await;
    let signed = download(&browser, ".download[data-file$='.xml']").await;

    show_tab(client, "exceptions").await;
    wait_for(client, ".sign-off-month").await.click().await.unwrap();
    wait_for_text(client, ".signed-off-by", &format!("{month} signed off by you")).await;
    assert!(
        client.find(Locator::Css(".changed-since-sign-off")).await.is_err(),
        "the signed-off copy is shown"
    );

    // The vendor has re-issued the month since: the next fetch says so.
    fetch(client).await;
    wait_for_note(client, "Archived exactly as received").await;
    let flag = text_of(client, ".changed-since-sign-off").await;
    assert!(
        flag.contains("The vendor's data changed since sign-off")
            && flag.contains(&format!("{month} was signed off by you")),
        "{flag}"
    );
    let reissued = download(&browser, ".download[data-file$='.xml']").await;
    assert_ne!(reissued, signed, "the vendor sent other bytes");
    let receipts =
        requested_urls(client).await.iter().filter(|url| url.contains("/api/archive/receipts/")).count();
    assert_eq!(receipts, 2, "one receipt asked per fetch: the flag reads the archive note's");

    // What changed: the pinned copy against the new one, as crates/billing compares them.
    wait_for(client, ".see-changes-since-sign-off").await.click().await.unwrap();
    wait_for(client, "#panel-changes:not([hidden]) .compared-with").await;
    wait_for(client, ".charge-change").await;
    let expected = billing::changes::compare(
        &billing::xml::parse_invoices(&signed).unwrap(),
        &billing::xml::parse_invoices(&reissued).unwrap(),
    );
    let [change] = expected.changes.as_slice() else { panic!("one charge changed: {:?}", expected.changes) };
    let rows = client.find_all(Locator::Css(".charge-change")).await.unwrap();
    assert_eq!(rows.len(), 1, "the one changed charge is listed");
    let listed = rows[0].text().await.unwrap();
    assert!(listed.contains(&change.key.customer) && listed.contains("quantity changed"), "{listed}");
    let difference: rust_decimal::Decimal =
        rows[0].attr("data-difference").await.unwrap().unwrap().parse().unwrap();
    assert_eq!(difference, change.difference());
    client.clone().close().await.unwrap();
}

/// The relay's one run of profile `demo`, once it has ended.
async fn ended_run(relay: &Relay) -> billing::api::runs::RunRecord {
    let deadline = tokio::time::Instant::now() + STARTUP;
    loop {
        let page: billing::api::runs::RunsPage =
            reqwest::get(format!("{}/api/runs?profile=demo", relay.url)).await.unwrap().json().await.unwrap();
        if let [run] = page.runs.as_slice()
            && run.status != billing::api::runs::RunStatus::Running
        {
            return run.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "the demo job never ended: {page:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_archive_tab_lists_the_scheduled_runs_and_one_opens_the_document_it_fetched() {
    let relay = start_relay_with(&["--demo", "--demo-job", "--listen", "127.0.0.1:0"], &[]).await;
    let run = ended_run(&relay).await;
    assert_eq!(run.status, billing::api::runs::RunStatus::Succeeded, "{run:?}");
    let browser = start_browser().await;
    let client = &browser.client;
    // A link naming the profile would fetch at once and move the list into
    // the Archive tab under the test's hands; the demo profile is the default.
    client.goto(&relay.url).await.unwrap();
    let row = wait_for(client, ".runs-table tbody tr.run").await.text().await.unwrap();
    assert!(
        row.contains("demo-last-month") && row.contains(&run.month.to_string()) && row.contains("Succeeded"),
        "{row}"
    );
    let findings = run.findings.as_ref().unwrap();
    let worklist = text_of(client, ".run .run-worklist").await;
    for (kind, count) in &findings.exceptions {
        assert!(worklist.contains(&format!("{} {}", kind.label(), count.lines)), "{kind:?} in {worklist}");
    }
    let totals = text_of(client, ".run .run-totals").await;
    assert_eq!(totals.split(" · ").count(), findings.totals.len(), "one total per currency: {totals}");

    wait_for(client, ".open-run").await.click().await.unwrap();
    wait_for(client, ".results").await;
    wait_for_note(client, "Opened from the archive").await;
    let opened = download(&browser, ".download[data-file$='.xml']").await;
    let archived =
        reqwest::get(format!("{}{}", relay.url, billing::api::routes::archived_document(run.documents[0])))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    assert_eq!(opened, archived.to_vec(), "the run's own document is opened");
    let document = billing::xml::parse_invoices(&opened).unwrap();
    let expected = expected_totals(&document);
    assert_eq!(page_totals(client).await, expected);
    let recorded: Vec<(String, String, String)> = findings
        .totals
        .iter()
        .map(|total| (total.currency.clone(), total.excluding_vat.clone(), total.vat.clone()))
        .collect();
    assert_eq!(recorded, expected, "the run's totals are the document's");
    client.clone().close().await.unwrap();
}
