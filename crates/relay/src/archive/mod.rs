//! The archive: every document the relay streams to completion, kept
//! exactly as the vendor sent it. Bytes go to an object store under their
//! SHA-256, written while the document streams; the record goes to the
//! database only once the transfer is known to be complete.

mod blobs;
pub mod purge;
mod receipts;
pub mod routes;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use billing::api::{ArchiveReceipt, ArchivedDocument, DocumentRequest};
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
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

/// Bytes the archive may be behind the client before it gives up on the
/// document: the client never waits for it, and this bounds what each
/// transfer can hold in memory.
const BEHIND_AT_MOST: usize = 16 * 1024 * 1024;

/// Records waiting for their batch: at most this many in one transaction,
/// and this many queued behind it.
const BATCH_AT_MOST: usize = 512;
const QUEUED_AT_MOST: usize = 8192;

/// The shortest time between two commits while records keep coming.
const COMMIT_EVERY: Duration = Duration::from_millis(5);

/// A record to commit, and where its id (or `None`: not committed) goes.
type Commit = (NewRecord, oneshot::Sender<Option<i64>>);

/// The database and the store, and what became of recent transfers.
pub struct Archive {
    pub records: Arc<dyn Records>,
    pub blobs: Blobs,
    receipts: Receipts,
    metrics: Arc<Metrics>,
    committing: mpsc::Sender<Commit>,
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

/// What the document's passage tells the archive: its chunks as they go
/// by, and at the end whether it was complete.
pub struct Feed {
    chunks: Option<mpsc::UnboundedSender<Bytes>>,
    /// Bytes handed on and not yet written.
    behind: Arc<AtomicUsize>,
    ending: Option<oneshot::Sender<Ending>>,
}

enum Ending {
    Complete { vendor_status: u16, content_type: String },
    FellBehind,
}

impl Feed {
    /// Hands a chunk on without waiting; if the archive is a whole buffer
    /// behind, it gives up on this document instead.
    pub fn push(&mut self, chunk: &Bytes) {
        let Some(chunks) = &self.chunks else { return };
        let behind = self.behind.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
        if behind > BEHIND_AT_MOST || chunks.send(chunk.clone()).is_err() {
            self.chunks = None;
            if let Some(ending) = self.ending.take() {
                let _ = ending.send(Ending::FellBehind);
            }
        }
    }

    /// The client has every byte: the archive may keep them.
    pub fn complete(mut self, vendor_status: u16, content_type: String) {
        self.chunks = None;
        if let Some(ending) = self.ending.take() {
            let _ = ending.send(Ending::Complete { vendor_status, content_type });
        }
    }
}

impl Archive {
    pub fn new(records: Arc<dyn Records>, blobs: Blobs, metrics: Arc<Metrics>) -> Self {
        let (committing, waiting) = mpsc::channel(QUEUED_AT_MOST);
        tokio::spawn(commit_batches(records.clone(), waiting));
        Self { records, blobs, receipts: Receipts::default(), metrics, committing }
    }

    /// Starts archiving a document about to stream; dropping the feed
    /// without `complete` throws away what was written.
    pub fn feed(self: &Arc<Self>, request: DocumentRequest, asked: AskedDocument) -> Feed {
        let (chunks, receiving) = mpsc::unbounded_channel();
        let behind = Arc::new(AtomicUsize::new(0));
        let (ending, ended) = oneshot::channel();
        self.receipts.pending(asked.request.0, request.profile());
        let archive = self.clone();
        let written = behind.clone();
        tokio::spawn(async move { archive.write(request, asked, receiving, written, ended).await });
        Feed { chunks: Some(chunks), behind, ending: Some(ending) }
    }

    async fn write(
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
        // `None` once the store refused a chunk.
        let mut upload = Some(self.blobs.begin(&name));
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
        let (vendor_status, content_type) = match ended.await {
            Ok(Ending::Complete { vendor_status, content_type }) => (vendor_status, content_type),
            Ok(Ending::FellBehind) => {
                if let Some(upload) = upload {
                    upload.abort().await;
                }
                return self.not_archived(&asked, NotArchived::FellBehind);
            }
            // Broken or abandoned: nothing to keep, nothing to report.
            Err(_) => {
                if let Some(upload) = upload {
                    upload.abort().await;
                }
                self.receipts.throw_away(request_id);
                return;
            }
        };
        let Some(upload) = upload else {
            return self.not_archived(&asked, NotArchived::Store);
        };
        let stored = match self.blobs.finish(upload).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%error, "cannot finish writing to the archive's store");
                return self.not_archived(&asked, NotArchived::Store);
            }
        };
        let record = NewRecord {
            request,
            vendor_status,
            content_type,
            bytes: stored.bytes,
            sha256: stored.sha256.clone(),
            fetched_by: asked.user.as_ref().map(|user| user.account().to_owned()),
            fetched_at: asked.at,
            request_id,
        };
        let (reply, committed) = oneshot::channel();
        let id = match self.committing.send((record, reply)).await {
            Ok(()) => committed.await.ok().flatten(),
            Err(_) => None,
        };
        match id {
            Some(id) => {
                audit::archived(&asked, Ok(id), &stored.sha256);
                self.metrics.archive_outcome(true, "");
                self.receipts.settle(request_id, ArchiveReceipt::Archived { id });
            }
            None => {
                // Bytes no record points to would stay forever; a record
                // another relay wrote meanwhile would point to them.
                if stored.new && !matches!(self.records.hash_in_use(&stored.sha256).await, Ok(true)) {
                    let _ = self.blobs.remove(&stored.sha256).await;
                }
                self.not_archived(&asked, NotArchived::Database);
            }
        }
    }

    fn not_archived(&self, asked: &AskedDocument, reason: NotArchived) {
        audit::archived(asked, Err(reason.explanation()), "");
        self.metrics.archive_outcome(false, reason.label());
        let receipt = ArchiveReceipt::NotArchived { reason: reason.explanation().to_owned() };
        self.receipts.settle(asked.request.0, receipt);
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
        match self.receipts.wait(request_id, wait).await {
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

/// Commits the records that arrived while the last batch was written, in
/// one transaction: one flush to disk for a burst of small documents
/// instead of one each, which left them queueing for a connection until
/// they timed out. Under a steady stream of documents it commits at most
/// once a `COMMIT_EVERY`, so each flush carries many; a record arriving
/// after a quiet spell is committed at once.
async fn commit_batches(records: Arc<dyn Records>, mut waiting: mpsc::Receiver<Commit>) {
    let mut batch = Vec::with_capacity(BATCH_AT_MOST);
    let mut last_commit = tokio::time::Instant::now();
    while waiting.recv_many(&mut batch, BATCH_AT_MOST).await > 0 {
        let next_commit = last_commit + COMMIT_EVERY;
        if batch.len() < BATCH_AT_MOST && tokio::time::Instant::now() < next_commit {
            tokio::time::sleep_until(next_commit).await;
            while batch.len() < BATCH_AT_MOST
                && let Ok(commit) = waiting.try_recv()
            {
                batch.push(commit);
            }
        }
        last_commit = tokio::time::Instant::now();
        let (new, replies): (Vec<NewRecord>, Vec<_>) = batch.drain(..).unzip();
        match records.insert_all(&new).await {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Some(id));
                }
            }
            Err(error) => {
                tracing::error!(%error, records = new.len(), "cannot record archived documents");
                for reply in replies {
                    let _ = reply.send(None);
                }
            }
        }
    }
}
