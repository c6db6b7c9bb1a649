//! An emulator of the vendor Billing API (`../shared/vendor-billing-api.md`).
//!
//! Usable as a library bound to any address (port 0 in tests), as the
//! `vendor-sim` binary, and embedded in `billing-relay --demo`.

pub mod catalogue;
pub mod config;
pub mod documents;
mod names;
pub mod reseller;
mod serve;

use std::{net::SocketAddr, sync::Arc};

use axum::{Router, middleware, routing::get, serve::ListenerExt};
use billing::api::vendor::CURRENT_PREFIX;
pub use config::{ApiKey, Config, DataSpec, Fault, Permission};
use tokio::{net::TcpListener, task::JoinHandle};

/// The emulator's routes, for tests and for embedding. Callers must be
/// served with `into_make_service_with_connect_info::<SocketAddr>()` so
/// whitelists can see their address; [`spawn`] does.
pub fn app(config: Config) -> Router {
    let vendor = Arc::new(serve::Vendor::new(config));
    Router::new()
        .route("/{version}/{endpoint}", get(serve::legacy))
        .route(&format!("{CURRENT_PREFIX}/{{endpoint}}"), get(serve::current))
        .fallback(serve::unknown_route)
        .layer(middleware::from_fn_with_state(vendor.clone(), serve::admit))
        .with_state(vendor)
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
    // Without TCP_NODELAY a small answer's body waits for a delayed ACK.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
    });
    let service = app(config).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "vendor emulator stopped");
        }
    });
    Ok(RunningVendor { addr, task })
}
