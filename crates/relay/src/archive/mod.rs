//! The archive: every document the relay streams to completion, kept
//! exactly as the vendor sent it. Bytes go to an object store under their
//! SHA-256: a small document's once it is complete, a large one's while it
//! streams; the record goes to the database only once the transfer is
//! known to be complete, with the others of its moment in one transaction.

mod blobs;
pub mod purge;
mod receipts;
pub mod routes;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use billing::api::{ArchiveReceipt, ArchivedDocument, DocumentRequest};
use bytes::Bytes;
use chrono::Utc;
use futures_util::{StreamExt, future::join_all};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub use self::blobs::Blobs;
use self::receipts::{KEPT_FOR, Lookup, Receipts};
use crate::{
    observe::{
        audit::{self, AskedDocument},
        metrics::Metrics,
    },
    store::{NewRecord, Records, StoreError},
};

/// How long, and how often, a receipt for a transfer this relay did not
/// serve is looked for in the shared records.
const ELSEWHERE_WAIT: Duration = Duration::from_secs(2);
const ELSEWHERE_POLL: Duration = Duration::from_millis(100);

/// A document up to this size is held in memory while it passes and
/// stored in one write once complete, or not at all when the store has its
/// bytes already; a larger one streams to the store as it passes.
const HELD_AT_MOST: usize = 512 * 1024;

/// Bytes of complete small documents waiting for the archive at most, all
/// transfers together; past it a document is not archived rather than
/// held without bound.
const HELD_WAITING_AT_MOST: usize = 256 * 1024 * 1024;

/// Bytes the archive may be behind the client before it gives up on a
/// streaming document: the client never waits for it, and this bounds
/// what each transfer can hold in memory.
const BEHIND_AT_MOST: usize = 16 * 1024 * 1024;

/// Documents kept in one batch at most: one transaction, one look at the
/// store for each distinct content.
const BATCH_AT_MOST: usize = 512;

/// The shortest time between two batches while documents keep coming.
const COMMIT_EVERY: Duration = Duration::from_millis(5);

/// The database and the store, and what became of recent transfers.
pub struct Archive {
    pub records: Arc<dyn Records>,
    pub blobs: Blobs,
    keeper: Arc<Keeper>,
    arrivals: mpsc::UnboundedSender<Arrival>,
    /// Bytes of held documents sent to the keeper and not yet stored.
    held_waiting: Arc<AtomicUsize>,
}

/// What keeps complete documents, in batches, on a task of its own.
struct Keeper {
    records: Arc<dyn Records>,
    blobs: Blobs,
    receipts: Receipts,
    metrics: Arc<Metrics>,
}

/// Why a completed document was not archived: a reason a person can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotArchived {
    /// The store refused the bytes (disk full, unwritable, unreachable).
    Store,
    Database,
    /// The store was slower than the vendor by more than the buffer.
    FellBehind,
}

impl NotArchived {
    pub fn label(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Database => "database",
            Self::FellBehind => "fell_behind",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Self::Store => "the archive's storage could not be written (full, unwritable or unreachable)",
            Self::Database => "the archive's database could not be reached",
            Self::FellBehind => "the archive's storage was too slow to keep up with the transfer",
        }
    }
}

/// What a passing document tells the archive: its chunks as they go by,
/// and at the end whether it was complete. Dropped without `complete`, it
/// throws away what it was given.
pub struct Feed {
    archive: Arc<Archive>,
    request: DocumentRequest,
    asked: AskedDocument,
    passing: Passing,
}

enum Passing {
    /// Small so far: the chunks and their length, held without a task.
    Held(Vec<Bytes>, usize),
    /// Outgrown what is held: a task writes the chunks as they come.
    Streaming {
        chunks: mpsc::UnboundedSender<Bytes>,
        /// Bytes handed on and not yet written.
        behind: Arc<AtomicUsize>,
        ending: oneshot::Sender<Ending>,
    },
    /// Given up on, or handed on whole.
    Over,
}

enum Ending {
    Complete { vendor_status: u16, content_type: String },
    FellBehind,
}

/// Documents of a batch whose bytes are in the store, with their
/// transfers and whether each brought its bytes to the store.
#[derive(Default)]
struct InStore {
    records: Vec<NewRecord>,
    transfers: Vec<(AskedDocument, bool)>,
}

impl InStore {
    fn push(&mut self, record: NewRecord, asked: AskedDocument, new: bool) {
        self.records.push(record);
        self.transfers.push((asked, new));
    }
}

/// A complete document on its way to the keeper.
enum Arrival {
    /// Its bytes, not yet in the store.
    Held { record: NewRecord, asked: AskedDocument, chunks: Vec<Bytes> },
    /// Its bytes already in the store; `new` when they were not there before.
    Stored { record: NewRecord, asked: AskedDocument, new: bool },
}

impl Feed {
    /// Hands a chunk on without waiting; if the archive is a whole buffer
    /// behind, it gives up on this document instead.
    pub fn push(&mut self, chunk: &Bytes) {
        match &mut self.passing {
            Passing::Held(chunks, held) if *held + chunk.len() <= HELD_AT_MOST => {
                *held += chunk.len();
                chunks.push(chunk.clone());
            }
            Passing::Held(chunks, held) => {
                let (sending, receiving) = mpsc::unbounded_channel();
                for earlier in chunks.drain(..).chain([chunk.clone()]) {
                    let _ = sending.send(earlier);
                }
                let behind = Arc::new(AtomicUsize::new(*held + chunk.len()));
                let (ending, ended) = oneshot::channel();
                let (archive, written) = (self.archive.clone(), behind.clone());
                let (request, asked) = (self.request.clone(), self.asked.clone());
                tokio::spawn(async move { archive.stream(request, asked, receiving, written, ended).await });
                self.passing = Passing::Streaming { chunks: sending, behind, ending };
            }
            Passing::Streaming { chunks, behind, .. } => {
                let now_behind = behind.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
                if now_behind > BEHIND_AT_MOST || chunks.send(chunk.clone()).is_err() {
                    self.fall_behind();
                }
            }
            Passing::Over => {}
        }
    }

    fn fall_behind(&mut self) {
        if let Passing::Streaming { ending, .. } = std::mem::replace(&mut self.passing, Passing::Over) {
            let _ = ending.send(Ending::FellBehind);
        }
    }

    /// The client has every byte: the archive may keep them.
    pub fn complete(mut self, vendor_status: u16, content_type: String) {
        match std::mem::replace(&mut self.passing, Passing::Over) {
            Passing::Held(chunks, held) => {
                let archive = &self.archive;
                let waiting = archive.held_waiting.fetch_add(held, Ordering::Relaxed) + held;
                // Its hash is filled in by the keeper, which hashes it.
                let (request, bytes) = (self.request.clone(), held as u64);
                let record =
                    record_of(request, &self.asked, vendor_status, content_type, bytes, String::new());
                let arrival = Arrival::Held { record, asked: self.asked.clone(), chunks };
                if waiting > HELD_WAITING_AT_MOST || archive.arrivals.send(arrival).is_err() {
                    archive.held_waiting.fetch_sub(held, Ordering::Relaxed);
                    archive.keeper.not_archived(&self.asked, NotArchived::FellBehind);
                }
            }
            Passing::Streaming { ending, .. } => {
                let _ = ending.send(Ending::Complete { vendor_status, content_type });
            }
            Passing::Over => {}
        }
    }
}

/// The record of a complete document of `bytes` bytes hashing to `sha256`.
fn record_of(
    request: DocumentRequest,
    asked: &AskedDocument,
    vendor_status: u16,
    content_type: String,
    bytes: u64,
    sha256: String,
) -> NewRecord {
    NewRecord {
        request,
        vendor_status,
        content_type,
        bytes,
        sha256,
        fetched_by: asked.user.as_ref().map(|user| user.account().to_owned()),
        fetched_at: asked.at,
        request_id: asked.request.0,
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        // A streaming transfer's task learns of it from its closed channels.
        if let Passing::Held(..) = self.passing {
            self.archive.keeper.receipts.throw_away(self.asked.request.0);
        }
    }
}

impl Archive {
    pub fn new(records: Arc<dyn Records>, blobs: Blobs, metrics: Arc<Metrics>) -> Self {
        let keeper = Arc::new(Keeper {
            records: records.clone(),
            blobs: blobs.clone(),
            receipts: Receipts::default(),
            metrics,
        });
        let (arrivals, arriving) = mpsc::unbounded_channel();
        let held_waiting = Arc::new(AtomicUsize::new(0));
        tokio::spawn(keeper.clone().keep(arriving, held_waiting.clone()));
        Self { records, blobs, keeper, arrivals, held_waiting }
    }

    /// Starts archiving a document about to stream.
    pub fn feed(self: &Arc<Self>, request: DocumentRequest, asked: AskedDocument) -> Feed {
        self.keeper.receipts.pending(asked.request.0, request.profile());
        Feed { archive: self.clone(), request, asked, passing: Passing::Held(Vec::new(), 0) }
    }

    /// Writes a document too large to hold to the store as it streams, and
    /// hands it to the keeper once complete.
    async fn stream(
        &self,
        request: DocumentRequest,
        asked: AskedDocument,
        mut chunks: mpsc::UnboundedReceiver<Bytes>,
        behind: Arc<AtomicUsize>,
        ended: oneshot::Receiver<Ending>,
    ) {
        let request_id = asked.request.0;
        // A name no other transfer has, on this relay or another.
        let name = format!("{request_id}-{}", Utc::now().timestamp_nanos_opt().unwrap_or_default());
        // `None` once the store refused the transfer or a chunk.
        let mut upload = match self.blobs.begin(&name).await {
            Ok(upload) => Some(upload),
            Err(error) => {
                tracing::error!(%error, "cannot write to the archive's store");
                None
            }
        };
        while let Some(chunk) = chunks.recv().await {
            if let Some(writing) = upload.as_mut()
                && let Err(error) = writing.write(&chunk).await
            {
                tracing::error!(%error, "cannot write to the archive's store");
                if let Some(failed) = upload.take() {
                    failed.abort().await;
                }
            }
            behind.fetch_sub(chunk.len(), Ordering::Relaxed);
        }
        let keeper = &self.keeper;
        let (vendor_status, content_type) = match ended.await {
            Ok(Ending::Complete { vendor_status, content_type }) => (vendor_status, content_type),
            Ok(Ending::FellBehind) => {
                if let Some(upload) = upload {
                    upload.abort().await;
                }
                return keeper.not_archived(&asked, NotArchived::FellBehind);
            }
            // Broken or abandoned: nothing to keep, nothing to report.
            Err(_) => {
                if let Some(upload) = upload {
                    upload.abort().await;
                }
                keeper.receipts.throw_away(request_id);
                return;
            }
        };
        let Some(upload) = upload else {
            return keeper.not_archived(&asked, NotArchived::Store);
        };
        let stored = match self.blobs.finish(upload).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%error, "cannot finish writing to the archive's store");
                return keeper.not_archived(&asked, NotArchived::Store);
            }
        };
        let record = record_of(request, &asked, vendor_status, content_type, stored.bytes, stored.sha256);
        let arrival = Arrival::Stored { record, asked, new: stored.new };
        if let Err(mpsc::error::SendError(Arrival::Stored { asked, .. })) = self.arrivals.send(arrival) {
            keeper.not_archived(&asked, NotArchived::Database);
        }
    }

    /// The whole of an archived document, hashed again: `None` when its
    /// bytes are gone or changed.
    pub async fn read_whole(&self, document: &ArchivedDocument) -> object_store::Result<Option<Vec<u8>>> {
        let mut stream = match self.blobs.read(&document.sha256).await {
            Ok(stream) => stream,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut bytes = Vec::with_capacity(usize::try_from(document.bytes).unwrap_or_default());
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let hash = format!("{:x}", Sha256::digest(&bytes));
        Ok((hash == document.sha256).then_some(bytes))
    }

    /// What became of the transfer `request_id` and its profile, waiting
    /// up to `wait` for one still being written; `None` if no relay
    /// sharing this archive served it lately.
    pub async fn receipt(
        &self,
        request_id: u64,
        wait: Duration,
    ) -> Result<Option<(String, ArchiveReceipt)>, StoreError> {
        match self.keeper.receipts.wait(request_id, wait).await {
            Lookup::Known { profile, receipt } => return Ok(Some((profile, receipt))),
            Lookup::ThrownAway => return Ok(None),
            Lookup::Unknown => {}
        }
        // Behind a load balancer the page may ask a relay other than the
        // one that served it; that one's record may be a moment from committed.
        let deadline = tokio::time::Instant::now() + ELSEWHERE_WAIT;
        loop {
            let since = Utc::now() - KEPT_FOR;
            if let Some(document) = self.records.archived_by_request(request_id, since).await? {
                let receipt = ArchiveReceipt::Archived { id: document.id };
                return Ok(Some((document.request.profile().to_owned(), receipt)));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(ELSEWHERE_POLL).await;
        }
    }
}

impl Keeper {
    /// Keeps the documents that arrived while the last batch was kept,
    /// together: one look at the store for each distinct content, and one
    /// transaction, so one flush to disk for a burst of small documents
    /// instead of one each. Under a steady stream of documents it keeps a
    /// batch at most once a `COMMIT_EVERY`, so each carries many; a
    /// document arriving after a quiet spell is kept at once.
    async fn keep(
        self: Arc<Self>,
        mut arriving: mpsc::UnboundedReceiver<Arrival>,
        held_waiting: Arc<AtomicUsize>,
    ) {
        let mut batch = Vec::with_capacity(BATCH_AT_MOST);
        let mut last_batch = tokio::time::Instant::now();
        while arriving.recv_many(&mut batch, BATCH_AT_MOST).await > 0 {
            let next_batch = last_batch + COMMIT_EVERY;
            if batch.len() < BATCH_AT_MOST && tokio::time::Instant::now() < next_batch {
                tokio::time::sleep_until(next_batch).await;
                while batch.len() < BATCH_AT_MOST
                    && let Ok(arrival) = arriving.try_recv()
                {
                    batch.push(arrival);
                }
            }
            last_batch = tokio::time::Instant::now();
            let stored = self.store_held(&mut batch, &held_waiting).await;
            self.commit(stored).await;
        }
    }

    /// Stores the held documents of `batch`, each distinct content once,
    /// and gives back every document whose bytes are in the store.
    async fn store_held(&self, batch: &mut Vec<Arrival>, held_waiting: &AtomicUsize) -> InStore {
        let mut stored = InStore::default();
        let mut contents: HashMap<String, Vec<Bytes>> = HashMap::new();
        let mut held = Vec::new();
        for arrival in batch.drain(..) {
            match arrival {
                Arrival::Stored { record, asked, new } => stored.push(record, asked, new),
                Arrival::Held { mut record, asked, chunks } => {
                    held_waiting
                        .fetch_sub(usize::try_from(record.bytes).unwrap_or_default(), Ordering::Relaxed);
                    let mut hasher = Sha256::new();
                    for chunk in &chunks {
                        hasher.update(chunk);
                    }
                    record.sha256 = format!("{:x}", hasher.finalize());
                    contents.entry(record.sha256.clone()).or_insert(chunks);
                    held.push((record, asked));
                }
            }
        }
        let written = join_all(contents.into_iter().map(|(sha256, chunks)| async move {
            let written = self.blobs.keep_whole(&sha256, chunks).await;
            (sha256, written)
        }))
        .await;
        let written: HashMap<String, object_store::Result<bool>> = written.into_iter().collect();
        // Only the first document of a content that was new to the store
        // brought it; the rest found it there.
        let mut brought = HashSet::new();
        for (record, asked) in held {
            match &written[&record.sha256] {
                Ok(new) => {
                    let new = *new && brought.insert(record.sha256.clone());
                    stored.push(record, asked, new);
                }
                Err(error) => {
                    tracing::error!(%error, "cannot write to the archive's store");
                    self.not_archived(&asked, NotArchived::Store);
                }
            }
        }
        stored
    }

    /// Records the stored documents in one transaction and tells each
    /// transfer's receipt what became of it.
    async fn commit(&self, InStore { records, transfers }: InStore) {
        if records.is_empty() {
            return;
        }
        match self.records.insert_all(&records).await {
            Ok(ids) => {
                for ((record, (asked, _)), &id) in records.iter().zip(&transfers).zip(&ids) {
                    audit::archived(asked, Ok(id), &record.sha256);
                    self.metrics.archive_outcome(true, "");
                }
                let settled = transfers.iter().zip(ids).map(|((asked, _), id)| (asked.request.0, id));
                self.receipts.settle_archived(settled);
            }
            Err(error) => {
                tracing::error!(%error, records = records.len(), "cannot record archived documents");
                for (record, (asked, new)) in records.iter().zip(&transfers) {
                    // Bytes no record points to would stay forever; a record
                    // another relay wrote meanwhile would point to them.
                    if *new && !matches!(self.records.hash_in_use(&record.sha256).await, Ok(true)) {
                        let _ = self.blobs.remove(&record.sha256).await;
                    }
                    self.not_archived(asked, NotArchived::Database);
                }
            }
        }
    }

    fn not_archived(&self, asked: &AskedDocument, reason: NotArchived) {
        audit::archived(asked, Err(reason.explanation()), "");
        self.metrics.archive_outcome(false, reason.label());
        let receipt = ArchiveReceipt::NotArchived { reason: reason.explanation().to_owned() };
        self.receipts.settle(asked.request.0, receipt);
    }
}
