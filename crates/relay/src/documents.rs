//! `GET /api/documents/{profile}/{version}/{endpoint}`: the one route that
//! reaches the vendor. The upstream URL is built from the profile's
//! configuration and validated parameters only; the upstream request
//! carries only the key header and Accept; the answer streams through.

use std::{io, sync::Arc, time::Instant};

use axum::{
    Extension,
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use billing::{
    Format,
    api::{DocumentRequest, Endpoint, RelayQuery, Scope, request::echoed, routes},
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::{
    Profile, RelayConfig, RelayError,
    admission::ClientAddr,
    archive::{Archive, Feed},
    auth::state::Auth,
    error::with_causes,
    identity::{Caller, User},
    observe::{
        audit::{self, AskedDocument, RequestId, TransferOutcome},
        metrics::{Metrics, ProfileSeries},
    },
    upstream::{self, Upstream, VendorClient},
};

/// Longer query strings are refused before they are read.
const MAX_QUERY_BYTES: usize = 256;

/// What forwarding needs: the profiles and timeouts, the one client to the
/// vendor, and the metrics.
pub struct Forwarding {
    pub config: Arc<RelayConfig>,
    /// One per profile, in the configuration's order.
    profiles: Vec<ProfileForwarding>,
    client: VendorClient,
    pub metrics: Arc<Metrics>,
    /// Keeps every complete document, when the relay archives.
    pub archive: Option<Arc<Archive>>,
}

impl Forwarding {
    pub fn new(
        config: Arc<RelayConfig>,
        metrics: Arc<Metrics>,
        archive: Option<Arc<Archive>>,
    ) -> anyhow::Result<Self> {
        let client = VendorClient::new(config.timeouts.connect)?;
        let profiles = config
            .profiles
            .iter()
            .map(|profile| {
                Ok(ProfileForwarding {
                    upstream: Upstream::of(profile)?,
                    name: profile.name.as_str().into(),
                    series: Arc::new(metrics.profile_series(&profile.name)),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { config, profiles, client, metrics, archive })
    }

    /// The profile called `name`, and what forwarding to it needs.
    fn profile(&self, name: &str) -> Option<(&Profile, &ProfileForwarding)> {
        self.config.profiles.iter().zip(&self.profiles).find(|(profile, _)| profile.name == name)
    }
}

/// What forwarding to one profile needs, made once rather than per request.
struct ProfileForwarding {
    upstream: Upstream,
    /// The name each audit record carries.
    name: Arc<str>,
    series: Arc<ProfileSeries>,
}

/// A request the relay has read against its profile and may forward.
struct Checked<'a> {
    profile: &'a Profile,
    forwarding: &'a ProfileForwarding,
    request: DocumentRequest,
    download: bool,
}

pub async fn document(
    State(auth): State<Arc<Auth>>,
    State(state): State<Arc<Forwarding>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path((profile, version, endpoint)): Path<(String, String, String)>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, RelayError> {
    // The profile named by the path is the one checked and the one used:
    // nothing in the query or headers can name another.
    let role = match auth.check_access(&caller, &profile) {
        Ok(role) => role,
        Err(refused) => {
            let path = format!("{}/{profile}/{version}/{endpoint}", routes::DOCUMENTS);
            audit::refused(request_id, caller.user(), refused.code(), &path, Some(&echoed(&profile)));
            return Err(refused);
        }
    };
    let raw_query = raw_query.unwrap_or_default();
    if raw_query.len() > MAX_QUERY_BYTES {
        return Err(RelayError::BadParameter {
            detail: format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        });
    }
    let query = RelayQuery::parse(&raw_query)?;
    let Some((profile, forwarding)) = state.profile(&profile) else {
        return Err(RelayError::UnknownProfile { profile: echoed(&profile) });
    };
    let today = chrono::Local::now().date_naive();
    let request =
        DocumentRequest::from_relay(forwarding.upstream.summary(role), &version, &endpoint, &query, today)?;
    let requested = request.endpoint();
    let checked = Checked { profile, forwarding, request, download: query.download };
    tracing::info!(%client, profile = %profile.name, endpoint = checked.request.endpoint().path(), "forwarding");
    let asked = checked.audit_record(request_id, &caller);
    let started = Instant::now();
    forward(&state, checked, asked.clone(), started).await.inspect_err(|error| {
        audit::document_failed(&asked, error.code(), started.elapsed());
        forwarding.series.document_failed(requested, error.code());
    })
}

/// Fetches `request` for a scheduled job the way a person's fetch goes:
/// the same checks, audit (as `job`) and archive; the body streams as the
/// vendor sends it.
pub async fn fetch_for_job(
    state: &Forwarding,
    job: Arc<User>,
    request: DocumentRequest,
    request_id: RequestId,
) -> Result<Response, RelayError> {
    let Some((profile, forwarding)) = state.profile(request.profile()) else {
        return Err(RelayError::UnknownProfile { profile: echoed(request.profile()) });
    };
    let requested = request.endpoint();
    let checked = Checked { profile, forwarding, request, download: false };
    let asked = checked.audit_record(request_id, &Caller::SignedIn(job));
    let started = Instant::now();
    forward(state, checked, asked.clone(), started).await.inspect_err(|error| {
        audit::document_failed(&asked, error.code(), started.elapsed());
        forwarding.series.document_failed(requested, error.code());
    })
}

impl Checked<'_> {
    fn audit_record(&self, request: RequestId, caller: &Caller) -> AskedDocument {
        let window = match self.request.scope() {
            Scope::Window(window) => format!("{}..{}", window.start(), window.end()),
            Scope::Subscription(id) => format!("subscription {id}"),
        };
        AskedDocument {
            request,
            user: match caller {
                Caller::SignedIn(user) => Some(user.clone()),
                Caller::Admitted => None,
            },
            profile: self.forwarding.name.clone(),
            endpoint: self.request.endpoint().path(),
            window,
            format: self.request.media_type(),
            at: chrono::Utc::now(),
        }
    }
}

async fn forward(
    state: &Forwarding,
    checked: Checked<'_>,
    asked: AskedDocument,
    started: Instant,
) -> Result<Response, RelayError> {
    let profile = checked.profile;
    let timeouts = state.config.timeouts;
    let too_slow = || RelayError::VendorTooSlow { profile: profile.name.clone(), waited: timeouts.response };
    let asked_at = Instant::now();
    let forwarding = checked.forwarding;
    let vendor_call = state.client.get(&forwarding.upstream, &checked.request);
    let response = match tokio::time::timeout(timeouts.response, vendor_call).await {
        Err(_) => return Err(too_slow()),
        Ok(Err(error)) if upstream::timed_out(&error) => return Err(too_slow()),
        Ok(Err(error)) => {
            tracing::warn!(profile = %profile.name, error = with_causes(&error), "vendor unreachable");
            return Err(RelayError::VendorUnreachable { profile: profile.name.clone() });
        }
        Ok(Ok(response)) => response,
    };
    forwarding.series.vendor_answered(checked.request.endpoint(), asked_at.elapsed());
    let status = response.status();
    match status {
        StatusCode::UNAUTHORIZED => {
            return Err(RelayError::VendorRejectedKey { profile: profile.name.clone() });
        }
        StatusCode::FORBIDDEN => {
            return Err(RelayError::VendorRefusedRelay {
                profile: profile.name.clone(),
                endpoint: checked.request.endpoint().path().to_owned(),
            });
        }
        StatusCode::NOT_FOUND if let Scope::Subscription(id) = checked.request.scope() => {
            return Err(RelayError::UnknownSubscription {
                profile: profile.name.clone(),
                subscription: id.to_string(),
            });
        }
        status if !status.is_success() => {
            let said = vendor_message(response.into_body()).await;
            return Err(RelayError::VendorFailed {
                status,
                detail: format!("the vendor answered {status}{said}; try again later"),
            });
        }
        _ => {}
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let content_length = response.body().size_hint().exact();
    let wrong_format = |what: String| RelayError::VendorWrongFormat {
        status,
        detail: format!("the vendor answered {status} with {what} instead of {}", checked.request.format()),
    };
    let declared = content_type.as_ref().and_then(|value| value.to_str().ok()).unwrap_or("no content type");
    if !declares(declared, checked.request.format()) {
        return Err(wrong_format(declared.to_owned()));
    }
    let mut body = response.into_body().into_data_stream();
    let first = match tokio::time::timeout(timeouts.idle, body.next()).await {
        Err(_) => return Err(too_slow()),
        Ok(None) => return Err(wrong_format("an empty body".to_owned())),
        Ok(Some(Err(error))) => {
            tracing::warn!(profile = %profile.name, error = with_causes(&error), "vendor broke off the body");
            return Err(RelayError::VendorUnreachable { profile: profile.name.clone() });
        }
        Ok(Some(Ok(first))) => first,
    };
    if !looks_like(&first, checked.request.format()) {
        return Err(wrong_format("something else".to_owned()));
    }
    let content_type = content_type.expect("checked above");
    let archiving = state.archive.as_ref().map(|archive| Archiving {
        feed: archive.feed(checked.request.clone(), asked.clone()),
        vendor_status: status.as_u16(),
        content_type: content_type.to_str().unwrap_or_default().to_owned(),
    });
    let series = (forwarding.series.clone(), checked.request.endpoint());
    let passage = Passage::new(asked, content_length, started, series, archiving);
    let passed = relay_body(first, body, timeouts.idle, passage);
    let mut response = Response::new(Body::from_stream(passed));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Some(length) = content_length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if checked.download {
        let disposition = format!("attachment; filename=\"{}\"", checked.request.file_name());
        headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII"));
    }
    Ok(response)
}

/// The vendor's own `{"error"}` message, briefly, when it sent one.
async fn vendor_message(body: Incoming) -> String {
    let bytes = upstream::start_of(body).await;
    let said = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|body| body.get("error").and_then(|error| error.as_str()).map(echoed));
    said.map(|said| format!(" (\"{said}\")")).unwrap_or_default()
}

fn declares(content_type: &str, format: Format) -> bool {
    Format::of_media_type(content_type) == Some(format)
}

/// Whether the body starts as a document of the format does: not an HTML
/// page with the right content type.
fn looks_like(first: &[u8], format: Format) -> bool {
    let text = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
    let start = text.iter().position(|byte| !byte.is_ascii_whitespace()).map_or(&[][..], |at| &text[at..]);
    let lowercase: Vec<u8> = start.iter().take(16).map(u8::to_ascii_lowercase).collect();
    match format {
        Format::Xml => {
            start.first() == Some(&b'<')
                && !lowercase.starts_with(b"<!doctype html")
                && !lowercase.starts_with(b"<html")
        }
        Format::Json => matches!(start.first(), Some(b'{' | b'[')),
    }
}

/// How far a document got. It ends complete, broken by the vendor, or
/// abandoned by the client, and the audit log says which, once.
struct Passage {
    asked: AskedDocument,
    /// The vendor's Content-Length: once that many bytes have passed, the
    /// document is whole even if the server stops reading the body there.
    expected: Option<u64>,
    sent: u64,
    started: Instant,
    ended: bool,
    series: (Arc<ProfileSeries>, Endpoint),
    archiving: Option<Archiving>,
}

/// The archive's copy of a passing document, and what it records of the
/// vendor's answer.
struct Archiving {
    feed: Feed,
    vendor_status: u16,
    content_type: String,
}

impl Passage {
    fn new(
        asked: AskedDocument,
        expected: Option<u64>,
        started: Instant,
        series: (Arc<ProfileSeries>, Endpoint),
        archiving: Option<Archiving>,
    ) -> Self {
        series.0.transfer_started();
        Self { asked, expected, sent: 0, started, ended: false, series, archiving }
    }

    fn add(&mut self, chunk: &Bytes) {
        self.sent += chunk.len() as u64;
        if let Some(archiving) = &mut self.archiving {
            archiving.feed.push(chunk);
        }
        if self.expected == Some(self.sent) {
            self.end(TransferOutcome::Complete);
        }
    }

    fn end(&mut self, outcome: TransferOutcome) {
        if !self.ended {
            self.ended = true;
            // Only a complete document is kept; dropped, the feed throws its bytes away.
            if let Some(Archiving { feed, vendor_status, content_type }) = self.archiving.take()
                && outcome == TransferOutcome::Complete
            {
                feed.complete(vendor_status, content_type);
            }
            let duration = self.started.elapsed();
            audit::transfer(&self.asked, outcome, self.sent, duration);
            let (series, endpoint) = &self.series;
            series.transfer_ended(*endpoint, outcome, self.sent, duration);
        }
    }
}

impl Drop for Passage {
    fn drop(&mut self) {
        self.end(TransferOutcome::AbandonedByClient);
    }
}

/// The vendor's body as it arrives; a stall longer than `idle` or a broken
/// connection ends the client's body in an error too, never in a clean end.
fn relay_body(
    first: Bytes,
    rest: impl Stream<Item = hyper::Result<Bytes>> + Send + Unpin + 'static,
    idle: std::time::Duration,
    passage: Passage,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    stream::unfold(
        (Some(first), rest, passage, false),
        move |(first, mut rest, mut passage, failed)| async move {
            if failed {
                return None;
            }
            if let Some(first) = first {
                passage.add(&first);
                return Some((Ok(first), (None, rest, passage, false)));
            }
            let item = match tokio::time::timeout(idle, rest.next()).await {
                Ok(Some(Ok(chunk))) => {
                    passage.add(&chunk);
                    Ok(chunk)
                }
                Ok(None) => {
                    passage.end(TransferOutcome::Complete);
                    return None;
                }
                Ok(Some(Err(error))) => {
                    let (profile, bytes) = (&passage.asked.profile, passage.sent);
                    tracing::warn!(%profile, bytes, error = with_causes(&error), "vendor broke off the body");
                    passage.end(TransferOutcome::BrokenByVendor);
                    Err(io::Error::other("the vendor broke off the document"))
                }
                Err(_) => {
                    tracing::warn!(profile = %passage.asked.profile, bytes = passage.sent, "vendor stalled mid-body");
                    passage.end(TransferOutcome::BrokenByVendor);
                    Err(io::Error::new(io::ErrorKind::TimedOut, "the vendor stalled"))
                }
            };
            let failed = item.is_err();
            Some((item, (None, rest, passage, failed)))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_not_xml_even_with_an_xml_content_type() {
        assert!(looks_like(b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><InvoiceResponse>", Format::Xml));
        assert!(!looks_like(b"<!DOCTYPE html><html>", Format::Xml));
        assert!(!looks_like(b"\n<HTML><body>", Format::Xml));
        assert!(looks_like(b" {\"Invoices\":[]}", Format::Json));
        assert!(!looks_like(b"<html>", Format::Json));
        assert!(declares("application/xml; charset=utf-8", Format::Xml));
        assert!(!declares("text/html", Format::Xml));
    }
}
