//! The app's table of price lines: search, filters, sort, grouping with
//! subtotals, and the choices its filters offer.

use std::{
    collections::BTreeMap,
    sync::{Arc, OnceLock},
};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    model::{Invoice, InvoiceDocument, PriceLine},
    publisher::Publishers,
    rows::{LineRow, rows},
    totals::{Sums, currency_of},
};

/// What the table shows: every condition that is set must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFilter {
    /// Case-insensitive text found in the customer, the description or the
    /// subscription (name or id).
    pub text: String,
    /// Exact customer company name.
    pub customer: Option<String>,
    /// Exact invoice id, as text.
    pub invoice: Option<String>,
    /// Exact publisher, as [`Publishers::of`] names it.
    pub publisher: Option<String>,
    /// Exact charge type, e.g. `Correction`.
    pub charge_type: Option<String>,
    /// Invoice dated on or after.
    pub from: Option<NaiveDate>,
    /// Invoice dated on or before.
    pub to: Option<NaiveDate>,
    /// The first day of a month the line's service period overlaps.
    pub service_month: Option<NaiveDate>,
}

impl LineFilter {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn matches(&self, row: &LineRow<'_>, publishers: &Publishers) -> bool {
        self.matches_with(row, &self.needle(), publishers)
    }

    /// The search text as rows are compared with it; control characters
    /// are dropped, so it cannot contain the field separator.
    fn needle(&self) -> String {
        self.text.trim().chars().filter(|c| !c.is_control()).collect::<String>().to_lowercase()
    }

    /// [`Self::matches`] with the search text already folded, so filtering
    /// many rows folds it once.
    fn matches_with(&self, row: &LineRow<'_>, needle: &str, publishers: &Publishers) -> bool {
        let equals = |wanted: &Option<String>, actual: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == actual)
        };
        let date = row.invoice.header.date;
        equals(&self.customer, row.customer.company_name.as_deref())
            && equals(&self.publisher, publishers.of(row.subscription, row.line).as_deref())
            && equals(&self.charge_type, row.line.charge_type.as_deref())
            && self.invoice.as_ref().is_none_or(|wanted| {
                row.invoice.header.invoice_id.as_ref().is_some_and(|id| id.to_string() == *wanted)
            })
            && self.from.is_none_or(|from| date.is_some_and(|date| date >= from))
            && self.to.is_none_or(|to| date.is_some_and(|date| date <= to))
            && self.service_month.is_none_or(|month| serves_in(row.line, month))
            && matches_text(needle, row)
    }
}

/// Whether the line's service period overlaps the month starting `month`.
fn serves_in(line: &PriceLine, month: NaiveDate) -> bool {
    let month_end = month.checked_add_months(chrono::Months::new(1)).and_then(|next| next.pred_opt());
    match (line.start_date, line.end_date.or(line.start_date), month_end) {
        (Some(start), Some(end), Some(month_end)) => start <= month_end && end >= month,
        _ => false,
    }
}

/// What the text search looks at in a row, lowercased: customer,
/// description, subscription name and id, kept apart so a match cannot span
/// two fields.
fn search_text(row: &LineRow<'_>) -> String {
    let id = row.subscription.subscription_id.as_ref().map(ToString::to_string);
    let fields = [
        row.customer.company_name.as_deref(),
        row.line.description.as_deref(),
        row.subscription.subscription_name.as_deref(),
        id.as_deref(),
    ];
    // One string per row, folded in place: at a hundred thousand rows the
    // intermediate strings of lowercasing and joining would cost more.
    let mut folded = String::new();
    for field in fields.into_iter().flatten() {
        if !folded.is_empty() {
            folded.push('\u{1f}');
        }
        if field.is_ascii() {
            let start = folded.len();
            folded.push_str(field);
            folded[start..].make_ascii_lowercase();
        } else {
            folded.push_str(&field.to_lowercase());
        }
    }
    folded
}

fn matches_text(needle: &str, row: &LineRow<'_>) -> bool {
    needle.is_empty() || search_text(row).contains(needle)
}

/// The rows that pass `filter`, in document order.
pub fn filtered<'a>(
    document: &'a InvoiceDocument,
    publishers: &Publishers,
    filter: &LineFilter,
) -> Vec<LineRow<'a>> {
    let needle = filter.needle();
    rows(document).filter(|row| filter.matches_with(row, &needle, publishers)).collect()
}

/// A document's rows as the app's table holds them: owning the document,
/// with each row's search text folded once, so that searching a hundred
/// thousand lines as the user types compares prepared text only.
pub struct LineTable {
    document: Arc<InvoiceDocument>,
    /// Invoice, customer, subscription and line index of each row.
    positions: Vec<[u32; 4]>,
    folded: Vec<String>,
    /// Per [`SortColumn`], each row's rank, made at its first sort.
    ranks: [OnceLock<Vec<u32>>; SortColumn::COUNT],
    publishers: Publishers,
}

/// The lines table's index of a document, built invoice by invoice, so it
/// can grow while the document is still arriving.
#[derive(Default)]
pub struct LineIndex {
    positions: Vec<[u32; 4]>,
    folded: Vec<String>,
    invoices: usize,
}

impl LineIndex {
    /// Adds the lines of the document's next invoice.
    pub fn add(&mut self, invoice: &Invoice) {
        let i = self.invoices;
        self.invoices += 1;
        for (c, customer) in invoice.customers.iter().enumerate() {
            for (s, subscription) in customer.subscriptions.iter().enumerate() {
                for (l, line) in subscription.price_lines.iter().enumerate() {
                    self.positions.push([i, c, s, l].map(|index| index as u32));
                    self.folded.push(search_text(&LineRow { invoice, customer, subscription, line }));
                }
            }
        }
    }

    /// How many invoices it has.
    pub fn invoices(&self) -> usize {
        self.invoices
    }
}

impl LineTable {
    pub fn new(document: Arc<InvoiceDocument>) -> Self {
        Self::indexed(document, LineIndex::default())
    }

    /// The table of `document`, whose first invoices `index` already has.
    pub fn indexed(document: Arc<InvoiceDocument>, mut index: LineIndex) -> Self {
        if index.invoices > document.invoices.len() {
            index = LineIndex::default();
        }
        for invoice in document.invoices.iter().skip(index.invoices) {
            index.add(invoice);
        }
        let LineIndex { positions, folded, .. } = index;
        Self { document, positions, folded, ranks: Default::default(), publishers: Publishers::default() }
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn publishers(&self) -> &Publishers {
        &self.publishers
    }

    /// Tells publishers the user's way from now on.
    pub fn set_publishers(&mut self, publishers: Publishers) {
        self.ranks[SortColumn::Publisher as usize] = OnceLock::new();
        self.publishers = publishers;
    }

    /// The publisher of the row at `index`.
    pub fn publisher(&self, index: usize) -> Option<std::borrow::Cow<'_, str>> {
        let row = self.row(index);
        self.publishers.of(row.subscription, row.line)
    }

    /// The row at `index`, in document order.
    pub fn row(&self, index: usize) -> LineRow<'_> {
        let [i, c, s, l] = self.positions[index].map(|index| index as usize);
        let invoice = &self.document.invoices[i];
        let customer = &invoice.customers[c];
        let subscription = &customer.subscriptions[s];
        LineRow { invoice, customer, subscription, line: &subscription.price_lines[l] }
    }

    /// Indexes of the rows that pass `filter`, in document order.
    pub fn filter(&self, filter: &LineFilter) -> Vec<usize> {
        let needle = filter.needle();
        let without_text = LineFilter { text: String::new(), ..filter.clone() };
        // Most searches set nothing else: then rows need not be resolved.
        let text_only = without_text.is_empty();
        (0..self.len())
            .filter(|&index| {
                (needle.is_empty() || self.folded[index].contains(&needle))
                    && (text_only || without_text.matches_with(&self.row(index), "", &self.publishers))
            })
            .collect()
    }

    /// Sorts row indexes by one column; missing values first, ties kept in
    /// their order. The first sort by a column ranks every row once; later
    /// sorts by it, of any subset, compare ranks only.
    pub fn sort(&self, indexes: &mut [usize], column: SortColumn, descending: bool) {
        let ranks = self.ranks[column as usize].get_or_init(|| self.rank(column));
        if descending {
            indexes.sort_by_key(|&index| std::cmp::Reverse(ranks[index]));
        } else {
            indexes.sort_by_key(|&index| ranks[index]);
        }
    }

    /// Sorts row indexes by a key the caller computes for each row, such as
    /// a figure from another document; ties kept in their order.
    pub fn sort_by_key<K: Ord>(
        &self,
        indexes: &mut [usize],
        key: impl Fn(LineRow<'_>) -> K,
        descending: bool,
    ) {
        if descending {
            indexes.sort_by_cached_key(|&index| std::cmp::Reverse(key(self.row(index))));
        } else {
            indexes.sort_by_cached_key(|&index| key(self.row(index)));
        }
    }

    /// Each row's place in the order of `column`, missing values first;
    /// equal values share one.
    fn rank(&self, column: SortColumn) -> Vec<u32> {
        match column {
            SortColumn::Invoice => self.rank_by(|row| row.invoice.header.invoice_id.as_ref()),
            SortColumn::InvoiceDate => self.rank_by(|row| row.invoice.header.date),
            SortColumn::Publisher => self.rank_by(|row| self.publishers.of(row.subscription, row.line)),
            SortColumn::Customer => self.rank_by(|row| row.customer.company_name.as_deref()),
            SortColumn::Subscription => self.rank_by(|row| row.subscription.subscription_name.as_deref()),
            SortColumn::Description => self.rank_by(|row| row.line.description.as_deref()),
            SortColumn::ChargeType => self.rank_by(|row| row.line.charge_type.as_deref()),
            SortColumn::StartDate => self.rank_by(|row| row.line.start_date),
            SortColumn::Quantity => self.rank_by(|row| row.line.quantity),
            SortColumn::UnitPrice => self.rank_by(|row| row.line.unit_price),
            SortColumn::ExtendedPrice => self.rank_by(|row| row.line.extended_price),
            SortColumn::Vat => self.rank_by(|row| row.line.vat),
        }
    }

    /// Ranks rows by a key taken from each once, so the sort compares keys
    /// side by side in memory rather than following each row's pointers.
    fn rank_by<'a, K: Ord>(&'a self, key: impl Fn(LineRow<'a>) -> K) -> Vec<u32> {
        let mut keyed: Vec<(K, u32)> =
            (0..self.len()).map(|index| (key(self.row(index)), index as u32)).collect();
        keyed.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let mut ranks = vec![0; self.len()];
        let mut rank = 0;
        for position in 0..keyed.len() {
            if position > 0 && keyed[position - 1].0 != keyed[position].0 {
                rank += 1;
            }
            ranks[keyed[position].1 as usize] = rank;
        }
        ranks
    }

    /// Groups the rows at `indexes` by `by`, groups ordered by key; amounts
    /// in different currencies stay in separate subtotals.
    pub fn group(&self, indexes: &[usize], by: GroupBy) -> Vec<Group> {
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for &index in indexes {
            let row = self.row(index);
            let key = match by {
                GroupBy::Customer => row.customer.company_name.as_deref().map(str::to_owned),
                GroupBy::Subscription => row.subscription.subscription_id.as_ref().map(|id| {
                    let name = row.subscription.subscription_name.as_deref().unwrap_or_default();
                    format!("{id} {name}").trim_end().to_owned()
                }),
                GroupBy::ChargeType => row.line.charge_type.as_deref().map(str::to_owned),
                GroupBy::Publisher => {
                    self.publishers.of(row.subscription, row.line).map(std::borrow::Cow::into_owned)
                }
            }
            .unwrap_or_default();
            let group = groups.entry(key.clone()).or_insert_with(|| Group {
                key,
                rows: Vec::new(),
                subtotals: BTreeMap::new(),
            });
            group.rows.push(index);
            group.subtotals.entry(currency_of(row.invoice).to_owned()).or_default().add_line(row.line);
        }
        groups.into_values().collect()
    }
}

/// What the table can group its rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupBy {
    Customer,
    Subscription,
    ChargeType,
    Publisher,
}

/// Rows sharing one key, with their subtotals per currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub key: String,
    /// Indexes of the rows, in the order given.
    pub rows: Vec<usize>,
    pub subtotals: BTreeMap<String, Sums>,
}

/// A column of the lines table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum SortColumn {
    Invoice,
    InvoiceDate,
    Publisher,
    Customer,
    Subscription,
    Description,
    ChargeType,
    StartDate,
    Quantity,
    UnitPrice,
    ExtendedPrice,
    Vat,
}

impl SortColumn {
    const COUNT: usize = SortColumn::Vat as usize + 1;
}
