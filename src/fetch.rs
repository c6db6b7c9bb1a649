//! Fetching a document from the relay with progress and a real abort, by
//! reading the response body as a stream.

use std::sync::Arc;

use billing::InvoiceDocument;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, ReadableStreamDefaultReader, RequestInit, Response};

use crate::{
    api::{RelayProblem, relay_problem},
    loaded::{Contents, read_contents},
    query::Query,
};

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

/// GETs `url`, calling `progress(received, total)` as bytes arrive; the
/// transfer stops when `signal` is aborted.
pub async fn fetch_document(
    url: &str,
    signal: &AbortSignal,
    progress: impl Fn(u64, Option<u64>),
) -> Result<Vec<u8>, FetchError> {
    let broken = |received: u64, error: JsValue| {
        if signal.aborted() {
            FetchError::Cancelled { received }
        } else {
            FetchError::Broken { received, message: describe(&error) }
        }
    };
    let window = web_sys::window().expect("a browser window");
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|error| broken(0, error))?
        .unchecked_into();
    if !response.ok() {
        let status = response.status();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|text| text.as_string()),
            Err(_) => None,
        };
        return Err(FetchError::Relay(relay_problem(status, text.as_deref().unwrap_or_default())));
    }
    let total =
        response.headers().get("content-length").ok().flatten().and_then(|length| length.parse::<u64>().ok());
    progress(0, total);
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(256 << 20) as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|error| broken(bytes.len() as u64, error))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done")).ok().and_then(|done| done.as_bool());
        if done == Some(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|error| broken(bytes.len() as u64, error))?
            .unchecked_into();
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the connection failed".to_owned())
}

/// Fetches and reads an invoice-shaped document, for the margin's other
/// side and the vendor's consolidated view; the error is said in words.
/// Only the model is kept: neither the raw bytes nor a totals check.
pub async fn fetch_invoices(query: Query) -> Result<Arc<InvoiceDocument>, String> {
    let controller = AbortController::new().map_err(|error| describe(&error))?;
    match fetch_document(&query.relay_path(false), &controller.signal(), |_, _| {}).await {
        Ok(bytes) => match read_contents(&query, &bytes) {
            Ok(Contents::Invoices(document)) => Ok(document),
            Ok(_) => Err("the answer is not an invoice document".to_owned()),
            Err(error) => Err(error.to_string()),
        },
        Err(FetchError::Relay(problem)) => Err(format!("{}: {}", problem.title, problem.detail)),
        Err(FetchError::Broken { message, .. }) => Err(message),
        Err(FetchError::Cancelled { .. }) => Err("the transfer was cancelled".to_owned()),
    }
}
