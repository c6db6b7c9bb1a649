use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Everything the relay answers with an error, as `{"error", "detail"}`.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("no such API route")]
    UnknownRoute { path: String },
}

impl RelayError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute { .. } => StatusCode::NOT_FOUND,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::UnknownRoute { path } => format!("the relay has no API at {path}"),
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.to_string(), "detail": self.detail() });
        (self.status(), Json(body)).into_response()
    }
}
