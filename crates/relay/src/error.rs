use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use billing::{
    Role,
    api::{ErrorBody, ErrorCode, RequestError, routes},
};

/// Everything the relay answers with an error, as `{"code", "error",
/// "detail"}`: what happened, and what a person can do about it. Internal
/// causes are logged where they happen, never echoed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("no such API route")]
    UnknownRoute { path: String },
    #[error("this address is not on the relay's allowlist")]
    NotAllowlisted { client: String },
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    #[error("sign-in required")]
    SignInRequired,
    /// A bearer token that is not the provider's, not for this relay, or old.
    #[error("the access token is not accepted")]
    TokenInvalid { reason: &'static str, audience: String },
    /// The session store cannot be reached, so no session can be checked;
    /// as a page when a person navigated to a sign-in route.
    #[error("sessions are unavailable")]
    SessionsUnavailable { page: bool },
    /// The provider's keys cannot be fetched, so no token can be checked.
    #[error("access tokens cannot be checked")]
    TokenKeysUnavailable,
    #[error("no access to this profile")]
    ProfileForbidden { profile: String, account: String, contact: String },
    #[error("refused: the request came from another site")]
    CrossSiteRequest,
    /// A back-channel logout whose token the relay does not accept.
    #[error("the logout token is not accepted")]
    LogoutTokenRefused { reason: &'static str },
    /// `Host` (or the request target) names something other than the relay.
    #[error("the relay does not answer to this host name")]
    HostNotAllowed { host: String },
    /// The browser came back from the provider, but not with a sign-in the
    /// relay can accept; answered as a page, since a person is looking.
    #[error("sign-in failed")]
    SignInFailed { reason: String },
    /// The provider could not be reached or described itself wrongly.
    #[error("sign-in is unavailable")]
    SignInUnavailable,
    #[error("unknown profile")]
    UnknownProfile { profile: String },
    #[error("unknown API version")]
    UnknownVersion { profile: String, version: String },
    #[error("unknown endpoint")]
    UnknownEndpoint { profile: String, endpoint: String },
    #[error("unknown subscription")]
    UnknownSubscription { profile: String, subscription: String },
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
    #[error("no such archived document")]
    ArchivedDocumentNotFound { id: String },
    #[error("the archived document is damaged")]
    ArchivedDocumentDamaged { id: i64 },
    #[error("the archive is unavailable")]
    ArchiveUnavailable { cause: &'static str },
    #[error("your role does not allow this")]
    RoleForbidden { profile: String, role: Role, needed: Role, doing: &'static str },
    /// `current` is what the relay keeps now, as its route answers it.
    #[error("someone else changed this first")]
    DecisionConflict { base_version: u64, current_version: u64, current: serde_json::Value },
    #[error("the month is signed off")]
    MonthSignedOff { month: String, by: String, current: serde_json::Value },
    #[error("the shared decisions are unavailable")]
    DecisionsUnavailable,
    #[error("the scheduled runs are unavailable")]
    RunsUnavailable,
}

impl RelayError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownRoute { .. } => ErrorCode::UnknownRoute,
            Self::NotAllowlisted { .. } => ErrorCode::NotAllowlisted,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::SignInRequired | Self::SignInFailed { .. } | Self::SignInUnavailable => {
                ErrorCode::SignInRequired
            }
            Self::TokenInvalid { .. } | Self::LogoutTokenRefused { .. } => ErrorCode::TokenInvalid,
            Self::SessionsUnavailable { .. } | Self::TokenKeysUnavailable => ErrorCode::SignInUnavailable,
            Self::ProfileForbidden { .. } => ErrorCode::ProfileForbidden,
            Self::CrossSiteRequest => ErrorCode::CrossSiteRequest,
            Self::HostNotAllowed { .. } => ErrorCode::HostNotAllowed,
            Self::UnknownProfile { .. } => ErrorCode::UnknownProfile,
            Self::UnknownVersion { .. } => ErrorCode::UnknownVersion,
            Self::UnknownEndpoint { .. } => ErrorCode::UnknownEndpoint,
            Self::UnknownSubscription { .. } => ErrorCode::UnknownSubscription,
            Self::BadParameter { .. } => ErrorCode::BadParameter,
            Self::VendorRejectedKey { .. } => ErrorCode::VendorRejectedKey,
            Self::VendorRefusedRelay { .. } => ErrorCode::VendorRefusedRelay,
            Self::VendorFailed { .. } => ErrorCode::VendorFailed,
            Self::VendorWrongFormat { .. } => ErrorCode::VendorWrongFormat,
            Self::VendorUnreachable { .. } => ErrorCode::VendorUnreachable,
            Self::VendorTooSlow { .. } => ErrorCode::VendorTooSlow,
            Self::ArchivedDocumentNotFound { .. } => ErrorCode::ArchivedDocumentNotFound,
            Self::ArchivedDocumentDamaged { .. } => ErrorCode::ArchivedDocumentDamaged,
            Self::ArchiveUnavailable { .. } => ErrorCode::ArchiveUnavailable,
            Self::RoleForbidden { .. } => ErrorCode::RoleForbidden,
            Self::DecisionConflict { .. } => ErrorCode::DecisionConflict,
            Self::MonthSignedOff { .. } => ErrorCode::MonthSignedOff,
            Self::DecisionsUnavailable => ErrorCode::DecisionsUnavailable,
            Self::RunsUnavailable => ErrorCode::RunsUnavailable,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::SignInRequired | Self::TokenInvalid { .. } => StatusCode::UNAUTHORIZED,
            Self::SessionsUnavailable { .. } | Self::TokenKeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ProfileForbidden { .. } | Self::CrossSiteRequest | Self::RoleForbidden { .. } => {
                StatusCode::FORBIDDEN
            }
            Self::DecisionConflict { .. } | Self::MonthSignedOff { .. } => StatusCode::CONFLICT,
            Self::DecisionsUnavailable | Self::RunsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::SignInFailed { .. } | Self::LogoutTokenRefused { .. } => StatusCode::BAD_REQUEST,
            Self::HostNotAllowed { .. } => StatusCode::MISDIRECTED_REQUEST,
            Self::SignInUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::UnknownRoute { .. }
            | Self::UnknownProfile { .. }
            | Self::UnknownVersion { .. }
            | Self::UnknownEndpoint { .. }
            | Self::UnknownSubscription { .. }
            | Self::ArchivedDocumentNotFound { .. } => StatusCode::NOT_FOUND,
            Self::ArchivedDocumentDamaged { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ArchiveUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
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

    pub(crate) fn detail(&self) -> String {
        match self {
            Self::UnknownRoute { path } => format!("the relay has no API at {path}"),
            Self::NotAllowlisted { client } => format!(
                "the relay saw your address as {client}; ask the relay's administrator to add it to the allowlist"
            ),
            Self::RateLimited { retry_after_seconds } => {
                format!("this address sent too many requests; try again in {retry_after_seconds} s")
            }
            Self::SignInRequired => {
                "sign in to use the relay; a session ends after a while unused, or at the latest \
                 some hours after signing in"
                    .to_owned()
            }
            Self::TokenInvalid { reason, audience } => format!(
                "{reason}; ask the sign-in provider for a new access token with the audience {audience}"
            ),
            Self::SessionsUnavailable { .. } => {
                "the relay cannot reach its session store, so it cannot tell who is signed in; \
                 try again in a minute, and if it lasts tell the relay's administrator"
                    .to_owned()
            }
            Self::TokenKeysUnavailable => {
                "the relay cannot fetch the sign-in provider's keys, so it cannot check access tokens; \
                 try again in a few minutes"
                    .to_owned()
            }
            Self::ProfileForbidden { profile, account, contact } => format!(
                "your account ({account}) has no access to profile {profile}; ask {contact} to add you \
                 to its access rules"
            ),
            Self::CrossSiteRequest => {
                "this action is only taken from the relay's own pages; go back to the portal and try again"
                    .to_owned()
            }
            Self::HostNotAllowed { host } if host.is_empty() => {
                "the request named no host; the relay answers only requests sent to one of its own names"
                    .to_owned()
            }
            Self::HostNotAllowed { host } => format!(
                "the relay does not answer to the name `{host}`; if it is reached under this name on purpose, \
                 ask its administrator to add the name to allowed_hosts"
            ),
            Self::LogoutTokenRefused { reason } => {
                format!("{reason}; no session was ended (OpenID Connect Back-Channel Logout 1.0)")
            }
            Self::SignInFailed { reason } => {
                format!("{reason}; sign in again, and if it keeps failing tell the relay's administrator")
            }
            Self::SignInUnavailable => {
                "the relay cannot reach the sign-in provider right now; try again in a few minutes".to_owned()
            }
            Self::UnknownProfile { profile } => format!("the relay has no profile named `{profile}`"),
            Self::UnknownVersion { profile, version } => {
                format!("profile {profile} does not offer API version `{version}`")
            }
            Self::UnknownEndpoint { profile, endpoint } => {
                format!("profile {profile} does not offer the endpoint `{endpoint}`")
            }
            Self::UnknownSubscription { profile, subscription } => format!(
                "the vendor has no subscription `{subscription}` for profile {profile}; check the id against \
                 the subscription list in the vendor's portal or on an invoice line"
            ),
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
            Self::ArchivedDocumentNotFound { id } => format!(
                "the archive has no document `{id}` that you may see; it may belong to a profile your access \
                 rules do not name, or have passed its retention period"
            ),
            Self::ArchivedDocumentDamaged { id } => format!(
                "archived document {id} no longer matches the SHA-256 taken when it was archived, so it is not \
                 shown; ask the relay's administrator to restore it from a backup, and fetch it from the vendor \
                 meanwhile"
            ),
            Self::ArchiveUnavailable { cause } => {
                format!(
                    "the archive cannot be used right now: {cause}; live fetches from the vendor still work"
                )
            }
            Self::RoleForbidden { profile, role, needed, doing } => format!(
                "your role on profile {profile} is {}, and {doing} needs {}; ask the relay's administrator \
                 to give you that role in the profile's access rules",
                role.name(),
                needed.name()
            ),
            Self::DecisionConflict { base_version, current_version, .. } => format!(
                "your change was made on version {base_version}, and someone has since saved version \
                 {current_version}; nothing of theirs or yours was overwritten: look at theirs (in `current`) \
                 and apply yours again if it still stands"
            ),
            Self::MonthSignedOff { month, by, .. } => format!(
                "{month} was signed off by {by}, so its decisions are read-only; someone with the approve role \
                 can reopen it, giving a reason"
            ),
            Self::DecisionsUnavailable => "the relay cannot reach its database, so shared decisions can be \
                 neither read nor saved right now; nothing was changed; try again in a minute"
                .to_owned(),
            Self::RunsUnavailable => {
                "the relay cannot reach its database, so the scheduled runs cannot be listed right now; \
                 try again in a minute"
                    .to_owned()
            }
            Self::VendorTooSlow { profile, waited } => format!(
                "the vendor did not answer profile {profile} within {:.1} s; try a shorter date range",
                waited.as_secs_f64()
            ),
        }
    }
}

impl From<RequestError> for RelayError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::UnknownVersion { profile, version } => Self::UnknownVersion { profile, version },
            RequestError::UnknownEndpoint { profile, endpoint } => {
                Self::UnknownEndpoint { profile, endpoint }
            }
            other => Self::BadParameter { detail: other.to_string() },
        }
    }
}

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        if matches!(
            self,
            Self::SignInFailed { .. } | Self::SignInUnavailable | Self::SessionsUnavailable { page: true }
        ) {
            return (self.status(), sign_in_problem_page(&self.to_string(), &self.detail())).into_response();
        }
        let body = ErrorBody {
            code: self.code(),
            error: self.to_string(),
            detail: self.detail(),
            sign_in_url: matches!(self, Self::SignInRequired).then(|| routes::SIGN_IN.to_owned()),
            current: match &self {
                Self::DecisionConflict { current, .. } | Self::MonthSignedOff { current, .. } => {
                    Some(current.clone())
                }
                _ => None,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        // For the metrics, which count refusals by code.
        response.extensions_mut().insert(self.code());
        match &self {
            Self::RateLimited { retry_after_seconds } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            // RFC 6750: the scheme, and why, for clients that read headers only.
            Self::TokenInvalid { reason, .. } => {
                let challenge = format!(
                    "Bearer realm=\"billing-relay\", error=\"invalid_token\", error_description=\"{reason}\""
                );
                if let Ok(challenge) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
                }
            }
            _ => {}
        }
        response
    }
}

/// A plain page for a failed sign-in: the person arrived by navigation,
/// not through the app, and needs a way back in.
fn sign_in_problem_page(title: &str, detail: &str) -> Html<String> {
    crate::pages::page(
        title,
        &format!("<p>{}</p>{}", crate::pages::escape(detail), crate::pages::sign_in_link("Sign in again")),
    )
}

/// An error in words with its causes after it, for the log. Ours and our
/// libraries' errors name no secret; a vendor's connect error names its
/// host, not the URL.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut words = error.to_string();
    for cause in causes(error) {
        words.push_str(": ");
        words.push_str(&cause.to_string());
    }
    words
}

/// What `error` says it was caused by, nearest first.
pub fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(error.source(), |cause| cause.source())
}
