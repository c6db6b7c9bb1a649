//! The vendor's two API generations, their endpoints, and the contract
//! between the relay and the app: routes, error codes and bodies, and what
//! the relay says about a profile and the person signed in.

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

pub mod archive;
pub mod decisions;
pub mod request;
pub mod runs;
pub mod vendor;

pub use archive::{ArchivePage, ArchiveQuery, ArchiveQueryError, ArchiveReceipt, ArchivedDocument};
pub use request::{DateWindow, DocumentRequest, RelayQuery, RequestError, Scope, SubscriptionId};

/// Which of the vendor's two API families a profile talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// `GET {base}/{version}/{endpoint}`, XML or JSON by Accept header.
    Legacy,
    /// `GET {base}/api/v1/{endpoint}`, JSON only.
    Current,
}

impl Generation {
    /// The endpoints the vendor offers in this generation, in the order its
    /// documentation lists them.
    pub fn endpoints(self) -> &'static [Endpoint] {
        match self {
            Self::Legacy => &[
                Endpoint::Invoices,
                Endpoint::CustomerInvoices,
                Endpoint::ConsolidatedInvoices,
                Endpoint::SubscriptionDetails,
            ],
            Self::Current => {
                &[Endpoint::Invoices, Endpoint::CustomerSpecifications, Endpoint::ExampleInvoices]
            }
        }
    }

    /// The API versions the vendor offers in this generation.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Self::Legacy => &["v1", "v2", "v3"],
            Self::Current => &["v1"],
        }
    }

    /// Whether the vendor has declared this version end-of-life.
    pub fn is_end_of_life(self, version: &str) -> bool {
        self == Self::Legacy && matches!(version, "v1" | "v2")
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Legacy => "legacy (versioned)",
            Self::Current => "current",
        }
    }
}

/// A document the vendor serves, named as in its URL path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Endpoint {
    #[serde(rename = "invoices")]
    Invoices,
    #[serde(rename = "customerinvoices")]
    CustomerInvoices,
    #[serde(rename = "consolidatedinvoices")]
    ConsolidatedInvoices,
    #[serde(rename = "subscriptiondetails")]
    SubscriptionDetails,
    #[serde(rename = "customer-specifications")]
    CustomerSpecifications,
    #[serde(rename = "example-invoices")]
    ExampleInvoices,
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Self::Invoices,
        Self::CustomerInvoices,
        Self::ConsolidatedInvoices,
        Self::SubscriptionDetails,
        Self::CustomerSpecifications,
        Self::ExampleInvoices,
    ];

    /// The path segment the vendor uses for this endpoint.
    pub fn path(self) -> &'static str {
        match self {
            Self::Invoices => "invoices",
            Self::CustomerInvoices => "customerinvoices",
            Self::ConsolidatedInvoices => "consolidatedinvoices",
            Self::SubscriptionDetails => "subscriptiondetails",
            Self::CustomerSpecifications => "customer-specifications",
            Self::ExampleInvoices => "example-invoices",
        }
    }

    /// The endpoint whose path segment is exactly `path`.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// One line for a person choosing between endpoints.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Invoices => "Purchase invoices: what you pay the vendor",
            Self::CustomerInvoices => "Customer sales invoices: what each end customer pays you",
            Self::ConsolidatedInvoices => {
                "Consolidated view: purchase and sales price per line, matched best-effort by the vendor"
            }
            Self::SubscriptionDetails => "Subscription details: one subscription's plan, resources and rates",
            Self::CustomerSpecifications => {
                "Customer specifications: the sales side per customer, without VAT"
            }
            Self::ExampleInvoices => "Example invoices: fictional invoices for testing",
        }
    }
}

/// What a person may do with a profile under its access rules; each role
/// includes the ones before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Fetch and open its documents.
    #[default]
    Read,
    /// Also mark exceptions and write notes.
    Review,
    /// Also sign a month off and reopen it.
    Approve,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Read, Self::Review, Self::Approve];

    /// The role as configured and sent, e.g. `review`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Review => "review",
            Self::Approve => "approve",
        }
    }

    /// Whether this role allows what `needed` allows.
    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }
}

/// What the relay tells a browser about one configured API key: enough to
/// choose it, never the key or the vendor's address; and what the caller
/// may do with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub name: String,
    /// The vendor environment the key belongs to, e.g. `PRODUCTION`.
    pub environment: String,
    pub generation: Generation,
    pub versions: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub role: Role,
}

/// The relay's routes that the app calls or links to.
pub mod routes {
    pub const PROFILES: &str = "/api/profiles";
    pub const ME: &str = "/api/me";
    pub const DOCUMENTS: &str = "/api/documents";
    /// `GET ?profile&endpoint&from&to&before&limit`: archived documents, newest first.
    pub const ARCHIVE: &str = "/api/archive";
    /// `GET ?profile&job&limit`: scheduled runs, newest first.
    pub const RUNS: &str = "/api/runs";
    /// `GET ?return=PATH`: starts signing in, then comes back to PATH.
    pub const SIGN_IN: &str = "/auth/login";
    /// The provider sends the browser back here.
    pub const SIGN_IN_CALLBACK: &str = "/auth/callback";
    /// `POST`, from the relay's own pages only.
    pub const SIGN_OUT: &str = "/auth/logout";
    /// The provider sends the browser back here once it has signed out
    /// too (the post-logout redirect URI).
    pub const SIGNED_OUT: &str = "/auth/signed-out";
    /// `POST` from the provider itself: it ended a person's session there
    /// (OpenID Connect Back-Channel Logout).
    pub const BACK_CHANNEL_LOGOUT: &str = "/auth/backchannel-logout";

    /// `GET`: an archived document's exact bytes.
    pub fn archived_document(id: i64) -> String {
        format!("{ARCHIVE}/{id}")
    }

    /// `GET`: what became of the archive copy of the document the relay
    /// sent under this `X-Request-Id`.
    pub fn archive_receipt(request_id: u64) -> String {
        format!("{ARCHIVE}/receipts/{request_id}")
    }

    /// The sign-in link that brings the browser back to `return_path`, a
    /// path on the relay (with its query) such as `/?profile=demo`.
    pub fn sign_in_returning_to(return_path: &str) -> String {
        let mut encoded = String::with_capacity(return_path.len() + 16);
        for byte in return_path.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
                encoded.push(byte as char);
            } else {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
        format!("{SIGN_IN}?return={encoded}")
    }
}

/// Why the relay refused or failed a request: stable, machine-readable,
/// sent as `code` beside the English `error` and `detail`. The app matches
/// on these, never on the wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    UnknownRoute,
    NotAllowlisted,
    RateLimited,
    /// Sign-in is on and the request has no valid session (or it expired).
    SignInRequired,
    /// A bearer token was sent and the relay does not accept it: expired,
    /// for another audience, or not signed by the provider's keys.
    TokenInvalid,
    /// The relay cannot check sign-ins right now: its session store or the
    /// provider's keys are out of reach.
    SignInUnavailable,
    /// The signed-in person's access rules do not name this profile.
    ProfileForbidden,
    /// A state-changing request came from another site.
    CrossSiteRequest,
    /// The request named a host that is not the relay's (DNS rebinding,
    /// or a name the administrator has not listed in `allowed_hosts`).
    HostNotAllowed,
    UnknownProfile,
    UnknownVersion,
    UnknownEndpoint,
    /// The vendor has no subscription with the id asked for.
    UnknownSubscription,
    BadParameter,
    VendorRejectedKey,
    VendorRefusedRelay,
    VendorFailed,
    VendorWrongFormat,
    VendorUnreachable,
    VendorTooSlow,
    /// No archived document with this id that the caller may see.
    ArchivedDocumentNotFound,
    /// The archived bytes no longer match their SHA-256: never shown as the document.
    ArchivedDocumentDamaged,
    /// The archive's database or store cannot be reached right now.
    ArchiveUnavailable,
    /// The caller's role on the profile does not allow this change: marks
    /// need `review`, a sign-off or a reopening `approve`.
    RoleForbidden,
    /// The change was made on an older version than the one kept; the
    /// answer's `current` holds what is kept now.
    DecisionConflict,
    /// The month is signed off: its decisions are read-only until it is
    /// reopened; `current` holds the sign-off.
    MonthSignedOff,
    /// The shared decisions' database cannot be reached right now.
    DecisionsUnavailable,
    /// The scheduled runs' records cannot be read right now.
    RunsUnavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 28] = [
        Self::UnknownRoute,
        Self::NotAllowlisted,
        Self::RateLimited,
        Self::SignInRequired,
        Self::TokenInvalid,
        Self::SignInUnavailable,
        Self::ProfileForbidden,
        Self::CrossSiteRequest,
        Self::HostNotAllowed,
        Self::UnknownProfile,
        Self::UnknownVersion,
        Self::UnknownEndpoint,
        Self::UnknownSubscription,
        Self::BadParameter,
        Self::VendorRejectedKey,
        Self::VendorRefusedRelay,
        Self::VendorFailed,
        Self::VendorWrongFormat,
        Self::VendorUnreachable,
        Self::VendorTooSlow,
        Self::ArchivedDocumentNotFound,
        Self::ArchivedDocumentDamaged,
        Self::ArchiveUnavailable,
        Self::RoleForbidden,
        Self::DecisionConflict,
        Self::MonthSignedOff,
        Self::DecisionsUnavailable,
        Self::RunsUnavailable,
    ];

    /// The code as sent in `code`, e.g. `profile_forbidden`.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownRoute => "unknown_route",
            Self::NotAllowlisted => "not_allowlisted",
            Self::RateLimited => "rate_limited",
            Self::SignInRequired => "sign_in_required",
            Self::TokenInvalid => "token_invalid",
            Self::SignInUnavailable => "sign_in_unavailable",
            Self::ProfileForbidden => "profile_forbidden",
            Self::CrossSiteRequest => "cross_site_request",
            Self::HostNotAllowed => "host_not_allowed",
            Self::UnknownProfile => "unknown_profile",
            Self::UnknownVersion => "unknown_version",
            Self::UnknownEndpoint => "unknown_endpoint",
            Self::UnknownSubscription => "unknown_subscription",
            Self::BadParameter => "bad_parameter",
            Self::VendorRejectedKey => "vendor_rejected_key",
            Self::VendorRefusedRelay => "vendor_refused_relay",
            Self::VendorFailed => "vendor_failed",
            Self::VendorWrongFormat => "vendor_wrong_format",
            Self::VendorUnreachable => "vendor_unreachable",
            Self::VendorTooSlow => "vendor_too_slow",
            Self::ArchivedDocumentNotFound => "archived_document_not_found",
            Self::ArchivedDocumentDamaged => "archived_document_damaged",
            Self::ArchiveUnavailable => "archive_unavailable",
            Self::RoleForbidden => "role_forbidden",
            Self::DecisionConflict => "decision_conflict",
            Self::MonthSignedOff => "month_signed_off",
            Self::DecisionsUnavailable => "decisions_unavailable",
            Self::RunsUnavailable => "runs_unavailable",
        }
    }
}

/// The body of every error the relay answers with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What happened, in a few words.
    pub error: String,
    /// The specifics, and what a person can do about them.
    pub detail: String,
    /// With [`ErrorCode::SignInRequired`]: where to sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_url: Option<String>,
    /// With [`ErrorCode::DecisionConflict`] and [`ErrorCode::MonthSignedOff`]:
    /// what the relay keeps now, as its route answers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

/// `GET /api/me`: whether the relay asks people to sign in, who is signed
/// in, and the profiles they may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub sign_in_enabled: bool,
    /// `None` when sign-in is off: the relay serves one person on loopback.
    pub person: Option<Person>,
    /// The names of the profiles this person may use.
    pub profiles: Vec<String>,
    /// Whom to ask for access, from the relay's configuration.
    pub access_contact: Option<String>,
}

/// The signed-in person as the provider named them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl Person {
    /// The name, else the e-mail, else a neutral word.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().or(self.email.as_deref()).unwrap_or("signed in")
    }
}

/// A moment as the page and the relay's files write it, to the minute:
/// `2026-12-03 10:15 UTC`. Written out rather than with chrono's format
/// strings, whose interpreter the page's first screen would carry.
pub fn minute_utc(at: DateTime<Utc>) -> String {
    format!("{} {:02}:{:02} UTC", at.date_naive(), at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_moment_is_written_as_chrono_would_to_the_minute() {
        for text in ["2026-12-03T10:15:59Z", "2001-01-01T00:00:00Z", "2026-07-31T23:09:00Z"] {
            let at: DateTime<Utc> = text.parse().unwrap();
            assert_eq!(minute_utc(at), at.format("%Y-%m-%d %H:%M UTC").to_string());
        }
    }

    use super::*;

    #[test]
    fn endpoint_paths_round_trip_and_match_their_serde_names() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
            let json = serde_json::to_string(&endpoint).unwrap();
            assert_eq!(json, format!("\"{}\"", endpoint.path()));
        }
        assert_eq!(Endpoint::from_path("Invoices"), None);
        assert_eq!(Endpoint::from_path("../invoices"), None);
    }

    #[test]
    fn generations_offer_the_vendors_endpoints() {
        assert!(Generation::Legacy.endpoints().contains(&Endpoint::SubscriptionDetails));
        assert!(!Generation::Legacy.endpoints().contains(&Endpoint::ExampleInvoices));
        assert!(Generation::Current.endpoints().contains(&Endpoint::CustomerSpecifications));
        assert!(!Generation::Current.endpoints().contains(&Endpoint::ConsolidatedInvoices));
    }

    #[test]
    fn only_legacy_v1_and_v2_are_end_of_life() {
        assert!(Generation::Legacy.is_end_of_life("v1"));
        assert!(Generation::Legacy.is_end_of_life("v2"));
        assert!(!Generation::Legacy.is_end_of_life("v3"));
        assert!(!Generation::Current.is_end_of_life("v1"));
    }

    #[test]
    fn profile_summary_has_the_wire_shape_the_app_reads() {
        let summary = ProfileSummary {
            name: "demo".into(),
            environment: "DEMO".into(),
            generation: Generation::Legacy,
            versions: vec!["v3".into()],
            endpoints: vec![Endpoint::Invoices, Endpoint::CustomerInvoices],
            role: Role::Review,
        };
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "demo",
                "environment": "DEMO",
                "generation": "legacy",
                "versions": ["v3"],
                "endpoints": ["invoices", "customerinvoices"],
                "role": "review",
            })
        );
        let back: ProfileSummary = serde_json::from_value(json).unwrap();
        assert_eq!(back, summary);
    }

    #[test]
    fn each_role_includes_the_ones_before_it_and_is_named_as_configured() {
        assert!(Role::Approve.includes(Role::Review) && Role::Approve.includes(Role::Read));
        assert!(Role::Review.includes(Role::Read) && !Role::Review.includes(Role::Approve));
        assert!(!Role::Read.includes(Role::Review));
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.name());
        }
        assert!(serde_json::from_value::<Role>(serde_json::json!("admin")).is_err());
    }

    #[test]
    fn error_codes_are_snake_case_on_the_wire_and_sign_in_links_are_encoded() {
        let body = ErrorBody {
            code: ErrorCode::SignInRequired,
            error: "sign-in required".into(),
            detail: "d".into(),
            sign_in_url: Some(routes::SIGN_IN.into()),
            current: None,
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["code"], "sign_in_required");
        assert_eq!(serde_json::from_value::<ErrorBody>(json).unwrap(), body);
        let plain: ErrorBody =
            serde_json::from_str(r#"{"code":"vendor_too_slow","error":"e","detail":"d"}"#).unwrap();
        assert_eq!((plain.code, plain.sign_in_url), (ErrorCode::VendorTooSlow, None));
        let names: std::collections::HashSet<String> =
            ErrorCode::ALL.iter().map(|code| serde_json::to_string(code).unwrap()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "every code once");
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.name(), "{code:?}");
        }
        assert_eq!(
            routes::sign_in_returning_to("/?profile=demo&start=2026-01-01"),
            "/auth/login?return=/%3Fprofile%3Ddemo%26start%3D2026-01-01"
        );
    }
}
