//! What the page and its background worker say to each other. The worker
//! fetches and reads documents and answers the page's questions about them;
//! the page only shows the answers. Each request carries a generation
//! number, and the page drops an answer to a question it has since replaced.
//! Messages travel as postcard bytes in a transferred buffer, so a window of
//! rows is one compact message rather than many objects for the page to
//! build; bulk data (a document as received, a generated download) travels
//! beside them as a Blob.
//!
//! Amounts travel as exact decimal text (`"-1234.50"`), never as floats;
//! the page formats them for the reader's locale.

use billing::{
    Format,
    api::{DocumentRequest, decisions::Decided},
    exceptions::ExceptionKind,
    lines::{GroupBy, LineFilter},
};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod columns;
mod views;

pub use columns::Column;
pub use views::*;

/// Bumped whenever a message changes shape. The worker's files are not
/// content-hashed, so a page and a worker from different builds can meet;
/// the worker says its version first and the page refuses a mismatch.
pub const VERSION: u32 = 8;

/// Where an opened document goes. The page shows the main document; the
/// other side of the margin and the vendor's consolidated view are read
/// only to be joined with it or compared with that join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Slot {
    Main,
    OtherSide,
    Consolidated,
    /// The same documents for an earlier window, compared with the main one.
    Earlier,
    /// The earlier window's other side: joined with it, the comparison
    /// covers the margin too.
    EarlierOtherSide,
}

/// Where a document is fetched from: the vendor through the relay, or the
/// relay's archive, which has it exactly as the vendor sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Vendor,
    Archive { id: i64 },
}

impl Source {
    /// The relay path the worker fetches `request` from.
    pub fn relay_path(self, request: &DocumentRequest) -> String {
        match self {
            Self::Vendor => request.relay_path(false),
            Self::Archive { id } => billing::api::routes::archived_document(id),
        }
    }
}

/// The page's requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Fetch `request` from the relay, streaming and reporting progress, and
    /// read it into `slot`. Opening the main document
    /// forgets every document before it.
    /// `publishers` are the user's corrections: a product (plan category
    /// or plan name) and the publisher it is told as.
    Open {
        generation: u64,
        request: DocumentRequest,
        source: Source,
        slot: Slot,
        publishers: BTreeMap<String, String>,
    },
    /// Stop the transfer of `generation`, if it is still running.
    Cancel { generation: u64 },
    /// A question about the main document.
    Ask { generation: u64, question: Question },
}

/// What the page asks about the main document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Question {
    /// `count` rows from row `first` of the lines that pass `filter`,
    /// ordered by `sort` (the column and whether descending), with the
    /// cells of `columns`.
    Lines { filter: LineFilter, sort: Option<(Column, bool)>, first: u32, count: u32, columns: Vec<Column> },
    /// Those lines grouped, with subtotals per currency.
    Groups { filter: LineFilter, by: GroupBy },
    /// The charts' figures in one currency.
    Charts { currency: String },
    /// One invoice whole.
    Invoice { index: u32 },
    /// A file to download, written now; the answer's Blob is the file.
    Download { file: DownloadFile },
    /// One invoice on its own, in the document's format, named by
    /// [`invoice_file_name`]; the answer's Blob is the file.
    InvoiceFile { index: u32 },
    /// Tell publishers with these corrections from now on (as in
    /// [`ToWorker::Open`]); the answer is the products and publishers anew.
    Publishers { corrections: BTreeMap<String, String> },
    /// The month's decisions, for the worklist's counts, lines and files
    /// from now on, and the sentence that says the run is signed off; the
    /// answer is [`Answer::Decided`].
    Decisions { decided: Box<Decided>, signed_off: Option<String> },
    /// The worklist, a margin under `low_margin_percent` counting as low.
    Exceptions { low_margin_percent: String },
    /// The first lines of one kind on the worklist; only those still open
    /// this month when `only_open`.
    ExceptionLines { low_margin_percent: String, kind: ExceptionKind, only_open: bool },
    /// The lines of change number `index` of the comparison, in both windows.
    ChangeLines { index: u32 },
    /// A customer's lines in one currency, in both windows.
    CustomerChangeLines { customer: String, currency: String },
    /// The comparison again, its customers and charges in `order`.
    Changes { order: ChangeOrder },
}

/// The files the worker writes on request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadFile {
    /// The whole document in the format it did not come in.
    OtherFormat,
    /// Every price line as CSV.
    Csv { semicolon: bool, excel_bom: bool },
    /// The lines the table shows, in its order, with the margin when joined.
    ShownLines { filter: LineFilter, sort: Option<(Column, bool)> },
    /// Every line on the worklist, with its kind and amount at stake.
    Exceptions { low_margin_percent: String },
    /// The workbook: the summary, the invoices, the lines as the table
    /// shows them (filter, order and columns), and the margin, the changes
    /// and the worklist once loaded.
    Workbook {
        filter: LineFilter,
        sort: Option<(Column, bool)>,
        columns: Vec<Column>,
        low_margin_percent: String,
    },
}

impl DownloadFile {
    /// The file's name, from the document's `file_stem` and `format`.
    pub fn file_name(&self, file_stem: &str, format: Format) -> String {
        match self {
            Self::OtherFormat => format!("{file_stem}.{}", format.other().extension()),
            Self::Csv { .. } => format!("{file_stem}.csv"),
            Self::ShownLines { .. } => format!("{file_stem}_lines.csv"),
            Self::Exceptions { .. } => format!("{file_stem}_exceptions.csv"),
            Self::Workbook { .. } => workbook_file_name(file_stem),
        }
    }

    pub fn media_type(&self, format: Format) -> &'static str {
        match self {
            Self::OtherFormat => format.other().media_type(),
            Self::Csv { .. } | Self::ShownLines { .. } | Self::Exceptions { .. } => CSV_MEDIA_TYPE,
            Self::Workbook { .. } => XLSX_MEDIA_TYPE,
        }
    }
}

/// The size of the Blobs the worker gathers a transfer's body in as it
/// comes; the download's Blob is made of them. Parts of 256 KiB slowed an
/// 804 MB transfer by a third; at 8 to 32 MiB it took as long as one Blob
/// made at the end.
pub const BLOB_PART_BYTES: usize = 16 << 20;

pub const CSV_MEDIA_TYPE: &str = "text/csv";
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The workbook's name, from the document's `file_stem`: whatever it holds.
pub fn workbook_file_name(file_stem: &str) -> String {
    format!("{file_stem}.xlsx")
}

/// The name of one invoice's file, by its number: only letters, digits and
/// dashes are kept from it.
pub fn invoice_file_name(number: &str, format: Format) -> String {
    let safe: String =
        number.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("invoice_{safe}.{}", format.extension())
}

/// The worker's messages. `Opened` for the main slot and `Answered` for a
/// download come with a Blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Every byte has come and the worker is reading them.
    Reading {
        generation: u64,
        received: u64,
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
    /// Every byte came but they are not a readable document.
    Unreadable {
        generation: u64,
        received: u64,
        message: String,
    },
    /// The document is read; for the main slot the document as received
    /// travels beside this message.
    Opened {
        generation: u64,
        received: u64,
        opened: Box<Opened>,
        /// The worker's wasm memory now, in bytes, with the document read.
        memory: u64,
        /// The relay's `X-Request-Id` for the transfer, by which the page
        /// asks whether the relay archived it.
        request_id: Option<u64>,
    },
    Answered {
        generation: u64,
        answer: Box<Answer>,
    },
    /// A question that cannot be answered, in words.
    Failed {
        generation: u64,
        message: String,
    },
}

impl FromWorker {
    /// The request this answers, if any.
    pub fn generation(&self) -> Option<u64> {
        match self {
            Self::Ready { .. } => None,
            Self::Progress { generation, .. }
            | Self::Reading { generation, .. }
            | Self::Refused { generation, .. }
            | Self::Broken { generation, .. }
            | Self::Cancelled { generation, .. }
            | Self::Unreadable { generation, .. }
            | Self::Opened { generation, .. }
            | Self::Answered { generation, .. }
            | Self::Failed { generation, .. } => Some(*generation),
        }
    }

    /// Whether this is the last word on its generation.
    pub fn ends_request(&self) -> bool {
        !matches!(self, Self::Ready { .. } | Self::Progress { .. } | Self::Reading { .. })
    }
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    postcard::to_allocvec(message).expect("protocol messages always serialise")
}

/// Decodes a message; a malformed one is an error to report, not a panic.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|error| format!("a malformed message from the other side: {error}"))
}

#[cfg(test)]
mod tests {
    use billing::{
        Endpoint,
        api::{Scope, SubscriptionId},
    };

    use super::*;

    #[test]
    fn messages_round_trip_and_have_a_stable_wire_shape() {
        let open = ToWorker::Open {
            generation: 7,
            request: DocumentRequest::new(
                "demo",
                "v3",
                Endpoint::SubscriptionDetails,
                Format::Xml,
                Scope::Subscription(SubscriptionId::parse("007").unwrap()),
            )
            .unwrap(),
            source: Source::Archive { id: 42 },
            slot: Slot::Main,
            publishers: [("Telephony".to_owned(), "KPN".to_owned())].into(),
        };
        assert_eq!(decode::<ToWorker>(&encode(&open)).unwrap(), open);
        // Variant, then each field in order, integers as varints: a progress
        // report is a handful of bytes.
        let progress = FromWorker::Progress { generation: 7, received: 1024, total: None };
        assert_eq!(encode(&progress), [1, 7, 0x80, 0x08, 0]);
        let lines = ToWorker::Ask {
            generation: 8,
            question: Question::Lines {
                filter: LineFilter { text: "contoso".into(), ..LineFilter::default() },
                sort: Some((Column::Amount, true)),
                first: 120,
                count: 60,
                columns: vec![Column::Customer, Column::Amount],
            },
        };
        assert_eq!(decode::<ToWorker>(&encode(&lines)).unwrap(), lines);
        for message in [
            FromWorker::Ready { version: VERSION },
            progress,
            FromWorker::Reading { generation: 7, received: 9 },
            FromWorker::Refused { generation: 7, status: 401, body: "{}".into() },
            FromWorker::Broken { generation: 7, received: 3, message: "reset".into() },
            FromWorker::Cancelled { generation: 7, received: 3 },
            FromWorker::Unreadable { generation: 7, received: 3, message: "XML line 1".into() },
            FromWorker::Answered {
                generation: 8,
                answer: Box::new(Answer::Lines(LineWindow {
                    shown: 1,
                    first: 0,
                    rows: vec![LineCells {
                        currency: "EUR".into(),
                        negative: true,
                        cells: vec![Cell::Text("Contoso".into()), Cell::Money("-1.50".into())],
                    }],
                })),
            },
            FromWorker::Failed { generation: 9, message: "no document is open".into() },
        ] {
            assert_eq!(decode::<FromWorker>(&encode(&message)).unwrap(), message);
        }
    }

    #[test]
    fn only_final_answers_end_a_request_and_ready_answers_no_request() {
        assert_eq!(FromWorker::Ready { version: 1 }.generation(), None);
        assert!(!FromWorker::Progress { generation: 2, received: 0, total: Some(9) }.ends_request());
        assert!(!FromWorker::Reading { generation: 2, received: 9 }.ends_request());
        assert!(FromWorker::Cancelled { generation: 2, received: 0 }.ends_request());
        assert!(FromWorker::Failed { generation: 2, message: String::new() }.ends_request());
        assert_eq!(
            FromWorker::Unreadable { generation: 2, received: 5, message: String::new() }.generation(),
            Some(2)
        );
    }

    #[test]
    fn a_malformed_message_is_an_error_not_a_panic() {
        assert!(decode::<FromWorker>(&[200]).unwrap_err().contains("malformed"), "no such variant");
        assert!(decode::<ToWorker>(&[]).is_err());
        let ask =
            encode(&ToWorker::Ask { generation: 1, question: Question::Charts { currency: "EUR".into() } });
        assert!(decode::<ToWorker>(&ask[..ask.len() - 1]).is_err(), "cut short");
    }
}
