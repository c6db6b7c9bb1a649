//! The vendor's JSON: read exactly (amounts never pass through `f64`) with
//! errors that say where, and written back in the same shape.

use crate::{
    decode::{check_nesting, parse_with_path},
    error::{Format, ParseError, require_utf8},
    model::{Invoice, InvoiceDocument, SubscriptionDetails},
    text::within_a_read,
    writer::write_document,
};

/// Reads an invoice document: an object with `Invoices`, or a bare list of
/// invoices as some endpoints send it.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    check_nesting(text)?;
    within_a_read(|| {
        if text.trim_start().starts_with('[') {
            Ok(InvoiceDocument { invoices: parse_with_path::<Vec<Invoice>>(text)? })
        } else {
            parse_with_path(text)
        }
    })
}

/// Reads one invoice of a document on its own; `None` leaves saying what
/// is wrong to the reader of the whole document, which knows where it is.
pub(crate) fn parse_invoice(bytes: &[u8]) -> Option<Invoice> {
    within_a_read(|| serde_json::from_slice(bytes).ok())
}

/// Writes the document as the vendor's JSON.
pub fn write_invoices(document: &InvoiceDocument) -> Vec<u8> {
    write_document(Format::Json, document)
}

/// Reads a `subscriptiondetails` answer.
pub fn parse_subscription_details(bytes: &[u8]) -> Result<SubscriptionDetails, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    check_nesting(text)?;
    within_a_read(|| parse_with_path(text))
}

/// Writes a `subscriptiondetails` answer as the vendor's JSON.
pub fn write_subscription_details(details: &SubscriptionDetails) -> Vec<u8> {
    serde_json::to_vec(details).expect("the model always serialises")
}
