//! What became of recent transfers' archive copies, for the page that
//! asks right after the last byte. Kept in this relay's memory for a
//! while: the page asks the relay that served it, at once.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use billing::api::ArchiveReceipt;
use tokio::sync::Notify;

/// How long a receipt is kept, and how many at most.
const KEPT_FOR: Duration = Duration::from_secs(15 * 60);
const KEPT_AT_MOST: usize = 10_000;

#[derive(Default)]
pub struct Receipts {
    entries: Mutex<HashMap<u64, Entry>>,
    settled: Notify,
}

struct Entry {
    since: Instant,
    profile: String,
    receipt: ArchiveReceipt,
}

impl Receipts {
    pub fn pending(&self, request_id: u64, profile: &str) {
        let mut entries = self.entries.lock().expect("receipts lock");
        if entries.len() >= KEPT_AT_MOST {
            entries.retain(|_, entry| entry.since.elapsed() < KEPT_FOR);
            if entries.len() >= KEPT_AT_MOST
                && let Some(oldest) = entries.iter().min_by_key(|(_, entry)| entry.since).map(|(id, _)| *id)
            {
                entries.remove(&oldest);
            }
        }
        let entry =
            Entry { since: Instant::now(), profile: profile.to_owned(), receipt: ArchiveReceipt::Pending };
        entries.insert(request_id, entry);
    }

    pub fn settle(&self, request_id: u64, receipt: ArchiveReceipt) {
        if let Some(entry) = self.entries.lock().expect("receipts lock").get_mut(&request_id) {
            entry.receipt = receipt;
        }
        self.settled.notify_waiters();
    }

    pub fn forget(&self, request_id: u64) {
        self.entries.lock().expect("receipts lock").remove(&request_id);
        self.settled.notify_waiters();
    }

    /// The receipt and its profile, once settled or after `wait`.
    pub async fn wait(&self, request_id: u64, wait: Duration) -> Option<(String, ArchiveReceipt)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a settlement in between is not missed.
            let settled = self.settled.notified();
            let current = {
                let entries = self.entries.lock().expect("receipts lock");
                entries.get(&request_id).map(|entry| (entry.profile.clone(), entry.receipt.clone()))
            };
            match current {
                Some((_, ArchiveReceipt::Pending)) => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return current;
                    }
                }
                other => return other,
            }
        }
    }
}
