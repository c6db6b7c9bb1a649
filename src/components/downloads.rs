use std::sync::Arc;

use billing::{
    csv_export::{CsvOptions, write_csv},
    lines::rows,
};
use leptos::prelude::*;

use crate::{
    format,
    loaded::{Contents, Loaded},
    query::format_name,
};

/// The raw file exactly as received, the price lines as CSV, and the
/// document in the other format.
#[component]
pub fn Downloads(loaded: Arc<Loaded>) -> impl IntoView {
    let raw_media = media_type(format_name(loaded.query.format));
    let (converted_name, converted) = loaded.converted();
    let converted_media = media_type(format_name(loaded.other_format()));
    let semicolon = RwSignal::new(false);
    let excel_bom = RwSignal::new(false);
    let csv = {
        let loaded = loaded.clone();
        move || {
            let Contents::Invoices(document) = &loaded.contents else { return None };
            let options = CsvOptions {
                delimiter: if semicolon.get() { b';' } else { b',' },
                decimal_comma: semicolon.get(),
                excel_bom: excel_bom.get(),
            };
            Some(Arc::new(write_csv(rows(document), options)))
        }
    };
    let has_lines = matches!(loaded.contents, Contents::Invoices(_));
    let csv_name = format!("{}.csv", loaded.query.file_stem());
    view! {
        <section class="downloads" aria-label="Downloads">
            <BlobLink bytes=Arc::new(loaded.bytes.clone()) media=raw_media file_name=loaded.raw_file_name()
                label=format!("Raw file as received ({})", format::bytes(loaded.bytes.len() as u64)) />
            <BlobLink bytes=Arc::new(converted) media=converted_media file_name=converted_name
                label=format!("As {}", format_name(loaded.other_format()).to_uppercase()) />
            {has_lines.then(move || view! {
                <span class="csv">
                    {move || csv().map(|bytes| view! {
                        <BlobLink bytes media="text/csv" file_name=csv_name.clone() label="Price lines as CSV".to_owned() />
                    })}
                    <label class="choice"><input type="checkbox" prop:checked=semicolon on:change=move |event| semicolon.set(event_target_checked(&event)) />"; and decimal comma"</label>
                    <label class="choice"><input type="checkbox" prop:checked=excel_bom on:change=move |event| excel_bom.set(event_target_checked(&event)) />"Excel BOM"</label>
                </span>
            })}
        </section>
    }
}

fn media_type(format: &str) -> &'static str {
    match format {
        "xml" => "application/xml",
        _ => "application/json",
    }
}

/// A real `<a download>` to a Blob of `bytes`; the object URL is revoked
/// when the link is no longer shown.
#[component]
pub fn BlobLink(bytes: Arc<Vec<u8>>, media: &'static str, file_name: String, label: String) -> impl IntoView {
    let url = object_url(&bytes, media);
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

fn object_url(bytes: &[u8], media: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
