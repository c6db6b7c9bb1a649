//! `GET /api/archive`, `GET /api/archive/{id}` and
//! `GET /api/archive/receipts/{request_id}`: under the same allowlist,
//! sign-in, access rules and bearer tokens as the live route. A profile
//! the caller may not use is never listed, and its documents answer as
//! if they did not exist.

use std::{io, sync::Arc, time::Duration};

use axum::{
    Extension, Json,
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderName, HeaderValue, header},
    response::Response,
};
use billing::api::{
    ArchivePage, ArchiveQuery, ArchiveReceipt, ArchivedDocument, archive::FETCHED_AT_HEADER, request::echoed,
};
use futures_util::{StreamExt, stream};
use sha2::{Digest, Sha256};

use super::Archive;
use crate::{
    RelayError,
    auth::state::Auth,
    identity::Caller,
    observe::audit::{self, RequestId},
    store::{ListFilter, StoreError},
};

/// How long a receipt request waits for an archive copy still being written.
const RECEIPT_WAIT: Duration = Duration::from_secs(10);

/// The archive, when the relay keeps one.
pub type MaybeArchive = Option<Arc<Archive>>;

fn archive(maybe: MaybeArchive) -> Result<Arc<Archive>, RelayError> {
    maybe.ok_or(RelayError::ArchiveUnavailable { cause: "archiving is off in the relay's configuration" })
}

fn unavailable(error: StoreError) -> RelayError {
    tracing::error!(%error, "the archive's database failed");
    RelayError::ArchiveUnavailable { cause: "its database cannot be reached" }
}

pub async fn list(
    State(maybe): State<MaybeArchive>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<ArchivePage>, RelayError> {
    let archive = archive(maybe)?;
    let query = ArchiveQuery::parse(raw_query.as_deref().unwrap_or_default())
        .map_err(|error| RelayError::BadParameter { detail: error.to_string() })?;
    let profiles = match (&query.profile, &caller) {
        (Some(profile), _) => {
            if let Err(refused) = auth.check_access(&caller, profile) {
                audit::refused(
                    request_id,
                    caller.user(),
                    refused.code(),
                    "/api/archive",
                    Some(&echoed(profile)),
                );
                return Err(refused);
            }
            Some(vec![profile.clone()])
        }
        (None, Caller::Admitted) => None,
        (None, Caller::SignedIn(_)) => {
            Some(auth.allowed_profiles(&caller).map(|(profile, _)| profile.name.clone()).collect())
        }
    };
    let limit = query.limit();
    let filter = ListFilter {
        profiles,
        endpoint: query.endpoint,
        from: query.from,
        to: query.to,
        before: query.before,
        // One more than asked shows whether there is a next page.
        limit: limit + 1,
    };
    let mut documents = archive.records.list(&filter).await.map_err(unavailable)?;
    let next = (documents.len() > limit as usize).then(|| {
        documents.truncate(limit as usize);
        ArchiveQuery { before: documents.last().map(|last| last.id), ..query }
    });
    Ok(Json(ArchivePage { documents, next }))
}

pub async fn open(
    State(maybe): State<MaybeArchive>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    Path(id): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, RelayError> {
    let archive = archive(maybe)?;
    let download = match raw_query.as_deref().unwrap_or_default() {
        "" | "download=0" => false,
        "download=1" => true,
        other => {
            return Err(RelayError::BadParameter {
                detail: format!("an archived document takes only download=1, not `{}`", echoed(other)),
            });
        }
    };
    let not_found = || RelayError::ArchivedDocumentNotFound { id: echoed(&id) };
    let Some(number) = id.parse::<i64>().ok().filter(|number| *number > 0) else { return Err(not_found()) };
    let document = archive.records.get(number).await.map_err(unavailable)?.ok_or_else(not_found)?;
    let profile = document.request.profile();
    if let Err(refused) = auth.check_access(&caller, profile) {
        audit::refused(request_id, caller.user(), refused.code(), "/api/archive/{id}", Some(profile));
        return Err(not_found());
    }
    let damaged = || {
        audit::damaged(request_id, caller.user(), number, profile);
        archive.keeper.metrics.archive_damaged();
        RelayError::ArchivedDocumentDamaged { id: number }
    };
    match archive.blobs.intact(&document.sha256, document.bytes).await {
        Ok(true) => {}
        Ok(false) | Err(object_store::Error::NotFound { .. }) => return Err(damaged()),
        Err(error) => {
            tracing::error!(%error, "cannot read the archive's store");
            return Err(RelayError::ArchiveUnavailable { cause: "its storage cannot be read" });
        }
    }
    let bytes = archive.blobs.read(&document.sha256).await.map_err(|error| {
        tracing::error!(%error, "cannot read the archive's store");
        RelayError::ArchiveUnavailable { cause: "its storage cannot be read" }
    })?;
    Ok(served(&document, download, checked_again(bytes, document.sha256.clone())))
}

/// The bytes as read the second time, hashed again on the way: changed
/// since the check, they end in an error, never in a clean end.
fn checked_again(
    bytes: impl futures_util::Stream<Item = object_store::Result<bytes::Bytes>> + Send + Unpin + 'static,
    sha256: String,
) -> impl futures_util::Stream<Item = io::Result<bytes::Bytes>> + Send + 'static {
    stream::unfold((bytes, Some(Sha256::new())), move |(mut bytes, hasher)| {
        let sha256 = sha256.clone();
        async move {
            let mut hasher = hasher?;
            match bytes.next().await {
                Some(Ok(chunk)) => {
                    hasher.update(&chunk);
                    Some((Ok(chunk), (bytes, Some(hasher))))
                }
                Some(Err(error)) => Some((Err(io::Error::other(error)), (bytes, None))),
                None if format!("{:x}", hasher.finalize()) == sha256 => None,
                None => Some((
                    Err(io::Error::other("the archived bytes changed while being read")),
                    (bytes, None),
                )),
            }
        }
    })
}

/// The live route's headers, and the hash as the `ETag`, the fetch time as
/// `Last-Modified` and (exactly) in `Billing-Fetched-At`.
fn served(
    document: &ArchivedDocument,
    download: bool,
    bytes: impl futures_util::Stream<Item = io::Result<bytes::Bytes>> + Send + 'static,
) -> Response {
    let mut response = Response::new(Body::from_stream(bytes));
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&document.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static(document.request.media_type()));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(document.bytes));
    headers.insert(header::ETAG, HeaderValue::from_str(&format!("\"{}\"", document.sha256)).expect("hex"));
    let fetched_at = document.fetched_at;
    if let Ok(value) = HeaderValue::from_str(&fetched_at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    if let Ok(value) = HeaderValue::from_str(&fetched_at.to_rfc3339()) {
        headers.insert(HeaderName::from_static(FETCHED_AT_HEADER), value);
    }
    if download {
        let disposition = format!("attachment; filename=\"{}\"", document.request.file_name());
        headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII"));
    }
    response
}

pub async fn receipt(
    State(maybe): State<MaybeArchive>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path(request_id): Path<String>,
) -> Result<Json<ArchiveReceipt>, RelayError> {
    let archive = archive(maybe)?;
    let not_found =
        || RelayError::ArchivedDocumentNotFound { id: format!("receipt {}", echoed(&request_id)) };
    let number = request_id.parse::<u64>().map_err(|_| not_found())?;
    let (profile, receipt) =
        archive.receipt(number, RECEIPT_WAIT).await.map_err(unavailable)?.ok_or_else(not_found)?;
    auth.check_access(&caller, &profile).map_err(|_| not_found())?;
    Ok(Json(receipt))
}
