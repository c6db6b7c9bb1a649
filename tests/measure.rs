#![cfg(not(target_arch = "wasm32"))]
//! Figures for `cargo xtask bench`, not a test: it asserts no time. Against
//! a relay at `BILLING_MEASURE_URL` with a profile `bench`, it opens a
//! document of about 20 MB in each format and prints the time from the last
//! byte to the summary on screen beside the browser's own `JSON.parse` and
//! `DOMParser` of the same bytes, then saves a screenshot of the main screen.

mod support;

use std::time::Duration;

use fantoccini::Locator;
use support::*;

const WINDOW: (&str, &str) = ("2026-06-01", "2026-09-30");

#[tokio::test]
#[ignore = "run by cargo xtask bench against its own relay"]
async fn time_from_last_byte_to_summary() {
    let url = std::env::var("BILLING_MEASURE_URL").expect("cargo xtask bench sets BILLING_MEASURE_URL");
    let browser = start_browser().await;
    let client = &browser.client;
    let (start, end) = WINDOW;
    for format in ["xml", "json"] {
        let page = format!(
            "{url}/?profile=bench&version=v3&endpoint=invoices&format={format}&start={start}&end={end}"
        );
        client.goto(&page).await.unwrap();
        client.wait().at_most(Duration::from_secs(300)).for_element(Locator::Css(".summary")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let figures = client
            .execute_async(
                r#"
                const [document_url, format, done] = arguments;
                const at = name => performance.getEntriesByName(name).at(-1).startTime;
                const shown = at('billing:summary-shown') - at('billing:received');
                fetch(document_url).then(response => response.text()).then(text => {
                    const started = performance.now();
                    if (format === 'json') { JSON.parse(text); }
                    else { new DOMParser().parseFromString(text, 'application/xml'); }
                    const native = performance.now() - started;
                    done({ bytes: new Blob([text]).size, shown, native,
                           heap: performance.memory ? performance.memory.usedJSHeapSize : null });
                });
                "#,
                vec![
                    serde_json::json!(format!(
                        "{url}/api/documents/bench/v3/invoices?format={format}&start={start}&end={end}"
                    )),
                    serde_json::json!(format),
                ],
            )
            .await
            .unwrap();
        let number = |name: &str| figures[name].as_f64().unwrap_or(f64::NAN);
        let native = if format == "json" { "JSON.parse" } else { "DOMParser" };
        println!(
            "browser: {} {:.1} MB: last byte to summary on screen {:.0} ms; {native} of the same bytes {:.0} ms; JS heap {:.1} MB",
            format.to_uppercase(),
            number("bytes") / 1e6,
            number("shown"),
            number("native"),
            number("heap") / 1e6,
        );
    }
    client.set_window_size(1280, 1500).await.unwrap();
    client.find(Locator::Css(".invoice-row button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css(".invoice-detail")).await.unwrap();
    let screenshot = client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/main-screen.png");
    std::fs::write(&path, screenshot).unwrap();
    println!("browser: screenshot of the main screen in {}", path.display());
    client.clone().close().await.unwrap();
}
