//! Sessions kept in the relay's memory: the cookie carries only a signed
//! random id. Expired sessions are dropped as new ones are made, so
//! abandoned sign-ins do not pile up.

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
