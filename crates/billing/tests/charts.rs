//! The charts' figures on the fixture, computed by hand.

use std::sync::Arc;

use billing::{
    charts::{
        Bar, REST, by_charge_type, by_invoice_month, by_publisher, main_currency, month_window, top_customers,
    },
    json::parse_invoices,
    lines::LineTable,
};
use chrono::NaiveDate;

fn bar(label: &str, amount: &str) -> Bar {
    Bar { label: label.to_owned(), amount: amount.parse().unwrap() }
}

#[test]
fn charts_sum_one_currency_by_month_customer_charge_type_and_publisher() {
    let mut document = parse_invoices(include_bytes!("fixtures/customerinvoices.json")).unwrap();
    document.invoices.extend(parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap().invoices);
    let table = LineTable::new(Arc::new(document));
    let all: Vec<usize> = (0..table.len()).collect();
    assert_eq!(main_currency(&table, &all).as_deref(), Some("EUR"));
    assert_eq!(by_invoice_month(&table, &all, "EUR"), [bar("2026-01", "218.00")]);
    assert_eq!(
        top_customers(&table, &all, "EUR", 1),
        [bar("Bakkerij de Vries", "198.00"), bar(REST, "20.00")],
        "108.00 sold plus 90.00 bought for the bakery; the brewery is the rest"
    );
    assert_eq!(
        by_charge_type(&table, &all, "EUR"),
        [bar("Cycle Fee", "220.00"), bar("Usage Fee", "20.00"), bar("Correction", "-22.00")]
    );
    assert_eq!(by_charge_type(&table, &all, "GBP"), [bar("Usage Fee", "24.00")]);
    assert_eq!(
        by_publisher(&table, &all, "EUR"),
        [bar("Microsoft", "198.00"), bar("Acronis", "20.00")],
        "108.00 sold and 90.00 bought of Microsoft 365; the brewery's Acronis backup"
    );
    assert_eq!(by_publisher(&table, &all, "GBP"), [bar("KPN", "24.00")]);
    let date = |text: &str| text.parse::<NaiveDate>().unwrap();
    assert_eq!(month_window("2026-02"), Some((date("2026-02-01"), date("2026-02-28"))));
    assert_eq!(month_window("2026-13"), None);
}
