//! What changed between two windows of the same documents (this month's
//! invoice run against last month's): each charge matched on customer,
//! subscription, charge type and SKU, in one currency, never netted across
//! currencies.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    matching::MarginSummary,
    model::InvoiceDocument,
    rows::{LineRow, rows},
    text::Text,
    totals::currency_of,
};

/// What a charge is matched on in the two windows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChargeKey {
    /// The customer's company name, or its number when it has no name.
    pub customer: String,
    /// The subscription's id, or its name when it has no id.
    pub subscription: String,
    pub charge_type: String,
    pub sku: Option<String>,
    pub currency: String,
}

/// A charge's lines in one window, summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures {
    pub lines: usize,
    pub quantity: Decimal,
    /// The unit price every line has; `None` when they differ or none has one.
    pub unit_price: Option<Decimal>,
    pub amount: Decimal,
    /// Sale less cost of the lines the join matched, when the window's
    /// other side is joined and any line was.
    pub margin: Option<Decimal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChangeKind {
    New,
    Gone,
    QuantityChanged,
    UnitPriceChanged,
    AmountChanged,
    /// Both windows joined with their other side, and the margin moved.
    MarginChanged,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Gone => "gone",
            Self::QuantityChanged => "quantity changed",
            Self::UnitPriceChanged => "unit price changed",
            Self::AmountChanged => "amount changed",
            Self::MarginChanged => "margin changed",
        }
    }
}

/// A charge that is new, gone, or different between the windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: ChargeKey,
    pub before: Option<Figures>,
    pub after: Option<Figures>,
    pub kinds: BTreeSet<ChangeKind>,
}

impl Change {
    /// `after`'s amount less `before`'s, a missing side counting as zero.
    pub fn difference(&self) -> Decimal {
        let amount =
            |figures: &Option<Figures>| figures.as_ref().map_or(Decimal::ZERO, |figures| figures.amount);
        amount(&self.after) - amount(&self.before)
    }
}

/// One window's and the other's amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BeforeAfter {
    pub before: Decimal,
    pub after: Decimal,
}

impl BeforeAfter {
    pub fn difference(&self) -> Decimal {
        self.after - self.before
    }
}

/// The comparison of two windows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// The charges that changed, by key.
    pub changes: Vec<Change>,
    /// Per customer and currency, every charge of the windows.
    pub per_customer: BTreeMap<(String, String), BeforeAfter>,
    /// Per currency, every charge of the windows.
    pub per_currency: BTreeMap<String, BeforeAfter>,
    /// Charges the same in both windows.
    pub unchanged: usize,
    /// Whether both windows were joined with their other side, so margins
    /// were compared.
    pub joined: bool,
}

/// A field's text, unless it is empty.
fn text(value: &Option<Text>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|text| !text.is_empty())
}

impl ChargeKey {
    /// The key of the charge `row` is a line of.
    pub fn of(row: &LineRow<'_>) -> Self {
        key_of(row)
    }
}

impl Comparison {
    /// The changes, the largest difference (either way) first.
    pub fn changes_by_difference(&self) -> impl Iterator<Item = &Change> {
        let mut changes: Vec<&Change> = self.changes.iter().collect();
        changes.sort_by_key(|change| std::cmp::Reverse(change.difference().abs()));
        changes.into_iter()
    }
}

fn key_of(row: &LineRow<'_>) -> ChargeKey {
    let customer = text(&row.customer.company_name)
        .map(str::to_owned)
        .or_else(|| row.customer.customer_number.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    let subscription = row
        .subscription
        .subscription_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| text(&row.subscription.subscription_name).map(str::to_owned))
        .unwrap_or_default();
    ChargeKey {
        customer,
        subscription,
        charge_type: text(&row.line.charge_type).unwrap_or_default().to_owned(),
        sku: text(&row.line.sku).map(str::to_owned),
        currency: currency_of(row.invoice).to_owned(),
    }
}

/// Each charge of `document`, its lines summed, with the margin of the
/// lines `margins` matched.
fn charges(document: &InvoiceDocument, margins: Option<&MarginSummary>) -> BTreeMap<ChargeKey, Figures> {
    let mut charges: BTreeMap<ChargeKey, Figures> = BTreeMap::new();
    for row in rows(document) {
        let quantity = row.line.quantity.unwrap_or_default();
        let amount = row.line.extended_price.unwrap_or_default();
        let margin = margins.and_then(|margins| margins.of_line(row.line)).map(|margin| margin.margin());
        charges
            .entry(key_of(&row))
            .and_modify(|figures| {
                figures.lines += 1;
                figures.quantity += quantity;
                figures.amount += amount;
                if figures.unit_price != row.line.unit_price {
                    figures.unit_price = None;
                }
                if let Some(margin) = margin {
                    *figures.margin.get_or_insert(Decimal::ZERO) += margin;
                }
            })
            .or_insert(Figures { lines: 1, quantity, unit_price: row.line.unit_price, amount, margin });
    }
    charges
}

/// What changed from `before` to `after`.
pub fn compare(before: &InvoiceDocument, after: &InvoiceDocument) -> Comparison {
    compare_joined(before, None, after, None)
}

/// What changed from `before` to `after`, and with each window joined with
/// its other side (`before_margins`, `after_margins`), whose margin moved.
pub fn compare_joined(
    before: &InvoiceDocument,
    before_margins: Option<&MarginSummary>,
    after: &InvoiceDocument,
    after_margins: Option<&MarginSummary>,
) -> Comparison {
    let (before, after) = (charges(before, before_margins), charges(after, after_margins));
    let mut comparison =
        Comparison { joined: before_margins.is_some() && after_margins.is_some(), ..Comparison::default() };
    let keys: BTreeSet<&ChargeKey> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (was, is) = (before.get(key), after.get(key));
        let customer =
            comparison.per_customer.entry((key.customer.clone(), key.currency.clone())).or_default();
        let currency = comparison.per_currency.entry(key.currency.clone()).or_default();
        for totals in [customer, currency] {
            totals.before += was.map_or(Decimal::ZERO, |figures| figures.amount);
            totals.after += is.map_or(Decimal::ZERO, |figures| figures.amount);
        }
        let kinds: BTreeSet<ChangeKind> = match (was, is) {
            (None, _) => [ChangeKind::New].into(),
            (_, None) => [ChangeKind::Gone].into(),
            (Some(was), Some(is)) => [
                (was.quantity != is.quantity, ChangeKind::QuantityChanged),
                (was.unit_price != is.unit_price, ChangeKind::UnitPriceChanged),
                (was.amount != is.amount, ChangeKind::AmountChanged),
                (
                    was.margin.is_some() && is.margin.is_some() && was.margin != is.margin,
                    ChangeKind::MarginChanged,
                ),
            ]
            .into_iter()
            .filter_map(|(changed, kind)| changed.then_some(kind))
            .collect(),
        };
        if kinds.is_empty() {
            comparison.unchanged += 1;
        } else {
            comparison.changes.push(Change {
                key: key.clone(),
                before: was.cloned(),
                after: is.cloned(),
                kinds,
            });
        }
    }
    comparison
}
