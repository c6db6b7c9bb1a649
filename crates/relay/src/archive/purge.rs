//! `billing-relay archive purge`: removes what has outlived its retention
//! period, and only that, with an audit line for each document.

use chrono::{DateTime, Months, Utc};

use super::Archive;
use crate::observe::audit;

/// What a purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub records: usize,
    /// Stored files no remaining record points to.
    pub files: usize,
    /// Transfers a stopped relay left half-written.
    pub incoming: usize,
}

/// Removes the records fetched more than `retention_years` before `now`,
/// and their bytes once no other record points to them.
pub async fn purge(archive: &Archive, retention_years: u32, now: DateTime<Utc>) -> anyhow::Result<Purged> {
    let cutoff = now
        .checked_sub_months(Months::new(retention_years.saturating_mul(12)))
        .ok_or_else(|| anyhow::anyhow!("retention_years {retention_years} reaches before the calendar"))?;
    let mut purged = Purged::default();
    loop {
        let expired = archive.records.fetched_before(cutoff, 500).await?;
        if expired.is_empty() {
            break;
        }
        for document in expired {
            archive.records.delete(document.id).await?;
            purged.records += 1;
            let bytes_removed = !archive.records.hash_in_use(&document.sha256).await?;
            if bytes_removed {
                archive.blobs.remove(&document.sha256).await?;
                purged.files += 1;
            }
            let fetched_at = document.fetched_at.to_rfc3339();
            audit::purged(
                document.id,
                document.request.profile(),
                &document.sha256,
                &fetched_at,
                bytes_removed,
            );
        }
    }
    purged.incoming = archive.blobs.sweep_incoming(chrono::Duration::days(1)).await?;
    Ok(purged)
}
