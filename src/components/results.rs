use std::sync::Arc;

use billing::{
    Endpoint, InvoiceDocument,
    lines::{LineFilter, LineTable},
    matching::{MarginSummary, match_documents},
};
use leptos::prelude::*;

use crate::{
    components::{
        charts::Charts,
        downloads::Downloads,
        invoice_list::InvoiceList,
        lines_table::LinesTable,
        margin_panel::{Fetched, MarginPanel},
        portal::Transfer,
        problem_view::ProblemView,
        subscription_details_view::SubscriptionDetailsView,
        summary::SummaryView,
    },
    format,
    loaded::{Contents, empty_window_advice},
};

/// What the last fetch gave: the document rendered, or why there is none.
#[component]
pub fn Results(transfer: RwSignal<Transfer>) -> impl IntoView {
    move || {
        match transfer.get() {
        Transfer::Done(loaded, raw) => {
            let downloads = view! { <Downloads loaded=loaded.clone() raw /> };
            let body = match &loaded.contents {
                Contents::Invoices(document) if document.invoices.is_empty() => view! {
                    <p class="empty" role="status">{empty_window_advice(&loaded.query)}</p>
                }
                .into_any(),
                Contents::Invoices(document) => {
                    let table = Arc::new(LineTable::new(document.clone()));
                    let filter = RwSignal::new(LineFilter::default());
                    let other = RwSignal::new(Fetched::Idle);
                    let margins = join(other, document.clone(), loaded.query.endpoint == Endpoint::Invoices);
                    view! {
                        <SummaryView document=document.clone() />
                        <InvoiceList loaded=loaded.clone() document=document.clone() />
                        <MarginPanel loaded=loaded.clone() other margins />
                        <Charts table=table.clone() filter margins />
                        <LinesTable table file_stem=loaded.query.file_stem() filter margins />
                    }
                    .into_any()
                }
                Contents::SubscriptionDetails(details) => {
                    view! { <SubscriptionDetailsView details=(**details).clone() /> }.into_any()
                }
            };
            view! { <section class="results">{downloads}{body}</section> }.into_any()
        }
        Transfer::Refused(problem) => view! { <ProblemView problem /> }.into_any(),
        Transfer::Broken { received, message } => view! {
            <div class="problem" role="alert">
                <p class="problem-title">"The transfer broke off"</p>
                <p class="problem-detail">{format!("After {}: {message}", format::bytes(received))}</p>
                <p class="problem-advice">"Nothing partial is shown. Fetch again."</p>
            </div>
        }
        .into_any(),
        Transfer::Unreadable { message } => view! {
            <div class="problem" role="alert">
                <p class="problem-title">"The document could not be read"</p>
                <p class="problem-detail">{message}</p>
                <p class="problem-advice">"Download the raw file to inspect it, or fetch the other format."</p>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
    }
}

/// The exact join of the loaded document with its other side, once that is
/// loaded: computed once for the margin panel, the table and the charts.
fn join(
    other: RwSignal<Fetched>,
    document: Arc<InvoiceDocument>,
    purchases_loaded: bool,
) -> Memo<Option<Arc<MarginSummary>>> {
    Memo::new_with_compare(
        move |_| {
            other.with(|side| match side {
                Fetched::Loaded(other) => {
                    let (purchases, sales) =
                        if purchases_loaded { (&*document, &**other) } else { (&**other, &*document) };
                    Some(Arc::new(MarginSummary::from(match_documents(purchases, sales))))
                }
                _ => None,
            })
        },
        // A new join is a new answer; comparing a hundred thousand lines
        // to find out would cost more than it saves.
        |old, new| {
            old.map(|old| old.as_ref().map(Arc::as_ptr)) != new.map(|new| new.as_ref().map(Arc::as_ptr))
        },
    )
}
