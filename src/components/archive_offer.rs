use billing::api::ArchivedDocument;
use leptos::prelude::*;

use crate::{api, archived::fetched_line, query::Query, split::split_point};

split_point! {
    /// The offer, in a file of its own: the archive's answer and its dates
    /// are read there, after the first screen is drawn.
    pub fn archive_offer_part(query: RwSignal<Query>, refreshed: Signal<u32>, on_open: Callback<ArchivedDocument>) -> AnyView {
        view! { <ArchiveOffer query refreshed on_open /> }.into_any()
    }
}

/// Says when the archive holds exactly the query's document, and opens it at once.
#[component]
pub fn ArchiveOffer(
    query: RwSignal<Query>,
    refreshed: Signal<u32>,
    on_open: Callback<ArchivedDocument>,
) -> impl IntoView {
    let copy = LocalResource::new(move || {
        let request = query.with(Query::request).ok();
        refreshed.track();
        async move {
            match request {
                Some(request) => api::archived_copy(&request).await.ok().flatten(),
                None => None,
            }
        }
    });
    move || {
        copy.get().flatten().map(|document| {
            let line = fetched_line(&document);
            view! {
                <p class="archive-offer">
                    {format!("The archive has exactly this document, {line}. ")}
                    <button type="button" class="open-archived" on:click=move |_| on_open.run(document.clone())>
                        "Open the archived copy"
                    </button>
                    " — or fetch it fresh from the vendor."
                </p>
            }
        })
    }
}
