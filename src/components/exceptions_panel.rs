//! The month-end worklist: each kind of line that needs a look, how many are still open, the amount at stake, and each line's decision.

use billing::{
    Role,
    api::{
        DocumentRequest,
        decisions::{Review, Settings, SettingsChange},
    },
    exceptions::{ExceptionKind, Side},
};
use leptos::{prelude::*, task::spawn_local};
use rust_decimal::Decimal;
use worker_protocol::{Answer, DownloadFile, ExceptionsView, FlaggedLine, Question};

use crate::{
    api::{self, Refused},
    components::{
        generated_download::GeneratedDownload, review_cell::ReviewCell, sign_off_panel::SignOffPanel,
        tab_bar::Tabs,
    },
    fetch::{OUT_OF_TURN, ask},
    format,
    month::Month,
    split::split_point,
    tabs::Tab,
    team::Team,
};

#[component]
pub fn ExceptionsPanel(
    request: DocumentRequest,
    /// Whether the other side of the margin is joined, and the vendor's
    /// consolidated view compared: then their kinds are looked for too.
    beside: Signal<(bool, bool)>,
) -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let month = use_context::<Option<Month>>().flatten();
    let told = month.map(|month| month.told);
    let threshold = Signal::derive(move || {
        team.settings.with(|settings| match settings {
            Some(Ok(shared)) => shared.settings.low_margin_percent.to_string(),
            _ => Settings::default().low_margin_percent.to_string(),
        })
    });
    let worklist = LocalResource::new(move || {
        let low_margin_percent = threshold.get();
        beside.track();
        told.track();
        async move {
            match ask(Question::Exceptions { low_margin_percent }).await {
                Ok((Answer::Exceptions(view), _)) => Ok(view),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            }
        }
    });
    let opened = RwSignal::new(None::<ExceptionKind>);
    let only_open = RwSignal::new(false);
    let lines = LocalResource::new(move || {
        let (kind, low_margin_percent, only_open) = (opened.get(), threshold.get(), only_open.get());
        beside.track();
        told.track();
        async move {
            let kind = kind?;
            Some(match ask(Question::ExceptionLines { low_margin_percent, kind, only_open }).await {
                Ok((Answer::ExceptionLines(lines), _)) => Ok((kind, lines)),
                Ok(_) => Err(OUT_OF_TURN.to_owned()),
                Err(message) => Err(message),
            })
        }
    });
    if let Some(tabs) = use_context::<Tabs>() {
        Effect::new(move |_| {
            let count = worklist.with(|worklist| match worklist {
                Some(Ok(view)) => Some(view.kinds.iter().map(|kind| kind.open).sum()),
                _ => None,
            });
            tabs.set_count(Tab::Exceptions, count);
        });
    }
    let kinds = move || match worklist.get() {
        None => view! { <p class="loading" role="status">"Looking for exceptions…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
        Some(Ok(view)) => worklist_table(view, opened, month.is_some()).into_any(),
    };
    // The table is drawn once and its rows follow the answers, so a row
    // being edited stays as a colleague's change comes in.
    let listed = RwSignal::new(Vec::<FlaggedLine>::new());
    let caption = RwSignal::new(String::new());
    let failed = RwSignal::new(None::<String>);
    Effect::new(move |_| match lines.get().flatten() {
        None => {}
        Some(Err(message)) => failed.set(Some(message)),
        Some(Ok((kind, answer))) => {
            failed.set(None);
            caption.set(if answer.total > answer.first.len() {
                format!("{}: the first {} of {} lines", kind.label(), answer.first.len(), answer.total)
            } else {
                format!("{}: {} lines", kind.label(), answer.total)
            });
            listed.set(answer.first);
        }
    });
    let drawn = Memo::new(move |_| !caption.with(String::is_empty));
    let flagged = move || {
        view! {
            {move || failed.get().map(|message| view! { <p class="problem-detail" role="alert">{message}</p> })}
            {move || drawn.get().then(|| flagged_table(caption, listed, month))}
        }
    };
    let question = move || Question::Download {
        file: DownloadFile::Exceptions { low_margin_percent: threshold.get_untracked() },
    };
    let file_name = DownloadFile::Exceptions { low_margin_percent: String::new() }
        .file_name(&request.file_stem(), request.format());
    let not_a_month = month.is_none().then(|| {
        view! {
            <p class="hint">
                "Marks and sign-off are kept per invoice month: fetch a window within one month that runs to "
                "its last day (the whole month, or the invoice run's window) to review it with the team."
            </p>
        }
    });
    view! {
        <section class="exceptions" aria-labelledby="exceptions-heading">
            <h2 id="exceptions-heading">"Exceptions"</h2>
            {month.map(|month| view! { <SignOffPanel month request=request.clone() /> })}
            {not_a_month}
            <Threshold threshold />
            {kinds}
            {month.map(|_| view! {
                <label class="choice">
                    <input type="checkbox" id="only-open" prop:checked=only_open
                        on:change=move |event| only_open.set(event_target_checked(&event)) />
                    "Only lines still open this month"
                </label>
            })}
            <GeneratedDownload file_name label="Download the worklist (CSV)".to_owned() question />
            {flagged}
        </section>
    }
}

/// The team's low-margin threshold, changed for everyone by a reviewer.
#[component]
fn Threshold(threshold: Signal<String>) -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let problem = RwSignal::new(None::<String>);
    let save = move |typed: String| {
        let Some(Ok(shared)) = team.settings.get_untracked() else { return };
        let Ok(percent) = typed.trim().trim_end_matches('%').trim().replace(',', ".").parse::<Decimal>()
        else {
            problem.set(Some(format!("`{typed}` is not a percentage")));
            return;
        };
        let mut settings = shared.settings.clone();
        settings.low_margin_percent = percent;
        let change = SettingsChange { base_version: shared.version, settings };
        let profile = team.profile.get_untracked();
        spawn_local(async move {
            match api::save_settings(&profile, &change).await {
                Ok(saved) => {
                    problem.set(None);
                    team.show(Ok(saved));
                }
                Err(Refused::Conflict(current)) => {
                    if let Some(current) = current {
                        team.show(Ok(current));
                    }
                    problem.set(Some("Someone changed the team's settings meanwhile; theirs are shown. Set yours again if it still stands.".to_owned()));
                }
                Err(Refused::SignedOff(_)) => {}
                Err(Refused::Problem(refused)) => {
                    problem.set(Some(format!("{}: {}", refused.title, refused.detail)))
                }
            }
        });
    };
    view! {
        <div class="field">
            <label for="low-margin">"A margin under this percentage is low (for everyone on this profile)"</label>
            <input id="low-margin" type="text" inputmode="decimal" prop:value=move || threshold.get()
                disabled=move || !team.role.get().includes(Role::Review)
                on:change=move |event| save(event_target_value(&event)) />
            {move || problem.get().map(|message| view! { <p class="problem-detail" role="alert">{message}</p> })}
        </div>
    }
}

fn stakes(at_stake: &[(String, String)]) -> String {
    at_stake.iter().map(|(currency, amount)| format::amount(amount, currency)).collect::<Vec<_>>().join(", ")
}

fn worklist_table(
    view: ExceptionsView,
    opened: RwSignal<Option<ExceptionKind>>,
    reviewed: bool,
) -> impl IntoView {
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
            let counted = if reviewed { format!("{} of {}", row.open, row.count) } else { row.count.to_string() };
            view! {
                <tr class="exception-row" data-kind=format!("{kind:?}") data-count=row.count data-open=row.open>
                    <th scope="row">{label}</th>
                    <td class="number">{counted}</td>
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
    let counted = if reviewed { "Open of all lines" } else { "Lines" };
    view! {
        {hint}
        <table class="exception-table">
            <thead>
                <tr>
                    <th scope="col">"What needs a look"</th>
                    <th scope="col" class="number">{counted}</th>
                    <th scope="col" class="number">"At stake"</th>
                    <th scope="col"><span class="visually-hidden">"Open"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The lines of one kind, each keyed by its item so a decision being typed
/// survives a colleague's change arriving: the row shows theirs, and the
/// form keeps what was typed.
fn flagged_table(
    caption: RwSignal<String>,
    lines: RwSignal<Vec<FlaggedLine>>,
    month: Option<Month>,
) -> impl IntoView {
    let row = move |line: FlaggedLine| {
        let document = match line.side {
            Side::Purchases => "Purchase",
            Side::Sales => "Sale",
        };
        let key = line.item.key();
        let decision = month.map(|month| {
            let of_item = move |pick: fn(&FlaggedLine) -> Option<Review>| {
                let key = key.clone();
                Signal::derive(move || {
                    lines.with(|lines| lines.iter().find(|line| line.item.key() == key).and_then(pick))
                })
            };
            let review = of_item(|line| line.review.clone());
            let earlier = of_item(|line| line.earlier.clone());
            view! { <td class="decision"><ReviewCell month item=line.item.clone() review earlier /></td> }
        });
        view! {
            <tr class="flagged-row" data-item=line.item.key()>
                <td>{document}</td>
                <td>{line.invoice}</td>
                <td>{line.customer}</td>
                <td>{line.description}</td>
                <td class="number">{format::amount(&line.amount, &line.currency)}</td>
                <td class="number">{format::amount(&line.at_stake, &line.currency)}</td>
                {decision}
            </tr>
        }
    };
    view! {
        <table class="flagged-table">
            <caption>{move || caption.get()}</caption>
            <thead>
                <tr>
                    <th scope="col">"Document"</th>
                    <th scope="col">"Invoice"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col" class="number">"Amount"</th>
                    <th scope="col" class="number">"At stake"</th>
                    {month.map(|_| view! { <th scope="col">"Decision"</th> })}
                </tr>
            </thead>
            <tbody>
                <For each=move || lines.get() key=|line| line.item.key() children=row />
            </tbody>
        </table>
    }
}

split_point! {
    /// The Exceptions tab.
    pub fn exceptions_part(request: DocumentRequest, beside: Signal<(bool, bool)>) -> AnyView, preload preload_exceptions {
        view! { <ExceptionsPanel request beside /> }.into_any()
    }
}
