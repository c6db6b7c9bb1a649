//! The columns of the all-lines table, which ones the user hides, how
//! that choice is remembered, the order a header click gives, and the
//! groupings offered.

use std::collections::BTreeSet;

use billing::lines::GroupBy;
pub use worker_protocol::Column;

/// The localStorage key of the hidden columns.
pub const HIDDEN_COLUMNS: &str = "billing-portal.hidden-columns";

/// Reads the remembered hidden columns; names it does not know (from an
/// older or newer app) are ignored.
pub fn parse_hidden(text: &str) -> BTreeSet<Column> {
    text.split(',')
        .filter_map(|name| Column::ALL.into_iter().find(|column| column.key() == name.trim()))
        .collect()
}

pub fn write_hidden(hidden: &BTreeSet<Column>) -> String {
    hidden.iter().map(|column| column.key()).collect::<Vec<_>>().join(",")
}

/// A column's width in rem: a number always fits whole (an amount of
/// millions with its currency sign, a date range); text may be cut, with
/// the whole of it on hover.
pub fn width_rem(column: Column) -> u32 {
    match column {
        Column::Invoice => 9,
        Column::Publisher | Column::ChargeType => 9,
        Column::Customer | Column::Subscription => 14,
        Column::Description => 18,
        Column::Period => 14,
        Column::Quantity | Column::MarginPercent => 7,
        Column::UnitPrice | Column::Vat => 10,
        Column::Amount | Column::Cost | Column::Sale | Column::Margin => 11,
    }
}

/// What the live status line says: the count, and how the rows are ordered
/// and grouped, so a screen reader hears every change of them.
pub fn status_line(
    shown: usize,
    total: usize,
    sort: Option<(Column, bool)>,
    grouping: Option<GroupBy>,
) -> String {
    let mut status = format!("{shown} of {total} lines");
    if let Some((sorted, descending)) = sort {
        let direction = if descending { "descending" } else { "ascending" };
        status.push_str(&format!(", sorted by {}, {direction}", sorted.label()));
    }
    if let Some(by) = grouping.and_then(|by| GROUPINGS.iter().find(|grouping| grouping.by == by)) {
        status.push_str(&format!(", grouped by {}", by.label.to_lowercase()));
    }
    status
}

/// The columns shown: every one the user has not hidden, the margin's only
/// once the other side is joined.
pub fn shown_columns(hidden: &BTreeSet<Column>, joined: bool) -> Vec<Column> {
    Column::ALL
        .into_iter()
        .filter(|column| !hidden.contains(column) && (joined || !column.needs_margin()))
        .collect()
}

/// The order after a click on `column`'s header: ascending, then
/// descending, then as the document has it.
pub fn next_sort(sort: Option<(Column, bool)>, column: Column) -> Option<(Column, bool)> {
    match sort {
        Some((sorted, false)) if sorted == column => Some((column, true)),
        Some((sorted, true)) if sorted == column => None,
        _ => Some((column, false)),
    }
}

/// One way to group the lines, as the "Group by" choice offers it.
pub struct Grouping {
    pub by: GroupBy,
    /// The choice's value.
    pub value: &'static str,
    pub label: &'static str,
}

pub const GROUPINGS: [Grouping; 4] = [
    Grouping { by: GroupBy::Customer, value: "customer", label: "Customer" },
    Grouping { by: GroupBy::Subscription, value: "subscription", label: "Subscription" },
    Grouping { by: GroupBy::ChargeType, value: "charge", label: "Charge type" },
    Grouping { by: GroupBy::Publisher, value: "publisher", label: "Publisher" },
];

/// The grouping a choice's value names; none for anything else.
pub fn grouping_named(value: &str) -> Option<GroupBy> {
    GROUPINGS.iter().find(|grouping| grouping.value == value).map(|grouping| grouping.by)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_the_count_the_order_and_the_grouping() {
        assert_eq!(status_line(3, 10, None, None), "3 of 10 lines");
        assert_eq!(
            status_line(3, 10, Some((Column::Amount, true)), Some(GroupBy::Publisher)),
            "3 of 10 lines, sorted by Amount, descending, grouped by publisher"
        );
        assert_eq!(
            status_line(0, 0, Some((Column::Margin, false)), None),
            "0 of 0 lines, sorted by Margin, ascending"
        );
    }

    #[test]
    fn the_margin_columns_show_only_once_joined_and_hidden_ones_never() {
        let hidden: BTreeSet<Column> = [Column::Vat].into();
        let alone = shown_columns(&hidden, false);
        assert!(!alone.contains(&Column::Vat) && !alone.iter().any(|column| column.needs_margin()));
        assert!(alone.contains(&Column::Amount));
        let joined = shown_columns(&hidden, true);
        assert!(
            joined.contains(&Column::Margin)
                && joined.contains(&Column::Cost)
                && !joined.contains(&Column::Vat)
        );
        assert_eq!(joined.len(), Column::ALL.len() - 1);
    }

    #[test]
    fn a_header_click_sorts_ascending_then_descending_then_not() {
        let once = next_sort(None, Column::Amount);
        assert_eq!(once, Some((Column::Amount, false)));
        let twice = next_sort(once, Column::Amount);
        assert_eq!(twice, Some((Column::Amount, true)));
        assert_eq!(next_sort(twice, Column::Amount), None);
        assert_eq!(
            next_sort(twice, Column::Customer),
            Some((Column::Customer, false)),
            "another column starts over"
        );
    }

    #[test]
    fn each_grouping_is_named_once_for_the_choice_and_the_status_line() {
        for grouping in &GROUPINGS {
            assert_eq!(grouping_named(grouping.value), Some(grouping.by));
        }
        assert_eq!(grouping_named(""), None);
        assert_eq!(grouping_named("nothing"), None);
        assert_eq!(
            status_line(1, 1, None, Some(GroupBy::ChargeType)),
            "1 of 1 lines, grouped by charge type"
        );
    }

    #[test]
    fn hidden_columns_survive_being_written_and_read() {
        let hidden: BTreeSet<Column> = [Column::Vat, Column::Invoice, Column::MarginPercent].into();
        let written = write_hidden(&hidden);
        assert_eq!(written, "invoice,vat,margin-percent");
        assert_eq!(parse_hidden(&written), hidden);
        assert_eq!(parse_hidden(""), BTreeSet::new());
        assert_eq!(parse_hidden("vat, no-such-column,,publisher"), [Column::Publisher, Column::Vat].into());
    }
}
