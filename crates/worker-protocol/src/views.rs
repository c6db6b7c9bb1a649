//! The worker's answers: what the page shows, already counted, totalled
//! and cut to what is on screen. Text is final; amounts are exact decimal
//! text for the page to format in the reader's locale.

use billing::{
    api::decisions::{ItemId, Review},
    changes::ChangeKind,
    exceptions::{ExceptionKind, Side},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A list cut to its first items, with how many there are in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub total: usize,
    pub first: Vec<T>,
}

impl<T> Listed<T> {
    /// The first `limit` of `items`, counting them all.
    pub fn first(items: impl IntoIterator<Item = T>, limit: usize) -> Self {
        let mut total = 0;
        let mut first = Vec::new();
        for item in items {
            if total < limit {
                first.push(item);
            }
            total += 1;
        }
        Self { total, first }
    }
}

/// What a document opened as, by its slot and contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opened {
    Invoices(InvoicesOverview),
    SubscriptionDetails(DetailsView),
    /// The other side, joined with the main document.
    Margin(MarginView),
    /// The vendor's consolidated view, compared with that join.
    Comparison(ComparisonView),
    /// An earlier window, compared with the main document.
    Changes(ChangesView),
}

/// What changed from an earlier window to the one shown, per currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesView {
    pub per_currency: Vec<AmountChange>,
    /// Per customer and currency, the largest difference first.
    pub per_customer: Vec<AmountChange>,
    /// The charges that changed, the largest difference first.
    pub changes: Listed<ChargeChange>,
    pub unchanged: usize,
    /// Whether both windows are joined with their other side, so a change
    /// of margin is found too.
    pub joined: bool,
}

/// How the customers and charges that changed are listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeOrder {
    /// The largest difference, up or down, first.
    #[default]
    Difference,
    /// By customer name, then the largest difference first.
    Customer,
    /// The largest amount in the earlier window first.
    Before,
    /// The largest amount in this window first.
    After,
}

impl ChangeOrder {
    pub const ALL: [ChangeOrder; 4] =
        [ChangeOrder::Difference, ChangeOrder::Customer, ChangeOrder::Before, ChangeOrder::After];
}

/// Amounts in the earlier window and in this one, in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountChange {
    /// The customer, or empty for a currency's total.
    pub customer: String,
    pub currency: String,
    pub before: String,
    pub after: String,
    pub difference: String,
}

/// One charge (customer, subscription, charge type, SKU) that changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeChange {
    /// Its place in the comparison, to ask for its lines.
    pub index: u32,
    pub customer: String,
    pub subscription: String,
    pub charge_type: String,
    pub sku: String,
    pub currency: String,
    pub kinds: Vec<ChangeKind>,
    pub before_quantity: String,
    pub after_quantity: String,
    pub before_amount: String,
    pub after_amount: String,
    pub difference: String,
}

/// A line of a changed charge, in one window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowLine {
    pub invoice: String,
    pub date: String,
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
    pub currency: String,
}

/// An invoice document at a glance, and what its views offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicesOverview {
    pub summary: SummaryView,
    pub invoices: Vec<InvoiceRow>,
    pub choices: Choices,
    /// The currencies the lines are in; the charts start with the first.
    pub currencies: Vec<String>,
    /// What a screen reader is told once the document is read.
    pub announcement: String,
    pub products: Vec<ProductRow>,
}

/// A product (a plan's category, or its plan name) and its publisher.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRow {
    pub product: String,
    /// What the data says, if anything.
    pub read: Option<String>,
    /// What it is told as, the user's correction included.
    pub publisher: Option<String>,
    pub lines: usize,
}

/// The month-end worklist: per kind, how many lines and the amount at
/// stake per currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionsView {
    /// Whether both sides are joined; without, only the kinds one document
    /// shows on its own are looked for.
    pub joined: bool,
    pub kinds: Vec<ExceptionRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRow {
    pub kind: ExceptionKind,
    pub count: usize,
    /// Not yet decided this month, or marked "to fix".
    pub open: usize,
    /// Currency and amount.
    pub at_stake: Vec<(String, String)>,
}

/// One line on the worklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedLine {
    pub item: ItemId,
    /// Its decision this month, or else its latest in an earlier one.
    pub review: Option<Review>,
    pub earlier: Option<Review>,
    pub side: Side,
    pub invoice: String,
    pub customer: String,
    pub description: String,
    pub currency: String,
    pub amount: String,
    pub at_stake: String,
}

/// The products and the publishers the filter offers, after a correction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishersView {
    pub products: Vec<ProductRow>,
    pub publishers: Vec<String>,
}

/// How many invoices, customers and lines, and the totals per currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryView {
    pub invoices: usize,
    pub customers: usize,
    pub lines: usize,
    pub per_currency: Vec<CurrencyTotal>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub invoices: usize,
    pub excluding_vat: String,
    pub vat: String,
    pub including_vat: String,
}

/// One invoice in the list, its totals from its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub number: String,
    pub date: String,
    pub due: String,
    pub sender: String,
    pub receiver: String,
    pub currency: String,
    pub excluding_vat: String,
    pub vat: String,
    pub including_vat: String,
    /// How many of its stated amounts disagree with its lines.
    pub discrepancies: usize,
}

/// The values the lines table's filters offer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub customers: Vec<String>,
    pub publishers: Vec<String>,
    pub invoices: Vec<String>,
    pub charge_types: Vec<String>,
    pub service_months: Vec<NaiveDate>,
}

/// One cell of a row: text as it is, or a decimal to format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cell {
    Empty,
    Text(String),
    /// A plain decimal: a quantity, a duration.
    Number(String),
    /// An amount in the row's currency.
    Money(String),
}

/// One row's cells; negative when its amount is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCells {
    pub currency: String,
    pub negative: bool,
    pub cells: Vec<Cell>,
}

/// The answers to questions about the main document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Lines(LineWindow),
    Groups {
        groups: Vec<GroupRow>,
    },
    Charts(ChartsView),
    Invoice(Box<InvoiceView>),
    /// The file travels beside the message as a Blob of type `media`.
    Download {
        file_name: String,
        media: String,
    },
    Publishers(PublishersView),
    Exceptions(ExceptionsView),
    ExceptionLines(Listed<FlaggedLine>),
    /// The month's decisions are kept: how many marks it has.
    Decided {
        reviews: usize,
    },
    ChangeLines {
        before: Vec<WindowLine>,
        after: Vec<WindowLine>,
    },
    Changes(ChangesView),
}

/// A window onto the lines that pass a filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineWindow {
    /// How many lines pass the filter.
    pub shown: usize,
    /// The index of the first row here among them.
    pub first: usize,
    pub rows: Vec<LineCells>,
}

/// One group's subtotal in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub key: String,
    pub lines: usize,
    pub currency: String,
    pub excluding_vat: String,
    pub vat: String,
}

/// A bar of a chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarView {
    pub label: String,
    pub amount: String,
}

/// The charts' figures in one currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartsView {
    pub months: Vec<BarView>,
    pub customers: Vec<BarView>,
    pub charge_types: Vec<BarView>,
    pub publishers: Vec<BarView>,
    /// Once the other side is joined.
    pub margins: Option<Vec<BarView>>,
}

/// A sender or receiver.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub vat_number: String,
}

/// One invoice whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    pub number: String,
    pub date: String,
    pub due: String,
    pub invoice_type: String,
    pub description: String,
    pub currency: String,
    /// The vendor's stated totals: excluding VAT, VAT, including VAT.
    pub stated: [Option<String>; 3],
    /// Where the stated amounts disagree with the lines, in words.
    pub discrepancies: Vec<String>,
    pub sender: Party,
    pub receiver: Party,
    /// Lines have purchase and sales columns rather than one price.
    pub consolidated: bool,
    pub customers: Vec<CustomerView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub name: String,
    pub number: Option<String>,
    pub cost_centre: Option<String>,
    pub subscriptions: Vec<SubscriptionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub name: String,
    pub id: String,
    pub plan: Option<String>,
    /// `Attribute: value`, the shown ones.
    pub attributes: Vec<String>,
    /// The cells under [`InvoiceView::consolidated`]'s headings.
    pub lines: Vec<LineCells>,
}

/// One subscription's terms, plan and resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsView {
    pub subscription_id: String,
    pub plan_name: String,
    pub category: String,
    pub runs: String,
    pub term: String,
    pub billed_every: String,
    pub plan_every: String,
    pub trial: bool,
    pub setup_fee: Option<String>,
    pub recurring_fee: Option<String>,
    pub renewal_fee: Option<String>,
    /// Resource, manufacturer, MPN, included, amount, unit, setup,
    /// recurring and overuse fee.
    pub resources: Vec<Vec<Cell>>,
}

/// Cost, sale and margin of a customer or subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginRow {
    pub customer: String,
    pub subscription: Option<String>,
    pub currency: String,
    pub cost: String,
    pub sale: String,
    pub margin: String,
    /// The margin as a share of the sale, rounded: `"16.7 %"`.
    pub percent: Option<String>,
}

/// A line found on one side of the join only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneSidedView {
    pub invoice: String,
    pub customer: String,
    pub description: String,
    pub amount: Option<String>,
    pub currency: String,
}

/// The exact join of purchase and customer lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginView {
    pub matched: usize,
    pub currency_mismatches: usize,
    pub per_customer: Vec<MarginRow>,
    pub per_subscription: Vec<MarginRow>,
    pub purchase_only: Listed<OneSidedView>,
    pub sale_only: Listed<OneSidedView>,
}

/// Where the vendor's consolidated view disagrees with the exact join.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonView {
    pub agreeing: usize,
    pub missing: Listed<String>,
    pub duplicated: Listed<String>,
    pub differing: Listed<String>,
    pub unknown: usize,
}
