//! Search, filter and sort over the fixture's price lines.

use std::{str::FromStr, sync::Arc};

use billing::{
    json::parse_invoices,
    lines::{LineFilter, LineTable, SortColumn, filtered},
    publisher::Publishers,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn fixture() -> billing::InvoiceDocument {
    parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap()
}

fn descriptions(rows: &[billing::rows::LineRow<'_>]) -> Vec<String> {
    rows.iter().map(|row| row.line.description.as_deref().unwrap_or_default().to_owned()).collect()
}

#[test]
fn text_search_spans_customer_description_and_subscription_ignoring_case() {
    let document = fixture();
    let search = |text: &str| {
        descriptions(&filtered(
            &document,
            &Publishers::default(),
            &LineFilter { text: text.into(), ..Default::default() },
        ))
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
    assert_eq!(
        descriptions(&filtered(&document, &Publishers::default(), &corrections)),
        ["Cancelled seat, pro-rated"]
    );

    let by_invoice = LineFilter { invoice: Some("INV-GBP-7".into()), ..Default::default() };
    assert_eq!(descriptions(&filtered(&document, &Publishers::default(), &by_invoice)), ["SIP trunk"]);

    let by_customer = LineFilter { customer: Some("Bakkerij de Vries".into()), ..Default::default() };
    assert_eq!(filtered(&document, &Publishers::default(), &by_customer).len(), 2);

    // Invoices are dated 2026-01-23 and 2026-01-24; both bounds are inclusive.
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d);
    let window = LineFilter { from: day(24), to: day(24), ..Default::default() };
    assert_eq!(descriptions(&filtered(&document, &Publishers::default(), &window)), ["SIP trunk"]);
    let both =
        LineFilter { from: day(23), to: day(24), customer: Some("Telecom Ltd".into()), ..Default::default() };
    assert_eq!(filtered(&document, &Publishers::default(), &both).len(), 1);
    assert!(LineFilter::default().is_empty() && !both.is_empty());
}

#[test]
fn sorting_by_amount_handles_negatives_and_direction() {
    let table = table();
    let mut indexes: Vec<usize> = (0..table.len()).collect();
    table.sort(&mut indexes, SortColumn::ExtendedPrice, false);
    let amounts: Vec<_> =
        indexes.iter().map(|&index| table.row(index).line.extended_price.unwrap()).collect();
    let expected: Vec<_> =
        ["-10.00", "24.00", "100.00"].iter().map(|a| Decimal::from_str(a).unwrap()).collect();
    assert_eq!(amounts, expected);
    table.sort(&mut indexes, SortColumn::Customer, true);
    assert_eq!(table.row(indexes[0]).customer.company_name.as_deref(), Some("Telecom Ltd"));
    // Ties keep their current order, here the amount sort's: the correction first.
    assert_eq!(
        described(&table, &indexes[1..]),
        ["Cancelled seat, pro-rated", "Business Standard, December"]
    );
}

fn table() -> LineTable {
    LineTable::new(Arc::new(fixture()))
}

fn described(table: &LineTable, indexes: &[usize]) -> Vec<String> {
    indexes
        .iter()
        .map(|&index| table.row(index).line.description.as_deref().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_table_finds_what_filtered_finds() {
    let document = fixture();
    let table = table();
    assert_eq!(table.len(), 3);
    for filter in [
        LineFilter { text: "SEAT".to_owned(), ..LineFilter::default() },
        LineFilter { text: "9001".to_owned(), ..LineFilter::default() },
        LineFilter { charge_type: Some("Usage Fee".to_owned()), ..LineFilter::default() },
        LineFilter::default(),
    ] {
        assert_eq!(
            described(&table, &table.filter(&filter)),
            descriptions(&filtered(&document, &Publishers::default(), &filter)),
            "{filter:?}"
        );
    }
    for spanning in ["vries business", "vries\u{1f}business"] {
        let filter = LineFilter { text: spanning.to_owned(), ..LineFilter::default() };
        assert!(table.filter(&filter).is_empty(), "a match never spans two fields: {spanning:?}");
    }
}

#[test]
fn the_publisher_filters_and_sorts_whatever_the_invoice_description_says() {
    let document = fixture();
    assert!(document.invoices.iter().all(|invoice| invoice.header.description.as_deref() == Some("Invoice")));
    let mut table = table();
    let telecom = LineFilter { publisher: Some("KPN".to_owned()), ..LineFilter::default() };
    assert_eq!(described(&table, &table.filter(&telecom)), ["SIP trunk"], "named by its SKU");
    let mut indexes: Vec<usize> = (0..table.len()).collect();
    table.sort(&mut indexes, SortColumn::Publisher, false);
    assert_eq!(described(&table, &indexes)[0], "SIP trunk", "KPN sorts before Microsoft");

    // The user's word for a product wins, and the sort follows it.
    let corrections = [("Microsoft 365 Business Standard".to_owned(), "Aardvark Software".to_owned())];
    table.set_publishers(Publishers::with_corrections(corrections.into()));
    let mut indexes: Vec<usize> = (0..table.len()).collect();
    table.sort(&mut indexes, SortColumn::Publisher, false);
    assert_eq!(described(&table, &indexes)[2], "SIP trunk", "Aardvark sorts before KPN");
    let aardvark = LineFilter { publisher: Some("Aardvark Software".to_owned()), ..LineFilter::default() };
    assert_eq!(table.filter(&aardvark).len(), 2);
}

#[test]
fn the_table_sorts_indexes_like_rows_and_lists_filter_choices() {
    let table = table();
    let mut indexes: Vec<usize> = (0..table.len()).collect();
    table.sort(&mut indexes, SortColumn::ExtendedPrice, true);
    assert_eq!(
        described(&table, &indexes),
        ["Business Standard, December", "SIP trunk", "Cancelled seat, pro-rated"]
    );
    // Sorting again by another column keeps ties in their current order,
    // ascending and descending alike.
    table.sort(&mut indexes, SortColumn::Customer, false);
    assert_eq!(
        described(&table, &indexes),
        ["Business Standard, December", "Cancelled seat, pro-rated", "SIP trunk"]
    );
    table.sort(&mut indexes, SortColumn::ExtendedPrice, false);
    table.sort(&mut indexes, SortColumn::Customer, true);
    assert_eq!(
        described(&table, &indexes),
        ["SIP trunk", "Cancelled seat, pro-rated", "Business Standard, December"]
    );
    // A key from elsewhere, here the description's length: missing first.
    table.sort_by_key(&mut indexes, |row| row.line.description.as_deref().map(str::len), true);
    assert_eq!(
        described(&table, &indexes),
        ["Business Standard, December", "Cancelled seat, pro-rated", "SIP trunk"],
        "27, 25 and 9 characters"
    );
    let mut subset = vec![2, 0];
    table.sort(&mut subset, SortColumn::ExtendedPrice, false);
    assert_eq!(described(&table, &subset), ["SIP trunk", "Business Standard, December"]);
}

#[test]
fn a_service_month_keeps_the_lines_whose_period_overlaps_it() {
    let mut document = fixture();
    let lines = &mut document.invoices[0].customers[0].subscriptions[0].price_lines;
    let date = |text: &str| NaiveDate::from_str(text).unwrap();
    (lines[0].start_date, lines[0].end_date) = (Some(date("2025-12-01")), Some(date("2025-12-31")));
    (lines[1].start_date, lines[1].end_date) = (Some(date("2025-11-15")), Some(date("2025-12-14")));
    let table = LineTable::new(Arc::new(document));
    let in_month = |month: &str| {
        let filter = LineFilter { service_month: Some(date(month)), ..LineFilter::default() };
        described(&table, &table.filter(&filter))
    };
    assert_eq!(in_month("2025-12-01"), ["Business Standard, December", "Cancelled seat, pro-rated"]);
    assert_eq!(in_month("2025-11-01"), ["Cancelled seat, pro-rated"]);
    assert!(in_month("2026-01-01").is_empty());
}

/// Currency, excluding VAT and VAT, as text.
type Subtotal = (String, String, String);

#[test]
fn groups_carry_subtotals_per_currency() {
    use billing::lines::GroupBy;
    let table = table();
    let all: Vec<usize> = (0..table.len()).collect();
    let summary = |by| -> Vec<(String, usize, Vec<Subtotal>)> {
        table
            .group(&all, by)
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
    assert_eq!(
        summary(GroupBy::Publisher),
        [("KPN".to_owned(), 1, gbp("24.00", "0")), ("Microsoft".to_owned(), 2, eur("90.00", "21.00")),]
    );
    let subscriptions: Vec<String> =
        summary(GroupBy::Subscription).into_iter().map(|(key, ..)| key).collect();
    assert_eq!(subscriptions, ["9001 Microsoft 365 Business Standard", "S-1"]);
}

#[test]
fn search_folds_case_beyond_ascii() {
    let mut document = fixture();
    document.invoices[1].customers[0].company_name = Some("CAFÉ ÇAĞ Ürün".into());
    let table = LineTable::new(Arc::new(document));
    for text in ["café", "çağ ü", "CAFÉ ÇAĞ ÜRÜN"] {
        let filter = LineFilter { text: text.to_owned(), ..LineFilter::default() };
        assert_eq!(described(&table, &table.filter(&filter)), ["SIP trunk"], "{text:?}");
    }
}
