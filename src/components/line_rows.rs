use leptos::prelude::*;
use worker_protocol::{LineCells, LineWindow};

use crate::{
    columns::Column,
    format,
    scrolling::{ROW_PIXELS, RowsShown, places},
    slices::drawn_slices_up_to,
};

/// Places of the table built in one frame: a line's row (a dozen cells,
/// each with its text and its title) took about 1.6 ms to build in the
/// page's bench, and laying out the new rows as long again.
pub const PLACES_A_FRAME: usize = 6;

/// The lines table's rows: an element per place in the view, its cells rewritten as it scrolls.
#[component]
pub fn LineRows(
    /// The rows the worker sent, with the columns they were sent for.
    #[prop(into)]
    window: Signal<Option<(Vec<Column>, LineWindow)>>,
    /// The first row in view.
    #[prop(into)]
    top: Signal<usize>,
    /// How many rows fit in the view.
    #[prop(into)]
    in_view: Signal<usize>,
) -> impl IntoView {
    let columns =
        Memo::new(move |_| window.with(|window| window.as_ref().map(|(columns, _)| columns.clone())));
    let shown = Memo::new(move |_| {
        let (top, in_view) = (top.get(), in_view.get());
        window.with(|window| {
            window.as_ref().map(|(_, lines)| {
                RowsShown::of(top, in_view, lines.first..lines.first + lines.rows.len(), lines.shown)
            })
        })
    });
    let all_places = Memo::new(move |_| {
        let in_view = in_view.get();
        window.with(|window| window.as_ref().map_or(0, |(_, lines)| places(in_view, lines.shown)))
    });
    // The places are built a few a frame from the top, the first few at
    // once: built together, the first rows held their frame for 50 ms.
    let steps = drawn_slices_up_to(Memo::new(move |_| all_places.get().div_ceil(PLACES_A_FRAME)));
    let place_count = Memo::new(move |_| all_places.get().min(steps.get().max(1) * PLACES_A_FRAME));
    let spacer = move |height: fn(&RowsShown) -> usize| {
        let pixels =
            move || format!("{}px", shown.with(|shown| shown.as_ref().map_or(0, height)) * ROW_PIXELS);
        view! { <tr class="spacer" aria-hidden="true" style:height=pixels></tr> }
    };
    // A change of columns builds the rows anew; a scroll or a new window
    // of rows only changes their text.
    move || {
        let columns = columns.get()?;
        let place = move |place: usize| {
            let row = Memo::new(move |_| {
                shown.with(|shown| {
                    let rows = &shown.as_ref()?.rows;
                    Some(rows.start + place).filter(|row| *row < rows.end)
                })
            });
            // A place without a row keeps its last texts, hidden: after a
            // long jump its cells are written once, when their rows come.
            let texts = Memo::new_owning(move |last: Option<RowTexts>| {
                let now = row.get().and_then(|row| {
                    window.with(|window| {
                        let (_, lines) = window.as_ref()?;
                        lines.rows.get(row.checked_sub(lines.first)?).map(RowTexts::of)
                    })
                });
                match (now, last) {
                    (Some(now), last) => {
                        let changed = last.as_ref() != Some(&now);
                        (now, changed)
                    }
                    (None, Some(last)) => (last, false),
                    (None, None) => (RowTexts::default(), true),
                }
            });
            let cells = columns
                .iter()
                .enumerate()
                .map(|(at, column)| {
                    let text = move || texts.with(|texts| texts.cells.get(at).cloned().unwrap_or_default());
                    if column.numeric() {
                        view! { <td class="number">{text}</td> }.into_any()
                    } else {
                        // Text may be cut to its column; its whole is on hover.
                        view! { <td title=text>{text}</td> }.into_any()
                    }
                })
                .collect_view();
            view! {
                <tr class="line-row" hidden=move || row.with(Option::is_none)
                    class:negative=move || texts.with(|texts| texts.negative)>
                    {cells}
                </tr>
            }
        };
        Some(view! {
            {spacer(|shown| shown.above)}
            <For each=move || 0..place_count.get() key=|place| *place children=place />
            {spacer(|shown| shown.below)}
        })
    }
}

/// A row's cells as the table writes them.
#[derive(Default, PartialEq)]
struct RowTexts {
    negative: bool,
    cells: Vec<String>,
}

impl RowTexts {
    fn of(row: &LineCells) -> Self {
        Self {
            negative: row.negative,
            cells: row.cells.iter().map(|cell| format::cell(cell, &row.currency)).collect(),
        }
    }
}
