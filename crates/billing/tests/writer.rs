//! The piecewise writer the emulator streams with gives the same bytes as
//! writing the whole model, and its JSON is serde's own.

use billing::{Format, InvoiceDocument, json, writer::InvoiceWriter, xml};

fn fixture() -> InvoiceDocument {
    json::parse_invoices(include_bytes!("fixtures/customerinvoices.json")).unwrap()
}

fn piece_by_piece(format: Format, document: &InvoiceDocument) -> Vec<u8> {
    let mut writer = InvoiceWriter::new(format);
    let mut out = writer.start();
    for invoice in &document.invoices {
        out += &writer.open_invoice(&invoice.header, &invoice.sender, &invoice.receiver);
        for customer in &invoice.customers {
            out += &writer.customer(customer);
        }
        out += &writer.close_invoice(&invoice.totals);
    }
    out += &writer.finish();
    out.into_bytes()
}

#[test]
fn streamed_pieces_are_the_whole_document() {
    let document = fixture();
    assert_eq!(piece_by_piece(Format::Xml, &document), xml::write_invoices(&document));
    assert_eq!(piece_by_piece(Format::Json, &document), json::write_invoices(&document));
}

#[test]
fn streamed_json_is_what_serde_writes_for_the_model() {
    let document = fixture();
    assert_eq!(json::write_invoices(&document), serde_json::to_vec(&document).unwrap());
}

#[test]
fn an_invoice_without_customers_writes_an_empty_wrapper_that_reads_back() {
    let mut document = fixture();
    document.invoices[1].customers.clear();
    let xml_bytes = piece_by_piece(Format::Xml, &document);
    assert!(String::from_utf8_lossy(&xml_bytes).contains("<Customers /><Totals>"));
    assert_eq!(xml::parse_invoices(&xml_bytes).unwrap(), document);
    assert_eq!(json::parse_invoices(&piece_by_piece(Format::Json, &document)).unwrap(), document);
}
