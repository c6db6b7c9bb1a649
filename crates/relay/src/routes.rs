use std::{sync::Arc, time::Duration};

use axum::{
    Extension, Json, Router,
    extract::{OriginalUri, State},
    http::{StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post, put},
};
use billing::{ProfileSummary, api::routes};
use bytes::Bytes;
use secrecy::ExposeSecret;
use serde_json::json;
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::{
    RelayConfig, RelayError,
    admission::{self, Admission},
    archive::{self, routes::MaybeArchive},
    auth::{
        backchannel,
        provider::SignIn,
        sessions::{MemorySessions, RedisSessions, Store},
        sign_in, sign_out,
        state::Auth,
    },
    decisions,
    documents::{self, Forwarding},
    entry::Entry,
    hosts::AllowedHosts,
    identity::Caller,
    observe::metrics::{self, Metrics, MetricsAccess},
    openapi, schedule, security,
    state::{RelayState, StateParts},
    store::Database,
};

/// What a relay serves: its routes, the metrics' own router when they have
/// an address of their own, and its jobs when it has any.
pub struct Serving {
    pub app: Router,
    pub metrics: Option<Router>,
    pub scheduler: Option<schedule::Scheduler>,
}

/// The relay's routes: health outside the allowlist, its JSON API under
/// `/api` (behind sign-in when configured), sign-in under `/auth`, the app
/// everywhere else; every answer with the security headers, and none to a
/// request sent to a name that is not the relay's. Metrics are at
/// `/metrics` unless configured on an address of their own, when they
/// come as a second router.
pub fn routers(
    mut config: RelayConfig,
    metrics: Arc<Metrics>,
    database: &Database,
    archive: MaybeArchive,
) -> anyhow::Result<Serving> {
    let hosts = Arc::new(AllowedHosts::new(
        config.sign_in.as_ref().map(|sign_in| &sign_in.public_url),
        std::mem::take(&mut config.allowed_hosts),
    ));
    let form_targets: Vec<String> = config
        .sign_in
        .iter()
        .filter_map(|sign_in| reqwest::Url::parse(&sign_in.issuer_url).ok())
        .map(|issuer| issuer.origin().ascii_serialization())
        .collect();
    let security_headers = security::headers(&config.app_dir, &form_targets)?;
    // `cargo xtask` writes a .br and a .gz beside each file; a directory
    // built without them is compressed per answer instead.
    let app_files = ServeDir::new(&config.app_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(config.app_dir.join("index.html")).precompressed_br().precompressed_gzip());
    let limiter = admission::Limiter::new(config.rate_limit);
    let sign_in =
        config.sign_in.take().map(|sign_in| SignIn::new(sign_in, config.timeouts.connect)).transpose()?;
    let store = sign_in.as_ref().map(|_| session_store(&config.sessions)).transpose()?;
    let sessions = sign_in
        .as_ref()
        .zip(store.clone())
        .map(|(sign_in, store)| session_layer(&sign_in.config, &config.sessions, store))
        .transpose()?;
    // `/metrics` on the relay's address, or on a router of its own for its own address.
    let (metrics_here, metrics_router) = match &config.metrics {
        Some(settings) => {
            let access =
                MetricsAccess { metrics: metrics.clone(), allowlist: settings.allowlist.clone().into() };
            if settings.listen.is_some() {
                let own = metrics_routes(access).layer(Entry::new(
                    hosts.clone(),
                    security_headers.clone(),
                    metrics.clone(),
                ));
                (None, Some(own))
            } else {
                (Some(metrics_routes(access)), None)
            }
        }
        None => (None, None),
    };
    let config = Arc::new(config);
    let admission = Arc::new(Admission {
        allowlist: config.allowlist.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        limiter,
        sign_in: sign_in.is_some(),
    });
    let auth = Arc::new(Auth { config: config.clone(), sign_in, sessions: store, metrics: metrics.clone() });
    let forwarding = Arc::new(Forwarding::new(config.clone(), metrics.clone(), archive.clone())?);
    let decisions = Arc::new(decisions::Shared {
        decisions: database.decisions.clone(),
        records: database.records.clone(),
    });
    let scheduler = (!config.schedule.is_empty())
        .then(|| {
            let runner = schedule::runner(config.clone(), forwarding.clone(), database, decisions.clone());
            schedule::Scheduler::new(runner, config.schedule_check)
        })
        .transpose()?;
    let state = RelayState::new(StateParts {
        config,
        admission,
        auth,
        forwarding,
        archive,
        decisions,
        runs: database.runs.clone(),
    });
    if state.auth.sign_in.is_some()
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        // A wrong issuer shows in the log at start, not at the first sign-in.
        let auth = state.auth.clone();
        runtime.spawn(async move {
            if let Some(sign_in) = &auth.sign_in {
                sign_in.check_provider().await;
            }
        });
    }
    let served =
        openapi::Served { sign_in: state.auth.sign_in.is_some(), metrics_here: metrics_here.is_some() };
    // Written once: it only changes with the configuration.
    let description = Bytes::from(serde_json::to_vec(&openapi::document(served))?);
    let api = Router::new()
        .route("/profiles", get(profiles))
        .route("/me", get(sign_in::me))
        .route("/documents/{profile}/{version}/{endpoint}", get(documents::document))
        .route("/archive", get(archive::routes::list))
        .route("/archive/receipts/{request_id}", get(archive::routes::receipt))
        .route("/archive/{id}", get(archive::routes::open))
        .route("/runs", get(schedule::routes::list))
        .route(
            "/profiles/{profile}/settings",
            get(decisions::routes::get_settings).put(decisions::routes::put_settings),
        )
        .route("/profiles/{profile}/settings/history", get(decisions::routes::settings_history))
        .route(
            "/profiles/{profile}/reviews/{month}",
            get(decisions::routes::month_decisions).put(decisions::routes::put_review),
        )
        .route("/profiles/{profile}/reviews/{month}/history", get(decisions::routes::review_history))
        .route("/profiles/{profile}/sign-off/{month}", put(decisions::routes::put_sign_off))
        .route("/profiles/{profile}/events", get(decisions::events::events))
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], description.clone()) }),
        )
        .fallback(unknown_api_route);
    let (api, auth) = match sessions {
        Some(sessions) => (
            api.layer(middleware::from_fn_with_state(state.auth.clone(), sign_in::require_session))
                .layer(sessions.clone())
                .layer(middleware::from_fn_with_state(false, explain_failed_session_saves))
                .layer(middleware::from_fn(sign_in::tokens_without_sessions)),
            Router::new()
                .route(routes::SIGN_IN, get(sign_in::start))
                .route(routes::SIGN_IN_CALLBACK, get(sign_in::finish))
                .route(routes::SIGN_OUT, post(sign_out::sign_out))
                .route(routes::SIGNED_OUT, get(sign_out::signed_out))
                .layer(sessions)
                .layer(middleware::from_fn_with_state(true, explain_failed_session_saves)),
        ),
        // Admission tells the routes the caller, and rations and marks their
        // answers, in its one layer.
        None => (api, Router::new()),
    };
    // Sign-in's and the metrics' paths are the relay's, configured or not:
    // never the app's page.
    let mut unconfigured = Router::new().route("/auth/{*rest}", any(unknown_api_route));
    if !served.metrics_here {
        unconfigured = unconfigured.route("/metrics", any(unknown_api_route));
    }
    let admitted = Router::new()
        // `nest` leaves `/api/` itself to the app; it is an API path like the rest.
        .route_service("/api/", api.clone().with_state(state.clone()))
        .nest("/api", api)
        .merge(auth)
        .merge(unconfigured)
        .fallback_service(
            Router::new()
                .fallback_service(app_files)
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(cache_app_files)),
        )
        .layer(middleware::from_fn_with_state(state.admission.clone(), admission::admit));
    // The provider calls from wherever it runs, not from the allowlist;
    // only a logout token it signed is acted on.
    let back_channel = Router::new()
        .route(routes::BACK_CHANNEL_LOGOUT, post(backchannel::logout))
        .layer(middleware::from_fn(sign_in::no_store));
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(if state.auth.sign_in.is_some() { back_channel } else { Router::new() })
        .merge(metrics_here.unwrap_or_default())
        .merge(admitted)
        .with_state(state);
    let router = router.layer(Entry::new(hosts, security_headers, metrics));
    Ok(Serving { app: router, metrics: metrics_router, scheduler })
}

/// `/metrics` alone, for the relay's address or the metrics' own.
fn metrics_routes<S: Clone + Send + Sync + 'static>(access: MetricsAccess) -> Router<S> {
    Router::new().route("/metrics", get(metrics::serve)).with_state(access)
}

/// The session cookie: a signed random id, HttpOnly, Lax (Strict would
/// drop it on the way back from the provider), Secure and `__Host-` on https.
fn session_layer(
    sign_in: &crate::config::SignInConfig,
    sessions: &crate::config::SessionsConfig,
    store: Store,
) -> anyhow::Result<SessionManagerLayer<Store, tower_sessions::service::SignedCookie>> {
    let secure = sign_in.is_https();
    let idle = time::Duration::try_from(sign_in.session_idle).unwrap_or(time::Duration::hours(8));
    let key = match &sessions.cookie_key {
        Some(key) => tower_sessions::cookie::Key::try_from(key.expose_secret().as_bytes())
            .map_err(|_| anyhow::anyhow!("sessions: the cookie_key must be at least 64 bytes"))?,
        None => tower_sessions::cookie::Key::generate(),
    };
    Ok(SessionManagerLayer::new(store)
        .with_name(if secure { "__Host-billing_session" } else { "billing_session" })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        // Saved when changed; a session in use is renewed now and then
        // (`sign_in::renew_when_due`), so the idle lifetime counts from use.
        .with_always_save(false)
        .with_signed(key))
}

/// Redis when configured, else this relay's memory.
fn session_store(sessions: &crate::config::SessionsConfig) -> anyhow::Result<Store> {
    Ok(match &sessions.redis_url {
        Some(url) => Store::Redis(RedisSessions::new(url.expose_secret())?),
        None => Store::Memory(MemorySessions::default()),
    })
}

/// tower-sessions answers a session it could not save with a bare 500;
/// the relay's own answers always have a body, so such a 500 is that. On
/// the sign-in routes a person is looking, so they get a `page`.
async fn explain_failed_session_saves(
    State(page): State<bool>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(axum::http::header::CONTENT_TYPE)
    {
        tracing::error!("the session store failed to save a session");
        return RelayError::SessionsUnavailable { page }.into_response();
    }
    response
}

/// A file whose path holds its content's hash (trunk's `main-be810891b7b22ad2.css`,
/// the split app's `app-0a1b2c3d4e5f6a7b/chunk_8.wasm`) never changes under
/// that path: kept a year without asking again. The rest (index.html, the
/// worker's unhashed files) is asked about each time.
async fn cache_app_files(request: axum::extract::Request, next: middleware::Next) -> Response {
    let hashed = request.uri().path().split('/').any(is_content_hashed);
    let mut response = next.run(request).await;
    // A hashed name the build no longer has falls back to the page: not kept.
    let the_file = response.status().is_success()
        && !response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|media_type| media_type.as_bytes().starts_with(b"text/html"));
    let policy = if hashed && the_file { "public, max-age=31536000, immutable" } else { "no-cache" };
    response
        .headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static(policy));
    response
}

/// Whether a file or directory name carries a content hash: `-` and 16 hex
/// digits at its end or before its extension or `_bg`.
fn is_content_hashed(name: &str) -> bool {
    name.match_indices('-').any(|(at, _)| {
        let rest = &name.as_bytes()[at + 1..];
        rest.len() >= 16
            && rest[..16].iter().all(u8::is_ascii_hexdigit)
            && matches!(rest.get(16), None | Some(b'.' | b'_'))
    })
}

/// The profiles the caller may use.
async fn profiles(
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
) -> Json<Vec<ProfileSummary>> {
    Json(auth.allowed_profiles(&caller).map(|(profile, role)| profile.summary(role)).collect())
}

async fn unknown_api_route(OriginalUri(uri): OriginalUri) -> RelayError {
    RelayError::UnknownRoute { path: uri.path().chars().take(200).collect() }
}

/// Ready when every profile's vendor host resolves.
async fn ready(State(config): State<Arc<RelayConfig>>) -> Response {
    let mut unresolved = Vec::new();
    for profile in &config.profiles {
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

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn hashed_names_are_told_from_the_rest() {
        for hashed in [
            "app-0a1b2c3d4e5f6a7b",
            "billing-portal-d30663ca5173cb52.js",
            "billing-portal-d30663ca5173cb52_bg.wasm",
            "main-be810891b7b22ad2.css",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for unhashed in [
            "index.html",
            "worker.js",
            "worker_bg.wasm",
            "worker_loader.js",
            "billing-portal-d30663.js",
            "a-d30663ca5173cb5z.js",
            "app-0a1b2c3d4e5f6a7b9",
            "chunk_8.wasm",
            "__wasm_split.js",
        ] {
            assert!(!is_content_hashed(unhashed), "{unhashed}");
        }
    }
}
