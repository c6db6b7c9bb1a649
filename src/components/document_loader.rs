use billing::api::DocumentRequest;
use leptos::{prelude::*, task::spawn_local};
use web_sys::AbortController;
use worker_protocol::{Opened, Slot, Source};

use crate::{
    api,
    fetch::{Arrived, OUT_OF_TURN, open},
    fetched::Fetched,
};

/// Where a second document comes from: an earlier window from the
/// archive when it holds exactly that document (a closed month does not
/// change, and the vendor need not be asked again), else the vendor.
async fn source_for(request: &DocumentRequest, slot: Slot) -> Source {
    if !matches!(slot, Slot::Earlier | Slot::EarlierOtherSide) {
        return Source::Vendor;
    }
    match api::archived_copy(request).await {
        Ok(Some(archived)) => Source::Archive { id: archived.id },
        _ => Source::Vendor,
    }
}

/// Has the worker fetch `request` into `slot`, and puts what `take` finds in
/// the answer into `into`.
pub fn fetch_into<T: Send + Sync + 'static>(
    into: RwSignal<Fetched<T>>,
    request: DocumentRequest,
    slot: Slot,
    take: fn(Opened) -> Option<T>,
) {
    fetch_from(into, request, None, slot, take);
}

/// As [`fetch_into`], from `source` when given (an archived copy by its id).
pub fn fetch_from<T: Send + Sync + 'static>(
    into: RwSignal<Fetched<T>>,
    request: DocumentRequest,
    source: Option<Source>,
    slot: Slot,
    take: fn(Opened) -> Option<T>,
) {
    let Ok(controller) = AbortController::new() else { return };
    into.set(Fetched::Loading);
    spawn_local(async move {
        let source = match source {
            Some(source) => source,
            None => source_for(&request, slot).await,
        };
        into.set(match open(&request, source, slot, &controller.signal(), |_| {}).await {
            Ok(Arrived { opened, .. }) => match take(opened) {
                Some(taken) => Fetched::Loaded(taken),
                None => Fetched::Failed(OUT_OF_TURN.to_owned()),
            },
            Err(error) => Fetched::Failed(error.in_words()),
        });
    });
}

/// A button that has the worker fetch `request` into `into`, then says it
/// is loading or why it failed; once loaded, the caller shows the rest.
#[component]
pub fn DocumentLoader<T: Clone + Send + Sync + 'static>(
    fetched: RwSignal<Fetched<T>>,
    request: DocumentRequest,
    /// Where the worker puts the document.
    into: Slot,
    /// What of the worker's answer is kept.
    take: fn(Opened) -> Option<T>,
    class: &'static str,
    label: String,
    loading: String,
) -> impl IntoView {
    move || {
        fetched.with(|state| match state {
            Fetched::Idle => {
                let request = request.clone();
                view! {
                    <button type="button" class=class on:click=move |_| fetch_into(fetched, request.clone(), into, take)>
                        {label.clone()}
                    </button>
                }
                .into_any()
            }
            Fetched::Loading => view! { <p role="status">{loading.clone()}</p> }.into_any(),
            Fetched::Failed(message) => view! { <p class="problem-detail" role="alert">{message.clone()}</p> }.into_any(),
            Fetched::Loaded(_) => ().into_any(),
        })
    }
}
