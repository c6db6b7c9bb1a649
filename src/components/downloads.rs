use std::sync::Arc;

use billing::{
    csv_export::{CsvOptions, write_csv},
    rows::rows,
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
pub fn Downloads(loaded: Arc<Loaded>, raw: web_sys::Blob) -> impl IntoView {
    let converted_media = media_type(format_name(loaded.other_format()));
    let converted_name = loaded.converted_file_name();
    let semicolon = RwSignal::new(false);
    let excel_bom = RwSignal::new(false);
    let has_lines = matches!(loaded.contents, Contents::Invoices(_));
    let csv_name = format!("{}.csv", loaded.query.file_stem());
    let converting = loaded.clone();
    let csv = move || {
        let Contents::Invoices(document) = &loaded.contents else { return Vec::new() };
        let options = CsvOptions {
            delimiter: if semicolon.get_untracked() { b';' } else { b',' },
            decimal_comma: semicolon.get_untracked(),
            excel_bom: excel_bom.get_untracked(),
        };
        write_csv(rows(document), options)
    };
    view! {
        <section class="downloads" aria-label="Downloads">
            <BlobLink blob=raw file_name=converting.raw_file_name()
                label=format!("Raw file as received ({})", format::bytes(converting.raw_size)) />
            <GeneratedDownload media=converted_media file_name=converted_name
                label=format!("As {}", format_name(converting.other_format()).to_uppercase())
                generate={
                    let converting = converting.clone();
                    move || converting.converted()
                } />
            {has_lines.then(move || view! {
                <span class="csv">
                    <GeneratedDownload media="text/csv" file_name=csv_name label="Price lines as CSV".to_owned() generate=csv />
                    <label class="choice"><input type="checkbox" prop:checked=semicolon on:change=move |event| semicolon.set(event_target_checked(&event)) />"; and decimal comma"</label>
                    <label class="choice"><input type="checkbox" prop:checked=excel_bom on:change=move |event| excel_bom.set(event_target_checked(&event)) />"Excel BOM"</label>
                </span>
            })}
        </section>
    }
}

/// A button that writes its file only when pressed, then hands it to the
/// browser as a download: a converted document or a CSV can be as large as
/// the document itself, too much to hold in memory just in case.
#[component]
pub fn GeneratedDownload(
    media: &'static str,
    file_name: String,
    label: String,
    generate: impl Fn() -> Vec<u8> + 'static,
) -> impl IntoView {
    let name = file_name.clone();
    view! {
        <button type="button" class="button download" data-file=file_name
            on:click=move |_| save(&generate(), media, &name)>{label}</button>
    }
}

/// Offers `bytes` as a download named `file_name`, through a link that is
/// clicked once and removed.
fn save(bytes: &[u8], media: &str, file_name: &str) {
    let Some(url) = object_url(bytes, media) else { return };
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

fn media_type(format: &str) -> &'static str {
    match format {
        "xml" => "application/xml",
        _ => "application/json",
    }
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

/// `bytes` as a Blob of type `media`.
pub fn blob_of(bytes: &[u8], media: &str) -> Option<web_sys::Blob> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()
}

fn object_url(bytes: &[u8], media: &str) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(&blob_of(bytes, media)?).ok()
}
