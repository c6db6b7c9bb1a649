//! HTTP calls to the relay that served this page.

use billing::ProfileSummary;
use gloo_net::http::Request;
use serde::Deserialize;

/// Why a call to the relay failed, in words a person can act on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("the relay could not be reached: {0}")]
    Network(String),
    #[error("the relay answered {status}: {message}")]
    Relay { status: u16, message: String },
    #[error("the relay's answer could not be read: {0}")]
    Decode(String),
}

/// The relay's JSON error body.
#[derive(Deserialize)]
struct RelayErrorBody {
    error: String,
    #[serde(default)]
    detail: Option<String>,
}

/// The vendor API keys the relay offers, described without the keys.
pub async fn fetch_profiles() -> Result<Vec<ProfileSummary>, ApiError> {
    let response =
        Request::get("/api/profiles").send().await.map_err(|error| ApiError::Network(error.to_string()))?;
    if !response.ok() {
        let status = response.status();
        let message = match response.json::<RelayErrorBody>().await {
            Ok(RelayErrorBody { error, detail: Some(detail) }) => format!("{error} ({detail})"),
            Ok(RelayErrorBody { error, detail: None }) => error,
            Err(_) => response.status_text(),
        };
        return Err(ApiError::Relay { status, message });
    }
    response.json().await.map_err(|error| ApiError::Decode(error.to_string()))
}
