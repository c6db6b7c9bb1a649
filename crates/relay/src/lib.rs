//! billing-relay: the one place the vendor keys live and the one address the
//! vendor whitelists. Browsers talk only to it.

mod admission;
pub mod archive;
mod auth;
pub mod config;
mod decisions;
#[cfg(feature = "demo")]
pub mod demo;
mod documents;
mod entry;
mod error;
mod hosts;
mod identity;
mod observe;
mod openapi;
mod pages;
mod routes;
pub mod schedule;
mod security;
mod server;
mod state;
pub mod store;
mod upstream;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};

pub use admission::client_address;
pub use auth::sign_in::safe_return_path;
pub use config::{
    AccessRule, ArchiveConfig, ConnectionLimits, MetricsConfig, Profile, RateLimit, RelayConfig,
    SessionsConfig, SignInConfig, Timeouts,
};
pub use error::RelayError;
pub use hosts::HostPattern;
pub use observe::{audit, metrics::Metrics};

/// A relay bound to its address, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// Metrics on an address of their own, when configured so.
    metrics: Option<(TcpListener, axum::Router)>,
    counters: Arc<observe::metrics::Metrics>,
    limits: ConnectionLimits,
    grace: std::time::Duration,
    scheduler: Option<schedule::Scheduler>,
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
        if config.allowlist.is_empty() {
            tracing::warn!("the allowlist is empty: every client will be refused");
        }
        check_access_settings(&config)?;
        for job in &config.schedule {
            job.check(&config)?;
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let metrics_listen = config.metrics.as_ref().and_then(|metrics| metrics.listen);
        let metrics_listener = match metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen for metrics on {address}"))?,
            ),
            None => None,
        };
        let grace = config.shutdown_grace;
        let limits = config.connections;
        let counters = Arc::new(observe::metrics::Metrics::default());
        let database = open_database(&config.archive).await?;
        let archive = open_archive(&config.archive, &database, counters.clone()).await?;
        let serving = routes::routers(config, counters.clone(), &database, archive)?;
        let metrics = metrics_listener.zip(serving.metrics);
        let (router, scheduler) = (serving.app, serving.scheduler);
        Ok(Self { listener, router, metrics, counters, limits, grace, scheduler })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The metrics' own address, when they have one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until Ctrl-C or SIGTERM, then lets running downloads finish
    /// for up to the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stopping, stopped) = watch::channel(false);
        // Jobs stop with the process; a run cut off is taken over once its lease runs out.
        if let Some(scheduler) = self.scheduler {
            tokio::spawn(scheduler.run());
        }
        if let Some((listener, router)) = self.metrics {
            // Scrapes are short; they stop with the process.
            let (counters, watching) = (self.counters.clone(), stopped.clone());
            tokio::spawn(server::serve(listener, router, self.limits, counters, watching));
        }
        let serving = server::serve(self.listener, self.router, self.limits, self.counters, stopped);
        let grace = self.grace;
        // Owns the sender: dropped, it would stop the listeners at once.
        let deadline = async move {
            shutdown_signal().await;
            let _ = stopping.send(true);
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            () = serving => Ok(()),
            () = deadline => {
                tracing::warn!(seconds = grace.as_secs(), "the grace period is over: closing the downloads still running");
                Ok(())
            }
        }
    }
}

/// The relay's database, opened and migrated before anything is served:
/// the archive's records and the shared decisions.
pub async fn open_database(settings: &ArchiveConfig) -> anyhow::Result<store::Database> {
    store::open(settings.database_url.as_ref(), &settings.data_dir).await
}

/// The archive's store beside the database's records, unless archiving is off.
pub async fn open_archive(
    settings: &ArchiveConfig,
    database: &store::Database,
    metrics: Arc<observe::metrics::Metrics>,
) -> anyhow::Result<Option<Arc<archive::Archive>>> {
    if !settings.enabled {
        tracing::warn!("archiving is off: documents are not kept");
        return Ok(None);
    }
    let records = database.records.clone();
    let blobs = archive::Blobs::open(settings.store_url.as_deref(), &settings.data_dir)?;
    let archive = Arc::new(archive::Archive::new(records, blobs, metrics));
    let sweeping = archive.clone();
    tokio::spawn(async move {
        match sweeping.blobs.sweep_incoming(chrono::Duration::days(1)).await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "removed transfers a stopped relay left half-written"),
            Err(error) => tracing::warn!(%error, "cannot sweep the archive's incoming transfers"),
        }
    });
    Ok(Some(archive))
}

/// Sign-in, the access rules and the listening address fit together: a
/// relay reachable beyond loopback has sign-in unless explicitly not, and
/// every rule names a profile that exists.
fn check_access_settings(config: &RelayConfig) -> anyhow::Result<()> {
    if config.sign_in.is_none() {
        anyhow::ensure!(
            config.sessions.redis_url.is_none() && config.sessions.cookie_key.is_none(),
            "[sessions] needs [sign_in]: without sign-in the relay keeps no sessions"
        );
        anyhow::ensure!(
            config.access.is_empty(),
            "[[access]] rules need [sign_in]: without sign-in the relay cannot tell people apart"
        );
        if !config.listen.ip().is_loopback() {
            anyhow::ensure!(
                config.allow_remote_without_sign_in,
                "refusing to listen on {} without sign-in: everyone the allowlist admits could read every \
                 profile. Configure [sign_in], listen on loopback, or set allow_remote_without_sign_in = true",
                config.listen
            );
            tracing::warn!(
                listen = %config.listen,
                "listening beyond loopback WITHOUT sign-in: everyone the allowlist admits can read every profile"
            );
        }
        return Ok(());
    }
    for rule in &config.access {
        anyhow::ensure!(
            config.profile(&rule.profile).is_some(),
            "an [[access]] rule names the profile `{}`, which is not configured",
            rule.profile
        );
    }
    if config.access.is_empty() {
        tracing::warn!("sign-in is on but no [[access]] rule exists: nobody may use any profile");
    }
    Ok(())
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
    tracing::info!("shutting down: no new connections, running downloads may finish");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_without_sign_in_only_when_asked_for() {
        let remote = RelayConfig {
            listen: "192.0.2.10:8080".parse().unwrap(),
            ..RelayConfig::defaults("dist".into())
        };
        assert!(check_access_settings(&remote).is_err());
        let asked = RelayConfig { allow_remote_without_sign_in: true, ..remote };
        assert!(check_access_settings(&asked).is_ok());
        let local =
            RelayConfig { listen: "[::1]:8080".parse().unwrap(), ..RelayConfig::defaults("dist".into()) };
        assert!(check_access_settings(&local).is_ok());
    }
}
