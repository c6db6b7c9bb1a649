//! The join's owned summary, per line, and its comparison with the vendor's
//! best-effort consolidated view, on the fixtures computed by hand: the
//! bakery's seat costs 100.00 and sells for 120.00, its correction costs
//! −10.00 and sells for −12.00; the brewery's usage is sold only.

use billing::{
    InvoiceDocument, json,
    matching::{
        ConsolidatedComparison, Margin, MarginSummary, OneSidedLine, compare_consolidated, match_documents,
    },
};
use rust_decimal::Decimal;

fn document(bytes: &[u8]) -> InvoiceDocument {
    json::parse_invoices(bytes).unwrap()
}

fn margin(cost: &str, sale: &str) -> Margin {
    Margin { cost: cost.parse().unwrap(), sale: sale.parse().unwrap() }
}

fn summary() -> MarginSummary {
    let purchases = document(include_bytes!("fixtures/invoices.json"));
    let sales = document(include_bytes!("fixtures/customerinvoices.json"));
    MarginSummary::from(match_documents(&purchases, &sales))
}

fn consolidated() -> InvoiceDocument {
    document(include_bytes!("fixtures/consolidatedinvoices.json"))
}

#[test]
fn the_summary_keeps_each_lines_margin_by_hash_and_the_one_sided_lines() {
    let summary = summary();
    assert_eq!(summary.matched, 2);
    assert_eq!(summary.by_hash.len(), 2);
    assert_eq!(summary.by_hash["a1b2c3"], margin("100.0", "120.0"));
    assert_eq!(summary.by_hash["d4e5f6"], margin("-10.0", "-12.0"));
    assert_eq!(summary.by_hash["d4e5f6"].margin(), Decimal::new(-2, 0));
    assert_eq!(summary.by_hash["a1b2c3"].percent(), Some(Decimal::new(1667, 2)));
    assert_eq!(
        summary.per_customer[&("Bakkerij de Vries".to_owned(), "EUR".to_owned())],
        margin("90.0", "108.0")
    );
    assert_eq!(
        summary.sale_only,
        [OneSidedLine {
            invoice: "880002".to_owned(),
            customer: "Brouwerij Van Damme BV".to_owned(),
            description: "Backup storage, GB".to_owned(),
            amount: Some("20.00".parse().unwrap()),
            currency: "EUR".to_owned(),
        }]
    );
    assert_eq!(summary.purchase_only.len(), 1, "the GBP line has no hash");
    assert_eq!(summary.purchase_only[0].currency, "GBP");
}

#[test]
fn the_margin_chart_ranks_customers_by_margin_in_one_currency() {
    use billing::charts::{Bar, REST, top_margins};
    let mut summary = summary();
    let bar = |label: &str, amount: &str| Bar { label: label.to_owned(), amount: amount.parse().unwrap() };
    assert_eq!(top_margins(&summary, "EUR", 10), [bar("Bakkerij de Vries", "18.0")]);
    assert!(top_margins(&summary, "GBP", 10).is_empty());
    summary.per_customer.insert(("Brouwerij Van Damme BV".to_owned(), "EUR".to_owned()), margin("10", "15"));
    summary.per_customer.insert(("Café Het Anker".to_owned(), "EUR".to_owned()), margin("10", "9"));
    summary.per_customer.insert(("Telecom Ltd".to_owned(), "GBP".to_owned()), margin("10", "99"));
    assert_eq!(
        top_margins(&summary, "EUR", 1),
        [bar("Bakkerij de Vries", "18.0"), bar(REST, "4")],
        "the brewery's 5 and the café's −1 are the rest"
    );
}

#[test]
fn the_consolidated_fixture_duplicates_the_correction_and_otherwise_agrees() {
    assert_eq!(
        compare_consolidated(&summary(), &consolidated()),
        ConsolidatedComparison {
            agreeing: 2,
            duplicated: vec![("d4e5f6".to_owned(), 2)],
            ..ConsolidatedComparison::default()
        }
    );
}

#[test]
fn missing_differing_and_unknown_consolidated_lines_are_reported() {
    let mut consolidated = consolidated();
    let lines = &mut consolidated.invoices[0].customers[0].subscriptions[0].price_lines;
    // The seat sold at 11.00 instead of 12.00, a stranger line, and the
    // correction left out.
    lines[0].sales_price = Some("11.00".parse().unwrap());
    lines[1].invoice_row_hash = Some("not-in-the-join".into());
    lines[2].invoice_row_hash = None;
    let comparison = compare_consolidated(&summary(), &consolidated);
    assert_eq!(comparison.agreeing, 0);
    assert_eq!(
        comparison.differing,
        [("a1b2c3".to_owned(), margin("100.0", "120.0"), margin("100.0", "110.00"))]
    );
    assert_eq!(comparison.missing, ["d4e5f6"]);
    assert_eq!(comparison.unknown, 2);
    assert!(comparison.duplicated.is_empty());
}

#[test]
fn each_line_the_consolidated_view_gets_wrong_goes_on_the_worklist_with_what_is_off() {
    use billing::exceptions::{ExceptionKind, Side, Worklist, flag_consolidated};
    let purchases = document(include_bytes!("fixtures/invoices.json"));
    let flagged = |consolidated: &InvoiceDocument| {
        let mut worklist = Worklist::default();
        flag_consolidated(
            &mut worklist,
            &purchases,
            &summary(),
            &compare_consolidated(&summary(), consolidated),
        );
        worklist.kinds.get(&ExceptionKind::ConsolidatedDisagrees).cloned().unwrap_or_default()
    };
    // The fixture lists the correction (sold at −12.00) twice: 12.00 too much.
    let twice = flagged(&consolidated());
    let found: Vec<_> =
        twice.iter().map(|line| (line.side, line.row, line.at_stake, line.currency.as_str())).collect();
    assert_eq!(found, [(Side::Purchases, 1, Decimal::new(12, 0), "EUR")]);

    // The seat sold at 110.00 instead of 120.00 is 10.00 off; the correction
    // left out leaves its 12.00 sale unaccounted.
    let mut consolidated = consolidated();
    let lines = &mut consolidated.invoices[0].customers[0].subscriptions[0].price_lines;
    lines[0].sales_price = Some("11.00".parse().unwrap());
    lines[1].invoice_row_hash = Some("not-in-the-join".into());
    lines[2].invoice_row_hash = None;
    let found: Vec<_> = flagged(&consolidated).iter().map(|line| (line.row, line.at_stake)).collect();
    assert_eq!(found, [(0, Decimal::new(10, 0)), (1, Decimal::new(12, 0))]);
}
