#![cfg(not(target_arch = "wasm32"))]
//! Figures for `cargo xtask bench`, not tests: they assert no time. Against
//! a relay at `BILLING_MEASURE_URL` with the profiles `bench` and `huge`:
//! - a document of about 20 MB in each format: the time from the last byte
//!   to the summary on screen beside the browser's own `JSON.parse` and
//!   `DOMParser` of the same bytes, then a screenshot of the main screen;
//! - a document of 100,000 lines: parse, first rows, keystrokes, sorts,
//!   frames while scrolling and memory, virtualised and with every row in
//!   the page.

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

/// About 100,000 lines: the `huge` profile's purchase invoices over this
/// window, as JSON (105 MB).
const LARGE_WINDOW: (&str, &str) = ("2025-03-01", "2026-11-24");

/// Frames to scroll the table from top to bottom in, each a jump of about
/// 800 rows at 100,000: every frame renders a fresh set of rows.
const SCROLL_STEPS: usize = 120;

/// Page-side helpers: each action is timed from its start to the end of the
/// first frame after the page reacted, and the scroll pass records the
/// length of every frame.
const HELPERS: &str = r#"
window.billingBench = {
    settle: () => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0))),
    async timed(action) {
        const started = performance.now();
        action();
        await this.settle();
        return performance.now() - started;
    },
    async type(text) {
        const input = document.getElementById('line-search');
        const each = [];
        for (const length of text.split('').keys()) {
            each.push(await this.timed(() => {
                input.value = text.slice(0, length + 1);
                input.dispatchEvent(new Event('input', { bubbles: true }));
            }));
        }
        return each;
    },
    async scroll(steps) {
        const viewport = document.querySelector('.viewport');
        const scroller = viewport.scrollHeight > viewport.clientHeight + 1 ? viewport : document.scrollingElement;
        const distance = scroller.scrollHeight - scroller.clientHeight;
        const frames = [];
        let last = null;
        for (let step = 0; step <= steps; step++) {
            const now = await new Promise(resolve => requestAnimationFrame(resolve));
            if (last !== null) frames.push(now - last);
            last = now;
            scroller.scrollTop = distance * step / steps;
        }
        frames.sort((a, b) => a - b);
        return { longest: frames.at(-1), median: frames[frames.length >> 1],
                 over16: frames.filter(frame => frame > 17.5).length, frames: frames.length };
    },
    async memory() {
        const script = document.querySelector('link[rel=modulepreload]').href;
        // The module is already loaded; initialising it again returns its exports.
        const wasm = await (await import(script)).default();
        return { heap: performance.memory.usedJSHeapSize, wasm: wasm.memory.buffer.byteLength };
    },
    mark: name => performance.getEntriesByName(name).at(-1)?.startTime,
};
"#;

/// Clicks the Amount header: ascending at first, then descending.
const SORT_BY_AMOUNT: &str = "
    const amount = [...document.querySelectorAll('button.sort')].find(b => b.textContent.startsWith('Amount'));
    return await bench.timed(() => amount.click());";

/// Runs `script` as the body of an async function in the page, with
/// `everyRow` and `bench` in scope, and gives what it returns.
async fn step(client: &fantoccini::Client, every_row: bool, script: &str) -> serde_json::Value {
    let wrapped = format!(
        "const [everyRow, done] = arguments; const bench = window.billingBench; (async () => {{ {script} }})().then(done);"
    );
    client.execute_async(&wrapped, vec![serde_json::json!(every_row)]).await.unwrap()
}

/// One pass over the large document: either virtualised, as the app is, or
/// with the viewport made tall enough to hold every row.
async fn large_document_pass(client: &fantoccini::Client, url: &str, every_row: bool) -> serde_json::Value {
    let (start, end) = LARGE_WINDOW;
    client
        .goto(&format!(
            "{url}/?profile=huge&version=v3&endpoint=invoices&format=json&start={start}&end={end}"
        ))
        .await
        .unwrap();
    client.execute(HELPERS, vec![]).await.unwrap();
    client.wait().at_most(Duration::from_secs(600)).for_element(Locator::Css(".lines-shown")).await.unwrap();
    let mut figures = step(
        client,
        every_row,
        r#"
        const total = Number(document.querySelector('.line-count').textContent);
        await bench.settle();
        const received = bench.mark('billing:received');
        let shown = bench.mark('billing:lines-shown') - received;
        if (everyRow) {
            // The page's CSP refuses a <style> element, not a style set through the CSSOM.
            document.querySelector('.viewport').style.setProperty('height', `${total * 32 + 64}px`, 'important');
            window.dispatchEvent(new Event('resize'));
            while (document.querySelectorAll('.line-row').length < total) await bench.settle();
            shown = performance.now() - received;
        }
        return { total, shown, parse: bench.mark('billing:parsed') - received,
                 inDom: document.querySelectorAll('.line-row').length };
        "#,
    )
    .await;
    figures["typing"] = step(client, every_row, "return await bench.type('exchange');").await;
    figures["found"] =
        step(client, every_row, "return document.querySelector('.lines-shown').textContent;").await;
    figures["clear"] = step(
        client,
        every_row,
        "return await bench.timed(() => document.querySelector('.chip.clear-all').click());",
    )
    .await;
    figures["sort"] = step(client, every_row, SORT_BY_AMOUNT).await;
    figures["resort"] = step(client, every_row, SORT_BY_AMOUNT).await;
    figures["scrolling"] =
        step(client, every_row, &format!("return await bench.scroll({SCROLL_STEPS});")).await;
    let memory = step(client, every_row, "return await bench.memory();").await;
    figures["heap"] = memory["heap"].clone();
    figures["wasm"] = memory["wasm"].clone();
    figures
}

#[tokio::test]
#[ignore = "run by cargo xtask bench against its own relay"]
async fn hundred_thousand_lines() {
    let url = std::env::var("BILLING_MEASURE_URL").expect("cargo xtask bench sets BILLING_MEASURE_URL");
    let browser = start_browser().await;
    let client = &browser.client;
    client.set_window_size(1280, 900).await.unwrap();
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(900)),
            Some(Duration::from_secs(600)),
            Some(Duration::ZERO),
        ))
        .await
        .unwrap();
    println!(
        "\nbrowser, {} to {} of the huge profile as JSON (times in ms; each action to the end of the next frame)",
        LARGE_WINDOW.0, LARGE_WINDOW.1
    );
    println!(
        "{:<14} {:>8} {:>8} {:>9} {:>8} {:>12} {:>8} {:>8} {:>8} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "rows in DOM",
        "lines",
        "parse",
        "shown",
        "rows",
        "keystroke",
        "clear",
        "sort",
        "re-sort",
        "frame max",
        "median",
        ">17.5",
        "heap MB",
        "wasm MB"
    );
    let mut shown = Vec::new();
    for every_row in [false, true] {
        let figures = large_document_pass(client, &url, every_row).await;
        let number = |name: &str| figures[name].as_f64().unwrap_or(f64::NAN);
        let typing: Vec<f64> =
            figures["typing"].as_array().unwrap().iter().map(|ms| ms.as_f64().unwrap()).collect();
        let scrolling = |name: &str| figures["scrolling"][name].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<14} {:>8} {:>8.0} {:>9.0} {:>8} {:>5.0}–{:<6.0} {:>8.0} {:>8.0} {:>8.0} {:>9.1} {:>9.1} {:>7} {:>8.1} {:>8.1}",
            if every_row { "all" } else { "virtualised" },
            number("total"),
            number("parse"),
            number("shown"),
            number("inDom"),
            typing.iter().copied().fold(f64::INFINITY, f64::min),
            typing.iter().copied().fold(0.0, f64::max),
            number("clear"),
            number("sort"),
            number("resort"),
            scrolling("longest"),
            scrolling("median"),
            scrolling("over16"),
            number("heap") / 1e6,
            number("wasm") / 1e6,
        );
        println!("  search \"exchange\" left {}", figures["found"].as_str().unwrap_or_default());
        shown.push(figures);
    }
    let ratio = |name: &str| {
        shown[1][name].as_f64().unwrap_or(f64::NAN) / shown[0][name].as_f64().unwrap_or(f64::NAN)
    };
    println!(
        "all rows / virtualised: rows on screen ×{:.1}, sort ×{:.1}, clearing the search ×{:.1}",
        ratio("shown"),
        ratio("sort"),
        ratio("clear")
    );
    client.clone().close().await.unwrap();
}
