//! What the page and its background worker say to each other. Each request
//! carries a generation number; an answer to an older generation than the
//! page's latest is stale and dropped. Messages travel as JSON text; bulk
//! data (a document's bytes) travels beside them as a transferable Blob.

use serde::{Deserialize, Serialize};

/// Bumped whenever a message changes shape. The worker's files are not
/// content-hashed, so a page and a worker from different builds can meet;
/// the worker says its version first and the page refuses a mismatch.
pub const VERSION: u32 = 1;

/// The page's requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// GET `url` from the relay, streaming, reporting progress.
    Fetch { generation: u64, url: String },
    /// Stop the transfer of `generation`, if it is still running.
    Cancel { generation: u64 },
}

/// The worker's answers. `Done` comes with the document as a Blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has started; sent once, before anything else.
    Ready {
        version: u32,
    },
    Progress {
        generation: u64,
        received: u64,
        total: Option<u64>,
    },
    /// The relay answered with an error status and this body.
    Refused {
        generation: u64,
        status: u16,
        body: String,
    },
    /// The connection failed before or during the body.
    Broken {
        generation: u64,
        received: u64,
        message: String,
    },
    Cancelled {
        generation: u64,
        received: u64,
    },
    /// Every byte arrived; the Blob travels beside this message.
    Done {
        generation: u64,
        received: u64,
    },
}

impl FromWorker {
    /// The request this answers, if any.
    pub fn generation(&self) -> Option<u64> {
        match self {
            Self::Ready { .. } => None,
            Self::Progress { generation, .. }
            | Self::Refused { generation, .. }
            | Self::Broken { generation, .. }
            | Self::Cancelled { generation, .. }
            | Self::Done { generation, .. } => Some(*generation),
        }
    }

    /// Whether this is the last word on its generation.
    pub fn ends_transfer(&self) -> bool {
        !matches!(self, Self::Ready { .. } | Self::Progress { .. })
    }
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).expect("protocol messages always serialise")
}

/// Decodes a message; a malformed one is an error to report, not a panic.
pub fn decode<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|error| format!("a malformed message from the other side: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_have_a_stable_wire_shape() {
        let fetch = ToWorker::Fetch { generation: 7, url: "/api/documents/demo/v3/invoices".into() };
        assert_eq!(
            encode(&fetch),
            r#"{"kind":"fetch","generation":7,"url":"/api/documents/demo/v3/invoices"}"#
        );
        assert_eq!(decode::<ToWorker>(&encode(&fetch)).unwrap(), fetch);
        let progress = FromWorker::Progress { generation: 7, received: 1024, total: None };
        assert_eq!(encode(&progress), r#"{"kind":"progress","generation":7,"received":1024,"total":null}"#);
        for message in [
            FromWorker::Ready { version: VERSION },
            progress,
            FromWorker::Refused { generation: 7, status: 401, body: "{}".into() },
            FromWorker::Broken { generation: 7, received: 3, message: "reset".into() },
            FromWorker::Cancelled { generation: 7, received: 3 },
            FromWorker::Done { generation: 7, received: 9 },
        ] {
            assert_eq!(decode::<FromWorker>(&encode(&message)).unwrap(), message);
        }
    }

    #[test]
    fn only_final_answers_end_a_transfer_and_ready_answers_no_request() {
        assert_eq!(FromWorker::Ready { version: 1 }.generation(), None);
        assert!(!FromWorker::Progress { generation: 2, received: 0, total: Some(9) }.ends_transfer());
        assert!(FromWorker::Cancelled { generation: 2, received: 0 }.ends_transfer());
        assert_eq!(FromWorker::Done { generation: 2, received: 5 }.generation(), Some(2));
    }

    #[test]
    fn a_malformed_message_is_an_error_not_a_panic() {
        assert!(decode::<FromWorker>(r#"{"kind":"explode"}"#).unwrap_err().contains("malformed"));
        assert!(decode::<ToWorker>("not json").is_err());
    }
}
