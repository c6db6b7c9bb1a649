//! Documents and answers from the background worker, which fetches from
//! the relay with progress and a real abort, reads, and analyses.

pub use crate::worker_client::{Arrived, FetchError, OUT_OF_TURN, Stage, ask, open, use_worker_script};

use billing::api::DocumentRequest;
use web_sys::AbortSignal;
use worker_protocol::{Slot, Source};

use crate::split::split_task;

split_task! {
    /// [`open`] into the main slot. The worker and its messages come in a
    /// file of their own: the first screen does not need them.
    pub fn open_main(
        document: DocumentRequest,
        source: Source,
        signal: AbortSignal,
        progress: Box<dyn Fn(Stage)>,
    ) -> Result<Arrived, FetchError>, preload preload_opening {
        open(&document, source, Slot::Main, &signal, progress).await
    }
}
