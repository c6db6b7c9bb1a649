//! The views of a loaded document that the tabs switch between. The chosen
//! one lives in the page's URL as `view=`, so a shared link opens it and
//! Back returns to the one before. Pure, so it is tested natively.

use billing::api::request::decode_query;

const PARAMETER: &str = "view";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    /// The summary, the totals per currency and the charts.
    #[default]
    Overview,
    Invoices,
    Lines,
    Margin,
    Changes,
    Exceptions,
    /// The profile's archived documents.
    Archive,
}

impl Tab {
    pub const ALL: [Tab; 7] =
        [Tab::Overview, Tab::Invoices, Tab::Lines, Tab::Margin, Tab::Changes, Tab::Exceptions, Tab::Archive];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Invoices => "Invoices",
            Tab::Lines => "Lines",
            Tab::Margin => "Margin",
            Tab::Changes => "Changes",
            Tab::Exceptions => "Exceptions",
            Tab::Archive => "Archive",
        }
    }

    /// The name in the URL, also the stem of the tab's element ids.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Invoices => "invoices",
            Tab::Lines => "lines",
            Tab::Margin => "margin",
            Tab::Changes => "changes",
            Tab::Exceptions => "exceptions",
            Tab::Archive => "archive",
        }
    }

    /// The tab a URL's search string names; the overview when it names
    /// none or one that does not exist, so a mistyped link still opens.
    pub fn from_search(search: &str) -> Tab {
        decode_query(search)
            .into_iter()
            .find(|(key, _)| key == PARAMETER)
            .and_then(|(_, value)| Tab::ALL.into_iter().find(|tab| tab.slug() == value))
            .unwrap_or_default()
    }

    /// The tab a key moves to from this one, as the WAI-ARIA tabs pattern
    /// has it: arrows go round, Home and End go to the ends.
    pub fn moved(self, key: &str) -> Option<Tab> {
        let (at, count) = (self as usize, Tab::ALL.len());
        let to = match key {
            "ArrowRight" => (at + 1) % count,
            "ArrowLeft" => (at + count - 1) % count,
            "Home" => 0,
            "End" => count - 1,
            _ => return None,
        };
        Some(Tab::ALL[to])
    }

    /// The page's search string: the query's, then this tab unless it is
    /// the overview, which needs no mention.
    pub fn after(self, query_search: &str) -> String {
        match self {
            Tab::Overview => query_search.to_owned(),
            tab => format!("{query_search}&{PARAMETER}={}", tab.slug()),
        }
    }
}

/// The parts of a loaded document's results drawn after the summary, each
/// in a frame of its own so that no one task draws everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Charts,
    PublisherEditor,
    Lines,
    Invoices,
    /// The margin and the changes.
    Analysis,
    /// The exceptions: the worker's longest question.
    Worklist,
}

impl Part {
    /// The order when the open tab shows none of them first.
    const ORDER: [Part; 6] =
        [Part::Charts, Part::PublisherEditor, Part::Lines, Part::Invoices, Part::Analysis, Part::Worklist];

    /// The last frame a part is drawn in.
    pub const LAST_FRAME: u8 = Part::ORDER.len() as u8;

    /// The page's performance mark of the frame `frame` (from 1), set as
    /// its parts are drawn; the page's bench waits for the last.
    pub fn frame_mark(frame: usize) -> String {
        format!("billing:part-{frame}")
    }

    fn tab(self) -> Tab {
        match self {
            Part::Charts | Part::PublisherEditor => Tab::Overview,
            Part::Lines => Tab::Lines,
            Part::Invoices => Tab::Invoices,
            Part::Analysis => Tab::Margin,
            Part::Worklist => Tab::Exceptions,
        }
    }

    /// The frame after the summary's in which this part is drawn, from 1:
    /// the open tab's parts first, then the rest in their usual order. The
    /// worker answers in turn, so this is also the order it is asked in.
    pub fn frame(self, open: Tab) -> u8 {
        let open = if open == Tab::Changes { Tab::Margin } else { open };
        let (first, rest): (Vec<Part>, Vec<Part>) =
            Part::ORDER.into_iter().partition(|part| part.tab() == open);
        let position = first.into_iter().chain(rest).position(|part| part == self);
        position.map_or(Part::LAST_FRAME, |position| position as u8 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_tabs_parts_are_drawn_first_and_each_part_in_a_frame_of_its_own() {
        for open in Tab::ALL {
            let mut frames: Vec<u8> = Part::ORDER.into_iter().map(|part| part.frame(open)).collect();
            let first = Part::ORDER.into_iter().filter(|part| part.frame(open) == 1).collect::<Vec<_>>();
            assert_eq!(first.len(), 1, "{open:?}");
            // The archive's tab has no part of the document: the usual order.
            if !matches!(open, Tab::Overview | Tab::Archive) {
                let open = if open == Tab::Changes { Tab::Margin } else { open };
                assert_eq!(first[0].tab(), open);
            }
            frames.sort();
            assert_eq!(frames, (1..=Part::LAST_FRAME).collect::<Vec<_>>(), "{open:?}");
        }
        assert_eq!(Part::Lines.frame(Tab::Lines), 1);
        assert_eq!(Part::Charts.frame(Tab::Lines), 2);
        assert_eq!(Part::Worklist.frame(Tab::Overview), Part::LAST_FRAME);
        assert_eq!(Part::Worklist.frame(Tab::Exceptions), 1);
    }

    #[test]
    fn every_tab_goes_into_the_url_and_comes_back() {
        let query = "profile=demo&version=v3&endpoint=invoices&format=xml&start=2026-01-01&end=2026-03-31";
        for tab in Tab::ALL {
            let search = tab.after(query);
            assert!(search.starts_with(query), "{search}");
            assert_eq!(Tab::from_search(&format!("?{search}")), tab, "{search}");
        }
        assert_eq!(Tab::Overview.after(query), query, "the default view is not spelled out");
        assert_eq!(Tab::Lines.after(query), format!("{query}&view=lines"));
    }

    #[test]
    fn a_missing_or_unknown_view_opens_the_overview() {
        assert_eq!(Tab::from_search(""), Tab::Overview);
        assert_eq!(Tab::from_search("?profile=demo"), Tab::Overview);
        assert_eq!(Tab::from_search("?view=ledger"), Tab::Overview);
        assert_eq!(Tab::from_search("?view=Lines"), Tab::Overview, "the slugs are lowercase, as written");
        assert_eq!(Tab::from_search("?profile=demo&view=exceptions&x=1"), Tab::Exceptions);
    }

    #[test]
    fn arrows_go_round_and_home_and_end_go_to_the_ends() {
        assert_eq!(Tab::Overview.moved("ArrowRight"), Some(Tab::Invoices));
        assert_eq!(Tab::Exceptions.moved("ArrowRight"), Some(Tab::Archive));
        assert_eq!(Tab::Archive.moved("ArrowRight"), Some(Tab::Overview));
        assert_eq!(Tab::Overview.moved("ArrowLeft"), Some(Tab::Archive));
        assert_eq!(Tab::Margin.moved("ArrowLeft"), Some(Tab::Lines));
        assert_eq!(Tab::Lines.moved("Home"), Some(Tab::Overview));
        assert_eq!(Tab::Lines.moved("End"), Some(Tab::Archive));
        assert_eq!(Tab::Lines.moved("Enter"), None);
    }

    #[test]
    fn slugs_and_labels_are_distinct() {
        let slugs: std::collections::BTreeSet<_> = Tab::ALL.iter().map(|tab| tab.slug()).collect();
        let labels: std::collections::BTreeSet<_> = Tab::ALL.iter().map(|tab| tab.label()).collect();
        assert_eq!((slugs.len(), labels.len()), (Tab::ALL.len(), Tab::ALL.len()));
    }
}
