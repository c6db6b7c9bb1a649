use leptos::prelude::*;

use crate::archived::Kept;

/// Where the open document came from, and whether the relay archived it.
#[component]
pub fn ArchiveNote(kept: RwSignal<Option<Kept>>) -> impl IntoView {
    move || {
        kept.get().map(|kept| {
            let role = if kept.is_warning() { "alert" } else { "status" };
            let class = if kept.is_warning() { "archive-note warning" } else { "archive-note" };
            view! { <p class=class role=role>{kept.words()}</p> }
        })
    }
}
