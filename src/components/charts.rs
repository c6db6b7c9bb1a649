use billing::{
    charts::{REST, month_window},
    lines::LineFilter,
};
use leptos::prelude::*;
use worker_protocol::{Answer, ChartsView, Question};

use crate::{
    components::{bar_chart::BarChart, column_chart::ColumnChart, tab_bar::Tabs},
    fetch::{OUT_OF_TURN, ask},
    tabs::Tab,
};

/// Totals by invoice month, the top ten customers, the split by charge type
/// and by publisher, and the margin per customer once both sides are loaded;
/// in one currency at a time, and choosing a bar filters the lines table.
#[component]
pub fn Charts(
    /// The lines' currencies, the one most lines are in first.
    currencies: Vec<String>,
    filter: RwSignal<LineFilter>,
    /// Whether the other side of the margin is joined.
    joined: Signal<bool>,
    /// Moves on each correction of a publisher, so the figures are asked again.
    told: Signal<u32>,
) -> impl IntoView {
    let tabs = use_context::<Tabs>();
    let currency = RwSignal::new(currencies.first().cloned().unwrap_or_default());
    let figures = LocalResource::new(move || {
        let currency = currency.get();
        joined.track();
        told.track();
        async move {
            match ask(Question::Charts { currency }).await {
                Ok((Answer::Charts(charts), _)) => Ok(charts),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            }
        }
    });
    let charts = move || {
        let currency = currency.get();
        let ChartsView { months, customers, charge_types, publishers, margins } = match figures.get() {
            None => return view! { <p class="loading" role="status">"Drawing the charts…"</p> }.into_any(),
            Some(Err(message)) => {
                return view! { <p class="problem-detail" role="alert">{format!("The charts cannot be drawn: {message}")}</p> }
                    .into_any();
            }
            Some(Ok(charts)) => charts,
        };
        // A chosen bar narrows the lines and shows them.
        let narrow = move |change: &dyn Fn(&mut LineFilter)| {
            filter.update(|filter| change(filter));
            if let Some(tabs) = tabs {
                tabs.show(Tab::Lines);
            }
        };
        let choose_customer = move |label: String| {
            if label != REST {
                narrow(&|filter| filter.customer = Some(label.clone()));
            }
        };
        let margin_chart = margins.map(|bars| {
            view! {
                <BarChart title="Margin: top ten customers and the rest" bars currency=currency.clone()
                    choose=choose_customer />
            }
        });
        view! {
            <ColumnChart title="Per invoice month" columns=months currency=currency.clone()
                choose=move |label: String| {
                    if let Some((from, to)) = month_window(&label) {
                        narrow(&|filter| { filter.from = Some(from); filter.to = Some(to); });
                    }
                } />
            <BarChart title="Top ten customers and the rest" bars=customers currency=currency.clone()
                choose=choose_customer />
            <BarChart title="Per charge type" bars=charge_types currency=currency.clone()
                choose=move |label: String| narrow(&|filter| filter.charge_type = Some(label.clone())) />
            <BarChart title="Per publisher" bars=publishers currency=currency.clone()
                choose=move |label: String| narrow(&|filter| filter.publisher = Some(label.clone())) />
            {margin_chart}
        }
        .into_any()
    };
    view! {
        <section class="charts" aria-labelledby="charts-heading">
            <h2 id="charts-heading">"Charts"</h2>
            <label class="choice">
                "Currency "
                <select on:change=move |event| currency.set(event_target_value(&event))>
                    {currencies
                        .into_iter()
                        .map(|code| {
                            let selected = { let code = code.clone(); move || currency.with(|currency| *currency == code) };
                            view! { <option value=code.clone() selected=selected>{code.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="chart-grid">{charts}</div>
        </section>
    }
}
