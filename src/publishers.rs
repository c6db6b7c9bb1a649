//! The user's corrections of publishers, remembered in this browser: a
//! product (a plan's category, or its plan name) and the publisher it is.

use std::collections::BTreeMap;

use crate::storage;

const CORRECTIONS: &str = "billing-portal.publishers";

pub fn recall() -> BTreeMap<String, String> {
    storage::recall(CORRECTIONS).map(|text| parse(&text)).unwrap_or_default()
}

pub fn remember(corrections: &BTreeMap<String, String>) {
    storage::remember(CORRECTIONS, &write(corrections));
}

/// A line a correction, product and publisher apart by a tab.
fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(product, publisher)| (product.to_owned(), publisher.to_owned()))
        .collect()
}

fn write(corrections: &BTreeMap<String, String>) -> String {
    // A tab or a line break inside a name would end its field early.
    let flat = |text: &str| text.replace(['\t', '\n', '\r'], " ");
    corrections
        .iter()
        .map(|(product, publisher)| format!("{}\t{}\n", flat(product), flat(publisher)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_read_back_as_written() {
        let corrections: BTreeMap<String, String> = [
            ("Telephony".to_owned(), "KPN".to_owned()),
            ("Mobile = data".to_owned(), "Vodafone NL".to_owned()),
        ]
        .into();
        assert_eq!(parse(&write(&corrections)), corrections);
        let odd: BTreeMap<String, String> = [("Tab\there".to_owned(), "Line\nbreak".to_owned())].into();
        assert_eq!(parse(&write(&odd)), [("Tab here".to_owned(), "Line break".to_owned())].into());
        assert!(parse("no tab on this line\n").is_empty());
    }
}
