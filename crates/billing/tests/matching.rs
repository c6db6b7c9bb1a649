//! The margin join on hand-made purchase and customer documents, with the
//! expected figures computed by hand.

use std::str::FromStr;

use billing::{
    InvoiceDocument,
    json::parse_invoices,
    matching::{Margin, match_documents},
};
use rust_decimal::Decimal;

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn document(json: &str) -> InvoiceDocument {
    parse_invoices(json.as_bytes()).unwrap()
}

fn invoice(currency: &str, customer: &str, subscription: u64, lines: &[(&str, &str)]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .map(|(hash, price)| format!(r#"{{"InvoiceRowHash": "{hash}", "ExtendedPrice": {price}}}"#))
        .collect();
    format!(
        r#"{{"Header": {{"Currency": "{currency}"}}, "Customers": [{{"CompanyName": "{customer}", "Subscriptions": [{{"SubscriptionID": {subscription}, "PriceLines": [{}]}}]}}]}}"#,
        lines.join(",")
    )
}

#[test]
fn margins_per_line_subscription_and_customer_with_unmatched_lines_listed() {
    let purchases = document(&format!(
        r#"{{"Invoices": [{}, {}]}}"#,
        invoice("EUR", "Vendor", 1, &[("h1", "80.00"), ("h2", "-8.00"), ("only-bought", "5.00")]),
        invoice("GBP", "Vendor", 2, &[("h3", "10.00"), ("fx", "1.00")]),
    ));
    let sales = document(&format!(
        r#"{{"Invoices": [{}, {}, {}]}}"#,
        invoice("EUR", "Bakkerij de Vries", 1, &[("h1", "100.00"), ("h2", "-10.00"), ("only-sold", "7.00")]),
        invoice("GBP", "Telecom Ltd", 2, &[("h3", "12.50")]),
        invoice("EUR", "Telecom Ltd", 3, &[("fx", "1.20")]),
    ));
    let report = match_documents(&purchases, &sales);

    assert_eq!(report.matched.len(), 3);
    // h1: 100 − 80 = 20 (20 %); h2, a correction: −10 − −8 = −2.
    assert_eq!(report.matched[0].margin.margin(), decimal("20.00"));
    assert_eq!(report.matched[0].margin.percent(), Some(decimal("20")));
    assert_eq!(report.matched[1].margin.margin(), decimal("-2.00"));

    // Bakkerij, EUR: cost 72, sale 90, margin 18 = 20 %.
    let bakery = report.per_customer[&("Bakkerij de Vries".to_owned(), "EUR".to_owned())];
    assert_eq!(bakery, Margin { cost: decimal("72"), sale: decimal("90") });
    assert_eq!(bakery.percent(), Some(decimal("20")));
    // Telecom, GBP: 12.50 − 10.00 = 2.50 = 20 %; its EUR line never mixes in.
    let telecom = report.per_customer[&("Telecom Ltd".to_owned(), "GBP".to_owned())];
    assert_eq!((telecom.margin(), telecom.percent()), (decimal("2.50"), Some(decimal("20"))));
    assert_eq!(report.per_customer.len(), 2);
    assert_eq!(
        report.per_subscription[&("Bakkerij de Vries".to_owned(), "1".to_owned(), "EUR".to_owned())].margin(),
        decimal("18")
    );

    let hashes = |rows: &[billing::rows::LineRow<'_>]| -> Vec<String> {
        rows.iter().map(|row| row.line.invoice_row_hash.as_deref().unwrap().to_owned()).collect()
    };
    assert_eq!(hashes(&report.purchase_only), ["only-bought"]);
    assert_eq!(hashes(&report.sale_only), ["only-sold"]);
    assert_eq!(report.currency_mismatches.len(), 1, "GBP cost against an EUR sale is not a margin");
}

#[test]
fn a_hash_duplicated_on_one_side_pairs_once_and_leaves_the_rest_unmatched() {
    let purchases = document(&format!(r#"[{}]"#, invoice("EUR", "Vendor", 1, &[("dup", "1"), ("dup", "2")])));
    let sales = document(&format!(r#"[{}]"#, invoice("EUR", "Customer", 1, &[("dup", "3")])));
    let report = match_documents(&purchases, &sales);
    assert_eq!(report.matched.len(), 1);
    assert_eq!(report.matched[0].margin, Margin { cost: decimal("1"), sale: decimal("3") });
    assert_eq!(report.purchase_only.len(), 1);
    assert_eq!(report.purchase_only[0].line.extended_price, Some(decimal("2")));
    assert!(report.sale_only.is_empty());
}

#[test]
fn zero_sales_have_no_margin_percentage() {
    assert_eq!(Margin { cost: decimal("5"), sale: Decimal::ZERO }.percent(), None);
}
