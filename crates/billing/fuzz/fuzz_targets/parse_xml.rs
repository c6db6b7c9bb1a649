//! Any bytes: the XML readers return a model or an error, never panic, and
//! whatever they accept reads back the same after writing.
#![no_main]

use billing::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(document) = xml::parse_invoices(bytes) {
        let written = xml::write_invoices(&document);
        assert_eq!(xml::parse_invoices(&written).expect("our own XML reads back"), document);
    }
    if let Ok(details) = xml::parse_subscription_details(bytes) {
        let written = xml::write_subscription_details(&details);
        assert_eq!(xml::parse_subscription_details(&written).expect("our own XML reads back"), details);
    }
});
