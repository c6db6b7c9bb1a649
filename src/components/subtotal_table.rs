use leptos::prelude::*;
use worker_protocol::GroupRow;

use crate::{
    format,
    slices::{ROWS_A_FRAME, drawn_slices_up_to, slice},
};

/// Subtotals shown at first, and added by each "Show more": whole slices.
const SUBTOTALS_AT_ONCE: usize = 7 * ROWS_A_FRAME;

/// The lines' subtotals by the grouping chosen, a slice a frame and a few hundred at a time.
#[component]
pub fn SubtotalTable(
    /// The worker's answer; each new one is drawn from its first slice.
    #[prop(into)]
    groups: Signal<Vec<GroupRow>>,
) -> impl IntoView {
    move || {
        let total = groups.with(Vec::len);
        let shown = RwSignal::new(SUBTOTALS_AT_ONCE.min(total));
        let wanted = Memo::new(move |_| shown.get().div_ceil(ROWS_A_FRAME));
        let drawn = drawn_slices_up_to(wanted);
        Effect::new(move |_| {
            if drawn.get() >= wanted.get() {
                format::mark("billing:groups-drawn");
            }
        });
        let row = |group: &GroupRow| {
            view! {
                <tr class="group-row" data-group=group.key.clone() data-currency=group.currency.clone()
                    data-excluding=group.excluding_vat.clone()>
                    <th scope="row">{group.key.clone()}</th>
                    <td class="number">{group.lines}</td>
                    <td>{group.currency.clone()}</td>
                    <td class="number">{format::amount(&group.excluding_vat, &group.currency)}</td>
                    <td class="number">{format::amount(&group.vat, &group.currency)}</td>
                </tr>
            }
        };
        let rows = move |index: usize| {
            groups.with_untracked(|groups| {
                slice(index, total).filter_map(|at| groups.get(at)).map(row).collect_view()
            })
        };
        let more = move || {
            let now = shown.get();
            (total > now).then(|| {
                let label = format!("Show {} more of {total} subtotals", SUBTOTALS_AT_ONCE.min(total - now));
                view! {
                    <button type="button" class="button more-groups"
                        on:click=move |_| shown.update(|shown| *shown = (*shown + SUBTOTALS_AT_ONCE).min(total))>
                        {label}
                    </button>
                }
            })
        };
        view! {
            <table class="groups">
                <thead>
                    <tr>
                        <th scope="col">"Group"</th>
                        <th scope="col" class="number">"Lines"</th>
                        <th scope="col">"Currency"</th>
                        <th scope="col" class="number">"Excl. VAT"</th>
                        <th scope="col" class="number">"VAT"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || 0..drawn.get() key=|index| *index children=rows />
                </tbody>
            </table>
            {more}
        }
    }
}
