//! The columns of the all-lines table, which ones the user hides, and how
//! that choice is remembered.

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
    if let Some(by) = grouping {
        let by = match by {
            GroupBy::Customer => "customer",
            GroupBy::Subscription => "subscription",
            GroupBy::ChargeType => "charge type",
            GroupBy::Publisher => "publisher",
        };
        status.push_str(&format!(", grouped by {by}"));
    }
    status
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
    fn hidden_columns_survive_being_written_and_read() {
        let hidden: BTreeSet<Column> = [Column::Vat, Column::Invoice, Column::MarginPercent].into();
        let written = write_hidden(&hidden);
        assert_eq!(written, "invoice,vat,margin-percent");
        assert_eq!(parse_hidden(&written), hidden);
        assert_eq!(parse_hidden(""), BTreeSet::new());
        assert_eq!(parse_hidden("vat, no-such-column,,publisher"), [Column::Publisher, Column::Vat].into());
    }
}
