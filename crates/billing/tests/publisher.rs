//! The publisher of a line, on documents whose every description is
//! "Invoice", as the vendor's current platform writes them.

use billing::text::Text;
use std::collections::BTreeMap;

use billing::{
    model::{PriceLine, Subscription},
    publisher::{Publishers, product_of},
};

fn subscription(category: Option<&str>, plan: Option<&str>, name: Option<&str>) -> Subscription {
    Subscription {
        plan_category_name: category.map(Text::from),
        plan_name: plan.map(Text::from),
        subscription_name: name.map(Text::from),
        ..Subscription::default()
    }
}

fn line(description: &str, sku: Option<&str>) -> PriceLine {
    PriceLine { description: Some(description.into()), sku: sku.map(Text::from), ..PriceLine::default() }
}

#[test]
fn the_publisher_is_read_from_what_names_it() {
    let publishers = Publishers::default();
    let of = |subscription: &Subscription, line: &PriceLine| {
        publishers.of(subscription, line).map(|p| p.into_owned())
    };
    let cases = [
        (
            subscription(Some("Backup"), Some("Acronis Cyber Protect Cloud, workstation"), None),
            line("Invoice", None),
            Some("Acronis"),
        ),
        (
            subscription(Some("Private cloud"), Some("VMware vSAN storage"), None),
            line("Invoice", Some("VMW-VSAN-GB")),
            Some("VMware"),
        ),
        (subscription(Some("Azure"), Some("Azure plan"), None), line("Invoice", None), Some("Microsoft")),
        (
            subscription(None, Some("Exchange Online (Plan 1)"), None),
            line("Invoice", None),
            Some("Microsoft"),
        ),
        (subscription(None, None, None), line("Invoice", Some("CFQ7TTC0LH18:0001")), Some("Microsoft")),
        (
            subscription(Some("Telephony"), Some("SIP trunk channel"), None),
            line("Invoice", Some("KPN-SIP-CH")),
            Some("KPN"),
        ),
        (
            subscription(None, None, Some("Dropbox Business Standard")),
            line("Invoice", Some("DBX-BUS-STD")),
            Some("Dropbox"),
        ),
        // A word inside another word names nothing: "Teams" is not "Steamship".
        (subscription(Some("Steamship tickets"), None, None), line("Invoice", Some("STEAM-1")), None),
        (subscription(Some("Telephony"), Some("Hosted telephony seat"), None), line("Invoice", None), None),
        (subscription(None, None, None), line("Invoice", None), None),
    ];
    for (subscription, line, expected) in cases {
        assert_eq!(of(&subscription, &line).as_deref(), expected, "{subscription:?} {line:?}");
    }
}

#[test]
fn the_users_word_for_a_product_wins() {
    let telephony = subscription(Some("Telephony"), Some("Hosted telephony seat"), None);
    let mobile = subscription(None, Some("Mobile data bundle 10 GB"), Some("Mobile"));
    assert_eq!(product_of(&telephony), Some("Telephony"), "the plan's category first");
    assert_eq!(product_of(&mobile), Some("Mobile data bundle 10 GB"), "then its plan name");
    let corrections: BTreeMap<String, String> = [
        (" Telephony ".to_owned(), " KPN ".to_owned()),
        ("Mobile data bundle 10 GB".to_owned(), "Vodafone".to_owned()),
        ("Ignored".to_owned(), "  ".to_owned()),
    ]
    .into();
    let publishers = Publishers::with_corrections(corrections);
    assert_eq!(publishers.corrections().len(), 2, "a blank publisher is no correction");
    let of = |subscription: &Subscription| {
        publishers.of(subscription, &line("Invoice", None)).map(|p| p.into_owned())
    };
    assert_eq!(of(&telephony).as_deref(), Some("KPN"));
    assert_eq!(of(&mobile).as_deref(), Some("Vodafone"));
    let azure = subscription(Some("Azure"), None, None);
    assert_eq!(of(&azure).as_deref(), Some("Microsoft"), "what is not corrected is read as before");
}
