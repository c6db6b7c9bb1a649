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
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

/// How often creating a session also sweeps out the expired ones.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long a request waits for Redis before the relay says it is away.
const REDIS_PATIENCE: Duration = Duration::from_secs(2);

/// The configured store.
#[derive(Clone, Debug)]
pub enum Store {
    Memory(MemorySessions),
    Redis(RedisSessions),
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

    /// `SET key record [NX|XX] EXAT expiry`: whether it was set.
    async fn set(&self, record: &Record, condition: &str) -> session_store::Result<bool> {
        let value =
            serde_json::to_string(record).map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let mut command = redis::cmd("SET");
        command
            .arg(Self::key(&record.id))
            .arg(value)
            .arg(condition)
            .arg("EXAT")
            .arg(record.expiry_date.unix_timestamp().max(1));
        let reply: Option<String> = self.run(command).await?;
        Ok(reply.is_some())
    }

    /// Runs `command`, once more when the connection turns out broken: the
    /// connection manager only reconnects after a command has failed, so
    /// without the second try the first request after Redis comes back
    /// would still be refused.
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> session_store::Result<T> {
        let mut connection = self.connection.clone();
        let mut tries = 0;
        loop {
            tries += 1;
            match tokio::time::timeout(REDIS_PATIENCE, command.query_async(&mut connection)).await {
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
        let stored: Option<String> = self.run(command).await?;
        let record = stored
            .map(|stored| serde_json::from_str::<Record>(&stored))
            .transpose()
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(record.filter(is_active))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut command = redis::cmd("DEL");
        command.arg(Self::key(id));
        self.run::<i64>(command).await.map(|_| ())
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
}

impl Default for MemorySessions {
    fn default() -> Self {
        let sessions = Sessions { records: HashMap::new(), swept_at: Instant::now() };
        Self { inner: Arc::new(Mutex::new(sessions)) }
    }
}

impl MemorySessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic elsewhere while holding the lock leaves consistent data.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
