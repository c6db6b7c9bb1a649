//! billing-relay: the one place the vendor keys live and the one address the
//! vendor whitelists. Browsers talk only to it.

pub mod config;
pub mod demo;
mod error;
mod routes;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::{Profile, RelayConfig};
pub use error::RelayError;
pub use routes::app;

/// A relay bound to its address, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
}

impl Application {
    /// Binds the configured address (port 0 picks a free port) and checks the
    /// configuration, so a bad one fails before anything is served.
    pub async fn build(config: RelayConfig) -> anyhow::Result<Self> {
        let index = config.app_dir.join("index.html");
        anyhow::ensure!(
            index.is_file(),
            "the app directory {} has no index.html: build the app with `cargo xtask serve` \
             (or `trunk build --release`) or point --app-dir at a built one",
            config.app_dir.display()
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Self { listener, router: app(config) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C or SIGTERM, then lets running requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown_signal()).await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
