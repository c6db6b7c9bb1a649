//! Documents and answers from the background worker, which fetches from
//! the relay with progress and a real abort, reads, and analyses.

pub use crate::worker_client::{Arrived, FetchError, OUT_OF_TURN, Stage, ask, open, use_worker_script};
