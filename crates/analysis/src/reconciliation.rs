//! The margin and the consolidated comparison as the page shows them.

use billing::matching::{ConsolidatedComparison, Margin, MarginSummary, OneSidedLine};
use worker_protocol::{ComparisonView, Listed, MarginRow, MarginView, OneSidedView};

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

pub fn comparison_view(comparison: ConsolidatedComparison) -> ComparisonView {
    let ConsolidatedComparison { agreeing, missing, duplicated, differing, unknown } = comparison;
    ComparisonView {
        agreeing,
        missing: Listed::first(missing, LISTED),
        duplicated: Listed::first(
            duplicated.into_iter().map(|(hash, count)| format!("{hash}: listed {count} times")),
            LISTED,
        ),
        differing: Listed::first(
            differing.into_iter().map(|(hash, exact, vendor)| {
                format!(
                    "{hash}: exact cost {} and sale {}; the vendor says cost {} and sale {}",
                    exact.cost, exact.sale, vendor.cost, vendor.sale
                )
            }),
            LISTED,
        ),
        unknown,
    }
}
