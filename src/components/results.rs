use billing::lines::{LineFilter, LineTable};
use leptos::prelude::*;

use crate::{
    components::{
        charts::Charts, downloads::Downloads, invoice_list::InvoiceList, lines_table::LinesTable,
        margin_panel::MarginPanel, portal::Transfer, problem_view::ProblemView,
        subscription_details_view::SubscriptionDetailsView, summary::SummaryView,
    },
    format,
    loaded::{Contents, empty_window_advice},
};

/// What the last fetch gave: the document rendered, or why there is none.
#[component]
pub fn Results(transfer: RwSignal<Transfer>) -> impl IntoView {
    move || {
        match transfer.get() {
        Transfer::Done(loaded) => {
            let downloads = view! { <Downloads loaded=loaded.clone() /> };
            let body = match &loaded.contents {
                Contents::Invoices(document) if document.invoices.is_empty() => view! {
                    <p class="empty" role="status">{empty_window_advice(&loaded.query)}</p>
                }
                .into_any(),
                Contents::Invoices(document) => {
                    let table = std::sync::Arc::new(LineTable::new(document.clone()));
                    let filter = RwSignal::new(LineFilter::default());
                    view! {
                        <SummaryView document=document.clone() />
                        <InvoiceList loaded=loaded.clone() document=document.clone() />
                        <MarginPanel loaded=loaded.clone() document=document.clone() />
                        <Charts table=table.clone() filter />
                        <LinesTable table file_stem=loaded.query.file_stem() filter />
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
