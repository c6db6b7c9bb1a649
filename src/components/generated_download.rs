use leptos::{prelude::*, task::spawn_local};
use worker_protocol::{Answer, Question};

use crate::fetch::ask;

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
