use billing::{
    charts::{REST, month_window},
    lines::LineFilter,
};
use leptos::prelude::*;
use worker_protocol::{Answer, BarView, ChartsView, Question};

use crate::{
    components::tab_bar::Tabs,
    fetch::{OUT_OF_TURN, ask},
    format,
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
            <BarChart title="Per invoice month" bars=months currency=currency.clone()
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

// Whole pixels, so that no float is ever formatted.
const LABEL_WIDTH: u32 = 200;
const BAR_SPACE: u32 = 300;
const AMOUNT_SPACE: u32 = 130;
const ROW_HEIGHT: u32 = 24;

/// Horizontal bars as inline SVG, each a button; a table says the same for
/// screen readers.
#[component]
fn BarChart(
    title: &'static str,
    bars: Vec<BarView>,
    currency: String,
    choose: impl Fn(String) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    // Pixels only: the amounts themselves are never computed in floats.
    let magnitude = |bar: &BarView| js_sys::Number::parse_float(&bar.amount).abs();
    let largest = bars.iter().map(magnitude).filter(|amount| amount.is_finite()).fold(0.0, f64::max);
    let largest = largest.max(f64::MIN_POSITIVE);
    let height = ROW_HEIGHT * bars.len().max(1) as u32;
    let full_width = LABEL_WIDTH + BAR_SPACE + AMOUNT_SPACE;
    // Long names are cut by a clip, not shortened, so the text a reader sees
    // is the start of the name a screen reader says.
    let clip_id =
        format!("labels-{}", title.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
    let shapes = bars
        .iter()
        .enumerate()
        .map(|(index, bar)| {
            let y = index as u32 * ROW_HEIGHT;
            let share = magnitude(bar) / largest;
            let width = if share.is_finite() { (share * f64::from(BAR_SPACE)).round() as u32 } else { 0 };
            let amount = format::amount(&bar.amount, &currency);
            let label = bar.label.clone();
            let chosen = label.clone();
            let keyed = label.clone();
            let described = format!("{label}: {amount}. Filter the lines.");
            let tip = format!("{label}: {amount}");
            view! {
                <g class="bar" tabindex="0" role="button" aria-label=described
                    data-label=label.clone()
                    on:click=move |_| choose(chosen.clone())
                    on:keydown=move |event| if event.key() == "Enter" || event.key() == " " {
                        // Space would also scroll the page.
                        event.prevent_default();
                        choose(keyed.clone())
                    }>
                    <title>{tip}</title>
                    // The whole row answers to the pointer, not only the ink.
                    <rect class="hit" x="0" y=y width=full_width height=ROW_HEIGHT />
                    <text x="0" y=y + 16 class="bar-label" clip-path=format!("url(#{clip_id})")>{label.clone()}</text>
                    <rect x=LABEL_WIDTH y=y + 4 width=width.max(1) height=ROW_HEIGHT - 8
                        class:negative=bar.amount.starts_with('-') />
                    <text x=LABEL_WIDTH + width + 6 y=y + 16 class="bar-amount">{amount}</text>
                </g>
            }
        })
        .collect_view();
    let rows = bars
        .iter()
        .map(|bar| view! { <tr><th scope="row">{bar.label.clone()}</th><td>{format::amount(&bar.amount, &currency)}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {full_width} {height}") width=full_width height=height aria-hidden="false"
                role="group" aria-label=title>
                <defs>
                    <clipPath id=clip_id.clone()>
                        <rect x="0" y="0" width=LABEL_WIDTH - 8 height=height />
                    </clipPath>
                </defs>
                {shapes}
            </svg>
            <table class="visually-hidden">
                <caption>{title}</caption>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}
