//! Amounts over time as vertical columns, oldest first, each a button.

use leptos::prelude::*;
use worker_protocol::BarView;

use crate::{components::bar_chart::chosen_by_key, format};

// Whole pixels, so that no float is ever formatted.
const COLUMN_WIDTH: u32 = 64;
const COLUMN_GAP: u32 = 12;
const PLOT_HEIGHT: u32 = 180;
const LABEL_SPACE: u32 = 22;

/// Columns as inline SVG under a scale of the largest amount; a table says
/// the same for screen readers.
#[component]
pub fn ColumnChart(
    title: &'static str,
    /// In time order; each label is shown under its column.
    columns: Vec<BarView>,
    currency: String,
    choose: impl Fn(String) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    // Pixels only: the amounts themselves are never computed in floats.
    let magnitude = |bar: &BarView| js_sys::Number::parse_float(&bar.amount).abs();
    let largest_bar = columns
        .iter()
        .filter(|bar| magnitude(bar).is_finite())
        .max_by(|one, other| magnitude(one).total_cmp(&magnitude(other)));
    let largest = largest_bar.map(magnitude).unwrap_or_default().max(f64::MIN_POSITIVE);
    let scale = largest_bar.map(|bar| format!("Largest: {}", format::amount(&bar.amount, &currency)));
    let width = (COLUMN_WIDTH + COLUMN_GAP) * columns.len().max(1) as u32;
    let height = PLOT_HEIGHT + LABEL_SPACE;
    let shapes = columns
        .iter()
        .enumerate()
        .map(|(index, bar)| {
            let x = index as u32 * (COLUMN_WIDTH + COLUMN_GAP);
            let share = magnitude(bar) / largest;
            let tall = if share.is_finite() { (share * f64::from(PLOT_HEIGHT)).round() as u32 } else { 0 };
            let tall = tall.max(1);
            let amount = format::amount(&bar.amount, &currency);
            let label = bar.label.clone();
            let (chosen, keyed) = (label.clone(), label.clone());
            let described = format!("{label}: {amount}. Filter the lines.");
            let tip = format!("{label}: {amount}");
            view! {
                <g class="bar" tabindex="0" role="button" aria-label=described data-label=label.clone()
                    on:click=move |_| choose(chosen.clone())
                    on:keydown=move |event| chosen_by_key(&event, || choose(keyed.clone()))>
                    <title>{tip}</title>
                    // The whole column answers to the pointer, not only the ink.
                    <rect class="hit" x=x y="0" width=COLUMN_WIDTH + COLUMN_GAP height=height />
                    <rect x=x + 6 y=PLOT_HEIGHT - tall width=COLUMN_WIDTH - 12 height=tall
                        class:negative=bar.amount.starts_with('-') />
                    <text x=x + COLUMN_WIDTH / 2 y=PLOT_HEIGHT + 16 class="bar-label" text-anchor="middle">{label.clone()}</text>
                </g>
            }
        })
        .collect_view();
    let rows = columns
        .iter()
        .map(|bar| view! { <tr><th scope="row">{bar.label.clone()}</th><td>{format::amount(&bar.amount, &currency)}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart columns">
            <figcaption>{title}{scale.map(|scale| view! { <span class="chart-scale">{scale}</span> })}</figcaption>
            <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="group" aria-label=title>
                {shapes}
            </svg>
            <table class="visually-hidden">
                <caption>{title}</caption>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}
