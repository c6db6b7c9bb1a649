//! The month-end worklist on a purchase and a sales document made by hand,
//! one line of each kind.

use billing::{
    exceptions::{ExceptionKind, Side, worklist},
    json::parse_invoices,
};
use rust_decimal::Decimal;

fn line(hash: Option<&str>, quantity: &str, unit_price: Option<&str>, amount: &str) -> String {
    let hash = hash.map(|hash| format!(r#""InvoiceRowHash":"{hash}","#)).unwrap_or_default();
    let unit_price =
        unit_price.map(|price| format!(r#""UnitPrice":{price},"Duration":1,"#)).unwrap_or_default();
    format!(r#"{{{hash}{unit_price}"Quantity":{quantity},"ExtendedPrice":{amount}}}"#)
}

fn invoice(currency: &str, total: Option<&str>, lines: &[String]) -> String {
    let totals =
        total.map(|total| format!(r#","Totals":{{"TotalExcludingVAT":{total}}}"#)).unwrap_or_default();
    format!(
        r#"{{"Header":{{"Currency":"{currency}","Description":"Invoice"}},"Customers":[{{"CompanyName":"Bakkerij","Subscriptions":[{{"SubscriptionID":1,"PriceLines":[{}]}}]}}]{totals}}}"#,
        lines.join(",")
    )
}

fn document(invoices: &[String]) -> billing::InvoiceDocument {
    parse_invoices(format!(r#"{{"Invoices":[{}]}}"#, invoices.join(",")).as_bytes()).unwrap()
}

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn each_kind_is_counted_with_its_amount_at_stake_per_currency() {
    let purchases = document(&[invoice(
        "EUR",
        Some("999.00"),
        &[
            line(Some("h1"), "10", Some("10.00"), "100.00"),
            line(Some("h2"), "5", Some("10.00"), "50.00"),
            line(Some("h3"), "3", Some("10.00"), "30.00"),
            line(None, "1", Some("7.00"), "7.00"),
            line(Some("h5"), "1", Some("12.00"), "12.00"),
            // (1 × 10.00 − 0) × 1 is 10.00, not 15.00.
            line(Some("h6"), "1", Some("10.00"), "15.00"),
        ],
    )]);
    let sales = document(&[
        invoice(
            "EUR",
            None,
            &[
                line(Some("h1"), "10", None, "120.00"),
                line(Some("h2"), "4", None, "45.00"),
                line(Some("h7"), "1", None, "9.00"),
                line(Some("h6"), "1", None, "30.00"),
            ],
        ),
        invoice("GBP", None, &[line(Some("h5"), "1", None, "14.00")]),
    ]);
    let list = worklist(Some(&purchases), Some(&sales), amount("20"));
    let stake = |kind| {
        let (count, per_currency) = list.stake(kind);
        (
            count,
            per_currency
                .into_iter()
                .map(|(currency, at_stake)| (currency, at_stake.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let eur = |count: usize, at_stake: &str| (count, vec![("EUR".to_owned(), at_stake.to_owned())]);
    assert_eq!(stake(ExceptionKind::NotBilled), eur(1, "30.00"), "h3 was bought and never sold");
    assert_eq!(stake(ExceptionKind::NotPurchased), eur(1, "9.00"), "h7 was sold and never bought");
    assert_eq!(stake(ExceptionKind::NegativeMargin), eur(1, "5.00"), "h2: 45.00 sold, 50.00 bought");
    assert_eq!(
        stake(ExceptionKind::LowMargin),
        eur(1, "4.00"),
        "h1: 20.00 of 120.00 is 16.67 %; 20 % is 24.00"
    );
    assert_eq!(stake(ExceptionKind::QuantityDiffers), eur(1, "50.00"), "h2: 5 bought, 4 sold");
    assert_eq!(stake(ExceptionKind::CurrencyMismatch), eur(1, "12.00"), "h5 bought in EUR, sold in GBP");
    assert_eq!(
        stake(ExceptionKind::TotalDisagrees),
        eur(2, "790.00"),
        "h6's price is 5.00 off, and the invoice says 999.00 for lines of 214.00 (785.00 off)"
    );
    assert_eq!(stake(ExceptionKind::NoRowHash), eur(1, "7.00"));
    let not_billed = &list.kinds[&ExceptionKind::NotBilled][0];
    assert_eq!((not_billed.side, not_billed.row), (Side::Purchases, 2), "the third purchase line");
    let not_purchased = &list.kinds[&ExceptionKind::NotPurchased][0];
    assert_eq!((not_purchased.side, not_purchased.row), (Side::Sales, 2), "the third sale line");

    let alone = worklist(Some(&purchases), None, amount("20"));
    let kinds: Vec<ExceptionKind> = alone.kinds.keys().copied().collect();
    assert_eq!(kinds, [ExceptionKind::TotalDisagrees, ExceptionKind::NoRowHash], "without sales, no join");
    assert!(kinds.iter().all(|kind| !kind.needs_join()));
    let sales_alone = worklist(None, Some(&sales), amount("20"));
    assert!(sales_alone.kinds.is_empty(), "the sales state no totals, and every line has its hash");
}
