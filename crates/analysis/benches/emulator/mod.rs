//! The emulator's documents for the benches: the huge profile's 2,000
//! customers, as the relay would stream them.

use std::ops::ControlFlow;

use billing::{
    Endpoint, Format,
    api::{DateWindow, DocumentRequest, Scope},
    writer::InvoiceWriter,
};
use chrono::NaiveDate;
use vendor_sim::{
    DataSpec,
    documents::{DocumentKind, Documents},
};

pub const CUSTOMERS: usize = 2000;

pub fn documents() -> Documents {
    Documents::new(DataSpec { seed: 2026, customers: CUSTOMERS, hostile_names: false })
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// The request for the bench's window of `endpoint` in `format`.
pub fn request(endpoint: Endpoint, format: Format) -> DocumentRequest {
    let window = DateWindow::new(date("2025-03-01"), date("2026-11-24")).expect("in order");
    DocumentRequest::new("huge", "v3", endpoint, format, Scope::Window(window)).expect("a window endpoint")
}

/// The emulator's document of `kind` from `from` to `to`.
pub fn document(documents: &Documents, kind: DocumentKind, format: Format, from: &str, to: &str) -> Vec<u8> {
    let mut writer = InvoiceWriter::new(format);
    let mut bytes = writer.start().into_bytes();
    for planned in documents.plan(kind, date(from), date(to), date("2026-11-25")) {
        let _ = documents.write_invoice(kind, &planned, &mut writer, &mut |piece| {
            bytes.extend_from_slice(piece.as_bytes());
            ControlFlow::Continue(())
        });
    }
    bytes.extend_from_slice(writer.finish().as_bytes());
    bytes
}
