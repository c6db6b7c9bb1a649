//! The figures behind the app's charts: amounts excluding VAT of a set of
//! rows, in one currency, by invoice month, by customer (the top ones plus
//! the rest), by charge type and by publisher; and the margin per customer.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::{lines::LineTable, matching::MarginSummary, totals::currency_of};

/// One bar: what it stands for and its amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub amount: Decimal,
}

/// The currency with the most rows among `indexes`: the charts show one
/// currency at a time and start with it.
pub fn main_currency(table: &LineTable, indexes: &[usize]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &index in indexes {
        *counts.entry(currency_of(table.row(index).invoice)).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, count)| *count).map(|(currency, _)| currency.to_owned())
}

/// Amounts of the rows in `currency` summed per key; keys borrow from the
/// rows, so only the distinct ones are ever made into labels.
fn sums_by<'a, K: Ord>(
    table: &'a LineTable,
    indexes: &[usize],
    currency: &str,
    key: impl Fn(&crate::rows::LineRow<'a>) -> Option<K>,
) -> BTreeMap<K, Decimal> {
    let mut sums = BTreeMap::new();
    for &index in indexes {
        let row = table.row(index);
        if currency_of(row.invoice) != currency {
            continue;
        }
        if let Some(key) = key(&row) {
            *sums.entry(key).or_default() += row.line.extended_price.unwrap_or_default();
        }
    }
    sums
}

fn labelled<K: ToString>(sums: BTreeMap<K, Decimal>) -> BTreeMap<String, Decimal> {
    sums.into_iter().map(|(key, amount)| (key.to_string(), amount)).collect()
}

/// Per month of the invoice date (`2026-03`), in date order.
pub fn by_invoice_month(table: &LineTable, indexes: &[usize], currency: &str) -> Vec<Bar> {
    sums_by(table, indexes, currency, |row| row.invoice.header.date.map(|date| (date.year(), date.month())))
        .into_iter()
        .map(|((year, month), amount)| Bar { label: format!("{year:04}-{month:02}"), amount })
        .collect()
}

/// The `top` customers by amount, then one bar for all the others.
pub fn top_customers(table: &LineTable, indexes: &[usize], currency: &str, top: usize) -> Vec<Bar> {
    top_and_rest(labelled(sums_by(table, indexes, currency, |row| row.customer.company_name.as_deref())), top)
}

/// The `top` customers by margin (sale − cost) in `currency`, then one bar
/// for all the others.
pub fn top_margins(summary: &MarginSummary, currency: &str, top: usize) -> Vec<Bar> {
    let margins = summary
        .per_customer
        .iter()
        .filter(|((_, in_currency), _)| in_currency == currency)
        .map(|((customer, _), margin)| (customer.clone(), margin.margin()))
        .collect();
    top_and_rest(margins, top)
}

fn top_and_rest(sums: BTreeMap<String, Decimal>, top: usize) -> Vec<Bar> {
    let mut bars: Vec<Bar> = sums.into_iter().map(|(label, amount)| Bar { label, amount }).collect();
    bars.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.label.cmp(&b.label)));
    if bars.len() > top {
        let rest: Decimal = bars.drain(top..).map(|bar| bar.amount).sum();
        bars.push(Bar { label: REST.to_owned(), amount: rest });
    }
    bars
}

/// The label of the bar that gathers every customer outside the top.
pub const REST: &str = "All other customers";

/// Per charge type, largest first.
pub fn by_charge_type(table: &LineTable, indexes: &[usize], currency: &str) -> Vec<Bar> {
    largest_first(labelled(sums_by(table, indexes, currency, |row| row.line.charge_type.as_deref())))
}

/// Per publisher, largest first.
pub fn by_publisher(table: &LineTable, indexes: &[usize], currency: &str) -> Vec<Bar> {
    let publishers = table.publishers();
    largest_first(labelled(sums_by(table, indexes, currency, |row| {
        publishers.of(row.subscription, row.line)
    })))
}

fn largest_first(sums: BTreeMap<String, Decimal>) -> Vec<Bar> {
    let mut bars: Vec<Bar> = sums.into_iter().map(|(label, amount)| Bar { label, amount }).collect();
    bars.sort_by_key(|bar| std::cmp::Reverse(bar.amount));
    bars
}

/// The first and last day of a `2026-03` month label.
pub fn month_window(label: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (year, month) = label.split_once('-')?;
    let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
    let end = start.checked_add_months(chrono::Months::new(1))?.pred_opt()?;
    Some((start, end))
}
