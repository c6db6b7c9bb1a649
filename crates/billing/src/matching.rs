//! The reseller's margin, exactly: purchase lines joined with customer
//! lines on `InvoiceRowHash`, which the vendor puts on both.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rust_decimal::Decimal;

use crate::{
    model::{InvoiceDocument, PriceLine},
    rows::{LineRow, rows},
    text::Text,
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
        let customer = sale.customer.company_name.as_deref().unwrap_or_default().to_owned();
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

/// A line found on one side of the join only, as the app lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneSidedLine {
    pub invoice: String,
    pub customer: String,
    pub description: String,
    pub amount: Option<Decimal>,
    pub currency: String,
}

impl From<&LineRow<'_>> for OneSidedLine {
    fn from(row: &LineRow<'_>) -> Self {
        Self {
            invoice: row.invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            customer: row.customer.company_name.as_deref().unwrap_or_default().to_owned(),
            description: row.line.description.as_deref().unwrap_or_default().to_owned(),
            amount: row.line.extended_price,
            currency: currency_of(row.invoice).to_owned(),
        }
    }
}

/// What the app keeps of a join: owned, so it outlives the two documents'
/// borrow, and computed once for the panel, the table and the chart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MarginSummary {
    pub matched: usize,
    pub currency_mismatches: usize,
    pub per_customer: BTreeMap<(String, String), Margin>,
    pub per_subscription: BTreeMap<(String, String, String), Margin>,
    /// Each matched line's cost and sale by its hash; a hash matched more
    /// than once is left out, since it cannot name one line.
    pub by_hash: HashMap<Text, Margin>,
    pub purchase_only: Vec<OneSidedLine>,
    pub sale_only: Vec<OneSidedLine>,
}

impl MarginSummary {
    /// A line's cost and sale, by its InvoiceRowHash, when it was matched.
    pub fn of_line(&self, line: &PriceLine) -> Option<Margin> {
        self.by_hash.get(line.invoice_row_hash.as_deref()?).copied()
    }
}

impl From<MatchReport<'_>> for MarginSummary {
    fn from(report: MatchReport<'_>) -> Self {
        let mut by_hash: HashMap<Text, Option<Margin>> = HashMap::new();
        for line in &report.matched {
            if let Some(hash) = &line.purchase.line.invoice_row_hash {
                by_hash.entry(hash.clone()).and_modify(|seen| *seen = None).or_insert(Some(line.margin));
            }
        }
        Self {
            matched: report.matched.len(),
            currency_mismatches: report.currency_mismatches.len(),
            by_hash: by_hash.into_iter().filter_map(|(hash, margin)| Some((hash, margin?))).collect(),
            purchase_only: report.purchase_only.iter().map(OneSidedLine::from).collect(),
            sale_only: report.sale_only.iter().map(OneSidedLine::from).collect(),
            per_customer: report.per_customer,
            per_subscription: report.per_subscription,
        }
    }
}

/// Where the vendor's best-effort `consolidatedinvoices` disagrees with the
/// exact join.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConsolidatedComparison {
    /// Consolidated lines whose cost and sale equal the join's.
    pub agreeing: usize,
    /// Hashes of joined lines the consolidated view leaves out.
    pub missing: Vec<String>,
    /// Hashes the consolidated view lists more than once, with the count.
    pub duplicated: Vec<(String, usize)>,
    /// Hashes whose cost or sale differ: the join's, then the vendor's.
    pub differing: Vec<(String, Margin, Margin)>,
    /// Consolidated lines with no hash, or a hash the join did not match.
    pub unknown: usize,
}

/// Compares each consolidated line (cost from its purchase side, sale from
/// `SalesPrice`/`SalesDiscount`, rounded to cents as the vendor writes
/// amounts) with the exact join's line of the same hash.
pub fn compare_consolidated(exact: &MarginSummary, consolidated: &InvoiceDocument) -> ConsolidatedComparison {
    let mut comparison = ConsolidatedComparison::default();
    let mut seen: BTreeMap<&str, (usize, Margin)> = BTreeMap::new();
    for row in rows(consolidated) {
        let Some(hash) = row.line.invoice_row_hash.as_deref() else {
            comparison.unknown += 1;
            continue;
        };
        let vendor = Margin {
            cost: row.line.extended_price.unwrap_or_default(),
            sale: crate::totals::sales_extended_price(row.line)
                .map(|sale| {
                    sale.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                })
                .unwrap_or_default(),
        };
        seen.entry(hash).and_modify(|(count, _)| *count += 1).or_insert((1, vendor));
    }
    for (hash, (count, vendor)) in &seen {
        let Some(exact) = exact.by_hash.get(*hash) else {
            comparison.unknown += count;
            continue;
        };
        if *count > 1 {
            comparison.duplicated.push(((*hash).to_owned(), *count));
        }
        if exact == vendor {
            comparison.agreeing += 1;
        } else {
            comparison.differing.push(((*hash).to_owned(), *exact, *vendor));
        }
    }
    let mut missing: Vec<String> = exact
        .by_hash
        .keys()
        .filter(|hash| !seen.contains_key(hash.as_str()))
        .map(|hash| hash.to_string())
        .collect();
    missing.sort();
    comparison.missing = missing;
    comparison
}
