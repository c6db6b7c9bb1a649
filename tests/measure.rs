#![cfg(not(target_arch = "wasm32"))]
//! Figures for `cargo xtask bench`, not tests: they assert no time. Against
//! a relay at `BILLING_MEASURE_URL` with the profiles `bench` and `huge`:
//! - a document of about 20 MB in each format: the time from the last byte
//!   to the summary on screen beside the browser's own `JSON.parse` and
//!   `DOMParser` of the same bytes, then a screenshot of the main screen;
//! - a document of 100,000 lines, from pressing Fetch to the rows on screen,
//!   then typing a search, sorting, grouping and scrolling: the page's
//!   longest main-thread task and frame in each phase (one that opens a
//!   document lasts until its every part is drawn), the time each takes,
//!   and the wasm memory of page and worker beside the document's size;
//! - a document of about 900 MB: whether it opens, and the page's tasks and
//!   frames while it loads, then a cancel during a second load.

mod support;

use std::time::Duration;

use billing_portal::tabs::Part;
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
    client.find(Locator::Css("#tab-invoices")).await.unwrap().click().await.unwrap();
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

/// About 900 MB: the `vast` profile's purchase invoices over three and a
/// half years, as JSON.
const VAST_WINDOW: (&str, &str) = ("2023-05-25", "2026-11-24");

/// Frames to scroll the table from top to bottom in, each a jump of about
/// 800 rows at 100,000: every frame needs a fresh window of rows.
const SCROLL_STEPS: usize = 120;

/// Page-side helpers. Every main-thread task over 50 ms (the longtask
/// observer), every frame's length (a requestAnimationFrame loop) and
/// every frame over 50 ms with what filled it (the long-animation-frame
/// observer: scripts, the layout they forced, then style, layout and
/// paint) is recorded; `phase()` hands over and clears what was recorded
/// since the last phase. Actions are timed to the page's own mark that their answer
/// was applied, then the frame after.
const HELPERS: &str = r#"
// One refresh at 60 Hz (16.67 ms) as the page's clock reads it: in 0.1 ms
// steps, a frame on time measures 16.6 to 16.8 ms. A late one is 33.3 or
// more. The same bound as the bench's goal (xtask/src/goals.rs).
const ONE_FRAME = 16.8;
window.billingBench = {
    tasks: [], frames: [], longFrames: [],
    observers: [],
    start() {
        const observe = (type, into) => {
            const observer = new PerformanceObserver(list => into.call(this).push(...list.getEntries()));
            observer.observe({ type });
            this.observers.push([observer, into]);
        };
        observe('longtask', function () { return this.tasks; });
        observe('long-animation-frame', function () { return this.longFrames; });
        let last = null;
        const tick = now => {
            // To the clock's 0.1 ms, without the float subtraction's tail.
            if (last !== null) this.frames.push(Math.round((now - last) * 10) / 10);
            last = now;
            requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
    },
    phase() {
        // Entries are delivered a little after their frame: those of the
        // phase's last frames are taken now, not counted in the next phase.
        for (const [observer, into] of this.observers) into.call(this).push(...observer.takeRecords());
        const { tasks, frames, longFrames } = this;
        this.tasks = []; this.frames = []; this.longFrames = [];
        const durations = tasks.map(task => task.duration);
        return { longestTask: Math.max(0, ...durations), tasksOver50: tasks.length,
                 taskStarts: tasks.map(task => Math.round(task.startTime)),
                 longestFrame: Math.max(0, ...frames), lateFrames: frames.filter(f => f > ONE_FRAME).length,
                 frames: frames.length, longFrames: longFrames.map(this.anatomy) };
    },
    /// A long animation frame in parts (ms): its scripts (the three
    /// longest by what started them), the style and layout they forced,
    /// then the frame's own rendering, style and layout within it; and the
    /// page's marks within it, each with its ms from the frame's start,
    /// which say what it drew and when.
    anatomy(frame) {
        const end = frame.startTime + frame.duration;
        const scripts = [...frame.scripts].sort((a, b) => b.duration - a.duration);
        const sum = key => Math.round(scripts.reduce((total, script) => total + script[key], 0));
        const marks = performance.getEntriesByType('mark')
            .filter(mark => mark.startTime >= frame.startTime && mark.startTime <= end)
            .map(mark => `${mark.name.replace('billing:', '')} +${Math.round(mark.startTime - frame.startTime)}`);
        return { at: Math.round(frame.startTime), duration: Math.round(frame.duration),
                 scripts: sum('duration'), forcedLayout: sum('forcedStyleAndLayoutDuration'),
                 rendering: frame.renderStart ? Math.round(end - frame.renderStart) : 0,
                 styleAndLayout: frame.styleAndLayoutStart ? Math.round(end - frame.styleAndLayoutStart) : 0,
                 marks, longest: scripts.slice(0, 3).map(script =>
                     `${script.invokerType} ${script.invoker || ''} ${Math.round(script.duration)}`) };
    },
    settle: () => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0))),
    /// Waits until the opened document's last part is drawn once more
    /// than `before` times, and the observers have had its frames: a
    /// phase that opens a document owns the frames that draw it.
    async drawn(before) {
        await this.until(() => this.count(this.lastPart) > before);
        await this.settle();
        await this.settle();
    },
    count: name => performance.getEntriesByName(name).length,
    mark: name => performance.getEntriesByName(name).at(-1)?.startTime,
    async until(test, seconds = 600) {
        const started = performance.now();
        while (!test()) {
            if (performance.now() - started > seconds * 1000) throw new Error('timed out');
            await new Promise(resolve => setTimeout(resolve, 5));
        }
    },
    /// Runs `action`, waits for a new `mark`, and gives the milliseconds
    /// from the action to the end of the frame after the mark.
    async answered(mark, action) {
        const before = this.count(mark);
        const started = performance.now();
        action();
        await this.until(() => this.count(mark) > before);
        await this.settle();
        return performance.now() - started;
    },
    async type(text, gap) {
        const input = document.getElementById('line-search');
        let last = 0;
        for (const length of text.split('').keys()) {
            last = await this.answered('billing:lines-window', () => {
                input.value = text.slice(0, length + 1);
                input.dispatchEvent(new Event('input', { bubbles: true }));
            });
            await new Promise(resolve => setTimeout(resolve, gap));
        }
        return last;
    },
    async scroll(steps) {
        const viewport = document.querySelector('.viewport');
        const distance = viewport.scrollHeight - viewport.clientHeight;
        for (let step = 0; step <= steps; step++) {
            await new Promise(resolve => requestAnimationFrame(resolve));
            viewport.scrollTop = distance * step / steps;
        }
        await this.settle();
    },
    async memory() {
        const script = document.querySelector('link[rel=modulepreload]').href;
        // The module is already loaded; initialising it again returns its exports.
        const wasm = await (await import(script)).default();
        const held = document.querySelector('.worker-memory');
        return { page: wasm.memory.buffer.byteLength, worker: Number(held.dataset.bytes),
                 document: Number(held.dataset.documentBytes) };
    },
};
"#;

/// Runs `script` as the body of an async function in the page, with
/// `bench` in scope, and gives what it returns.
async fn step(client: &fantoccini::Client, script: &str) -> serde_json::Value {
    let wrapped = format!(
        "const [done] = arguments; const bench = window.billingBench; (async () => {{ {script} }})().then(done);"
    );
    client.execute_async(&wrapped, vec![]).await.unwrap()
}

/// Opens the page with `query` remembered but not fetched, with the helpers
/// recording from before the fetch.
async fn ready_to_fetch(client: &fantoccini::Client, url: &str, query: &str) {
    // A link fetches at once; the page remembers its query once the fetch
    // starts, so the plain page that follows has it filled in and waits.
    client.goto(&format!("{url}/?{query}")).await.unwrap();
    client.wait().for_element(Locator::Css("button.cancel")).await.unwrap();
    client.goto(&format!("{url}/")).await.unwrap();
    client.wait().for_element(Locator::Css("button.fetch")).await.unwrap();
    let profile = client.execute("return document.getElementById('profile').value", vec![]).await.unwrap();
    assert!(query.starts_with(&format!("profile={}&", profile.as_str().unwrap())), "{profile} for {query}");
    client.execute(HELPERS, vec![]).await.unwrap();
    let last_part = Part::frame_mark(usize::from(Part::LAST_FRAME));
    client.execute("window.billingBench.lastPart = arguments[0];", vec![last_part.into()]).await.unwrap();
    step(client, "bench.start(); await bench.settle(); return bench.phase();").await;
}

/// Prints a phase's figures, and adds them to the file cargo xtask bench
/// reads them back from to set each beside its goal.
fn phase_line(name: &str, took: Option<f64>, phase: &serde_json::Value) {
    let number = |key: &str| phase[key].as_f64().unwrap_or(f64::NAN);
    if let Ok(file) = std::env::var("BILLING_MEASURE_PHASES") {
        let line = serde_json::json!({
            "name": name, "longestTask": phase["longestTask"], "longestFrame": phase["longestFrame"],
        });
        let mut phases = std::fs::OpenOptions::new().create(true).append(true).open(&file).unwrap();
        std::io::Write::write_all(&mut phases, format!("{line}\n").as_bytes()).unwrap();
    }
    println!(
        "{name:<28} {:>9} {:>12.0} {:>10} {:>12.1} {:>10} {:>8}",
        took.map(|ms| format!("{ms:.0}")).unwrap_or_default(),
        number("longestTask"),
        number("tasksOver50"),
        number("longestFrame"),
        number("lateFrames"),
        number("frames"),
    );
    for frame in phase["longFrames"].as_array().into_iter().flatten() {
        let part = |key: &str| frame[key].as_f64().unwrap_or(f64::NAN);
        println!(
            "  a {:.0} ms frame at {:.0} ms: scripts {:.0} (forced style and layout {:.0}), rendering {:.0} \
             (style and layout {:.0}); longest scripts: {}; marks: {}",
            part("duration"),
            part("at"),
            part("scripts"),
            part("forcedLayout"),
            part("rendering"),
            part("styleAndLayout"),
            frame["longest"],
            frame["marks"],
        );
    }
}

/// The relay's URL, and a browser with the time a large document takes.
async fn large_document_browser() -> (String, Browser) {
    let url = std::env::var("BILLING_MEASURE_URL").expect("cargo xtask bench sets BILLING_MEASURE_URL");
    let browser = start_browser().await;
    browser.client.set_window_size(1280, 900).await.unwrap();
    let timeouts = fantoccini::wd::TimeoutConfiguration::new(
        Some(Duration::from_secs(1800)),
        Some(Duration::from_secs(600)),
        Some(Duration::ZERO),
    );
    browser.client.update_timeouts(timeouts).await.unwrap();
    (url, browser)
}

#[tokio::test]
#[ignore = "run by cargo xtask bench against its own relay"]
async fn hundred_thousand_lines() {
    let (url, browser) = large_document_browser().await;
    let client = &browser.client;
    let (start, end) = LARGE_WINDOW;
    ready_to_fetch(
        client,
        &url,
        &format!("profile=huge&version=v3&endpoint=invoices&format=json&start={start}&end={end}&view=lines"),
    )
    .await;
    println!(
        "\nbrowser, {start} to {end} of the huge profile as JSON (ms; main-thread tasks over 50 ms, frames late, i.e. over one refresh)"
    );
    println!(
        "{:<28} {:>9} {:>12} {:>10} {:>12} {:>10} {:>8}",
        "phase", "took", "longest task", "tasks>50", "longest frame", "late frames", "frames"
    );
    let opened = step(
        client,
        r#"
        const clicked = performance.now();
        const before = bench.count(bench.lastPart);
        const took = await bench.answered('billing:lines-window', () => document.querySelector('button.fetch').click());
        await bench.drawn(before);
        const received = bench.mark('billing:received');
        const at = name => Math.round(bench.mark(name) - clicked);
        return { took, lines: Number(document.querySelector('.line-count').textContent),
                 moments: { received: at('billing:received'), parsed: at('billing:parsed'),
                            summary: at('billing:summary-shown'), rows: at('billing:lines-shown') },
                 clicked,
                 reading: bench.mark('billing:parsed') - received,
                 shown: bench.mark('billing:lines-shown') - received, phase: bench.phase() };
        "#,
    )
    .await;
    phase_line("Fetch to rows on screen", opened["took"].as_f64(), &opened["phase"]);
    let clicked = opened["clicked"].as_f64().unwrap_or_default();
    let starts: Vec<i64> = opened["phase"]["taskStarts"]
        .as_array()
        .map(|starts| {
            starts.iter().map(|start| (start.as_f64().unwrap_or_default() - clicked) as i64).collect()
        })
        .unwrap_or_default();
    println!("  long tasks began at {starts:?} ms after Fetch; the moments after it: {}", opened["moments"]);
    let typed = step(
        client,
        "const took = await bench.type('exchange', 120); return { took, phase: bench.phase(), found: document.querySelector('.lines-shown').textContent };",
    )
    .await;
    phase_line("typing (last key to rows)", typed["took"].as_f64(), &typed["phase"]);
    for (name, action) in [
        ("clearing the search", "document.querySelector('.chip.clear-all').click()"),
        (
            "first sort by amount",
            "[...document.querySelectorAll('button.sort')].find(b => b.textContent.startsWith('Amount')).click()",
        ),
        (
            "sort descending",
            "[...document.querySelectorAll('button.sort')].find(b => b.textContent.startsWith('Amount')).click()",
        ),
    ] {
        let figures = step(
            client,
            &format!("const took = await bench.answered('billing:lines-window', () => {action}); return {{ took, phase: bench.phase() }};"),
        )
        .await;
        phase_line(name, figures["took"].as_f64(), &figures["phase"]);
    }
    let grouped = step(
        client,
        r#"
        const select = document.getElementById('line-group');
        const drawn = bench.count('billing:groups-drawn');
        const took = await bench.answered('billing:groups', () => {
            select.value = 'customer'; select.dispatchEvent(new Event('change'));
        });
        // The subtotals come a slice a frame: the phase owns their frames.
        await bench.until(() => bench.count('billing:groups-drawn') > drawn);
        await bench.settle();
        const more = document.querySelector('.more-groups')?.textContent.match(/of (\d+)/);
        const groups = more ? Number(more[1]) : document.querySelectorAll('.group-row').length;
        select.value = ''; select.dispatchEvent(new Event('change'));
        await bench.settle();
        return { took, groups, phase: bench.phase() };
        "#,
    )
    .await;
    phase_line("grouping by customer", grouped["took"].as_f64(), &grouped["phase"]);
    let scrolled =
        step(client, &format!("await bench.scroll({SCROLL_STEPS}); return {{ phase: bench.phase() }};"))
            .await;
    phase_line(&format!("scrolling ({SCROLL_STEPS} jumps)"), None, &scrolled["phase"]);
    let memory = step(client, "return await bench.memory();").await;
    let workbook = step(
        client,
        r#"
        const button = document.querySelector(".download[data-file$='.xlsx']");
        const started = performance.now();
        button.click();
        await bench.until(() => button.getAttribute('aria-busy') === 'true');
        await bench.until(() => button.getAttribute('aria-busy') === 'false');
        const took = performance.now() - started;
        await bench.settle();
        return { took, phase: bench.phase() };
        "#,
    )
    .await;
    phase_line("the workbook (.xlsx)", workbook["took"].as_f64(), &workbook["phase"]);
    // The same document again, from the relay's archive: no vendor call,
    // the bytes checked against their hash before they are sent.
    let archived = step(
        client,
        r#"
        await bench.until(() => /^Archived exactly/.test(document.querySelector('.archive-note')?.textContent ?? ''));
        document.querySelector('.change-query').click();
        await bench.until(() => document.querySelector('.archive-offer .open-archived'));
        await bench.settle();
        bench.phase();
        const clicked = performance.now();
        const before = bench.count(bench.lastPart);
        const took = await bench.answered('billing:lines-window', () => document.querySelector('.archive-offer .open-archived').click());
        await bench.drawn(before);
        const received = bench.mark('billing:received');
        return { took, received: received - clicked, shown: bench.mark('billing:lines-shown') - received,
                 note: document.querySelector('.archive-note')?.textContent, phase: bench.phase() };
        "#,
    )
    .await;
    phase_line("Open archived to rows", archived["took"].as_f64(), &archived["phase"]);
    let number = |value: &serde_json::Value| value.as_f64().unwrap_or(f64::NAN);
    println!(
        "{} lines; the worker read the document in {:.0} ms after its last byte, first rows {:.0} ms after it; search \"exchange\" left {}; {} customer subtotals",
        opened["lines"],
        number(&opened["reading"]),
        number(&opened["shown"]),
        typed["found"].as_str().unwrap_or_default(),
        grouped["groups"],
    );
    println!(
        "the same document from the archive: last byte {:.0} ms after Open (live: {:.0} ms after Fetch), rows {:.0} ms after the last byte (live: {:.0} ms); {}",
        number(&archived["received"]),
        number(&opened["moments"]["received"]),
        number(&archived["shown"]),
        number(&opened["shown"]),
        archived["note"].as_str().unwrap_or_default(),
    );
    let (page, worker, document) =
        (number(&memory["page"]), number(&memory["worker"]), number(&memory["document"]));
    println!(
        "wasm memory: page {:.1} MB + worker {:.1} MB = {:.1} MB for a {:.1} MB document ({:.2} of its size; goal at most 2)",
        page / 1e6,
        worker / 1e6,
        (page + worker) / 1e6,
        document / 1e6,
        (page + worker) / document
    );
    client.clone().close().await.unwrap();
}

#[tokio::test]
#[ignore = "run by cargo xtask bench against its own relay"]
async fn nine_hundred_megabytes() {
    let (url, browser) = large_document_browser().await;
    let client = &browser.client;
    let (start, end) = VAST_WINDOW;
    let query =
        format!("profile=vast&version=v3&endpoint=invoices&format=json&start={start}&end={end}&view=lines");
    ready_to_fetch(client, &url, &query).await;
    println!("\nbrowser, {start} to {end} of the vast profile as JSON");
    let outcome = step(
        client,
        r#"
        const started = performance.now();
        const before = bench.count(bench.lastPart);
        document.querySelector('button.fetch').click();
        // The page keeps scrolling while the document loads.
        let scrolls = 0;
        while (!document.querySelector('.summary, .problem')) {
            window.scrollTo(0, scrolls % 2 ? 200 : 0);
            scrolls += 1;
            await new Promise(resolve => setTimeout(resolve, 100));
        }
        const took = performance.now() - started;
        const problem = document.querySelector('.problem');
        if (!problem) await bench.drawn(before);
        const held = document.querySelector('.worker-memory');
        return { took, scrolls, phase: bench.phase(),
                 lines: document.querySelector('.line-count')?.textContent,
                 problem: problem?.textContent,
                 worker: held ? Number(held.dataset.bytes) : null,
                 document: held ? Number(held.dataset.documentBytes) : null };
        "#,
    )
    .await;
    match outcome["problem"].as_str() {
        Some(problem) => println!(
            "did not open, after {:.0} s: {problem}",
            outcome["took"].as_f64().unwrap_or_default() / 1e3
        ),
        None => println!(
            "opened {:.1} MB ({} lines) in {:.0} s; the worker holds it in {:.1} MB",
            outcome["document"].as_f64().unwrap_or(f64::NAN) / 1e6,
            outcome["lines"].as_str().unwrap_or_default(),
            outcome["took"].as_f64().unwrap_or_default() / 1e3,
            outcome["worker"].as_f64().unwrap_or(f64::NAN) / 1e6,
        ),
    }
    println!("the page scrolled {} times while it loaded", outcome["scrolls"]);
    println!(
        "{:<28} {:>9} {:>12} {:>10} {:>12} {:>10} {:>8}",
        "phase", "took", "longest task", "tasks>50", "longest frame", "late frames", "frames"
    );
    phase_line("Fetch to summary", outcome["took"].as_f64(), &outcome["phase"]);
    let cancelled = step(
        client,
        r#"
        document.querySelector('button.fetch').click();
        await bench.until(() => {
            const received = document.querySelector('.received');
            return received && /MB/.test(received.textContent) && parseFloat(received.textContent) > 200;
        });
        const took = await (async () => {
            const started = performance.now();
            document.querySelector('button.cancel').click();
            await bench.until(() => document.querySelector('.cancelled'));
            await bench.settle();
            return performance.now() - started;
        })();
        return { took, said: document.querySelector('.cancelled').textContent, phase: bench.phase() };
        "#,
    )
    .await;
    phase_line("second load, then Cancel", cancelled["took"].as_f64(), &cancelled["phase"]);
    println!("cancel during the transfer: {}", cancelled["said"].as_str().unwrap_or_default());
    client.clone().close().await.unwrap();
}
