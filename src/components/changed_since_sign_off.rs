//! A flag when the document just opened differs from the copy its month was signed off on, with the way to see what changed.

use std::sync::Arc;

use billing::api::{ArchiveQuery, DocumentRequest};
use leptos::prelude::*;

use crate::{api, archived::Kept, components::tab_bar::Tabs, loaded::Loaded, month::Month, tabs::Tab};

/// The signed-off copy the Changes tab compares with, when asked.
#[derive(Clone, Copy)]
pub struct PinnedComparison(pub RwSignal<Option<i64>>);

/// What the relay said it kept of the document open, as the archive note
/// shows it: read here too, so the receipt is asked for once.
#[derive(Clone, Copy)]
pub struct OpenDocumentKept(pub RwSignal<Option<Kept>>);

/// The SHA-256 of the bytes shown, as the archive keeps them: the copy
/// this very transfer became, not whichever copy is newest.
async fn hash_of(request: &DocumentRequest, kept: Option<Kept>) -> Option<String> {
    match kept? {
        Kept::FromArchive(document) => Some(document.sha256),
        Kept::Archived { id } => {
            let query = ArchiveQuery::matching(request);
            api::archived_copy_numbered(&query, id).await.ok().flatten().map(|copy| copy.sha256)
        }
        Kept::Checking { .. } | Kept::NotArchived { .. } | Kept::Unknown { .. } => None,
    }
}

#[component]
pub fn ChangedSinceSignOff(loaded: Arc<Loaded>, month: Month) -> impl IntoView {
    let kept = use_context::<OpenDocumentKept>();
    let hash = LocalResource::new(move || {
        let request = loaded.request.clone();
        let kept = kept.and_then(|OpenDocumentKept(kept)| kept.get());
        async move { hash_of(&request, kept).await }
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
                        sign_off.month, sign_off.changed.by, billing::api::minute_utc(sign_off.changed.at),
                        billing::api::minute_utc(pinned.fetched_at))}</p>
                    <button type="button" class="button see-changes-since-sign-off" on:click=see>"See what changed"</button>
                </div>
            }
        })
    }
}
