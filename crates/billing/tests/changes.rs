//! The comparison of two invoice runs, on small documents computed by hand.

use billing::{
    changes::{BeforeAfter, ChangeKind, compare, compare_joined},
    json::parse_invoices,
};
use rust_decimal::Decimal;

/// (customer, subscription, charge type, SKU, quantity, unit price, amount)
type Line<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

/// One invoice per currency, each line under its own customer and subscription.
fn document(per_currency: &[(&str, &[Line<'_>])]) -> billing::InvoiceDocument {
    let invoices: Vec<String> = per_currency
        .iter()
        .map(|(currency, lines)| {
            let customers: Vec<String> = lines
                .iter()
                .map(|(customer, subscription, charge_type, sku, quantity, unit_price, amount)| {
                    format!(
                        r#"{{"CompanyName":"{customer}","Subscriptions":[{{"SubscriptionID":"{subscription}","PriceLines":[{{"ChargeType":"{charge_type}","SKU":"{sku}","Quantity":{quantity},"UnitPrice":{unit_price},"ExtendedPrice":{amount}}}]}}]}}"#
                    )
                })
                .collect();
            format!(r#"{{"Header":{{"Currency":"{currency}","Description":"Invoice"}},"Customers":[{}]}}"#, customers.join(","))
        })
        .collect();
    parse_invoices(format!(r#"{{"Invoices":[{}]}}"#, invoices.join(",")).as_bytes()).unwrap()
}

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn each_kind_of_change_per_currency_never_netted() {
    let december = document(&[
        (
            "EUR",
            &[
                ("Bakkerij", "9001", "Cycle Fee", "A", "10", "10.00", "100.00"),
                ("Bakkerij", "9002", "Cycle Fee", "", "1", "50.00", "50.00"),
                ("Bakkerij", "9003", "Item Fee", "", "1", "5.00", "5.00"),
                ("Brouwerij", "7000", "Cycle Fee", "", "3", "5.00", "15.00"),
            ],
        ),
        ("GBP", &[("Telecom Ltd", "S-1", "Usage Fee", "", "2", "12.00", "24.00")]),
    ]);
    let january = document(&[
        (
            "EUR",
            &[
                ("Bakkerij", "9001", "Cycle Fee", "A", "12", "10.00", "120.00"),
                ("Bakkerij", "9001", "Correction", "A", "-2", "10.00", "-20.00"),
                ("Bakkerij", "9003", "Item Fee", "", "1", "5.0", "5.00"),
                // The subscription moved to another customer.
                ("Café Noord", "7000", "Cycle Fee", "", "3", "5.00", "15.00"),
                // The same charge in another currency is another charge.
                ("Telecom Ltd", "S-1", "Usage Fee", "", "2", "12.00", "24.00"),
            ],
        ),
        ("GBP", &[("Telecom Ltd", "S-1", "Usage Fee", "", "2", "12.50", "25.00")]),
    ]);
    let comparison = compare(&december, &january);
    let seen: Vec<(String, String, String, String, Vec<ChangeKind>, Decimal)> = comparison
        .changes
        .iter()
        .map(|change| {
            (
                change.key.customer.clone(),
                change.key.subscription.clone(),
                change.key.charge_type.clone(),
                change.key.currency.clone(),
                change.kinds.iter().copied().collect(),
                change.difference(),
            )
        })
        .collect();
    let expected = |customer: &str,
                    subscription: &str,
                    charge: &str,
                    currency: &str,
                    kinds: &[ChangeKind],
                    difference: &str| {
        (
            customer.to_owned(),
            subscription.to_owned(),
            charge.to_owned(),
            currency.to_owned(),
            kinds.to_vec(),
            amount(difference),
        )
    };
    use ChangeKind::*;
    assert_eq!(
        seen,
        [
            expected("Bakkerij", "9001", "Correction", "EUR", &[New], "-20.00"),
            expected("Bakkerij", "9001", "Cycle Fee", "EUR", &[QuantityChanged, AmountChanged], "20.00"),
            expected("Bakkerij", "9002", "Cycle Fee", "EUR", &[Gone], "-50.00"),
            expected("Brouwerij", "7000", "Cycle Fee", "EUR", &[Gone], "-15.00"),
            expected("Café Noord", "7000", "Cycle Fee", "EUR", &[New], "15.00"),
            expected("Telecom Ltd", "S-1", "Usage Fee", "EUR", &[New], "24.00"),
            expected("Telecom Ltd", "S-1", "Usage Fee", "GBP", &[UnitPriceChanged, AmountChanged], "1.00"),
        ]
    );
    assert_eq!(comparison.unchanged, 1, "5.0 is the same price as 5.00");
    let both = |before: &str, after: &str| BeforeAfter { before: amount(before), after: amount(after) };
    assert_eq!(comparison.per_currency["EUR"], both("170.00", "144.00"));
    assert_eq!(comparison.per_currency["GBP"], both("24.00", "25.00"));
    assert_eq!(comparison.per_currency["EUR"].difference(), amount("-26.00"));
    let customer =
        |name: &str, currency: &str| comparison.per_customer[&(name.to_owned(), currency.to_owned())];
    assert_eq!(customer("Bakkerij", "EUR"), both("155.00", "105.00"));
    assert_eq!(customer("Brouwerij", "EUR"), both("15.00", "0"));
    assert_eq!(customer("Café Noord", "EUR"), both("0", "15.00"));
    assert_eq!(customer("Telecom Ltd", "EUR"), both("0", "24.00"));
    assert_eq!(customer("Telecom Ltd", "GBP"), both("24.00", "25.00"));
    assert_eq!(comparison.per_customer.len(), 5);
}

#[test]
fn lines_of_one_charge_add_up_and_mixed_prices_have_no_one_price() {
    let before = document(&[("EUR", &[("A", "1", "Usage Fee", "", "1", "2.00", "2.00")])]);
    let mut after = document(&[("EUR", &[("A", "1", "Usage Fee", "", "1", "2.00", "2.00")])]);
    let extra = document(&[("EUR", &[("A", "1", "Usage Fee", "", "2", "3.00", "6.00")])]);
    after.invoices.extend(extra.invoices);
    let comparison = compare(&before, &after);
    let [change] = comparison.changes.as_slice() else { panic!("{:?}", comparison.changes) };
    let now = change.after.as_ref().unwrap();
    assert_eq!((now.lines, now.quantity, now.unit_price, now.amount), (2, amount("3"), None, amount("8.00")));
    assert_eq!(
        change.kinds.iter().copied().collect::<Vec<_>>(),
        [ChangeKind::QuantityChanged, ChangeKind::UnitPriceChanged, ChangeKind::AmountChanged]
    );
    assert!(compare(&before, &before).changes.is_empty(), "a window against itself changes nothing");
}

#[test]
fn with_both_windows_joined_a_charge_whose_margin_moved_is_margin_changed() {
    use billing::matching::{Margin, MarginSummary};
    // The seat is bought at 100.00 both months; sold at 120.00 in December
    // (margin 20.00) and at 110.00 in January (margin 10.00).
    let bought = |hash: &str| {
        parse_invoices(
            format!(
                r#"{{"Invoices":[{{"Header":{{"Currency":"EUR"}},"Customers":[{{"CompanyName":"Bakkerij","Subscriptions":[{{"SubscriptionID":"9001","PriceLines":[{{"ChargeType":"Cycle Fee","Quantity":10,"UnitPrice":10.00,"ExtendedPrice":100.00,"InvoiceRowHash":"{hash}"}}]}}]}}]}}]}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    };
    let (december, january) = (bought("dec-1"), bought("jan-1"));
    let sold = |hash: &str, sale: &str| MarginSummary {
        by_hash: [(hash.into(), Margin { cost: amount("100.00"), sale: amount(sale) })].into(),
        ..MarginSummary::default()
    };
    assert_eq!(compare(&december, &january).unchanged, 1, "bought the same");

    let joined =
        compare_joined(&december, Some(&sold("dec-1", "120.00")), &january, Some(&sold("jan-1", "110.00")));
    assert_eq!(joined.changes.len(), 1);
    let change = &joined.changes[0];
    assert_eq!(change.kinds, [ChangeKind::MarginChanged].into());
    let margin =
        |figures: &Option<billing::changes::Figures>| figures.as_ref().and_then(|figures| figures.margin);
    assert_eq!(
        (margin(&change.before), margin(&change.after)),
        (Some(amount("20.00")), Some(amount("10.00")))
    );
    assert_eq!(change.difference(), Decimal::ZERO, "the amount bought did not move");

    // Joined in one window only, there is no margin to compare.
    let half = compare_joined(&december, None, &january, Some(&sold("jan-1", "110.00")));
    assert_eq!((half.changes.len(), half.unchanged), (0, 1));
}
