use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{OriginalUri, State},
    routing::get,
};
use billing::ProfileSummary;
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

use crate::{RelayConfig, RelayError};

/// The relay's routes: its JSON API under `/api`, the app everywhere else.
pub fn app(config: RelayConfig) -> Router {
    let app_files =
        ServeDir::new(&config.app_dir).fallback(ServeFile::new(config.app_dir.join("index.html")));
    let api = Router::new()
        .route("/profiles", get(profiles))
        .fallback(unknown_api_route)
        .with_state(Arc::new(config));
    Router::new()
        .nest("/api", api)
        .fallback_service(app_files)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

async fn profiles(State(config): State<Arc<RelayConfig>>) -> Json<Vec<ProfileSummary>> {
    Json(config.profiles.iter().map(|profile| profile.summary()).collect())
}

async fn unknown_api_route(OriginalUri(uri): OriginalUri) -> RelayError {
    RelayError::UnknownRoute { path: uri.path().to_owned() }
}
