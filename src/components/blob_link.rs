use leptos::prelude::*;

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
