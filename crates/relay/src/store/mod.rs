//! The relay's database: one trait, and one implementation per database
//! with its own SQL and migrations (atuin's shape). Each speaks its
//! database's own types (PostgreSQL's `timestamptz` and `date`, SQLite's
//! integers and text) instead of a lowest common denominator, which is
//! what sqlx's `Any` driver gets wrong (sqlx #3521, #1167).

pub mod decisions;
mod postgres;
pub mod runs;
mod sqlite;

use std::{borrow::Cow, collections::HashMap, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use billing::{
    Format,
    api::{ArchivedDocument, DateWindow, DocumentRequest, Endpoint, Scope, SubscriptionId},
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

pub use self::{decisions::Decisions, postgres::PostgresRecords, runs::Runs, sqlite::SqliteRecords};

/// A document's record before the database numbers it.
#[derive(Clone, Debug)]
pub struct NewRecord {
    pub request: DocumentRequest,
    pub vendor_status: u16,
    pub content_type: String,
    pub bytes: u64,
    pub sha256: String,
    pub fetched_by: Option<String>,
    pub fetched_at: DateTime<Utc>,
    pub request_id: u64,
}

/// Which records a list asks for, newest first.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// `None`: every profile (sign-in off); else only these.
    pub profiles: Option<Vec<String>>,
    pub endpoint: Option<Endpoint>,
    /// The window lies within these days.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Ids below this one.
    pub before: Option<i64>,
    pub limit: u32,
}

/// The database could not be asked, or answered with a row the relay
/// cannot read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("archived record {id} cannot be read: {reason}")]
    Unreadable { id: i64, reason: String },
}

/// The archive's records, in SQLite or PostgreSQL.
#[async_trait]
pub trait Records: Send + Sync {
    /// Stores the records at once (all or none) and returns their ids, in order.
    async fn insert_all(&self, records: &[NewRecord]) -> Result<Vec<i64>, StoreError>;
    async fn get(&self, id: i64) -> Result<Option<ArchivedDocument>, StoreError>;
    /// The record the transfer `request_id` left, if it was fetched since `since`.
    async fn archived_by_request(
        &self,
        request_id: u64,
        since: DateTime<Utc>,
    ) -> Result<Option<ArchivedDocument>, StoreError>;
    async fn list(&self, filter: &ListFilter) -> Result<Vec<ArchivedDocument>, StoreError>;
    /// Records fetched before `cutoff`, oldest first, at most `limit`.
    async fn fetched_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArchivedDocument>, StoreError>;
    async fn delete(&self, id: i64) -> Result<(), StoreError>;
    /// Whether any record still points at these bytes.
    async fn hash_in_use(&self, sha256: &str) -> Result<bool, StoreError>;
}

/// The relay's database, seen as the archive's records and as the shared
/// decisions.
#[derive(Clone)]
pub struct Database {
    pub records: Arc<dyn Records>,
    pub decisions: Arc<dyn Decisions>,
    pub runs: Arc<dyn Runs>,
}

/// PostgreSQL for a `postgres://` URL, else SQLite in `data_dir`; either
/// way migrated to this binary's schema before anything is served.
pub async fn open(database_url: Option<&SecretString>, data_dir: &Path) -> anyhow::Result<Database> {
    match database_url {
        Some(url) => {
            let url = url.expose_secret();
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "database_url must be a postgres:// URL; without it the relay keeps a SQLite file in data_dir"
            );
            let database = Arc::new(PostgresRecords::connect(url).await?);
            Ok(Database { records: database.clone(), decisions: database.clone(), runs: database })
        }
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
            let database = Arc::new(SqliteRecords::open(&data_dir.join("billing.sqlite3")).await?);
            Ok(Database { records: database.clone(), decisions: database.clone(), runs: database })
        }
    }
}

/// How long a request waits for a database connection before the archive
/// counts the database as down; a fetch never waits on it longer.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Migrations compiled into the binary, one set per database.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

async fn migrator(migrations: &'static [(i64, &'static str, &'static str)]) -> anyhow::Result<Migrator> {
    Migrator::new(Embedded(migrations)).await.context("the embedded migrations cannot be read")
}

/// A record's columns as both databases return them.
struct Row {
    id: i64,
    profile: String,
    version: String,
    endpoint: String,
    window_start: Option<NaiveDate>,
    window_end: Option<NaiveDate>,
    subscription: Option<String>,
    format: String,
    vendor_status: i64,
    content_type: String,
    bytes: i64,
    sha256: String,
    fetched_by: Option<String>,
    fetched_at: DateTime<Utc>,
    request_id: i64,
}

impl Row {
    fn into_document(self) -> Result<ArchivedDocument, StoreError> {
        let id = self.id;
        let unreadable = |reason: &str| StoreError::Unreadable { id, reason: reason.to_owned() };
        let endpoint = Endpoint::from_path(&self.endpoint).ok_or_else(|| unreadable("unknown endpoint"))?;
        let format = match self.format.as_str() {
            "xml" => Format::Xml,
            "json" => Format::Json,
            _ => return Err(unreadable("unknown format")),
        };
        let scope = match (self.window_start, self.window_end, self.subscription) {
            (Some(start), Some(end), None) => {
                Scope::Window(DateWindow::new(start, end).map_err(|_| unreadable("reversed window"))?)
            }
            (None, None, Some(id)) => {
                Scope::Subscription(SubscriptionId::parse(&id).map_err(|_| unreadable("bad subscription"))?)
            }
            _ => return Err(unreadable("neither a window nor a subscription")),
        };
        let request = DocumentRequest::new(self.profile, self.version, endpoint, format, scope)
            .map_err(|error| unreadable(&error.to_string()))?;
        Ok(ArchivedDocument {
            id,
            request,
            vendor_status: u16::try_from(self.vendor_status).map_err(|_| unreadable("bad status"))?,
            content_type: self.content_type,
            bytes: u64::try_from(self.bytes).map_err(|_| unreadable("negative size"))?,
            sha256: self.sha256,
            fetched_by: self.fetched_by,
            fetched_at: self.fetched_at,
            request_id: u64::try_from(self.request_id).map_err(|_| unreadable("bad request id"))?,
        })
    }
}

/// The ids of `records` in their order, from the `(id, request_id)` rows
/// one insert of them all returned: neither database promises the rows'
/// order, so each is found by its request id, which is the transfer's own.
fn ids_in_order(records: &[NewRecord], returned: Vec<(i64, i64)>) -> Result<Vec<i64>, StoreError> {
    let ids: HashMap<i64, i64> = returned.into_iter().map(|(id, request_id)| (request_id, id)).collect();
    records
        .iter()
        .map(|record| ids.get(&record.columns().request_id).copied().ok_or(sqlx::Error::RowNotFound.into()))
        .collect()
}

/// The columns a new record fills, in both databases' order.
struct Columns<'a> {
    profile: &'a str,
    version: &'a str,
    endpoint: &'static str,
    window_start: Option<NaiveDate>,
    window_end: Option<NaiveDate>,
    subscription: Option<&'a str>,
    format: &'static str,
    vendor_status: i64,
    bytes: i64,
    request_id: i64,
}

impl NewRecord {
    fn columns(&self) -> Columns<'_> {
        let request = &self.request;
        let (window_start, window_end, subscription) = match request.scope() {
            Scope::Window(window) => (Some(window.start()), Some(window.end()), None),
            Scope::Subscription(id) => (None, None, Some(id.as_str())),
        };
        Columns {
            profile: request.profile(),
            version: request.version(),
            endpoint: request.endpoint().path(),
            window_start,
            window_end,
            subscription,
            format: request.format().extension(),
            vendor_status: i64::from(self.vendor_status),
            bytes: i64::try_from(self.bytes).unwrap_or(i64::MAX),
            request_id: i64::try_from(self.request_id).unwrap_or(i64::MAX),
        }
    }
}
