//! Documents and answers from the background worker, which fetches from
//! the relay with progress and a real abort, reads, and analyses.

use wasm_bindgen::{JsCast, JsValue};

use crate::api::RelayProblem;
pub use crate::worker_client::{Arrived, OUT_OF_TURN, Stage, ask, open, use_worker_script};

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
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "an error the browser did not explain".to_owned())
}
