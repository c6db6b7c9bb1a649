//! Scheduled runs as the database keeps them: one per job and month,
//! claimed by one relay at a time under a lease.

use async_trait::async_trait;
use billing::{
    Endpoint,
    api::{
        DateWindow,
        decisions::InvoiceMonth,
        runs::{Findings, RunRecord, RunStatus},
    },
};
use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;

/// A relay asking to run a job's month now.
pub struct Claim<'a> {
    pub job: &'a str,
    pub profile: &'a str,
    pub endpoint: Endpoint,
    /// What makes it one run of the job: the month, or the cron time.
    pub slot: &'a str,
    pub month: InvoiceMonth,
    pub window: DateWindow,
    /// Which relay, for the lease.
    pub holder: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    /// The scheduler's day: a month not yet published is tried once a day.
    pub today: NaiveDate,
    /// Run it again whatever it came to (a person trying a configuration);
    /// never while another relay's lease holds.
    pub again: bool,
}

/// How a run ended, or where it stands for now.
pub struct Outcome {
    pub status: RunStatus,
    pub attempts: u32,
    pub documents: Vec<i64>,
    pub findings: Option<Findings>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Which runs to list, newest first.
pub struct RunFilter {
    /// `None`: every profile (sign-in off); else only these.
    pub profiles: Option<Vec<String>>,
    pub job: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait Runs: Send + Sync {
    /// The run's id when this relay may run it now: the job has no run of
    /// the month yet, waits for the vendor to publish and was last tried
    /// before today, was left by a relay whose lease ran out, or (`again`)
    /// ended. `None` when another relay holds it or it ended.
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<i64>, StoreError>;
    /// Records where the run stands and gives its lease up.
    async fn finish(&self, id: i64, outcome: &Outcome) -> Result<(), StoreError>;
    async fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError>;
    /// Takes the telling of an ended run for this relay: `false` when it
    /// was told already or another relay is telling it.
    async fn claim_report(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Notes that `channel` was told of the run.
    async fn told(&self, id: i64, channel: &str) -> Result<(), StoreError>;
    /// Holds the run's lease longer while its holder is still on it;
    /// `false` when the lease is no longer this holder's.
    async fn renew_lease(&self, id: i64, holder: &str, until: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Gives a telling up that could not be delivered, to be tried again.
    async fn release_report(&self, id: i64) -> Result<(), StoreError>;
    /// Ended runs nobody was told of yet, oldest first.
    async fn unreported(&self, limit: u32) -> Result<Vec<RunRecord>, StoreError>;
    async fn list(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError>;
}

/// A run's columns as both databases return them.
pub(super) struct RunRow {
    pub id: i64,
    pub job: String,
    pub profile: String,
    pub endpoint: String,
    pub slot: String,
    pub month: String,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub status: String,
    pub attempts: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub documents: String,
    pub findings: Option<String>,
    pub error: Option<String>,
    pub told: String,
}

pub(super) fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "running",
        RunStatus::NotYetPublished => "not_yet_published",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
    }
}

impl RunRow {
    pub(super) fn into_record(self) -> Result<RunRecord, StoreError> {
        let id = self.id;
        let unreadable = |reason: &str| StoreError::Unreadable { id, reason: format!("run: {reason}") };
        let status = serde_json::from_value(serde_json::Value::String(self.status))
            .map_err(|_| unreadable("unknown status"))?;
        Ok(RunRecord {
            id,
            job: self.job,
            profile: self.profile,
            endpoint: Endpoint::from_path(&self.endpoint).ok_or_else(|| unreadable("unknown endpoint"))?,
            slot: self.slot,
            month: self.month.parse().map_err(|_| unreadable("bad month"))?,
            window: DateWindow::new(self.window_start, self.window_end)
                .map_err(|_| unreadable("bad window"))?,
            status,
            attempts: u32::try_from(self.attempts).map_err(|_| unreadable("bad attempts"))?,
            started_at: self.started_at,
            finished_at: self.finished_at,
            documents: serde_json::from_str(&self.documents).map_err(|_| unreadable("bad documents"))?,
            findings: self
                .findings
                .map(|findings| serde_json::from_str(&findings))
                .transpose()
                .map_err(|_| unreadable("bad findings"))?,
            error: self.error,
            told: serde_json::from_str(&self.told).map_err(|_| unreadable("bad told"))?,
        })
    }
}
