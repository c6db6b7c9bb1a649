//! Where the fetch of the main document stands, from pressing Fetch to the
//! document read or the reason it was not.

use std::sync::Arc;

use crate::{api::RelayProblem, loaded::Loaded};

/// Where a fetch stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Transfer {
    Idle,
    Running {
        received: u64,
        total: Option<u64>,
        started_ms: f64,
        /// Every byte came and the worker is reading them.
        reading: bool,
    },
    Cancelled {
        received: u64,
    },
    Broken {
        received: u64,
        message: String,
    },
    Refused(RelayProblem),
    Unreadable {
        message: String,
    },
    /// The document as the worker read it, and as received for the raw
    /// download.
    Done(Arc<Loaded>, web_sys::Blob),
}
