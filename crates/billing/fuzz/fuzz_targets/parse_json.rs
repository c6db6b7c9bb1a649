//! Any bytes: the JSON readers return a model or an error, never panic, and
//! whatever they accept reads back the same after writing.
#![no_main]

use billing::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(document) = json::parse_invoices(bytes) {
        let written = json::write_invoices(&document);
        assert_eq!(json::parse_invoices(&written).expect("our own JSON reads back"), document);
    }
    if let Ok(details) = json::parse_subscription_details(bytes) {
        let written = json::write_subscription_details(&details);
        assert_eq!(json::parse_subscription_details(&written).expect("our own JSON reads back"), details);
    }
});
