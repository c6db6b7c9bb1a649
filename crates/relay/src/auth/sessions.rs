//! Where sessions live: in the relay's memory (one relay), or in Redis so
//! that every relay behind a load balancer sees the same sessions and a
//! sign-out on one ends the session on all. The cookie carries only a
//! signed random id either way.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use crate::RelayError;

/// Where the signed-in person is kept in the session.
pub(crate) const USER: &str = "user";
/// The ID token of the sign-in, kept server-side as the hint that ends the
/// provider's session at sign-out; never in the cookie.
pub(crate) const ID_TOKEN: &str = "id_token";
/// How often creating a session also sweeps out the expired ones.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long a request waits for Redis before the relay says it is away.
const REDIS_PATIENCE: Duration = Duration::from_secs(2);

/// For the sign-in pages, which a person reached by navigation.
pub(crate) fn store_failed(error: tower_sessions::session::Error) -> RelayError {
    sessions_unavailable(error, true)
}

/// A failed session store, logged, as the answer: a `page` for a person.
pub(crate) fn sessions_unavailable(error: tower_sessions::session::Error, page: bool) -> RelayError {
    tracing::error!(%error, "the session store failed");
    RelayError::SessionsUnavailable { page }
}

/// The configured store.
#[derive(Clone, Debug)]
pub enum Store {
    Memory(MemorySessions),
    Redis(RedisSessions),
}

/// The sessions a provider ended (back-channel logout): every session of
/// the person `subject`, or only those begun in one session at the
/// provider (its `sid`) when the provider names it.
#[derive(Clone, Copy, Debug)]
pub struct EndedAtProvider<'a> {
    pub issuer: &'a str,
    pub subject: Option<&'a str>,
    pub provider_session: Option<&'a str>,
}

/// Who a session belongs to, as its record says.
#[derive(serde::Deserialize)]
struct Owner {
    issuer: String,
    subject: String,
    #[serde(default)]
    provider_session: Option<String>,
}

fn owner(record: &Record) -> Option<Owner> {
    serde_json::from_value(record.data.get(USER)?.clone()).ok()
}

impl EndedAtProvider<'_> {
    fn ends(&self, owner: &Owner) -> bool {
        owner.issuer == self.issuer
            && self.subject.is_none_or(|subject| subject == owner.subject)
            && self.provider_session.is_none_or(|sid| owner.provider_session.as_deref() == Some(sid))
    }

    /// The Redis set listing the sessions it ends.
    fn index_key(&self) -> Option<String> {
        match (self.provider_session, self.subject) {
            (Some(sid), _) => Some(index_key("provider-session", self.issuer, sid)),
            (None, Some(subject)) => Some(index_key("person", self.issuer, subject)),
            (None, None) => None,
        }
    }
}

/// A key naming a person or a provider session by a hash, so that Redis
/// holds no e-mail or subject in its key names.
fn index_key(kind: &str, issuer: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{issuer}\0{id}").as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("billing-relay:{kind}:{hex}")
}

impl Store {
    /// Ends the sessions `ended` names, on every relay sharing the store;
    /// returns how many there were.
    pub async fn end_sessions(&self, ended: EndedAtProvider<'_>) -> session_store::Result<usize> {
        match self {
            Self::Memory(store) => Ok(store.end_sessions(ended)),
            Self::Redis(store) => store.end_sessions(ended).await,
        }
    }

    /// Whether `key` is seen for the first time; it is remembered until
    /// `until` (Unix seconds), on every relay sharing the store.
    pub async fn first_sight(&self, key: &str, until: i64) -> session_store::Result<bool> {
        match self {
            Self::Memory(store) => Ok(store.first_sight(key, until)),
            Self::Redis(store) => store.first_sight(key, until).await,
        }
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.create(record).await,
            Self::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.save(record).await,
            Self::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Memory(store) => store.load(id).await,
            Self::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.delete(id).await,
            Self::Redis(store) => store.delete(id).await,
        }
    }
}

/// Sessions in Redis, each a JSON record under `billing-relay:session:ID`
/// that Redis itself expires with the session.
#[derive(Clone)]
pub struct RedisSessions {
    connection: redis::aio::ConnectionManager,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RedisSessions")
    }
}

impl RedisSessions {
    /// Connects when first used, so a relay starts (and answers 503 for
    /// sessions) while Redis is away, and reconnects once it is back.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|error| anyhow::anyhow!("sessions: redis_url is not a Redis URL: {error}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = redis::aio::ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { connection })
    }

    fn key(id: &Id) -> String {
        format!("billing-relay:session:{id}")
    }

    /// `SET key record [NX|XX] EXAT expiry`: whether it was set. A signed-in
    /// person's session is also listed under them (and under their session
    /// at the provider) for as long as it lives, so that the provider can
    /// end it.
    async fn set(&self, record: &Record, condition: &str) -> session_store::Result<bool> {
        let value =
            serde_json::to_string(record).map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let expiry = record.expiry_date.unix_timestamp().max(1);
        let mut pipeline = redis::pipe();
        pipeline.cmd("SET").arg(Self::key(&record.id)).arg(value).arg(condition).arg("EXAT").arg(expiry);
        if let Some(owner) = owner(record) {
            let person = EndedAtProvider {
                issuer: &owner.issuer,
                subject: Some(&owner.subject),
                provider_session: None,
            };
            let at_provider = owner.provider_session.as_deref().map(|sid| EndedAtProvider {
                issuer: &owner.issuer,
                subject: None,
                provider_session: Some(sid),
            });
            for index in
                [Some(person), at_provider].into_iter().flatten().filter_map(|ended| ended.index_key())
            {
                pipeline.cmd("SADD").arg(&index).arg(record.id.to_string()).ignore();
                pipeline.cmd("EXPIREAT").arg(&index).arg(expiry).ignore();
            }
        }
        let (reply,): (Option<String>,) = self
            .run(|mut connection| {
                let pipeline = pipeline.clone();
                async move { pipeline.query_async(&mut connection).await }
            })
            .await?;
        Ok(reply.is_some())
    }

    async fn command<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> session_store::Result<T> {
        self.run(|mut connection| {
            let command = command.clone();
            async move { command.query_async(&mut connection).await }
        })
        .await
    }

    /// Runs `operation`, once more when the connection turns out broken:
    /// the connection manager only reconnects after a command has failed,
    /// so without the second try the first request after Redis comes back
    /// would still be refused.
    async fn run<T, F, Fut>(&self, operation: F) -> session_store::Result<T>
    where
        F: Fn(redis::aio::ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match tokio::time::timeout(REDIS_PATIENCE, operation(self.connection.clone())).await {
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(error))
                    if tries == 1
                        && (error.is_io_error()
                            || error.is_connection_dropped()
                            || error.is_connection_refusal()) => {}
                Ok(Err(error)) => return Err(session_store::Error::Backend(format!("Redis: {error}"))),
                Err(_) => {
                    return Err(session_store::Error::Backend("Redis did not answer in time".to_owned()));
                }
            }
        }
    }

    async fn end_sessions(&self, ended: EndedAtProvider<'_>) -> session_store::Result<usize> {
        let Some(index) = ended.index_key() else { return Ok(0) };
        let mut members = redis::cmd("SMEMBERS");
        members.arg(&index);
        let ids: Vec<String> = self.command(members).await?;
        let mut delete = redis::cmd("DEL");
        delete.arg(&index);
        for id in &ids {
            delete.arg(format!("billing-relay:session:{id}"));
        }
        let deleted: usize = self.command(delete).await?;
        // The index itself was one of the keys deleted.
        Ok(deleted.saturating_sub(1))
    }

    async fn first_sight(&self, key: &str, until: i64) -> session_store::Result<bool> {
        let mut command = redis::cmd("SET");
        command.arg(format!("billing-relay:seen:{key}")).arg(1).arg("NX").arg("EXAT").arg(until.max(1));
        let reply: Option<String> = self.command(command).await?;
        Ok(reply.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.set(record, "NX").await? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Only a session that still exists: a request that started before a
    /// sign-out elsewhere must not bring the session back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.set(record, "XX").await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut command = redis::cmd("GET");
        command.arg(Self::key(id));
        let stored: Option<String> = self.command(command).await?;
        let record = stored
            .map(|stored| serde_json::from_str::<Record>(&stored))
            .transpose()
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(record.filter(is_active))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut command = redis::cmd("DEL");
        command.arg(Self::key(id));
        self.command::<i64>(command).await.map(|_| ())
    }
}

#[derive(Clone, Debug)]
pub struct MemorySessions {
    inner: Arc<Mutex<Sessions>>,
}

#[derive(Debug)]
struct Sessions {
    records: HashMap<Id, Record>,
    swept_at: Instant,
    /// What `first_sight` has seen, until when (Unix seconds).
    seen: HashMap<String, i64>,
}

impl Default for MemorySessions {
    fn default() -> Self {
        let sessions = Sessions { records: HashMap::new(), swept_at: Instant::now(), seen: HashMap::new() };
        Self { inner: Arc::new(Mutex::new(sessions)) }
    }
}

impl MemorySessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic elsewhere while holding the lock leaves consistent data.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn end_sessions(&self, ended: EndedAtProvider<'_>) -> usize {
        let mut sessions = self.lock();
        let before = sessions.records.len();
        sessions.records.retain(|_, record| !owner(record).is_some_and(|owner| ended.ends(&owner)));
        before - sessions.records.len()
    }

    fn first_sight(&self, key: &str, until: i64) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut sessions = self.lock();
        sessions.seen.retain(|_, kept_until| *kept_until > now);
        match sessions.seen.entry(key.to_owned()) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(until);
                true
            }
        }
    }
}

fn is_active(record: &Record) -> bool {
    record.expiry_date > OffsetDateTime::now_utc()
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut sessions = self.lock();
        if sessions.swept_at.elapsed() >= SWEEP_EVERY {
            sessions.records.retain(|_, record| is_active(record));
            sessions.swept_at = Instant::now();
        }
        while sessions.records.contains_key(&record.id) {
            record.id = Id::default();
        }
        sessions.records.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.lock().records.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self.lock().records.get(id).filter(|record| is_active(record)).cloned())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.lock().records.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn expired_sessions_are_not_loaded_and_are_swept_out() {
        let store = MemorySessions::default();
        let mut expired = record(time::Duration::seconds(-1));
        let mut live = record(time::Duration::hours(1));
        store.create(&mut expired).await.unwrap();
        store.create(&mut live).await.unwrap();
        assert!(store.load(&expired.id).await.unwrap().is_none());
        assert!(store.load(&live.id).await.unwrap().is_some());
        store.lock().swept_at -= SWEEP_EVERY;
        store.create(&mut record(time::Duration::hours(1))).await.unwrap();
        assert_eq!(store.lock().records.len(), 2, "the expired one is gone, the two live ones stay");
    }
}
