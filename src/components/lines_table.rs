use std::collections::BTreeSet;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use billing::{
    Format,
    lines::{GroupBy, LineFilter},
};
use chrono::NaiveDate;
use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{JsCast, closure::Closure};
use worker_protocol::{Answer, Choices, DownloadFile, GroupRow, LineWindow, Question};

use crate::{
    columns::{
        Column, GROUPINGS, HIDDEN_COLUMNS, grouping_named, next_sort, parse_hidden, shown_columns,
        status_line, width_rem, write_hidden,
    },
    components::tab_bar::Tabs,
    components::{
        choice_search::ChoiceSearch, generated_download::GeneratedDownload, line_rows::LineRows,
        subtotal_table::SubtotalTable,
    },
    fetch::{OUT_OF_TURN, ask},
    filter_chips::{FilterChip, filter_chips},
    format,
    scrolling::{ROW_PIXELS, RowsShown, viewport_pixels_in, window_to_ask},
    slices::in_a_frame_of_its_own,
    split::split_point,
    storage,
    tabs::Tab,
};

/// Numbers the questions of one kind, so an answer to a question since
/// replaced is dropped.
static ASKED: AtomicU64 = AtomicU64::new(0);

/// Asks `question`, then gives `apply` the answer unless another question
/// was asked through `latest` since.
fn ask_latest(
    latest: StoredValue<u64>,
    question: Question,
    apply: impl FnOnce(Result<Answer, String>) + 'static,
) {
    let asked = ASKED.fetch_add(1, Ordering::Relaxed) + 1;
    latest.set_value(asked);
    spawn_local(async move {
        let answer = ask(question).await.map(|(answer, _)| answer);
        if latest.try_get_value() == Some(asked) {
            apply(answer);
        }
    });
}

/// What the lines table shows: its filter, order and columns. The charts
/// set the filter; the workbook takes all three.
#[derive(Clone, Copy)]
pub struct TableView {
    pub filter: RwSignal<LineFilter>,
    pub sort: RwSignal<Option<(Column, bool)>>,
    hidden: RwSignal<BTreeSet<Column>>,
    pub columns: Memo<Vec<Column>>,
}

impl TableView {
    /// The columns the user left shown, with the margin's once `joined`.
    pub fn new(joined: Signal<bool>) -> Self {
        let hidden = RwSignal::new(
            storage::recall(HIDDEN_COLUMNS).map(|text| parse_hidden(&text)).unwrap_or_default(),
        );
        let columns = Memo::new(move |_| {
            let joined = joined.get();
            hidden.with(|hidden| shown_columns(hidden, joined))
        });
        Self { filter: RwSignal::new(LineFilter::default()), sort: RwSignal::new(None), hidden, columns }
    }
}

/// Every price line, searchable, filterable, sortable and groupable; the
/// worker holds them, and only the rows in view come to the page.
#[component]
pub fn LinesTable(
    choices: Choices,
    /// How many lines the document has.
    total: usize,
    file_stem: String,
    format: Format,
    /// Its filter is shared with the charts, whose bars set it.
    view: TableView,
    /// Whether the other side of the margin is joined: then each line has
    /// its cost, sale and margin.
    joined: Signal<bool>,
    /// The publishers the filter offers, anew after each correction.
    publishers: Signal<Vec<String>>,
    /// Moves on each correction of a publisher, so the lines are asked again.
    told: Signal<u32>,
) -> impl IntoView {
    let TableView { filter, sort, hidden, columns: shown_columns } = view;
    let tabs = use_context::<Tabs>();
    let grouping = RwSignal::new(None::<GroupBy>);
    let scroll_top = RwSignal::new(0_usize);
    let viewport = NodeRef::<leptos::html::Div>::new();
    // Until the browser measures the view, the height its CSS gives it in
    // this window: the first rows are then as many as it shows, and not
    // built again in the frame that measures it.
    let window_pixels = window().inner_height().ok().and_then(|height| height.as_f64()).unwrap_or_default();
    let viewport_pixels = RwSignal::new(viewport_pixels_in(window_pixels as usize));
    let scrolled = move || {
        if let Some(element) = viewport.get_untracked() {
            scroll_top.set(usize::try_from(element.scroll_top()).unwrap_or_default());
        }
    };
    // The view's height as the browser's own layout finds it: measured in
    // a task, it would lay out the whole page there and then.
    Effect::new(move |_| {
        let Some(element) = viewport.get() else { return };
        let resized = Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
            if let Ok(entry) = entries.get(0).dyn_into::<web_sys::ResizeObserverEntry>() {
                let measured = entry.content_rect().height() as usize;
                if viewport_pixels.get_untracked() != measured {
                    viewport_pixels.set(measured);
                }
            }
        });
        let Ok(observer) = web_sys::ResizeObserver::new(resized.as_ref().unchecked_ref()) else { return };
        observer.observe(&element);
        let observing = StoredValue::new_local((observer, resized));
        on_cleanup(move || {
            observing.try_with_value(|(observer, _)| observer.disconnect());
        });
    });

    let wanted = Memo::new(move |asked: Option<&(usize, usize)>| {
        window_to_ask(
            asked.copied(),
            scroll_top.get() / ROW_PIXELS,
            viewport_pixels.get().div_ceil(ROW_PIXELS),
        )
    });
    let window = RwSignal::new(None::<(Vec<Column>, LineWindow)>);
    let failed = RwSignal::new(None::<String>);
    let latest_lines = StoredValue::new(0u64);
    Effect::new(move |_| {
        joined.track();
        told.track();
        let (first, count) = wanted.get();
        let columns = shown_columns.get();
        let question = Question::Lines {
            filter: filter.get(),
            sort: sort.get(),
            first: first as u32,
            count: count as u32,
            columns: columns.clone(),
        };
        ask_latest(latest_lines, question, move |answer| match answer {
            Ok(Answer::Lines(lines)) => {
                failed.set(None);
                if let Some(tabs) = tabs {
                    tabs.set_count(Tab::Lines, Some(lines.shown));
                }
                let behind = left_behind(window, viewport, viewport_pixels, &columns, &lines);
                // Whether the table was still there to take them.
                let show = move || {
                    let taken = window.try_set(Some((columns, lines))).is_none();
                    if taken {
                        format::mark("billing:lines-window");
                    }
                    taken
                };
                if window.with_untracked(Option::is_some) {
                    if !behind {
                        show();
                    }
                } else {
                    // The first rows are drawn in a frame of their own, not
                    // in one drawing another part of the document; the frame
                    // after the one they are laid out in shows them.
                    in_a_frame_of_its_own(move || {
                        let taken = show();
                        if taken {
                            request_animation_frame(|| format::mark("billing:lines-shown"));
                        }
                        taken
                    });
                }
            }
            Ok(_) => failed.set(Some(OUT_OF_TURN.to_owned())),
            Err(message) => failed.set(Some(message)),
        });
    });
    let groups = RwSignal::new(Vec::<GroupRow>::new());
    let latest_groups = StoredValue::new(0u64);
    Effect::new(move |_| {
        told.track();
        let Some(by) = grouping.get() else {
            latest_groups.set_value(0);
            return groups.set(Vec::new());
        };
        ask_latest(
            latest_groups,
            Question::Groups { filter: filter.get(), by },
            move |answer| match answer {
                Ok(Answer::Groups { groups: answered }) => {
                    groups.set(answered);
                    format::mark("billing:groups");
                }
                Ok(_) => failed.set(Some(OUT_OF_TURN.to_owned())),
                Err(message) => failed.set(Some(message)),
            },
        );
    });
    let shown_count = move || window.with(|window| window.as_ref().map_or(total, |(_, lines)| lines.shown));
    let Choices { customers, invoices, charge_types, service_months: months, .. } = choices;
    let fixed = |values: Vec<String>| Signal::derive(move || values.clone());

    let choice = move |id: &'static str,
                       label: &'static str,
                       values: Signal<Vec<String>>,
                       set: fn(&mut LineFilter, Option<String>),
                       get: fn(&LineFilter) -> Option<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                // One reactive value for the select, not one per option.
                <select id=id prop:value=move || filter.with(|filter| get(filter).unwrap_or_default())
                    on:change=move |event| {
                        let value = event_target_value(&event);
                        filter.update(|filter| set(filter, (!value.is_empty()).then_some(value)));
                    }>
                    <option value="">"All"</option>
                    {move || {
                        values
                            .get()
                            .into_iter()
                            .map(|value| {
                                let text = value.clone();
                                view! { <option value=value>{text}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
        }
    };
    let chips = move || {
        let chips = filter.with(filter_chips);
        (!chips.is_empty()).then(|| {
            view! {
                <div class="chips" aria-label="Active filters">
                    {chips
                        .into_iter()
                        .map(|FilterChip { label, clear }| {
                            let description = format!("Remove filter {label}");
                            view! {
                                <button type="button" class="chip" aria-label=description
                                    on:click=move |_| filter.update(clear)>{label}" ×"</button>
                            }
                        })
                        .collect_view()}
                    <button type="button" class="chip clear-all" on:click=move |_| filter.set(LineFilter::default())>
                        "Clear all filters"
                    </button>
                </div>
            }
        })
    };
    let header = move |column: Column| {
        let state =
            move || sort.get().filter(|(sorted, _)| *sorted == column).map(|(_, descending)| descending);
        view! {
            <th scope="col" class:number=column.numeric() style:width=format!("{}rem", width_rem(column))
                aria-sort=move || match state() {
                Some(true) => "descending",
                Some(false) => "ascending",
                None => "none",
            }>
                <button type="button" class="sort" on:click=move |_| sort.update(|sort| *sort = next_sort(*sort, column))>
                    {column.label()}
                    {move || match state() { Some(true) => " ▼", Some(false) => " ▲", None => "" }}
                </button>
            </th>
        }
    };
    let subtotals = move || grouping.get().map(|_| view! { <SubtotalTable groups /> });
    let shown_lines =
        move || DownloadFile::ShownLines { filter: filter.get_untracked(), sort: sort.get_untracked() };
    let csv_name = shown_lines().file_name(&file_stem, format);
    // The column choice, the status and the export come a frame after the
    // controls, the table a frame after those and its first rows after it:
    // drawn at once, the part held one frame for over 50 ms.
    let (above_drawn, table_drawn) = (RwSignal::new(false), RwSignal::new(false));
    in_a_frame_of_its_own(move || above_drawn.try_set(true).is_none());
    in_a_frame_of_its_own(move || table_drawn.try_set(true).is_none());
    let above_table = move || {
        above_drawn.get().then(|| {
            let csv_name = csv_name.clone();
            view! {
                <details class="column-choice">
                    <summary>"Columns"</summary>
                    <fieldset>
                        <legend>"Show these columns"</legend>
                        {Column::ALL
                            .into_iter()
                            .map(|column| {
                                let available = move || !column.needs_margin() || joined.get();
                                view! {
                                    <label class="choice" class:muted=move || !available()>
                                        <input type="checkbox" data-column=column.label()
                                            prop:checked=move || hidden.with(|hidden| !hidden.contains(&column))
                                            on:change=move |event| {
                                                let show = event_target_checked(&event);
                                                hidden.update(|hidden| {
                                                    if show { hidden.remove(&column); } else { hidden.insert(column); }
                                                });
                                                hidden.with_untracked(|hidden| storage::remember(HIDDEN_COLUMNS, &write_hidden(hidden)));
                                            } />
                                        {column.label()}
                                        {column.needs_margin().then_some(" (with the margin)")}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                </details>
                <p class="lines-shown" role="status" aria-live="polite">{move || status_line(shown_count(), total, sort.get(), grouping.get())}</p>
                <div class="line-export">
                    <GeneratedDownload file_name=csv_name label="Download these lines as CSV".to_owned()
                        question=move || Question::Download { file: shown_lines() } />
                </div>
                {move || failed.get().map(|message| view! {
                    <p class="problem-detail" role="alert">{format!("The lines cannot be shown: {message}")}</p>
                })}
                {subtotals}
            }
        })
    };
    let table = move || {
        table_drawn.get().then(|| {
            view! {
                <div class="viewport" tabindex="0" aria-label="Price lines" node_ref=viewport on:scroll=move |_| scrolled()>
                    <table class="line-table" style:width=move || {
                        format!("{}rem", shown_columns.with(|columns| columns.iter().copied().map(width_rem).sum::<u32>()))
                    }>
                        <thead>
                            <tr>{move || shown_columns.get().into_iter().map(header).collect_view()}</tr>
                        </thead>
                        <tbody>
                            <LineRows window top=Signal::derive(move || scroll_top.get() / ROW_PIXELS)
                                in_view=Signal::derive(move || viewport_pixels.get().div_ceil(ROW_PIXELS)) />
                        </tbody>
                    </table>
                </div>
            }
        })
    };
    view! {
        <section class="lines" aria-labelledby="lines-heading">
            <h2 id="lines-heading">"All lines"</h2>
            <div class="line-controls">
                <div class="field wide">
                    <label for="line-search">"Search customer, description or subscription"</label>
                    <input id="line-search" type="search" prop:value=move || filter.with(|filter| filter.text.clone())
                        on:input=move |event| filter.update(|filter| filter.text = event_target_value(&event)) />
                </div>
                <ChoiceSearch id="line-customer" label="Customer" values=Arc::new(customers)
                    current=Signal::derive(move || filter.with(|filter| filter.customer.clone()))
                    on_pick=move |value| filter.update(|filter| filter.customer = value) />
                {choice("line-publisher", "Publisher", publishers, |filter, value| filter.publisher = value, |filter| filter.publisher.clone())}
                <ChoiceSearch id="line-invoice" label="Invoice" values=Arc::new(invoices)
                    current=Signal::derive(move || filter.with(|filter| filter.invoice.clone()))
                    on_pick=move |value| filter.update(|filter| filter.invoice = value) />
                {choice("line-charge", "Charge type", fixed(charge_types), |filter, value| filter.charge_type = value, |filter| filter.charge_type.clone())}
                {choice(
                    "line-month",
                    "Service period",
                    fixed(months.iter().map(|month| month.to_string()).collect()),
                    |filter, value| filter.service_month = value.and_then(|value| value.parse::<NaiveDate>().ok()),
                    |filter| filter.service_month.map(|month| month.to_string()),
                )}
                <div class="field">
                    <label for="line-group">"Group by"</label>
                    <select id="line-group" on:change=move |event| grouping.set(grouping_named(&event_target_value(&event)))>
                        <option value="">"Nothing"</option>
                        {GROUPINGS.iter().map(|grouping| view! { <option value=grouping.value>{grouping.label}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            {chips}
            {above_table}
            {table}
        </section>
    }
}

split_point! {
    /// The Lines tab.
    pub fn lines_part(props: LinesTableProps) -> AnyView, preload preload_lines {
        LinesTable(props).into_any()
    }
}

/// Whether `lines`, answering where the view was, hold none of the rows
/// it shows now: a fast scroll's window, its scroll event still to come.
/// Taken, its rows would be laid out unseen, and that layout forced by the
/// next frame's read of the scroll; that event asks again instead. Only a
/// window that moves the rows of the same lines and columns is passed over:
/// one that changes them (a search, another column) is taken wherever the
/// view is, so the table's height follows.
fn left_behind(
    window: RwSignal<Option<(Vec<Column>, LineWindow)>>,
    viewport: NodeRef<leptos::html::Div>,
    viewport_pixels: RwSignal<usize>,
    columns: &[Column],
    lines: &LineWindow,
) -> bool {
    let same_lines = window.with_untracked(|now| {
        now.as_ref().is_some_and(|(now_columns, now)| now.shown == lines.shown && now_columns == columns)
    });
    let Some(element) = viewport.get_untracked().filter(|_| same_lines) else { return false };
    let top = usize::try_from(element.scroll_top()).unwrap_or_default() / ROW_PIXELS;
    let in_view = viewport_pixels.get_untracked().div_ceil(ROW_PIXELS);
    let sent = lines.first..lines.first + lines.rows.len();
    RowsShown::of(top, in_view, sent, lines.shown).rows.is_empty()
}
