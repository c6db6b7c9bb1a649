//! What this browser kept before the team's settings were shared: the
//! user's publisher corrections and low-margin threshold in localStorage,
//! offered once for import and then forgotten.

use std::collections::BTreeMap;

use crate::{storage, team::KeptHere};

const CORRECTIONS: &str = "billing-portal.publishers";
const LOW_MARGIN: &str = "billing-portal.low-margin-percent";

pub fn recall() -> KeptHere {
    KeptHere {
        corrections: storage::recall(CORRECTIONS).map(|text| parse(&text)).unwrap_or_default(),
        low_margin_percent: storage::recall(LOW_MARGIN)
            .and_then(|text| text.trim().trim_end_matches('%').trim().replace(',', ".").parse().ok()),
    }
}

/// Whether this browser kept anything to offer, without reading it: the
/// reading (and its decimal parser) is the offer's, in a file of its own.
pub fn anything_kept() -> bool {
    [CORRECTIONS, LOW_MARGIN]
        .into_iter()
        .any(|key| storage::recall(key).is_some_and(|text| !text.trim().is_empty()))
}

/// Once imported or declined, never offered again.
pub fn forget() {
    storage::forget(CORRECTIONS);
    storage::forget(LOW_MARGIN);
}

/// A line a correction, product and publisher apart by a tab.
fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(product, publisher)| (product.to_owned(), publisher.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_are_read_as_earlier_versions_wrote_them() {
        let written = "Telephony\tKPN\nMobile = data\tVodafone NL\n";
        assert_eq!(
            parse(written),
            [
                ("Telephony".to_owned(), "KPN".to_owned()),
                ("Mobile = data".to_owned(), "Vodafone NL".to_owned())
            ]
            .into()
        );
        assert!(parse("no tab on this line\n").is_empty());
    }
}
