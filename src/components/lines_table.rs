use std::sync::Arc;

use billing::{
    csv_export::{CsvOptions, write_csv, write_csv_with_margins},
    lines::{GroupBy, LineFilter, LineTable, vendor_of},
    matching::MarginSummary,
    rows::LineRow,
    totals::currency_of,
};
use chrono::NaiveDate;
use leptos::prelude::*;

use crate::{
    columns::{Column, HIDDEN_COLUMNS, parse_hidden, status_line, write_hidden},
    components::downloads::GeneratedDownload,
    format,
    query::month_label,
    storage,
};

/// Rows are this tall (CSS keeps them so); only those in view are rendered.
const ROW_PIXELS: f64 = 32.0;
/// The viewport's height until it is measured, as the CSS sets it.
const FIRST_VIEWPORT_PIXELS: f64 = 480.0;
const OVERSCAN: usize = 8;

/// Takes one condition off the filter.
type ClearFilter = fn(&mut LineFilter);

/// Every price line, searchable, filterable, sortable and groupable, with
/// only the rows in view in the page.
#[component]
pub fn LinesTable(
    table: Arc<LineTable>,
    file_stem: String,
    /// Shared with the charts, whose bars set it.
    #[prop(optional)]
    filter: Option<RwSignal<LineFilter>>,
    /// Each line's cost and sale once both sides are loaded.
    #[prop(optional, into)]
    margins: Option<Signal<Option<Arc<MarginSummary>>>>,
) -> impl IntoView {
    let margins = margins.unwrap_or_else(|| Signal::derive(|| None));
    let hidden =
        RwSignal::new(storage::recall(HIDDEN_COLUMNS).map(|text| parse_hidden(&text)).unwrap_or_default());
    let shown_columns = Memo::new(move |_| {
        let joined = margins.with(Option::is_some);
        hidden.with(|hidden| {
            Column::ALL
                .into_iter()
                .filter(|column| !hidden.contains(column) && (joined || !column.needs_margin()))
                .collect::<Vec<_>>()
        })
    });
    let table = StoredValue::new(table);
    let filter = filter.unwrap_or_else(|| RwSignal::new(LineFilter::default()));
    let sort = RwSignal::new(None::<(Column, bool)>);
    let grouping = RwSignal::new(None::<GroupBy>);
    let scroll_top = RwSignal::new(0.0_f64);
    let viewport = NodeRef::<leptos::html::Div>::new();
    let viewport_pixels = RwSignal::new(FIRST_VIEWPORT_PIXELS);
    let measure = move || {
        if let Some(element) = viewport.get_untracked() {
            scroll_top.set(f64::from(element.scroll_top()));
            viewport_pixels.set(f64::from(element.client_height()));
        }
    };
    Effect::new(move |_| {
        if viewport.get().is_some() {
            measure();
            // The frame after the first rows are laid out shows them.
            request_animation_frame(|| format::mark("billing:lines-shown"));
        }
    });
    let resizing = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resizing.remove());
    let shown = Memo::new(move |_| {
        table.with_value(|table| {
            let mut indexes = filter.with(|filter| table.filter(filter));
            if let Some((column, descending)) = sort.get() {
                match column.sort() {
                    Some(by) => table.sort(&mut indexes, by, descending),
                    // A margin column: its figures come from the join.
                    None => {
                        if let Some(margins) = margins.get() {
                            let figure = |row: LineRow<'_>| {
                                margins.of_line(row.line).and_then(|margin| column.margin_figure(margin))
                            };
                            table.sort_by_key(&mut indexes, figure, descending);
                        }
                    }
                }
            }
            indexes
        })
    });
    let total = table.with_value(|table| table.len());
    let customers = table.with_value(|table| table.distinct(|row| row.customer.company_name.as_deref()));
    let vendors = table.with_value(|table| table.distinct(|row| vendor_of(row.invoice)));
    let charge_types = table.with_value(|table| table.distinct(|row| row.line.charge_type.as_deref()));
    let invoices = table.with_value(|table| table.distinct(|row| row.invoice.header.invoice_id.as_ref()));
    let months = table.with_value(|table| table.service_months());

    let choice = move |id: &'static str,
                       label: &'static str,
                       values: Vec<String>,
                       set: fn(&mut LineFilter, Option<String>),
                       get: fn(&LineFilter) -> Option<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id on:change=move |event| {
                    let value = event_target_value(&event);
                    filter.update(|filter| set(filter, (!value.is_empty()).then_some(value)));
                }>
                    <option value="" selected=move || filter.with(|filter| get(filter).is_none())>"All"</option>
                    {values
                        .into_iter()
                        .map(|value| {
                            let selected = { let value = value.clone(); move || filter.with(|filter| get(filter).as_deref() == Some(value.as_str())) };
                            view! { <option value=value.clone() selected=selected>{value.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
        }
    };
    let chips = move || {
        let current = filter.get();
        let mut chips: Vec<(String, ClearFilter)> = Vec::new();
        if !current.text.trim().is_empty() {
            chips.push((format!("Search: {}", current.text.trim()), |filter| filter.text.clear()));
        }
        if let Some(customer) = &current.customer {
            chips.push((format!("Customer: {customer}"), |filter| filter.customer = None));
        }
        if let Some(vendor) = &current.vendor {
            chips.push((format!("Vendor: {vendor}"), |filter| filter.vendor = None));
        }
        if let Some(invoice) = &current.invoice {
            chips.push((format!("Invoice: {invoice}"), |filter| filter.invoice = None));
        }
        if let Some(charge_type) = &current.charge_type {
            chips.push((format!("Charge: {charge_type}"), |filter| filter.charge_type = None));
        }
        if current.from.is_some() || current.to.is_some() {
            let shown = |date: Option<NaiveDate>| date.map(|date| date.to_string()).unwrap_or_default();
            chips.push((
                format!("Invoice dates: {} – {}", shown(current.from), shown(current.to)),
                |filter| {
                    filter.from = None;
                    filter.to = None;
                },
            ));
        }
        if let Some(month) = current.service_month {
            chips.push((format!("Service period: {}", month_label(month)), |filter| {
                filter.service_month = None
            }));
        }
        (!chips.is_empty()).then(|| {
            view! {
                <div class="chips" aria-label="Active filters">
                    {chips
                        .into_iter()
                        .map(|(label, clear)| {
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
            <th scope="col" class:number=column.numeric() aria-sort=move || match state() {
                Some(true) => "descending",
                Some(false) => "ascending",
                None => "none",
            }>
                <button type="button" class="sort" on:click=move |_| sort.update(|sort| {
                    *sort = match *sort {
                        Some((sorted, false)) if sorted == column => Some((column, true)),
                        Some((sorted, true)) if sorted == column => None,
                        _ => Some((column, false)),
                    }
                })>
                    {column.label()}
                    {move || match state() { Some(true) => " ▼", Some(false) => " ▲", None => "" }}
                </button>
            </th>
        }
    };
    let rows = move || {
        let indexes = shown.get();
        let first = ((scroll_top.get() / ROW_PIXELS) as usize).saturating_sub(OVERSCAN).min(indexes.len());
        let count = (viewport_pixels.get() / ROW_PIXELS).ceil() as usize + 2 * OVERSCAN;
        let last = (first + count).min(indexes.len());
        let above = first as f64 * ROW_PIXELS;
        let below = (indexes.len() - last) as f64 * ROW_PIXELS;
        let columns = shown_columns.get();
        let margins = margins.get();
        let visible = table.with_value(|table| {
            indexes[first..last]
                .iter()
                .map(|&index| {
                    let row = table.row(index);
                    let cells = columns.iter().map(|&column| cell(&row, column, margins.as_deref())).collect_view();
                    view! {
                        <tr class="line-row" class:negative=row.line.extended_price.is_some_and(|price| price.is_sign_negative())>
                            {cells}
                        </tr>
                    }
                })
                .collect_view()
        });
        view! {
            <tr class="spacer" aria-hidden="true" style:height=format!("{above}px")></tr>
            {visible}
            <tr class="spacer" aria-hidden="true" style:height=format!("{below}px")></tr>
        }
    };
    let groups = move || {
        grouping.get().map(|by| {
            let groups = table.with_value(|table| shown.with(|indexes| table.group(indexes, by)));
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
                        {groups
                            .into_iter()
                            .flat_map(|group| {
                                let lines = group.rows.len();
                                let key = group.key.clone();
                                group.subtotals.into_iter().map(move |(currency, sums)| {
                                    view! {
                                        <tr class="group-row" data-group=key.clone() data-currency=currency.clone()
                                            data-excluding=sums.excluding_vat.to_string()>
                                            <th scope="row">{key.clone()}</th>
                                            <td class="number">{lines}</td>
                                            <td>{currency.clone()}</td>
                                            <td class="number">{format::amount(sums.excluding_vat, &currency)}</td>
                                            <td class="number">{format::amount(sums.vat, &currency)}</td>
                                        </tr>
                                    }
                                })
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
        })
    };
    let csv_name = format!("{file_stem}_lines.csv");
    view! {
        <section class="lines" aria-labelledby="lines-heading">
            <h2 id="lines-heading">"All lines"</h2>
            <div class="line-controls">
                <div class="field wide">
                    <label for="line-search">"Search customer, description or subscription"</label>
                    <input id="line-search" type="search" prop:value=move || filter.with(|filter| filter.text.clone())
                        on:input=move |event| filter.update(|filter| filter.text = event_target_value(&event)) />
                </div>
                {choice("line-customer", "Customer", customers, |filter, value| filter.customer = value, |filter| filter.customer.clone())}
                {choice("line-vendor", "Vendor", vendors, |filter, value| filter.vendor = value, |filter| filter.vendor.clone())}
                {choice("line-invoice", "Invoice", invoices, |filter, value| filter.invoice = value, |filter| filter.invoice.clone())}
                {choice("line-charge", "Charge type", charge_types, |filter, value| filter.charge_type = value, |filter| filter.charge_type.clone())}
                {choice(
                    "line-month",
                    "Service period",
                    months.iter().map(|month| month.to_string()).collect(),
                    |filter, value| filter.service_month = value.and_then(|value| value.parse::<NaiveDate>().ok()),
                    |filter| filter.service_month.map(|month| month.to_string()),
                )}
                <div class="field">
                    <label for="line-group">"Group by"</label>
                    <select id="line-group" on:change=move |event| grouping.set(match event_target_value(&event).as_str() {
                        "customer" => Some(GroupBy::Customer),
                        "subscription" => Some(GroupBy::Subscription),
                        "charge" => Some(GroupBy::ChargeType),
                        "vendor" => Some(GroupBy::Vendor),
                        _ => None,
                    })>
                        <option value="">"Nothing"</option>
                        <option value="customer">"Customer"</option>
                        <option value="subscription">"Subscription"</option>
                        <option value="charge">"Charge type"</option>
                        <option value="vendor">"Vendor"</option>
                    </select>
                </div>
            </div>
            {chips}
            <details class="column-choice">
                <summary>"Columns"</summary>
                <fieldset>
                    <legend>"Show these columns"</legend>
                    {Column::ALL
                        .into_iter()
                        .map(|column| {
                            let available = move || !column.needs_margin() || margins.with(Option::is_some);
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
            <p class="lines-shown" role="status" aria-live="polite">{move || status_line(shown.with(Vec::len), total, sort.get(), grouping.get())}</p>
            <div class="line-export">
                <GeneratedDownload media="text/csv" file_name=csv_name label="Download these lines as CSV".to_owned()
                    generate=move || table.with_value(|table| shown.with_untracked(|indexes| {
                        let rows = indexes.iter().map(|&index| table.row(index));
                        match margins.get_untracked() {
                            Some(margins) => write_csv_with_margins(rows, CsvOptions::default(), &margins),
                            None => write_csv(rows, CsvOptions::default()),
                        }
                    })) />
            </div>
            {groups}
            <div class="viewport" tabindex="0" aria-label="Price lines" node_ref=viewport on:scroll=move |_| measure()>
                <table class="line-table">
                    <thead>
                        <tr>{move || shown_columns.get().into_iter().map(header).collect_view()}</tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// One cell of a line's row.
fn cell(row: &LineRow<'_>, column: Column, margins: Option<&MarginSummary>) -> AnyView {
    let currency = currency_of(row.invoice);
    let money = |value: Option<rust_decimal::Decimal>| value.map(|value| format::amount(value, currency));
    let text = |value: Option<&str>| value.map(str::to_owned);
    let margin = || margins.and_then(|margins| margins.of_line(row.line));
    let content = match column {
        Column::Invoice => row.invoice.header.invoice_id.as_ref().map(ToString::to_string),
        Column::Vendor => text(vendor_of(row.invoice)),
        Column::Customer => text(row.customer.company_name.as_deref()),
        Column::Subscription => text(row.subscription.subscription_name.as_deref()),
        Column::Description => text(row.line.description.as_deref()),
        Column::ChargeType => text(row.line.charge_type.as_deref()),
        Column::Period => row.line.start_date.map(|start| {
            let end = row.line.end_date.map(|end| end.to_string()).unwrap_or_default();
            format!("{start} – {end}")
        }),
        Column::Quantity => row.line.quantity.map(format::number),
        Column::UnitPrice => money(row.line.unit_price),
        Column::Amount => money(row.line.extended_price),
        Column::Vat => money(row.line.vat),
        Column::Cost => money(margin().map(|margin| margin.cost)),
        Column::Sale => money(margin().map(|margin| margin.sale)),
        Column::Margin => money(margin().map(|margin| margin.margin())),
        Column::MarginPercent => {
            margin().and_then(|margin| margin.percent()).map(|percent| format!("{} %", percent.round_dp(1)))
        }
    };
    view! { <td class:number=column.numeric()>{content}</td> }.into_any()
}
