//! The month-end worklist: each kind of line that needs a look, with how
//! many there are and the amount at stake per currency.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    matching::{ConsolidatedComparison, MarginSummary, match_documents},
    model::{InvoiceDocument, PriceLine},
    rows::{LineRow, rows},
    totals::{Discrepancy, check, currency_of},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExceptionKind {
    /// A purchase line billed to no customer: revenue lost. At stake: its cost.
    NotBilled,
    /// A customer line with no purchase behind it. At stake: its sale.
    NotPurchased,
    /// Sold below cost. At stake: the loss.
    NegativeMargin,
    /// Sold at a margin under the threshold (but not below cost). At stake:
    /// what the margin lacks to reach the threshold.
    LowMargin,
    /// Sold in another quantity than bought. At stake: the purchase's cost.
    QuantityDiffers,
    /// Bought and sold in different currencies, never netted. At stake: the cost.
    CurrencyMismatch,
    /// A line's price, or an invoice's total, that disagrees with its parts.
    /// At stake: the difference.
    TotalDisagrees,
    /// A line without `InvoiceRowHash`, which nothing can be joined on. At
    /// stake: its amount.
    NoRowHash,
    /// A joined purchase line the vendor's consolidated view leaves out
    /// (at stake: its sale), lists more than once (the sale listed too
    /// often), or prices differently (how far its cost and sale are off).
    ConsolidatedDisagrees,
}

impl ExceptionKind {
    pub const ALL: [Self; 9] = [
        Self::NotBilled,
        Self::NotPurchased,
        Self::NegativeMargin,
        Self::LowMargin,
        Self::QuantityDiffers,
        Self::CurrencyMismatch,
        Self::TotalDisagrees,
        Self::NoRowHash,
        Self::ConsolidatedDisagrees,
    ];

    /// What it is, in a few words.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotBilled => "Bought, not billed to a customer",
            Self::NotPurchased => "Billed to a customer, not bought",
            Self::NegativeMargin => "Sold below cost",
            Self::LowMargin => "Margin under the threshold",
            Self::QuantityDiffers => "Quantity sold differs from quantity bought",
            Self::CurrencyMismatch => "Bought and sold in different currencies",
            Self::TotalDisagrees => "Price or total disagrees with its lines",
            Self::NoRowHash => "No InvoiceRowHash to join on",
            Self::ConsolidatedDisagrees => "The vendor's consolidated view disagrees",
        }
    }

    /// Whether it needs both sides joined.
    pub fn needs_join(self) -> bool {
        !matches!(self, Self::TotalDisagrees | Self::NoRowHash)
    }
}

/// Which document a flagged line is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Side {
    Purchases,
    Sales,
}

/// One line that needs a look, by its place among its document's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flagged {
    pub side: Side,
    /// The line's index in document order; an invoice total flags the
    /// invoice's first line.
    pub row: usize,
    pub currency: String,
    pub at_stake: Decimal,
}

/// Every kind found, with its lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Worklist {
    pub kinds: BTreeMap<ExceptionKind, Vec<Flagged>>,
}

impl Worklist {
    /// How many lines of `kind` there are, and the amount at stake per currency.
    pub fn stake(&self, kind: ExceptionKind) -> (usize, BTreeMap<String, Decimal>) {
        let flagged = self.kinds.get(&kind).map(Vec::as_slice).unwrap_or_default();
        let mut per_currency: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in flagged {
            *per_currency.entry(line.currency.clone()).or_default() += line.at_stake;
        }
        (flagged.len(), per_currency)
    }

    fn flag(&mut self, kind: ExceptionKind, side: Side, row: usize, currency: &str, at_stake: Decimal) {
        let flagged = Flagged { side, row, currency: currency.to_owned(), at_stake };
        self.kinds.entry(kind).or_default().push(flagged);
    }
}

/// Each line's index in document order, by the line's address, so a row
/// the join hands back can be named by its place.
fn positions(document: &InvoiceDocument) -> HashMap<*const PriceLine, usize> {
    rows(document).enumerate().map(|(index, row)| (std::ptr::from_ref(row.line), index)).collect()
}

fn amount(row: &LineRow<'_>) -> Decimal {
    row.line.extended_price.unwrap_or_default()
}

/// The worklist of the documents loaded, joined when both are;
/// `low_margin_percent` is the user's threshold.
pub fn worklist(
    purchases: Option<&InvoiceDocument>,
    sales: Option<&InvoiceDocument>,
    low_margin_percent: Decimal,
) -> Worklist {
    let mut worklist = Worklist::default();
    for (side, document) in [(Side::Purchases, purchases), (Side::Sales, sales)] {
        let Some(document) = document else { continue };
        flag_document(&mut worklist, side, document);
    }
    let (Some(purchases), Some(sales)) = (purchases, sales) else { return worklist };
    let (bought, sold) = (positions(purchases), positions(sales));
    let place = |positions: &HashMap<*const PriceLine, usize>, row: &LineRow<'_>| {
        positions.get(&std::ptr::from_ref(row.line)).copied().unwrap_or_default()
    };
    let report = match_documents(purchases, sales);
    // A line without a hash is already on the list as such.
    let hashed =
        |row: &&LineRow<'_>| row.line.invoice_row_hash.as_deref().is_some_and(|hash| !hash.trim().is_empty());
    for row in report.purchase_only.iter().filter(hashed) {
        let currency = currency_of(row.invoice);
        worklist.flag(ExceptionKind::NotBilled, Side::Purchases, place(&bought, row), currency, amount(row));
    }
    for row in report.sale_only.iter().filter(hashed) {
        let currency = currency_of(row.invoice);
        worklist.flag(ExceptionKind::NotPurchased, Side::Sales, place(&sold, row), currency, amount(row));
    }
    for (purchase, _) in &report.currency_mismatches {
        let (row, currency) = (place(&bought, purchase), currency_of(purchase.invoice));
        worklist.flag(ExceptionKind::CurrencyMismatch, Side::Purchases, row, currency, amount(purchase));
    }
    for matched in &report.matched {
        let (row, currency) = (place(&sold, &matched.sale), currency_of(matched.sale.invoice));
        let margin = matched.margin.margin();
        if margin.is_sign_negative() && !margin.is_zero() {
            worklist.flag(ExceptionKind::NegativeMargin, Side::Sales, row, currency, -margin);
        } else if let Some(percent) = matched.margin.percent()
            && percent < low_margin_percent
        {
            let wanted = matched.margin.sale * low_margin_percent / Decimal::ONE_HUNDRED;
            worklist.flag(
                ExceptionKind::LowMargin,
                Side::Sales,
                row,
                currency,
                (wanted - margin).round_dp(2),
            );
        }
        if matched.purchase.line.quantity != matched.sale.line.quantity {
            let purchase = place(&bought, &matched.purchase);
            worklist.flag(
                ExceptionKind::QuantityDiffers,
                Side::Purchases,
                purchase,
                currency,
                amount(&matched.purchase),
            );
        }
    }
    worklist
}

/// Adds the lines where the vendor's consolidated view disagrees with the
/// exact join (`exact`) of `purchases` and their sales, as `comparison` found.
pub fn flag_consolidated(
    worklist: &mut Worklist,
    purchases: &InvoiceDocument,
    exact: &MarginSummary,
    comparison: &ConsolidatedComparison,
) {
    let mut at_stake: HashMap<&str, Decimal> = HashMap::new();
    for hash in &comparison.missing {
        let sale = exact.by_hash.get(hash.as_str()).map_or(Decimal::ZERO, |margin| margin.sale);
        *at_stake.entry(hash).or_default() += sale.abs();
    }
    for (hash, count) in &comparison.duplicated {
        let sale = exact.by_hash.get(hash.as_str()).map_or(Decimal::ZERO, |margin| margin.sale);
        *at_stake.entry(hash).or_default() += sale.abs() * Decimal::from(count.saturating_sub(1));
    }
    for (hash, joined, vendor) in &comparison.differing {
        *at_stake.entry(hash).or_default() +=
            (joined.sale - vendor.sale).abs() + (joined.cost - vendor.cost).abs();
    }
    for (index, row) in rows(purchases).enumerate() {
        let Some(stake) = row.line.invoice_row_hash.as_deref().and_then(|hash| at_stake.remove(hash)) else {
            continue;
        };
        let currency = currency_of(row.invoice);
        worklist.flag(ExceptionKind::ConsolidatedDisagrees, Side::Purchases, index, currency, stake);
    }
}

/// What one document says against itself: totals, and lines without a hash.
fn flag_document(worklist: &mut Worklist, side: Side, document: &InvoiceDocument) {
    // The index of each invoice's first line, to flag an invoice's total.
    let mut first_rows = Vec::with_capacity(document.invoices.len());
    let mut count = 0;
    for invoice in &document.invoices {
        first_rows.push(count);
        count += crate::rows::invoice_rows(invoice).count();
    }
    let positions = positions(document);
    for discrepancy in check(document) {
        let (invoice, row, computed, stated) = match discrepancy {
            Discrepancy::LinePrice { at, computed, stated } => {
                let invoice = &document.invoices[at.invoice];
                let line =
                    &invoice.customers[at.customer].subscriptions[at.subscription].price_lines[at.line];
                let row = positions.get(&std::ptr::from_ref(line)).copied().unwrap_or_default();
                (invoice, row, computed, stated)
            }
            Discrepancy::InvoiceTotal { invoice, computed, stated, .. } => {
                (&document.invoices[invoice], first_rows[invoice], computed, stated)
            }
        };
        let at_stake = (stated - computed).abs();
        worklist.flag(ExceptionKind::TotalDisagrees, side, row, currency_of(invoice), at_stake);
    }
    for (index, row) in rows(document).enumerate() {
        if row.line.invoice_row_hash.as_deref().is_none_or(|hash| hash.trim().is_empty()) {
            worklist.flag(ExceptionKind::NoRowHash, side, index, currency_of(row.invoice), amount(&row));
        }
    }
}
