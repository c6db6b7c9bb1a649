//! The records in a SQLite file: the embedded default, for one relay.

use std::{path::Path, str::FromStr};

use anyhow::Context;
use async_trait::async_trait;
use billing::api::ArchivedDocument;
use chrono::{DateTime, Utc};
use sqlx::{
    Row as _,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};

use super::{ACQUIRE_TIMEOUT, ListFilter, NewRecord, Records, Row, StoreError};

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "archived documents", include_str!("../../migrations/sqlite/0001_archived_documents.sql"))];

macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT ", "id, profile, version, endpoint, window_start, window_end, subscription, format, \
                          vendor_status, content_type, bytes, sha256, fetched_by, fetched_at_ms, request_id", " FROM archived_documents ", $rest)
    };
}

pub struct SqliteRecords {
    pool: SqlitePool,
}

impl SqliteRecords {
    /// Opens (creating if need be) the file at `path` and migrates it.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            // Readers go on while a record is written.
            .journal_mode(SqliteJournalMode::Wal)
            // A record, once said to be archived, survives a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(ACQUIRE_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        super::migrator(MIGRATIONS)
            .await?
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the database {}", path.display()))?;
        Ok(Self { pool })
    }
}

fn row(row: SqliteRow) -> Result<ArchivedDocument, StoreError> {
    let fetched_at_ms: i64 = row.try_get("fetched_at_ms")?;
    let id: i64 = row.try_get("id")?;
    let fetched_at = DateTime::<Utc>::from_timestamp_millis(fetched_at_ms)
        .ok_or_else(|| StoreError::Unreadable { id, reason: "bad time".to_owned() })?;
    Row {
        id,
        profile: row.try_get("profile")?,
        version: row.try_get("version")?,
        endpoint: row.try_get("endpoint")?,
        window_start: row.try_get("window_start")?,
        window_end: row.try_get("window_end")?,
        subscription: row.try_get("subscription")?,
        format: row.try_get("format")?,
        vendor_status: row.try_get("vendor_status")?,
        content_type: row.try_get("content_type")?,
        bytes: row.try_get("bytes")?,
        sha256: row.try_get("sha256")?,
        fetched_by: row.try_get("fetched_by")?,
        fetched_at,
        request_id: row.try_get("request_id")?,
    }
    .into_document()
}

#[async_trait]
impl Records for SqliteRecords {
    async fn insert_all(&self, records: &[NewRecord]) -> Result<Vec<i64>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(records.len());
        for record in records {
            let columns = record.columns();
            let id = sqlx::query_scalar(
            "INSERT INTO archived_documents (profile, version, endpoint, window_start, window_end, subscription, \
             format, vendor_status, content_type, bytes, sha256, fetched_by, fetched_at_ms, request_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(columns.profile)
        .bind(columns.version)
        .bind(columns.endpoint)
        .bind(columns.window_start)
        .bind(columns.window_end)
        .bind(columns.subscription)
        .bind(columns.format)
        .bind(columns.vendor_status)
        .bind(&record.content_type)
        .bind(columns.bytes)
        .bind(&record.sha256)
        .bind(&record.fetched_by)
        .bind(record.fetched_at.timestamp_millis())
        .bind(columns.request_id)
        .fetch_one(&mut *transaction)
        .await?;
            ids.push(id);
        }
        transaction.commit().await?;
        Ok(ids)
    }

    async fn get(&self, id: i64) -> Result<Option<ArchivedDocument>, StoreError> {
        let found = sqlx::query(select!("WHERE id = ?")).bind(id).fetch_optional(&self.pool).await?;
        found.map(row).transpose()
    }

    async fn archived_by_request(
        &self,
        request_id: u64,
        since: DateTime<Utc>,
    ) -> Result<Option<ArchivedDocument>, StoreError> {
        let Ok(request_id) = i64::try_from(request_id) else { return Ok(None) };
        let found =
            sqlx::query(select!("WHERE request_id = ?1 AND fetched_at_ms >= ?2 ORDER BY id DESC LIMIT 1"))
                .bind(request_id)
                .bind(since.timestamp_millis())
                .fetch_optional(&self.pool)
                .await?;
        found.map(row).transpose()
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<ArchivedDocument>, StoreError> {
        // SQLite has no arrays: the profiles go in as one JSON list. The id
        // is always bounded, so a page walks the primary key from there
        // rather than scanning every record before it.
        let profiles = filter.profiles.as_ref().map(|profiles| serde_json::json!(profiles).to_string());
        let rows = sqlx::query(select!(
            "\
             WHERE (?1 IS NULL OR profile IN (SELECT value FROM json_each(?1))) \
             AND (?2 IS NULL OR endpoint = ?2) \
             AND (?3 IS NULL OR window_start >= ?3) \
             AND (?4 IS NULL OR window_end <= ?4) \
             AND id < coalesce(?5, 9223372036854775807) \
             ORDER BY id DESC LIMIT ?6"
        ))
        .bind(profiles)
        .bind(filter.endpoint.map(|endpoint| endpoint.path()))
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(row).collect()
    }

    async fn fetched_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ArchivedDocument>, StoreError> {
        let rows = sqlx::query(select!("WHERE fetched_at_ms < ? ORDER BY fetched_at_ms, id LIMIT ?"))
            .bind(cutoff.timestamp_millis())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(row).collect()
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM archived_documents WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn hash_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM archived_documents WHERE sha256 = ? LIMIT 1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }
}
