//! The records in PostgreSQL: where several relays share them.

use anyhow::Context;
use async_trait::async_trait;
use billing::api::ArchivedDocument;
use billing::api::decisions::Stamp;
use chrono::{DateTime, Utc};
use sqlx::{
    Postgres, QueryBuilder, Row as _,
    postgres::{PgListener, PgPool, PgPoolOptions, PgRow},
};
use tokio::sync::broadcast;

use super::{
    ACQUIRE_TIMEOUT, ListFilter, NewRecord, Records, Row, StoreError,
    decisions::{
        CHANGES_BUFFERED, Changed, Decisions, MonthState, NewState, Stored, StoredChange, Subject, Topic,
        Write, WriteError, Written, lock_keys, refusal,
    },
    ids_in_order,
    runs::{Claim, Outcome, RunFilter, RunRow, Runs, status_name},
};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "archived documents", include_str!("../../migrations/postgres/0001_archived_documents.sql")),
    (2, "decisions", include_str!("../../migrations/postgres/0002_decisions.sql")),
    (3, "runs", include_str!("../../migrations/postgres/0003_runs.sql")),
];

/// The channel on which each relay tells the others it wrote a decision.
const CHANGES_CHANNEL: &str = "billing_decisions";

macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT ", "id, profile, version, endpoint, window_start, window_end, subscription, format, \
                          vendor_status::BIGINT AS vendor_status, content_type, bytes, sha256, fetched_by, \
                          fetched_at, request_id", " FROM archived_documents ", $rest)
    };
}

pub struct PostgresRecords {
    pool: PgPool,
    /// Fed by the database's notifications, this relay's own included.
    changes: broadcast::Sender<Changed>,
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
        let changes = broadcast::channel(CHANGES_BUFFERED).0;
        let mut listener = PgListener::connect_with(&pool)
            .await
            .context("cannot listen for decisions on the PostgreSQL database")?;
        listener.listen(CHANGES_CHANNEL).await.context("cannot listen for decisions")?;
        tokio::spawn(pass_notifications_on(listener, changes.clone()));
        Ok(Self { pool, changes })
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
        // One statement for the batch: one round trip to the server.
        let mut insert = QueryBuilder::<Postgres>::new(
            "INSERT INTO archived_documents (profile, version, endpoint, window_start, window_end, subscription, \
             format, vendor_status, content_type, bytes, sha256, fetched_by, fetched_at, request_id) ",
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
                .push_bind(i32::try_from(columns.vendor_status).unwrap_or(i32::MAX))
                .push_bind(&record.content_type)
                .push_bind(columns.bytes)
                .push_bind(&record.sha256)
                .push_bind(&record.fetched_by)
                .push_bind(record.fetched_at)
                .push_bind(columns.request_id);
        });
        insert.push(" RETURNING id, request_id");
        let returned = insert.build_query_as().fetch_all(&self.pool).await?;
        ids_in_order(records, returned)
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

/// Hands each relay's notifications to this relay's subscribers; while the
/// listening connection is down some may be lost, so they are told to read
/// everything again.
async fn pass_notifications_on(mut listener: PgListener, changes: broadcast::Sender<Changed>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match serde_json::from_str::<Changed>(notification.payload()) {
                Ok(changed) => {
                    let _ = changes.send(changed);
                }
                Err(error) => tracing::warn!(%error, "a decision notification the relay cannot read"),
            },
            Ok(None) => {
                tracing::warn!("the database's notifications were cut off: listening again");
                let _ = changes.send(Changed::Unknown);
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for decisions; trying again in a second");
                let _ = changes.send(Changed::Unknown);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

macro_rules! decision {
    ($rest:literal) => {
        concat!("SELECT profile, topic, month, item, version, state::TEXT AS state, changed_by, changed_at FROM decisions", " ", $rest)
    };
}

fn subject(row: &PgRow) -> Result<Subject, StoreError> {
    let topic: String = row.try_get("topic")?;
    Ok(Subject {
        profile: row.try_get("profile")?,
        topic: Topic::from_name(&topic)
            .ok_or_else(|| StoreError::Unreadable { id: 0, reason: format!("unknown topic {topic}") })?,
        month: row.try_get("month")?,
        item: row.try_get("item")?,
    })
}

fn version(row: &PgRow) -> Result<u64, StoreError> {
    let version: i64 = row.try_get("version")?;
    u64::try_from(version)
        .map_err(|_| StoreError::Unreadable { id: 0, reason: "negative version".to_owned() })
}

fn stored(row: PgRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        subject: subject(&row)?,
        version: version(&row)?,
        state: row.try_get("state")?,
        changed: Stamp { by: row.try_get("changed_by")?, at: row.try_get("changed_at")? },
    })
}

fn stored_change(row: PgRow) -> Result<StoredChange, StoreError> {
    Ok(StoredChange {
        subject: subject(&row)?,
        version: version(&row)?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
        changed: Stamp { by: row.try_get("changed_by")?, at: row.try_get("changed_at")? },
    })
}

fn stored_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

#[async_trait]
impl Decisions for PostgresRecords {
    async fn decision(&self, subject: &Subject) -> Result<Option<Stored>, StoreError> {
        let found = sqlx::query(decision!("WHERE profile = $1 AND topic = $2 AND month = $3 AND item = $4"))
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
            "WHERE profile = $1 AND topic = $2 AND month BETWEEN $3 AND $4 ORDER BY month, item"
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
            "SELECT profile, topic, month, item, version, before::TEXT AS before, after::TEXT AS after, \
             changed_by, changed_at FROM decision_changes \
             WHERE profile = $1 AND topic = $2 AND month = $3 ORDER BY id DESC LIMIT $4",
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
        let mut transaction = self.pool.begin().await?;
        // Every relay's writes to one month (or one profile's settings)
        // take turns: the check and the write see the same state.
        for key in lock_keys(&write) {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut *transaction)
                .await?;
        }
        let subject = &write.subject;
        let current =
            sqlx::query(decision!("WHERE profile = $1 AND topic = $2 AND month = $3 AND item = $4"))
                .bind(&subject.profile)
                .bind(subject.topic.name())
                .bind(&subject.month)
                .bind(&subject.item)
                .fetch_optional(&mut *transaction)
                .await?
                .map(stored)
                .transpose()?;
        let sign_off = sqlx::query(decision!(
            "WHERE profile = $1 AND topic = 'sign_off' AND month = $2 AND locks_month LIMIT 1"
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
                    "WHERE profile = $1 AND topic = 'review' AND month = $2 ORDER BY item"
                ))
                .bind(&subject.profile)
                .bind(&subject.month)
                .fetch_all(&mut *transaction)
                .await?
                .into_iter()
                .map(stored)
                .collect::<Result<_, _>>()?;
                let settings =
                    sqlx::query(decision!("WHERE profile = $1 AND topic = 'settings' AND month = ''"))
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
        sqlx::query(
            "INSERT INTO decisions (profile, topic, month, item, version, state, locks_month, changed_by, \
             changed_at) VALUES ($1, $2, $3, $4, $5, $6::JSONB, $7, $8, $9) \
             ON CONFLICT (profile, topic, month, item) DO UPDATE SET version = excluded.version, \
             state = excluded.state, locks_month = excluded.locks_month, changed_by = excluded.changed_by, \
             changed_at = excluded.changed_at",
        )
        .bind(&subject.profile)
        .bind(subject.topic.name())
        .bind(&subject.month)
        .bind(&subject.item)
        .bind(stored_version(version))
        .bind(&state)
        .bind(write.locks_month)
        .bind(&write.changed.by)
        .bind(write.changed.at)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO decision_changes (profile, topic, month, item, version, before, after, changed_by, \
             changed_at) VALUES ($1, $2, $3, $4, $5, $6::JSONB, $7::JSONB, $8, $9)",
        )
        .bind(&subject.profile)
        .bind(subject.topic.name())
        .bind(&subject.month)
        .bind(&subject.item)
        .bind(stored_version(version))
        .bind(&before)
        .bind(&state)
        .bind(&write.changed.by)
        .bind(write.changed.at)
        .execute(&mut *transaction)
        .await?;
        // Sent when the transaction commits, to every relay listening.
        let changed = Changed::Decision { subject: subject.clone(), version };
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(serde_json::to_string(&changed).unwrap_or_default())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
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
        concat!("SELECT ", "id, job, profile, endpoint, slot, month, window_start, window_end, status, attempts, \
                          started_at, finished_at, documents::TEXT AS documents, findings::TEXT AS findings, error, told::TEXT AS told", " FROM runs ", $rest)
    };
}

fn run_row(row: PgRow) -> Result<billing::api::runs::RunRecord, StoreError> {
    RunRow {
        id: row.try_get("id")?,
        job: row.try_get("job")?,
        profile: row.try_get("profile")?,
        endpoint: row.try_get("endpoint")?,
        slot: row.try_get("slot")?,
        month: row.try_get("month")?,
        window_start: row.try_get("window_start")?,
        window_end: row.try_get("window_end")?,
        status: row.try_get("status")?,
        attempts: i64::from(row.try_get::<i32, _>("attempts")?),
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        documents: row.try_get("documents")?,
        findings: row.try_get("findings")?,
        error: row.try_get("error")?,
        told: row.try_get("told")?,
    }
    .into_record()
}

#[async_trait]
impl Runs for PostgresRecords {
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<i64>, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO runs (job, profile, endpoint, month, window_start, window_end, status, started_at, \
             lease_holder, lease_until, tried_on, slot) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $11, $12) \
             ON CONFLICT (job, slot) DO UPDATE SET status = 'running', window_start = excluded.window_start, \
             window_end = excluded.window_end, started_at = excluded.started_at, finished_at = NULL, \
             error = NULL, lease_holder = excluded.lease_holder, lease_until = excluded.lease_until, \
             tried_on = excluded.tried_on, reported_at = NULL, told = '[]' \
             WHERE (runs.status = 'not_yet_published' AND runs.tried_on < $11) \
             OR (runs.status = 'running' AND runs.lease_until < $7) \
             OR ($10 AND runs.status IN ('succeeded', 'failed', 'not_yet_published')) \
             RETURNING id",
        )
        .bind(claim.job)
        .bind(claim.profile)
        .bind(claim.endpoint.path())
        .bind(claim.month.to_string())
        .bind(claim.window.start())
        .bind(claim.window.end())
        .bind(claim.now)
        .bind(claim.holder)
        .bind(claim.lease_until)
        .bind(claim.again)
        .bind(claim.today)
        .bind(claim.slot)
        .fetch_optional(&self.pool)
        .await?;
        Ok(claimed.map(|row| row.try_get("id")).transpose()?)
    }

    async fn finish(&self, id: i64, outcome: &Outcome) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = $1, attempts = attempts + $2, documents = $3::TEXT::JSONB, \
             findings = $4::TEXT::JSONB, error = $5, finished_at = $6, lease_holder = NULL, lease_until = NULL \
             WHERE id = $7",
        )
        .bind(status_name(outcome.status))
        .bind(i32::try_from(outcome.attempts).unwrap_or(i32::MAX))
        .bind(serde_json::json!(outcome.documents).to_string())
        .bind(outcome.findings.as_ref().map(|findings| serde_json::json!(findings).to_string()))
        .bind(&outcome.error)
        .bind(outcome.at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn run(&self, id: i64) -> Result<Option<billing::api::runs::RunRecord>, StoreError> {
        let found = sqlx::query(select_runs!("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        found.map(run_row).transpose()
    }

    async fn claim_report(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let claimed = sqlx::query("UPDATE runs SET reported_at = $1 WHERE id = $2 AND reported_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(claimed.rows_affected() == 1)
    }

    async fn release_report(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET reported_at = NULL WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    async fn told(&self, id: i64, channel: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET told = told || to_jsonb($1::TEXT) WHERE id = $2")
            .bind(channel)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn renew_lease(&self, id: i64, holder: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE runs SET lease_until = $1 WHERE id = $2 AND lease_holder = $3 AND status = 'running'",
        )
        .bind(until)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    async fn unreported(&self, limit: u32) -> Result<Vec<billing::api::runs::RunRecord>, StoreError> {
        let rows = sqlx::query(select_runs!(
            "WHERE reported_at IS NULL AND status IN ('succeeded', 'failed') ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(run_row).collect()
    }

    async fn list(&self, filter: &RunFilter) -> Result<Vec<billing::api::runs::RunRecord>, StoreError> {
        let rows = sqlx::query(select_runs!(
            "\
             WHERE ($1::TEXT[] IS NULL OR profile = ANY($1)) AND ($2::TEXT IS NULL OR job = $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(filter.profiles.as_deref())
        .bind(&filter.job)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(run_row).collect()
    }
}
