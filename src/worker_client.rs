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
use worker_protocol::{
    Answer, FromWorker, Opened, Question, Slot, Source, ToWorker, VERSION, decode, encode,
};

use billing::api::DocumentRequest;

use crate::api::{RelayProblem, relay_problem};

/// Why a document did not open.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// The relay answered with one of its JSON errors.
    Relay(RelayProblem),
    /// The user cancelled, after this many bytes.
    Cancelled { received: u64 },
    /// The connection or the worker failed before the document was read.
    Broken { received: u64, message: String },
    /// Every byte came, but they are not a readable document.
    Unreadable { message: String },
}

impl FetchError {
    /// In words, for a second document the analysis asked for.
    pub fn in_words(&self) -> String {
        match self {
            Self::Relay(problem) => format!("{}: {}", problem.title, problem.detail),
            Self::Broken { message, .. } | Self::Unreadable { message } => message.clone(),
            Self::Cancelled { .. } => "the transfer was cancelled".to_owned(),
        }
    }
}

/// A JavaScript error in words.
fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "an error the browser did not explain".to_owned())
}

/// What a request is failed with when the worker's answer is not one to it.
pub const OUT_OF_TURN: &str = "the background worker answered out of turn";

/// trunk's loader for the worker's wasm; not content-hashed.
const WORKER_SCRIPT: &str = "/worker_loader.js";

/// Where an opening document stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Receiving {
        received: u64,
        total: Option<u64>,
    },
    /// Every byte came; the worker reads them.
    Reading {
        received: u64,
    },
}

struct Request {
    progress: Rc<dyn Fn(Stage)>,
    /// Set once the worker reads the document: cancelling then stops the
    /// worker itself, since it reads without pausing for messages.
    reading: Cell<Option<u64>>,
    /// Resolves the request's promise, with the Blob the worker posted
    /// beside its last word, if any.
    finish: Function,
    /// The last word, read once here for the request to take when its
    /// promise resolves: an opened document's can be megabytes.
    answer: Rc<Cell<Option<FromWorker>>>,
}

struct Connection {
    worker: Worker,
    /// Messages posted before the worker's wasm runs are lost, so they
    /// wait for its `Ready`.
    ready: Cell<bool>,
    waiting: RefCell<Vec<Vec<u8>>>,
    requests: RefCell<HashMap<u64, Request>>,
}

thread_local! {
    static CONNECTION: RefCell<Option<Rc<Connection>>> = const { RefCell::new(None) };
    static SCRIPT: RefCell<String> = RefCell::new(WORKER_SCRIPT.to_owned());
    static NEXT_GENERATION: Cell<u64> = const { Cell::new(1) };
}

/// Ends `request` with its last word, and the Blob in `parts` if the
/// worker posted one beside it.
fn finish(request: Request, message: FromWorker, parts: &JsValue) {
    request.answer.set(Some(message));
    let _ = request.finish.call1(&JsValue::NULL, parts);
}

/// The message at the head of what the worker posted.
fn message_in(parts: &Array) -> Result<FromWorker, String> {
    let bytes = parts.get(0).dyn_into::<Uint8Array>().map_err(|_| "the background worker gave no answer")?;
    decode::<FromWorker>(&bytes.to_vec())
}

impl Connection {
    fn send(&self, message: &ToWorker) {
        let bytes = encode(message);
        if self.ready.get() {
            self.post(&bytes);
        } else {
            self.waiting.borrow_mut().push(bytes);
        }
    }

    /// Posts a message's bytes, their buffer transferred rather than copied.
    fn post(&self, bytes: &[u8]) {
        let message = Uint8Array::from(bytes);
        let _ = self.worker.post_message_with_transfer(&message, &Array::of1(&message.buffer()));
    }

    fn receive(&self, data: JsValue) {
        let parts: Array = data.unchecked_into();
        let Ok(message) = message_in(&parts) else {
            return self.fail_all("the background worker sent a message the page cannot read");
        };
        match &message {
            FromWorker::Ready { version } if *version != VERSION => {
                self.fail_all(
                    "this page and its background worker come from different versions; reload the page",
                );
            }
            FromWorker::Ready { .. } => {
                self.ready.set(true);
                for bytes in self.waiting.take() {
                    self.post(&bytes);
                }
            }
            FromWorker::Progress { generation, received, total } => {
                self.report(*generation, Stage::Receiving { received: *received, total: *total });
            }
            FromWorker::Reading { generation, received } => {
                if let Some(request) = self.requests.borrow().get(generation) {
                    request.reading.set(Some(*received));
                }
                self.report(*generation, Stage::Reading { received: *received });
            }
            ended => {
                let finished =
                    ended.generation().and_then(|generation| self.requests.borrow_mut().remove(&generation));
                if let Some(request) = finished {
                    finish(request, message, &parts);
                }
            }
        }
    }

    fn report(&self, generation: u64, stage: Stage) {
        let progress = self.requests.borrow().get(&generation).map(|request| request.progress.clone());
        if let Some(progress) = progress {
            progress(stage);
        }
    }

    /// Stops the worker and forgets it, so the next request starts a fresh
    /// one; each request it held ends with `ending(generation)`.
    fn stop(&self, ending: impl Fn(u64) -> FromWorker) {
        CONNECTION.with_borrow_mut(|connection| *connection = None);
        self.worker.terminate();
        for (generation, request) in self.requests.take() {
            finish(request, ending(generation), &JsValue::UNDEFINED);
        }
    }

    fn fail_all(&self, message: &str) {
        self.stop(|generation| FromWorker::Broken { generation, received: 0, message: message.to_owned() });
    }

    /// Cancels `generation`: a transfer is aborted; a document being read
    /// is stopped with the worker, whose other questions fail.
    fn cancel(&self, generation: u64) {
        let reading = self.requests.borrow().get(&generation).and_then(|request| request.reading.get());
        match reading {
            Some(received) => self.stop(|other| {
                if other == generation {
                    FromWorker::Cancelled { generation, received }
                } else {
                    FromWorker::Failed {
                        generation: other,
                        message: "the background worker was stopped to cancel a document".to_owned(),
                    }
                }
            }),
            None => self.send(&ToWorker::Cancel { generation }),
        }
    }
}

/// Starts the worker from `url` rather than trunk's loader, from the next
/// worker on: for a page served elsewhere than the app's root, or a
/// stand-in worker.
pub fn use_worker_script(url: &str) {
    SCRIPT.with_borrow_mut(|script| *script = url.to_owned());
    if let Some(connection) = CONNECTION.take() {
        connection.worker.terminate();
    }
}

/// The running worker, started now if there is none.
fn connection() -> Result<Rc<Connection>, String> {
    if let Some(connection) = CONNECTION.with_borrow(Clone::clone) {
        return Ok(connection);
    }
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = SCRIPT
        .with_borrow(|script| Worker::new_with_options(script, &options))
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

/// Sends the request `message(generation)` and waits for its last word,
/// with the Blob beside it if any; `signal` cancels it.
async fn request(
    message: impl FnOnce(u64) -> ToWorker,
    progress: impl Fn(Stage) + 'static,
    signal: Option<&AbortSignal>,
) -> Result<(FromWorker, Option<Blob>), String> {
    let connection = connection()?;
    let generation = NEXT_GENERATION.replace(NEXT_GENERATION.get() + 1);
    let mut resolve = None;
    let ended = Promise::new(&mut |done, _| resolve = Some(done));
    let finish = resolve.expect("a promise calls its executor at once");
    let answer = Rc::new(Cell::new(None));
    let request =
        Request { progress: Rc::new(progress), reading: Cell::new(None), finish, answer: answer.clone() };
    connection.requests.borrow_mut().insert(generation, request);
    connection.send(&message(generation));
    let cancelling = Rc::downgrade(&connection);
    let on_abort = Closure::<dyn FnMut()>::new(move || {
        if let Some(connection) = cancelling.upgrade() {
            connection.cancel(generation);
        }
    });
    if let Some(signal) = signal {
        let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }
    let parts = JsFuture::from(ended).await.unwrap_or_default();
    if let Some(signal) = signal {
        let _ = signal.remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    }
    let message = answer.take().ok_or("the background worker gave no answer")?;
    let blob = parts.dyn_ref::<Array>().and_then(|parts| parts.get(1).dyn_into().ok());
    Ok((message, blob))
}

/// A document the worker has read.
pub struct Arrived {
    pub opened: Opened,
    pub received: u64,
    /// The document as received, for the main slot.
    pub raw: Option<Blob>,
    /// The worker's memory with the document read, in bytes.
    pub worker_memory: u64,
    /// The relay's number for the transfer.
    pub request_id: Option<u64>,
}

/// Fetches `document` through the worker, which reads it into `slot`;
/// `progress` hears each stage, and `signal` cancels it.
pub async fn open(
    document: &DocumentRequest,
    source: Source,
    slot: Slot,
    signal: &AbortSignal,
    progress: impl Fn(Stage) + 'static,
) -> Result<Arrived, FetchError> {
    let broken = |message: String| FetchError::Broken { received: 0, message };
    let (message, blob) = request(
        |generation| ToWorker::Open {
            generation,
            request: document.clone(),
            source,
            slot,
            publishers: crate::team::corrections_for_worker(),
        },
        progress,
        Some(signal),
    )
    .await
    .map_err(broken)?;
    match message {
        FromWorker::Opened { opened, received, memory, request_id, .. } => {
            Ok(Arrived { opened: *opened, received, raw: blob, worker_memory: memory, request_id })
        }
        FromWorker::Unreadable { message, .. } => Err(FetchError::Unreadable { message }),
        FromWorker::Refused { status, body, .. } => Err(FetchError::Relay(relay_problem(status, &body))),
        FromWorker::Cancelled { received, .. } => Err(FetchError::Cancelled { received }),
        FromWorker::Broken { received, message, .. } => Err(FetchError::Broken { received, message }),
        FromWorker::Failed { message, .. } => Err(broken(message)),
        FromWorker::Ready { .. }
        | FromWorker::Progress { .. }
        | FromWorker::Reading { .. }
        | FromWorker::Answered { .. } => Err(broken(OUT_OF_TURN.to_owned())),
    }
}

/// Asks the worker about the main document; a download's file comes as
/// the Blob.
pub async fn ask(question: Question) -> Result<(Answer, Option<Blob>), String> {
    let (message, blob) = request(|generation| ToWorker::Ask { generation, question }, |_| {}, None).await?;
    match message {
        FromWorker::Answered { answer, .. } => Ok((*answer, blob)),
        FromWorker::Failed { message, .. } | FromWorker::Broken { message, .. } => Err(message),
        _ => Err(OUT_OF_TURN.to_owned()),
    }
}
