use std::sync::Arc;

use billing::{
    Endpoint, InvoiceDocument, ProfileSummary,
    matching::{Margin, match_documents},
};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    fetch::{FetchError, fetch_document},
    format,
    loaded::{Contents, Loaded},
    query::other_side,
};

/// Cost, sale, margin and margin % as table cells.
fn margin_cells(margin: &Margin, currency: &str) -> impl IntoView + use<> {
    view! {
        <td class="number">{format::amount(margin.cost, currency)}</td>
        <td class="number">{format::amount(margin.sale, currency)}</td>
        <td class="number">{format::amount(margin.margin(), currency)}</td>
        <td class="number">{margin.percent().map(|percent| format!("{} %", percent.round_dp(1)))}</td>
    }
}

/// At most this many one-sided lines are listed; the count says the rest.
const ONE_SIDE_LISTED: usize = 50;

/// A list of lines found on one side only, or nothing when there are none.
fn one_side(title: &'static str, (listed, total): (Vec<String>, usize)) -> impl IntoView {
    (total > 0).then(|| {
        let more = total.saturating_sub(listed.len());
        view! {
            <h3>{format!("{title} ({total})")}</h3>
            <ul class="one-side">
                {listed.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                {(more > 0).then(|| view! { <li class="muted">{format!("and {more} more")}</li> })}
            </ul>
        }
    })
}

enum Side {
    Idle,
    Loading,
    Failed(String),
    Loaded(Arc<InvoiceDocument>),
}

/// Cost, sale and margin per customer and per subscription, from the exact
/// join of purchase and customer lines on InvoiceRowHash.
#[component]
pub fn MarginPanel(loaded: Arc<Loaded>, document: Arc<InvoiceDocument>) -> impl IntoView {
    let offered: Vec<Endpoint> = use_context::<Vec<ProfileSummary>>()
        .and_then(|profiles| profiles.into_iter().find(|profile| profile.name == loaded.query.profile))
        .map(|profile| profile.endpoints)
        .unwrap_or_default();
    let Some(other) = other_side(&loaded.query, &offered) else { return ().into_any() };
    let side = RwSignal::new(Side::Idle);
    let purchases_loaded = loaded.query.endpoint == Endpoint::Invoices;
    let other_name = other.endpoint.path();
    let load = {
        let other = other.clone();
        move |_| {
            side.set(Side::Loading);
            let other = other.clone();
            spawn_local(async move {
                let Ok(controller) = web_sys::AbortController::new() else { return };
                let result = fetch_document(&other.relay_path(false), &controller.signal(), |_, _| {}).await;
                side.set(match result {
                    Ok(bytes) => match Loaded::read(other, bytes) {
                        Ok(Loaded { contents: Contents::Invoices(document), .. }) => Side::Loaded(document),
                        Ok(_) => Side::Failed("the other side is not an invoice document".to_owned()),
                        Err(error) => Side::Failed(error.to_string()),
                    },
                    Err(FetchError::Relay(problem)) => {
                        Side::Failed(format!("{}: {}", problem.title, problem.detail))
                    }
                    Err(FetchError::Broken { message, .. }) => Side::Failed(message),
                    Err(FetchError::Cancelled { .. }) => Side::Idle,
                });
            });
        }
    };
    let report = move || {
        side.with(|side| match side {
            Side::Idle => view! {
                <button type="button" class="load-other" on:click=load.clone()>
                    {format!("Load {other_name} for the same window to see the margin")}
                </button>
            }
            .into_any(),
            Side::Loading => view! { <p role="status">{format!("Loading {other_name}…")}</p> }.into_any(),
            Side::Failed(message) => view! { <p class="problem-detail" role="alert">{message.clone()}</p> }.into_any(),
            Side::Loaded(other_document) => {
                let (purchases, sales) =
                    if purchases_loaded { (&*document, &**other_document) } else { (&**other_document, &*document) };
                let report = match_documents(purchases, sales);
                let rows = report
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
                let subscription_rows = report
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
                let describe = |rows: &[billing::lines::LineRow<'_>]| -> (Vec<String>, usize) {
                    let listed = rows
                        .iter()
                        .take(ONE_SIDE_LISTED)
                        .map(|row| {
                            let amount = row
                                .line
                                .extended_price
                                .map(|amount| format::amount(amount, billing::totals::currency_of(row.invoice)))
                                .unwrap_or_default();
                            format!(
                                "Invoice {} · {} · {} · {amount}",
                                row.invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
                                row.customer.company_name.as_deref().unwrap_or_default(),
                                row.line.description.as_deref().unwrap_or_default(),
                            )
                        })
                        .collect();
                    (listed, rows.len())
                };
                let unmatched_purchases = describe(&report.purchase_only);
                let unmatched_sales = describe(&report.sale_only);
                view! {
                    <p class="margin-counts">
                        {format!(
                            "{} lines matched on InvoiceRowHash; {} purchase lines and {} customer lines have no other side; {} pairs differ in currency and are not netted.",
                            report.matched.len(),
                            report.purchase_only.len(),
                            report.sale_only.len(),
                            report.currency_mismatches.len()
                        )}
                    </p>
                    <div class="table-scroll">
                        <table class="margins">
                            <thead>
                                <tr>
                                    <th scope="col">"Customer"</th><th scope="col">"Currency"</th>
                                    <th scope="col" class="number">"Cost"</th><th scope="col" class="number">"Sale"</th>
                                    <th scope="col" class="number">"Margin"</th><th scope="col" class="number">"Margin %"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <h3>"Per subscription"</h3>
                    <div class="table-scroll">
                        <table class="margins">
                            <thead>
                                <tr>
                                    <th scope="col">"Customer"</th><th scope="col">"Subscription"</th><th scope="col">"Currency"</th>
                                    <th scope="col" class="number">"Cost"</th><th scope="col" class="number">"Sale"</th>
                                    <th scope="col" class="number">"Margin"</th><th scope="col" class="number">"Margin %"</th>
                                </tr>
                            </thead>
                            <tbody>{subscription_rows}</tbody>
                        </table>
                    </div>
                    {one_side("Purchase lines without a customer line", unmatched_purchases)}
                    {one_side("Customer lines without a purchase line", unmatched_sales)}
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="margin" aria-labelledby="margin-heading">
            <h2 id="margin-heading">"Margin"</h2>
            <p class="hint">
                "Joined exactly on InvoiceRowHash. The vendor's own consolidatedinvoices is best-effort: it may miss, duplicate or mismatch lines."
            </p>
            {report}
        </section>
    }
    .into_any()
}
