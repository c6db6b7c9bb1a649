//! What changed since the window just before this one: totals, customers and charges, each opening its lines.

use std::sync::Arc;

use billing::{Endpoint, ProfileSummary, api::DateWindow, lines::LineFilter};
use leptos::prelude::*;
use worker_protocol::{
    AmountChange, Answer, BarView, ChangeOrder, ChangesView, ChargeChange, Opened, Question, Slot, Source,
    WindowLine,
};

use crate::{
    components::bar_chart::BarChart,
    components::changed_since_sign_off::PinnedComparison,
    components::document_loader::{DocumentLoader, fetch_from, fetch_into},
    components::tab_bar::Tabs,
    fetch::{OUT_OF_TURN, ask},
    fetched::Fetched,
    format,
    loaded::Loaded,
    query::earlier_window,
    split::split_point,
    tabs::Tab,
};

/// The customers whose totals moved most, one chart per currency: no bar
/// ever compares amounts in two currencies.
const CHARTED: usize = 10;

#[component]
pub fn ChangesPanel(
    loaded: Arc<Loaded>,
    /// The lines table's filter, which a customer's bar sets.
    filter: RwSignal<LineFilter>,
    /// Whether this window's other side is joined: then the earlier
    /// window's is fetched too, and the margins compared.
    joined: Signal<bool>,
) -> impl IntoView {
    let tabs = use_context::<Tabs>();
    let Some(window) = loaded.request.window() else { return ().into_any() };
    let (start, end) = earlier_window(window.start(), window.end());
    let Some(earlier) =
        DateWindow::new(start, end).ok().and_then(|earlier| loaded.request.with_window(earlier))
    else {
        return ().into_any();
    };
    let offered: Vec<Endpoint> = use_context::<Vec<ProfileSummary>>()
        .and_then(|profiles| profiles.into_iter().find(|profile| profile.name == loaded.request.profile()))
        .map(|profile| profile.endpoints)
        .unwrap_or_default();
    let earlier_other_side = earlier.other_side(&offered);
    let compared = RwSignal::new(Fetched::<ChangesView>::Idle);
    // Whichever is loaded first, the comparison or this window's other side,
    // the earlier window's other side follows once both are.
    let margins = RwSignal::new(Fetched::<ChangesView>::Idle);
    Effect::new(move |_| {
        let wanted = joined.get()
            && compared.with(|compared| matches!(compared, Fetched::Loaded(changes) if !changes.joined));
        if wanted
            && margins.with_untracked(|margins| matches!(margins, Fetched::Idle))
            && let Some(query) = earlier_other_side.clone()
        {
            fetch_into(margins, query, Slot::EarlierOtherSide, changes_of);
        }
    });
    Effect::new(move |_| {
        if let Fetched::Loaded(changes) = margins.get() {
            compared.set(Fetched::Loaded(changes));
        }
    });
    // Asked from the flag: the copy the month was signed off on, not the earlier window.
    let pinned = use_context::<PinnedComparison>().map(|PinnedComparison(pinned)| pinned);
    if let Some(pinned) = pinned {
        let request = loaded.request.clone();
        Effect::new(move |_| {
            if let Some(id) = pinned.get() {
                fetch_from(
                    compared,
                    request.clone(),
                    Some(Source::Archive { id }),
                    Slot::Earlier,
                    changes_of,
                );
            }
        });
    }
    let compared_with = move || {
        pinned.and_then(|pinned| pinned.get()).map(|id| {
            view! { <p class="compared-with">{format!("Compared with the copy this month was signed off on (archived {id}).")}</p> }
        })
    };
    let margin_status = move || {
        margins.with(|margins| match margins {
            Fetched::Loading => Some(view! {
                <p role="status">{format!("Loading the other side of {start} to {end} to compare margins…")}</p>
            }
            .into_any()),
            Fetched::Failed(message) => Some(view! {
                <p class="problem-detail" role="alert">{format!("The margins cannot be compared: {message}")}</p>
            }
            .into_any()),
            _ => None,
        })
    };
    if let Some(tabs) = tabs {
        Effect::new(move |_| {
            let count = compared.with(|compared| match compared {
                Fetched::Loaded(changes) => Some(changes.changes.total),
                _ => None,
            });
            tabs.set_count(Tab::Changes, count);
        });
    }
    let report = move || {
        compared.with(|state| match state {
            Fetched::Loaded(changes) => {
                let show_customer = move |customer: String| {
                    filter.set(LineFilter { customer: Some(customer), ..LineFilter::default() });
                    if let Some(tabs) = tabs {
                        tabs.show(Tab::Lines);
                    }
                };
                view! {
                    {charts(&changes.per_currency, &changes.per_customer, show_customer)}
                    <ChangesReport first=changes.clone() />
                }
                .into_any()
            }
            _ => ().into_any(),
        })
    };
    view! {
        <section class="changes" aria-labelledby="changes-heading">
            <h2 id="changes-heading">"Changes"</h2>
            {compared_with}
            <DocumentLoader fetched=compared request=earlier into=Slot::Earlier take=changes_of class="load-earlier"
                label=format!("Compare with {start} to {end}") loading=format!("Loading {start} to {end}…") />
            {report}
            {margin_status}
        </section>
    }
    .into_any()
}

fn changes_of(opened: Opened) -> Option<ChangesView> {
    match opened {
        Opened::Changes(changes) => Some(changes),
        _ => None,
    }
}

fn amount_cells(row: &AmountChange) -> impl IntoView + use<> {
    let currency = &row.currency;
    view! {
        <td class="number">{format::amount(&row.before, currency)}</td>
        <td class="number">{format::amount(&row.after, currency)}</td>
        <td class="number">{format::amount(&row.difference, currency)}</td>
    }
}

/// Per currency, a bar for each of the customers whose total moved most.
fn charts<Choose: Fn(String) + Send + Sync + Copy + 'static>(
    per_currency: &[AmountChange],
    per_customer: &[AmountChange],
    choose: Choose,
) -> impl IntoView + use<Choose> {
    per_currency
        .iter()
        .map(|total| {
            let bars: Vec<BarView> = per_customer
                .iter()
                .filter(|row| row.currency == total.currency)
                .take(CHARTED)
                .map(|row| BarView { label: row.customer.clone(), amount: row.difference.clone() })
                .collect();
            (!bars.is_empty()).then(|| {
                let title = format!("Change per customer in {}: the {} largest", total.currency, bars.len());
                view! { <BarChart title bars currency=total.currency.clone() choose /> }
            })
        })
        .collect_view()
}

/// The totals, customers and charges that changed, listed in the order
/// the reader picks; the worker sorts, since it holds every charge.
#[component]
fn ChangesReport(
    /// As the comparison first came: the largest difference first.
    first: ChangesView,
) -> impl IntoView {
    let order = RwSignal::new(ChangeOrder::default());
    let reordered = LocalResource::new(move || {
        let order = order.get();
        async move {
            if order == ChangeOrder::default() {
                return None;
            }
            Some(match ask(Question::Changes { order }).await {
                Ok((Answer::Changes(changes), _)) => Ok(changes),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            })
        }
    });
    let listed = move || match reordered.get().flatten() {
        None => report(first.clone()).into_any(),
        Some(Ok(changes)) => report(changes).into_any(),
        Some(Err(message)) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
    };
    let options = ChangeOrder::ALL
        .into_iter()
        .map(|choice| {
            let (key, label) = order_names(choice);
            view! { <option value=key selected=move || order.get() == choice>{label}</option> }
        })
        .collect_view();
    view! {
        <label class="choice">"List by"
            <select id="change-order" on:change=move |event| {
                let chosen = event_target_value(&event);
                if let Some(choice) = ChangeOrder::ALL.into_iter().find(|choice| order_names(*choice).0 == chosen) {
                    order.set(choice);
                }
            }>{options}</select>
        </label>
        {listed}
    }
}

/// A list order's name in the page and the words the reader sees.
fn order_names(order: ChangeOrder) -> (&'static str, &'static str) {
    match order {
        ChangeOrder::Difference => ("difference", "largest difference"),
        ChangeOrder::Customer => ("customer", "customer"),
        ChangeOrder::Before => ("before", "largest amount before"),
        ChangeOrder::After => ("after", "largest amount now"),
    }
}

fn report(changes: ChangesView) -> impl IntoView {
    let totals = changes
        .per_currency
        .iter()
        .map(|row| {
            view! {
                <tr class="change-total" data-currency=row.currency.clone() data-before=row.before.clone()
                    data-after=row.after.clone()>
                    <th scope="row">{row.currency.clone()}</th>
                    {amount_cells(row)}
                </tr>
            }
        })
        .collect_view();
    let opened = RwSignal::new(None::<Question>);
    let customers = changes
        .per_customer
        .iter()
        .map(|row| {
            let question = Question::CustomerChangeLines {
                customer: row.customer.clone(),
                currency: row.currency.clone(),
            };
            view! {
                <tr class="customer-change">
                    <th scope="row">{row.customer.clone()}</th>
                    <td>{row.currency.clone()}</td>
                    {amount_cells(row)}
                    <td>
                        <button type="button" class="button show-customer-change"
                            aria-label=format!("Show lines of {} in {}", row.customer, row.currency)
                            on:click=move |_| opened.set(Some(question.clone()))>"Show lines"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let lines = LocalResource::new(move || {
        let question = opened.get();
        async move {
            Some(match ask(question?).await {
                Ok((Answer::ChangeLines { before, after }, _)) => Ok((before, after)),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            })
        }
    });
    let charges = changes.changes.first.iter().map(|change| charge_row(change, opened)).collect_view();
    let more = changes.changes.total.saturating_sub(changes.changes.first.len());
    let counts = format!(
        "{} charges changed, {} the same{}",
        changes.changes.total,
        changes.unchanged,
        if more > 0 {
            format!("; the {} with the largest difference are listed", changes.changes.first.len())
        } else {
            String::new()
        }
    );
    view! {
        <p class="change-counts" data-joined=changes.joined.to_string()>{counts}</p>
        <table class="change-table">
            <caption>"Per currency"</caption>
            <thead><tr><th scope="col">"Currency"</th><th scope="col" class="number">"Before"</th>
                <th scope="col" class="number">"Now"</th><th scope="col" class="number">"Difference"</th></tr></thead>
            <tbody>{totals}</tbody>
        </table>
        <table class="change-table">
            <caption>"Per customer"</caption>
            <thead><tr><th scope="col">"Customer"</th><th scope="col">"Currency"</th><th scope="col" class="number">"Before"</th>
                <th scope="col" class="number">"Now"</th><th scope="col" class="number">"Difference"</th>
                <th scope="col"><span class="visually-hidden">"Open"</span></th></tr></thead>
            <tbody>{customers}</tbody>
        </table>
        <table class="change-table">
            <caption>"Charges that changed"</caption>
            <thead><tr><th scope="col">"Customer"</th><th scope="col">"Subscription"</th><th scope="col">"Charge"</th>
                <th scope="col">"What changed"</th><th scope="col" class="number">"Quantity"</th>
                <th scope="col" class="number">"Before"</th><th scope="col" class="number">"Now"</th>
                <th scope="col" class="number">"Difference"</th><th scope="col"><span class="visually-hidden">"Open"</span></th></tr></thead>
            <tbody>{charges}</tbody>
        </table>
        {move || match lines.get().flatten() {
            None => ().into_any(),
            Some(Err(message)) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
            Some(Ok((before, after))) => view! {
                {window_lines("In the earlier window", before)}
                {window_lines("In this window", after)}
            }.into_any(),
        }}
    }
}

fn charge_row(change: &ChargeChange, opened: RwSignal<Option<Question>>) -> impl IntoView + use<> {
    let currency = change.currency.clone();
    let index = change.index;
    let kinds = change.kinds.iter().map(|kind| kind.label()).collect::<Vec<_>>().join(", ");
    let charge = if change.sku.is_empty() {
        change.charge_type.clone()
    } else {
        format!("{} ({})", change.charge_type, change.sku)
    };
    let quantity = format!("{} → {}", change.before_quantity, change.after_quantity);
    let amount = |text: &str| if text.is_empty() { String::new() } else { format::amount(text, &currency) };
    view! {
        <tr class="charge-change" data-difference=change.difference.clone()>
            <td>{change.customer.clone()}</td>
            <td>{change.subscription.clone()}</td>
            <td>{charge}</td>
            <td>{kinds}</td>
            <td class="number">{quantity}</td>
            <td class="number">{amount(&change.before_amount)}</td>
            <td class="number">{amount(&change.after_amount)}</td>
            <td class="number">{amount(&change.difference)}</td>
            <td>
                <button type="button" class="button show-change" aria-label=format!("Show lines of {} {}", change.customer, change.subscription)
                    on:click=move |_| opened.set(Some(Question::ChangeLines { index }))>"Show lines"</button>
            </td>
        </tr>
    }
}

fn window_lines(title: &'static str, lines: Vec<WindowLine>) -> impl IntoView {
    let rows = lines
        .into_iter()
        .map(|line| {
            view! {
                <tr class="window-line">
                    <td>{line.invoice}</td>
                    <td>{line.date}</td>
                    <td>{line.description}</td>
                    <td class="number">{format::number(&line.quantity)}</td>
                    <td class="number">{format::amount(&line.unit_price, &line.currency)}</td>
                    <td class="number">{format::amount(&line.amount, &line.currency)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="change-table">
            <caption>{title}</caption>
            <thead><tr><th scope="col">"Invoice"</th><th scope="col">"Date"</th><th scope="col">"Description"</th>
                <th scope="col" class="number">"Quantity"</th><th scope="col" class="number">"Unit price"</th>
                <th scope="col" class="number">"Amount"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

split_point! {
    /// The Changes tab.
    pub fn changes_part(loaded: Arc<Loaded>, filter: RwSignal<LineFilter>, joined: Signal<bool>) -> AnyView, preload preload_changes {
        view! { <ChangesPanel loaded filter joined /> }.into_any()
    }
}
