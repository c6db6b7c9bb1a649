//! What the relay is doing, for Prometheus: `GET /metrics` in the
//! OpenMetrics text format, on its own address or to its own allowlist.
//! Labels name routes, profiles, endpoints, outcomes and error codes only:
//! never a person, a client address, a token or a key.

use std::{
    hash::Hash,
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use billing::api::{Endpoint, ErrorCode, routes, runs::RunStatus};
use ipnet::IpNet;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::{Family, MetricConstructor},
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use super::audit::TransferOutcome;
use crate::RelayError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DocumentLabels {
    profile: String,
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DocumentOutcomeLabels {
    profile: String,
    endpoint: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VendorErrorLabels {
    profile: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    job: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

/// Histogram buckets in seconds from 1 ms to about 2 minutes.
#[derive(Clone, Copy)]
struct Seconds;

impl MetricConstructor<Histogram> for Seconds {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.001, 2.0, 18))
    }
}

/// Every series the relay keeps.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, Seconds>,
    documents: Family<DocumentOutcomeLabels, Counter>,
    document_bytes: Family<DocumentLabels, Counter>,
    document_seconds: Family<DocumentLabels, Histogram, Seconds>,
    vendor_response_seconds: Family<DocumentLabels, Histogram, Seconds>,
    vendor_errors: Family<VendorErrorLabels, Counter>,
    transfers_in_progress: Gauge,
    sign_ins: Family<OutcomeLabels, Counter>,
    refusals: Family<CodeLabels, Counter>,
    connections_open: Gauge,
    connections_closed: Family<ReasonLabels, Counter>,
    connection_cap_reached: Counter,
    archived: Family<ArchiveLabels, Counter>,
    archive_damaged: Counter,
    runs: Family<RunLabels, Counter>,
    last_successful_run: Family<JobLabels, Gauge>,
    schedule_checks: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ArchiveLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// A connection counted as open until this is dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("billing_relay");
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(Seconds),
            documents: Family::default(),
            document_bytes: Family::default(),
            document_seconds: Family::new_with_constructor(Seconds),
            vendor_response_seconds: Family::new_with_constructor(Seconds),
            vendor_errors: Family::default(),
            transfers_in_progress: Gauge::default(),
            sign_ins: Family::default(),
            refusals: Family::default(),
            connections_open: Gauge::default(),
            connections_closed: Family::default(),
            connection_cap_reached: Counter::default(),
            archived: Family::default(),
            archive_damaged: Counter::default(),
            runs: Family::default(),
            last_successful_run: Family::default(),
            schedule_checks: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "Requests answered, by route, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the answer's headers, by route",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "documents",
            "Document requests by profile, endpoint and how they ended",
            metrics.documents.clone(),
        );
        registry.register(
            "document_bytes",
            "Document bytes passed to clients, by profile and endpoint",
            metrics.document_bytes.clone(),
        );
        registry.register(
            "document_duration_seconds",
            "Time from the request to a document's last byte (or its end), by profile and endpoint",
            metrics.document_seconds.clone(),
        );
        registry.register(
            "vendor_response_seconds",
            "Time until the vendor's status line, by profile and endpoint",
            metrics.vendor_response_seconds.clone(),
        );
        registry.register(
            "vendor_errors",
            "Vendor failures by profile and kind",
            metrics.vendor_errors.clone(),
        );
        registry.register(
            "transfers_in_progress",
            "Documents streaming to clients now",
            metrics.transfers_in_progress.clone(),
        );
        registry.register("sign_ins", "Browser sign-ins by outcome", metrics.sign_ins.clone());
        registry.register(
            "refusals",
            "Requests refused by the allowlist, the rate limit, sign-in or the access rules, by code",
            metrics.refusals.clone(),
        );
        registry.register(
            "connections_open",
            "Client connections open now",
            metrics.connections_open.clone(),
        );
        registry.register(
            "connections_closed",
            "Client connections the relay closed: header_timeout (headers not sent in time) or idle",
            metrics.connections_closed.clone(),
        );
        registry.register(
            "connection_cap_reached",
            "Times a new connection had to wait because max_open connections were open",
            metrics.connection_cap_reached.clone(),
        );
        registry.register(
            "archive_documents",
            "Completed documents by whether the archive kept them: archived, or not_archived with the reason \
             (store, database, fell_behind)",
            metrics.archived.clone(),
        );
        registry.register(
            "archive_damaged_reads",
            "Archived documents refused because their bytes no longer match their SHA-256",
            metrics.archive_damaged.clone(),
        );
        registry.register(
            "scheduled_runs",
            "Scheduled runs this relay ran, by job and outcome: succeeded, not_yet_published or failed",
            metrics.runs.clone(),
        );
        registry.register(
            "scheduled_run_last_success_timestamp_seconds",
            "When each job last succeeded on this relay, in Unix seconds: alert on time() minus this",
            metrics.last_successful_run.clone(),
        );
        registry.register(
            "schedule_checks",
            "Times this relay looked for jobs due and ran or left each (another relay's, or ended)",
            metrics.schedule_checks.clone(),
        );
        Self { registry, ..metrics }
    }
}

/// The route a path belongs to, as a bounded label: never the path itself.
fn route_of(path: &str) -> &'static str {
    match path {
        routes::PROFILES => routes::PROFILES,
        routes::ME => routes::ME,
        "/api/openapi.json" => "/api/openapi.json",
        routes::SIGN_IN => routes::SIGN_IN,
        routes::SIGN_IN_CALLBACK => routes::SIGN_IN_CALLBACK,
        routes::SIGN_OUT => routes::SIGN_OUT,
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        routes::ARCHIVE => routes::ARCHIVE,
        _ if path.starts_with("/api/documents/") => routes::DOCUMENTS,
        _ if path.starts_with("/api/archive/receipts/") => "/api/archive/receipts",
        _ if path.starts_with("/api/archive/") => "/api/archive/{id}",
        _ if path == "/api" || path.starts_with("/api/") => "/api/other",
        _ if path.starts_with("/auth/") => "/auth/other",
        _ => "app",
    }
}

fn method_of(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Whether a code means the relay turned the caller away (rather than the
/// request or the vendor being wrong).
fn is_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotAllowlisted
            | ErrorCode::RateLimited
            | ErrorCode::SignInRequired
            | ErrorCode::TokenInvalid
            | ErrorCode::ProfileForbidden
            | ErrorCode::CrossSiteRequest
            | ErrorCode::HostNotAllowed
    )
}

/// The kind of a vendor failure, when `code` is one.
fn vendor_error_kind(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::VendorRejectedKey => "rejected_key",
        ErrorCode::VendorRefusedRelay => "refused_relay",
        ErrorCode::VendorFailed => "failed",
        ErrorCode::VendorWrongFormat => "wrong_format",
        ErrorCode::VendorUnreachable => "unreachable",
        ErrorCode::VendorTooSlow => "too_slow",
        _ => return None,
    })
}

impl Metrics {
    /// The text Prometheus scrapes.
    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    pub fn connection_opened(&self) -> OpenConnection {
        self.connections_open.inc();
        OpenConnection(self.connections_open.clone())
    }

    pub fn connection_closed(&self, reason: &'static str) {
        self.connections_closed.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn connection_cap_reached(&self) {
        self.connection_cap_reached.inc();
    }

    pub fn signed_in(&self, signed_in: bool) {
        let outcome = if signed_in { "signed_in" } else { "failed" };
        self.sign_ins.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// A completed document the archive kept (`reason` empty) or did not.
    pub fn archive_outcome(&self, archived: bool, reason: &'static str) {
        let outcome = if archived { "archived" } else { "not_archived" };
        self.archived.get_or_create(&ArchiveLabels { outcome, reason }).inc();
    }

    /// A scheduled run of `job` ended (or waits for the vendor) at `at`.
    pub fn run_ended(&self, job: &str, status: RunStatus, at: chrono::DateTime<chrono::Utc>) {
        let outcome = match status {
            RunStatus::Running => return,
            RunStatus::NotYetPublished => "not_yet_published",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        };
        self.runs.get_or_create(&RunLabels { job: job.to_owned(), outcome }).inc();
        if status == RunStatus::Succeeded {
            self.last_successful_run.get_or_create(&JobLabels { job: job.to_owned() }).set(at.timestamp());
        }
    }

    pub fn schedule_checked(&self) {
        self.schedule_checks.inc();
    }

    pub fn archive_damaged(&self) {
        self.archive_damaged.inc();
    }

    /// The series of `profile`'s documents, which its forwarding holds.
    pub fn profile_series(self: &Arc<Self>, profile: &str) -> ProfileSeries {
        ProfileSeries { metrics: self.clone(), profile: profile.to_owned(), endpoints: Default::default() }
    }
}

/// One profile's document series, held by its forwarding: each is made
/// with its labels on the profile's first document that needs it, then
/// counted with no label built or looked up.
pub struct ProfileSeries {
    metrics: Arc<Metrics>,
    profile: String,
    /// In the order of [`Endpoint::ALL`].
    endpoints: [EndpointSeries; Endpoint::ALL.len()],
}

#[derive(Default)]
struct EndpointSeries {
    vendor_response_seconds: OnceLock<Histogram>,
    bytes: OnceLock<Counter>,
    seconds: OnceLock<Histogram>,
    /// In the order of [`TransferOutcome::ALL`].
    outcomes: [OnceLock<Counter>; TransferOutcome::ALL.len()],
}

impl ProfileSeries {
    fn series(&self, endpoint: Endpoint) -> &EndpointSeries {
        let index = Endpoint::ALL.iter().position(|each| *each == endpoint).unwrap_or_default();
        &self.endpoints[index]
    }

    fn labels(&self, endpoint: Endpoint) -> DocumentLabels {
        DocumentLabels { profile: self.profile.clone(), endpoint: endpoint.path() }
    }

    fn outcome_labels(&self, endpoint: Endpoint, outcome: &'static str) -> DocumentOutcomeLabels {
        DocumentOutcomeLabels { profile: self.profile.clone(), endpoint: endpoint.path(), outcome }
    }

    pub fn vendor_answered(&self, endpoint: Endpoint, waited: Duration) {
        let series = &self.series(endpoint).vendor_response_seconds;
        held(series, &self.metrics.vendor_response_seconds, || self.labels(endpoint))
            .observe(waited.as_secs_f64());
    }

    /// A document request that failed before any byte, as `code` says.
    pub fn document_failed(&self, endpoint: Endpoint, code: ErrorCode) {
        self.metrics.documents.get_or_create(&self.outcome_labels(endpoint, "failed")).inc();
        if let Some(kind) = vendor_error_kind(code) {
            self.vendor_error(kind);
        }
    }

    fn vendor_error(&self, kind: &'static str) {
        let labels = VendorErrorLabels { profile: self.profile.clone(), kind };
        self.metrics.vendor_errors.get_or_create(&labels).inc();
    }

    pub fn transfer_started(&self) {
        self.metrics.transfers_in_progress.inc();
    }

    pub fn transfer_ended(
        &self,
        endpoint: Endpoint,
        outcome: TransferOutcome,
        bytes: u64,
        duration: Duration,
    ) {
        let metrics = &self.metrics;
        metrics.transfers_in_progress.dec();
        let series = self.series(endpoint);
        held(&series.bytes, &metrics.document_bytes, || self.labels(endpoint)).inc_by(bytes);
        held(&series.seconds, &metrics.document_seconds, || self.labels(endpoint))
            .observe(duration.as_secs_f64());
        let index = TransferOutcome::ALL.iter().position(|each| *each == outcome).unwrap_or_default();
        held(&series.outcomes[index], &metrics.documents, || self.outcome_labels(endpoint, outcome.as_str()))
            .inc();
        if outcome == TransferOutcome::BrokenByVendor {
            self.vendor_error("broke_off_mid_document");
        }
    }
}

/// `family`'s series for `labels`, made on first use and then kept in `kept`.
fn held<'a, L, M, C>(kept: &'a OnceLock<M>, family: &Family<L, M, C>, labels: impl FnOnce() -> L) -> &'a M
where
    L: Clone + Hash + Eq,
    M: Clone,
    C: MetricConstructor<M>,
{
    kept.get_or_init(|| family.get_or_create(&labels()).clone())
}

/// A request being answered, as the metrics count it: its route and
/// method as bounded labels, and when it came.
pub struct Answering {
    route: &'static str,
    method: &'static str,
    started: Instant,
}

impl Answering {
    pub fn start<B>(request: &Request<B>) -> Self {
        Self {
            route: route_of(request.uri().path()),
            method: method_of(request.method()),
            started: Instant::now(),
        }
    }

    /// Counts the answer by route and status, times it, and counts a
    /// refusal by the code the relay answered with; gives the time taken.
    pub fn answered(self, metrics: &Metrics, response: &Response) -> std::time::Duration {
        let Self { route, method, started } = self;
        let took = started.elapsed();
        metrics.request_seconds.get_or_create(&RouteLabels { route }).observe(took.as_secs_f64());
        let status = response.status().as_u16();
        metrics.requests.get_or_create(&RequestLabels { route, method, status }).inc();
        if let Some(code) = response.extensions().get::<ErrorCode>().copied().filter(|code| is_refusal(*code))
        {
            metrics.refusals.get_or_create(&CodeLabels { code: code.name() }).inc();
        }
        took
    }
}

/// Who may read the metrics, and the metrics themselves.
#[derive(Clone)]
pub struct MetricsAccess {
    pub metrics: Arc<Metrics>,
    pub allowlist: Arc<[IpNet]>,
}

/// `GET /metrics`, to the metrics allowlist only, judged by the socket
/// peer: scrapers reach each relay directly, never through a proxy.
pub async fn serve(
    State(access): State<MetricsAccess>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    let client = peer.ip().to_canonical();
    if !access.allowlist.iter().any(|net| net.contains(&client)) {
        return RelayError::NotAllowlisted { client: client.to_string() }.into_response();
    }
    match access.metrics.encode() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "cannot encode the metrics");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_their_pattern_never_their_path() {
        assert_eq!(route_of("/api/documents/alice-secret/v3/invoices"), "/api/documents");
        assert_eq!(route_of("/api/profiles"), "/api/profiles");
        assert_eq!(route_of("/api/whatever/alice"), "/api/other");
        assert_eq!(route_of("/auth/callback"), "/auth/callback");
        assert_eq!(route_of("/auth/anything"), "/auth/other");
        assert_eq!(route_of("/index-3f2a.js"), "app");
    }
}
