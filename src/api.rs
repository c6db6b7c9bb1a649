//! HTTP calls to the relay that served this page, and what its errors mean
//! to a person.

use billing::ProfileSummary;
use gloo_net::http::Request;
use serde::Deserialize;

/// Why a call to the relay failed, in words a person can act on.
#[derive(Clone, Debug, PartialEq)]
pub struct RelayProblem {
    pub status: u16,
    pub title: String,
    /// The relay's own detail, e.g. the address it saw.
    pub detail: String,
    pub advice: String,
}

/// The relay's JSON error body.
#[derive(Deserialize)]
struct RelayErrorBody {
    error: String,
    #[serde(default)]
    detail: String,
}

/// Reads the relay's `{"error","detail"}` answer into a problem with
/// advice; any other body is shown as the relay sent it.
pub fn relay_problem(status: u16, body: &str) -> RelayProblem {
    let Ok(RelayErrorBody { error, detail }) = serde_json::from_str::<RelayErrorBody>(body) else {
        let shown: String = body.chars().take(300).collect();
        return RelayProblem {
            status,
            title: format!("The relay answered {status}"),
            detail: shown,
            advice: "Try again; if it persists, tell the relay's administrator.".to_owned(),
        };
    };
    let (title, advice) = match error.as_str() {
        "this address is not on the relay's allowlist" => (
            "Your address is not allowed to use this relay",
            "Ask the relay's administrator to add your address (shown above) to its allowlist.",
        ),
        "unknown profile" | "unknown API version" | "unknown endpoint" => (
            "The relay no longer offers this choice",
            "Reload the page to see the profiles, versions and endpoints it offers now.",
        ),
        "bad request parameter" => ("The relay refused the query", "Correct the query and fetch again."),
        "the vendor rejected the API key" => (
            "The vendor rejected this profile's API key",
            "The key may have expired or been revoked. Ask the administrator to generate a new key in the vendor's portal and put it in the relay's configuration.",
        ),
        "the vendor refused the relay" => (
            "The vendor refused the relay",
            "The relay's IP address is not on the key's whitelist, or the key lacks permission for this endpoint. The administrator can check both in the vendor's portal.",
        ),
        "the vendor failed" => {
            ("The vendor's service failed", "This is on the vendor's side; try again in a few minutes.")
        }
        "the vendor answered in the wrong format" => (
            "The vendor sent something other than the document",
            "Often a maintenance page; try again later.",
        ),
        "the vendor cannot be reached" => (
            "The vendor cannot be reached",
            "The vendor's service is down or unreachable from the relay; try again later.",
        ),
        "the vendor is too slow" => {
            ("The vendor took too long to answer", "Try a shorter date range, or try again later.")
        }
        "too many requests" => ("Too many requests from your address", "Wait a moment, then fetch again."),
        _ => ("The relay could not answer", "Try again; if it persists, tell the relay's administrator."),
    };
    RelayProblem { status, title: title.to_owned(), detail, advice: advice.to_owned() }
}

/// The vendor API keys the relay offers, described without the keys.
pub async fn fetch_profiles() -> Result<Vec<ProfileSummary>, RelayProblem> {
    let unreachable = |message: String| RelayProblem {
        status: 0,
        title: "The relay cannot be reached".to_owned(),
        detail: message,
        advice: "Check your connection and reload the page.".to_owned(),
    };
    let response =
        Request::get("/api/profiles").send().await.map_err(|error| unreachable(error.to_string()))?;
    if !response.ok() {
        let body = response.text().await.unwrap_or_default();
        return Err(relay_problem(response.status(), &body));
    }
    response.json().await.map_err(|error| unreachable(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_errors_become_a_title_the_relays_detail_and_advice() {
        let problem = relay_problem(
            502,
            r#"{"error":"the vendor rejected the API key","detail":"the vendor answered 401 to profile p's API key"}"#,
        );
        assert_eq!(problem.title, "The vendor rejected this profile's API key");
        assert_eq!(problem.detail, "the vendor answered 401 to profile p's API key");
        assert!(problem.advice.contains("expired or been revoked"));
        let refused = relay_problem(
            403,
            r#"{"error":"this address is not on the relay's allowlist","detail":"the relay saw your address as 192.0.2.1"}"#,
        );
        assert!(refused.advice.contains("allowlist") && refused.detail.contains("192.0.2.1"));
    }

    #[test]
    fn a_body_that_is_not_a_relay_error_is_shown_as_sent() {
        let problem = relay_problem(500, "<html>proxy error</html>");
        assert_eq!(problem.title, "The relay answered 500");
        assert_eq!(problem.detail, "<html>proxy error</html>");
    }
}
