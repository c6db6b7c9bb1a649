//! The month-end worklist: each kind of line that needs a look, how many and the amount at stake.

use billing::{Format, exceptions::ExceptionKind, exceptions::Side};
use leptos::prelude::*;
use worker_protocol::{Answer, DownloadFile, ExceptionsView, FlaggedLine, Listed, Question};

use crate::{
    components::generated_download::GeneratedDownload,
    components::tab_bar::Tabs,
    fetch::{OUT_OF_TURN, ask},
    format, storage,
    tabs::Tab,
};

const LOW_MARGIN: &str = "billing-portal.low-margin-percent";
const DEFAULT_LOW_MARGIN: &str = "10";

/// The margin % under which a margin is low, as the user last set it.
pub fn low_margin_percent() -> String {
    storage::recall(LOW_MARGIN).unwrap_or_else(|| DEFAULT_LOW_MARGIN.to_owned())
}

#[component]
pub fn ExceptionsPanel(
    file_stem: String,
    format: Format,
    /// Whether the other side of the margin is joined, and the vendor's
    /// consolidated view compared: then their kinds are looked for too.
    beside: Signal<(bool, bool)>,
) -> impl IntoView {
    let threshold = RwSignal::new(low_margin_percent());
    let worklist = LocalResource::new(move || {
        let low_margin_percent = threshold.get();
        beside.track();
        async move {
            match ask(Question::Exceptions { low_margin_percent }).await {
                Ok((Answer::Exceptions(view), _)) => Ok(view),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            }
        }
    });
    let opened = RwSignal::new(None::<ExceptionKind>);
    let lines = LocalResource::new(move || {
        let (kind, low_margin_percent) = (opened.get(), threshold.get());
        beside.track();
        async move {
            let kind = kind?;
            Some(match ask(Question::ExceptionLines { low_margin_percent, kind }).await {
                Ok((Answer::ExceptionLines(lines), _)) => Ok((kind, lines)),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            })
        }
    });
    if let Some(tabs) = use_context::<Tabs>() {
        Effect::new(move |_| {
            let count = worklist.with(|worklist| match worklist {
                Some(Ok(view)) => Some(view.kinds.iter().map(|kind| kind.count).sum()),
                _ => None,
            });
            tabs.set_count(Tab::Exceptions, count);
        });
    }
    let kinds = move || match worklist.get() {
        None => view! { <p class="loading" role="status">"Looking for exceptions…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
        Some(Ok(view)) => worklist_table(view, opened).into_any(),
    };
    let flagged = move || match lines.get().flatten() {
        None => ().into_any(),
        Some(Err(message)) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
        Some(Ok((kind, lines))) => flagged_table(kind, lines).into_any(),
    };
    let question = move || Question::Download {
        file: DownloadFile::Exceptions { low_margin_percent: threshold.get_untracked() },
    };
    let file_name =
        DownloadFile::Exceptions { low_margin_percent: String::new() }.file_name(&file_stem, format);
    view! {
        <section class="exceptions" aria-labelledby="exceptions-heading">
            <h2 id="exceptions-heading">"Exceptions"</h2>
            <div class="field">
                <label for="low-margin">"A margin under this percentage is low"</label>
                <input id="low-margin" type="text" inputmode="decimal" prop:value=move || threshold.get()
                    on:change=move |event| {
                        let value = event_target_value(&event);
                        storage::remember(LOW_MARGIN, &value);
                        threshold.set(value);
                    } />
            </div>
            {kinds}
            <GeneratedDownload file_name label="Download the worklist (CSV)".to_owned() question />
            {flagged}
        </section>
    }
}

fn stakes(at_stake: &[(String, String)]) -> String {
    at_stake.iter().map(|(currency, amount)| format::amount(amount, currency)).collect::<Vec<_>>().join(", ")
}

fn worklist_table(view: ExceptionsView, opened: RwSignal<Option<ExceptionKind>>) -> impl IntoView {
    let hint = (!view.joined).then(|| {
        view! {
            <p class="hint">
                "Load the other side of the margin to look for lines not billed, not bought, "
                "sold below cost or at a low margin, in other quantities or currencies."
            </p>
        }
    });
    let rows = view
        .kinds
        .into_iter()
        .map(|row| {
            let kind = row.kind;
            let label = kind.label();
            view! {
                <tr class="exception-row" data-kind=format!("{kind:?}") data-count=row.count>
                    <th scope="row">{label}</th>
                    <td class="number">{row.count}</td>
                    <td class="number">{stakes(&row.at_stake)}</td>
                    <td>
                        <button type="button" class="button show-exceptions" disabled=row.count == 0
                            aria-label=format!("Show lines: {label}") on:click=move |_| opened.set(Some(kind))>
                            "Show lines"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {hint}
        <table class="exception-table">
            <thead>
                <tr>
                    <th scope="col">"What needs a look"</th>
                    <th scope="col" class="number">"Lines"</th>
                    <th scope="col" class="number">"At stake"</th>
                    <th scope="col"><span class="visually-hidden">"Open"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn flagged_table(kind: ExceptionKind, lines: Listed<FlaggedLine>) -> impl IntoView {
    let caption = if lines.total > lines.first.len() {
        format!("{}: the first {} of {} lines", kind.label(), lines.first.len(), lines.total)
    } else {
        format!("{}: {} lines", kind.label(), lines.total)
    };
    let rows = lines
        .first
        .into_iter()
        .map(|line| {
            let document = match line.side {
                Side::Purchases => "Purchase",
                Side::Sales => "Sale",
            };
            view! {
                <tr class="flagged-row">
                    <td>{document}</td>
                    <td>{line.invoice}</td>
                    <td>{line.customer}</td>
                    <td>{line.description}</td>
                    <td class="number">{format::amount(&line.amount, &line.currency)}</td>
                    <td class="number">{format::amount(&line.at_stake, &line.currency)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="flagged-table">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Document"</th>
                    <th scope="col">"Invoice"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col" class="number">"Amount"</th>
                    <th scope="col" class="number">"At stake"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
