use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Everything the relay answers with an error, as `{"error", "detail"}`:
/// what happened, and what a person can do about it. Internal causes are
/// logged where they happen, never echoed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("no such API route")]
    UnknownRoute { path: String },
    #[error("this address is not on the relay's allowlist")]
    NotAllowlisted { client: String },
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    #[error("unknown profile")]
    UnknownProfile { profile: String },
    #[error("unknown API version")]
    UnknownVersion { profile: String, version: String },
    #[error("unknown endpoint")]
    UnknownEndpoint { profile: String, endpoint: String },
    #[error("bad request parameter")]
    BadParameter { detail: String },
    #[error("the vendor rejected the API key")]
    VendorRejectedKey { profile: String },
    #[error("the vendor refused the relay")]
    VendorRefusedRelay { profile: String, endpoint: String },
    #[error("the vendor failed")]
    VendorFailed { status: StatusCode, detail: String },
    #[error("the vendor answered in the wrong format")]
    VendorWrongFormat { status: StatusCode, detail: String },
    #[error("the vendor cannot be reached")]
    VendorUnreachable { profile: String },
    #[error("the vendor is too slow")]
    VendorTooSlow { profile: String, waited: std::time::Duration },
}

impl RelayError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoute { .. }
            | Self::UnknownProfile { .. }
            | Self::UnknownVersion { .. }
            | Self::UnknownEndpoint { .. } => StatusCode::NOT_FOUND,
            Self::NotAllowlisted { .. } => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadParameter { .. } => StatusCode::BAD_REQUEST,
            Self::VendorRejectedKey { .. }
            | Self::VendorRefusedRelay { .. }
            | Self::VendorFailed { .. }
            | Self::VendorWrongFormat { .. }
            | Self::VendorUnreachable { .. } => StatusCode::BAD_GATEWAY,
            Self::VendorTooSlow { .. } => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::UnknownRoute { path } => format!("the relay has no API at {path}"),
            Self::NotAllowlisted { client } => format!(
                "the relay saw your address as {client}; ask the relay's administrator to add it to the allowlist"
            ),
            Self::RateLimited { retry_after_seconds } => {
                format!("this address sent too many requests; try again in {retry_after_seconds} s")
            }
            Self::UnknownProfile { profile } => format!("the relay has no profile named `{profile}`"),
            Self::UnknownVersion { profile, version } => {
                format!("profile {profile} does not offer API version `{version}`")
            }
            Self::UnknownEndpoint { profile, endpoint } => {
                format!("profile {profile} does not offer the endpoint `{endpoint}`")
            }
            Self::BadParameter { detail }
            | Self::VendorFailed { detail, .. }
            | Self::VendorWrongFormat { detail, .. } => detail.clone(),
            Self::VendorRejectedKey { profile } => format!(
                "the vendor answered 401 to profile {profile}'s API key: it may have expired or been revoked; \
                 generate a new key in the vendor's portal and update the relay's configuration"
            ),
            Self::VendorRefusedRelay { profile, endpoint } => format!(
                "the vendor answered 403 to profile {profile}: the relay's IP address is not on the key's \
                 whitelist, or the key lacks permission for {endpoint}; check both in the vendor's portal"
            ),
            Self::VendorUnreachable { profile } => {
                format!("the relay could not connect to the vendor for profile {profile}; try again later")
            }
            Self::VendorTooSlow { profile, waited } => format!(
                "the vendor did not answer profile {profile} within {:.1} s; try a shorter date range",
                waited.as_secs_f64()
            ),
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.to_string(), "detail": self.detail() });
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::RateLimited { retry_after_seconds } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}
