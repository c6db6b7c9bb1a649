use billing::api::{ArchiveQuery, ArchivedDocument};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    archived::{fetched_line, scope_words},
    components::run_list::RunList,
    format,
    split::split_point,
};

/// The profile's scheduled runs and archived documents, newest first, each opening at once.
#[component]
pub fn ArchiveList(
    profile: Signal<String>,
    /// Bumped when the archive gained a document, so the list asks again.
    refreshed: Signal<u32>,
    on_open: Callback<ArchivedDocument>,
) -> impl IntoView {
    let first = LocalResource::new(move || {
        let query = ArchiveQuery::for_profile(&profile.get());
        refreshed.track();
        async move { api::fetch_archive(&query).await }
    });
    let older = RwSignal::new(Vec::<ArchivedDocument>::new());
    let next = RwSignal::new(None::<ArchiveQuery>);
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(page)) = first.get() {
            older.set(Vec::new());
            next.set(page.next);
        }
    });
    let show_older = move |_| {
        let Some(query) = next.get_untracked() else { return };
        spawn_local(async move {
            match api::fetch_archive(&query).await {
                Ok(page) => {
                    older.update(|older| older.extend(page.documents));
                    next.set(page.next);
                }
                Err(error) => problem.set(Some(error.title)),
            }
        });
    };
    let row = move |document: ArchivedDocument| {
        let label = format!(
            "Open the archived {} {}, {}",
            document.request.endpoint().path(),
            scope_words(&document),
            fetched_line(&document)
        );
        let when = billing::api::minute_utc(document.fetched_at);
        let opened = document.clone();
        view! {
            <tr>
                <td>{when}</td>
                <td>{document.fetched_by.clone().unwrap_or_else(|| "—".to_owned())}</td>
                <td>{format!("{} {}", document.request.endpoint().path(), document.request.version())}</td>
                <td>{scope_words(&document)}</td>
                <td>{document.request.format().extension().to_uppercase()}</td>
                <td class="number">{format::bytes(document.bytes)}</td>
                <td>
                    <button type="button" class="open-archived" aria-label=label on:click=move |_| on_open.run(opened.clone())>
                        "Open"
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <RunList profile refreshed on_open />
        <section class="archive" aria-labelledby="archive-heading">
            <h2 id="archive-heading">"Archive"</h2>
            <Transition fallback=|| view! { <p role="status">"Loading the archive…"</p> }>
                {move || {
                    first.get().map(|page| match page {
                        Err(problem) => view! {
                            <p class="problem-detail" role="alert">{format!("{}: {}", problem.title, problem.detail)}</p>
                        }
                        .into_any(),
                        Ok(page) if page.documents.is_empty() => view! {
                            <p class="empty">
                                {format!("Nothing of profile {} is archived yet: every document fetched in full is kept here, exactly as received.", profile.get_untracked())}
                            </p>
                        }
                        .into_any(),
                        Ok(page) => view! {
                            <table class="archive-table">
                                <caption class="visually-hidden">{format!("Archived documents of profile {}, newest first", profile.get_untracked())}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Fetched"</th>
                                        <th scope="col">"By"</th>
                                        <th scope="col">"Endpoint"</th>
                                        <th scope="col">"Window"</th>
                                        <th scope="col">"Format"</th>
                                        <th scope="col" class="number">"Size"</th>
                                        <th scope="col"><span class="visually-hidden">"Open"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page.documents.into_iter().map(row).collect_view()}
                                    {move || older.get().into_iter().map(row).collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                    })
                }}
            </Transition>
            {move || next.with(Option::is_some).then(|| view! {
                <button type="button" class="show-older" on:click=show_older>"Show older documents"</button>
            })}
            {move || problem.get().map(|problem| view! { <p class="problem-detail" role="alert">{problem}</p> })}
        </section>
    }
}

split_point! {
    /// The Archive tab, and the list below the query before a document is open.
    pub fn archive_part(profile: Signal<String>, refreshed: Signal<u32>, on_open: Callback<ArchivedDocument>) -> AnyView {
        view! { <ArchiveList profile refreshed on_open /> }.into_any()
    }
}
