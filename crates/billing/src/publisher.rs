//! The software publisher of a line: Microsoft, Acronis, VMware… — not the
//! vendor, the distributor whose API this is. No field of the vendor's
//! documents names it: on the current platform every invoice's description
//! is just `Invoice`. So it is read from what does name it: the
//! subscription's plan category, plan name and name, the line's
//! description and SKU; and where that says nothing, or says it wrong, the
//! user's own word for the plan's category wins.

use std::{borrow::Cow, collections::BTreeMap, sync::LazyLock};

use aho_corasick::AhoCorasick;

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

/// Every name [`named_in`] looks for, each with its publisher, in the
/// order they win in: the publishers' own names, then Microsoft's products.
/// One pass of an automaton finds them all in a text; the text is read for
/// every line of a document, and searching it once for each name was the worker's
/// largest cost after a large document opened.
static NAMES: LazyLock<(AhoCorasick, Vec<&'static str>)> = LazyLock::new(|| {
    let known = KNOWN.iter().map(|(publisher, _)| (*publisher, *publisher));
    let microsoft = MICROSOFT_FAMILY.iter().map(|product| (*product, "Microsoft"));
    let (names, publishers): (Vec<&str>, Vec<&str>) = known.chain(microsoft).unzip();
    let searcher = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(names)
        .expect("a few dozen short names always make an automaton");
    (searcher, publishers)
});

/// The publisher of the first name, in [`NAMES`]' order, that `text`
/// holds as whole words, whatever their case.
fn named_in(text: &str) -> Option<&'static str> {
    // Lowercasing moves no byte of ASCII text, so it is searched as it is.
    let lowered;
    let text = if text.is_ascii() {
        text
    } else {
        lowered = text.to_lowercase();
        &lowered
    };
    let (searcher, publishers) = &*NAMES;
    let is_word = |character: Option<char>| character.is_some_and(char::is_alphanumeric);
    let mut first = None::<usize>;
    for found in searcher.find_overlapping_iter(text) {
        let name = found.pattern().as_usize();
        if first.is_none_or(|first| name < first)
            && !is_word(text[..found.start()].chars().next_back())
            && !is_word(text[found.end()..].chars().next())
        {
            first = Some(name);
            // No name comes before the first: the rest of the text is not read.
            if name == 0 {
                break;
            }
        }
    }
    first.map(|first| publishers[first])
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
        (publisher.eq_ignore_ascii_case(&lead) || short.contains(&lead.as_str())).then_some(*publisher)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain reading `named_in` must agree with: the text lowercased,
    /// then each name in turn looked for as whole words.
    fn named_in_turn(text: &str) -> Option<&'static str> {
        let text = text.to_lowercase();
        let is_word = |character: Option<char>| character.is_some_and(char::is_alphanumeric);
        let names = KNOWN.iter().map(|(publisher, _)| (*publisher, *publisher));
        let products = MICROSOFT_FAMILY.iter().map(|product| (*product, "Microsoft"));
        names.chain(products).find_map(|(name, publisher)| {
            let name = name.to_lowercase();
            text.match_indices(&name)
                .any(|(at, _)| {
                    !is_word(text[..at].chars().next_back())
                        && !is_word(text[at + name.len()..].chars().next())
                })
                .then_some(publisher)
        })
    }

    #[test]
    fn one_search_finds_what_looking_for_each_name_in_turn_finds() {
        // Names in any case, overlapping names, names inside words, word
        // characters and separators on either side, and non-ASCII text:
        // the Kelvin sign lowercases to an ASCII `k`, `İ` to two characters.
        let pieces = [
            "",
            " ",
            "-",
            "_",
            "1",
            "x",
            "é",
            "É",
            "İ",
            "\u{212A}PN",
            "microsoft",
            "MICROSOFT 365",
            "Microsoft",
            "teams",
            "Steamship",
            "VMware",
            "red hat",
            "Red  Hat",
            "N-able",
            "n-ABLE",
            "office 365",
            "Azure",
            "kpn",
            "trend micro",
            "ZOOM",
        ];
        let mut texts = 0;
        for first in pieces {
            for second in pieces {
                for third in pieces {
                    let text = format!("{first}{second}{third}");
                    assert_eq!(named_in(&text), named_in_turn(&text), "{text:?}");
                    texts += 1;
                }
            }
        }
        assert_eq!(texts, pieces.len().pow(3));
    }
}
