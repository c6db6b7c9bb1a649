//! The archive's side of the contract: what the relay says about a
//! document it kept, how a list of them is asked for and paged, and
//! whether a transfer was archived.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    DocumentRequest, Endpoint,
    request::{decode_query, echoed, encode_query, parse_iso_date},
    routes,
};

/// The header carrying an archived document's fetch time, RFC 3339.
pub const FETCHED_AT_HEADER: &str = "billing-fetched-at";

/// One document as the relay archived it: what was asked, what the vendor
/// answered, and who fetched it when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedDocument {
    pub id: i64,
    pub request: DocumentRequest,
    /// The vendor's HTTP status and Content-Type, as it sent them.
    pub vendor_status: u16,
    pub content_type: String,
    pub bytes: u64,
    /// SHA-256 of the bytes, lowercase hex; also the `ETag` they are served with.
    pub sha256: String,
    /// The account that fetched it; `None` with sign-in off.
    pub fetched_by: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// The relay's `X-Request-Id` of the fetch.
    pub request_id: u64,
}

impl ArchivedDocument {
    /// `GET` this for the exact bytes.
    pub fn path(&self) -> String {
        routes::archived_document(self.id)
    }
}

impl ArchivePage {
    /// The newest document archived for exactly `request`.
    pub fn newest_copy_of(&self, request: &DocumentRequest) -> Option<&ArchivedDocument> {
        self.documents.iter().find(|document| &document.request == request)
    }
}

/// One page of `GET /api/archive`, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivePage {
    pub documents: Vec<ArchivedDocument>,
    /// The query for the next page, when there are more.
    pub next: Option<ArchiveQuery>,
}

/// `GET /api/archive?profile=…&endpoint=…&from=…&to=…&before=…&limit=…`:
/// every parameter optional. `from` and `to` keep documents whose window
/// lies within them; `before` pages on from an id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveQuery {
    pub profile: Option<String>,
    pub endpoint: Option<Endpoint>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl ArchiveQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 1000;

    pub fn for_profile(profile: &str) -> Self {
        Self { profile: Some(profile.to_owned()), ..Self::default() }
    }

    /// Reads a query string (without its `?`); anything unknown, repeated
    /// or malformed is refused by name.
    pub fn parse(query: &str) -> Result<Self, ArchiveQueryError> {
        let mut parsed = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in decode_query(query) {
            if seen.contains(&name) {
                return Err(ArchiveQueryError::Repeated(echoed(&name)));
            }
            let bad = || ArchiveQueryError::BadValue { name: echoed(&name), value: echoed(&value) };
            match name.as_str() {
                "profile" => parsed.profile = Some(value.clone()),
                "endpoint" => parsed.endpoint = Some(Endpoint::from_path(&value).ok_or_else(bad)?),
                "from" => parsed.from = Some(parse_iso_date(&value).ok_or_else(bad)?),
                "to" => parsed.to = Some(parse_iso_date(&value).ok_or_else(bad)?),
                "before" => parsed.before = Some(value.parse().ok().filter(|id| *id > 0).ok_or_else(bad)?),
                "limit" => {
                    let limit = value.parse().ok().filter(|limit| (1..=Self::MAX_LIMIT).contains(limit));
                    parsed.limit = Some(limit.ok_or_else(bad)?);
                }
                other => return Err(ArchiveQueryError::Unknown(echoed(other))),
            }
            seen.push(name);
        }
        if let (Some(from), Some(to)) = (parsed.from, parsed.to)
            && from > to
        {
            return Err(ArchiveQueryError::Reversed { from, to });
        }
        Ok(parsed)
    }

    /// The list that holds any archived copy of exactly `request`: its
    /// profile, endpoint and window (or every window, for a subscription).
    pub fn matching(request: &DocumentRequest) -> Self {
        let window = request.window();
        Self {
            profile: Some(request.profile().to_owned()),
            endpoint: Some(request.endpoint()),
            from: window.map(|window| window.start()),
            to: window.map(|window| window.end()),
            before: None,
            limit: Some(Self::MAX_LIMIT),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// The relay path asking this, e.g. `/api/archive?profile=demo`.
    pub fn path(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(profile) = &self.profile {
            pairs.push(("profile", profile.clone()));
        }
        if let Some(endpoint) = self.endpoint {
            pairs.push(("endpoint", endpoint.path().to_owned()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(to) = self.to {
            pairs.push(("to", to.to_string()));
        }
        if let Some(before) = self.before {
            pairs.push(("before", before.to_string()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if pairs.is_empty() {
            routes::ARCHIVE.to_owned()
        } else {
            format!("{}?{}", routes::ARCHIVE, encode_query(&pairs))
        }
    }
}

/// Why an archive query cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveQueryError {
    #[error("unknown parameter `{0}`; the archive takes profile, endpoint, from, to, before and limit")]
    Unknown(String),
    #[error("{0} is given more than once")]
    Repeated(String),
    #[error(
        "`{value}` is not a valid {name}: dates are YYYY-MM-DD, before is an id, limit is 1 to 1000, \
         endpoint is one of the vendor's"
    )]
    BadValue { name: String, value: String },
    #[error("from {from} is after to {to}")]
    Reversed { from: NaiveDate, to: NaiveDate },
}

/// `GET /api/archive/receipts/{request_id}`: what became of the archive
/// copy of a document the relay streamed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ArchiveReceipt {
    Archived {
        id: i64,
    },
    /// The person has the document; the archive does not.
    NotArchived {
        reason: String,
    },
    /// The relay is still writing it.
    Pending,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_queries_round_trip_and_refuse_what_they_cannot_read() {
        let query = ArchiveQuery {
            profile: Some("demo main".into()),
            endpoint: Some(Endpoint::CustomerInvoices),
            from: "2026-01-01".parse().ok(),
            to: "2026-03-31".parse().ok(),
            before: Some(42),
            limit: Some(10),
        };
        let path = query.path();
        assert_eq!(
            path,
            "/api/archive?profile=demo%20main&endpoint=customerinvoices&from=2026-01-01&to=2026-03-31&before=42&limit=10"
        );
        assert_eq!(ArchiveQuery::parse(path.split_once('?').unwrap().1), Ok(query));
        assert_eq!(ArchiveQuery::default().path(), "/api/archive");
        for bad in [
            "limit=0",
            "limit=1001",
            "before=-1",
            "endpoint=../x",
            "from=2026-1-1",
            "key=1",
            "profile=a&profile=b",
            "from=2026-02-01&to=2026-01-01",
        ] {
            assert!(ArchiveQuery::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_newest_copy_of_exactly_the_request_is_found() {
        use crate::{Format, api::Scope};
        let window = |start: &str, end: &str| {
            Scope::Window(
                super::super::DateWindow::new(start.parse().unwrap(), end.parse().unwrap()).unwrap(),
            )
        };
        let asked = DocumentRequest::new(
            "p",
            "v3",
            Endpoint::Invoices,
            Format::Xml,
            window("2026-06-01", "2026-06-30"),
        )
        .unwrap();
        let document = |id: i64, request: DocumentRequest| ArchivedDocument {
            id,
            request,
            vendor_status: 200,
            content_type: "application/xml".into(),
            bytes: 1,
            sha256: "0".repeat(64),
            fetched_by: None,
            fetched_at: chrono::DateTime::UNIX_EPOCH,
            request_id: 1,
        };
        let json = DocumentRequest::new(
            "p",
            "v3",
            Endpoint::Invoices,
            Format::Json,
            window("2026-06-01", "2026-06-30"),
        )
        .unwrap();
        let inner = DocumentRequest::new(
            "p",
            "v3",
            Endpoint::Invoices,
            Format::Xml,
            window("2026-06-02", "2026-06-30"),
        )
        .unwrap();
        let page = ArchivePage {
            documents: vec![
                document(9, json),
                document(8, inner),
                document(7, asked.clone()),
                document(3, asked.clone()),
            ],
            next: None,
        };
        assert_eq!(page.newest_copy_of(&asked).map(|document| document.id), Some(7));
        let query = ArchiveQuery::matching(&asked);
        assert_eq!(
            query.path(),
            "/api/archive?profile=p&endpoint=invoices&from=2026-06-01&to=2026-06-30&limit=1000"
        );
    }

    #[test]
    fn receipts_say_which_outcome_by_name() {
        let json =
            serde_json::to_string(&ArchiveReceipt::NotArchived { reason: "disk full".into() }).unwrap();
        assert_eq!(json, r#"{"outcome":"not_archived","reason":"disk full"}"#);
        assert_eq!(
            serde_json::from_str::<ArchiveReceipt>(r#"{"outcome":"archived","id":7}"#).unwrap(),
            ArchiveReceipt::Archived { id: 7 }
        );
    }
}
