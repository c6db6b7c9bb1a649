//! Reading and writing the vendor's JSON: the fixture, the round trip, and
//! every hostile input with what and where it went wrong.

use std::str::FromStr;

use billing::{
    Format, InvoiceDocument,
    error::Location,
    json::{parse_invoices, write_invoices},
    scalars::Id,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const FIXTURE: &[u8] = include_bytes!("fixtures/invoices.json");

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[test]
fn the_fixture_reads_field_by_field_whatever_the_order() {
    let document = parse_invoices(FIXTURE).unwrap();
    assert_eq!(document.invoices.len(), 2);

    let first = &document.invoices[0];
    assert_eq!(first.header.invoice_id, Some(Id::Number(20260101)));
    assert_eq!(first.header.date, NaiveDate::from_ymd_opt(2026, 1, 23));
    assert_eq!(first.header.currency.as_deref(), Some("EUR"));
    assert_eq!(first.sender.fax, None, "an empty value is absent");
    assert_eq!(first.sender.website, None, "a missing field is absent");
    assert_eq!(first.receiver.customer_number, Some(Id::Text("R-1001".into())));
    assert_eq!(first.totals.total_including_vat, Some(decimal("111.00")));

    let subscription = &first.customers[0].subscriptions[0];
    assert_eq!(subscription.subscription_details[0].no_show, Some(false));
    let lines = &subscription.price_lines;
    assert_eq!(lines[0].unit_price, Some(decimal("10.00")));
    assert_eq!(lines[1].charge_type.as_deref(), Some("Correction"));
    assert_eq!(lines[1].extended_price, Some(decimal("-10.00")));

    let second = &document.invoices[1];
    assert_eq!(second.header.invoice_id, Some(Id::Text("INV-GBP-7".into())));
    assert_eq!(second.header.currency.as_deref(), Some("GBP"));
    let telecom = &second.customers[0].subscriptions[0].price_lines[0];
    assert_eq!(telecom.unit_price, Some(decimal("12.345")), "no float rounding");
    assert_eq!(telecom.vat, Some(Decimal::ZERO));
    assert_eq!(telecom.tax_zone_id, Some(Id::Text("reverse-charged".into())));
}

#[test]
fn a_bare_list_of_invoices_reads_like_the_wrapped_document() {
    let wrapped = parse_invoices(FIXTURE).unwrap();
    let value: serde_json::Value = serde_json::from_slice(FIXTURE).unwrap();
    let bare = serde_json::to_vec(&value["Invoices"]).unwrap();
    assert_eq!(parse_invoices(&bare).unwrap(), wrapped);
}

#[test]
fn written_json_reads_back_to_the_same_model() {
    let document = parse_invoices(FIXTURE).unwrap();
    let written = write_invoices(&document);
    assert_eq!(parse_invoices(&written).unwrap(), document);
    let text = String::from_utf8(written).unwrap();
    assert!(text.contains("\"UnitPrice\":12.345"), "amounts are written as exact numbers: {text}");
    assert!(text.contains("\"Date\":\"20260124\""), "{text}");
}

fn error_of(json: &str) -> billing::ParseError {
    parse_invoices(json.as_bytes()).expect_err("must not parse")
}

#[test]
fn malformed_json_says_line_and_column() {
    let error = error_of("{\"Invoices\": [\n  {\"Header\": {\"Currency\": \"EUR\",}}\n]}");
    assert_eq!(error.format, Format::Json);
    assert_eq!(error.location, Location::LineColumn { line: 2, column: 33 });
    assert!(error.to_string().starts_with("JSON line 2, column 33"), "{error}");
}

#[test]
fn a_bad_leaf_names_its_path() {
    let error = error_of(
        r#"{"Invoices": [{}, {"Customers": [{"Subscriptions": [{"PriceLines": [{"UnitPrice": "1,50"}]}]}]}]}"#,
    );
    assert_eq!(
        error.path.as_deref(),
        Some("Invoices[1].Customers[0].Subscriptions[0].PriceLines[0].UnitPrice")
    );
    assert!(error.message.contains("`1,50` is not a decimal amount"), "{error}");

    let error = error_of(r#"{"Invoices": [{"Header": {"Date": "2026-01-23"}}]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Header.Date"));
    assert!(error.message.contains("not a date in the form YYYYMMDD"), "{error}");
}

#[test]
fn numbers_too_big_for_a_decimal_are_errors() {
    let huge = "9".repeat(60);
    let error = error_of(&format!(r#"{{"Invoices": [{{"Totals": {{"TotalVAT": {huge}}}}}]}}"#));
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Totals.TotalVAT"));
    assert!(error.message.contains("does not fit a decimal"), "{error}");
}

#[test]
fn non_utf8_input_names_the_byte() {
    let mut bytes = br#"{"Invoices": [{"Header": {"Description": "caf"#.to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(br#""}}]}"#);
    let bad_byte = bytes.iter().position(|byte| *byte == 0xE9).unwrap();
    let error = parse_invoices(&bytes).unwrap_err();
    assert_eq!(error.location, Location::ByteOffset(bad_byte));
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
}

#[test]
fn absurd_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let json = format!(r#"{{"Invoices": [{{"Unknown": {}{}}}]}}"#, "[".repeat(depth), "]".repeat(depth));
    let error = error_of(&json);
    assert_eq!(error.message, "nested more than 64 levels deep");
    // `{"Invoices": [{"Unknown": ` opens three levels, so the 62nd bracket of the run is the 65th level.
    assert_eq!(error.location, Location::ByteOffset(json.find("[[").unwrap() + 61));
    let within_limit = format!(r#"{{"Invoices": [{{"Unknown": {}{}}}]}}"#, "[".repeat(60), "]".repeat(60));
    assert!(parse_invoices(within_limit.as_bytes()).is_ok());
    let braces_in_strings =
        format!(r#"{{"Invoices": [{{"Header": {{"Description": "{}\""}}}}]}}"#, "[{".repeat(100));
    assert!(parse_invoices(braces_in_strings.as_bytes()).is_ok(), "brackets inside strings do not nest");
}

#[test]
fn objects_where_values_belong_and_trailing_garbage_are_errors() {
    let error = error_of(r#"{"Invoices": [{"Header": {"Currency": {"Code": "EUR"}}}]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Header.Currency"));
    let error = error_of(r#"{"Invoices": []} trailing"#);
    assert!(error.message.contains("trailing characters"), "{error}");
    assert_eq!(parse_invoices(b"{}").unwrap(), InvoiceDocument::default());
}

#[test]
fn escapes_decode_and_broken_strings_and_numbers_say_what_is_wrong() {
    let document = parse_invoices(
        r#"{"Invoices": [{"Header": {"Description": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \t", "Currency": "EUR"}}]}"#
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(document.invoices[0].header.description.as_deref(), Some("café 😀 \"q\" \\ / \t"));
    assert_eq!(document.invoices[0].header.currency.as_deref(), Some("EUR"), "reading goes on after escapes");

    for (json, said) in [
        ("{\"Invoices\": [{\"Header\": {\"Description\": \"a\u{1}b\"}}]}", "control character"),
        (r#"{"Invoices": [{"Header": {"Description": "\ud83d"}}]}"#, "lone leading surrogate"),
        (r#"{"Invoices": [{"Header": {"Description": "\x"}}]}"#, "invalid escape"),
        (r#"{"Invoices": [{"Totals": {"TotalVAT": 01}}]}"#, "invalid number"),
        (r#"{"Invoices": [{"Totals": {"TotalVAT": 1.}}]}"#, "invalid number"),
        (r#"{"Invoices": [{"Totals": {"TotalVAT": tru}}]}"#, "expected a value"),
        (r#"{"Invoices": [{"Header": {"Description": "open"#, "ends inside a string"),
        (r#"{"Invoices": [{"Header": {}},]}"#, "trailing comma"),
        (r#"{"Invoices": [{"Header" {}}]}"#, "expected `:`"),
    ] {
        let error = error_of(json);
        assert!(error.message.contains(said), "{json}: {error}");
    }
}

#[test]
fn a_field_given_twice_is_refused_and_a_record_or_list_written_null_is_absent() {
    let error = error_of(r#"{"Invoices": [{"Header": {"Currency": "EUR", "Currency": "USD"}}]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Header.Currency"));
    assert!(error.message.contains("given twice"), "{error}");
    let error = error_of(r#"{"Invoices": [{"Customers": [{}], "Customers": [{}]}]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Customers"));

    let document =
        parse_invoices(br#"{"Invoices": [{"Header": null, "Customers": null, "Totals": {}}]}"#).unwrap();
    assert_eq!(document.invoices, vec![billing::model::Invoice::default()]);
    let error = error_of(r#"{"Invoices": [{}, null]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[1]"));
    assert!(error.message.contains("expected an object, found null"), "{error}");
    let error = error_of(r#"{"Invoices": [{"Customers": {"A": 1}}]}"#);
    assert!(error.message.contains("expected a list, found an object"), "{error}");
}

#[test]
fn a_field_name_is_found_however_it_is_written_and_only_when_whole() {
    // `Dat` and `DateX` begin like the expected `Date`; an escaped name is
    // the name all the same.
    let document = parse_invoices(
        br#"{"Invoices": [{"Header": {"InvoiceID": 1, "Dat": "x", "DateX": "y", "D\u0061te": "20260123", "Currency": "EUR"}}]}"#,
    )
    .unwrap();
    let header = &document.invoices[0].header;
    assert_eq!(header.date, NaiveDate::from_ymd_opt(2026, 1, 23));
    assert_eq!(header.currency.as_deref(), Some("EUR"));
    let error = error_of(r#"{"Invoices": [{"Header": {"Date": "20260123", "Date": "20260124"}}]}"#);
    assert_eq!(error.path.as_deref(), Some("Invoices[0].Header.Date"), "{error}");
}

#[test]
fn a_field_that_repeats_its_last_value_or_changes_it_reads_each_line_as_written() {
    let lines = ["Usage Fee", "Usage Fee", "Correction", "Usage Fee", "", "Correction"]
        .iter()
        .map(|charge| format!(r#"{{"ChargeType": "{charge}", "SKU": "{charge}"}}"#))
        .collect::<Vec<_>>()
        .join(",");
    let document = parse_invoices(
        format!(r#"[{{"Customers": [{{"Subscriptions": [{{"PriceLines": [{lines}]}}]}}]}}]"#).as_bytes(),
    )
    .unwrap();
    let read: Vec<_> = document.invoices[0].customers[0].subscriptions[0]
        .price_lines
        .iter()
        .map(|line| (line.charge_type.as_deref(), line.sku.as_deref()))
        .collect();
    let expected = [
        Some("Usage Fee"),
        Some("Usage Fee"),
        Some("Correction"),
        Some("Usage Fee"),
        None,
        Some("Correction"),
    ];
    assert_eq!(read, expected.map(|charge| (charge, charge)));
}
