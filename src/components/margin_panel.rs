use std::sync::Arc;

use billing::{Endpoint, ProfileSummary, api::DocumentRequest};
use leptos::prelude::*;
use worker_protocol::{ComparisonView, Listed, MarginRow, MarginView, OneSidedView, Opened, Slot};

use crate::{
    components::document_loader::DocumentLoader, fetched::Fetched, format, loaded::Loaded, split::split_point,
};

/// The column headings over [`margin_cells`].
fn margin_headings() -> impl IntoView {
    view! {
        <th scope="col" class="number">"Cost"</th><th scope="col" class="number">"Sale"</th>
        <th scope="col" class="number">"Margin"</th><th scope="col" class="number">"Margin %"</th>
    }
}

/// Cost, sale, margin and margin % as table cells.
fn margin_cells(margin: &MarginRow) -> impl IntoView + use<> {
    let currency = &margin.currency;
    view! {
        <td class="number">{format::amount(&margin.cost, currency)}</td>
        <td class="number">{format::amount(&margin.sale, currency)}</td>
        <td class="number">{format::amount(&margin.margin, currency)}</td>
        <td class="number">{margin.percent.clone()}</td>
    }
}

/// A titled list of the first items the worker sent and a count of the
/// rest, or nothing when there are none.
fn capped_list(title: String, items: Listed<String>) -> impl IntoView {
    let Listed { total, first } = items;
    (total > 0).then(|| {
        let more = total.saturating_sub(first.len());
        view! {
            <h3>{format!("{title} ({total})")}</h3>
            <ul class="one-side">
                {first.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                {(more > 0).then(|| view! { <li class="muted">{format!("and {more} more")}</li> })}
            </ul>
        }
    })
}

fn described(lines: &Listed<OneSidedView>) -> Listed<String> {
    let describe = |line: &OneSidedView| {
        let amount =
            line.amount.as_deref().map(|amount| format::amount(amount, &line.currency)).unwrap_or_default();
        format!("Invoice {} · {} · {} · {amount}", line.invoice, line.customer, line.description)
    };
    Listed { total: lines.total, first: lines.first.iter().map(describe).collect() }
}

/// Cost, sale and margin per customer and per subscription, from the exact
/// join of purchase and customer lines on InvoiceRowHash, and where the
/// vendor's consolidated view disagrees with it.
#[component]
pub fn MarginPanel(
    loaded: Arc<Loaded>,
    /// The other side of the join; the table and the charts ask again once
    /// it is loaded.
    other: RwSignal<Fetched<MarginView>>,
    /// The vendor's consolidated view against the join; the worklist asks
    /// again once it is loaded.
    consolidated: RwSignal<Fetched<ComparisonView>>,
) -> impl IntoView {
    let offered: Vec<Endpoint> = use_context::<Vec<ProfileSummary>>()
        .and_then(|profiles| profiles.into_iter().find(|profile| profile.name == loaded.request.profile()))
        .map(|profile| profile.endpoints)
        .unwrap_or_default();
    let Some(other_request) = loaded.request.other_side(&offered) else { return ().into_any() };
    let other_name = other_request.endpoint().path();
    let consolidated_request = offered
        .contains(&Endpoint::ConsolidatedInvoices)
        .then(|| loaded.request.with_endpoint(Endpoint::ConsolidatedInvoices))
        .flatten();
    let status = view! {
        <DocumentLoader fetched=other request=other_request into=Slot::OtherSide take=margin_of class="load-other"
            label=format!("Load {other_name} for the same window to see the margin")
            loading=format!("Loading {other_name}…") />
    };
    let report = move || {
        other.with(|side| match side {
            Fetched::Loaded(summary) => Some(summary.clone()),
            _ => None,
        })
        .map(|summary| {
            let rows = summary
                .per_customer
                .iter()
                .map(|margin| {
                    view! {
                        <tr class="margin-row" data-customer=margin.customer.clone() data-currency=margin.currency.clone()
                            data-cost=margin.cost.clone() data-sale=margin.sale.clone()>
                            <th scope="row">{margin.customer.clone()}</th>
                            <td>{margin.currency.clone()}</td>
                            {margin_cells(margin)}
                        </tr>
                    }
                })
                .collect_view();
            let subscription_rows = summary
                .per_subscription
                .iter()
                .map(|margin| {
                    view! {
                        <tr class="subscription-margin-row">
                            <td>{margin.customer.clone()}</td>
                            <th scope="row">{margin.subscription.clone()}</th>
                            <td>{margin.currency.clone()}</td>
                            {margin_cells(margin)}
                        </tr>
                    }
                })
                .collect_view();
            let comparison = consolidated_request.clone().map(|request| {
                view! { <ConsolidatedCheck request consolidated /> }
            });
            view! {
                <p class="margin-counts" role="status">
                    {format!(
                        "{} lines matched on InvoiceRowHash; {} purchase lines and {} customer lines have no other side; {} pairs differ in currency and are not netted. Each line's cost, sale and margin are now columns of the lines table.",
                        summary.matched,
                        summary.purchase_only.total,
                        summary.sale_only.total,
                        summary.currency_mismatches
                    )}
                </p>
                <div class="table-scroll" tabindex="0" role="region" aria-label="Margin per customer">
                    <table class="margins">
                        <caption class="visually-hidden">"Margin per customer"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Customer"</th><th scope="col">"Currency"</th>
                                {margin_headings()}
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <h3>"Per subscription"</h3>
                <div class="table-scroll" tabindex="0" role="region" aria-label="Margin per subscription">
                    <table class="margins">
                        <caption class="visually-hidden">"Margin per subscription"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Customer"</th><th scope="col">"Subscription"</th><th scope="col">"Currency"</th>
                                {margin_headings()}
                            </tr>
                        </thead>
                        <tbody>{subscription_rows}</tbody>
                    </table>
                </div>
                {capped_list("Purchase lines without a customer line".to_owned(), described(&summary.purchase_only))}
                {capped_list("Customer lines without a purchase line".to_owned(), described(&summary.sale_only))}
                {comparison}
            }
        })
    };
    view! {
        <section class="margin" aria-labelledby="margin-heading">
            <h2 id="margin-heading">"Margin"</h2>
            <p class="hint">
                "Joined exactly on InvoiceRowHash. The vendor's own consolidatedinvoices is best-effort: it may miss, duplicate or mismatch lines, so it is only compared here, never used."
            </p>
            {status}
            {report}
        </section>
    }
    .into_any()
}

/// Loads the vendor's consolidatedinvoices for the same window on request
/// and lists where it disagrees with the exact join.
#[component]
fn ConsolidatedCheck(
    request: DocumentRequest,
    consolidated: RwSignal<Fetched<ComparisonView>>,
) -> impl IntoView {
    let report = move || {
        consolidated.with(|fetched| match fetched {
            Fetched::Loaded(comparison) => Some(consolidated_report(comparison.clone())),
            _ => None,
        })
    };
    view! {
        <DocumentLoader fetched=consolidated request into=Slot::Consolidated take=comparison_of
            class="load-consolidated" label="Compare with the vendor's consolidatedinvoices".to_owned()
            loading="Loading consolidatedinvoices…".to_owned() />
        {report}
    }
}

fn margin_of(opened: Opened) -> Option<MarginView> {
    match opened {
        Opened::Margin(margin) => Some(margin),
        _ => None,
    }
}

fn comparison_of(opened: Opened) -> Option<ComparisonView> {
    match opened {
        Opened::Comparison(comparison) => Some(comparison),
        _ => None,
    }
}

fn consolidated_report(comparison: ComparisonView) -> impl IntoView {
    let ComparisonView { agreeing, missing, duplicated, differing, unknown } = comparison;
    let disagreements = missing.total + duplicated.total + differing.total + unknown;
    view! {
        <section class="consolidated-check" aria-labelledby="consolidated-heading">
            <h3 id="consolidated-heading">"The vendor's consolidatedinvoices against the exact join"</h3>
            <p class="consolidated-counts" role="status" class:warning={disagreements > 0}>
                {format!(
                    "{agreeing} lines agree. {} joined lines are missing from it, {} are listed more than once, {} differ in cost or sale, and {unknown} of its lines have no hash the join matched.",
                    missing.total,
                    duplicated.total,
                    differing.total,
                )}
            </p>
            {capped_list("Lines whose cost or sale differ".to_owned(), differing)}
            {capped_list("Lines listed more than once".to_owned(), duplicated)}
            {capped_list("Joined lines it leaves out (by InvoiceRowHash)".to_owned(), missing)}
        </section>
    }
}

split_point! {
    /// The Margin tab.
    pub fn margin_part(
        loaded: Arc<Loaded>,
        other: RwSignal<Fetched<MarginView>>,
        consolidated: RwSignal<Fetched<ComparisonView>>,
    ) -> AnyView, preload preload_margin {
        view! { <MarginPanel loaded other consolidated /> }.into_any()
    }
}
