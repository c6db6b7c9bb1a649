//! The page's background worker: it fetches a document from the relay as a
//! stream, reports progress, and hands the page the bytes as a Blob, so the
//! transfer never competes with the page for its main thread.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    AbortController, Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, MessageEvent,
    ReadableStreamDefaultReader, RequestInit, Response,
};
use worker_protocol::{FromWorker, ToWorker, VERSION, decode, encode};

/// The transfers running now, to cancel by generation.
type Running = Rc<RefCell<HashMap<u64, AbortController>>>;

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let running: Running = Rc::default();
    let on_message = {
        let scope = scope.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            match decode::<ToWorker>(&text) {
                Ok(ToWorker::Fetch { generation, url }) => {
                    spawn_local(fetch(scope.clone(), running.clone(), generation, url));
                }
                Ok(ToWorker::Cancel { generation }) => {
                    if let Some(controller) = running.borrow_mut().remove(&generation) {
                        controller.abort();
                    }
                }
                Err(error) => web_sys::console::error_1(&error.into()),
            }
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &FromWorker::Ready { version: VERSION }, None);
}

/// Posts `message`, with `blob` beside it when there is one.
fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker, blob: Option<&Blob>) {
    let parts = Array::of1(&JsValue::from_str(&encode(message)));
    if let Some(blob) = blob {
        parts.push(blob);
    }
    if let Err(error) = scope.post_message(&parts) {
        web_sys::console::error_1(&error);
    }
}

async fn fetch(scope: DedicatedWorkerGlobalScope, running: Running, generation: u64, url: String) {
    let controller = match AbortController::new() {
        Ok(controller) => controller,
        Err(error) => {
            let message = format!("the transfer cannot start: {}", describe(&error));
            return post(&scope, &FromWorker::Broken { generation, received: 0, message }, None);
        }
    };
    let signal = controller.signal();
    running.borrow_mut().insert(generation, controller);
    let ended = transfer(&scope, generation, &url, &signal).await;
    running.borrow_mut().remove(&generation);
    let (message, blob) = match ended {
        Ok((received, blob)) => (FromWorker::Done { generation, received }, Some(blob)),
        Err((received, _)) if signal.aborted() => (FromWorker::Cancelled { generation, received }, None),
        Err((_, Ended::Refused { status, body })) => (FromWorker::Refused { generation, status, body }, None),
        Err((received, Ended::Broken(message))) => {
            (FromWorker::Broken { generation, received, message }, None)
        }
    };
    post(&scope, &message, blob.as_ref());
}

/// Why a transfer stopped short.
enum Ended {
    Refused { status: u16, body: String },
    Broken(String),
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the connection failed".to_owned())
}

/// The whole body as a Blob of the chunks as they came, never copied into
/// wasm memory; `Err` says how many bytes had come.
async fn transfer(
    scope: &DedicatedWorkerGlobalScope,
    generation: u64,
    url: &str,
    signal: &web_sys::AbortSignal,
) -> Result<(u64, Blob), (u64, Ended)> {
    let broken = |received: u64| move |error: JsValue| (received, Ended::Broken(describe(&error)));
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    let response: Response =
        JsFuture::from(scope.fetch_with_str_and_init(url, &init)).await.map_err(broken(0))?.unchecked_into();
    if !response.ok() {
        let body = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|text| text.as_string()),
            Err(_) => None,
        };
        return Err((0, Ended::Refused { status: response.status(), body: body.unwrap_or_default() }));
    }
    let total =
        response.headers().get("content-length").ok().flatten().and_then(|length| length.parse::<u64>().ok());
    post(scope, &FromWorker::Progress { generation, received: 0, total }, None);
    let chunks = Array::new();
    let mut received = 0u64;
    if let Some(body) = response.body() {
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(broken(received))?;
            if Reflect::get(&chunk, &"done".into()).ok().and_then(|done| done.as_bool()) == Some(true) {
                break;
            }
            let value: Uint8Array =
                Reflect::get(&chunk, &"value".into()).map_err(broken(received))?.unchecked_into();
            received += u64::from(value.length());
            chunks.push(&value);
            post(scope, &FromWorker::Progress { generation, received, total }, None);
        }
    }
    // Typed as the relay sent it, so the download opens as what it is.
    let options = BlobPropertyBag::new();
    options.set_type(&response.headers().get("content-type").ok().flatten().unwrap_or_default());
    let blob = Blob::new_with_u8_array_sequence_and_options(&chunks, &options).map_err(broken(received))?;
    Ok((received, blob))
}
