//! The columns of the all-lines table: what the page shows and the worker
//! fills.

use billing::{lines::SortColumn, matching::Margin};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A column of the all-lines table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Column {
    Invoice,
    Publisher,
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
        Column::Publisher,
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
            Column::Publisher => "Publisher",
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
    pub fn key(self) -> &'static str {
        match self {
            Column::Invoice => "invoice",
            Column::Publisher => "publisher",
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
            Column::Publisher => SortColumn::Publisher,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

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
