//! What became of recent transfers' archive copies, for the page that
//! asks right after the last byte. Kept in this relay's memory for a
//! while; a transfer another relay served is looked up in the records.

use std::{
    collections::{HashMap, VecDeque},
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
    kept: Mutex<Kept>,
    settled: Notify,
}

/// The receipts, and their ids oldest first, so making room looks only at
/// the ones that go rather than at all of them on every transfer.
#[derive(Default)]
struct Kept {
    entries: HashMap<u64, Entry>,
    oldest_first: VecDeque<(Instant, u64)>,
}

struct Entry {
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
        let mut kept = self.kept.lock().expect("receipts lock");
        let Kept { entries, oldest_first } = &mut *kept;
        let now = Instant::now();
        while let Some(&(since, id)) = oldest_first.front()
            && (oldest_first.len() >= KEPT_AT_MOST || now.duration_since(since) >= KEPT_FOR)
        {
            oldest_first.pop_front();
            entries.remove(&id);
        }
        let entry = Entry { profile: profile.to_owned(), receipt: Some(ArchiveReceipt::Pending) };
        if entries.insert(request_id, entry).is_none() {
            oldest_first.push_back((now, request_id));
        }
    }

    pub fn settle(&self, request_id: u64, receipt: ArchiveReceipt) {
        self.set(request_id, Some(receipt));
    }

    /// Settles each transfer of `archived` with its record's id, at once.
    pub fn settle_archived(&self, archived: impl IntoIterator<Item = (u64, i64)>) {
        self.set_each(
            archived.into_iter().map(|(request_id, id)| (request_id, Some(ArchiveReceipt::Archived { id }))),
        );
    }

    pub fn throw_away(&self, request_id: u64) {
        self.set(request_id, None);
    }

    fn set(&self, request_id: u64, receipt: Option<ArchiveReceipt>) {
        self.set_each([(request_id, receipt)]);
    }

    /// Sets each receipt under one lock, then tells the waiters once.
    fn set_each(&self, receipts: impl IntoIterator<Item = (u64, Option<ArchiveReceipt>)>) {
        let mut kept = self.kept.lock().expect("receipts lock");
        for (request_id, receipt) in receipts {
            if let Some(entry) = kept.entries.get_mut(&request_id) {
                entry.receipt = receipt;
            }
        }
        drop(kept);
        self.settled.notify_waiters();
    }

    /// What this relay knows of `request_id`, once settled or after `wait`.
    pub async fn wait(&self, request_id: u64, wait: Duration) -> Lookup {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a settlement in between is not missed.
            let settled = self.settled.notified();
            let current = {
                let kept = self.kept.lock().expect("receipts lock");
                match kept.entries.get(&request_id) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn known(receipts: &Receipts, request_id: u64) -> bool {
        receipts.kept.lock().unwrap().entries.contains_key(&request_id)
    }

    #[test]
    fn a_full_list_makes_room_by_dropping_the_oldest_receipt() {
        let receipts = Receipts::default();
        for request_id in 0..KEPT_AT_MOST as u64 {
            receipts.pending(request_id, "demo");
        }
        receipts.settle(0, ArchiveReceipt::Archived { id: 7 });
        receipts.pending(u64::MAX, "demo");

        assert!(!known(&receipts, 0), "the oldest receipt stays past the limit");
        assert!(known(&receipts, 1) && known(&receipts, u64::MAX));
        let kept = receipts.kept.lock().unwrap();
        assert_eq!((kept.entries.len(), kept.oldest_first.len()), (KEPT_AT_MOST, KEPT_AT_MOST));
    }

    #[tokio::test]
    async fn a_settled_receipt_is_told_and_an_unknown_one_is_not() {
        let receipts = Receipts::default();
        receipts.pending(5, "demo");
        receipts.settle(5, ArchiveReceipt::Archived { id: 9 });
        receipts.pending(6, "demo");
        receipts.throw_away(6);

        let wait = Duration::from_millis(1);
        let archived = Lookup::Known { profile: "demo".into(), receipt: ArchiveReceipt::Archived { id: 9 } };
        assert_eq!(receipts.wait(5, wait).await, archived);
        assert_eq!(receipts.wait(6, wait).await, Lookup::ThrownAway);
        assert_eq!(receipts.wait(7, wait).await, Lookup::Unknown);
    }
}
