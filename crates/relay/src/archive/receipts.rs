//! What became of recent transfers' archive copies, for the page that
//! asks right after the last byte. Kept in this relay's memory for a
//! while; a transfer another relay served is looked up in the records.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use billing::api::ArchiveReceipt;
use tokio::sync::Notify;

/// How long a receipt is kept, and how many at most.
pub const KEPT_FOR: Duration = Duration::from_secs(15 * 60);
const KEPT_AT_MOST: usize = 10_000;

#[derive(Default)]
pub struct Receipts {
    entries: Mutex<HashMap<u64, Entry>>,
    settled: Notify,
}

struct Entry {
    since: Instant,
    profile: String,
    /// `None` once the transfer broke or was abandoned and its copy thrown away.
    receipt: Option<ArchiveReceipt>,
}

/// What this relay knows of a transfer.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    Known {
        profile: String,
        receipt: ArchiveReceipt,
    },
    /// It served the transfer, which did not complete: nothing was kept.
    ThrownAway,
    /// It did not serve it.
    Unknown,
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
        let entry = Entry {
            since: Instant::now(),
            profile: profile.to_owned(),
            receipt: Some(ArchiveReceipt::Pending),
        };
        entries.insert(request_id, entry);
    }

    pub fn settle(&self, request_id: u64, receipt: ArchiveReceipt) {
        self.set(request_id, Some(receipt));
    }

    pub fn throw_away(&self, request_id: u64) {
        self.set(request_id, None);
    }

    fn set(&self, request_id: u64, receipt: Option<ArchiveReceipt>) {
        if let Some(entry) = self.entries.lock().expect("receipts lock").get_mut(&request_id) {
            entry.receipt = receipt;
        }
        self.settled.notify_waiters();
    }

    /// What this relay knows of `request_id`, once settled or after `wait`.
    pub async fn wait(&self, request_id: u64, wait: Duration) -> Lookup {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a settlement in between is not missed.
            let settled = self.settled.notified();
            let current = {
                let entries = self.entries.lock().expect("receipts lock");
                match entries.get(&request_id) {
                    None => Lookup::Unknown,
                    Some(Entry { receipt: None, .. }) => Lookup::ThrownAway,
                    Some(Entry { profile, receipt: Some(receipt), .. }) => {
                        Lookup::Known { profile: profile.clone(), receipt: receipt.clone() }
                    }
                }
            };
            match current {
                Lookup::Known { receipt: ArchiveReceipt::Pending, .. } => {
                    if tokio::time::timeout_at(deadline, settled).await.is_err() {
                        return current;
                    }
                }
                other => return other,
            }
        }
    }
}
