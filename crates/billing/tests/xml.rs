//! Reading the vendor's XML into the same model as its JSON, and every
//! hostile input with what and where it went wrong.

use billing::{Format, InvoiceDocument, error::Location, json, xml::parse_invoices};

const FIXTURE: &[u8] = include_bytes!("fixtures/invoices.xml");

#[test]
fn the_xml_fixture_reads_to_the_same_model_as_the_json_fixture() {
    let from_xml = parse_invoices(FIXTURE).unwrap();
    let from_json = json::parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap();
    assert_eq!(from_xml, from_json);
    assert_eq!(from_xml.invoices[0].receiver.company_name.as_deref(), Some("Reseller & Zonen B.V."));
}

#[test]
fn xml_read_then_written_as_json_reads_back_the_same() {
    let from_xml = parse_invoices(FIXTURE).unwrap();
    assert_eq!(json::parse_invoices(&json::write_invoices(&from_xml)).unwrap(), from_xml);
}

fn error_of(xml: &str) -> billing::ParseError {
    let error = parse_invoices(xml.as_bytes()).expect_err("must not parse");
    assert_eq!(error.format, Format::Xml);
    error
}

#[test]
fn a_bad_leaf_names_its_element_path_and_line() {
    let xml = "<InvoiceResponse>\n<Invoice/>\n<Invoice>\n<Customers>\n<Customer/>\n<Customer>\n<Subscriptions><Subscription><PriceLines><PriceLine>\n  <UnitPrice>1,50</UnitPrice>\n</PriceLine></PriceLines></Subscription></Subscriptions>\n</Customer></Customers></Invoice></InvoiceResponse>";
    let error = error_of(xml);
    assert_eq!(
        error.path.as_deref(),
        Some(
            "Invoice[2]/Customers/Customer[2]/Subscriptions/Subscription[1]/PriceLines/PriceLine[1]/UnitPrice"
        )
    );
    assert_eq!(error.location, Location::LineColumn { line: 8, column: 3 });
    assert!(error.message.contains("`1,50` is not a decimal amount"), "{error}");
}

#[test]
fn malformed_xml_says_where() {
    let error =
        error_of("<InvoiceResponse>\n  <Invoice>\n    <Header></Heder>\n  </Invoice>\n</InvoiceResponse>");
    let Location::LineColumn { line, .. } = error.location else { panic!("{error}") };
    assert_eq!(line, 3, "{error}");
    assert_eq!(error.path.as_deref(), Some("InvoiceResponse/Invoice/Header"));
}

#[test]
fn doctype_and_entities_are_refused_never_expanded() {
    let billion_laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<InvoiceResponse><Invoice><Header><Description>&lol2;</Description></Header></Invoice></InvoiceResponse>";
    let error = error_of(billion_laughs);
    assert!(error.message.contains("DOCTYPE"), "{error}");
    assert_eq!(error.location, Location::LineColumn { line: 2, column: 1 });

    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Description>&ext;</Description></Header></Invoice></InvoiceResponse>",
    );
    assert_eq!(error.message, "unknown entity `&ext;`");
    assert_eq!(error.path.as_deref(), Some("InvoiceResponse/Invoice/Header/Description"));
}

#[test]
fn absurd_nesting_is_refused() {
    let xml = format!(
        "<InvoiceResponse><Invoice>{}{}</Invoice></InvoiceResponse>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert_eq!(error_of(&xml).message, "nested more than 64 levels deep");
}

#[test]
fn truncated_non_utf8_and_empty_documents_are_errors() {
    let truncated = &FIXTURE[..FIXTURE.len() / 2];
    let error = parse_invoices(truncated).unwrap_err();
    let says_it_ended = ["ends inside", "end of input", "not valid UTF-8"];
    assert!(says_it_ended.iter().any(|said| error.message.contains(said)), "{error}");

    let error = parse_invoices(b"<InvoiceResponse><Invoice><Header><Description>caf\xE9</Description></Header></Invoice></InvoiceResponse>").unwrap_err();
    assert_eq!(error.location, Location::ByteOffset(50));

    assert_eq!(error_of("").message, "no root element");
    assert_eq!(error_of("<InvoiceResponse/><Other/>").message, "a second root element");
    assert_eq!(parse_invoices(b"<InvoiceResponse/>").unwrap(), InvoiceDocument::default());
}

#[test]
fn text_beside_child_elements_is_an_error() {
    let error = error_of(
        "<InvoiceResponse><Invoice><Header>stray<Currency>EUR</Currency></Header></Invoice></InvoiceResponse>",
    );
    assert!(error.message.contains("text `stray` beside child elements"), "{error}");
}

#[test]
fn written_xml_has_the_vendor_shape_and_reads_back_the_same() {
    let document = parse_invoices(FIXTURE).unwrap();
    let written = billing::xml::write_invoices(&document);
    assert_eq!(parse_invoices(&written).unwrap(), document);
    let text = String::from_utf8(written).unwrap();
    assert!(text.contains("<InvoiceResponse xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"));
    assert!(text.contains("<Customers><Customer>"), "plural wrapper, singular children");
    assert!(text.contains("<PriceLines><PriceLine>"));
    assert!(text.contains("<Fax />"), "empty values self-close");
    assert!(text.contains("<UnitPrice>12.345</UnitPrice>"), "amounts exact");
    assert!(text.contains("<CompanyName>Reseller &amp; Zonen B.V.</CompanyName>"), "text escaped");
    assert!(!text.contains("<InvoiceResponse>"), "no attribute-less root");
}

#[test]
fn json_to_xml_to_json_keeps_the_model() {
    let from_json = json::parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap();
    let through_xml = parse_invoices(&billing::xml::write_invoices(&from_json)).unwrap();
    assert_eq!(json::parse_invoices(&json::write_invoices(&through_xml)).unwrap(), from_json);
}

#[test]
fn a_record_holding_text_and_a_value_holding_elements_are_errors_at_their_element() {
    let error = error_of("<InvoiceResponse><Invoice>\n<Header>EUR</Header></Invoice></InvoiceResponse>");
    assert!(error.message.contains("expected elements, found the text `EUR`"), "{error}");
    assert_eq!(error.path.as_deref(), Some("Invoice[1]/Header"));
    assert_eq!(error.location, Location::LineColumn { line: 2, column: 1 });

    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Currency><Code>EUR</Code></Currency></Header></Invoice></InvoiceResponse>",
    );
    assert!(error.message.contains("expected a value"), "{error}");
    assert_eq!(error.path.as_deref(), Some("Invoice[1]/Header/Currency"));

    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency><Currency>USD</Currency></Header></Invoice></InvoiceResponse>",
    );
    assert!(error.message.contains("given twice"), "{error}");
}

#[test]
fn unknown_elements_are_read_over_whatever_they_hold() {
    let document = parse_invoices(
        b"<InvoiceResponse><Extra><Invoice/></Extra><Invoice><Header><Unknown><Deep a=\"1\">x<y/></Deep></Unknown><Currency>EUR</Currency></Header></Invoice></InvoiceResponse>",
    )
    .unwrap();
    assert_eq!(document.invoices.len(), 1, "only the root's own Invoice children are invoices");
    assert_eq!(document.invoices[0].header.currency.as_deref(), Some("EUR"));
}

/// A header with `currency` written between two other fields.
fn with_currency(currency: &str) -> InvoiceDocument {
    let xml = format!(
        "<InvoiceResponse><Invoice><Header>\n  <InvoiceID>7</InvoiceID>{currency}<Description>x</Description>\n</Header></Invoice></InvoiceResponse>"
    );
    parse_invoices(xml.as_bytes()).unwrap_or_else(|error| panic!("{currency}: {error}"))
}

#[test]
fn a_value_reads_alike_however_its_element_is_written() {
    // Plain elements are read without their events; every other way of
    // writing the same value goes through the events and must agree.
    let plain = with_currency("<Currency>EUR</Currency>");
    assert_eq!(plain.invoices[0].header.currency.as_deref(), Some("EUR"));
    assert_eq!(plain.invoices[0].header.description.as_deref(), Some("x"));
    for way in [
        "<Currency><![CDATA[EUR]]></Currency>",
        "<Currency>E<!-- a comment -->UR</Currency>",
        "<Currency>EUR</Currency >",
        "<x:Currency xmlns:x=\"urn:x\">EUR</x:Currency>",
        "<Currency>&#69;U&#x52;</Currency>",
        "<Currency code=\"iso\">EUR</Currency>",
        "\r\n\t <Currency>EUR</Currency>\r\n",
        "<?note?><Currency>EUR</Currency>",
    ] {
        assert_eq!(with_currency(way), plain, "{way}");
    }
    let absent = with_currency("");
    assert_eq!(absent.invoices[0].header.currency, None);
    for way in ["<Currency/>", "<Currency />", "<Currency></Currency>", "<Currency> \n </Currency>"] {
        assert_eq!(with_currency(way), absent, "{way}");
    }
}

#[test]
fn plain_elements_keep_the_document_checked_around_them() {
    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency>stray</Header></Invoice></InvoiceResponse>",
    );
    assert!(error.message.contains("text `stray` beside child elements"), "{error}");

    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency>\n<Type>A</Type></Heder></Invoice></InvoiceResponse>",
    );
    assert_eq!(error.location, Location::LineColumn { line: 2, column: 15 }, "{error}");

    let error = error_of(
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currencies></Header></Invoice></InvoiceResponse>",
    );
    assert_eq!(error.path.as_deref(), Some("InvoiceResponse/Invoice/Header/Currency"), "{error}");

    let error = error_of("<InvoiceResponse><Invoice><Header><Currency>EUR</Currency>");
    assert!(error.message.contains("ends inside <Header>"), "{error}");
}
