//! One run of a job: claim its month or cron time, fetch through the person's path with
//! retries, wait for the archive's copy, compute what it finds, record it.

use std::{sync::Arc, time::Duration};

use billing::{
    Endpoint, InvoiceDocument,
    api::{
        ArchiveReceipt, ArchivedDocument, DateWindow, DocumentRequest, Scope,
        decisions::{InvoiceMonth, Settings},
        runs::{RunRecord, RunStatus},
    },
};
use chrono::{NaiveDate, Utc};

use crate::{
    RelayConfig, RelayError,
    archive::Archive,
    config::{Job, Slot},
    decisions::Shared,
    documents::{Forwarding, fetch_for_job},
    identity::User,
    observe::audit::RequestId,
    store::{
        ListFilter, Runs,
        runs::{Claim, Outcome},
    },
};

/// How long a run waits for the archive to say it kept a document.
const RECEIPT_WAIT: Duration = Duration::from_secs(60);

/// What runs jobs: the person's fetch path, the archive and the database.
pub struct Runner {
    pub config: Arc<RelayConfig>,
    pub forwarding: Arc<Forwarding>,
    pub runs: Arc<dyn Runs>,
    pub decisions: Arc<Shared>,
    /// This relay, as the holder of a run's lease.
    pub holder: String,
}

/// A fetch that did not bring a document.
struct Failure {
    message: String,
    /// The vendor may answer another time: worth retrying.
    passing: bool,
}

impl From<RelayError> for Failure {
    fn from(error: RelayError) -> Self {
        let passing = matches!(
            error,
            RelayError::VendorFailed { .. }
                | RelayError::VendorUnreachable { .. }
                | RelayError::VendorTooSlow { .. }
                | RelayError::VendorWrongFormat { .. }
        );
        Self { message: format!("{}: {}", error, error.detail()), passing }
    }
}

/// A document fetched whole, and its archived copy.
struct Fetched {
    document: InvoiceDocument,
    archived: Option<i64>,
}

impl Runner {
    /// Runs `job` for `slot` unless another relay holds it or (without
    /// `again`) it has ended or was tried `today`; the run as recorded, or
    /// `None` if not run.
    pub async fn run(
        &self,
        job: &Job,
        slot: &Slot,
        again: bool,
        today: NaiveDate,
    ) -> anyhow::Result<Option<RunRecord>> {
        let month = slot.month;
        let profile = job.profile_in(&self.config)?;
        let lease = chrono::Duration::from_std(self.config.schedule_lease)?;
        let now = Utc::now();
        let claim = Claim {
            job: &job.name,
            profile: &profile.name,
            endpoint: job.endpoint,
            slot: &slot.key,
            month,
            window: slot.window,
            holder: &self.holder,
            now,
            lease_until: now + lease,
            today,
            again,
        };
        let Some(id) = self.runs.claim(&claim).await? else {
            tracing::info!(job = %job.name, slot = %slot.key, "the run is another relay's or has ended");
            return Ok(None);
        };
        tracing::info!(job = %job.name, slot = %slot.key, run = id, "running");
        let request = DocumentRequest::new(
            profile.name.clone(),
            job.version(profile),
            job.endpoint,
            job.format,
            Scope::Window(slot.window),
        )?;
        // A relay that dies mid-run stops renewing, and another takes the
        // run over once the lease has run out.
        let attempt = self.attempt(job, &profile.endpoints, month, &request);
        tokio::pin!(attempt);
        let outcome = loop {
            tokio::select! {
                outcome = &mut attempt => break outcome,
                () = tokio::time::sleep(self.config.schedule_lease / 3) => {
                    match self.runs.renew_lease(id, &self.holder, Utc::now() + lease).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %job.name, run = id, "the run's lease is another relay's now"),
                        Err(error) => tracing::warn!(job = %job.name, run = id, %error, "cannot renew the run's lease"),
                    }
                }
            }
        };
        self.runs.finish(id, &outcome).await?;
        self.forwarding.metrics.run_ended(&job.name, outcome.status, outcome.at);
        Ok(self.runs.run(id).await?)
    }

    /// `offered`: the profile's endpoints, where the other side is looked for.
    async fn attempt(
        &self,
        job: &Job,
        offered: &[Endpoint],
        month: InvoiceMonth,
        request: &DocumentRequest,
    ) -> Outcome {
        let ended = |status, attempts, error: Option<String>| Outcome {
            status,
            attempts,
            documents: Vec::new(),
            findings: None,
            error,
            at: Utc::now(),
        };
        let (fetched, attempts) = self.fetch_with_retries(job, request).await;
        let main = match fetched {
            Ok(fetched) => fetched,
            Err(failure) => return ended(RunStatus::Failed, attempts, Some(failure.message)),
        };
        if job.window.waits_for_publication() && main.document.invoices.is_empty() {
            let waiting = format!(
                "the vendor has not published the invoices dated {month} yet; the run is tried again tomorrow"
            );
            return ended(RunStatus::NotYetPublished, attempts, Some(waiting));
        }
        let mut documents: Vec<i64> = main.archived.into_iter().collect();
        let mut attempts = attempts;
        let other = match request.other_side(offered) {
            Some(other) if job.other_side => match self.fetch_with_retries(job, &other).await {
                (Ok(fetched), more) => {
                    attempts += more;
                    documents.extend(fetched.archived);
                    Some(fetched.document)
                }
                (Err(failure), more) => {
                    let error = format!("the other side could not be fetched: {}", failure.message);
                    return ended(RunStatus::Failed, attempts + more, Some(error));
                }
            },
            _ => None,
        };
        let earlier = match request.window() {
            Some(window) if job.window.watches_a_fixed_window() => self
                .earlier_copy(job, request, window, |copied| copied == window, &documents)
                .await
                .map(|(copy, document)| (copy, document, month)),
            _ => {
                let before = month.back(1);
                self.earlier_copy(
                    job,
                    request,
                    before.window(),
                    |copied| InvoiceMonth::of_window(copied) == Some(before),
                    &[],
                )
                .await
                .map(|(copy, document)| (copy, document, before))
            }
        };
        let threshold = match self.decisions.settings(request.profile()).await {
            Ok(shared) => shared.settings.low_margin_percent,
            Err(_) => Settings::default().low_margin_percent,
        };
        let findings = analysis::runs::findings(
            request.endpoint(),
            &main.document,
            other.as_ref(),
            earlier.as_ref().map(|(archived, document, month)| analysis::runs::EarlierRun {
                month: *month,
                document_id: archived.id,
                document,
            }),
            threshold,
        );
        Outcome {
            status: RunStatus::Succeeded,
            attempts,
            documents,
            findings: Some(findings),
            error: None,
            at: Utc::now(),
        }
    }

    /// The document, after at most `retries` more attempts while the
    /// vendor fails in a way that may pass; and the attempts made.
    async fn fetch_with_retries(
        &self,
        job: &Job,
        request: &DocumentRequest,
    ) -> (Result<Fetched, Failure>, u32) {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.fetch(job, request).await {
                Err(failure) if failure.passing && attempts <= job.retries => {
                    let wait = backoff(job.retry_wait, attempts);
                    tracing::warn!(job = %job.name, attempts, error = %failure.message, ?wait, "the vendor failed; trying again");
                    tokio::time::sleep(wait).await;
                }
                fetched => return (fetched, attempts),
            }
        }
    }

    async fn fetch(&self, job: &Job, request: &DocumentRequest) -> Result<Fetched, Failure> {
        let request_id = RequestId::next();
        let response = fetch_for_job(&self.forwarding, job_user(job), request.clone(), request_id).await?;
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|_| Failure {
            message: "the vendor broke off the document".to_owned(),
            passing: true,
        })?;
        let document = billing::parse_invoices(request.format(), &bytes).map_err(|error| Failure {
            message: format!("the vendor's document cannot be read: {error}"),
            passing: false,
        })?;
        let archived = match &self.forwarding.archive {
            Some(archive) => match archive.receipt(request_id.0, RECEIPT_WAIT).await {
                Ok(Some((_, ArchiveReceipt::Archived { id }))) => Some(id),
                _ => None,
            },
            None => None,
        };
        Ok(Fetched { document, archived })
    }

    /// The archive's newest copy within `within` of a window that `fits`,
    /// fetched the same way (but not one of `this_run`'s), and its
    /// document; `None` when there is none or it is damaged.
    async fn earlier_copy(
        &self,
        job: &Job,
        request: &DocumentRequest,
        within: DateWindow,
        fits: impl Fn(DateWindow) -> bool,
        this_run: &[i64],
    ) -> Option<(ArchivedDocument, InvoiceDocument)> {
        let archive: &Archive = self.forwarding.archive.as_deref()?;
        let filter = ListFilter {
            profiles: Some(vec![request.profile().to_owned()]),
            endpoint: Some(request.endpoint()),
            from: Some(within.start()),
            to: Some(within.end()),
            before: None,
            limit: 100,
        };
        let listed = archive.records.list(&filter).await.ok()?;
        let copy = listed.into_iter().find(|copy| {
            copy.request.format() == job.format
                && !this_run.contains(&copy.id)
                && copy.request.window().is_some_and(&fits)
        })?;
        let bytes = archive.read_whole(&copy).await.ok().flatten()?;
        let document = billing::parse_invoices(job.format, &bytes).ok()?;
        Some((copy, document))
    }
}

/// This relay among others sharing the database: its process and a random number.
pub fn holder() -> String {
    format!("relay-{}-{:08x}", std::process::id(), getrandom::u32().unwrap_or_default())
}

/// The job as the one who fetched.
fn job_user(job: &Job) -> Arc<User> {
    Arc::new(User {
        issuer: "billing-relay".to_owned(),
        subject: job.account(),
        name: Some(job.name.clone()),
        email: None,
        email_verified: false,
        groups: Vec::new(),
        signed_in_at: Utc::now().timestamp(),
        client_id: None,
        provider_session: None,
    })
}

/// `first` doubled for each attempt after the first, with up to a quarter
/// more at random so relays that failed together do not retry together.
fn backoff(first: Duration, attempts: u32) -> Duration {
    let wait = first.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)));
    let mut random = [0u8; 2];
    let jitter = match getrandom::fill(&mut random) {
        Ok(()) => f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX) / 4.0,
        Err(_) => 0.0,
    };
    wait.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_at_most_a_quarter_more() {
        for (attempts, base) in [(1, 10), (2, 20), (3, 40)] {
            let wait = backoff(Duration::from_secs(10), attempts);
            let base = Duration::from_secs(base);
            assert!(wait >= base && wait <= base.mul_f64(1.25), "{wait:?} after {attempts}");
        }
    }
}
