//! The vendor's HTTP behaviour: key, whitelist and permission checks in the
//! vendor's order, content negotiation, date windows, streamed documents and
//! the fault knobs.

use std::{
    collections::HashMap,
    io,
    net::SocketAddr,
    ops::ControlFlow,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    Extension, Json,
    body::Body,
    extract::{ConnectInfo, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use billing::{
    Endpoint, Format, Generation,
    api::{Scope, SubscriptionId, request::read_vendor_scope},
    writer::InvoiceWriter,
};
use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::{Stream, StreamExt, stream};
use secrecy::ExposeSecret;
use serde_json::json;
use tokio::sync::mpsc;

use crate::{
    config::{Config, DataSpec, Fault},
    documents::{DocumentKind, Documents, Planned},
};

/// The header a test sets to make one request misbehave.
pub const FAULT_HEADER: &str = "x-sim-fault";
/// The example reseller behind `example-invoices`: small and fixed.
const EXAMPLES: DataSpec = DataSpec { seed: 1, customers: 3, hostile_names: false };
/// Pieces are gathered into chunks of about this size before sending.
const CHUNK_BYTES: usize = 64 * 1024;

pub struct Vendor {
    config: Config,
    documents: Arc<Documents>,
    /// Made when a `reissue` fault first asks for it.
    reissued: OnceLock<Arc<Documents>>,
    examples: Arc<Documents>,
    /// Documents answered per key, for `reissue`.
    answered: Vec<AtomicU32>,
    /// Requests asked per key, for `status500=N`.
    asked: Vec<AtomicU32>,
}

impl Vendor {
    pub fn new(config: Config) -> Self {
        let documents = Arc::new(Documents::new(config.data));
        let answered = config.keys.iter().map(|_| AtomicU32::new(0)).collect();
        let asked = config.keys.iter().map(|_| AtomicU32::new(0)).collect();
        Self {
            config,
            documents,
            reissued: OnceLock::new(),
            examples: Arc::new(Documents::new(EXAMPLES)),
            answered,
            asked,
        }
    }

    /// The reseller's documents, as first issued or as re-issued by the
    /// time `key` asks for its next one under `faults`.
    fn documents_for(&self, key: KeyIndex, faults: &[Fault]) -> Arc<Documents> {
        let answered_before = self.answered[key.0].fetch_add(1, Ordering::Relaxed);
        let reissued =
            faults.iter().any(|fault| matches!(fault, Fault::Reissue { after } if answered_before >= *after));
        if reissued {
            self.reissued.get_or_init(|| Arc::new(Documents::reissued(self.config.data))).clone()
        } else {
            self.documents.clone()
        }
    }
}

/// Which configured key a request was admitted with.
#[derive(Clone, Copy)]
pub struct KeyIndex(usize);

/// The vendor's first checks: a known, unexpired key (401), then the
/// caller's address on that key's whitelist (403).
pub async fn admit(State(vendor): State<Arc<Vendor>>, mut request: Request, next: Next) -> Response {
    let config = &vendor.config;
    let Some(presented) = request.headers().get(&config.key_header) else {
        return vendor_error(StatusCode::UNAUTHORIZED, "missing API key").into_response();
    };
    let Some(index) =
        config.keys.iter().position(|key| key.secret.expose_secret().as_bytes() == presented.as_bytes())
    else {
        return vendor_error(StatusCode::UNAUTHORIZED, "unknown API key").into_response();
    };
    let key = &config.keys[index];
    if key.expires.is_some_and(|expires| expires < config.today()) {
        return vendor_error(StatusCode::UNAUTHORIZED, "expired API key").into_response();
    }
    let caller = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    match caller {
        Some(caller) if key.admits(caller) => {}
        Some(caller) => {
            let message = format!("IP address {} is not whitelisted for this API key", caller.to_canonical());
            return vendor_error(StatusCode::FORBIDDEN, &message).into_response();
        }
        None => {
            return vendor_error(StatusCode::FORBIDDEN, "the caller's IP address is unknown").into_response();
        }
    }
    request.extensions_mut().insert(KeyIndex(index));
    next.run(request).await
}

pub async fn unknown_route() -> Response {
    vendor_error(StatusCode::NOT_FOUND, "unknown version or endpoint").into_response()
}

/// `GET /{version}/{endpoint}`: XML or JSON by the Accept header.
pub async fn legacy(
    State(vendor): State<Arc<Vendor>>,
    Extension(key): Extension<KeyIndex>,
    Path((version, endpoint)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let generation = Generation::Legacy;
    let Some(endpoint) = known_endpoint(generation, &version, &endpoint) else {
        return unknown_route().await;
    };
    let format = match negotiate(&headers, &[Format::Xml, Format::Json]) {
        Ok(format) => format,
        Err(refusal) => return refusal.into_response(),
    };
    answer(&vendor, key, generation, endpoint, format, &query, &headers).await
}

/// `GET /api/v1/{endpoint}`: JSON only.
pub async fn current(
    State(vendor): State<Arc<Vendor>>,
    Extension(key): Extension<KeyIndex>,
    Path(endpoint): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let generation = Generation::Current;
    let Some(endpoint) = known_endpoint(generation, "v1", &endpoint) else {
        return unknown_route().await;
    };
    let format = match negotiate(&headers, &[Format::Json]) {
        Ok(format) => format,
        Err(refusal) => return refusal.into_response(),
    };
    answer(&vendor, key, generation, endpoint, format, &query, &headers).await
}

fn known_endpoint(generation: Generation, version: &str, endpoint: &str) -> Option<Endpoint> {
    let endpoint = Endpoint::from_path(endpoint)?;
    (generation.versions().contains(&version) && generation.endpoints().contains(&endpoint))
        .then_some(endpoint)
}

/// The first of `offered` the Accept header allows; no header, `*/*` or a
/// type's wildcard takes the first offered (the vendor's default) **(our
/// choice)**. Anything else is 406.
fn negotiate(headers: &HeaderMap, offered: &[Format]) -> Result<Format, VendorError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(offered[0]);
    };
    let accept = accept.to_str().unwrap_or_default();
    for media in accept.split(',').map(|media| media.split(';').next().unwrap_or_default().trim()) {
        if media == "*/*" || media.eq_ignore_ascii_case("application/*") {
            return Ok(offered[0]);
        }
        if let Some(wanted) = Format::of_media_type(media).filter(|wanted| offered.contains(wanted)) {
            return Ok(wanted);
        }
    }
    let offered: Vec<_> = offered.iter().map(|format| format.media_type()).collect();
    let message = format!("cannot answer with `{accept}`; this endpoint offers {}", offered.join(" or "));
    Err(vendor_error(StatusCode::NOT_ACCEPTABLE, &message))
}

async fn answer(
    vendor: &Vendor,
    key_index: KeyIndex,
    generation: Generation,
    endpoint: Endpoint,
    format: Format,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let key = &vendor.config.keys[key_index.0];
    if !key.permission.allows(endpoint) {
        let message = format!("this API key has no permission for {}", endpoint.path());
        return vendor_error(StatusCode::FORBIDDEN, &message).into_response();
    }
    let mut faults = key.faults.clone();
    if let Some(requested) = headers.get(FAULT_HEADER) {
        let parsed: Result<Vec<Fault>, String> =
            requested.to_str().unwrap_or_default().split(',').map(str::parse).collect();
        match parsed {
            Ok(requested) => faults.extend(requested),
            Err(message) => return vendor_error(StatusCode::BAD_REQUEST, &message).into_response(),
        }
    }
    for fault in &faults {
        if let Fault::Latency(wait) = fault {
            tokio::time::sleep(*wait).await;
        }
    }
    let asked_before = vendor.asked[key_index.0].fetch_add(1, Ordering::Relaxed);
    let failing_first = faults
        .iter()
        .any(|fault| matches!(fault, Fault::ServerErrorFirst { requests } if asked_before < *requests));
    if failing_first || faults.contains(&Fault::ServerError) {
        return vendor_error(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response();
    }
    if faults.contains(&Fault::HtmlWithOk) {
        let page = "<!DOCTYPE html><html><head><title>Maintenance</title></head>\
                    <body><h1>The service is temporarily unavailable</h1></body></html>";
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    let cut = faults.iter().find_map(|fault| match fault {
        Fault::Truncate => Some(Cut::Truncate),
        Fault::DropMidway => Some(Cut::Drop),
        Fault::Malformed => Some(Cut::Malformed),
        _ => None,
    });
    let drip = faults.iter().find_map(|fault| match fault {
        Fault::Drip { bytes, every } => Some((*bytes, *every)),
        _ => None,
    });
    let (sender, receiver) = mpsc::channel(4);
    // A small document's length is known before it is sent, as the vendor
    // sends it for files; a generated one streams without.
    let mut content_length = None;
    let scope = match scope(endpoint, query, vendor.config.today()) {
        Ok(scope) => scope,
        Err(refusal) => return refusal.into_response(),
    };
    match scope {
        Scope::Subscription(id) => {
            let document = match subscription_details(vendor, &id, format) {
                Ok(document) => document,
                Err(refusal) => return refusal.into_response(),
            };
            content_length = cut.is_none().then_some(document.len());
            tokio::task::spawn_blocking(move || {
                let mut chunks = Chunker::new(sender);
                let _ = send_with_cut(&mut chunks, document, cut, format);
            });
        }
        Scope::Window(window) => {
            let (from, to) = (window.start(), window.end());
            let reseller = || vendor.documents_for(key_index, &faults);
            let (documents, kind) = match endpoint {
                Endpoint::Invoices if generation == Generation::Current => {
                    (reseller(), DocumentKind::CurrentPurchase)
                }
                Endpoint::Invoices => (reseller(), DocumentKind::Purchase),
                Endpoint::CustomerInvoices => (reseller(), DocumentKind::Sales),
                Endpoint::ConsolidatedInvoices => (reseller(), DocumentKind::Consolidated),
                Endpoint::CustomerSpecifications => (reseller(), DocumentKind::CustomerSpecifications),
                Endpoint::ExampleInvoices => (vendor.examples.clone(), DocumentKind::CurrentPurchase),
                Endpoint::SubscriptionDetails => {
                    return vendor_error(StatusCode::BAD_REQUEST, "subscriptionId is required")
                        .into_response();
                }
            };
            let plan = documents.plan(kind, from, to, vendor.config.today());
            tokio::task::spawn_blocking(move || {
                produce(&documents, kind, format, &plan, cut, Chunker::new(sender));
            });
        }
    }
    let content_type = format!("{}; charset=utf-8", format.media_type());
    let mut response = Body::from_stream(body(receiver, drip)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).expect("ASCII"));
    if let Some(length) = content_length {
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

/// What the request covers, by the contract's rules (billing's
/// `read_vendor_scope`), refused in the vendor's words.
fn scope(
    endpoint: Endpoint,
    query: &HashMap<String, String>,
    today: NaiveDate,
) -> Result<Scope, VendorError> {
    read_vendor_scope(endpoint, |name| query.get(name).map(String::as_str), today)
        .map_err(|refused| vendor_error(StatusCode::BAD_REQUEST, &refused.to_string()))
}

fn subscription_details(vendor: &Vendor, id: &SubscriptionId, format: Format) -> Result<String, VendorError> {
    let details = id.as_str().parse().ok().and_then(|number| vendor.documents.subscription_details(number));
    let Some(details) = details else {
        return Err(vendor_error(StatusCode::NOT_FOUND, &format!("no subscription {id}")));
    };
    let bytes = match format {
        Format::Xml => billing::xml::write_subscription_details(&details),
        Format::Json => billing::json::write_subscription_details(&details),
    };
    Ok(String::from_utf8(bytes).expect("the writers write UTF-8"))
}

/// How a faulty answer breaks off.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// End cleanly halfway through.
    Truncate,
    /// Break the connection halfway through.
    Drop,
    /// Insert broken syntax after the first invoice.
    Malformed,
}

/// Writes the planned document, or breaks it off as `cut` says.
fn produce(
    documents: &Documents,
    kind: DocumentKind,
    format: Format,
    plan: &[Planned],
    cut: Option<Cut>,
    mut chunks: Chunker,
) {
    let mut writer = InvoiceWriter::new(format);
    let halfway = plan.len() / 2;
    let mut write = || -> ControlFlow<()> {
        chunks.push(writer.start())?;
        for (index, planned) in plan.iter().enumerate() {
            if index == halfway {
                match cut {
                    Some(Cut::Truncate) => return chunks.flush(),
                    Some(Cut::Drop) => return chunks.fail(),
                    _ => {}
                }
            }
            documents.write_invoice(kind, planned, &mut writer, &mut |piece| chunks.push(piece))?;
            if index == 0 && cut == Some(Cut::Malformed) {
                chunks.push(broken_syntax(format).to_owned())?;
            }
        }
        match cut {
            Some(Cut::Truncate) if plan.is_empty() => return chunks.flush(),
            Some(Cut::Drop) if plan.is_empty() => return chunks.fail(),
            Some(Cut::Malformed) if plan.is_empty() => chunks.push(broken_syntax(format).to_owned())?,
            _ => {}
        }
        chunks.push(writer.finish())?;
        chunks.flush()
    };
    let _ = write();
}

/// A small document under a fault: the same cuts, at half its bytes.
fn send_with_cut(
    chunks: &mut Chunker,
    document: String,
    cut: Option<Cut>,
    format: Format,
) -> ControlFlow<()> {
    let mut halfway = document.len() / 2;
    while !document.is_char_boundary(halfway) {
        halfway -= 1;
    }
    match cut {
        None => chunks.push(document)?,
        Some(Cut::Truncate) => chunks.push(document[..halfway].to_owned())?,
        Some(Cut::Drop) => {
            chunks.push(document[..halfway].to_owned())?;
            return chunks.fail();
        }
        Some(Cut::Malformed) => {
            chunks.push(document[..halfway].to_owned())?;
            chunks.push(broken_syntax(format).to_owned())?;
            chunks.push(document[halfway..].to_owned())?;
        }
    }
    chunks.flush()
}

fn broken_syntax(format: Format) -> &'static str {
    match format {
        Format::Xml => "<Invoice><Header><InvoiceID>0</Header>",
        Format::Json => ",{\"Header\": }",
    }
}

/// Gathers pieces into chunks for the response body; stops when the client
/// has gone.
struct Chunker {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: String,
}

impl Chunker {
    fn new(sender: mpsc::Sender<io::Result<Bytes>>) -> Self {
        Self { sender, buffer: String::new() }
    }

    fn push(&mut self, piece: String) -> ControlFlow<()> {
        self.buffer.push_str(&piece);
        if self.buffer.len() >= CHUNK_BYTES { self.flush() } else { ControlFlow::Continue(()) }
    }

    fn flush(&mut self) -> ControlFlow<()> {
        if self.buffer.is_empty() {
            return ControlFlow::Continue(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        match self.sender.blocking_send(Ok(chunk)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }

    /// Sends what is gathered, then an error, which makes the server break
    /// the connection instead of ending the body.
    fn fail(&mut self) -> ControlFlow<()> {
        self.flush()?;
        let _ = self.sender.blocking_send(Err(io::Error::other("fault: connection dropped midway")));
        ControlFlow::Break(())
    }
}

/// The response body: chunks as they are produced, or dripped slowly.
fn body(
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    drip: Option<(usize, Duration)>,
) -> impl Stream<Item = io::Result<Bytes>> {
    let chunks = stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    match drip {
        None => chunks.left_stream(),
        Some((bytes, every)) => chunks
            .flat_map(move |chunk| {
                let pieces: Vec<io::Result<Bytes>> = match chunk {
                    Ok(chunk) => (0..chunk.len())
                        .step_by(bytes)
                        .map(|start| Ok(chunk.slice(start..(start + bytes).min(chunk.len()))))
                        .collect(),
                    Err(error) => vec![Err(error)],
                };
                stream::iter(pieces)
            })
            .enumerate()
            .then(move |(index, piece)| async move {
                if index > 0 {
                    tokio::time::sleep(every).await;
                }
                piece
            })
            .right_stream(),
    }
}

/// A refusal as the vendor words it: a status and a short JSON body,
/// whatever the Accept header said.
struct VendorError(StatusCode, String);

impl IntoResponse for VendorError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn vendor_error(status: StatusCode, message: &str) -> VendorError {
    VendorError(status, message.to_owned())
}
