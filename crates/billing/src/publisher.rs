//! The software publisher of a line: Microsoft, Acronis, VMware… — not the
//! vendor, the distributor whose API this is. No field of the vendor's
//! documents names it: on the current platform every invoice's description
//! is just `Invoice`. So it is read from what does name it: the
//! subscription's plan category, plan name and name, the line's
//! description and SKU; and where that says nothing, or says it wrong, the
//! user's own word for the plan's category wins.

use std::{borrow::Cow, collections::BTreeMap, sync::LazyLock};

use serde::{Deserialize, Serialize};

use crate::model::{PriceLine, Subscription};

/// Publishers a reseller buys through a distributor, with the short forms
/// their SKUs start with.
const KNOWN: [(&str, &[&str]); 24] = [
    ("Microsoft", &["MSFT"]),
    ("Acronis", &["ACR"]),
    ("VMware", &["VMW"]),
    ("Dropbox", &["DBX"]),
    ("Adobe", &["ADBE"]),
    ("Google", &["GOOG", "GWS"]),
    ("Autodesk", &["ADSK"]),
    ("Kaspersky", &[]),
    ("ESET", &[]),
    ("Bitdefender", &[]),
    ("Sophos", &[]),
    ("Trend Micro", &[]),
    ("Veeam", &[]),
    ("Datto", &[]),
    ("N-able", &[]),
    ("Keepit", &[]),
    ("Citrix", &[]),
    ("Cisco", &[]),
    ("Zoom", &[]),
    ("Red Hat", &["RHT"]),
    ("SUSE", &[]),
    ("Salesforce", &["CRM"]),
    ("KPN", &[]),
    ("Vodafone", &["VF"]),
];

/// Microsoft's products, which often do not say "Microsoft".
const MICROSOFT_FAMILY: [&str; 14] = [
    "Azure",
    "Office 365",
    "Microsoft 365",
    "Exchange Online",
    "Dynamics 365",
    "Windows",
    "Teams",
    "Intune",
    "Power BI",
    "Visio",
    "Defender",
    "Entra",
    "SharePoint",
    "Copilot",
];

/// How publishers are told: by what the data says, and by the user's
/// corrections, each for a plan category (or, without one, a plan name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publishers {
    corrections: BTreeMap<String, String>,
}

impl Publishers {
    pub fn with_corrections(corrections: BTreeMap<String, String>) -> Self {
        let corrections = corrections
            .into_iter()
            .map(|(product, publisher)| (product.trim().to_owned(), publisher.trim().to_owned()))
            .filter(|(product, publisher)| !product.is_empty() && !publisher.is_empty())
            .collect();
        Self { corrections }
    }

    pub fn corrections(&self) -> &BTreeMap<String, String> {
        &self.corrections
    }

    /// The publisher of `line` of `subscription`, if anything names it.
    pub fn of<'a>(&'a self, subscription: &'a Subscription, line: &'a PriceLine) -> Option<Cow<'a, str>> {
        if let Some(product) = product_of(subscription)
            && let Some(publisher) = self.corrections.get(product)
        {
            return Some(Cow::Borrowed(publisher));
        }
        read(subscription, line).map(Cow::Borrowed)
    }
}

/// What a correction is made for: the plan's category, or without one its
/// plan name or name.
pub fn product_of(subscription: &Subscription) -> Option<&str> {
    [&subscription.plan_category_name, &subscription.plan_name, &subscription.subscription_name]
        .into_iter()
        .find_map(|text| text.as_deref().map(str::trim).filter(|text| !text.is_empty()))
}

/// The publisher the data names, whatever the user says: first as a word
/// of the plan's category, plan name, name or the line's description; then
/// by a SKU's shape or leading short form.
pub fn read(subscription: &Subscription, line: &PriceLine) -> Option<&'static str> {
    let texts = [
        &subscription.plan_category_name,
        &subscription.plan_name,
        &subscription.subscription_name,
        &line.description,
    ];
    texts
        .into_iter()
        .flatten()
        .find_map(|text| named_in(text))
        .or_else(|| line.sku.as_deref().and_then(by_sku))
}

/// The names [`named_in`] looks for, lowercased once: it runs for every
/// line of a document.
static NAMES: LazyLock<Vec<(String, &'static str)>> = LazyLock::new(|| {
    let known = KNOWN.iter().map(|(publisher, _)| (publisher.to_lowercase(), *publisher));
    let microsoft = MICROSOFT_FAMILY.iter().map(|product| (product.to_lowercase(), "Microsoft"));
    known.chain(microsoft).collect()
});

fn named_in(text: &str) -> Option<&'static str> {
    let text = text.to_lowercase();
    NAMES.iter().find(|(words, _)| contains_words(&text, words)).map(|(_, publisher)| *publisher)
}

/// Whether `words` occurs in `text` as whole words; both are lowercased.
fn contains_words(text: &str, words: &str) -> bool {
    let is_word = |character: Option<char>| character.is_some_and(char::is_alphanumeric);
    text.match_indices(words).any(|(at, _)| {
        !is_word(text[..at].chars().next_back()) && !is_word(text[at + words.len()..].chars().next())
    })
}

/// Microsoft's CSP SKUs are a twelve-character product id and a four-digit
/// SKU id (`CFQ7TTC0LH18:0001`); others start with the publisher's short
/// form (`VMW-VSAN-GB`).
fn by_sku(sku: &str) -> Option<&'static str> {
    let sku = sku.trim();
    if let Some((product, id)) = sku.split_once(':')
        && product.len() == 12
        && product.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
        && id.len() == 4
        && id.bytes().all(|byte| byte.is_ascii_digit())
    {
        return Some("Microsoft");
    }
    let lead = sku.split(['-', '_', ' ', ':']).next()?.to_uppercase();
    KNOWN.iter().find_map(|(publisher, short)| {
        (publisher.to_uppercase() == lead || short.contains(&lead.as_str())).then_some(*publisher)
    })
}
