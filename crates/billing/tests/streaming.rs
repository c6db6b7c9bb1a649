//! Reading a document as it arrives: whatever the chunks, the same model as
//! reading it whole, and for a broken document the same error at the same
//! place.

use billing::{Format, InvoiceDocument, ParseError, json, streaming::InvoiceStream, xml};

const DOCUMENTS: [(Format, &[u8]); 8] = [
    (Format::Json, include_bytes!("fixtures/invoices.json")),
    (Format::Json, include_bytes!("fixtures/customerinvoices.json")),
    (Format::Json, include_bytes!("fixtures/consolidatedinvoices.json")),
    (Format::Json, include_bytes!("fixtures/current-invoices.json")),
    (Format::Json, include_bytes!("fixtures/example-invoices.json")),
    (Format::Xml, include_bytes!("fixtures/invoices.xml")),
    (Format::Xml, include_bytes!("fixtures/customerinvoices.xml")),
    (Format::Xml, include_bytes!("fixtures/consolidatedinvoices.xml")),
];

fn whole(format: Format, bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    match format {
        Format::Json => json::parse_invoices(bytes),
        Format::Xml => xml::parse_invoices(bytes),
    }
}

fn streamed(format: Format, bytes: &[u8], chunk: usize) -> Result<InvoiceDocument, ParseError> {
    let mut stream = InvoiceStream::new(format);
    for part in bytes.chunks(chunk.max(1)) {
        stream.feed(part);
    }
    stream.finish()
}

const CHUNKS: [usize; 6] = [1, 2, 3, 17, 4096, usize::MAX];

fn assert_streams_like_whole(format: Format, bytes: &[u8], what: &str) {
    let expected = whole(format, bytes);
    for chunk in CHUNKS {
        let chunk = chunk.min(bytes.len());
        assert_eq!(streamed(format, bytes, chunk), expected, "{what} in chunks of {chunk}");
    }
}

#[test]
fn every_fixture_reads_the_same_in_any_chunks() {
    for (index, (format, bytes)) in DOCUMENTS.into_iter().enumerate() {
        assert!(whole(format, bytes).is_ok(), "fixture {index} reads");
        assert_streams_like_whole(format, bytes, &format!("fixture {index}"));
    }
}

#[test]
fn written_documents_read_the_same_in_either_format() {
    let document = json::parse_invoices(DOCUMENTS[0].1).unwrap();
    for (format, written) in
        [(Format::Json, json::write_invoices(&document)), (Format::Xml, xml::write_invoices(&document))]
    {
        assert_eq!(streamed(format, &written, 7), Ok(document.clone()), "{format}");
    }
}

#[test]
fn invoices_are_read_as_soon_as_they_are_in() {
    for (index, (format, bytes)) in DOCUMENTS.into_iter().enumerate() {
        let count = whole(format, bytes).unwrap().invoices.len();
        let closing = match format {
            Format::Json => bytes.iter().rposition(|&byte| byte == b']').unwrap(),
            Format::Xml => bytes.windows(2).rposition(|pair| pair == b"</").unwrap(),
        };
        let mut stream = InvoiceStream::new(format);
        stream.feed(&bytes[..closing]);
        assert_eq!(
            stream.invoices().len(),
            count,
            "fixture {index}: every invoice read before the root closes"
        );
        assert!(
            stream.held() < bytes.len() / 2,
            "fixture {index}: {} bytes held of {}",
            stream.held(),
            bytes.len()
        );
    }
}

/// Invoices far larger than a chunk, of sizes that grow and shrink, are
/// each read once they are whole, holding little more than the largest.
#[test]
fn large_invoices_of_any_size_are_read_as_they_close() {
    let fixture = json::parse_invoices(DOCUMENTS[0].1).unwrap();
    let invoice_with = |copies: usize| {
        let mut invoice = fixture.invoices[0].clone();
        invoice.customers = std::iter::repeat_n(invoice.customers.clone(), copies).flatten().collect();
        invoice
    };
    let sizes = [40, 400, 90, 900, 3, 300, 310, 1];
    let document = InvoiceDocument { invoices: sizes.into_iter().map(invoice_with).collect() };
    let bytes = json::write_invoices(&document);
    let largest = json::write_invoices(&InvoiceDocument { invoices: vec![invoice_with(900)] }).len();
    assert!(largest > 8 * 64 * 1024, "the largest invoice spans many chunks: {largest} bytes");
    let closing = bytes.iter().rposition(|&byte| byte == b']').unwrap();
    for chunk in [1000, 4096, 65536, 300_000] {
        let mut stream = InvoiceStream::new(Format::Json);
        let mut most_held = 0;
        for part in bytes[..closing].chunks(chunk) {
            stream.feed(part);
            most_held = most_held.max(stream.held());
        }
        assert_eq!(
            stream.invoices().len(),
            sizes.len(),
            "in chunks of {chunk}: all read before the root closes"
        );
        assert!(most_held < largest * 5 / 4 + chunk, "in chunks of {chunk}: {most_held} bytes held");
        stream.feed(&bytes[closing..]);
        assert_eq!(stream.finish(), Ok(document.clone()), "in chunks of {chunk}");
    }
}

/// The closing tag is told from longer names it begins, wherever the
/// chunks cut it, and may have spaces before its `>`.
#[test]
fn an_invoice_ends_at_its_own_closing_tag() {
    let document = "<InvoiceResponse><ns:Invoice><ns:InvoiceLines><Line/></ns:InvoiceLines>\
                    <Header><Currency>EUR</Currency></Header></ns:Invoice \n><ns:Invoice><Header><Currency>USD</Currency></Header></ns:Invoice>\
                    </InvoiceResponse>";
    let closing = document.rfind("</").unwrap();
    for chunk in [1, 2, 5, 9, 64] {
        let mut stream = InvoiceStream::new(Format::Xml);
        for part in document.as_bytes()[..closing].chunks(chunk) {
            stream.feed(part);
        }
        let currencies: Vec<_> =
            stream.invoices().iter().map(|invoice| invoice.header.currency.as_deref()).collect();
        assert_eq!(currencies, [Some("EUR"), Some("USD")], "in chunks of {chunk}");
    }
}

#[test]
fn hostile_documents_fail_as_they_fail_whole() {
    let deep_json = format!(r#"{{"Invoices": [{{"Unknown": {}{}}}]}}"#, "[".repeat(500), "]".repeat(500));
    let deep_xml = format!(
        "<InvoiceResponse><Invoice>{}{}</Invoice></InvoiceResponse>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    let json_cases = [
        "{\"Invoices\": [\n  {\"Header\": {\"Currency\": \"EUR\",}}\n]}",
        r#"{"Invoices": [{}, {"Customers": [{"Subscriptions": [{"PriceLines": [{"UnitPrice": "1,50"}]}]}]}]}"#,
        r#"{"Invoices": [{"Header": {"Date": "2026-01-23"}}]}"#,
        r#"{"Invoices": [{"Header": {"Currency": {"Code": "EUR"}}}]}"#,
        r#"{"Invoices": []} trailing"#,
        r#"{"Invoices": [{}, null]}"#,
        r#"{"Invoices": [{}], "Invoices": [{}]}"#,
        r#"{"Invoic\u0065s": [{"Header": {"Currency": "EUR"}}]}"#,
        r#"{"Other": [{"Header": 5}], "Invoices": [{"Header": {"Currency": "EUR"}}]}"#,
        r#"[{"Header": {"Currency": "EUR"}}, {"Header": {"Date": "x"}}]"#,
        r#"{"Invoices": [{"Header": {"Description": "}]}\"{["}}]}"#,
        r#"{"Invoices": [{}]}]"#,
        r#"{"Invoices": [{"Header": {"Description": "café € 😀 \u00e9"}}, {"Header": {"Currency": "EUR", "Description": null}}]}"#,
        r#"{"Invoices": [{"Header": {"Currency": "EUR"}} {"Header": {}}]}"#,
        r#"{"Invoices": [{"Header": {"Currency": "EUR"}},]}"#,
        "{}",
        "",
        "[",
        &deep_json,
    ];
    for case in json_cases {
        assert_streams_like_whole(Format::Json, case.as_bytes(), case);
    }
    let xml_cases = [
        "<InvoiceResponse>\n<Invoice/>\n<Invoice>\n<Customers>\n<Customer/>\n<Customer>\n<Subscriptions><Subscription><PriceLines><PriceLine>\n  <UnitPrice>1,50</UnitPrice>\n</PriceLine></PriceLines></Subscription></Subscriptions>\n</Customer></Customers></Invoice></InvoiceResponse>",
        "<InvoiceResponse>\n  <Invoice>\n    <Header></Heder>\n  </Invoice>\n</InvoiceResponse>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<InvoiceResponse><Invoice><Header><Description>&lol2;</Description></Header></Invoice></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Description>&ext;</Description></Header></Invoice></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header>stray<Currency>EUR</Currency></Header></Invoice></InvoiceResponse>",
        "<InvoiceResponse><!-- <Invoice> --><x:Invoice a=\"/>\"><![CDATA[</Invoice>]]></x:Invoice><?pi <Invoice>?></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency></Header></Invoice><Other/></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency></Header></Invoice></InvoiceResponse><Second/>",
        "<InvoiceResponse><Invoice></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency></Header><!-- </Invoice> --></Invoice><Invoice/></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Description><![CDATA[</Invoice>]]></Description></Header></Invoice></InvoiceResponse>",
        "<InvoiceResponse><Invoice><Header><Currency>EUR</Currency></Header></Invoice\n><Invoice></Invoice x></InvoiceResponse>",
        "<InvoiceResponse/><Other/>",
        "<InvoiceResponse/>",
        "</Invoice>",
        "",
        &deep_xml,
    ];
    for case in xml_cases {
        assert_streams_like_whole(Format::Xml, case.as_bytes(), case);
    }
    // The root, its list and the invoice are three of the 64 levels a
    // document may nest: an invoice read on its own could go two deeper.
    for inside in [61, 62] {
        let nested =
            format!(r#"{{"Invoices": [{{"Unknown": {}{}}}]}}"#, "[".repeat(inside), "]".repeat(inside));
        let expected = whole(Format::Json, nested.as_bytes());
        assert_eq!(expected.is_ok(), inside == 61, "{inside} levels inside an invoice");
        assert_streams_like_whole(
            Format::Json,
            nested.as_bytes(),
            &format!("{inside} levels inside an invoice"),
        );
    }
    let mut not_utf8 = br#"{"Invoices": [{"Header": {"Description": "caf"#.to_vec();
    not_utf8.push(0xE9);
    not_utf8.extend_from_slice(br#""}}]}"#);
    assert_streams_like_whole(Format::Json, &not_utf8, "not UTF-8");
}

/// A document cut short anywhere, or with any byte broken, fails as it
/// fails whole: the same words, line, column and path.
#[test]
fn cut_or_broken_anywhere_fails_as_it_fails_whole() {
    for (index, (format, bytes)) in DOCUMENTS.into_iter().enumerate() {
        let step = (bytes.len() / 150).max(1);
        for at in (0..bytes.len()).step_by(step) {
            let cut = &bytes[..at];
            assert_eq!(streamed(format, cut, 64), whole(format, cut), "fixture {index} cut at {at}");
            for broken_with in [b'#', b'}', b'<', b'"'] {
                let mut broken = bytes.to_vec();
                broken[at] = broken_with;
                assert_eq!(
                    streamed(format, &broken, 64),
                    whole(format, &broken),
                    "fixture {index}, byte {at} broken with {}",
                    broken_with as char
                );
            }
        }
    }
}
