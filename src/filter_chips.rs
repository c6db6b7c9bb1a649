//! The lines table's active filters as chips: each says what it keeps
//! and takes only its own condition off.

use billing::lines::LineFilter;
use chrono::NaiveDate;

use crate::query::month_label;

/// One condition of the filter, as a chip shows it.
pub struct FilterChip {
    pub label: String,
    /// Takes this condition, and only it, off the filter.
    pub clear: fn(&mut LineFilter),
}

/// The chips of `filter`'s conditions, in the order the controls are.
pub fn filter_chips(filter: &LineFilter) -> Vec<FilterChip> {
    let mut chips = Vec::new();
    let mut chip = |label: String, clear: fn(&mut LineFilter)| chips.push(FilterChip { label, clear });
    if !filter.text.trim().is_empty() {
        chip(format!("Search: {}", filter.text.trim()), |filter| filter.text.clear());
    }
    if let Some(customer) = &filter.customer {
        chip(format!("Customer: {customer}"), |filter| filter.customer = None);
    }
    if let Some(publisher) = &filter.publisher {
        chip(format!("Publisher: {publisher}"), |filter| filter.publisher = None);
    }
    if let Some(invoice) = &filter.invoice {
        chip(format!("Invoice: {invoice}"), |filter| filter.invoice = None);
    }
    if let Some(charge_type) = &filter.charge_type {
        chip(format!("Charge: {charge_type}"), |filter| filter.charge_type = None);
    }
    if filter.from.is_some() || filter.to.is_some() {
        let shown = |date: Option<NaiveDate>| date.map(|date| date.to_string()).unwrap_or_default();
        chip(format!("Invoice dates: {} – {}", shown(filter.from), shown(filter.to)), |filter| {
            filter.from = None;
            filter.to = None;
        });
    }
    if let Some(month) = filter.service_month {
        chip(format!("Service period: {}", month_label(month)), |filter| filter.service_month = None);
    }
    chips
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn each_condition_is_a_chip_that_takes_off_only_itself() {
        let filter = LineFilter {
            text: "  backup ".to_owned(),
            customer: Some("Bakkerij de Vries".to_owned()),
            invoice: Some("880002".to_owned()),
            publisher: Some("Acronis".to_owned()),
            charge_type: Some("Correction".to_owned()),
            from: Some(date("2026-01-01")),
            to: None,
            service_month: Some(date("2026-02-01")),
        };
        let chips = filter_chips(&filter);
        let labels: Vec<&str> = chips.iter().map(|chip| chip.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Search: backup",
                "Customer: Bakkerij de Vries",
                "Publisher: Acronis",
                "Invoice: 880002",
                "Charge: Correction",
                "Invoice dates: 2026-01-01 – ",
                "Service period: February 2026",
            ]
        );
        for (index, chip) in chips.iter().enumerate() {
            let mut cleared = filter.clone();
            (chip.clear)(&mut cleared);
            let left = filter_chips(&cleared);
            assert_eq!(left.len(), chips.len() - 1, "{} takes off one condition", chip.label);
            assert!(!left.iter().any(|other| other.label == chip.label), "{} is gone", chip.label);
            assert_eq!(left.len(), chips.iter().enumerate().filter(|(other, _)| *other != index).count());
        }
        assert!(filter_chips(&LineFilter { text: "   ".to_owned(), ..LineFilter::default() }).is_empty());
    }
}
