//! The vendor's two API generations, their endpoints, and the relay's
//! public description of a profile.

use serde::{Deserialize, Serialize};

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

/// What the relay tells a browser about one configured API key: enough to
/// choose it, never the key or the vendor's address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub name: String,
    /// The vendor environment the key belongs to, e.g. `PRODUCTION`.
    pub environment: String,
    pub generation: Generation,
    pub versions: Vec<String>,
    pub endpoints: Vec<Endpoint>,
}

#[cfg(test)]
mod tests {
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
            })
        );
        let back: ProfileSummary = serde_json::from_value(json).unwrap();
        assert_eq!(back, summary);
    }
}
