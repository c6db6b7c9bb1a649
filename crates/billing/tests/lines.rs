//! Search, filter and sort over the fixture's price lines.

use std::str::FromStr;

use billing::{
    json::parse_invoices,
    lines::{LineFilter, SortColumn, filtered, rows, sort_rows},
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn fixture() -> billing::InvoiceDocument {
    parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap()
}

fn descriptions(rows: &[billing::lines::LineRow<'_>]) -> Vec<String> {
    rows.iter().map(|row| row.line.description.clone().unwrap_or_default()).collect()
}

#[test]
fn text_search_spans_customer_description_and_subscription_ignoring_case() {
    let document = fixture();
    let search = |text: &str| {
        descriptions(&filtered(&document, &LineFilter { text: text.into(), ..Default::default() }))
    };
    assert_eq!(search("TELECOM"), ["SIP trunk"], "customer");
    assert_eq!(search("pro-rated"), ["Cancelled seat, pro-rated"], "description");
    assert_eq!(search("business standard").len(), 2, "subscription name");
    assert_eq!(search("9001").len(), 2, "subscription id");
    assert_eq!(search("  ").len(), 3, "blank search keeps everything");
    assert!(search("nothing like this").is_empty());
}

#[test]
fn filters_combine() {
    let document = fixture();
    let corrections = LineFilter { charge_type: Some("Correction".into()), ..Default::default() };
    assert_eq!(descriptions(&filtered(&document, &corrections)), ["Cancelled seat, pro-rated"]);

    let by_invoice = LineFilter { invoice: Some("INV-GBP-7".into()), ..Default::default() };
    assert_eq!(descriptions(&filtered(&document, &by_invoice)), ["SIP trunk"]);

    let by_customer = LineFilter { customer: Some("Bakkerij de Vries".into()), ..Default::default() };
    assert_eq!(filtered(&document, &by_customer).len(), 2);

    // Invoices are dated 2026-01-23 and 2026-01-24; both bounds are inclusive.
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d);
    let window = LineFilter { from: day(24), to: day(24), ..Default::default() };
    assert_eq!(descriptions(&filtered(&document, &window)), ["SIP trunk"]);
    let both =
        LineFilter { from: day(23), to: day(24), customer: Some("Telecom Ltd".into()), ..Default::default() };
    assert_eq!(filtered(&document, &both).len(), 1);
    assert!(LineFilter::default().is_empty() && !both.is_empty());
}

#[test]
fn sorting_by_amount_handles_negatives_and_direction() {
    let document = fixture();
    let mut all: Vec<_> = rows(&document).collect();
    sort_rows(&mut all, SortColumn::ExtendedPrice, false);
    let amounts: Vec<_> = all.iter().map(|row| row.line.extended_price.unwrap()).collect();
    let expected: Vec<_> =
        ["-10.00", "24.00", "100.00"].iter().map(|a| Decimal::from_str(a).unwrap()).collect();
    assert_eq!(amounts, expected);
    sort_rows(&mut all, SortColumn::Customer, true);
    assert_eq!(all[0].customer.company_name.as_deref(), Some("Telecom Ltd"));
    // Ties keep their current order, here the amount sort's: the correction first.
    assert_eq!(descriptions(&all[1..]), ["Cancelled seat, pro-rated", "Business Standard, December"]);
}

#[test]
fn the_index_finds_what_filtered_finds() {
    let document = fixture();
    let index = billing::lines::LineIndex::new(&document);
    for filter in [
        LineFilter { text: "SEAT".to_owned(), ..LineFilter::default() },
        LineFilter { text: "9001".to_owned(), ..LineFilter::default() },
        LineFilter { charge_type: Some("Usage Fee".to_owned()), ..LineFilter::default() },
        LineFilter::default(),
    ] {
        let through_index: Vec<String> = index
            .filter(&filter)
            .into_iter()
            .map(|position| index.rows()[position].line.description.clone().unwrap_or_default())
            .collect();
        assert_eq!(through_index, descriptions(&filtered(&document, &filter)), "{filter:?}");
    }
    for spanning in ["vries business", "vries\u{1f}business"] {
        let filter = LineFilter { text: spanning.to_owned(), ..LineFilter::default() };
        assert!(index.filter(&filter).is_empty(), "a match never spans two fields: {spanning:?}");
    }
}

/// Currency, excluding VAT and VAT, as text.
type Subtotal = (String, String, String);

#[test]
fn groups_carry_subtotals_per_currency() {
    use billing::lines::{GroupBy, group};
    let document = fixture();
    let index = billing::lines::LineIndex::new(&document);
    let all: Vec<usize> = (0..index.rows().len()).collect();
    let summary = |by| -> Vec<(String, usize, Vec<Subtotal>)> {
        group(index.rows(), &all, by)
            .into_iter()
            .map(|group| {
                let subtotals = group
                    .subtotals
                    .iter()
                    .map(|(currency, sums)| {
                        (currency.clone(), sums.excluding_vat.to_string(), sums.vat.to_string())
                    })
                    .collect();
                (group.key, group.rows.len(), subtotals)
            })
            .collect()
    };
    let eur = |excluding: &str, vat: &str| vec![("EUR".to_owned(), excluding.to_owned(), vat.to_owned())];
    let gbp = |excluding: &str, vat: &str| vec![("GBP".to_owned(), excluding.to_owned(), vat.to_owned())];
    assert_eq!(
        summary(GroupBy::Customer),
        [
            ("Bakkerij de Vries".to_owned(), 2, eur("90.00", "21.00")),
            ("Telecom Ltd".to_owned(), 1, gbp("24.00", "0"))
        ]
    );
    assert_eq!(
        summary(GroupBy::ChargeType),
        [
            ("Correction".to_owned(), 1, eur("-10.00", "0")),
            ("Cycle Fee".to_owned(), 1, eur("100.00", "21.00")),
            ("Usage Fee".to_owned(), 1, gbp("24.00", "0")),
        ]
    );
    let subscriptions: Vec<String> =
        summary(GroupBy::Subscription).into_iter().map(|(key, ..)| key).collect();
    assert_eq!(subscriptions, ["9001 Microsoft 365 Business Standard", "S-1"]);
}
