//! A document's repeated text is held once per document: every reader
//! (whole or streamed, JSON or XML) shares equal values within the document
//! it reads, and nothing with any other document.

use std::collections::HashMap;

use billing::{Format, InvoiceDocument, json, rows::rows, streaming::InvoiceStream, xml};

const DOCUMENTS: [(Format, &[u8]); 4] = [
    (Format::Json, include_bytes!("fixtures/invoices.json")),
    (Format::Json, include_bytes!("fixtures/consolidatedinvoices.json")),
    (Format::Xml, include_bytes!("fixtures/invoices.xml")),
    (Format::Xml, include_bytes!("fixtures/customerinvoices.xml")),
];

fn whole(format: Format, bytes: &[u8]) -> InvoiceDocument {
    match format {
        Format::Json => json::parse_invoices(bytes),
        Format::Xml => xml::parse_invoices(bytes),
    }
    .expect("a valid fixture")
}

fn streamed(format: Format, bytes: &[u8], chunk: usize) -> InvoiceDocument {
    let mut stream = InvoiceStream::new(format);
    for part in bytes.chunks(chunk) {
        stream.feed(part);
    }
    stream.finish().expect("a valid fixture")
}

/// Where each value of the repeating fields is held, by value.
fn addresses(document: &InvoiceDocument) -> HashMap<String, Vec<*const u8>> {
    let mut held: HashMap<String, Vec<*const u8>> = HashMap::new();
    for row in rows(document) {
        let texts = [
            &row.invoice.header.currency,
            &row.customer.company_name,
            &row.line.charge_type,
            &row.line.quantity_type,
            &row.line.description,
        ];
        for text in texts.into_iter().flatten() {
            held.entry(text.to_string()).or_default().push(text.as_ptr());
        }
    }
    held
}

fn assert_each_value_held_once(document: &InvoiceDocument, what: &str) {
    let held = addresses(document);
    assert!(held.values().any(|places| places.len() > 1), "{what}: the fixture repeats some text");
    for (value, places) in held {
        assert!(places.iter().all(|&place| place == places[0]), "{what}: `{value}` is held more than once");
    }
}

#[test]
fn every_reader_holds_each_repeated_value_once() {
    for (format, bytes) in DOCUMENTS {
        assert_each_value_held_once(&whole(format, bytes), &format!("{format:?} whole"));
        for chunk in [17, 4096] {
            let document = streamed(format, bytes, chunk);
            assert_each_value_held_once(&document, &format!("{format:?} in chunks of {chunk}"));
            assert_eq!(document, whole(format, bytes));
        }
    }
}

#[test]
fn two_documents_share_nothing() {
    let (format, bytes) = DOCUMENTS[0];
    let (first, second) = (whole(format, bytes), streamed(format, bytes, 4096));
    let (first, second) = (addresses(&first), addresses(&second));
    for (value, places) in &first {
        assert!(!second[value].contains(&places[0]), "`{value}` outlives its document's read");
    }
}
