use billing::api::{
    ArchiveQuery, ArchivedDocument,
    runs::{RunRecord, RunStatus, RunsQuery},
};
use leptos::{prelude::*, task::spawn_local};

use crate::{api, format};

/// How many of the profile's runs the Archive tab lists.
const SHOWN: u32 = 12;

/// The profile's scheduled runs, newest first: when, how each went, its
/// totals and worklist, and a button that opens the document it fetched.
#[component]
pub fn RunList(
    profile: Signal<String>,
    /// Bumped when the archive gained a document; a run may have ended too.
    refreshed: Signal<u32>,
    on_open: Callback<ArchivedDocument>,
) -> impl IntoView {
    let runs = LocalResource::new(move || {
        let query = RunsQuery { profile: Some(profile.get()), limit: Some(SHOWN), ..RunsQuery::default() };
        refreshed.track();
        async move { api::fetch_runs(&query).await }
    });
    let problem = RwSignal::new(None::<String>);
    let open = move |run: RunRecord| {
        let Some(&id) = run.documents.first() else { return };
        problem.set(None);
        spawn_local(async move {
            let query = ArchiveQuery {
                profile: Some(run.profile.clone()),
                endpoint: Some(run.endpoint),
                from: Some(run.window.start()),
                to: Some(run.window.end()),
                ..ArchiveQuery::default()
            };
            match api::archived_copy_numbered(&query, id).await {
                Ok(Some(document)) => on_open.run(document),
                Ok(None) => problem.set(Some(format!(
                    "The document the run of {} fetched is not in the archive's newest copies of its month.",
                    run.month
                ))),
                Err(error) => problem.set(Some(format!("{}: {}", error.title, error.detail))),
            }
        });
    };
    let row = move |run: RunRecord| {
        let status = run.status;
        let totals: Vec<String> = run
            .findings
            .iter()
            .flat_map(|findings| &findings.totals)
            .map(|total| format::amount(&total.excluding_vat, &total.currency))
            .collect();
        let worklist = match &run.findings {
            None => "—".to_owned(),
            Some(findings) if findings.exceptions.is_empty() => "Nothing".to_owned(),
            Some(findings) => findings
                .exceptions
                .iter()
                .map(|(kind, count)| format!("{} {}", kind.label(), count.lines))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let change = run.findings.as_ref().and_then(|findings| findings.change.as_ref()).map(|change| {
            change
                .per_currency
                .iter()
                .map(|currency| match &currency.percent {
                    Some(percent) => format!("{} {percent} %", currency.currency),
                    None => format!("{} new", currency.currency),
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let label = format!("Open the document the run of {} for {} fetched", run.job, run.period());
        let opened = run.clone();
        view! {
            <tr class="run" data-status=format!("{status:?}")>
                <td>{billing::api::minute_utc(run.started_at)}</td>
                <td>{run.job.clone()}</td>
                <td>{run.period()}</td>
                <td class="run-status">
                    {status.label()}
                    {run.error.clone().map(|error| view! { <span class="run-error">{error}</span> })}
                </td>
                <td class="number run-totals">{totals.join(" · ")}</td>
                <td class="run-change">{change.unwrap_or_else(|| "—".to_owned())}</td>
                <td class="run-worklist">{worklist}</td>
                <td>
                    {(status == RunStatus::Succeeded && !run.documents.is_empty()).then(|| view! {
                        <button type="button" class="open-run" aria-label=label on:click=move |_| open(opened.clone())>
                            "Open"
                        </button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="runs" aria-labelledby="runs-heading">
            <h2 id="runs-heading">"Runs"</h2>
            <Transition fallback=|| view! { <p role="status">"Loading the scheduled runs…"</p> }>
                {move || {
                    runs.get().map(|page| match page {
                        Err(problem) => view! {
                            <p class="problem-detail" role="alert">{format!("{}: {}", problem.title, problem.detail)}</p>
                        }
                        .into_any(),
                        Ok(page) if page.runs.is_empty() => view! {
                            <p class="empty">
                                {format!("No scheduled job has run for profile {} yet: jobs are set in the relay's configuration ([[schedule]]).", profile.get_untracked())}
                            </p>
                        }
                        .into_any(),
                        Ok(page) => view! {
                            <table class="runs-table">
                                <caption class="visually-hidden">{format!("Scheduled runs of profile {}, newest first", profile.get_untracked())}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Started"</th>
                                        <th scope="col">"Job"</th>
                                        <th scope="col">"Period"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col" class="number">"Total excl. VAT"</th>
                                        <th scope="col">"Since the month before"</th>
                                        <th scope="col">"Worklist"</th>
                                        <th scope="col"><span class="visually-hidden">"Open"</span></th>
                                    </tr>
                                </thead>
                                <tbody>{page.runs.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        }
                        .into_any(),
                    })
                }}
            </Transition>
            {move || problem.get().map(|problem| view! { <p class="problem-detail" role="alert">{problem}</p> })}
        </section>
    }
}
