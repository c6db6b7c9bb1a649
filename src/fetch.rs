//! Fetching a document from the relay with progress and a real abort; the
//! background worker does the transfer.

use std::sync::Arc;

use billing::InvoiceDocument;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, AbortSignal};

use crate::{
    api::RelayProblem,
    loaded::{Contents, read_contents},
    query::Query,
};

/// A document as it arrived: as a Blob outside wasm memory, for the
/// download exactly as received, and its bytes, to read.
pub struct Received {
    pub blob: web_sys::Blob,
    pub bytes: Vec<u8>,
}

/// Why a document did not arrive whole.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// The relay answered with one of its JSON errors.
    Relay(RelayProblem),
    /// The user cancelled, after this many bytes.
    Cancelled { received: u64 },
    /// The connection failed before or during the body.
    Broken { received: u64, message: String },
}

/// GETs `url` in the background worker, calling `progress(received,
/// total)` as bytes arrive; the transfer stops when `signal` is aborted.
pub async fn fetch_document(
    url: &str,
    signal: &AbortSignal,
    progress: impl Fn(u64, Option<u64>) + 'static,
) -> Result<Received, FetchError> {
    crate::worker_client::fetch_through_worker(url, signal, progress).await
}

/// A JavaScript error in words.
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "an error the browser did not explain".to_owned())
}

/// Fetches and reads an invoice-shaped document, for the margin's other
/// side and the vendor's consolidated view; the error is said in words.
/// Only the model is kept: neither the raw bytes nor a totals check.
pub async fn fetch_invoices(query: Query) -> Result<Arc<InvoiceDocument>, String> {
    let controller = AbortController::new().map_err(|error| describe(&error))?;
    match fetch_document(&query.relay_path(false), &controller.signal(), |_, _| {}).await {
        Ok(received) => match read_contents(&query, &received.bytes) {
            Ok(Contents::Invoices(document)) => Ok(document),
            Ok(_) => Err("the answer is not an invoice document".to_owned()),
            Err(error) => Err(error.to_string()),
        },
        Err(FetchError::Relay(problem)) => Err(format!("{}: {}", problem.title, problem.detail)),
        Err(FetchError::Broken { message, .. }) => Err(message),
        Err(FetchError::Cancelled { .. }) => Err("the transfer was cancelled".to_owned()),
    }
}
