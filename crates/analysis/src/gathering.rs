//! What the overview of an invoice document needs, gathered invoice by
//! invoice as each is read, so that little is left after the last byte.

use std::collections::{BTreeMap, BTreeSet};

use billing::{
    InvoiceDocument,
    lines::{LineIndex, LineTable},
    model::Invoice,
    publisher::Publishers,
    rows::invoice_rows,
    scalars::Id,
    text::Text,
    totals::{Discrepancy, Sums, check_invoice, currency_of, invoice_sums},
};
use chrono::{Datelike, NaiveDate};
use std::sync::Arc;
use worker_protocol::{Choices, CurrencyTotal, InvoiceRow, InvoicesOverview, PublishersView, SummaryView};

use crate::{
    products::Products,
    views::{announcement, date, text},
};

/// How many invoices, customers and lines, and the totals per currency.
pub fn summary(document: &InvoiceDocument) -> SummaryView {
    Gathering::of(document).summary()
}

#[derive(Default)]
pub(crate) struct Gathering {
    publisher_rules: Publishers,
    index: LineIndex,
    discrepancies: Vec<Discrepancy>,
    invoices: Vec<InvoiceRow>,
    /// A customer is its number, or its name when it has none.
    customers: BTreeSet<(Option<Id>, Option<Text>)>,
    lines: usize,
    per_currency: BTreeMap<String, (usize, Sums)>,
    lines_per_currency: BTreeMap<String, usize>,
    customer_names: BTreeSet<String>,
    products: Products,
    invoice_ids: BTreeSet<Id>,
    charge_types: BTreeSet<String>,
    service_months: BTreeSet<NaiveDate>,
}

/// Adds `value` to `set` unless it is there, copying it only then: a large
/// document repeats each value on thousands of lines.
fn note<T: Ord + ?Sized + ToOwned>(set: &mut BTreeSet<T::Owned>, value: &T)
where
    T::Owned: Ord + std::borrow::Borrow<T>,
{
    if !set.contains(value) {
        set.insert(value.to_owned());
    }
}

impl Gathering {
    /// Gathers with publishers told by `publishers`.
    pub fn new(publishers: Publishers) -> Self {
        Self { publisher_rules: publishers, ..Self::default() }
    }

    /// Everything `document` gives, at once.
    pub fn of(document: &InvoiceDocument) -> Self {
        let mut gathering = Self::default();
        document.invoices.iter().for_each(|invoice| gathering.add(invoice));
        gathering
    }

    /// How many invoices it has.
    pub fn invoices(&self) -> usize {
        self.index.invoices()
    }

    /// Adds the document's next invoice.
    pub fn add(&mut self, invoice: &Invoice) {
        let index = self.index.invoices();
        self.index.add(invoice);
        let found = check_invoice(index, invoice);
        let sums = invoice_sums(invoice);
        let currency = currency_of(invoice);
        self.invoices.push(InvoiceRow {
            number: invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            date: date(invoice.header.date),
            due: date(invoice.header.expiration_date),
            sender: text(&invoice.sender.company_name),
            receiver: text(&invoice.receiver.company_name),
            currency: currency.to_owned(),
            excluding_vat: sums.excluding_vat.to_string(),
            vat: sums.vat.to_string(),
            including_vat: sums.including_vat().to_string(),
            discrepancies: found.len(),
        });
        self.discrepancies.extend(found);
        let (invoices, in_currency) = self.per_currency.entry(currency.to_owned()).or_default();
        *invoices += 1;
        in_currency.excluding_vat += sums.excluding_vat;
        in_currency.vat += sums.vat;
        in_currency.lines += sums.lines;
        if sums.lines == 0 {
            return;
        }
        self.lines += sums.lines;
        *self.lines_per_currency.entry(currency.to_owned()).or_default() += sums.lines;
        if let Some(id) = &invoice.header.invoice_id {
            note(&mut self.invoice_ids, id);
        }
        for customer in invoice.customers.iter().filter(|customer| {
            customer.subscriptions.iter().any(|subscription| !subscription.price_lines.is_empty())
        }) {
            let key = match &customer.customer_number {
                Some(number) => (Some(number.clone()), None),
                None => (None, customer.company_name.clone()),
            };
            self.customers.insert(key);
            if let Some(name) = &customer.company_name {
                note(&mut self.customer_names, name.as_str());
            }
        }
        for row in invoice_rows(invoice) {
            self.products.add(&row, &self.publisher_rules);
            if let Some(charge_type) = &row.line.charge_type {
                note(&mut self.charge_types, charge_type.as_str());
            }
            if let Some(month) = row.line.start_date.and_then(|date| date.with_day(1)) {
                self.service_months.insert(month);
            }
        }
    }

    pub fn summary(&self) -> SummaryView {
        SummaryView {
            invoices: self.invoices(),
            customers: self.customers.len(),
            lines: self.lines,
            per_currency: self
                .per_currency
                .iter()
                .map(|(currency, (invoices, sums))| CurrencyTotal {
                    currency: currency.clone(),
                    invoices: *invoices,
                    excluding_vat: sums.excluding_vat.to_string(),
                    vat: sums.vat.to_string(),
                    including_vat: sums.including_vat().to_string(),
                })
                .collect(),
        }
    }

    /// The rest of `document`, whose first invoices this has, and then its
    /// line table, discrepancies and overview.
    pub fn finish(
        mut self,
        document: Arc<InvoiceDocument>,
    ) -> (LineTable, Vec<Discrepancy>, InvoicesOverview) {
        if self.invoices() > document.invoices.len() {
            self = Self::new(self.publisher_rules);
        }
        for invoice in document.invoices.iter().skip(self.invoices()) {
            self.add(invoice);
        }
        let summary = self.summary();
        let main = self
            .lines_per_currency
            .iter()
            .max_by_key(|(_, lines)| **lines)
            .map(|(currency, _)| currency.clone());
        let mut currencies: Vec<String> = self.lines_per_currency.into_keys().collect();
        let PublishersView { products, publishers } = self.products.view();
        // The charts start with the currency most lines are in.
        currencies.sort_by_key(|currency| Some(currency) != main.as_ref());
        let overview = InvoicesOverview {
            announcement: announcement(summary.invoices, summary.lines),
            summary,
            invoices: self.invoices,
            choices: Choices {
                customers: self.customer_names.into_iter().collect(),
                publishers,
                invoices: self.invoice_ids.iter().map(ToString::to_string).collect(),
                charge_types: self.charge_types.into_iter().collect(),
                service_months: self.service_months.into_iter().collect(),
            },
            currencies,
            products,
        };
        let mut table = LineTable::indexed(document, self.index);
        table.set_publishers(self.publisher_rules);
        (table, self.discrepancies, overview)
    }
}
