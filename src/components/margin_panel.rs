use std::sync::Arc;

use billing::{
    Endpoint, InvoiceDocument, ProfileSummary,
    matching::{ConsolidatedComparison, Margin, MarginSummary, OneSidedLine, compare_consolidated},
};
use leptos::{prelude::*, task::spawn_local};

use crate::{fetch::fetch_invoices, format, loaded::Loaded, query::other_side};

/// A second document the analysis asks for, as it loads.
#[derive(Clone, Default)]
pub enum Fetched {
    #[default]
    Idle,
    Loading,
    Failed(String),
    Loaded(Arc<InvoiceDocument>),
}

/// The column headings over [`margin_cells`].
fn margin_headings() -> impl IntoView {
    view! {
        <th scope="col" class="number">"Cost"</th><th scope="col" class="number">"Sale"</th>
        <th scope="col" class="number">"Margin"</th><th scope="col" class="number">"Margin %"</th>
    }
}

/// Cost, sale, margin and margin % as table cells.
fn margin_cells(margin: &Margin, currency: &str) -> impl IntoView + use<> {
    view! {
        <td class="number">{format::amount(margin.cost, currency)}</td>
        <td class="number">{format::amount(margin.sale, currency)}</td>
        <td class="number">{format::amount(margin.margin(), currency)}</td>
        <td class="number">{margin.percent().map(|percent| format!("{} %", percent.round_dp(1)))}</td>
    }
}

/// At most this many lines of a list are shown; the count says the rest.
const LISTED: usize = 50;

/// A titled list of at most [`LISTED`] items and a count of the rest, or
/// nothing when there are none.
fn capped_list(title: String, items: Vec<String>) -> impl IntoView {
    let total = items.len();
    (total > 0).then(|| {
        let more = total.saturating_sub(LISTED);
        view! {
            <h3>{format!("{title} ({total})")}</h3>
            <ul class="one-side">
                {items.into_iter().take(LISTED).map(|line| view! { <li>{line}</li> }).collect_view()}
                {(more > 0).then(|| view! { <li class="muted">{format!("and {more} more")}</li> })}
            </ul>
        }
    })
}

fn describe(line: &OneSidedLine) -> String {
    let amount = line.amount.map(|amount| format::amount(amount, &line.currency)).unwrap_or_default();
    format!("Invoice {} · {} · {} · {amount}", line.invoice, line.customer, line.description)
}

/// Starts fetching `query` into `into`, unless it is already loading.
fn fetch_into(into: RwSignal<Fetched>, query: crate::query::Query) {
    into.set(Fetched::Loading);
    spawn_local(async move {
        into.set(match fetch_invoices(query).await {
            Ok(document) => Fetched::Loaded(document),
            Err(message) => Fetched::Failed(message),
        });
    });
}

/// Cost, sale and margin per customer and per subscription, from the exact
/// join of purchase and customer lines on InvoiceRowHash, and where the
/// vendor's consolidated view disagrees with it.
#[component]
pub fn MarginPanel(
    loaded: Arc<Loaded>,
    /// The other side of the join, shared with the table and the charts.
    other: RwSignal<Fetched>,
    margins: Memo<Option<Arc<MarginSummary>>>,
) -> impl IntoView {
    let offered: Vec<Endpoint> = use_context::<Vec<ProfileSummary>>()
        .and_then(|profiles| profiles.into_iter().find(|profile| profile.name == loaded.query.profile))
        .map(|profile| profile.endpoints)
        .unwrap_or_default();
    let Some(other_query) = other_side(&loaded.query, &offered) else { return ().into_any() };
    let other_name = other_query.endpoint.path();
    let consolidated_query = offered
        .contains(&Endpoint::ConsolidatedInvoices)
        .then(|| crate::query::Query { endpoint: Endpoint::ConsolidatedInvoices, ..loaded.query.clone() });
    let consolidated = RwSignal::new(Fetched::Idle);
    let status = move || {
        other.with(|side| match side {
            Fetched::Idle => {
                let query = other_query.clone();
                view! {
                    <button type="button" class="load-other" on:click=move |_| fetch_into(other, query.clone())>
                        {format!("Load {other_name} for the same window to see the margin")}
                    </button>
                }
                .into_any()
            }
            Fetched::Loading => view! { <p role="status">{format!("Loading {other_name}…")}</p> }.into_any(),
            Fetched::Failed(message) => view! { <p class="problem-detail" role="alert">{message.clone()}</p> }.into_any(),
            Fetched::Loaded(_) => ().into_any(),
        })
    };
    let report = move || {
        margins.get().map(|summary| {
            let rows = summary
                .per_customer
                .iter()
                .map(|((customer, currency), margin)| {
                    view! {
                        <tr class="margin-row" data-customer=customer.clone() data-currency=currency.clone()
                            data-cost=margin.cost.to_string() data-sale=margin.sale.to_string()>
                            <th scope="row">{customer.clone()}</th>
                            <td>{currency.clone()}</td>
                            {margin_cells(margin, currency)}
                        </tr>
                    }
                })
                .collect_view();
            let subscription_rows = summary
                .per_subscription
                .iter()
                .map(|((customer, subscription, currency), margin)| {
                    view! {
                        <tr class="subscription-margin-row">
                            <td>{customer.clone()}</td>
                            <th scope="row">{subscription.clone()}</th>
                            <td>{currency.clone()}</td>
                            {margin_cells(margin, currency)}
                        </tr>
                    }
                })
                .collect_view();
            let comparison = consolidated_query.clone().map(|query| {
                let summary = summary.clone();
                view! { <ConsolidatedCheck query consolidated summary /> }
            });
            view! {
                <p class="margin-counts" role="status">
                    {format!(
                        "{} lines matched on InvoiceRowHash; {} purchase lines and {} customer lines have no other side; {} pairs differ in currency and are not netted. Each line's cost, sale and margin are now columns of the lines table.",
                        summary.matched,
                        summary.purchase_only.len(),
                        summary.sale_only.len(),
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
                {capped_list("Purchase lines without a customer line".to_owned(), summary.purchase_only.iter().map(describe).collect())}
                {capped_list("Customer lines without a purchase line".to_owned(), summary.sale_only.iter().map(describe).collect())}
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
    query: crate::query::Query,
    consolidated: RwSignal<Fetched>,
    summary: Arc<MarginSummary>,
) -> impl IntoView {
    move || {
        consolidated.with(|fetched| match fetched {
            Fetched::Idle => {
                let query = query.clone();
                view! {
                    <button type="button" class="load-consolidated" on:click=move |_| fetch_into(consolidated, query.clone())>
                        "Compare with the vendor's consolidatedinvoices"
                    </button>
                }
                .into_any()
            }
            Fetched::Loading => view! { <p role="status">"Loading consolidatedinvoices…"</p> }.into_any(),
            Fetched::Failed(message) => view! { <p class="problem-detail" role="alert">{message.clone()}</p> }.into_any(),
            Fetched::Loaded(document) => {
                let comparison = compare_consolidated(&summary, document);
                consolidated_report(comparison).into_any()
            }
        })
    }
}

fn consolidated_report(comparison: ConsolidatedComparison) -> impl IntoView {
    let ConsolidatedComparison { agreeing, missing, duplicated, differing, unknown } = comparison;
    let disagreements = missing.len() + duplicated.len() + differing.len() + unknown;
    let differing: Vec<String> = differing
        .into_iter()
        .map(|(hash, exact, vendor)| {
            format!(
                "{hash}: exact cost {} and sale {}; the vendor says cost {} and sale {}",
                exact.cost, exact.sale, vendor.cost, vendor.sale
            )
        })
        .collect();
    let duplicated: Vec<String> =
        duplicated.into_iter().map(|(hash, count)| format!("{hash}: listed {count} times")).collect();
    view! {
        <section class="consolidated-check" aria-labelledby="consolidated-heading">
            <h3 id="consolidated-heading">"The vendor's consolidatedinvoices against the exact join"</h3>
            <p class="consolidated-counts" role="status" class:warning={disagreements > 0}>
                {format!(
                    "{agreeing} lines agree. {} joined lines are missing from it, {} are listed more than once, {} differ in cost or sale, and {unknown} of its lines have no hash the join matched.",
                    missing.len(),
                    duplicated.len(),
                    differing.len(),
                )}
            </p>
            {capped_list("Lines whose cost or sale differ".to_owned(), differing)}
            {capped_list("Lines listed more than once".to_owned(), duplicated)}
            {capped_list("Joined lines it leaves out (by InvoiceRowHash)".to_owned(), missing)}
        </section>
    }
}
