use billing::lines::LineFilter;
use leptos::prelude::*;
use worker_protocol::Opened;

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
    loaded::empty_window_advice,
};

/// What the last fetch gave: the document rendered, or why there is none.
#[component]
pub fn Results(transfer: RwSignal<Transfer>) -> impl IntoView {
    move || {
        match transfer.get() {
        Transfer::Done(loaded, raw) => {
            let downloads = view! { <Downloads loaded=loaded.clone() raw /> };
            let body = match &loaded.opened {
                Opened::Invoices(overview) if overview.invoices.is_empty() => view! {
                    <p class="empty" role="status">{empty_window_advice(&loaded.query)}</p>
                }
                .into_any(),
                Opened::Invoices(overview) => {
                    let filter = RwSignal::new(LineFilter::default());
                    let other = RwSignal::new(Fetched::Idle);
                    // The lines and the charts are asked for again once joined.
                    let joined = Signal::derive(move || other.with(|other| matches!(other, Fetched::Loaded(_))));
                    view! {
                        <SummaryView summary=overview.summary.clone() />
                        <InvoiceList loaded=loaded.clone() invoices=overview.invoices.clone() />
                        <MarginPanel loaded=loaded.clone() other />
                        <Charts currencies=overview.currencies.clone() filter joined />
                        <LinesTable choices=overview.choices.clone() total=overview.summary.lines
                            file_stem=loaded.query.file_stem() format=loaded.query.format filter joined />
                    }
                    .into_any()
                }
                Opened::SubscriptionDetails(details) => {
                    view! { <SubscriptionDetailsView details=details.clone() /> }.into_any()
                }
                Opened::Margin(_) | Opened::Comparison(_) => ().into_any(),
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
