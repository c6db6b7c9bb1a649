//! A read document as the page shows it: the overview, one invoice, the
//! subscription details, each line's cells.

use std::borrow::Cow;

use billing::{
    InvoiceDocument,
    api::decisions::ItemId,
    exceptions::Flagged,
    matching::MarginSummary,
    model::{Localised, PriceLine, Subscription, SubscriptionDetails},
    publisher::Publishers,
    rows::LineRow,
    text::Text,
    totals::{Discrepancy, TotalField, currency_of, sales_extended_price},
};
use rust_decimal::Decimal;
use worker_protocol::{
    Cell, Column, CustomerView, DetailsView, FlaggedLine, InvoiceView, LineCells, Party, SubscriptionView,
    WindowLine,
};

pub(crate) fn text(value: &Option<Text>) -> String {
    value.as_deref().unwrap_or_default().to_owned()
}

pub(crate) fn date(value: Option<chrono::NaiveDate>) -> String {
    value.map(|date| date.to_string()).unwrap_or_default()
}

fn money(value: Option<Decimal>) -> Cell {
    value.map_or(Cell::Empty, |value| Cell::Money(value.to_string()))
}

fn number(value: Option<Decimal>) -> Cell {
    value.map_or(Cell::Empty, |value| Cell::Number(value.to_string()))
}

fn text_cell(value: Option<String>) -> Cell {
    value.map_or(Cell::Empty, Cell::Text)
}

/// What a screen reader is told once a document has been read.
pub fn announcement(invoices: usize, lines: usize) -> String {
    let plural =
        |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    format!("Loaded {} with {}.", plural(invoices, "invoice", "invoices"), plural(lines, "line", "lines"))
}

/// The discrepancies of invoice `index`, each as a sentence.
pub fn discrepancy_notes(
    document: &InvoiceDocument,
    discrepancies: &[Discrepancy],
    index: usize,
) -> Vec<String> {
    discrepancies
        .iter()
        .filter_map(|discrepancy| match discrepancy {
            Discrepancy::LinePrice { at, computed, stated } if at.invoice == index => {
                let customer = &document.invoices[index].customers[at.customer];
                let subscription = &customer.subscriptions[at.subscription];
                let subscription =
                    subscription.subscription_id.as_ref().map_or_else(|| "?".to_owned(), ToString::to_string);
                Some(format!(
                    "Line {} of subscription {subscription} ({}): ExtendedPrice is {stated}, but (Quantity × UnitPrice − Discount) × Duration is {computed}.",
                    at.line + 1,
                    customer.company_name.as_deref().unwrap_or("unnamed customer"),
                ))
            }
            Discrepancy::InvoiceTotal { invoice, field, computed, stated } if *invoice == index => {
                let field = match field {
                    TotalField::ExcludingVat => "TotalExcludingVAT",
                    TotalField::Vat => "TotalVAT",
                    TotalField::IncludingVat => "TotalIncludingVAT",
                };
                Some(format!("{field} is {stated}, but the lines add up to {computed}."))
            }
            _ => None,
        })
        .collect()
}

/// One invoice whole, its lines in the columns its kind has.
pub fn invoice_view(
    document: &InvoiceDocument,
    discrepancies: &[Discrepancy],
    index: usize,
    consolidated: bool,
) -> InvoiceView {
    let invoice = &document.invoices[index];
    let header = &invoice.header;
    let totals = &invoice.totals;
    let amount = |value: Option<Decimal>| value.map(|value| value.to_string());
    InvoiceView {
        number: header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        date: date(header.date),
        due: date(header.expiration_date),
        invoice_type: text(&header.r#type),
        description: text(&header.description),
        currency: currency_of(invoice).to_owned(),
        stated: [
            amount(totals.total_excluding_vat),
            amount(totals.total_vat),
            amount(totals.total_including_vat),
        ],
        discrepancies: discrepancy_notes(document, discrepancies, index),
        sender: Party {
            name: text(&invoice.sender.company_name),
            address: text(&invoice.sender.address),
            postal_code: text(&invoice.sender.postal_code),
            city: text(&invoice.sender.city),
            vat_number: text(&invoice.sender.vat_number),
        },
        receiver: Party {
            name: text(&invoice.receiver.company_name),
            address: text(&invoice.receiver.address),
            postal_code: text(&invoice.receiver.zip),
            city: text(&invoice.receiver.city),
            vat_number: text(&invoice.receiver.vat_number),
        },
        consolidated,
        customers: invoice
            .customers
            .iter()
            .map(|customer| CustomerView {
                name: text(&customer.company_name),
                number: customer.customer_number.as_ref().map(ToString::to_string),
                cost_centre: customer.cost_centre().map(str::to_owned),
                subscriptions: customer
                    .subscriptions
                    .iter()
                    .map(|subscription| subscription_view(subscription, currency_of(invoice), consolidated))
                    .collect(),
            })
            .collect(),
    }
}

fn subscription_view(subscription: &Subscription, currency: &str, consolidated: bool) -> SubscriptionView {
    SubscriptionView {
        name: text(&subscription.subscription_name),
        id: subscription.subscription_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        plan: subscription.plan_name.as_deref().map(str::to_owned),
        attributes: subscription
            .subscription_details
            .iter()
            .filter(|detail| detail.no_show != Some(true))
            .map(|detail| format!("{}: {}", text(&detail.attribute), text(&detail.attribute_value)))
            .collect(),
        lines: subscription
            .price_lines
            .iter()
            .map(|line| LineCells {
                currency: currency.to_owned(),
                negative: is_negative(line),
                cells: if consolidated { consolidated_cells(line) } else { invoice_line_cells(line) },
            })
            .collect(),
    }
}

fn is_negative(line: &PriceLine) -> bool {
    line.extended_price.is_some_and(|price| price.is_sign_negative())
}

/// Description, charge, quantity, purchase price and discount, sales price
/// and discount, cost and sale.
fn consolidated_cells(line: &PriceLine) -> Vec<Cell> {
    vec![
        text_cell(line.description.as_deref().map(str::to_owned)),
        text_cell(line.charge_type.as_deref().map(str::to_owned)),
        number(line.quantity),
        money(line.purchase_price),
        money(line.purchase_discount),
        money(line.sales_price),
        money(line.sales_discount),
        money(line.extended_price),
        money(sales_extended_price(line)),
    ]
}

/// Description, charge, period, quantity, unit price, discount, duration,
/// amount and VAT.
fn invoice_line_cells(line: &PriceLine) -> Vec<Cell> {
    let period = match (line.start_date, line.end_date) {
        (Some(start), Some(end)) => Some(format!("{start} – {end}")),
        _ => None,
    };
    vec![
        text_cell(line.description.as_deref().map(str::to_owned)),
        text_cell(line.charge_type.as_deref().map(str::to_owned)),
        text_cell(period),
        number(line.quantity),
        money(line.unit_price),
        money(line.discount),
        number(line.duration),
        money(line.extended_price),
        money(line.vat),
    ]
}

/// One row of the lines table, in `columns`.
pub fn line_cells(
    row: &LineRow<'_>,
    columns: &[Column],
    margins: Option<&MarginSummary>,
    publishers: &Publishers,
) -> LineCells {
    let margin = || margins.and_then(|margins| margins.of_line(row.line));
    let cells = columns
        .iter()
        .map(|&column| match column {
            Column::Invoice => text_cell(row.invoice.header.invoice_id.as_ref().map(ToString::to_string)),
            Column::Publisher => text_cell(publishers.of(row.subscription, row.line).map(Cow::into_owned)),
            Column::Customer => text_cell(row.customer.company_name.as_deref().map(str::to_owned)),
            Column::Subscription => {
                text_cell(row.subscription.subscription_name.as_deref().map(str::to_owned))
            }
            Column::Description => text_cell(row.line.description.as_deref().map(str::to_owned)),
            Column::ChargeType => text_cell(row.line.charge_type.as_deref().map(str::to_owned)),
            Column::Period => text_cell(row.line.start_date.map(|start| {
                let end = row.line.end_date.map(|end| end.to_string()).unwrap_or_default();
                format!("{start} – {end}")
            })),
            Column::Quantity => number(row.line.quantity),
            Column::UnitPrice => money(row.line.unit_price),
            Column::Amount => money(row.line.extended_price),
            Column::Vat => money(row.line.vat),
            Column::MarginPercent => text_cell(
                margin()
                    .and_then(|margin| margin.percent())
                    .map(|percent| format!("{} %", percent.round_dp(1))),
            ),
            Column::Cost | Column::Sale | Column::Margin => {
                money(margin().and_then(|margin| column.margin_figure(margin)))
            }
        })
        .collect();
    LineCells { currency: currency_of(row.invoice).to_owned(), negative: is_negative(row.line), cells }
}

/// One subscription's terms, plan and resources, names in `language` when
/// the vendor gives it.
pub fn details_view(details: &SubscriptionDetails, language: &str) -> DetailsView {
    let name = |localised: &Localised| localised.best_for(language).unwrap_or_default().to_owned();
    let every = |amount: Option<Decimal>, unit: &Option<Text>| match (amount, unit) {
        (Some(amount), Some(unit)) => format!("{amount} {unit}"),
        _ => String::new(),
    };
    let terms = &details.subscription;
    let period = &details.service_plan_period;
    let decimal = |value: Option<Decimal>| value.map(|value| value.to_string());
    DetailsView {
        subscription_id: terms.subscription_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        plan_name: name(&details.service_plan.plan_name),
        category: name(&details.service_plan.plan_category_name),
        runs: format!("{} – {}", date(terms.start_date), date(terms.expiration_date)),
        term: every(terms.period, &terms.period_type),
        billed_every: every(terms.billing_period, &terms.billing_period_type),
        plan_every: every(period.period, &period.period_type),
        trial: period.trial == Some(true),
        setup_fee: decimal(period.setup_fee),
        recurring_fee: decimal(period.recurring_fee),
        renewal_fee: decimal(period.renewal_fee),
        resources: details
            .resources
            .iter()
            .map(|resource| {
                vec![
                    Cell::Text(name(&resource.resource_name)),
                    text_cell(resource.manufacturer.as_deref().map(str::to_owned)),
                    text_cell(resource.mp_number.as_deref().map(str::to_owned)),
                    number(resource.included_value),
                    number(resource.amount),
                    text_cell(resource.measure_unit.as_deref().map(str::to_owned)),
                    number(resource.resource_rate.setup_fee),
                    number(resource.resource_rate.recurring_fee),
                    number(resource.resource_rate.overuse_fee),
                ]
            })
            .collect(),
    }
}

/// A line on the worklist as the page lists it.
pub fn flagged_line(item: ItemId, flagged: &Flagged, row: &LineRow<'_>) -> FlaggedLine {
    FlaggedLine {
        item,
        review: None,
        earlier: None,
        side: flagged.side,
        invoice: row.invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        customer: text(&row.customer.company_name),
        description: text(&row.line.description),
        currency: flagged.currency.clone(),
        amount: row.line.extended_price.map(|amount| amount.to_string()).unwrap_or_default(),
        at_stake: flagged.at_stake.to_string(),
    }
}

/// A line of a changed charge as the page lists it.
pub fn window_line(row: &LineRow<'_>) -> WindowLine {
    let decimal = |value: Option<Decimal>| value.map(|value| value.to_string()).unwrap_or_default();
    WindowLine {
        invoice: row.invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        date: date(row.invoice.header.date),
        description: text(&row.line.description),
        quantity: decimal(row.line.quantity),
        unit_price: decimal(row.line.unit_price),
        amount: decimal(row.line.extended_price),
        currency: currency_of(row.invoice).to_owned(),
    }
}
