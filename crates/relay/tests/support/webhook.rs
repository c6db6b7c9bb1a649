//! A webhook's receiver on loopback: keeps every JSON body posted to it,
//! by path, and answers 503 on the paths a test has taken down.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Json, extract::State, http::StatusCode, http::Uri};
use serde_json::Value;
use tokio::sync::watch;

#[derive(Default)]
struct Kept {
    received: Mutex<Vec<(String, Value)>>,
    down: Mutex<BTreeSet<String>>,
}

pub struct Receiver {
    pub base_url: String,
    kept: Arc<Kept>,
    arrivals: watch::Receiver<usize>,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// On a given port, so a sender may be configured before the receiver
    /// is up (and fail to connect, as to a receiver that is down).
    pub async fn start_on(port: u16) -> Self {
        let kept = Arc::new(Kept::default());
        let (arrived, arrivals) = watch::channel(0);
        let arrived = Arc::new(arrived);
        let app = axum::Router::new().fallback(axum::routing::post(
            move |State(kept): State<Arc<Kept>>, uri: Uri, Json(body): Json<Value>| {
                let arrived = arrived.clone();
                async move {
                    let path = uri.path().to_owned();
                    if kept.down.lock().unwrap().contains(&path) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    kept.received.lock().unwrap().push((path, body));
                    arrived.send_modify(|count| *count += 1);
                    StatusCode::OK
                }
            },
        ));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let app = app.with_state(kept.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url, kept, arrivals }
    }

    /// Answers 503 on `path` until [`Receiver::up`].
    pub fn down(&self, path: &str) {
        self.kept.down.lock().unwrap().insert(path.to_owned());
    }

    pub fn up(&self, path: &str) {
        self.kept.down.lock().unwrap().remove(path);
    }

    /// The bodies received on `path`, oldest first.
    pub fn received(&self, path: &str) -> Vec<Value> {
        let received = self.kept.received.lock().unwrap();
        received.iter().filter(|(on, _)| on == path).map(|(_, body)| body.clone()).collect()
    }

    /// Waits until `count` bodies have arrived in all.
    pub async fn wait_for(&self, count: usize) {
        let mut arrivals = self.arrivals.clone();
        tokio::time::timeout(Duration::from_secs(60), arrivals.wait_for(|arrived| *arrived >= count))
            .await
            .unwrap_or_else(|_| panic!("{count} webhook bodies never arrived"))
            .unwrap();
    }
}
