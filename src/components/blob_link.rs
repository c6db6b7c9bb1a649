use std::sync::{Arc, OnceLock};

use leptos::prelude::*;

/// A real `<a download>` to `blob`, its object URL made when the page is idle or at a first click.
#[component]
pub fn BlobLink(blob: web_sys::Blob, file_name: String, label: String) -> impl IntoView {
    // Making the URL of a document of 100 MB held the page for 10 to 18 ms:
    // not in the task that draws the results.
    let link = NodeRef::<leptos::html::A>::new();
    let url = Arc::new(OnceLock::<String>::new());
    let make = {
        let url = url.clone();
        move || {
            let made = match url.get() {
                Some(made) => made.clone(),
                None => {
                    let Ok(made) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
                    url.get_or_init(|| made).clone()
                }
            };
            // Set whenever asked, so a URL made before the link was on the
            // page still reaches it.
            if let Some(link) = link.get_untracked() {
                link.set_href(&made);
            }
        }
    };
    request_idle_callback({
        let make = make.clone();
        move || make()
    });
    on_cleanup({
        let url = url.clone();
        move || {
            if let Some(made) = url.get() {
                let _ = web_sys::Url::revoke_object_url(made);
            }
        }
    });
    // The link is followed after its click handlers, with the URL made by then.
    view! {
        <a class="button download" node_ref=link download=file_name.clone() data-file=file_name
            on:click=move |_| make()>{label}</a>
    }
}
