//! The records in PostgreSQL: where several relays share them.

use anyhow::Context;
use async_trait::async_trait;
use billing::api::ArchivedDocument;
use chrono::{DateTime, Utc};
use sqlx::{
    Row as _,
    postgres::{PgPool, PgPoolOptions, PgRow},
};

use super::{ACQUIRE_TIMEOUT, ListFilter, NewRecord, Records, Row, StoreError};

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "archived documents", include_str!("../../migrations/postgres/0001_archived_documents.sql"))];

macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT ", "id, profile, version, endpoint, window_start, window_end, subscription, format, \
                          vendor_status::BIGINT AS vendor_status, content_type, bytes, sha256, fetched_by, \
                          fetched_at, request_id", " FROM archived_documents ", $rest)
    };
}

pub struct PostgresRecords {
    pool: PgPool,
}

impl PostgresRecords {
    /// Connects and migrates; several relays starting at once take turns
    /// (sqlx holds an advisory lock while it migrates).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection the server dropped (a restart) is found out
            // before use, so archiving resumes by itself.
            .test_before_acquire(true)
            .connect(url)
            .await
            // The URL may hold a password: never in the message.
            .context("cannot connect to the PostgreSQL database at database_url")?;
        super::migrator(MIGRATIONS)
            .await?
            .run(&pool)
            .await
            .context("cannot migrate the PostgreSQL database")?;
        Ok(Self { pool })
    }
}

fn row(row: PgRow) -> Result<ArchivedDocument, StoreError> {
    Row {
        id: row.try_get("id")?,
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
        fetched_at: row.try_get("fetched_at")?,
        request_id: row.try_get("request_id")?,
    }
    .into_document()
}

#[async_trait]
impl Records for PostgresRecords {
    async fn insert_all(&self, records: &[NewRecord]) -> Result<Vec<i64>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(records.len());
        for record in records {
            let columns = record.columns();
            let id = sqlx::query_scalar(
            "INSERT INTO archived_documents (profile, version, endpoint, window_start, window_end, subscription, \
             format, vendor_status, content_type, bytes, sha256, fetched_by, fetched_at, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(columns.profile)
        .bind(columns.version)
        .bind(columns.endpoint)
        .bind(columns.window_start)
        .bind(columns.window_end)
        .bind(columns.subscription)
        .bind(columns.format)
        .bind(i32::try_from(columns.vendor_status).unwrap_or(i32::MAX))
        .bind(&record.content_type)
        .bind(columns.bytes)
        .bind(&record.sha256)
        .bind(&record.fetched_by)
        .bind(record.fetched_at)
        .bind(columns.request_id)
        .fetch_one(&mut *transaction)
        .await?;
            ids.push(id);
        }
        transaction.commit().await?;
        Ok(ids)
    }

    async fn get(&self, id: i64) -> Result<Option<ArchivedDocument>, StoreError> {
        let found = sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        found.map(row).transpose()
    }

    async fn archived_by_request(
        &self,
        request_id: u64,
        since: DateTime<Utc>,
    ) -> Result<Option<ArchivedDocument>, StoreError> {
        let Ok(request_id) = i64::try_from(request_id) else { return Ok(None) };
        let found =
            sqlx::query(select!("WHERE request_id = $1 AND fetched_at >= $2 ORDER BY id DESC LIMIT 1"))
                .bind(request_id)
                .bind(since)
                .fetch_optional(&self.pool)
                .await?;
        found.map(row).transpose()
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<ArchivedDocument>, StoreError> {
        // The id is always bounded, so a page walks the primary key from there.
        let rows = sqlx::query(select!(
            "\
             WHERE ($1::TEXT[] IS NULL OR profile = ANY($1)) \
             AND ($2::TEXT IS NULL OR endpoint = $2) \
             AND ($3::DATE IS NULL OR window_start >= $3) \
             AND ($4::DATE IS NULL OR window_end <= $4) \
             AND id < COALESCE($5::BIGINT, 9223372036854775807) \
             ORDER BY id DESC LIMIT $6"
        ))
        .bind(filter.profiles.as_deref())
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
        let rows = sqlx::query(select!("WHERE fetched_at < $1 ORDER BY fetched_at, id LIMIT $2"))
            .bind(cutoff)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(row).collect()
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM archived_documents WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn hash_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM archived_documents WHERE sha256 = $1 LIMIT 1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }
}
