//! The margin and the consolidated comparison as the page shows them.

use billing::{
    changes::{BeforeAfter, Change, Comparison, Figures},
    matching::{ConsolidatedComparison, Margin, MarginSummary, OneSidedLine},
};
use rust_decimal::Decimal;
use worker_protocol::{
    AmountChange, ChangeOrder, ChangesView, ChargeChange, ComparisonView, Listed, MarginRow, MarginView,
    OneSidedView,
};

/// At most this many lines of a list travel to the page; the count says
/// the rest.
pub const LISTED: usize = 50;

fn margin_row(customer: &str, subscription: Option<&str>, currency: &str, margin: &Margin) -> MarginRow {
    MarginRow {
        customer: customer.to_owned(),
        subscription: subscription.map(str::to_owned),
        currency: currency.to_owned(),
        cost: margin.cost.to_string(),
        sale: margin.sale.to_string(),
        margin: margin.margin().to_string(),
        percent: margin.percent().map(|percent| format!("{} %", percent.round_dp(1))),
    }
}

fn one_sided(line: &OneSidedLine) -> OneSidedView {
    OneSidedView {
        invoice: line.invoice.clone(),
        customer: line.customer.clone(),
        description: line.description.clone(),
        amount: line.amount.map(|amount| amount.to_string()),
        currency: line.currency.clone(),
    }
}

pub fn margin_view(summary: &MarginSummary) -> MarginView {
    MarginView {
        matched: summary.matched,
        currency_mismatches: summary.currency_mismatches,
        per_customer: summary
            .per_customer
            .iter()
            .map(|((customer, currency), margin)| margin_row(customer, None, currency, margin))
            .collect(),
        per_subscription: summary
            .per_subscription
            .iter()
            .map(|((customer, subscription, currency), margin)| {
                margin_row(customer, Some(subscription), currency, margin)
            })
            .collect(),
        purchase_only: Listed::first(summary.purchase_only.iter().map(one_sided), LISTED),
        sale_only: Listed::first(summary.sale_only.iter().map(one_sided), LISTED),
    }
}

pub fn comparison_view(comparison: &ConsolidatedComparison) -> ComparisonView {
    let ConsolidatedComparison { agreeing, missing, duplicated, differing, unknown } = comparison;
    ComparisonView {
        agreeing: *agreeing,
        missing: Listed::first(missing.iter().cloned(), LISTED),
        duplicated: Listed::first(
            duplicated.iter().map(|(hash, count)| format!("{hash}: listed {count} times")),
            LISTED,
        ),
        differing: Listed::first(
            differing.iter().map(|(hash, exact, vendor)| {
                format!(
                    "{hash}: exact cost {} and sale {}; the vendor says cost {} and sale {}",
                    exact.cost, exact.sale, vendor.cost, vendor.sale
                )
            }),
            LISTED,
        ),
        unknown: *unknown,
    }
}

fn amount_change(customer: &str, currency: &str, amounts: &BeforeAfter) -> AmountChange {
    AmountChange {
        customer: customer.to_owned(),
        currency: currency.to_owned(),
        before: amounts.before.to_string(),
        after: amounts.after.to_string(),
        difference: amounts.difference().to_string(),
    }
}

/// The comparison as the page shows it: totals per currency, the customers
/// whose total changed and the first changed charges, each the largest
/// difference first.
pub fn changes_view(comparison: &Comparison, order: ChangeOrder) -> ChangesView {
    let mut per_customer: Vec<_> =
        comparison.per_customer.iter().filter(|(_, amounts)| amounts.before != amounts.after).collect();
    per_customer.sort_by_key(|(_, amounts)| std::cmp::Reverse(amounts.difference().abs()));
    match order {
        ChangeOrder::Difference => {}
        ChangeOrder::Customer => per_customer.sort_by(|(one, _), (other, _)| one.0.cmp(&other.0)),
        ChangeOrder::Before => per_customer.sort_by_key(|(_, amounts)| std::cmp::Reverse(amounts.before)),
        ChangeOrder::After => per_customer.sort_by_key(|(_, amounts)| std::cmp::Reverse(amounts.after)),
    }
    let quantity = |figures: &Option<Figures>| {
        figures.as_ref().map(|figures| figures.quantity.to_string()).unwrap_or_default()
    };
    let amount = |figures: &Option<Figures>| {
        figures.as_ref().map(|figures| figures.amount.to_string()).unwrap_or_default()
    };
    // Each change keeps its number in the order of difference, which is how
    // its lines are asked for.
    let mut numbered: Vec<(usize, &Change)> = comparison.changes_by_difference().enumerate().collect();
    let amount_of =
        |figures: &Option<Figures>| figures.as_ref().map_or(Decimal::ZERO, |figures| figures.amount);
    match order {
        ChangeOrder::Difference => {}
        ChangeOrder::Customer => {
            numbered.sort_by(|(_, one), (_, other)| one.key.customer.cmp(&other.key.customer))
        }
        ChangeOrder::Before => {
            numbered.sort_by_key(|(_, change)| std::cmp::Reverse(amount_of(&change.before)))
        }
        ChangeOrder::After => numbered.sort_by_key(|(_, change)| std::cmp::Reverse(amount_of(&change.after))),
    }
    let changes = numbered.into_iter().map(|(index, change)| ChargeChange {
        index: index as u32,
        customer: change.key.customer.clone(),
        subscription: change.key.subscription.clone(),
        charge_type: change.key.charge_type.clone(),
        sku: change.key.sku.clone().unwrap_or_default(),
        currency: change.key.currency.clone(),
        kinds: change.kinds.iter().copied().collect(),
        before_quantity: quantity(&change.before),
        after_quantity: quantity(&change.after),
        before_amount: amount(&change.before),
        after_amount: amount(&change.after),
        difference: change.difference().to_string(),
    });
    ChangesView {
        per_currency: comparison
            .per_currency
            .iter()
            .map(|(currency, amounts)| amount_change("", currency, amounts))
            .collect(),
        per_customer: per_customer
            .into_iter()
            .map(|((customer, currency), amounts)| amount_change(customer, currency, amounts))
            .collect(),
        changes: Listed::first(changes, LISTED),
        unchanged: comparison.unchanged,
        joined: comparison.joined,
    }
}
