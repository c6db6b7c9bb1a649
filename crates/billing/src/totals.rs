//! Totals computed from the price lines, and every place where the vendor's
//! stated amounts disagree with them. Amounts in different currencies are
//! never added together.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{
    model::{Invoice, InvoiceDocument, PriceLine},
    rows::{invoice_rows, rows},
};

/// Sums of price lines in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub excluding_vat: Decimal,
    pub vat: Decimal,
    pub lines: usize,
}

impl Sums {
    pub fn including_vat(&self) -> Decimal {
        self.excluding_vat + self.vat
    }

    pub(crate) fn add_line(&mut self, line: &PriceLine) {
        self.excluding_vat += line.extended_price.unwrap_or_default();
        self.vat += line.vat.unwrap_or_default();
        self.lines += 1;
    }
}

/// The currency an invoice is in, or `"?"` when the vendor left it out, so
/// such amounts are still never mixed with a known currency.
pub fn currency_of(invoice: &Invoice) -> &str {
    invoice.header.currency.as_deref().unwrap_or("?")
}

/// One invoice's sums from its lines.
pub fn invoice_sums(invoice: &Invoice) -> Sums {
    let mut sums = Sums::default();
    invoice_rows(invoice).for_each(|row| sums.add_line(row.line));
    sums
}

/// Sums per currency over the whole document, with the number of invoices.
pub fn totals_by_currency(document: &InvoiceDocument) -> BTreeMap<String, (usize, Sums)> {
    let mut totals: BTreeMap<String, (usize, Sums)> = BTreeMap::new();
    for invoice in &document.invoices {
        let (invoices, sums) = totals.entry(currency_of(invoice).to_owned()).or_default();
        *invoices += 1;
        invoice_rows(invoice).for_each(|row| sums.add_line(row.line));
    }
    totals
}

/// Sums per customer (by company name) and currency.
pub fn totals_by_customer(document: &InvoiceDocument) -> BTreeMap<(String, String), Sums> {
    let mut totals: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for row in rows(document) {
        let name = row.customer.company_name.as_deref().unwrap_or_default().to_owned();
        totals.entry((name, currency_of(row.invoice).to_owned())).or_default().add_line(row.line);
    }
    totals
}

/// Where a price line sits in its document, by index at each level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinePosition {
    pub invoice: usize,
    pub customer: usize,
    pub subscription: usize,
    pub line: usize,
}

/// Which of an invoice's stated totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotalField {
    ExcludingVat,
    Vat,
    IncludingVat,
}

/// A stated amount that its own lines contradict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// `ExtendedPrice ≠ (Quantity × UnitPrice − Discount) × Duration`.
    LinePrice { at: LinePosition, computed: Decimal, stated: Decimal },
    /// An invoice's `Totals` field differs from the sum of its lines.
    InvoiceTotal { invoice: usize, field: TotalField, computed: Decimal, stated: Decimal },
}

/// `(Quantity × UnitPrice − Discount) × Duration`, when the line states its
/// quantity and unit price; a missing discount is 0 and a missing duration 1.
/// A `consolidatedinvoices` line's `ExtendedPrice` is its purchase side, so
/// `PurchasePrice`/`PurchaseDiscount` stand in for the price pair there.
pub fn expected_extended_price(line: &PriceLine) -> Option<Decimal> {
    priced(line, line.unit_price.or(line.purchase_price)?, line.discount.or(line.purchase_discount))
}

/// What a `consolidatedinvoices` line sells for:
/// `(Quantity × SalesPrice − SalesDiscount) × Duration`.
pub fn sales_extended_price(line: &PriceLine) -> Option<Decimal> {
    priced(line, line.sales_price?, line.sales_discount)
}

fn priced(line: &PriceLine, unit_price: Decimal, discount: Option<Decimal>) -> Option<Decimal> {
    let gross = line.quantity?.checked_mul(unit_price)?;
    let net = gross.checked_sub(discount.unwrap_or_default())?;
    net.checked_mul(line.duration.unwrap_or(Decimal::ONE))
}

/// Every discrepancy in the document, in document order. A line's stated
/// price is compared with the computed one rounded to the stated precision
/// (the vendor writes cents), the invoice totals exactly.
pub fn check(document: &InvoiceDocument) -> Vec<Discrepancy> {
    document.invoices.iter().enumerate().flat_map(|(index, invoice)| check_invoice(index, invoice)).collect()
}

/// [`check`] of one invoice, the document's number `invoice_index`.
pub fn check_invoice(invoice_index: usize, invoice: &Invoice) -> Vec<Discrepancy> {
    let mut found = Vec::new();
    // The lines are summed in the same walk that checks them.
    let mut sums = Sums::default();
    for (customer_index, customer) in invoice.customers.iter().enumerate() {
        for (subscription_index, subscription) in customer.subscriptions.iter().enumerate() {
            for (line_index, line) in subscription.price_lines.iter().enumerate() {
                sums.add_line(line);
                if let Some((computed, stated)) = mispriced(line) {
                    let at = LinePosition {
                        invoice: invoice_index,
                        customer: customer_index,
                        subscription: subscription_index,
                        line: line_index,
                    };
                    found.push(Discrepancy::LinePrice { at, computed, stated });
                }
            }
        }
    }
    let totals = &invoice.totals;
    for (field, computed, stated) in [
        (TotalField::ExcludingVat, sums.excluding_vat, totals.total_excluding_vat),
        (TotalField::Vat, sums.vat, totals.total_vat),
        (TotalField::IncludingVat, sums.including_vat(), totals.total_including_vat),
    ] {
        if let Some(stated) = stated
            && stated != computed
        {
            found.push(Discrepancy::InvoiceTotal { invoice: invoice_index, field, computed, stated });
        }
    }
    found
}

/// The computed and stated price of a line whose stated price is not the
/// computed one rounded to the stated precision.
fn mispriced(line: &PriceLine) -> Option<(Decimal, Decimal)> {
    let (computed, stated) = (expected_extended_price(line)?, line.extended_price?);
    let rounded = computed.round_dp_with_strategy(stated.scale(), RoundingStrategy::MidpointAwayFromZero);
    (rounded != stated).then_some((computed, stated))
}
