//! The audit log: one structured line under the `audit` target for each
//! sign-in, failed sign-in, sign-out, refusal and document transfer, naming
//! the person by issuer, subject and e-mail. Never a token, cookie or key.

use std::{
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use billing::api::ErrorCode;

use crate::identity::User;

/// The tracing target of every audit line, so it can be routed apart.
pub const TARGET: &str = "audit";

/// Request ids are a random 21-bit number for this run of the relay above
/// a 32-bit count, so relays sharing one archive do not hand out the same
/// ids while a receipt may be asked for; they stay below 2^53, exact as
/// JSON numbers.
static NEXT_REQUEST: LazyLock<AtomicU64> = LazyLock::new(|| {
    let run = getrandom::u64().unwrap_or_else(|_| {
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        u64::try_from(started.as_micros()).unwrap_or(1)
    });
    AtomicU64::new((run % (1 << 21)) << 32)
});

/// The number a request is known by in the log, the audit log and its
/// `X-Request-Id` answer header.
#[derive(Clone, Copy, Debug)]
pub struct RequestId(pub u64);

impl RequestId {
    /// The next number, for a request or for a job's fetch.
    pub fn next() -> Self {
        Self(NEXT_REQUEST.fetch_add(1, Ordering::Relaxed))
    }
}

/// Issuer, subject, e-mail and (for a service account) client id.
fn identity(user: Option<&User>) -> (&str, &str, &str, &str) {
    user.map_or(("", "", "", ""), |user| {
        (
            user.issuer.as_str(),
            user.subject.as_str(),
            user.email.as_deref().unwrap_or(""),
            user.client_id.as_deref().unwrap_or(""),
        )
    })
}

pub fn signed_in(request: RequestId, user: &User) {
    let (issuer, subject, email, _) = identity(Some(user));
    tracing::info!(
        target: TARGET,
        event = "sign_in",
        outcome = "signed_in",
        request_id = request.0,
        issuer,
        subject,
        email,
        groups = user.groups.join(","),
    );
}

pub fn sign_in_failed(request: RequestId, reason: &str) {
    tracing::info!(target: TARGET, event = "sign_in", outcome = "failed", request_id = request.0, reason);
}

pub fn signed_out(request: RequestId, user: Option<&User>) {
    let (issuer, subject, email, _) = identity(user);
    tracing::info!(
        target: TARGET,
        event = "sign_out",
        outcome = if user.is_some() { "signed_out" } else { "no_session" },
        request_id = request.0,
        issuer,
        subject,
        email,
    );
}

/// The provider ended a person's sessions (back-channel logout).
pub fn ended_by_provider(
    request: RequestId,
    issuer: &str,
    subject: &str,
    provider_session: &str,
    sessions: usize,
) {
    tracing::info!(
        target: TARGET,
        event = "sign_out",
        outcome = "ended_by_provider",
        request_id = request.0,
        issuer,
        subject,
        provider_session,
        sessions,
    );
}

pub fn refused(request: RequestId, user: Option<&User>, code: ErrorCode, path: &str, profile: Option<&str>) {
    let (issuer, subject, email, client) = identity(user);
    let path: String = path.chars().take(200).collect();
    tracing::info!(
        target: TARGET,
        event = "refusal",
        outcome = code.name(),
        request_id = request.0,
        issuer,
        subject,
        email,
        client,
        path,
        profile = profile.unwrap_or(""),
    );
}

/// What a document request asked for, for its audit line.
#[derive(Clone, Debug)]
pub struct AskedDocument {
    pub request: RequestId,
    pub user: Option<std::sync::Arc<User>>,
    pub profile: std::sync::Arc<str>,
    pub endpoint: &'static str,
    /// `2026-01-01..2026-03-31`, or `subscription 123`.
    pub window: String,
    pub format: &'static str,
    /// When the request arrived.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// How a document transfer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferOutcome {
    /// Every byte the vendor sent reached the client.
    Complete,
    /// The vendor broke off or stalled mid-document.
    BrokenByVendor,
    /// The client went away before the end.
    AbandonedByClient,
}

impl TransferOutcome {
    pub const ALL: [TransferOutcome; 3] = [Self::Complete, Self::BrokenByVendor, Self::AbandonedByClient];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::BrokenByVendor => "broken_by_vendor",
            Self::AbandonedByClient => "abandoned_by_client",
        }
    }
}

pub fn transfer(asked: &AskedDocument, outcome: TransferOutcome, bytes: u64, duration: Duration) {
    document_line(asked, outcome.as_str(), bytes, duration);
}

/// A document request the vendor or the relay refused before any byte.
pub fn document_failed(asked: &AskedDocument, code: ErrorCode, duration: Duration) {
    document_line(asked, &format!("failed: {}", code.name()), 0, duration);
}

fn document_line(asked: &AskedDocument, outcome: &str, bytes: u64, duration: Duration) {
    let (issuer, subject, email, client) = identity(asked.user.as_deref());
    tracing::info!(
        target: TARGET,
        event = "document",
        outcome,
        request_id = asked.request.0,
        issuer,
        subject,
        email,
        client,
        profile = &*asked.profile,
        endpoint = asked.endpoint,
        window = asked.window,
        format = asked.format,
        bytes,
        duration_ms = duration.as_millis() as u64,
    );
}

/// Whether a completed document was archived: its record id and hash, or
/// why not.
pub fn archived(asked: &AskedDocument, outcome: Result<i64, &str>, sha256: &str) {
    let (issuer, subject, email, client) = identity(asked.user.as_deref());
    let (archived, record, reason) = match outcome {
        Ok(id) => (true, id, ""),
        Err(reason) => (false, 0, reason),
    };
    tracing::info!(
        target: TARGET,
        event = "archive",
        outcome = if archived { "archived" } else { "not_archived" },
        archived,
        reason,
        record,
        sha256,
        request_id = asked.request.0,
        issuer,
        subject,
        email,
        client,
        profile = &*asked.profile,
        endpoint = asked.endpoint,
        window = asked.window,
        format = asked.format,
    );
}

/// An archived document removed because its retention period is over.
pub fn purged(record: i64, profile: &str, sha256: &str, fetched_at: &str, bytes_removed: bool) {
    tracing::info!(
        target: TARGET,
        event = "archive_purge",
        outcome = "purged",
        record,
        profile,
        sha256,
        fetched_at,
        bytes_removed,
    );
}

/// An archived document refused on reading: its bytes no longer match.
pub fn damaged(request: RequestId, user: Option<&User>, record: i64, profile: &str) {
    let (issuer, subject, email, client) = identity(user);
    tracing::error!(
        target: TARGET,
        event = "archive_read",
        outcome = "damaged",
        request_id = request.0,
        record,
        profile,
        issuer,
        subject,
        email,
        client,
    );
}

/// A shared decision changed: which, by whom, and its state before and after.
pub fn decided(
    request: RequestId,
    user: Option<&User>,
    subject: &crate::store::decisions::Subject,
    version: u64,
    before: Option<&str>,
    after: &str,
) {
    let (issuer, subject_of_person, email, client) = identity(user);
    tracing::info!(
        target: TARGET,
        event = "decision",
        outcome = "changed",
        request_id = request.0,
        issuer,
        subject = subject_of_person,
        email,
        client,
        profile = subject.profile,
        topic = subject.topic.name(),
        month = subject.month,
        item = subject.item,
        version,
        before = before.unwrap_or(""),
        after,
    );
}
