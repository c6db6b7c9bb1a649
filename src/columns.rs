//! The columns of the all-lines table, which ones the user hides, and how
//! that choice is remembered.

use std::collections::BTreeSet;

use billing::{
    lines::{GroupBy, SortColumn},
    matching::Margin,
};
use rust_decimal::Decimal;

/// A column of the all-lines table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    Invoice,
    Vendor,
    Customer,
    Subscription,
    Description,
    ChargeType,
    Period,
    Quantity,
    UnitPrice,
    Amount,
    Vat,
    Cost,
    Sale,
    Margin,
    MarginPercent,
}

impl Column {
    pub const ALL: [Column; 15] = [
        Column::Invoice,
        Column::Vendor,
        Column::Customer,
        Column::Subscription,
        Column::Description,
        Column::ChargeType,
        Column::Period,
        Column::Quantity,
        Column::UnitPrice,
        Column::Amount,
        Column::Vat,
        Column::Cost,
        Column::Sale,
        Column::Margin,
        Column::MarginPercent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Column::Invoice => "Invoice",
            Column::Vendor => "Vendor",
            Column::Customer => "Customer",
            Column::Subscription => "Subscription",
            Column::Description => "Description",
            Column::ChargeType => "Charge",
            Column::Period => "Period",
            Column::Quantity => "Qty",
            Column::UnitPrice => "Unit price",
            Column::Amount => "Amount",
            Column::Vat => "VAT",
            Column::Cost => "Cost",
            Column::Sale => "Sale",
            Column::Margin => "Margin",
            Column::MarginPercent => "Margin %",
        }
    }

    /// The name the choice is remembered by: stable across label changes.
    fn key(self) -> &'static str {
        match self {
            Column::Invoice => "invoice",
            Column::Vendor => "vendor",
            Column::Customer => "customer",
            Column::Subscription => "subscription",
            Column::Description => "description",
            Column::ChargeType => "charge",
            Column::Period => "period",
            Column::Quantity => "quantity",
            Column::UnitPrice => "unit-price",
            Column::Amount => "amount",
            Column::Vat => "vat",
            Column::Cost => "cost",
            Column::Sale => "sale",
            Column::Margin => "margin",
            Column::MarginPercent => "margin-percent",
        }
    }

    /// How the table sorts by this column; the margin columns come from the
    /// other document and sort by [`Column::margin_figure`] instead.
    pub fn sort(self) -> Option<SortColumn> {
        Some(match self {
            Column::Invoice => SortColumn::Invoice,
            Column::Vendor => SortColumn::Vendor,
            Column::Customer => SortColumn::Customer,
            Column::Subscription => SortColumn::Subscription,
            Column::Description => SortColumn::Description,
            Column::ChargeType => SortColumn::ChargeType,
            Column::Period => SortColumn::StartDate,
            Column::Quantity => SortColumn::Quantity,
            Column::UnitPrice => SortColumn::UnitPrice,
            Column::Amount => SortColumn::ExtendedPrice,
            Column::Vat => SortColumn::Vat,
            Column::Cost | Column::Sale | Column::Margin | Column::MarginPercent => return None,
        })
    }

    pub fn numeric(self) -> bool {
        self >= Column::Quantity
    }

    /// Shown only once both sides of the margin are loaded.
    pub fn needs_margin(self) -> bool {
        self >= Column::Cost
    }

    /// What a margin column shows of a line's cost and sale.
    pub fn margin_figure(self, margin: Margin) -> Option<Decimal> {
        match self {
            Column::Cost => Some(margin.cost),
            Column::Sale => Some(margin.sale),
            Column::Margin => Some(margin.margin()),
            Column::MarginPercent => margin.percent(),
            _ => None,
        }
    }
}

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
            GroupBy::Vendor => "vendor",
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
            status_line(3, 10, Some((Column::Amount, true)), Some(GroupBy::Vendor)),
            "3 of 10 lines, sorted by Amount, descending, grouped by vendor"
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
        assert_eq!(parse_hidden("vat, no-such-column,,vendor"), [Column::Vendor, Column::Vat].into());
    }

    #[test]
    fn every_column_has_its_own_key_and_the_kinds_split_where_expected() {
        let keys: BTreeSet<&str> = Column::ALL.iter().map(|column| column.key()).collect();
        assert_eq!(keys.len(), Column::ALL.len());
        let numeric: Vec<Column> = Column::ALL.into_iter().filter(|column| column.numeric()).collect();
        assert_eq!(numeric.first(), Some(&Column::Quantity));
        assert_eq!(numeric.len(), 8);
        let margin: Vec<Column> = Column::ALL.into_iter().filter(|column| column.needs_margin()).collect();
        assert_eq!(margin, [Column::Cost, Column::Sale, Column::Margin, Column::MarginPercent]);
        assert!(margin.iter().all(|column| column.sort().is_none()));
        let line = Margin { cost: Decimal::new(9000, 2), sale: Decimal::new(10800, 2) };
        let figures: Vec<_> = margin.iter().map(|column| column.margin_figure(line)).collect();
        assert_eq!(
            figures,
            [
                Some(Decimal::new(9000, 2)),
                Some(Decimal::new(10800, 2)),
                Some(Decimal::new(1800, 2)),
                Some(Decimal::new(1667, 2))
            ]
        );
        assert_eq!(Column::Amount.margin_figure(line), None);
        assert_eq!(Column::MarginPercent.margin_figure(Margin::default()), None, "no sale, no percentage");
        assert_eq!(Column::Amount.sort(), Some(SortColumn::ExtendedPrice));
    }
}
