//! Amounts per label as horizontal bars, largest first, each a button.

use leptos::prelude::*;
use worker_protocol::BarView;

use crate::format;

/// Runs `choose` when Enter or Space is pressed on a bar, as a click would.
pub fn chosen_by_key(event: &leptos::ev::KeyboardEvent, choose: impl FnOnce()) {
    if event.key() == "Enter" || event.key() == " " {
        // Space would also scroll the page.
        event.prevent_default();
        choose();
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
pub fn BarChart(
    #[prop(into)] title: String,
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
                    on:keydown=move |event| chosen_by_key(&event, || choose(keyed.clone()))>
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
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {full_width} {height}") width=full_width height=height aria-hidden="false"
                role="group" aria-label=title.clone()>
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
