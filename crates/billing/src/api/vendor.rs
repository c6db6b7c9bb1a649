//! The vendor's side of the contract (`vendor-billing-api.md`): where each
//! endpoint lives, the parameters it reads, the key's header. The emulator
//! serves these and the relay calls them, both from here.

use chrono::NaiveDate;

use super::{Endpoint, Generation};
use crate::scalars;

/// The request header that carries the API key, unless a profile names
/// another (the vendor lets resellers choose; this is its default).
pub const DEFAULT_KEY_HEADER: &str = "x-api-key";
/// The first invoice date of the window, `YYYYMMDD`, inclusive.
pub const START_DATE: &str = "startDate";
/// The last invoice date of the window, `YYYYMMDD`, inclusive.
pub const END_DATE: &str = "endDate";
/// The subscription `subscriptiondetails` describes.
pub const SUBSCRIPTION_ID: &str = "subscriptionId";
/// The current generation's one version, in its path.
pub const CURRENT_PREFIX: &str = "/api/v1";

/// The vendor's path for `endpoint` of `version`: `/v3/invoices`,
/// `/api/v1/customer-specifications`.
pub fn path(generation: Generation, version: &str, endpoint: Endpoint) -> String {
    match generation {
        Generation::Legacy => format!("/{version}/{}", endpoint.path()),
        Generation::Current => format!("{CURRENT_PREFIX}/{}", endpoint.path()),
    }
}

/// A date as the vendor's parameters write it: `20260131`.
pub fn format_date(date: NaiveDate) -> String {
    scalars::format_date(date)
}

/// A date from the vendor's parameters: `YYYYMMDD` and a real calendar day.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    scalars::parse_date(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generation_has_its_own_path_shape() {
        assert_eq!(path(Generation::Legacy, "v3", Endpoint::Invoices), "/v3/invoices");
        assert_eq!(
            path(Generation::Current, "v1", Endpoint::CustomerSpecifications),
            "/api/v1/customer-specifications"
        );
        let date = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        assert_eq!(parse_date(&format_date(date)), Some(date));
        assert_eq!(parse_date("2026-01-31"), None);
    }
}
