//! An emulator of the vendor Billing API (`../shared/vendor-billing-api.md`).
//!
//! Usable as a library bound to any address (port 0 in tests), as the
//! `vendor-sim` binary, and embedded in `billing-relay --demo`.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

/// The header the vendor reads the key from unless configured otherwise.
pub const DEFAULT_KEY_HEADER: &str = "x-api-key";

/// One API key the emulated vendor accepts.
pub struct ApiKey {
    pub name: String,
    pub secret: SecretString,
}

pub struct Config {
    pub keys: Vec<ApiKey>,
    pub key_header: HeaderName,
}

impl Config {
    /// A vendor that accepts exactly one key in the default header.
    pub fn single_key(name: &str, secret: SecretString) -> Self {
        Self {
            keys: vec![ApiKey { name: name.to_owned(), secret }],
            key_header: HeaderName::from_static(DEFAULT_KEY_HEADER),
        }
    }
}

/// The emulator's routes, for tests and for embedding.
pub fn app(config: Config) -> Router {
    let config = Arc::new(config);
    Router::new()
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(config.clone(), require_key))
        // Health is outside the key check: it is ours, not the vendor's.
        .route("/healthz", get(|| async { "ok" }))
}

/// An emulator serving on a bound address until dropped or aborted.
pub struct RunningVendor {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningVendor {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningVendor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` (port 0 picks a free port) and serves in the background.
pub async fn spawn(addr: SocketAddr, config: Config) -> std::io::Result<RunningVendor> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let router = app(config);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "vendor emulator stopped");
        }
    });
    Ok(RunningVendor { addr, task })
}

async fn require_key(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    let Some(presented) = request.headers().get(&config.key_header) else {
        return vendor_error(StatusCode::UNAUTHORIZED, "missing API key");
    };
    let known = config.keys.iter().any(|key| key.secret.expose_secret().as_bytes() == presented.as_bytes());
    if !known {
        return vendor_error(StatusCode::UNAUTHORIZED, "unknown API key");
    }
    next.run(request).await
}

async fn unknown_route() -> Response {
    vendor_error(StatusCode::NOT_FOUND, "unknown version or endpoint")
}

/// The vendor's error body: short JSON whatever the Accept header said.
fn vendor_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
