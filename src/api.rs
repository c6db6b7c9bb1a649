//! HTTP calls to the relay that served this page, and what its errors mean
//! to a person.

use billing::{
    ProfileSummary,
    api::{
        ArchivePage, ArchiveQuery, ArchiveReceipt, ArchivedDocument, DocumentRequest, ErrorBody, ErrorCode,
        Me,
        decisions::{
            InvoiceMonth, MonthDecisions, Review, ReviewChange, ReviewHistoryEntry, SettingsChange,
            SharedSettings, SignOff, SignOffChange, paths,
        },
        routes,
        runs::{RunsPage, RunsQuery},
    },
};
use gloo_net::http::Request;

/// Why a call to the relay failed, in words a person can act on.
#[derive(Clone, Debug, PartialEq)]
pub struct RelayProblem {
    pub status: u16,
    /// `None` when the relay sent something other than its own error.
    pub code: Option<ErrorCode>,
    pub title: String,
    /// The relay's own detail, e.g. the address it saw.
    pub detail: String,
    pub advice: String,
}

impl RelayProblem {
    /// Whether signing in (again) is the way on.
    pub fn needs_sign_in(&self) -> bool {
        self.code == Some(ErrorCode::SignInRequired)
    }
}

/// A title and advice for each of the relay's error codes.
fn explain(code: ErrorCode) -> (&'static str, &'static str) {
    match code {
        ErrorCode::NotAllowlisted => (
            "Your address is not allowed to use this relay",
            "Ask the relay's administrator to add your address (shown above) to its allowlist.",
        ),
        ErrorCode::SignInRequired => (
            "Please sign in",
            "Your session has ended, or you have not signed in yet. Sign in to carry on where you were.",
        ),
        ErrorCode::TokenInvalid => (
            "The relay did not accept the access token",
            "Ask the sign-in provider for a new token for this relay, or sign in in the browser.",
        ),
        ErrorCode::SignInUnavailable => (
            "The relay cannot check sign-ins right now",
            "Try again in a minute; if it lasts, tell the portal's administrator.",
        ),
        ErrorCode::ProfileForbidden => (
            "Your account has no access to this profile",
            "Choose another profile, or ask for access as the message above says.",
        ),
        ErrorCode::CrossSiteRequest => (
            "The relay refused a request from another site",
            "Go back to the portal and try again from there.",
        ),
        ErrorCode::HostNotAllowed => (
            "The relay does not answer to this address",
            "Open the portal at the address your administrator gave you; if this is it, ask them to add it to the relay's allowed_hosts.",
        ),
        ErrorCode::UnknownRoute
        | ErrorCode::UnknownProfile
        | ErrorCode::UnknownVersion
        | ErrorCode::UnknownEndpoint => (
            "The relay no longer offers this choice",
            "Reload the page to see the profiles, versions and endpoints it offers now.",
        ),
        ErrorCode::UnknownSubscription => (
            "The vendor has no subscription with this id",
            "Check the id: it is on the invoice lines of the subscription, or in the vendor's portal.",
        ),
        ErrorCode::BadParameter => ("The relay refused the query", "Correct the query and fetch again."),
        ErrorCode::VendorRejectedKey => (
            "The vendor rejected this profile's API key",
            "The key may have expired or been revoked. Ask the administrator to generate a new key in the vendor's portal and put it in the relay's configuration.",
        ),
        ErrorCode::VendorRefusedRelay => (
            "The vendor refused the relay",
            "The relay's IP address is not on the key's whitelist, or the key lacks permission for this endpoint. The administrator can check both in the vendor's portal.",
        ),
        ErrorCode::VendorFailed => {
            ("The vendor's service failed", "This is on the vendor's side; try again in a few minutes.")
        }
        ErrorCode::VendorWrongFormat => (
            "The vendor sent something other than the document",
            "Often a maintenance page; try again later.",
        ),
        ErrorCode::VendorUnreachable => (
            "The vendor cannot be reached",
            "The vendor's service is down or unreachable from the relay; try again later.",
        ),
        ErrorCode::VendorTooSlow => {
            ("The vendor took too long to answer", "Try a shorter date range, or try again later.")
        }
        ErrorCode::RateLimited => ("Too many requests from your address", "Wait a moment, then fetch again."),
        ErrorCode::ArchivedDocumentNotFound => (
            "The archive has no such document for you",
            "It may have passed its retention period, or belong to a profile you cannot use. Fetch it from the vendor instead.",
        ),
        ErrorCode::ArchivedDocumentDamaged => (
            "The archived copy is damaged and is not shown",
            "Its bytes no longer match the fingerprint taken when it was archived. Tell the relay's administrator, who can restore it from a backup; fetch it from the vendor meanwhile.",
        ),
        ErrorCode::ArchiveUnavailable => (
            "The archive cannot be reached right now",
            "Its database or storage is down. Fetch from the vendor meanwhile, and tell the relay's administrator if it lasts.",
        ),
        ErrorCode::RoleForbidden => (
            "Your role does not allow this",
            "Marks and settings need the review role, a sign-off the approve role. Ask the relay's administrator.",
        ),
        ErrorCode::DecisionConflict => (
            "Someone else changed this first",
            "Nothing was overwritten. Look at their decision, then apply yours again if it still stands.",
        ),
        ErrorCode::MonthSignedOff => (
            "This month is signed off",
            "Its decisions are read-only. Someone with the approve role can reopen it, giving a reason.",
        ),
        ErrorCode::DecisionsUnavailable => (
            "Shared decisions cannot be reached right now",
            "The relay's database is down; nothing was changed. Try again in a minute.",
        ),
        ErrorCode::RunsUnavailable => (
            "Scheduled runs cannot be listed right now",
            "The relay's database is down. Try again in a minute.",
        ),
    }
}

/// Reads the relay's `{"code","error","detail"}` answer into a problem with
/// advice; any other body is shown as the relay sent it.
pub fn relay_problem(status: u16, body: &str) -> RelayProblem {
    let Ok(ErrorBody { code, detail, .. }) = serde_json::from_str::<ErrorBody>(body) else {
        let shown: String = body.chars().take(300).collect();
        return RelayProblem {
            status,
            code: None,
            title: format!("The relay answered {status}"),
            detail: shown,
            advice: "Try again; if it persists, tell the relay's administrator.".to_owned(),
        };
    };
    let (title, advice) = explain(code);
    RelayProblem { status, code: Some(code), title: title.to_owned(), detail, advice: advice.to_owned() }
}

/// The sign-in link that brings the browser back to the page as it is now,
/// query and all.
pub fn sign_in_here() -> String {
    let location = web_sys::window().map(|window| window.location());
    let here = location
        .map(|location| {
            format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
        })
        .unwrap_or_else(|| "/".to_owned());
    routes::sign_in_returning_to(&here)
}

fn unreachable(message: String) -> RelayProblem {
    RelayProblem {
        status: 0,
        code: None,
        title: "The relay cannot be reached".to_owned(),
        detail: message,
        advice: "Check your connection and reload the page.".to_owned(),
    }
}

/// GETs one of the relay's JSON answers.
async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, RelayProblem> {
    let response = Request::get(path).send().await.map_err(|error| unreachable(error.to_string()))?;
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        return Err(relay_problem(response.status(), &body));
    }
    response.json().await.map_err(|error| unreachable(error.to_string()))
}

/// Who is signed in and which profiles they may use.
pub async fn fetch_me() -> Result<Me, RelayProblem> {
    get_json(routes::ME).await
}

/// The vendor API keys the relay offers, described without the keys.
pub async fn fetch_profiles() -> Result<Vec<ProfileSummary>, RelayProblem> {
    get_json(routes::PROFILES).await
}

/// One page of the archive's list.
pub async fn fetch_archive(query: &ArchiveQuery) -> Result<ArchivePage, RelayProblem> {
    get_json(&query.path()).await
}

/// The scheduled runs the query asks for, newest first.
pub async fn fetch_runs(query: &RunsQuery) -> Result<RunsPage, RelayProblem> {
    get_json(&query.path()).await
}

/// The newest archived copy of exactly `request`, if the archive has one.
pub async fn archived_copy(request: &DocumentRequest) -> Result<Option<ArchivedDocument>, RelayProblem> {
    Ok(fetch_archive(&ArchiveQuery::matching(request)).await?.newest_copy_of(request).cloned())
}

/// The archive's copy number `id` among those `query` lists; `None` when
/// it is not on that first page.
pub async fn archived_copy_numbered(
    query: &ArchiveQuery,
    id: i64,
) -> Result<Option<ArchivedDocument>, RelayProblem> {
    let page = fetch_archive(query).await?;
    Ok(page.documents.into_iter().find(|document| document.id == id))
}

/// Why the relay did not keep a change.
#[derive(Clone, Debug, PartialEq)]
pub enum Refused<T> {
    /// Someone saved another version first: what is kept now (`None`: nothing).
    Conflict(Option<T>),
    /// The month is signed off.
    SignedOff(SignOff),
    Problem(RelayProblem),
}

/// PUTs `body` as JSON and reads the answer; a 409 comes with what the
/// relay keeps now.
async fn put_json<T: serde::de::DeserializeOwned>(
    path: &str,
    body: &impl serde::Serialize,
) -> Result<T, Refused<T>> {
    let request =
        Request::put(path).json(body).map_err(|error| Refused::Problem(unreachable(error.to_string())))?;
    let response = request.send().await.map_err(|error| Refused::Problem(unreachable(error.to_string())))?;
    if response.ok() {
        return response.json().await.map_err(|error| Refused::Problem(unreachable(error.to_string())));
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let problem = relay_problem(status, &body);
    let current = serde_json::from_str::<ErrorBody>(&body).ok().and_then(|body| body.current);
    Err(match (problem.code, current) {
        (Some(ErrorCode::DecisionConflict), Some(current)) => {
            Refused::Conflict(serde_json::from_value(current).ok())
        }
        (Some(ErrorCode::MonthSignedOff), Some(current)) => match serde_json::from_value(current) {
            Ok(sign_off) => Refused::SignedOff(sign_off),
            Err(_) => Refused::Problem(problem),
        },
        _ => Refused::Problem(problem),
    })
}

/// A profile's shared settings.
pub async fn fetch_settings(profile: &str) -> Result<SharedSettings, RelayProblem> {
    get_json(&paths::settings(profile)).await
}

pub async fn save_settings(
    profile: &str,
    change: &SettingsChange,
) -> Result<SharedSettings, Refused<SharedSettings>> {
    put_json(&paths::settings(profile), change).await
}

/// A month's marks, the earlier ones, and its sign-offs.
pub async fn fetch_month(profile: &str, month: InvoiceMonth) -> Result<MonthDecisions, RelayProblem> {
    get_json(&paths::reviews(profile, month)).await
}

pub async fn fetch_review_history(
    profile: &str,
    month: InvoiceMonth,
) -> Result<Vec<ReviewHistoryEntry>, RelayProblem> {
    get_json(&paths::review_history(profile, month)).await
}

pub async fn save_review(
    profile: &str,
    month: InvoiceMonth,
    change: &ReviewChange,
) -> Result<Review, Refused<Review>> {
    put_json(&paths::reviews(profile, month), change).await
}

pub async fn save_sign_off(
    profile: &str,
    month: InvoiceMonth,
    change: &SignOffChange,
) -> Result<SignOff, Refused<SignOff>> {
    put_json(&paths::sign_off(profile, month), change).await
}

/// Whether the relay archived the transfer it numbered `request_id`.
pub async fn fetch_receipt(request_id: u64) -> Result<ArchiveReceipt, RelayProblem> {
    get_json(&routes::archive_receipt(request_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_errors_become_a_title_the_relays_detail_and_advice() {
        let problem = relay_problem(
            502,
            r#"{"code":"vendor_rejected_key","error":"reworded freely","detail":"the vendor answered 401 to profile p's API key"}"#,
        );
        assert_eq!(problem.title, "The vendor rejected this profile's API key");
        assert_eq!(problem.detail, "the vendor answered 401 to profile p's API key");
        assert!(problem.advice.contains("expired or been revoked"));
        let refused = relay_problem(
            403,
            r#"{"code":"not_allowlisted","error":"e","detail":"the relay saw your address as 192.0.2.1"}"#,
        );
        assert!(refused.advice.contains("allowlist") && refused.detail.contains("192.0.2.1"));
        let expired = relay_problem(
            401,
            r#"{"code":"sign_in_required","error":"e","detail":"d","sign_in_url":"/auth/login"}"#,
        );
        assert!(expired.needs_sign_in());
        assert!(!refused.needs_sign_in());
    }

    #[test]
    fn a_body_that_is_not_a_relay_error_is_shown_as_sent() {
        let problem = relay_problem(500, "<html>proxy error</html>");
        assert_eq!(problem.title, "The relay answered 500");
        assert_eq!(problem.detail, "<html>proxy error</html>");
        let unknown_code = relay_problem(500, r#"{"code":"from_a_newer_relay","error":"e","detail":"d"}"#);
        assert_eq!(unknown_code.code, None, "an unknown code is shown as sent, not guessed at");
    }
}
