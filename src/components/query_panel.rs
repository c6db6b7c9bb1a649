use billing::{Endpoint, Format, Generation, ProfileSummary};
use chrono::{Datelike, Months, NaiveDate};
use leptos::prelude::*;

use crate::query::{Preset, Query, invoice_run_window, month_label, parse_iso_date};

/// The choices of the vendor's own page, with presets and inline checks;
/// the fetch button says why it is disabled.
#[component]
pub fn QueryPanel(
    profiles: Vec<ProfileSummary>,
    query: RwSignal<Query>,
    today: NaiveDate,
    /// One line instead of the form, while a document is open.
    folded: RwSignal<bool>,
    on_fetch: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let profiles = StoredValue::new(profiles);
    let profile = move || {
        let name = query.with(|query| query.profile.clone());
        profiles.with_value(|profiles| profiles.iter().find(|profile| profile.name == name).cloned())
    };
    let problems = Memo::new(move |_| query.with(|query| query.problems(today)));
    let run_reason = RwSignal::new(None::<String>);
    let choose_profile = move |name: String| {
        if let Some(chosen) =
            profiles.with_value(|profiles| profiles.iter().find(|p| p.name == name).cloned())
        {
            query.update(|query| {
                let (start, end) = (query.start, query.end);
                *query = Query { start, end, ..Query::default_for(&chosen, today) };
            });
        }
    };
    let set_date = move |which: &'static str, text: String| {
        if let Some(date) = parse_iso_date(&text) {
            run_reason.set(None);
            query.update(|query| if which == "start" { query.start = date } else { query.end = date });
        }
    };
    let run_months: Vec<NaiveDate> = (1..=13)
        .filter_map(|back| {
            let month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
            month.checked_sub_months(Months::new(back))
        })
        .collect();
    view! {
        {move || folded.get().then(|| view! {
            <div class="query-line">
                <span class="query-summary">{query.with(Query::summary)}</span>
                <button type="button" class="change-query" on:click=move |_| folded.set(false)>"Change query"</button>
            </div>
        })}
        <form class="query" hidden=move || folded.get() on:submit=move |event| {
            event.prevent_default();
            if problems.with(Vec::is_empty) {
                on_fetch();
            }
        }>
            <div class="field">
                <label for="profile">"Profile (API key)"</label>
                <select id="profile" on:change=move |event| choose_profile(event_target_value(&event))>
                    {move || {
                        let chosen = query.with(|query| query.profile.clone());
                        profiles
                            .get_value()
                            .into_iter()
                            .map(|profile| {
                                let selected = profile.name == chosen;
                                view! {
                                    <option value=profile.name.clone() selected=selected>
                                        {format!("{} — {}", profile.name, profile.environment)}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <div class="field">
                <label for="version">"API version"</label>
                <select id="version" on:change=move |event| query.update(|query| query.version = event_target_value(&event))>
                    {move || {
                        let chosen = query.with(|query| query.version.clone());
                        profile()
                            .map(|profile| {
                                let generation = profile.generation;
                                profile
                                    .versions
                                    .into_iter()
                                    .map(|version| {
                                        let label = if generation.is_end_of_life(&version) {
                                            format!("{version} (end-of-life)")
                                        } else {
                                            version.clone()
                                        };
                                        let selected = version == chosen;
                                        view! { <option value=version selected=selected>{label}</option> }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
            </div>
            <div class="field wide">
                <label for="endpoint">"Endpoint"</label>
                <select id="endpoint" on:change=move |event| {
                    if let Some(endpoint) = Endpoint::from_path(&event_target_value(&event)) {
                        query.update(|query| query.endpoint = endpoint);
                    }
                }>
                    {move || {
                        let chosen = query.with(|query| query.endpoint);
                        profile()
                            .map(|profile| {
                                profile
                                    .endpoints
                                    .into_iter()
                                    .map(|endpoint| {
                                        view! {
                                            <option value=endpoint.path() selected=endpoint == chosen>
                                                {endpoint.path()}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
                <p class="hint">{move || query.with(|query| query.endpoint.explanation())}</p>
            </div>
            <fieldset class="field">
                <legend>"Format"</legend>
                {move || {
                    let legacy = profile().is_some_and(|profile| profile.generation == Generation::Legacy);
                    let chosen = query.with(|query| query.format);
                    let option = move |format: Format, label: &'static str, enabled: bool| {
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="format"
                                    prop:checked=chosen == format
                                    disabled=!enabled
                                    on:change=move |_| query.update(|query| query.format = format)
                                />
                                {label}
                            </label>
                        }
                    };
                    view! {
                        {option(Format::Xml, "XML (the vendor's default)", legacy)}
                        {option(Format::Json, "JSON", true)}
                    }
                }}
            </fieldset>
            <Show
                when=move || query.with(|query| query.endpoint == Endpoint::SubscriptionDetails)
                fallback=move || {
                    view! {
                        <div class="field">
                            <label for="start">"From (invoice date)"</label>
                            <input id="start" type="date" prop:value=move || query.with(|query| query.start.to_string())
                                on:change=move |event| set_date("start", event_target_value(&event)) />
                        </div>
                        <div class="field">
                            <label for="end">"To (inclusive)"</label>
                            <input id="end" type="date" prop:value=move || query.with(|query| query.end.to_string())
                                on:change=move |event| set_date("end", event_target_value(&event)) />
                        </div>
                        <div class="presets" role="group" aria-label="Date presets">
                            {Preset::ALL
                                .into_iter()
                                .map(|preset| {
                                    view! {
                                        <button type="button" class="preset" on:click=move |_| {
                                            let (start, end) = preset.window(today);
                                            run_reason.set(None);
                                            query.update(|query| {
                                                query.start = start;
                                                query.end = end;
                                            });
                                        }>{preset.label()}</button>
                                    }
                                })
                                .collect_view()}
                            <label class="run">
                                "Invoice run for "
                                <select on:change=move |event| {
                                    if let Some(month) = parse_iso_date(&event_target_value(&event)) {
                                        let (start, end, reason) = invoice_run_window(month);
                                        run_reason.set(Some(reason));
                                        query.update(|query| {
                                            query.start = start;
                                            query.end = end;
                                        });
                                    }
                                }>
                                    <option value="">"month…"</option>
                                    {run_months
                                        .iter()
                                        .map(|month| view! { <option value=month.to_string()>{month_label(*month)}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                        </div>
                        {move || run_reason.get().map(|reason| view! { <p class="hint run-reason">{reason}</p> })}
                    }
                }
            >
                <div class="field">
                    <label for="subscription">"Subscription id"</label>
                    <input id="subscription" inputmode="numeric" prop:value=move || query.with(|query| query.subscription.clone())
                        on:input=move |event| query.update(|query| query.subscription = event_target_value(&event)) />
                </div>
            </Show>
            <div class="actions">
                <button type="submit" class="fetch" disabled=move || !problems.with(Vec::is_empty)>"Fetch"</button>
                <ul class="problems" aria-live="polite">
                    {move || problems.get().into_iter().map(|problem| view! { <li>{problem}</li> }).collect_view()}
                </ul>
            </div>
        </form>
    }
}
