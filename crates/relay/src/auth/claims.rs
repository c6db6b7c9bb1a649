//! Reading what a provider's tokens and a browser's headers say: a JWT's
//! payload, a groups claim in either shape, and whether a request comes
//! from the relay's own pages.

use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

/// A JWT's payload as JSON.
pub(crate) fn payload_of(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()
}

/// A groups claim as a list, whether the provider sends a list or one name.
pub(crate) fn groups_of(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(groups)) => groups.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(group)) => vec![group.clone()],
        _ => Vec::new(),
    }
}

pub(crate) fn constant_time_eq(left: &str, right: &str) -> bool {
    left.len() == right.len() && left.bytes().zip(right.bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

/// Whether a state-changing request comes from the relay's own pages: its
/// origin, or (as browsers send a form's `Origin: null` under the relay's
/// `Referrer-Policy: no-referrer`) the browser's own word that it is
/// same-origin. Pages cannot set `Sec-Fetch-Site`.
pub(crate) fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    let sent = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    match (sent, fetch_site) {
        (_, Some(site)) if site != "same-origin" => false,
        (Some(sent), _) if sent == origin => true,
        (Some("null"), Some("same-origin")) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn logout_needs_the_relays_own_origin() {
        let mut headers = HeaderMap::new();
        assert!(!same_origin(&headers, "https://billing.example"), "no Origin, no logout");
        headers.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&headers, "https://billing.example"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("https://billing.example"));
        assert!(same_origin(&headers, "https://billing.example"));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&headers, "https://billing.example"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers, "https://billing.example"), "a sandboxed page elsewhere");
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&headers, "https://billing.example"), "a form under no-referrer");
        headers.remove("sec-fetch-site");
        assert!(!same_origin(&headers, "https://billing.example"), "null alone proves nothing");
    }

    #[test]
    fn groups_come_as_a_list_or_a_single_name() {
        assert_eq!(groups_of(Some(&serde_json::json!(["a", "b", 3]))), ["a", "b"]);
        assert_eq!(groups_of(Some(&serde_json::json!("a"))), ["a"]);
        assert!(groups_of(None).is_empty());
    }
}
