use leptos::prelude::*;

use crate::query::Query;

/// The relay URL of the query, as the vendor's page shows its own: opening
/// it downloads the raw file.
#[component]
pub fn RequestLink(query: RwSignal<Query>) -> impl IntoView {
    let url = move || {
        let origin = web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default();
        query
            .with(|query| query.request().ok().map(|request| format!("{origin}{}", request.relay_path(true))))
    };
    let copied = RwSignal::new(false);
    Effect::new(move |_| {
        query.track();
        copied.set(false);
    });
    let copy = move |_| {
        if let Some(window) = web_sys::window()
            && let Some(url) = url()
        {
            let _ = window.navigator().clipboard().write_text(&url);
            copied.set(true);
        }
    };
    view! {
        <section class="request-link" aria-label="Request link">
            <label for="request-url">"Request link"</label>
            <div class="link-row">
                <input id="request-url" readonly prop:value=move || url().unwrap_or_default() placeholder="Correct the query above to see its link" />
                <button type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                <a class="button" href=url>"Download raw file"</a>
            </div>
        </section>
    }
}
