//! The headers that keep the served app to its own code: a
//! Content-Security-Policy allowing only the app's own scripts (trunk's
//! inline loader by its hash) and wasm, and the usual hardening headers.

use std::{path::Path, sync::Arc};

use axum::{
    http::{HeaderName, HeaderValue, header},
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};

/// The headers every answer carries.
pub type SecurityHeaders = Arc<[(HeaderName, HeaderValue)]>;

/// Every header the relay adds to every answer; `form_targets` are the
/// origins a form may lead to besides the relay (the sign-in provider,
/// where signing out ends).
pub fn headers(app_dir: &Path, form_targets: &[String]) -> anyhow::Result<SecurityHeaders> {
    let index = std::fs::read_to_string(app_dir.join("index.html"))?;
    let policy = content_security_policy(&index, form_targets);
    Ok(Arc::from([
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&policy)?),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ]))
}

/// Sets `headers` on `response`, over any the handler set, except a
/// page's own Content-Security-Policy (the sign-out page's, which allows
/// its one script and its form to the provider).
pub fn add_headers(headers: &[(HeaderName, HeaderValue)], response: &mut Response) {
    for (name, value) in headers {
        if name == header::CONTENT_SECURITY_POLICY && response.headers().contains_key(name) {
            continue;
        }
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

/// Scripts from the relay itself or inline ones whose exact text is in
/// `index.html`; wasm compiled from the relay's own files; nothing framed,
/// nothing posted elsewhere.
pub fn content_security_policy(index_html: &str, form_targets: &[String]) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    let form_targets: String = form_targets.iter().map(|origin| format!(" {origin}")).collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self' data: blob:; \
         connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'{form_targets}; \
         frame-ancestors 'none'"
    )
}

/// The text of each `<script>` element without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_external_ones_by_origin() {
        let html = "<script type=\"module\">init();\n</script><script src=\"/x.js\"></script>";
        let policy = content_security_policy(html, &["https://id.example".to_owned()]);
        let expected = STANDARD.encode(Sha256::digest("init();\n"));
        assert!(
            policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")),
            "{policy}"
        );
        assert_eq!(policy.matches("'sha256-").count(), 1, "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("form-action 'self' https://id.example;"), "{policy}");
    }
}
