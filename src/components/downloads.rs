use std::sync::Arc;

use leptos::prelude::*;
use worker_protocol::{DownloadFile, Opened, Question, workbook_file_name};

use crate::{
    components::{blob_link::BlobLink, generated_download::GeneratedDownload, lines_table::TableView},
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
    let (stem, format) = (loaded.request.file_stem(), loaded.request.format());
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
                low_margin_percent: crate::team::low_margin_percent(),
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
