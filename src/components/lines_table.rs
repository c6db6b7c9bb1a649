use std::sync::Arc;

use billing::{
    csv_export::{CsvOptions, write_csv},
    lines::{GroupBy, LineFilter, LineTable, SortColumn},
    totals::currency_of,
};
use chrono::NaiveDate;
use leptos::prelude::*;

use crate::{components::downloads::BlobLink, format, query::month_label};

/// Rows are this tall (CSS keeps them so); only those in view are rendered.
const ROW_PIXELS: f64 = 32.0;
const VIEWPORT_PIXELS: f64 = 480.0;
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
) -> impl IntoView {
    let table = StoredValue::new(table);
    let filter = filter.unwrap_or_else(|| RwSignal::new(LineFilter::default()));
    let sort = RwSignal::new(None::<(SortColumn, bool)>);
    let grouping = RwSignal::new(None::<GroupBy>);
    let scroll_top = RwSignal::new(0.0_f64);
    let exported = RwSignal::new(None::<Arc<Vec<u8>>>);
    let shown = Memo::new(move |_| {
        table.with_value(|table| {
            let mut indexes = filter.with(|filter| table.filter(filter));
            if let Some((column, descending)) = sort.get() {
                table.sort(&mut indexes, column, descending);
            }
            indexes
        })
    });
    Effect::new(move |_| {
        shown.track();
        exported.set(None);
    });
    let total = table.with_value(|table| table.len());
    let customers = table.with_value(|table| table.distinct(|row| row.customer.company_name.clone()));
    let charge_types = table.with_value(|table| table.distinct(|row| row.line.charge_type.clone()));
    let invoices = table.with_value(|table| {
        table.distinct(|row| row.invoice.header.invoice_id.as_ref().map(ToString::to_string))
    });
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
    let header = move |label: &'static str, column: SortColumn, numeric: bool| {
        let state =
            move || sort.get().filter(|(sorted, _)| *sorted == column).map(|(_, descending)| descending);
        view! {
            <th scope="col" class:number=numeric aria-sort=move || match state() {
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
                    {label}
                    {move || match state() { Some(true) => " ▼", Some(false) => " ▲", None => "" }}
                </button>
            </th>
        }
    };
    let rows = move || {
        let indexes = shown.get();
        let first = ((scroll_top.get() / ROW_PIXELS) as usize).saturating_sub(OVERSCAN).min(indexes.len());
        let count = (VIEWPORT_PIXELS / ROW_PIXELS) as usize + 2 * OVERSCAN;
        let last = (first + count).min(indexes.len());
        let above = first as f64 * ROW_PIXELS;
        let below = (indexes.len() - last) as f64 * ROW_PIXELS;
        let visible = table.with_value(|table| {
            indexes[first..last]
                .iter()
                .map(|&index| {
                    let row = table.row(index);
                    let currency = currency_of(row.invoice).to_owned();
                    let money = |value: Option<rust_decimal::Decimal>| value.map(|value| format::amount(value, &currency)).unwrap_or_default();
                    let text = |value: &Option<String>| value.clone().unwrap_or_default();
                    let period = row.line.start_date.map(|start| {
                        let end = row.line.end_date.map(|end| end.to_string()).unwrap_or_default();
                        format!("{start} – {end}")
                    });
                    view! {
                        <tr class="line-row" class:negative=row.line.extended_price.is_some_and(|price| price.is_sign_negative())>
                            <td>{row.invoice.header.invoice_id.as_ref().map(ToString::to_string)}</td>
                            <td>{text(&row.customer.company_name)}</td>
                            <td>{text(&row.subscription.subscription_name)}</td>
                            <td>{text(&row.line.description)}</td>
                            <td>{text(&row.line.charge_type)}</td>
                            <td>{period}</td>
                            <td class="number">{row.line.quantity.map(format::number)}</td>
                            <td class="number">{money(row.line.unit_price)}</td>
                            <td class="number">{money(row.line.extended_price)}</td>
                            <td class="number">{money(row.line.vat)}</td>
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
                        _ => None,
                    })>
                        <option value="">"Nothing"</option>
                        <option value="customer">"Customer"</option>
                        <option value="subscription">"Subscription"</option>
                        <option value="charge">"Charge type"</option>
                    </select>
                </div>
            </div>
            {chips}
            <p class="lines-shown" role="status" aria-live="polite">{move || format!("{} of {total} lines", shown.with(Vec::len))}</p>
            <div class="line-export">
                {move || match exported.get() {
                    Some(bytes) => view! { <BlobLink bytes media="text/csv" file_name=csv_name.clone() label="Download these lines as CSV".to_owned() /> }.into_any(),
                    None => view! {
                        <button type="button" class="prepare-csv" on:click=move |_| {
                            let bytes = table.with_value(|table| shown.with(|indexes| {
                                write_csv(indexes.iter().map(|&index| table.row(index)), CsvOptions::default())
                            }));
                            exported.set(Some(Arc::new(bytes)));
                        }>"Export these lines as CSV"</button>
                    }.into_any(),
                }}
            </div>
            {groups}
            <div class="viewport" tabindex="0" aria-label="Price lines" on:scroll=move |event| {
                let target: web_sys::Element = event_target(&event);
                scroll_top.set(f64::from(target.scroll_top()));
            }>
                <table class="line-table">
                    <thead>
                        <tr>
                            {header("Invoice", SortColumn::Invoice, false)}
                            {header("Customer", SortColumn::Customer, false)}
                            {header("Subscription", SortColumn::Subscription, false)}
                            {header("Description", SortColumn::Description, false)}
                            {header("Charge", SortColumn::ChargeType, false)}
                            {header("Period", SortColumn::StartDate, false)}
                            {header("Qty", SortColumn::Quantity, true)}
                            {header("Unit price", SortColumn::UnitPrice, true)}
                            {header("Amount", SortColumn::ExtendedPrice, true)}
                            {header("VAT", SortColumn::Vat, true)}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}
