//! The few pages the relay renders itself, for a person who arrived by
//! navigation (from the provider, or signing out) rather than through the
//! app: plain HTML under the relay's own policy, every value escaped.

use axum::response::Html;
use billing::api::routes;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A page titled `title` around `body`, which must already be HTML.
pub fn page(title: &str, body: &str) -> Html<String> {
    let title = escape(title);
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Billing portal: {title}</title></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

/// A "Sign in" link back through the provider to the portal's start.
pub fn sign_in_link(label: &str) -> String {
    format!("<p><a class=\"sign-in\" href=\"{}?return=/\">{}</a></p>", routes::SIGN_IN, escape(label))
}
