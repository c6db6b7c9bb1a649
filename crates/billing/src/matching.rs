//! The reseller's margin, exactly: purchase lines joined with customer
//! lines on `InvoiceRowHash`, which the vendor puts on both.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rust_decimal::Decimal;

use crate::{
    lines::{LineRow, rows},
    model::InvoiceDocument,
    totals::currency_of,
};

/// Cost and sale of some set of lines, in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Margin {
    pub cost: Decimal,
    pub sale: Decimal,
}

impl Margin {
    pub fn margin(&self) -> Decimal {
        self.sale - self.cost
    }

    /// Margin as a percentage of the sale, when there was a sale.
    pub fn percent(&self) -> Option<Decimal> {
        (!self.sale.is_zero()).then(|| (self.margin() * Decimal::ONE_HUNDRED / self.sale).round_dp(2))
    }
}

/// One purchase line and the customer line with the same hash.
#[derive(Clone, Copy, Debug)]
pub struct MatchedLine<'a> {
    pub purchase: LineRow<'a>,
    pub sale: LineRow<'a>,
    pub margin: Margin,
}

/// The join of a purchase document with a customer document.
#[derive(Debug, Default)]
pub struct MatchReport<'a> {
    pub matched: Vec<MatchedLine<'a>>,
    /// Purchase lines with no customer line (or no hash).
    pub purchase_only: Vec<LineRow<'a>>,
    /// Customer lines with no purchase line (or no hash).
    pub sale_only: Vec<LineRow<'a>>,
    /// Pairs whose hashes agree but whose invoices are in different
    /// currencies: never netted against each other.
    pub currency_mismatches: Vec<(LineRow<'a>, LineRow<'a>)>,
    /// Keyed by (customer, currency).
    pub per_customer: BTreeMap<(String, String), Margin>,
    /// Keyed by (customer, subscription id, currency).
    pub per_subscription: BTreeMap<(String, String, String), Margin>,
}

/// Joins on `InvoiceRowHash`. A hash repeated on one side pairs in document
/// order; the extra lines are reported as unmatched rather than guessed.
pub fn match_documents<'a>(purchases: &'a InvoiceDocument, sales: &'a InvoiceDocument) -> MatchReport<'a> {
    let mut report = MatchReport::default();
    // Each sale keeps its document position so leftovers list in order.
    let mut sales_by_hash: HashMap<&str, VecDeque<(usize, LineRow<'a>)>> = HashMap::new();
    for (position, row) in rows(sales).enumerate() {
        match row.line.invoice_row_hash.as_deref() {
            Some(hash) => sales_by_hash.entry(hash).or_default().push_back((position, row)),
            None => report.sale_only.push(row),
        }
    }
    for purchase in rows(purchases) {
        let sale = purchase
            .line
            .invoice_row_hash
            .as_deref()
            .and_then(|hash| sales_by_hash.get_mut(hash))
            .and_then(VecDeque::pop_front);
        let Some((_, sale)) = sale else {
            report.purchase_only.push(purchase);
            continue;
        };
        let currency = currency_of(sale.invoice);
        if currency_of(purchase.invoice) != currency {
            report.currency_mismatches.push((purchase, sale));
            continue;
        }
        let margin = Margin {
            cost: purchase.line.extended_price.unwrap_or_default(),
            sale: sale.line.extended_price.unwrap_or_default(),
        };
        let customer = sale.customer.company_name.clone().unwrap_or_default();
        let subscription =
            sale.subscription.subscription_id.as_ref().map(ToString::to_string).unwrap_or_default();
        add(report.per_customer.entry((customer.clone(), currency.to_owned())).or_default(), margin);
        add(
            report.per_subscription.entry((customer, subscription, currency.to_owned())).or_default(),
            margin,
        );
        report.matched.push(MatchedLine { purchase, sale, margin });
    }
    let mut left_over: Vec<(usize, LineRow<'a>)> = sales_by_hash.into_values().flatten().collect();
    left_over.sort_by_key(|(position, _)| *position);
    report.sale_only.extend(left_over.into_iter().map(|(_, row)| row));
    report
}

fn add(total: &mut Margin, line: Margin) {
    total.cost += line.cost;
    total.sale += line.sale;
}
