//! The page's side of the background worker: the worker starts with the
//! first fetch, and its messages become each request's progress and outcome.
//! A worker that fails or dies fails the requests it held, in words.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
};

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};
use worker_protocol::{FromWorker, ToWorker, VERSION, decode, encode};

use crate::{
    api::relay_problem,
    fetch::{FetchError, Received, describe},
};

/// trunk's loader for the worker's wasm; not content-hashed.
const WORKER_SCRIPT: &str = "/worker_loader.js";

struct Request {
    progress: Rc<dyn Fn(u64, Option<u64>)>,
    /// Resolves the request's promise with the worker's final message.
    finish: Function,
}

struct Connection {
    worker: Worker,
    /// Messages posted before the worker's wasm runs are lost, so they
    /// wait for its `Ready`.
    ready: Cell<bool>,
    waiting: RefCell<Vec<String>>,
    requests: RefCell<HashMap<u64, Request>>,
}

thread_local! {
    static CONNECTION: RefCell<Option<Rc<Connection>>> = const { RefCell::new(None) };
    static NEXT_GENERATION: Cell<u64> = const { Cell::new(1) };
}

impl Connection {
    fn send(&self, message: &ToWorker) {
        let text = encode(message);
        if self.ready.get() {
            let _ = self.worker.post_message(&JsValue::from_str(&text));
        } else {
            self.waiting.borrow_mut().push(text);
        }
    }

    fn receive(&self, data: JsValue) {
        let parts: Array = data.unchecked_into();
        let message = match parts.get(0).as_string().map(|text| decode::<FromWorker>(&text)) {
            Some(Ok(message)) => message,
            _ => return self.fail_all("the background worker sent a message the page cannot read"),
        };
        match &message {
            FromWorker::Ready { version } if *version != VERSION => {
                self.fail_all(
                    "this page and its background worker come from different versions; reload the page",
                );
            }
            FromWorker::Ready { .. } => {
                self.ready.set(true);
                for text in self.waiting.take() {
                    let _ = self.worker.post_message(&JsValue::from_str(&text));
                }
            }
            FromWorker::Progress { generation, received, total } => {
                let progress = self.requests.borrow().get(generation).map(|request| request.progress.clone());
                if let Some(progress) = progress {
                    progress(*received, *total);
                }
            }
            ended => {
                let finished =
                    ended.generation().and_then(|generation| self.requests.borrow_mut().remove(&generation));
                if let Some(request) = finished {
                    let _ = request.finish.call1(&JsValue::NULL, &parts);
                }
            }
        }
    }

    /// Ends every request with `message` and forgets this worker, so the
    /// next fetch starts a fresh one.
    fn fail_all(&self, message: &str) {
        CONNECTION.with_borrow_mut(|connection| *connection = None);
        self.worker.terminate();
        for (generation, request) in self.requests.take() {
            let broken = FromWorker::Broken { generation, received: 0, message: message.to_owned() };
            let parts = Array::of1(&JsValue::from_str(&encode(&broken)));
            let _ = request.finish.call1(&JsValue::NULL, &parts);
        }
    }
}

/// The running worker, started now if there is none.
fn connection() -> Result<Rc<Connection>, String> {
    if let Some(connection) = CONNECTION.with_borrow(Clone::clone) {
        return Ok(connection);
    }
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_SCRIPT, &options)
        .map_err(|error| format!("the background worker cannot start: {}", describe(&error)))?;
    let connection = Rc::new(Connection {
        worker: worker.clone(),
        ready: Cell::new(false),
        waiting: RefCell::default(),
        requests: RefCell::default(),
    });
    let listening = Rc::downgrade(&connection);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(connection) = listening.upgrade() {
            connection.receive(event.data());
        }
    });
    let failing = Rc::downgrade(&connection);
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        if let Some(connection) = failing.upgrade() {
            let said = event.message();
            let said =
                if said.is_empty() { "it could not load, or ran out of memory".to_owned() } else { said };
            connection.fail_all(&format!("the background worker failed: {said}"));
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // Both live as long as the worker; a new worker is rare (after a failure).
    on_message.forget();
    on_error.forget();
    CONNECTION.with_borrow_mut(|current| *current = Some(connection.clone()));
    Ok(connection)
}

/// GETs `url` through the worker, calling `progress(received, total)` as
/// bytes arrive; the transfer stops when `signal` is aborted.
pub async fn fetch_through_worker(
    url: &str,
    signal: &AbortSignal,
    progress: impl Fn(u64, Option<u64>) + 'static,
) -> Result<Received, FetchError> {
    let connection = connection().map_err(|message| FetchError::Broken { received: 0, message })?;
    let generation = NEXT_GENERATION.replace(NEXT_GENERATION.get() + 1);
    let mut finish = None;
    let ended = Promise::new(&mut |resolve, _| finish = Some(resolve));
    let finish = finish.expect("a promise calls its executor at once");
    connection.requests.borrow_mut().insert(generation, Request { progress: Rc::new(progress), finish });
    connection.send(&ToWorker::Fetch { generation, url: url.to_owned() });
    let cancelling = connection.clone();
    let on_abort = Closure::<dyn FnMut()>::new(move || cancelling.send(&ToWorker::Cancel { generation }));
    let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    let parts: Array = JsFuture::from(ended).await.unwrap_or_default().unchecked_into();
    let _ = signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    let broken = |received, message: String| FetchError::Broken { received, message };
    let message = parts
        .get(0)
        .as_string()
        .ok_or_else(|| broken(0, "the background worker gave no answer".to_owned()))
        .and_then(|text| decode::<FromWorker>(&text).map_err(|message| broken(0, message)))?;
    match message {
        FromWorker::Done { received, .. } => {
            let blob: Blob =
                parts.get(1).dyn_into().map_err(|_| broken(received, "no document came".to_owned()))?;
            let buffer = JsFuture::from(blob.array_buffer())
                .await
                .map_err(|error| broken(received, describe(&error)))?;
            Ok(Received { bytes: Uint8Array::new(&buffer).to_vec(), blob })
        }
        FromWorker::Refused { status, body, .. } => Err(FetchError::Relay(relay_problem(status, &body))),
        FromWorker::Cancelled { received, .. } => Err(FetchError::Cancelled { received }),
        FromWorker::Broken { received, message, .. } => Err(FetchError::Broken { received, message }),
        FromWorker::Ready { .. } | FromWorker::Progress { .. } => {
            Err(broken(0, "the background worker ended the transfer without an outcome".to_owned()))
        }
    }
}
