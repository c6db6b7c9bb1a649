//! What the tests open documents as.

use billing::{
    Endpoint, Format,
    api::{DateWindow, DocumentRequest, Scope, SubscriptionId},
};
use chrono::NaiveDate;

/// The request a fixture of `endpoint` in `format` answers: the first
/// quarter of 2026, or subscription 007.
pub fn request(endpoint: Endpoint, format: Format) -> DocumentRequest {
    let scope = if endpoint == Endpoint::SubscriptionDetails {
        Scope::Subscription(SubscriptionId::parse("007").expect("digits"))
    } else {
        let day = |month, day| NaiveDate::from_ymd_opt(2026, month, day).expect("a real day");
        Scope::Window(DateWindow::new(day(1, 1), day(3, 31)).expect("in order"))
    };
    DocumentRequest::new("demo", "v3", endpoint, format, scope).expect("the scope fits the endpoint")
}
