//! The page's background worker: it fetches documents from the relay as a
//! stream, reports progress, reads them, and answers the page's questions
//! about them (crates/analysis), so neither the transfer nor the reading
//! nor the analysis ever competes with the page for its main thread.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
};

use analysis::{Reading, Reply, Workspace};
use billing::publisher::Publishers;
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    AbortController, Blob, BlobPropertyBag, DedicatedWorkerGlobalScope, MessageEvent,
    ReadableStreamDefaultReader, RequestInit, Response,
};
use worker_protocol::{BLOB_PART_BYTES, FromWorker, Slot, ToWorker, VERSION, decode, encode};

/// What the worker keeps between messages.
struct State {
    scope: DedicatedWorkerGlobalScope,
    workspace: RefCell<Workspace>,
    /// The transfers running now, to cancel by generation.
    running: RefCell<HashMap<u64, AbortController>>,
    /// The latest main document asked for. A document is read only if no
    /// main document was asked for since it was: an older main document
    /// that arrives later is not opened over the new one, nor is the other
    /// side of an old one joined with it.
    latest_main: Cell<u64>,
}

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let language = scope.navigator().language().unwrap_or_else(|| "en".to_owned());
    let state = Rc::new(State {
        scope: scope.clone(),
        workspace: RefCell::new(Workspace::new(language)),
        running: RefCell::default(),
        latest_main: Cell::new(0),
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(bytes) = event.data().dyn_ref::<Uint8Array>().map(Uint8Array::to_vec) else { return };
        match decode::<ToWorker>(&bytes) {
            Ok(ToWorker::Open { generation, request, source, slot, publishers }) => {
                if slot == Slot::Main {
                    state.latest_main.set(generation);
                    // The page no longer shows it, and both may not fit.
                    state.workspace.borrow_mut().close();
                }
                let over = state.latest_main.get();
                let publishers = Publishers::with_corrections(publishers);
                let opening = Opening { generation, request, source, slot, publishers, over };
                spawn_local(open(state.clone(), opening));
            }
            Ok(ToWorker::Cancel { generation }) => {
                if let Some(controller) = state.running.borrow_mut().remove(&generation) {
                    controller.abort();
                }
            }
            Ok(ToWorker::Ask { generation, question }) => {
                let reply = state.workspace.borrow_mut().answer(&question);
                match reply {
                    Ok(Reply { answer, file }) => {
                        let blob = file.and_then(|bytes| {
                            let media = match &answer {
                                worker_protocol::Answer::Download { media, .. } => media.as_str(),
                                _ => "",
                            };
                            blob_of(&bytes, media)
                        });
                        post(
                            &state.scope,
                            &FromWorker::Answered { generation, answer: Box::new(answer) },
                            blob.as_ref(),
                        );
                    }
                    Err(message) => post(&state.scope, &FromWorker::Failed { generation, message }, None),
                }
            }
            Err(error) => web_sys::console::error_1(&error.into()),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &FromWorker::Ready { version: VERSION }, None);
}

/// Posts `message`, its buffer transferred, with `blob` beside it when
/// there is one.
fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker, blob: Option<&Blob>) {
    let bytes = Uint8Array::from(encode(message).as_slice());
    let parts = Array::of1(&bytes);
    if let Some(blob) = blob {
        parts.push(blob);
    }
    if let Err(error) = scope.post_message_with_transfer(&parts, &Array::of1(&bytes.buffer())) {
        web_sys::console::error_1(&error);
    }
}

fn blob_of(bytes: &[u8], media: &str) -> Option<Blob> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(media);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()
}

struct Opening {
    generation: u64,
    request: billing::api::DocumentRequest,
    source: worker_protocol::Source,
    slot: Slot,
    publishers: Publishers,
    /// The main document when this was asked for.
    over: u64,
}

async fn open(state: Rc<State>, opening: Opening) {
    let Opening { generation, request, source, slot, publishers, over } = opening;
    let url = source.relay_path(&request);
    let scope = &state.scope;
    let controller = match AbortController::new() {
        Ok(controller) => controller,
        Err(error) => {
            let message = format!("the transfer cannot start: {}", describe(&error));
            return post(scope, &FromWorker::Broken { generation, received: 0, message }, None);
        }
    };
    let signal = controller.signal();
    state.running.borrow_mut().insert(generation, controller);
    let mut reading = Reading::new(slot, request, publishers);
    let superseded = || state.latest_main.get() != over;
    let ended = transfer(scope, generation, &url, &signal, |chunk| {
        if !superseded() {
            reading.feed(chunk);
        }
    })
    .await;
    state.running.borrow_mut().remove(&generation);
    let (received, blob, request_id) = match ended {
        Ok(arrived) => arrived,
        Err((received, _)) if signal.aborted() => {
            return post(scope, &FromWorker::Cancelled { generation, received }, None);
        }
        Err((_, Ended::Refused { status, body })) => {
            return post(scope, &FromWorker::Refused { generation, status, body }, None);
        }
        Err((received, Ended::Broken(message))) => {
            return post(scope, &FromWorker::Broken { generation, received, message }, None);
        }
    };
    if superseded() {
        return post(scope, &FromWorker::Cancelled { generation, received }, None);
    }
    post(scope, &FromWorker::Reading { generation, received }, None);
    let opened = state.workspace.borrow_mut().open(reading);
    match opened {
        Ok(opened) => {
            let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
            let memory = memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length().into();
            let message =
                FromWorker::Opened { generation, received, opened: Box::new(opened), memory, request_id };
            post(scope, &message, (slot == Slot::Main).then_some(&blob));
        }
        Err(message) => post(scope, &FromWorker::Unreadable { generation, received, message }, None),
    }
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

/// Passes each chunk of the body to `read` as it comes, and makes a Blob
/// of the chunks for the download as received; `Err` says how many bytes
/// had come.
async fn transfer(
    scope: &DedicatedWorkerGlobalScope,
    generation: u64,
    url: &str,
    signal: &web_sys::AbortSignal,
    mut read: impl FnMut(&[u8]),
) -> Result<(u64, Blob, Option<u64>), (u64, Ended)> {
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
    let request_id =
        response.headers().get("x-request-id").ok().flatten().and_then(|id| id.parse::<u64>().ok());
    let total =
        response.headers().get("content-length").ok().flatten().and_then(|length| length.parse::<u64>().ok());
    post(scope, &FromWorker::Progress { generation, received: 0, total }, None);
    // The body goes into Blobs of `BLOB_PART_BYTES` as it comes, and the
    // download's Blob is made of those. Made of every chunk at the end, it
    // had the browser take in the whole document at once, busy on both
    // cores just as the page drew the results, and the chunks were all
    // held here until then.
    let parts = Array::new();
    let mut chunks = Array::new();
    let mut chunks_bytes = 0usize;
    let mut received = 0u64;
    // One chunk at a time in wasm memory, its room reused.
    let mut chunk_bytes = Vec::new();
    // A report per chunk would be hundreds a second, each a render of the
    // page: one every tenth of a second says as much.
    let mut reported_at = js_sys::Date::now();
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
            chunks_bytes += value.length() as usize;
            if chunks_bytes >= BLOB_PART_BYTES {
                let part = Blob::new_with_u8_array_sequence(&chunks).map_err(broken(received))?;
                parts.push(&part);
                (chunks, chunks_bytes) = (Array::new(), 0);
            }
            chunk_bytes.resize(value.length() as usize, 0);
            value.copy_to(&mut chunk_bytes);
            read(&chunk_bytes);
            let now = js_sys::Date::now();
            if now - reported_at >= 100.0 {
                reported_at = now;
                post(scope, &FromWorker::Progress { generation, received, total }, None);
            }
        }
    }
    // Typed as the relay sent it, so the download opens as what it is.
    let options = BlobPropertyBag::new();
    options.set_type(&response.headers().get("content-type").ok().flatten().unwrap_or_default());
    let blob = Blob::new_with_blob_sequence_and_options(&parts.concat(&chunks), &options)
        .map_err(broken(received))?;
    Ok((received, blob, request_id))
}
