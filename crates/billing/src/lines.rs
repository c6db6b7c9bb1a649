//! Price lines flattened with their invoice, customer and subscription: the
//! rows of the app's table and of the CSV export.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::{
    model::{Customer, Invoice, InvoiceDocument, PriceLine, Subscription},
    totals::{Sums, currency_of},
};

/// One price line in its context.
#[derive(Clone, Copy, Debug)]
pub struct LineRow<'a> {
    pub invoice: &'a Invoice,
    pub customer: &'a Customer,
    pub subscription: &'a Subscription,
    pub line: &'a PriceLine,
}

/// Every price line of the document, in document order.
pub fn rows(document: &InvoiceDocument) -> impl Iterator<Item = LineRow<'_>> {
    document.invoices.iter().flat_map(invoice_rows)
}

/// Every price line of one invoice, in document order.
pub fn invoice_rows(invoice: &Invoice) -> impl Iterator<Item = LineRow<'_>> {
    invoice.customers.iter().flat_map(move |customer| {
        customer.subscriptions.iter().flat_map(move |subscription| {
            subscription.price_lines.iter().map(move |line| LineRow { invoice, customer, subscription, line })
        })
    })
}

/// What the table shows: every condition that is set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineFilter {
    /// Case-insensitive text found in the customer, the description or the
    /// subscription (name or id).
    pub text: String,
    /// Exact customer company name.
    pub customer: Option<String>,
    /// Exact invoice id, as text.
    pub invoice: Option<String>,
    /// Exact charge type, e.g. `Correction`.
    pub charge_type: Option<String>,
    /// Invoice dated on or after.
    pub from: Option<NaiveDate>,
    /// Invoice dated on or before.
    pub to: Option<NaiveDate>,
}

impl LineFilter {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn matches(&self, row: &LineRow<'_>) -> bool {
        self.matches_with(row, &self.needle())
    }

    /// The search text as rows are compared with it; control characters
    /// are dropped, so it cannot contain the field separator.
    fn needle(&self) -> String {
        self.text.trim().chars().filter(|c| !c.is_control()).collect::<String>().to_lowercase()
    }

    /// [`Self::matches`] with the search text already folded, so filtering
    /// many rows folds it once.
    fn matches_with(&self, row: &LineRow<'_>, needle: &str) -> bool {
        let equals = |wanted: &Option<String>, actual: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == actual)
        };
        let date = row.invoice.header.date;
        equals(&self.customer, row.customer.company_name.as_deref())
            && equals(&self.charge_type, row.line.charge_type.as_deref())
            && self.invoice.as_ref().is_none_or(|wanted| {
                row.invoice.header.invoice_id.as_ref().is_some_and(|id| id.to_string() == *wanted)
            })
            && self.from.is_none_or(|from| date.is_some_and(|date| date >= from))
            && self.to.is_none_or(|to| date.is_some_and(|date| date <= to))
            && matches_text(needle, row)
    }
}

/// What the text search looks at in a row, lowercased: customer,
/// description, subscription name and id, kept apart so a match cannot span
/// two fields.
fn search_text(row: &LineRow<'_>) -> String {
    let id = row.subscription.subscription_id.as_ref().map(ToString::to_string);
    [
        row.customer.company_name.as_deref(),
        row.line.description.as_deref(),
        row.subscription.subscription_name.as_deref(),
        id.as_deref(),
    ]
    .iter()
    .flatten()
    .map(|field| field.to_lowercase())
    .collect::<Vec<_>>()
    .join("\u{1f}")
}

fn matches_text(needle: &str, row: &LineRow<'_>) -> bool {
    needle.is_empty() || search_text(row).contains(needle)
}

/// The rows that pass `filter`, in document order.
pub fn filtered<'a>(document: &'a InvoiceDocument, filter: &LineFilter) -> Vec<LineRow<'a>> {
    let needle = filter.needle();
    rows(document).filter(|row| filter.matches_with(row, &needle)).collect()
}

/// A document's rows with their search text folded once, so that searching
/// a hundred thousand lines as the user types compares prepared text only.
pub struct LineIndex<'a> {
    rows: Vec<LineRow<'a>>,
    folded: Vec<String>,
}

impl<'a> LineIndex<'a> {
    pub fn new(document: &'a InvoiceDocument) -> Self {
        let rows: Vec<_> = rows(document).collect();
        let folded = rows.iter().map(search_text).collect();
        Self { rows, folded }
    }

    pub fn rows(&self) -> &[LineRow<'a>] {
        &self.rows
    }

    /// Positions of the rows that pass `filter`, in document order.
    pub fn filter(&self, filter: &LineFilter) -> Vec<usize> {
        let needle = filter.needle();
        let text_only = LineFilter { text: String::new(), ..filter.clone() };
        (0..self.rows.len())
            .filter(|&index| {
                (needle.is_empty() || self.folded[index].contains(&needle))
                    && text_only.matches_with(&self.rows[index], "")
            })
            .collect()
    }
}

/// What the table can group its rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Customer,
    Subscription,
    ChargeType,
}

/// Rows sharing one key, with their subtotals per currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub key: String,
    /// Positions into the rows given, in their order.
    pub rows: Vec<usize>,
    pub subtotals: BTreeMap<String, Sums>,
}

/// Groups the rows at `positions` by `by`, groups ordered by key; amounts
/// in different currencies stay in separate subtotals.
pub fn group(rows: &[LineRow<'_>], positions: &[usize], by: GroupBy) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for &position in positions {
        let row = &rows[position];
        let key = match by {
            GroupBy::Customer => row.customer.company_name.clone(),
            GroupBy::Subscription => row.subscription.subscription_id.as_ref().map(|id| {
                let name = row.subscription.subscription_name.as_deref().unwrap_or_default();
                format!("{id} {name}").trim_end().to_owned()
            }),
            GroupBy::ChargeType => row.line.charge_type.clone(),
        }
        .unwrap_or_default();
        let group = groups.entry(key.clone()).or_insert_with(|| Group {
            key,
            rows: Vec::new(),
            subtotals: BTreeMap::new(),
        });
        group.rows.push(position);
        group.subtotals.entry(currency_of(row.invoice).to_owned()).or_default().add_line(row.line);
    }
    groups.into_values().collect()
}

/// A column of the lines table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    Invoice,
    InvoiceDate,
    Customer,
    Subscription,
    Description,
    ChargeType,
    StartDate,
    Quantity,
    UnitPrice,
    ExtendedPrice,
    Vat,
}

/// Sorts by one column; missing values first, ties kept in their order.
pub fn sort_rows(rows: &mut [LineRow<'_>], column: SortColumn, descending: bool) {
    use std::cmp::Ordering;
    let compare = |a: &LineRow<'_>, b: &LineRow<'_>| -> Ordering {
        match column {
            SortColumn::Invoice => a.invoice.header.invoice_id.cmp(&b.invoice.header.invoice_id),
            SortColumn::InvoiceDate => a.invoice.header.date.cmp(&b.invoice.header.date),
            SortColumn::Customer => a.customer.company_name.cmp(&b.customer.company_name),
            SortColumn::Subscription => {
                a.subscription.subscription_name.cmp(&b.subscription.subscription_name)
            }
            SortColumn::Description => a.line.description.cmp(&b.line.description),
            SortColumn::ChargeType => a.line.charge_type.cmp(&b.line.charge_type),
            SortColumn::StartDate => a.line.start_date.cmp(&b.line.start_date),
            SortColumn::Quantity => a.line.quantity.cmp(&b.line.quantity),
            SortColumn::UnitPrice => a.line.unit_price.cmp(&b.line.unit_price),
            SortColumn::ExtendedPrice => a.line.extended_price.cmp(&b.line.extended_price),
            SortColumn::Vat => a.line.vat.cmp(&b.line.vat),
        }
    };
    if descending {
        rows.sort_by(|a, b| compare(b, a));
    } else {
        rows.sort_by(compare);
    }
}
