#![cfg(target_arch = "wasm32")]
//! Components mounted in a real browser DOM.

use billing::{Generation, ProfileSummary, Role, json};
use billing_portal::{
    api::relay_problem,
    components::{portal::Portal, problem_view::ProblemView, query_panel::QueryPanel, summary::SummaryView},
    query::Query,
};
use chrono::NaiveDate;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let container = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&container).unwrap();
    container.unchecked_into()
}

fn profile(name: &str, generation: Generation) -> ProfileSummary {
    ProfileSummary {
        name: name.to_owned(),
        environment: "DEMO".to_owned(),
        generation,
        versions: generation.versions().iter().map(|v| (*v).to_owned()).collect(),
        endpoints: generation.endpoints().to_vec(),
        role: Role::Read,
    }
}

fn texts(container: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let nodes = container.query_selector_all(selector).unwrap();
    (0..nodes.length()).map(|index| nodes.item(index).unwrap().text_content().unwrap_or_default()).collect()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

#[wasm_bindgen_test]
fn the_query_panel_offers_the_profiles_versions_and_marks_end_of_life() {
    let container = fresh_container();
    let profiles = vec![profile("demo", Generation::Legacy), profile("demo-current", Generation::Current)];
    let query = RwSignal::new(Query::default_for(&profiles[0], today()));
    let _mounted = leptos::mount::mount_to(container.clone(), move || {
        view! { <QueryPanel profiles=profiles.clone() query today=today() folded=RwSignal::new(false) on_fetch=|| {} /> }
    });
    assert_eq!(texts(&container, "#profile option"), ["demo — DEMO", "demo-current — DEMO"]);
    assert_eq!(texts(&container, "#version option"), ["v1 (end-of-life)", "v2 (end-of-life)", "v3"]);
    assert_eq!(texts(&container, "#endpoint option").len(), 4);
    assert_eq!(texts(&container, ".presets .preset").len(), 6);
}

#[wasm_bindgen_test]
fn reversed_dates_disable_fetch_and_say_why() {
    let container = fresh_container();
    let profiles = vec![profile("demo", Generation::Legacy)];
    let mut reversed = Query::default_for(&profiles[0], today());
    (reversed.start, reversed.end) = (reversed.end, reversed.start);
    let query = RwSignal::new(reversed);
    let _mounted = leptos::mount::mount_to(container.clone(), move || {
        view! { <QueryPanel profiles=profiles.clone() query today=today() folded=RwSignal::new(false) on_fetch=|| {} /> }
    });
    let button: web_sys::HtmlButtonElement =
        container.query_selector(".fetch").unwrap().unwrap().unchecked_into();
    assert!(button.disabled());
    assert_eq!(
        texts(&container, ".problems li"),
        ["The start date 2026-11-25 is after the end date 2026-08-25."]
    );
}

#[wasm_bindgen_test]
fn the_summary_counts_and_totals_per_currency() {
    let container = fresh_container();
    let document =
        json::parse_invoices(include_bytes!("../crates/billing/tests/fixtures/invoices.json")).unwrap();
    let summary = analysis::summary(&document);
    let _mounted =
        leptos::mount::mount_to(container.clone(), move || view! { <SummaryView summary=summary.clone() /> });
    assert_eq!(texts(&container, ".invoice-count"), ["2"]);
    assert_eq!(texts(&container, ".line-count"), ["3"]);
    assert_eq!(texts(&container, ".currency-total th"), ["EUR", "GBP"]);
}

#[wasm_bindgen_test]
fn a_relay_problem_shows_title_detail_and_advice() {
    let container = fresh_container();
    let problem =
        relay_problem(502, r#"{"code":"vendor_too_slow","error":"e","detail":"no answer within 60.0 s"}"#);
    let _mounted =
        leptos::mount::mount_to(container.clone(), move || view! { <ProblemView problem=problem.clone() /> });
    assert_eq!(texts(&container, ".problem-title"), ["The vendor took too long to answer"]);
    assert_eq!(texts(&container, ".problem-detail"), ["no answer within 60.0 s"]);
}

#[wasm_bindgen_test]
fn a_relay_without_profiles_says_so_instead_of_rendering_nothing() {
    let container = fresh_container();
    let _mounted = leptos::mount::mount_to(container.clone(), || view! { <Portal profiles=Vec::new() /> });
    let message = texts(&container, ".empty");
    assert_eq!(message.len(), 1);
    assert!(message[0].contains("offers no API profiles"), "{message:?}");
}

/// Returns in the next frame, once its other callbacks have run.
async fn next_frame() {
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().request_animation_frame(&resolve).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(frame).await.unwrap();
    pause(0).await;
}

/// Lets the page's tasks run for `milliseconds`.
async fn pause(milliseconds: i32) {
    let waited = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(waited).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_lines_table_takes_the_search_at_once_and_says_when_its_rows_cannot_come() {
    use billing_portal::components::lines_table::{LinesTable, TableView};
    let container = fresh_container();
    let joined = Signal::derive(|| false);
    let view = TableView::new(joined);
    let filter = view.filter;
    let _mounted = leptos::mount::mount_to(container.clone(), move || {
        view! {
            <LinesTable choices=Default::default() total=3 file_stem="invoices".to_owned()
                format=billing::Format::Json view joined
                publishers=Signal::derive(Vec::new) told=Signal::derive(|| 0) />
        }
    });
    // The controls at once; the status and the column choice a frame
    // later, the table a frame after those: each part of the page draws in
    // a frame of its own.
    assert!(container.query_selector("#line-search").unwrap().is_some());
    assert!(container.query_selector(".lines-shown").unwrap().is_none());
    next_frame().await;
    assert_eq!(texts(&container, ".lines-shown"), ["3 of 3 lines"]);
    assert!(container.query_selector(".column-choice").unwrap().is_some());
    assert!(container.query_selector(".line-table").unwrap().is_none());
    next_frame().await;
    assert!(container.query_selector(".line-table").unwrap().is_some());
    let search: web_sys::HtmlInputElement =
        container.query_selector("#line-search").unwrap().unwrap().unchecked_into();
    search.set_value("SEAT");
    search.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    pause(0).await;
    assert_eq!(filter.get_untracked().text, "SEAT");
    assert_eq!(texts(&container, ".chips .chip").first().map(String::as_str), Some("Search: SEAT ×"));
    // The test runner serves no worker, so the rows never come: the table
    // says so instead of staying blank.
    let mut said = Vec::new();
    for _ in 0..100 {
        said = texts(&container, ".lines [role=alert]");
        if !said.is_empty() {
            break;
        }
        pause(50).await;
    }
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("The lines cannot be shown: the background worker failed"), "{said:?}");
}

#[wasm_bindgen_test]
async fn the_colour_choice_applies_to_the_page_and_is_remembered() {
    use billing_portal::components::theme_toggle::ThemeToggle;
    let container = fresh_container();
    let _mounted = leptos::mount::mount_to(container.clone(), || view! { <ThemeToggle /> });
    let select: web_sys::HtmlSelectElement =
        container.query_selector(".theme select").unwrap().unwrap().unchecked_into();
    let root = web_sys::window().unwrap().document().unwrap().document_element().unwrap();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    for (choice, attribute) in [("dark", Some("dark")), ("light", Some("light")), ("", None)] {
        select.set_value(choice);
        select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL))
            .await
            .unwrap();
        assert_eq!(root.get_attribute("data-theme").as_deref(), attribute, "{choice:?}");
        assert_eq!(storage.get_item("billing-portal.theme").unwrap().as_deref(), attribute, "{choice:?}");
    }
}

#[wasm_bindgen_test]
async fn a_worker_that_cannot_run_fails_the_fetch_in_words() {
    use billing_portal::fetch::{FetchError, open};
    // The test runner serves no worker: starting it fails, as a worker
    // that dies or runs out of memory does.
    let controller = web_sys::AbortController::new().unwrap();
    let request = Query::default_for(&profile("demo", Generation::Legacy), today()).request().unwrap();
    let result = open(
        &request,
        worker_protocol::Source::Vendor,
        worker_protocol::Slot::Main,
        &controller.signal(),
        |_| {},
    )
    .await;
    match result {
        Err(FetchError::Broken { message, .. }) => {
            assert!(message.starts_with("the background worker failed"), "{message}");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a document came without a worker"),
    }
}

/// A stand-in worker that speaks the protocol's bytes: it says it is ready,
/// and answers any request with "reading", then never finishes, as the real
/// worker does while it reads a large document without pausing for
/// messages. postcard: a variant's index, then each field as a varint.
fn reads_forever() -> String {
    format!(
        r#"
postMessage([new Uint8Array([0, {}])]);
onmessage = event => {{
    const generation = event.data[1];
    postMessage([new Uint8Array([1, generation, 0x80, 0x08, 0])]);
    postMessage([new Uint8Array([2, generation, 0x80, 0x08])]);
}};
"#,
        worker_protocol::VERSION
    )
}

#[wasm_bindgen_test]
async fn cancel_while_the_worker_reads_stops_the_worker_and_says_cancelled() {
    use std::{cell::RefCell, rc::Rc};

    use billing_portal::fetch::{FetchError, Stage, open, use_worker_script};
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let parts = js_sys::Array::of1(&reads_forever().into());
    let script = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).unwrap();
    use_worker_script(&web_sys::Url::create_object_url_with_blob(&script).unwrap());
    let controller = web_sys::AbortController::new().unwrap();
    let stages = Rc::new(RefCell::new(Vec::new()));
    let heard = stages.clone();
    let aborting = controller.clone();
    let request = Query::default_for(&profile("demo", Generation::Legacy), today()).request().unwrap();
    let signal = controller.signal();
    let result =
        open(&request, worker_protocol::Source::Vendor, worker_protocol::Slot::Main, &signal, move |stage| {
            heard.borrow_mut().push(stage);
            if matches!(stage, Stage::Reading { .. }) {
                aborting.abort();
            }
        })
        .await;
    use_worker_script("/worker_loader.js");
    assert_eq!(
        *stages.borrow(),
        [Stage::Receiving { received: 1024, total: None }, Stage::Reading { received: 1024 }]
    );
    assert_eq!(result.err(), Some(FetchError::Cancelled { received: 1024 }));
}

#[wasm_bindgen_test]
async fn a_long_list_draws_its_first_slice_at_once_and_the_rest_in_the_frames_after() {
    use billing_portal::slices::{ROWS_A_FRAME, drawn_slices, slice};
    let total = 3 * ROWS_A_FRAME + 20;
    let container = fresh_container();
    let _mounted = leptos::mount::mount_to(container.clone(), move || {
        let drawn = drawn_slices(total);
        view! {
            <ul>
                <For each=move || 0..drawn.get() key=|index| *index
                    children=move |index| slice(index, total).map(|row| view! { <li>{row}</li> }).collect_view() />
            </ul>
        }
    });
    assert_eq!(texts(&container, "li").len(), ROWS_A_FRAME, "the first slice, at once");
    for _ in 0..100 {
        if texts(&container, "li").len() == total {
            break;
        }
        pause(20).await;
    }
    let rows: Vec<String> = (0..total).map(|row| row.to_string()).collect();
    assert_eq!(texts(&container, "li"), rows, "every row, once, in order");
}

#[wasm_bindgen_test]
async fn scrolling_writes_the_rows_now_in_view_into_the_same_row_elements() {
    use billing_portal::{
        components::line_rows::{LineRows, PLACES_A_FRAME},
        scrolling::OVERSCAN,
    };
    use worker_protocol::{Cell, Column, LineCells, LineWindow};
    let sent = |first: usize, count: usize| LineWindow {
        shown: 1_000,
        first,
        rows: (first..first + count)
            .map(|row| LineCells {
                currency: "EUR".to_owned(),
                negative: row % 2 == 1,
                cells: vec![Cell::Text(format!("line {row}")), Cell::Number(row.to_string())],
            })
            .collect(),
    };
    let columns = vec![Column::Description, Column::Quantity];
    let window = RwSignal::new(Some((columns.clone(), sent(0, 105))));
    let top = RwSignal::new(0_usize);
    let container = fresh_container();
    let _mounted = leptos::mount::mount_to(container.clone(), move || {
        view! { <table><tbody><LineRows window top in_view=5_usize /></tbody></table> }
    });
    let shown =
        |container: &web_sys::HtmlElement| texts(container, "tr.line-row:not([hidden]) td:first-child");
    let lines = |rows: std::ops::Range<usize>| rows.map(|row| format!("line {row}")).collect::<Vec<_>>();
    let places = 5 + 2 * OVERSCAN;
    // The places come a few a frame from the top, the first few at once.
    let built = |container: &web_sys::HtmlElement| {
        container.query_selector_all("tr.line-row").unwrap().length() as usize
    };
    assert_eq!(shown(&container), lines(0..PLACES_A_FRAME));
    let mut before = built(&container);
    for _ in 0..20 {
        next_frame().await;
        let now = built(&container);
        assert!(now <= before + PLACES_A_FRAME, "{now} places a frame after {before}");
        before = now;
    }
    assert_eq!(shown(&container), lines(0..5 + OVERSCAN));
    let elements = container.query_selector_all("tr.line-row").unwrap();
    assert_eq!(elements.length() as usize, places, "a row element for each place in the view");
    for index in 0..elements.length() {
        elements
            .item(index)
            .unwrap()
            .unchecked_into::<web_sys::Element>()
            .set_attribute("data-kept", "")
            .unwrap();
    }
    let kept = |container: &web_sys::HtmlElement| {
        container.query_selector_all("tr.line-row[data-kept]").unwrap().length() as usize
    };

    top.set(50);
    pause(0).await;
    assert_eq!(shown(&container), lines(50 - OVERSCAN..50 + 5 + OVERSCAN));
    assert_eq!(kept(&container), places, "the same elements, their cells written anew");
    let above: web_sys::HtmlElement =
        container.query_selector("tr.spacer").unwrap().unwrap().unchecked_into();
    assert_eq!(above.style().get_property_value("height").unwrap(), format!("{}px", (50 - OVERSCAN) * 32));
    let negative = texts(&container, "tr.line-row.negative:not([hidden]) td:first-child");
    assert_eq!(
        negative,
        lines(50 - OVERSCAN..50 + 5 + OVERSCAN).into_iter().skip(1).step_by(2).collect::<Vec<_>>()
    );

    // A jump beyond the rows sent shows none until their window comes.
    top.set(500);
    pause(0).await;
    assert_eq!(shown(&container), Vec::<String>::new());
    window.set(Some((columns, sent(480, 105))));
    pause(0).await;
    assert_eq!(shown(&container), lines(500 - OVERSCAN..500 + 5 + OVERSCAN));
    assert_eq!(kept(&container), places);

    // Other columns build the rows anew, a cell for each.
    window.set(Some((vec![Column::Description], sent(480, 105))));
    pause(0).await;
    assert_eq!(kept(&container), 0);
    assert_eq!(texts(&container, "tr.line-row:not([hidden]) td").len(), 5 + 2 * OVERSCAN);
}

#[wasm_bindgen_test]
async fn subtotals_come_a_slice_a_frame_and_show_more_adds_to_those_drawn() {
    use billing_portal::{components::subtotal_table::SubtotalTable, slices::ROWS_A_FRAME};
    use worker_protocol::GroupRow;
    let answer = |count: usize, prefix: &str| {
        (0..count)
            .map(|index| GroupRow {
                key: format!("{prefix} {index}"),
                lines: index + 1,
                currency: "EUR".to_owned(),
                excluding_vat: "10.00".to_owned(),
                vat: "2.10".to_owned(),
            })
            .collect::<Vec<_>>()
    };
    let groups = RwSignal::new(answer(500, "customer"));
    let container = fresh_container();
    let _mounted = leptos::mount::mount_to(container.clone(), move || view! { <SubtotalTable groups /> });
    let rows = |container: &web_sys::HtmlElement| texts(container, ".group-row th");
    let drawn_until = |count: usize| {
        let container = container.clone();
        async move {
            for _ in 0..200 {
                if rows(&container).len() >= count {
                    break;
                }
                pause(20).await;
            }
            rows(&container)
        }
    };
    assert_eq!(rows(&container).len(), ROWS_A_FRAME, "the first slice, at once");
    let first = 7 * ROWS_A_FRAME;
    assert_eq!(
        drawn_until(first).await,
        answer(first, "customer").into_iter().map(|row| row.key).collect::<Vec<_>>()
    );
    pause(100).await;
    assert_eq!(rows(&container).len(), first, "no more than a first screen's");
    assert_eq!(texts(&container, ".more-groups"), [format!("Show {first} more of 500 subtotals")]);
    container.query_selector(".group-row").unwrap().unwrap().set_attribute("data-kept", "").unwrap();

    let more: web_sys::HtmlElement =
        container.query_selector(".more-groups").unwrap().unwrap().unchecked_into();
    more.click();
    assert_eq!(drawn_until(2 * first).await.len(), 2 * first);
    assert!(container.query_selector(".group-row[data-kept]").unwrap().is_some(), "those drawn stay");
    let more: web_sys::HtmlElement =
        container.query_selector(".more-groups").unwrap().unwrap().unchecked_into();
    assert_eq!(more.text_content().unwrap(), format!("Show {} more of 500 subtotals", 500 - 2 * first));
    more.click();
    assert_eq!(
        drawn_until(500).await,
        answer(500, "customer").into_iter().map(|row| row.key).collect::<Vec<_>>()
    );
    pause(0).await;
    assert!(texts(&container, ".more-groups").is_empty(), "all are shown");

    groups.set(answer(40, "publisher"));
    // The page's effects run in microtasks, before any next frame.
    for _ in 0..3 {
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL))
            .await
            .unwrap();
    }
    assert_eq!(
        rows(&container),
        answer(ROWS_A_FRAME, "publisher").into_iter().map(|row| row.key).collect::<Vec<_>>()
    );
    assert_eq!(drawn_until(40).await.len(), 40, "a new answer is drawn from its first slice");
}
