//! The records in a SQLite file: the embedded default, for one relay.

use std::{path::Path, str::FromStr};

use anyhow::Context;
use async_trait::async_trait;
use billing::api::ArchivedDocument;
use billing::api::decisions::Stamp;
use chrono::{DateTime, Utc};
use sqlx::{
    QueryBuilder, Row as _, Sqlite,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};
use tokio::sync::broadcast;

use super::{
    ACQUIRE_TIMEOUT, ListFilter, NewRecord, Records, Row, StoreError,
    decisions::{
        CHANGES_BUFFERED, Changed, Decisions, MonthState, NewState, Stored, StoredChange, Subject, Topic,
        Write, WriteError, Written, refusal,
    },
    ids_in_order,
    runs::{Claim, Outcome, RunFilter, RunRow, Runs, status_name},
};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "archived documents", include_str!("../../migrations/sqlite/0001_archived_documents.sql")),
    (2, "decisions", include_str!("../../migrations/sqlite/0002_decisions.sql")),
    (3, "runs", include_str!("../../migrations/sqlite/0003_runs.sql")),
];

macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT ", "id, profile, version, endpoint, window_start, window_end, subscription, format, \
                          vendor_status, content_type, bytes, sha256, fetched_by, fetched_at_ms, request_id", " FROM archived_documents ", $rest)
    };
}

pub struct SqliteRecords {
    pool: SqlitePool,
    /// One relay owns the file, so it tells its own subscribers.
    changes: broadcast::Sender<Changed>,
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
        Ok(Self { pool, changes: broadcast::channel(CHANGES_BUFFERED).0 })
    }
}

/// A time kept as milliseconds since 1970; out of range, record `id` is
/// unreadable for `reason`.
fn time_of(id: i64, millis: i64, reason: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::Unreadable { id, reason: reason.to_owned() })
}

fn row(row: SqliteRow) -> Result<ArchivedDocument, StoreError> {
    let id: i64 = row.try_get("id")?;
    let fetched_at = time_of(id, row.try_get("fetched_at_ms")?, "bad time")?;
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
        // One statement for the batch: each statement is a round trip to
        // SQLite's own thread.
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO archived_documents (profile, version, endpoint, window_start, window_end, subscription, \
             format, vendor_status, content_type, bytes, sha256, fetched_by, fetched_at_ms, request_id) ",
        );
        insert.push_values(records, |mut row, record| {
            let columns = record.columns();
            row.push_bind(columns.profile)
                .push_bind(columns.version)
                .push_bind(columns.endpoint)
                .push_bind(columns.window_start)
                .push_bind(columns.window_end)
                .push_bind(columns.subscription)
                .push_bind(columns.format)
                .push_bind(columns.vendor_status)
                .push_bind(&record.content_type)
                .push_bind(columns.bytes)
                .push_bind(&record.sha256)
                .push_bind(&record.fetched_by)
                .push_bind(record.fetched_at.timestamp_millis())
                .push_bind(columns.request_id);
        });
        insert.push(" RETURNING id, request_id");
        let returned = insert.build_query_as().fetch_all(&self.pool).await?;
        ids_in_order(records, returned)
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

macro_rules! decision {
    ($rest:literal) => {
        concat!(
            "SELECT profile, topic, month, item, version, state, changed_by, changed_at_ms FROM decisions",
            " ",
            $rest
        )
    };
}

fn stamp(row: &SqliteRow, by: &str, at: &str) -> Result<Stamp, StoreError> {
    let at = time_of(0, row.try_get(at)?, "a decision's time is out of range")?;
    Ok(Stamp { by: row.try_get(by)?, at })
}

fn subject(row: &SqliteRow) -> Result<Subject, StoreError> {
    let topic: String = row.try_get("topic")?;
    Ok(Subject {
        profile: row.try_get("profile")?,
        topic: Topic::from_name(&topic)
            .ok_or_else(|| StoreError::Unreadable { id: 0, reason: format!("unknown topic {topic}") })?,
        month: row.try_get("month")?,
        item: row.try_get("item")?,
    })
}

fn version(row: &SqliteRow) -> Result<u64, StoreError> {
    let version: i64 = row.try_get("version")?;
    u64::try_from(version)
        .map_err(|_| StoreError::Unreadable { id: 0, reason: "negative version".to_owned() })
}

fn stored(row: SqliteRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        subject: subject(&row)?,
        version: version(&row)?,
        state: row.try_get("state")?,
        changed: stamp(&row, "changed_by", "changed_at_ms")?,
    })
}

fn stored_change(row: SqliteRow) -> Result<StoredChange, StoreError> {
    Ok(StoredChange {
        subject: subject(&row)?,
        version: version(&row)?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
        changed: stamp(&row, "changed_by", "changed_at_ms")?,
    })
}

fn stored_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

#[async_trait]
impl Decisions for SqliteRecords {
    async fn decision(&self, subject: &Subject) -> Result<Option<Stored>, StoreError> {
        let found = sqlx::query(decision!("WHERE profile = ? AND topic = ? AND month = ? AND item = ?"))
            .bind(&subject.profile)
            .bind(subject.topic.name())
            .bind(&subject.month)
            .bind(&subject.item)
            .fetch_optional(&self.pool)
            .await?;
        found.map(stored).transpose()
    }

    async fn decisions(
        &self,
        profile: &str,
        topic: Topic,
        from: &str,
        to: &str,
    ) -> Result<Vec<Stored>, StoreError> {
        let rows = sqlx::query(decision!(
            "WHERE profile = ? AND topic = ? AND month BETWEEN ? AND ? ORDER BY month, item"
        ))
        .bind(profile)
        .bind(topic.name())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(stored).collect()
    }

    async fn changes(
        &self,
        profile: &str,
        topic: Topic,
        month: &str,
        limit: u32,
    ) -> Result<Vec<StoredChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT profile, topic, month, item, version, before, after, changed_by, changed_at_ms \
             FROM decision_changes WHERE profile = ? AND topic = ? AND month = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(profile)
        .bind(topic.name())
        .bind(month)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(stored_change).collect()
    }

    async fn write(&self, write: Write<'_>) -> Result<Written, WriteError> {
        // One writer at a time: the check and the write see the same state.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let subject = &write.subject;
        let current = sqlx::query(decision!("WHERE profile = ? AND topic = ? AND month = ? AND item = ?"))
            .bind(&subject.profile)
            .bind(subject.topic.name())
            .bind(&subject.month)
            .bind(&subject.item)
            .fetch_optional(&mut *transaction)
            .await?
            .map(stored)
            .transpose()?;
        let sign_off = sqlx::query(decision!(
            "WHERE profile = ? AND topic = 'sign_off' AND month = ? AND locks_month = 1 LIMIT 1"
        ))
        .bind(&subject.profile)
        .bind(&subject.month)
        .fetch_optional(&mut *transaction)
        .await?
        .map(stored)
        .transpose()?;
        if let Some(refused) = refusal(&write, current.clone(), sign_off) {
            return Err(refused);
        }
        let state = match write.state {
            NewState::Given(state) => state,
            NewState::OfMonth(make) => {
                let reviews = sqlx::query(decision!(
                    "WHERE profile = ? AND topic = 'review' AND month = ? ORDER BY item"
                ))
                .bind(&subject.profile)
                .bind(&subject.month)
                .fetch_all(&mut *transaction)
                .await?
                .into_iter()
                .map(stored)
                .collect::<Result<_, _>>()?;
                let settings =
                    sqlx::query(decision!("WHERE profile = ? AND topic = 'settings' AND month = ''"))
                        .bind(&subject.profile)
                        .fetch_optional(&mut *transaction)
                        .await?
                        .map(stored)
                        .transpose()?;
                make(&MonthState { reviews, settings })
            }
        };
        let version = write.base_version + 1;
        let before = current.map(|current| current.state);
        let at = write.changed.at.timestamp_millis();
        sqlx::query(
            "INSERT INTO decisions (profile, topic, month, item, version, state, locks_month, changed_by, \
             changed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (profile, topic, month, item) DO UPDATE SET version = excluded.version, \
             state = excluded.state, locks_month = excluded.locks_month, changed_by = excluded.changed_by, \
             changed_at_ms = excluded.changed_at_ms",
        )
        .bind(&subject.profile)
        .bind(subject.topic.name())
        .bind(&subject.month)
        .bind(&subject.item)
        .bind(stored_version(version))
        .bind(&state)
        .bind(write.locks_month)
        .bind(&write.changed.by)
        .bind(at)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO decision_changes (profile, topic, month, item, version, before, after, changed_by, \
             changed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&subject.profile)
        .bind(subject.topic.name())
        .bind(&subject.month)
        .bind(&subject.item)
        .bind(stored_version(version))
        .bind(&before)
        .bind(&state)
        .bind(&write.changed.by)
        .bind(at)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        let _ = self.changes.send(Changed::Decision { subject: subject.clone(), version });
        Ok(Written {
            stored: Stored { subject: write.subject, version, state, changed: write.changed },
            before,
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }
}

macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            "id, job, profile, endpoint, slot, month, window_start, window_end, status, attempts, \
                          started_at_ms, finished_at_ms, documents, findings, error, told",
            " FROM runs ",
            $rest
        )
    };
}

fn run_row(row: SqliteRow) -> Result<billing::api::runs::RunRecord, StoreError> {
    let id: i64 = row.try_get("id")?;
    let time = |millis: i64| time_of(id, millis, "run: bad time");
    RunRow {
        id,
        job: row.try_get("job")?,
        profile: row.try_get("profile")?,
        endpoint: row.try_get("endpoint")?,
        slot: row.try_get("slot")?,
        month: row.try_get("month")?,
        window_start: row.try_get("window_start")?,
        window_end: row.try_get("window_end")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        started_at: time(row.try_get("started_at_ms")?)?,
        finished_at: row.try_get::<Option<i64>, _>("finished_at_ms")?.map(time).transpose()?,
        documents: row.try_get("documents")?,
        findings: row.try_get("findings")?,
        error: row.try_get("error")?,
        told: row.try_get("told")?,
    }
    .into_record()
}

#[async_trait]
impl Runs for SqliteRecords {
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<i64>, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO runs (job, profile, endpoint, month, window_start, window_end, status, started_at_ms, \
             lease_holder, lease_until_ms, tried_on, slot) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9, ?11, ?12) \
             ON CONFLICT (job, slot) DO UPDATE SET status = 'running', window_start = excluded.window_start, \
             window_end = excluded.window_end, started_at_ms = excluded.started_at_ms, finished_at_ms = NULL, \
             error = NULL, lease_holder = excluded.lease_holder, lease_until_ms = excluded.lease_until_ms, \
             tried_on = excluded.tried_on, reported_at_ms = NULL, told = '[]' \
             WHERE (runs.status = 'not_yet_published' AND runs.tried_on < ?11) \
             OR (runs.status = 'running' AND runs.lease_until_ms < ?7) \
             OR (?10 AND runs.status IN ('succeeded', 'failed', 'not_yet_published')) \
             RETURNING id",
        )
        .bind(claim.job)
        .bind(claim.profile)
        .bind(claim.endpoint.path())
        .bind(claim.month.to_string())
        .bind(claim.window.start())
        .bind(claim.window.end())
        .bind(claim.now.timestamp_millis())
        .bind(claim.holder)
        .bind(claim.lease_until.timestamp_millis())
        .bind(claim.again)
        .bind(claim.today)
        .bind(claim.slot)
        .fetch_optional(&self.pool)
        .await?;
        Ok(claimed.map(|row| row.try_get("id")).transpose()?)
    }

    async fn finish(&self, id: i64, outcome: &Outcome) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = ?, attempts = attempts + ?, documents = ?, findings = ?, error = ?, \
             finished_at_ms = ?, lease_holder = NULL, lease_until_ms = NULL WHERE id = ?",
        )
        .bind(status_name(outcome.status))
        .bind(i64::from(outcome.attempts))
        .bind(serde_json::json!(outcome.documents).to_string())
        .bind(outcome.findings.as_ref().map(|findings| serde_json::json!(findings).to_string()))
        .bind(&outcome.error)
        .bind(outcome.at.timestamp_millis())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn run(&self, id: i64) -> Result<Option<billing::api::runs::RunRecord>, StoreError> {
        let found = sqlx::query(select_runs!("WHERE id = ?")).bind(id).fetch_optional(&self.pool).await?;
        found.map(run_row).transpose()
    }

    async fn claim_report(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let claimed =
            sqlx::query("UPDATE runs SET reported_at_ms = ? WHERE id = ? AND reported_at_ms IS NULL")
                .bind(at.timestamp_millis())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(claimed.rows_affected() == 1)
    }

    async fn release_report(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET reported_at_ms = NULL WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn told(&self, id: i64, channel: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET told = json_insert(told, '$[#]', ?) WHERE id = ?")
            .bind(channel)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn renew_lease(&self, id: i64, holder: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE runs SET lease_until_ms = ? WHERE id = ? AND lease_holder = ? AND status = 'running'",
        )
        .bind(until.timestamp_millis())
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    async fn unreported(&self, limit: u32) -> Result<Vec<billing::api::runs::RunRecord>, StoreError> {
        let rows = sqlx::query(select_runs!(
            "WHERE reported_at_ms IS NULL AND status IN ('succeeded', 'failed') ORDER BY id LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(run_row).collect()
    }

    async fn list(&self, filter: &RunFilter) -> Result<Vec<billing::api::runs::RunRecord>, StoreError> {
        let profiles = filter.profiles.as_ref().map(|profiles| serde_json::json!(profiles).to_string());
        let rows = sqlx::query(select_runs!(
            "\
             WHERE (?1 IS NULL OR profile IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR job = ?2) \
             ORDER BY id DESC LIMIT ?3"
        ))
        .bind(profiles)
        .bind(&filter.job)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(run_row).collect()
    }
}
