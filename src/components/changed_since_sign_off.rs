//! A flag when the document just opened differs from the copy its month was signed off on, with the way to see what changed.

use std::sync::Arc;

use leptos::prelude::*;

use crate::{
    api,
    components::tab_bar::Tabs,
    loaded::{Loaded, Origin},
    month::Month,
    tabs::Tab,
};

/// The signed-off copy the Changes tab compares with, when asked.
#[derive(Clone, Copy)]
pub struct PinnedComparison(pub RwSignal<Option<i64>>);

/// The SHA-256 of the bytes shown, as the archive keeps them: the copy
/// this very transfer became, not whichever copy is newest.
async fn hash_of(loaded: &Loaded) -> Option<String> {
    match &loaded.origin {
        Origin::Archive(document) => Some(document.sha256.clone()),
        Origin::Vendor { request_id: Some(request_id) } => {
            api::archived_transfer(&loaded.request, *request_id).await.ok().flatten().map(|copy| copy.sha256)
        }
        Origin::Vendor { request_id: None } => None,
    }
}

#[component]
pub fn ChangedSinceSignOff(loaded: Arc<Loaded>, month: Month) -> impl IntoView {
    let hash = LocalResource::new(move || {
        let loaded = loaded.clone();
        async move { hash_of(&loaded).await }
    });
    let tabs = use_context::<Tabs>();
    let comparison = use_context::<PinnedComparison>();
    move || {
        let sign_off = month.signed_off()?;
        let pinned = sign_off.pinned(month.endpoint)?.clone();
        let shown = hash.get().flatten()?;
        (shown != pinned.sha256).then(|| {
            let see = move |_| {
                if let Some(PinnedComparison(compared)) = comparison {
                    compared.set(Some(pinned.id));
                }
                if let Some(tabs) = tabs {
                    tabs.show(Tab::Changes);
                }
            };
            view! {
                <div class="problem changed-since-sign-off" role="alert">
                    <p class="problem-title">"The vendor's data changed since sign-off"</p>
                    <p class="problem-detail">{format!(
                        "{} was signed off by {} on {} holding to a copy fetched {}; the document shown now has other bytes.",
                        sign_off.month, sign_off.changed.by, sign_off.changed.at.format("%Y-%m-%d %H:%M UTC"),
                        pinned.fetched_at.format("%Y-%m-%d %H:%M UTC"))}</p>
                    <button type="button" class="button see-changes-since-sign-off" on:click=see>"See what changed"</button>
                </div>
            }
        })
    }
}
