use std::sync::Arc;

use leptos::{prelude::*, task::spawn_local};
use worker_protocol::{Answer, DownloadFile, Opened, Question, workbook_file_name};

use crate::{
    components::{exceptions_panel::low_margin_percent, lines_table::TableView},
    fetch::ask,
    format,
    loaded::Loaded,
    storage,
};

const SEMICOLON: &str = "billing-portal.csv-semicolon";
const EXCEL_BOM: &str = "billing-portal.csv-excel-bom";

fn remembered(key: &str) -> Option<bool> {
    storage::recall(key).map(|value| value == "true")
}

fn remember(choice: RwSignal<bool>, key: &str, chosen: bool) {
    storage::remember(key, &chosen.to_string());
    choice.set(chosen);
}

/// The raw file exactly as received, the price lines as CSV, the document
/// in the other format, and the workbook of everything loaded.
#[component]
pub fn Downloads(
    loaded: Arc<Loaded>,
    raw: web_sys::Blob,
    /// The lines table, whose filter, order and columns the workbook's
    /// lines follow; none when the document has no lines.
    table: Option<TableView>,
) -> impl IntoView {
    let (stem, format) = (loaded.query.file_stem(), loaded.query.format);
    let semicolon = RwSignal::new(remembered(SEMICOLON).unwrap_or_else(|| {
        // Where the browser writes a decimal comma, spreadsheets expect `;`.
        format::writes_decimal_comma(&format::number("1.5"))
    }));
    let excel_bom = RwSignal::new(remembered(EXCEL_BOM).unwrap_or(false));
    let has_lines = matches!(loaded.opened, Opened::Invoices(_));
    let csv_name = DownloadFile::Csv { semicolon: false, excel_bom: false }.file_name(&stem, format);
    let csv = move || Question::Download {
        file: DownloadFile::Csv {
            semicolon: semicolon.get_untracked(),
            excel_bom: excel_bom.get_untracked(),
        },
    };
    let workbook = table.map(|table| {
        let question = move || Question::Download {
            file: DownloadFile::Workbook {
                filter: table.filter.get_untracked(),
                sort: table.sort.get_untracked(),
                columns: table.columns.get_untracked(),
                low_margin_percent: low_margin_percent(),
            },
        };
        view! { <GeneratedDownload file_name=workbook_file_name(&stem) label="Workbook (.xlsx)".to_owned() question /> }
    });
    view! {
        <section class="downloads" aria-label="Downloads">
            {workbook}
            <BlobLink blob=raw file_name=loaded.raw_file_name()
                label=format!("Raw file as received ({})", format::bytes(loaded.raw_size)) />
            <GeneratedDownload file_name=DownloadFile::OtherFormat.file_name(&stem, format)
                label=format!("As {}", format.other())
                question=|| Question::Download { file: DownloadFile::OtherFormat } />
            <span class="worker-memory muted" data-bytes=loaded.worker_memory.to_string()
                data-document-bytes=loaded.raw_size.to_string()>
                {format!("Held in {} of the background worker's memory", format::bytes(loaded.worker_memory))}
            </span>
            {has_lines.then(move || view! {
                <span class="csv">
                    <GeneratedDownload file_name=csv_name label="Price lines as CSV".to_owned() question=csv />
                    <label class="choice"><input type="checkbox" id="csv-semicolon" prop:checked=semicolon on:change=move |event| remember(semicolon, SEMICOLON, event_target_checked(&event)) />"; and decimal comma"</label>
                    <label class="choice"><input type="checkbox" id="csv-bom" prop:checked=excel_bom on:change=move |event| remember(excel_bom, EXCEL_BOM, event_target_checked(&event)) />"Excel BOM"</label>
                </span>
            })}
        </section>
    }
}

/// A button that has the worker write its file only when pressed, then
/// hands it to the browser as a download: a converted document or a CSV
/// can be as large as the document itself, too much to hold just in case.
#[component]
pub fn GeneratedDownload(
    file_name: String,
    label: String,
    question: impl Fn() -> Question + 'static,
) -> impl IntoView {
    let preparing = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let on_click = move |_| {
        if preparing.get_untracked() {
            return;
        }
        preparing.set(true);
        failed.set(None);
        let asked = question();
        spawn_local(async move {
            match ask(asked).await {
                Ok((Answer::Download { file_name, .. }, Some(blob))) => save(&blob, &file_name),
                Ok(_) => failed.set(Some("the background worker sent no file".to_owned())),
                Err(message) => failed.set(Some(message)),
            }
            preparing.set(false);
        });
    };
    view! {
        <button type="button" class="button download" data-file=file_name aria-busy=move || preparing.get().to_string()
            on:click=on_click>{label}</button>
        {move || failed.get().map(|message| view! {
            <span class="problem-detail" role="alert">{format!("The file could not be written: {message}")}</span>
        })}
    }
}

/// Offers `blob` as a download named `file_name`, through a link that is
/// clicked once and removed.
fn save(blob: &web_sys::Blob, file_name: &str) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else { return };
    let document = web_sys::window().and_then(|window| window.document());
    let link = document.as_ref().and_then(|document| document.create_element("a").ok());
    if let (Some(document), Some(link)) = (document, link) {
        let _ = link.set_attribute("href", &url);
        let _ = link.set_attribute("download", file_name);
        if let Some(body) = document.body() {
            let _ = body.append_child(&link);
            if let Some(link) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&link) {
                link.click();
            }
            let _ = body.remove_child(&link);
        }
    }
    // The browser reads the Blob after this task; freeing it at once could
    // cancel the download.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
}

/// A real `<a download>` to `blob`; the object URL is revoked when the
/// link is no longer shown.
#[component]
pub fn BlobLink(blob: web_sys::Blob, file_name: String, label: String) -> impl IntoView {
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok();
    let revoked = url.clone();
    on_cleanup(move || {
        if let Some(url) = revoked {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    view! {
        <a class="button download" href=url download=file_name.clone() data-file=file_name>{label}</a>
    }
}
