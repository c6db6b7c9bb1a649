//! Price lines flattened with their invoice, customer and subscription: the
//! rows of the app's table and of the CSV export.

use chrono::NaiveDate;

use crate::model::{Customer, Invoice, InvoiceDocument, PriceLine, Subscription};

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

    /// The search text as rows are compared with it.
    fn needle(&self) -> String {
        self.text.trim().to_lowercase()
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

fn matches_text(needle: &str, row: &LineRow<'_>) -> bool {
    if needle.is_empty() {
        return true;
    }
    let found = |haystack: Option<&str>| haystack.is_some_and(|text| text.to_lowercase().contains(needle));
    found(row.customer.company_name.as_deref())
        || found(row.line.description.as_deref())
        || found(row.subscription.subscription_name.as_deref())
        || found(row.subscription.subscription_id.as_ref().map(ToString::to_string).as_deref())
}

/// The rows that pass `filter`, in document order.
pub fn filtered<'a>(document: &'a InvoiceDocument, filter: &LineFilter) -> Vec<LineRow<'a>> {
    let needle = filter.needle();
    rows(document).filter(|row| filter.matches_with(row, &needle)).collect()
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
