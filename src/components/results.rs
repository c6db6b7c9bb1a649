use std::sync::Arc;

use billing::api::ArchivedDocument;
use leptos::{prelude::*, task::spawn_local};
use worker_protocol::{Answer, ComparisonView, MarginView, Opened, ProductRow, Question};

use crate::{
    components::{
        archive_list::archive_part,
        changed_since_sign_off::{ChangedSinceSignOff, PinnedComparison},
        changes_panel::{changes_part, preload_changes},
        charts::Charts,
        downloads::Downloads,
        exceptions_panel::{exceptions_part, preload_exceptions},
        invoice_list::{invoices_part, preload_invoices},
        lines_table::{LinesTableProps, TableView, lines_part, preload_lines},
        margin_panel::{margin_part, preload_margin},
        problem_view::ProblemView,
        publisher_editor::PublisherEditor,
        subscription_details_view::SubscriptionDetailsView,
        summary::SummaryView,
        tab_bar::{TabBar, TabPanel, Tabs},
    },
    fetch::ask,
    fetched::Fetched,
    format,
    loaded::{Loaded, empty_window_advice},
    month::Month,
    slices::{count_a_frame, drawn_in_turn},
    split::{preload_soon, split_point, when_loaded},
    tabs::{Part, Tab},
    team::{self, Team},
    transfer::Transfer,
};

/// Tells the worker the team's corrections whenever they change (here or
/// through a colleague), so the lines, filters and charts follow.
fn tell_corrections(
    publishers: RwSignal<Vec<String>>,
    products: RwSignal<Vec<ProductRow>>,
    told: RwSignal<u32>,
) {
    let Some(team) = use_context::<Team>() else { return };
    Effect::new(move |_| {
        let in_force = team.settings.with(|settings| matches!(settings, Some(Ok(_))));
        if !in_force || !team::worker_told_otherwise(&team::corrections()) {
            return;
        }
        let corrections = team::corrections_for_worker();
        spawn_local(async move {
            if let Ok((Answer::Publishers(view), _)) = ask(Question::Publishers { corrections }).await {
                publishers.set(view.publishers);
                products.set(view.products);
                told.update(|told| *told += 1);
            }
        });
    });
}

/// What the archive's tab lists and what opening a document does.
#[derive(Clone, Copy)]
pub struct ArchiveView {
    pub profile: Signal<String>,
    pub refreshed: Signal<u32>,
    pub on_open: Callback<ArchivedDocument>,
}

/// What the last fetch gave: the document rendered, or why there is none.
#[component]
pub fn Results(transfer: RwSignal<Transfer>, tabs: Tabs, archive: ArchiveView) -> impl IntoView {
    move || {
        match transfer.get() {
        // In a frame of its own, after the one the page's own views change
        // in as the fetch ends.
        Transfer::Done(loaded, raw) => {
            drawn_in_turn(move || when_loaded(document_part(loaded, raw, tabs, archive))).into_any()
        }
        Transfer::Refused(problem) => view! { <ProblemView problem /> }.into_any(),
        Transfer::Broken { received, message } => view! {
            <div class="problem" role="alert">
                <p class="problem-title">"The transfer broke off"</p>
                <p class="problem-detail">{format!("After {}: {message}", format::bytes(received))}</p>
                <p class="problem-advice">"Nothing partial is shown. Fetch again."</p>
            </div>
        }
        .into_any(),
        Transfer::Unreadable { message } => view! {
            <div class="problem" role="alert">
                <p class="problem-title">"The document could not be read"</p>
                <p class="problem-detail">{message}</p>
                <p class="problem-advice">"Download the raw file to inspect it, or fetch the other format."</p>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
    }
}

/// Fetches the opened document's parts, all at once, while the document
/// comes: each tab's content is drawn a frame or two after it opens.
pub fn preload_parts() {
    preload_soon(preload_document());
    preload_soon(preload_lines());
    preload_soon(preload_invoices());
    preload_soon(preload_margin());
    preload_soon(preload_changes());
    preload_soon(preload_exceptions());
}

split_point! {
    /// The opened document: its downloads, and its tabs with the overview
    /// drawn first.
    pub fn document_part(loaded: Arc<Loaded>, raw: web_sys::Blob, tabs: Tabs, archive: ArchiveView) -> AnyView, preload preload_document {
        document(loaded, raw, tabs, archive)
    }
}

/// [`document_part`]'s view, a function of its own because rustfmt leaves a
/// macro's body as it is.
fn document(loaded: Arc<Loaded>, raw: web_sys::Blob, tabs: Tabs, archive: ArchiveView) -> AnyView {
    let mut table = None;
    let body = match &loaded.opened {
        Opened::Invoices(overview) if overview.invoices.is_empty() => view! {
            <p class="empty" role="status">{empty_window_advice(&loaded.request)}</p>
        }
        .into_any(),
        Opened::Invoices(overview) => {
            let month = use_context::<Team>().and_then(|team| Month::follow(&loaded.request, team));
            provide_context(month);
            provide_context(PinnedComparison(RwSignal::new(None)));
            let flag = month.map(|month| view! { <ChangedSinceSignOff loaded=loaded.clone() month /> });
            let publishers = RwSignal::new(overview.choices.publishers.clone());
            let products = RwSignal::new(overview.products.clone());
            let told = RwSignal::new(0u32);
            tell_corrections(publishers, products, told);
            let other = RwSignal::new(Fetched::<MarginView>::Idle);
            let consolidated = RwSignal::new(Fetched::<ComparisonView>::Idle);
            tabs.forget_counts();
            tabs.set_count(Tab::Invoices, Some(overview.invoices.len()));
            tabs.set_count(Tab::Lines, Some(overview.summary.lines));
            Effect::new(move |_| {
                let margins = other.with(|other| match other {
                    Fetched::Loaded(margin) => Some(margin.per_customer.len()),
                    _ => None,
                });
                tabs.set_count(Tab::Margin, margins);
            });
            // The lines and the charts are asked for again once joined.
            let joined = Signal::derive(move || other.with(Fetched::is_loaded));
            // The worklist is asked for again once either is loaded.
            let looked_at = Signal::derive(move || (joined.get(), consolidated.with(Fetched::is_loaded)));
            let view = TableView::new(joined);
            table = Some(view);
            let filter = view.filter;
            // The summary first, in a frame of its own, then each part a
            // frame after the one before, the open tab's first. (Drawn in
            // the summary's frame, the first part made it 100 ms long.)
            // Each step is marked, so a trace shows which part a long task drew.
            let stage = RwSignal::new(0);
            count_a_frame(
                stage,
                || usize::from(Part::LAST_FRAME),
                |now| format::mark(&Part::frame_mark(now)),
            );
            let open = tabs.current.get_untracked();
            let shown_from = move |part: Part| {
                let frame = usize::from(part.frame(open));
                Memo::new(move |_| stage.get() >= frame)
            };
            let (charts_shown, editor_shown, lines_shown, invoices_shown, analysis_shown, worklist_shown) = (
                shown_from(Part::Charts),
                shown_from(Part::PublisherEditor),
                shown_from(Part::Lines),
                shown_from(Part::Invoices),
                shown_from(Part::Analysis),
                shown_from(Part::Worklist),
            );
            let editor = move || editor_shown.get().then(|| view! { <PublisherEditor products /> });
            let shown = overview.clone();
            let charts = move || {
                charts_shown.get().then(|| {
                    view! { <Charts currencies=shown.currencies.clone() filter joined told=told.into() /> }
                })
            };
            let drawn = loaded.clone();
            let margin = move || {
                analysis_shown.get().then(|| when_loaded(margin_part(drawn.clone(), other, consolidated)))
            };
            let drawn = loaded.clone();
            let exceptions = move || {
                worklist_shown.get().then(|| when_loaded(exceptions_part(drawn.request.clone(), looked_at)))
            };
            let drawn = loaded.clone();
            let changes = move || {
                analysis_shown.get().then(|| when_loaded(changes_part(drawn.clone(), filter, joined)))
            };
            let (drawn, shown) = (loaded.clone(), overview.clone());
            let lines = move || {
                lines_shown.get().then(|| {
                    when_loaded(lines_part(
                        LinesTableProps::builder()
                            .choices(shown.choices.clone())
                            .total(shown.summary.lines)
                            .file_stem(drawn.request.file_stem())
                            .format(drawn.request.format())
                            .view(view)
                            .joined(joined)
                            .publishers(publishers.into())
                            .told(told.into())
                            .build(),
                    ))
                })
            };
            let (summary, invoices, listed) =
                (overview.summary.clone(), overview.invoices.clone(), loaded.clone());
            let invoices = move || {
                invoices_shown.get().then(|| when_loaded(invoices_part(listed.clone(), invoices.clone())))
            };
            view! {
                {flag}
                <TabBar tabs />
                <TabPanel tabs tab=Tab::Overview>
                    <SummaryView summary />
                    {editor}
                    {charts}
                </TabPanel>
                <TabPanel tabs tab=Tab::Invoices>{invoices}</TabPanel>
                <TabPanel tabs tab=Tab::Lines>{lines}</TabPanel>
                <TabPanel tabs tab=Tab::Margin>{margin}</TabPanel>
                <TabPanel tabs tab=Tab::Changes>{changes}</TabPanel>
                <TabPanel tabs tab=Tab::Exceptions>{exceptions}</TabPanel>
                <TabPanel tabs tab=Tab::Archive>
                    {drawn_in_turn(move || {
                        when_loaded(archive_part(archive.profile, archive.refreshed, archive.on_open))
                    })}
                </TabPanel>
            }
            .into_any()
        }
        Opened::SubscriptionDetails(details) => {
            view! { <SubscriptionDetailsView details=details.clone() /> }.into_any()
        }
        Opened::Margin(_) | Opened::Comparison(_) | Opened::Changes(_) => ().into_any(),
    };
    let downloads = view! { <Downloads loaded=loaded.clone() raw table /> };
    view! { <section class="results">{downloads}{body}</section> }.into_any()
}
