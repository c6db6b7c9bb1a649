use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{OriginalUri, State},
    http::{Request, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use billing::ProfileSummary;
use serde_json::json;
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{RelayConfig, RelayError, admission, documents, openapi, security};

/// What every handler shares.
pub struct RelayState {
    pub config: RelayConfig,
    /// The one client to the vendor: no proxies from the environment, no
    /// redirects (a redirect could carry the key elsewhere).
    pub client: reqwest::Client,
    pub limiter: admission::Limiter,
}

/// The relay's routes: health outside the allowlist, its JSON API under
/// `/api`, the app everywhere else; every answer with the security headers.
pub fn app(config: RelayConfig) -> anyhow::Result<Router> {
    let security_headers = security::headers(&config.app_dir)?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.timeouts.connect)
        .build()?;
    let app_files =
        ServeDir::new(&config.app_dir).fallback(ServeFile::new(config.app_dir.join("index.html")));
    let limiter = admission::Limiter::new(config.rate_limit);
    let state = Arc::new(RelayState { config, client, limiter });
    let api = Router::new()
        .route("/profiles", get(profiles))
        .route("/documents/{profile}/{version}/{endpoint}", get(documents::document))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .fallback(unknown_api_route)
        .layer(middleware::from_fn_with_state(state.clone(), admission::limit));
    let admitted = Router::new()
        .nest("/api", api)
        .fallback_service(Router::new().fallback_service(app_files).layer(CompressionLayer::new()))
        .layer(middleware::from_fn_with_state(state.clone(), admission::admit));
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(admitted)
        .with_state(state);
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    let request_ids = Arc::new(AtomicU64::new(1));
    Ok(router.layer(
        TraceLayer::new_for_http()
            .make_span_with(move |request: &Request<_>| {
                let id = request_ids.fetch_add(1, Ordering::Relaxed);
                tracing::info_span!(
                    "request",
                    id,
                    method = %request.method(),
                    path = request.uri().path(),
                    client = tracing::field::Empty,
                )
            })
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    ))
}

async fn profiles(State(state): State<Arc<RelayState>>) -> Json<Vec<ProfileSummary>> {
    Json(state.config.profiles.iter().map(|profile| profile.summary()).collect())
}

async fn unknown_api_route(OriginalUri(uri): OriginalUri) -> RelayError {
    RelayError::UnknownRoute { path: uri.path().chars().take(200).collect() }
}

/// Ready when every profile's vendor host resolves.
async fn ready(State(state): State<Arc<RelayState>>) -> Response {
    let mut unresolved = Vec::new();
    for profile in &state.config.profiles {
        let url = reqwest::Url::parse(&profile.base_url).expect("checked at start-up");
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let resolved =
            tokio::time::timeout(Duration::from_secs(2), tokio::net::lookup_host((host, port))).await;
        let resolves =
            resolved.ok().and_then(Result::ok).is_some_and(|mut addresses| addresses.next().is_some());
        if !resolves {
            unresolved.push(profile.name.clone());
        }
    }
    if unresolved.is_empty() {
        Json(json!({ "ready": true })).into_response()
    } else {
        let body = json!({ "ready": false, "unresolved_profiles": unresolved });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}
