use std::sync::Arc;

use billing::{
    ProfileSummary,
    api::{ArchivedDocument, DocumentRequest},
};
use chrono::NaiveDate;
use leptos::{prelude::*, task::spawn_local};
use web_sys::{AbortController, AbortSignal};
use worker_protocol::{Opened, Slot, Source};

use crate::{
    api,
    archived::Kept,
    components::{
        archive_list::archive_part,
        archive_note::ArchiveNote,
        archive_offer::archive_offer_part,
        changed_since_sign_off::OpenDocumentKept,
        import_offer::import_offer_part,
        query_panel::QueryPanel,
        request_link::RequestLink,
        results::{ArchiveView, Results, preload_parts},
        tab_bar::Tabs,
        transfer_status::TransferStatus,
    },
    fetch::{Arrived, FetchError, Stage, open},
    kept_here,
    loaded::{Loaded, Origin},
    query::Query,
    slices::in_a_frame_of_its_own,
    split::{PART_MISSING, preload_soon, split_point, split_task, when_loaded, when_loaded_quietly},
    storage,
    tabs::Tab,
    team::Team,
    transfer::Transfer,
};

const LAST_QUERY: &str = "billing-portal.last-query";

/// The query panel, the transfer and the results, around one query that
/// lives in the page's URL.
#[component]
pub fn Portal(profiles: Vec<ProfileSummary>) -> impl IntoView {
    if profiles.is_empty() {
        return view! {
            <p class="empty" role="status">
                "This relay offers no API profiles. Ask its administrator to configure a vendor API key."
            </p>
        }
        .into_any();
    }
    let today = today();
    provide_context(profiles.clone());
    let window = web_sys::window().expect("a browser window");
    let search = window.location().search().unwrap_or_default();
    let from_link = Query::from_search(&search, &profiles, today);
    let remembered_search = storage::recall(LAST_QUERY);
    let remembered =
        remembered_search.as_deref().and_then(|search| Query::from_search(search, &profiles, today));
    let fetch_at_once = from_link.is_some();
    let tabs = Tabs::new(if fetch_at_once {
        Tab::from_search(&search)
    } else {
        remembered_search.as_deref().map(Tab::from_search).unwrap_or_default()
    });
    provide_context(tabs);
    let initial = from_link.or(remembered).unwrap_or_else(|| Query::default_for(&profiles[0], today));
    let query = RwSignal::new(initial);
    let profile = Signal::derive(move || query.with(|query| query.profile.clone()));
    let offered = profiles.clone();
    let role = Signal::derive(move || {
        profile
            .with(|name| offered.iter().find(|offered| offered.name == *name).map(|offered| offered.role))
            .unwrap_or_default()
    });
    provide_context(Team::follow(profile, role));
    let transfer = RwSignal::new(Transfer::Idle);
    let controller = StoredValue::new_local(None::<AbortController>);
    let fetches = StoredValue::new(0u64);
    // Once a document is open the panel folds to one line, so the tabs and
    // the first rows show without scrolling.
    let folded = RwSignal::new(false);
    let kept = RwSignal::new(None::<Kept>);
    provide_context(OpenDocumentKept(kept));
    // Bumped when the archive gains a document, for the lists to ask again.
    let archive_grew = RwSignal::new(0u32);

    // The URL and the remembered query follow every change of the query
    // and the tab; a tab the user chose is a step Back returns from.
    Effect::new(move |_| {
        let search = tabs.current.get().after(&query.with(Query::to_search));
        if let Some(history) = web_sys::window().and_then(|window| window.history().ok()) {
            let url = Some(format!("?{search}"));
            let _ = if tabs.take_step() {
                history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", url.as_deref())
            } else {
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", url.as_deref())
            };
        }
        storage::remember(LAST_QUERY, &search);
    });
    let going_back = window_event_listener(leptos::ev::popstate, move |_| {
        let search = web_sys::window().and_then(|window| window.location().search().ok()).unwrap_or_default();
        tabs.current.set(Tab::from_search(&search));
    });
    on_cleanup(move || going_back.remove());

    let cancel = move || {
        controller.update_value(|controller| {
            if let Some(controller) = controller.take() {
                controller.abort();
            }
        });
    };
    // From the vendor, or (given an archived document) from the archive,
    // the panel then showing the archived document's query.
    let fetch = move |archived: Option<ArchivedDocument>| {
        cancel();
        let Ok(abort) = AbortController::new() else { return };
        let signal = abort.signal();
        controller.set_value(Some(abort));
        let this_fetch = FetchNumber::next(fetches);
        let (asked, source) = match &archived {
            Some(document) => {
                query.set(Query::from_request(&document.request, today));
                (document.request.clone(), Source::Archive { id: document.id })
            }
            None => match query.with_untracked(Query::request) {
                Ok(asked) => (asked, Source::Vendor),
                Err(_) => return,
            },
        };
        kept.set(None);
        transfer.set(Transfer::Running {
            received: 0,
            total: None,
            started_ms: js_sys::Date::now(),
            reading: false,
        });
        set_timeout(crate::format::prepare, std::time::Duration::ZERO);
        preload_parts();
        let run = FetchRun {
            asked,
            source,
            archived,
            signal,
            transfer,
            kept,
            archive_grew,
            folded,
            controller,
            this_fetch,
        };
        spawn_local(async move {
            if run_fetch(run).await.is_err() && this_fetch.is_current() {
                transfer.set(Transfer::Broken { received: 0, message: PART_MISSING.to_owned() });
            }
        });
    };
    if fetch_at_once && query.with_untracked(|query| query.problems(today).is_empty()) {
        fetch(None);
    } else {
        // The first screen is drawn meanwhile.
        preload_soon(preload_fetching());
        // The first number format's tens of milliseconds are spent while
        // the page waits, not in the frames of a fetch.
        request_idle_callback(crate::format::prepare);
    }
    let on_cancel = move || {
        cancel();
    };
    let on_open = Callback::new(move |document: ArchivedDocument| {
        fetch(Some(document));
        // Opened from the Archive tab, the document is what to see next;
        // from the offer, the tab the person was reading stays.
        if tabs.current.get_untracked() == Tab::Archive {
            tabs.show(Tab::Overview);
        }
    });
    let archive = ArchiveView { profile, refreshed: archive_grew.into(), on_open };
    let running = move || transfer.with(|transfer| matches!(transfer, Transfer::Running { .. }));
    // The document's tabs include the archive's; without them it is shown below.
    let tabbed = Memo::new(move |_| {
        transfer.with(|transfer| {
            matches!(transfer, Transfer::Done(loaded, _)
                if matches!(&loaded.opened, Opened::Invoices(overview) if !overview.invoices.is_empty()))
        })
    });
    view! {
        <QueryPanel profiles query today folded on_fetch=move || fetch(None) />
        {move || (!folded.get()).then(|| view! { <RequestLink query /> })}
        {move || {
            (!folded.get() && !running())
                .then(|| when_loaded_quietly(archive_offer_part(query, archive.refreshed, on_open)))
        }}
        {kept_here::anything_kept().then(|| when_loaded_quietly(import_offer_part()))}
        {when_loaded_quietly(outcome_part(transfer, Callback::new(move |()| on_cancel()), kept, tabs, archive))}
        {move || {
            (!tabbed.get()).then(|| {
                when_loaded(archive_part(archive.profile, archive.refreshed, archive.on_open))
            })
        }}
    }
    .into_any()
}

/// A fetch under way, and where its outcome goes.
pub struct FetchRun {
    asked: DocumentRequest,
    source: Source,
    /// The archived document opened, when it came from the archive.
    archived: Option<ArchivedDocument>,
    signal: AbortSignal,
    transfer: RwSignal<Transfer>,
    kept: RwSignal<Option<Kept>>,
    archive_grew: RwSignal<u32>,
    folded: RwSignal<bool>,
    controller: StoredValue<Option<AbortController>, LocalStorage>,
    this_fetch: FetchNumber,
}

/// A fetch's number in the portal's count of them: an outcome for an
/// earlier fetch is dropped.
#[derive(Clone, Copy)]
struct FetchNumber {
    count: StoredValue<u64>,
    number: u64,
}

impl FetchNumber {
    /// Counts one more fetch in `count`.
    fn next(count: StoredValue<u64>) -> Self {
        count.update_value(|count| *count += 1);
        Self { count, number: count.get_value() }
    }

    /// Whether no fetch has started since this one.
    fn is_current(self) -> bool {
        self.count.get_value() == self.number
    }
}

split_task! {
    /// Runs `run` through the worker, its progress and outcome into the
    /// portal's signals. The worker's client, its messages and the archive's
    /// receipt come in a file of their own: the first screen needs none.
    pub fn run_fetch(run: FetchRun) -> (), preload preload_fetching {
        fetch_run(run).await
    }
}

/// [`run_fetch`]'s work, a function of its own because rustfmt leaves a
/// macro's body as it is.
async fn fetch_run(run: FetchRun) {
    let (transfer, this_fetch) = (run.transfer, run.this_fetch);
    let progress = move |stage: Stage| {
        if this_fetch.is_current() {
            if let Stage::Reading { .. } = stage {
                crate::format::mark("billing:received");
            }
            transfer.update(|transfer| {
                if let Transfer::Running { received, total, reading, .. } = transfer {
                    match stage {
                        Stage::Receiving { received: seen, total: known } => {
                            *received = seen;
                            *total = known;
                        }
                        Stage::Reading { received: seen } => {
                            *received = seen;
                            *reading = true;
                        }
                    }
                }
            });
        }
    };
    let result = open(&run.asked, run.source, Slot::Main, &run.signal, progress).await;
    if !this_fetch.is_current() {
        return;
    }
    transfer.set(match result {
        Err(FetchError::Cancelled { received }) => Transfer::Cancelled { received },
        Err(FetchError::Broken { received, message }) => Transfer::Broken { received, message },
        Err(FetchError::Relay(problem)) => Transfer::Refused(problem),
        Err(FetchError::Unreadable { message }) => Transfer::Unreadable { message },
        Ok(Arrived { opened, received, raw: Some(raw), worker_memory, request_id }) => {
            crate::format::mark("billing:parsed");
            let origin = match run.archived {
                Some(document) => Origin::Archive(document),
                None => Origin::Vendor { request_id },
            };
            check_archived(&origin, run.kept, run.archive_grew);
            // In a frame of its own: folded in the task of the worker's
            // message, the panel's layout held that frame for over 50 ms.
            let folded = run.folded;
            in_a_frame_of_its_own(move || folded.try_set(true).is_none());
            let loaded = Loaded { request: run.asked, raw_size: received, opened, worker_memory, origin };
            Transfer::Done(Arc::new(loaded), raw)
        }
        Ok(Arrived { .. }) => Transfer::Broken {
            received: 0,
            message: "the background worker kept the document as received".to_owned(),
        },
    });
    run.controller.set_value(None);
}

split_point! {
    /// What a fetch shows once it starts: its progress, whether the relay
    /// kept the document, and the document. In a file of its own, fetched
    /// while the first screen is read.
    pub fn outcome_part(
        transfer: RwSignal<Transfer>,
        on_cancel: Callback<()>,
        kept: RwSignal<Option<Kept>>,
        tabs: Tabs,
        archive: ArchiveView,
    ) -> AnyView {
        view! {
            <TransferStatus transfer on_cancel=move || on_cancel.run(()) />
            <ArchiveNote kept />
            <Results transfer tabs archive />
        }
        .into_any()
    }
}

/// Says where an opened document came from; for one fetched from the
/// vendor, asks the relay whether it archived it.
fn check_archived(origin: &Origin, kept: RwSignal<Option<Kept>>, archive_grew: RwSignal<u32>) {
    match origin {
        Origin::Archive(document) => kept.set(Some(Kept::FromArchive(document.clone()))),
        Origin::Vendor { request_id: None } => {
            kept.set(Some(Kept::Unknown { why: "the relay did not number the transfer".to_owned() }))
        }
        Origin::Vendor { request_id: Some(request_id) } => {
            let request_id = *request_id;
            kept.set(Some(Kept::Checking { request_id }));
            spawn_local(async move {
                let said = match api::fetch_receipt(request_id).await {
                    Ok(receipt) => Kept::from_receipt(receipt),
                    Err(problem) => Kept::Unknown { why: problem.title.to_lowercase() },
                };
                if matches!(said, Kept::Archived { .. }) {
                    archive_grew.update(|grew| *grew += 1);
                }
                // A later fetch has its own receipt to wait for.
                if kept.get_untracked() == Some(Kept::Checking { request_id }) {
                    kept.set(Some(said));
                }
            });
        }
    }
}

/// Today in the browser's time zone.
fn today() -> NaiveDate {
    let now = js_sys::Date::new_0();
    NaiveDate::from_ymd_opt(now.get_full_year() as i32, now.get_month() + 1, now.get_date())
        .unwrap_or(NaiveDate::MIN)
}
