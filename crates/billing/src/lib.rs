//! What the vendor's Billing API offers and what the relay says about it.
//!
//! Pure: no I/O, so the same code runs in the relay, the emulator and the
//! browser.

pub mod api;
pub mod changes;
pub mod charts;
pub mod csv_export;
pub mod error;
pub mod exceptions;
mod fields;
pub mod json;
mod leaf;
pub mod lines;
pub mod matching;
pub mod model;
pub mod publisher;
pub mod rows;
pub mod scalars;
pub mod streaming;
pub mod text;
pub mod totals;
pub mod writer;
pub mod xml;
mod xml_out;

pub use api::{Endpoint, Generation, ProfileSummary, Role};
pub use error::{Format, ParseError};
pub use model::InvoiceDocument;

/// A whole invoice document in `format`, read at once.
pub fn parse_invoices(format: Format, bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    match format {
        Format::Json => json::parse_invoices(bytes),
        Format::Xml => xml::parse_invoices(bytes),
    }
}
