//! Totals and discrepancies on the hand-written fixture, against amounts
//! computed by hand in the comments.

use std::str::FromStr;

use billing::{
    json::parse_invoices,
    totals::{Discrepancy, LinePosition, TotalField, check, totals_by_currency, totals_by_customer},
};
use rust_decimal::Decimal;

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn fixture() -> billing::InvoiceDocument {
    parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap()
}

#[test]
fn totals_are_per_currency_and_include_negative_corrections() {
    let totals = totals_by_currency(&fixture());
    assert_eq!(totals.keys().collect::<Vec<_>>(), ["EUR", "GBP"]);
    // EUR: 100.00 cycle fee − 10.00 correction; VAT 21.00 + 0.
    let (invoices, eur) = totals["EUR"];
    assert_eq!((invoices, eur.lines), (1, 2));
    assert_eq!(
        (eur.excluding_vat, eur.vat, eur.including_vat()),
        (decimal("90"), decimal("21"), decimal("111"))
    );
    // GBP: one reverse-charged line, VAT 0.
    let (_, gbp) = totals["GBP"];
    assert_eq!(
        (gbp.excluding_vat, gbp.vat, gbp.including_vat()),
        (decimal("24"), decimal("0"), decimal("24"))
    );
}

#[test]
fn totals_per_customer_keep_currencies_apart() {
    let totals = totals_by_customer(&fixture());
    let bakery = totals[&("Bakkerij de Vries".to_owned(), "EUR".to_owned())];
    assert_eq!(bakery.excluding_vat, decimal("90.00"));
    let telecom = totals[&("Telecom Ltd".to_owned(), "GBP".to_owned())];
    assert_eq!(telecom.excluding_vat, decimal("24.00"));
    assert_eq!(totals.len(), 2);
}

#[test]
fn the_consistent_fixture_has_no_discrepancies() {
    // GBP line: (2 × 12.345 − 0.69) × 1 = 24.000, stated 24.00.
    assert_eq!(check(&fixture()), []);
}

#[test]
fn a_wrong_line_price_and_the_totals_it_breaks_are_reported_not_fixed() {
    let mut document = fixture();
    let line = &mut document.invoices[0].customers[0].subscriptions[0].price_lines[0];
    line.extended_price = Some(decimal("101.00"));
    let found = check(&document);
    let at = LinePosition { invoice: 0, customer: 0, subscription: 0, line: 0 };
    assert_eq!(
        found,
        [
            Discrepancy::LinePrice { at, computed: decimal("100.00"), stated: decimal("101.00") },
            // The stated totals (90, 111) now disagree with the lines (91, 112).
            Discrepancy::InvoiceTotal {
                invoice: 0,
                field: TotalField::ExcludingVat,
                computed: decimal("91"),
                stated: decimal("90")
            },
            Discrepancy::InvoiceTotal {
                invoice: 0,
                field: TotalField::IncludingVat,
                computed: decimal("112"),
                stated: decimal("111")
            },
        ]
    );
    assert_eq!(
        document.invoices[0].customers[0].subscriptions[0].price_lines[0].extended_price,
        Some(decimal("101.00"))
    );
}

#[test]
fn a_wrong_vat_total_is_reported() {
    let mut document = fixture();
    document.invoices[1].totals.total_vat = Some(decimal("5.04"));
    assert_eq!(
        check(&document),
        [Discrepancy::InvoiceTotal {
            invoice: 1,
            field: TotalField::Vat,
            computed: decimal("0"),
            stated: decimal("5.04")
        }]
    );
}
