//! The team's shared decisions, as the relay keeps them and the app and
//! scripts read them: each profile's settings (publisher corrections and
//! the low-margin threshold), the marks on a month's exceptions, and a
//! month's sign-off. Every change names the version it was made on; one
//! made on an older version is refused with the current state, so nobody's
//! decision is overwritten unseen.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    str::FromStr,
};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DateWindow, Endpoint, minute_utc, routes};
use crate::{
    exceptions::ExceptionKind,
    rows::{LineRow, invoice_rows},
};

/// The calendar month a run's invoices are for, written `2026-09`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InvoiceMonth {
    first_day: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month: write it as YYYY-MM, e.g. 2026-09")]
pub struct NotAMonth(pub String);

impl InvoiceMonth {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|first_day| Self { first_day })
    }

    /// The month whose invoices `window` fetches: one that lies within a
    /// calendar month and runs to its last day, as the whole month does and
    /// the invoice run's window (from the 16th) does; `None` for any other.
    pub fn of_window(window: DateWindow) -> Option<Self> {
        let month = Self::containing(window.start());
        (window.end() == month.last_day()).then_some(month)
    }

    pub fn containing(day: NaiveDate) -> Self {
        Self { first_day: day.with_day(1).expect("every month has a first day") }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day.pred_opt().expect("a month has a day before the next")
    }

    /// From the first day to the last: the window a run of this month fetches.
    pub fn window(self) -> DateWindow {
        DateWindow::new(self.first_day, self.last_day()).expect("a month's first day is not after its last")
    }

    pub fn next(self) -> Self {
        Self { first_day: self.first_day + Months::new(1) }
    }

    /// The month `months` before this one.
    pub fn back(self, months: u32) -> Self {
        Self { first_day: self.first_day - Months::new(months) }
    }
}

impl fmt::Display for InvoiceMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first_day.format("%Y-%m"))
    }
}

impl FromStr for InvoiceMonth {
    type Err = NotAMonth;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_a_month = || NotAMonth(super::request::echoed(text));
        let (year, month) = text.split_once('-').ok_or_else(not_a_month)?;
        if year.len() != 4
            || month.len() != 2
            || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(not_a_month());
        }
        Self::new(year.parse().map_err(|_| not_a_month())?, month.parse().map_err(|_| not_a_month())?)
            .ok_or_else(not_a_month)
    }
}

impl Serialize for InvoiceMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InvoiceMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Who changed something, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The account (e-mail or subject); `you` with sign-in off.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The account that makes changes when the relay has no sign-in: the one
/// person on this machine.
pub const LOCAL_PERSON: &str = "you";

/// A decimal sent as text, so no JSON reader turns it into a float.
mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.trim().parse().map_err(|_| serde::de::Error::custom(format!("`{text}` is not a decimal number")))
    }
}

/// A profile's shared settings: what everyone with it sees the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A margin under this percentage is low. Decimal, 0 to 100.
    #[serde(with = "decimal_text")]
    pub low_margin_percent: Decimal,
    /// Product (a plan's category, or its name) to the publisher it is.
    pub corrections: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { low_margin_percent: Decimal::TEN, corrections: BTreeMap::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadSettings {
    #[error("the low-margin threshold must be a percentage from 0 to 100, not {0}")]
    Threshold(Decimal),
    #[error("a correction needs a product and a publisher; the one for `{0}` has an empty side")]
    EmptyCorrection(String),
}

impl Settings {
    /// The longest product or publisher name kept, in characters.
    pub const NAME_AT_MOST: usize = 200;

    /// Refuses a threshold outside 0–100 or a correction with an empty side.
    pub fn check(&self) -> Result<(), BadSettings> {
        if self.low_margin_percent.is_sign_negative() || self.low_margin_percent > Decimal::ONE_HUNDRED {
            return Err(BadSettings::Threshold(self.low_margin_percent));
        }
        if let Some((product, _)) = self
            .corrections
            .iter()
            .find(|(product, publisher)| product.trim().is_empty() || publisher.trim().is_empty())
        {
            return Err(BadSettings::EmptyCorrection(super::request::echoed(product)));
        }
        Ok(())
    }
}

/// `GET /api/profiles/{profile}/settings`: the settings, the version a
/// change must name, and who last changed them (never, at version 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSettings {
    pub settings: Settings,
    pub version: u64,
    pub changed: Option<Stamp>,
}

/// `PUT /api/profiles/{profile}/settings`: the settings as they should be,
/// made on `base_version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    pub base_version: u64,
    pub settings: Settings,
}

/// A decision on an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// It is right as it is, and the note says why.
    Explained,
    /// Someone has to correct it.
    ToFix,
    /// It was corrected.
    Fixed,
    /// It is wrong, and left so knowingly.
    Accepted,
}

impl ReviewStatus {
    pub const ALL: [Self; 4] = [Self::Explained, Self::ToFix, Self::Fixed, Self::Accepted];

    pub fn label(self) -> &'static str {
        match self {
            Self::Explained => "Explained",
            Self::ToFix => "To fix",
            Self::Fixed => "Fixed",
            Self::Accepted => "Accepted",
        }
    }

    /// The name as sent, e.g. `to_fix`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Explained => "explained",
            Self::ToFix => "to_fix",
            Self::Fixed => "fixed",
            Self::Accepted => "accepted",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.name() == name)
    }

    /// Whether the item still needs work: only "to fix" does.
    pub fn is_open(self) -> bool {
        self == Self::ToFix
    }
}

/// Which line an exception is about, stable across fetches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineIdentity {
    /// The vendor's `InvoiceRowHash`, the same on the purchase and the sale.
    RowHash(String),
    /// Where the line has no hash: its invoice and its place on it (from 1).
    InvoiceLine { invoice: String, line: usize },
}

impl LineIdentity {
    /// The line's `InvoiceRowHash`, else its invoice and its place on it.
    pub fn of(row: &LineRow<'_>) -> Self {
        if let Some(hash) =
            row.line.invoice_row_hash.as_deref().map(str::trim).filter(|hash| !hash.is_empty())
        {
            return Self::RowHash(hash.to_owned());
        }
        let place =
            invoice_rows(row.invoice).position(|other| std::ptr::eq(other.line, row.line)).unwrap_or(0);
        let invoice = row.invoice.header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default();
        Self::InvoiceLine { invoice, line: place + 1 }
    }
}

/// One item of the worklist: the kind of exception and the line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemId {
    pub kind: ExceptionKind,
    pub line: LineIdentity,
}

impl ItemId {
    /// The item as one text, the key it is kept under: `NotBilled hash
    /// 0a1b…` or `NoRowHash line 4 of INV-1`. Reads back with [`Self::from_key`].
    pub fn key(&self) -> String {
        match &self.line {
            LineIdentity::RowHash(hash) => format!("{:?} hash {hash}", self.kind),
            LineIdentity::InvoiceLine { invoice, line } => {
                format!("{:?} line {line} of {invoice}", self.kind)
            }
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, rest) = key.split_once(' ')?;
        let kind = ExceptionKind::ALL.into_iter().find(|candidate| format!("{candidate:?}") == kind)?;
        let line = if let Some(hash) = rest.strip_prefix("hash ") {
            LineIdentity::RowHash(hash.to_owned())
        } else {
            let (line, invoice) = rest.strip_prefix("line ")?.split_once(" of ")?;
            LineIdentity::InvoiceLine { invoice: invoice.to_owned(), line: line.parse().ok()? }
        };
        Some(Self { kind, line })
    }
}

/// A mark on an item: the decision and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub status: ReviewStatus,
    pub note: String,
}

impl Mark {
    /// The longest note kept, in characters.
    pub const NOTE_AT_MOST: usize = 2000;
}

/// An item's decision in a month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub item: ItemId,
    pub month: InvoiceMonth,
    pub mark: Mark,
    pub version: u64,
    pub changed: Stamp,
}

/// `PUT /api/profiles/{profile}/reviews/{month}`: a mark on `item`, made on
/// `base_version` (0 for an item nobody marked this month).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewChange {
    pub item: ItemId,
    pub base_version: u64,
    pub mark: Mark,
}

/// `GET /api/profiles/{profile}/reviews/{month}`: the month's decisions,
/// the latest earlier decision of each other item decided in the year
/// before, and the month's sign-offs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthDecisions {
    pub month: InvoiceMonth,
    pub reviews: Vec<Review>,
    pub earlier: Vec<Review>,
    pub sign_offs: Vec<SignOff>,
}

impl MonthDecisions {
    /// How far back an earlier decision is carried.
    pub const EARLIER_MONTHS: u32 = 12;

    /// The sign-off in force that makes this month read-only, if any.
    pub fn signed_off(&self) -> Option<&SignOff> {
        self.sign_offs.iter().find(|sign_off| sign_off.is_in_force())
    }
}

/// A month's marks and the earlier ones, by item: what the worklist, its
/// counts and its files show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    this_month: HashMap<String, Review>,
    earlier: HashMap<String, Review>,
}

impl Decided {
    pub fn new(decisions: &MonthDecisions) -> Self {
        let by_item =
            |reviews: &[Review]| reviews.iter().map(|review| (review.item.key(), review.clone())).collect();
        Self { this_month: by_item(&decisions.reviews), earlier: by_item(&decisions.earlier) }
    }

    /// How many items have a decision this month.
    pub fn marked(&self) -> usize {
        self.this_month.len()
    }

    pub fn this_month(&self, item: &ItemId) -> Option<&Review> {
        self.this_month.get(&item.key())
    }

    /// The item's decision in an earlier month, while it has none in this one.
    pub fn earlier(&self, item: &ItemId) -> Option<&Review> {
        let key = item.key();
        if self.this_month.contains_key(&key) { None } else { self.earlier.get(&key) }
    }

    /// Whether the item still needs a decision this month: none yet, or "to fix".
    pub fn is_open(&self, item: &ItemId) -> bool {
        self.this_month(item).is_none_or(|review| review.mark.status.is_open())
    }

    /// Status, note, who and when, as a file shows them; an earlier
    /// month's decision says which month it is from.
    pub fn cells(&self, item: &ItemId) -> [String; 4] {
        let (review, from) = match (self.this_month(item), self.earlier(item)) {
            (Some(review), _) => (review, String::new()),
            (None, Some(review)) => (review, format!(" (in {})", review.month)),
            (None, None) => return ["Open".to_owned(), String::new(), String::new(), String::new()],
        };
        [
            format!("{}{from}", review.mark.status.label()),
            review.mark.note.clone(),
            review.changed.by.clone(),
            minute_utc(review.changed.at),
        ]
    }
}

/// One change of an item, as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewHistoryEntry {
    pub item: ItemId,
    pub version: u64,
    pub before: Option<Mark>,
    pub after: Mark,
    pub changed: Stamp,
}

/// One change of the settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsHistoryEntry {
    pub version: u64,
    pub before: Settings,
    pub after: Settings,
    pub changed: Stamp,
}

/// A document a sign-off holds to, by its archive record and its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedDocument {
    pub id: i64,
    pub endpoint: Endpoint,
    pub sha256: String,
    pub fetched_at: DateTime<Utc>,
}

/// What a run's sign-off says now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SignOffState {
    /// Done: the documents and the decisions as they stood.
    SignedOff { documents: Vec<PinnedDocument>, reviews: Vec<Review>, settings: Settings },
    /// Opened again, and why.
    Reopened { reason: String },
}

/// The sign-off of a run: a profile's endpoint for a month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub endpoint: Endpoint,
    pub month: InvoiceMonth,
    pub version: u64,
    #[serde(flatten)]
    pub state: SignOffState,
    pub changed: Stamp,
}

impl SignOff {
    pub fn is_in_force(&self) -> bool {
        matches!(self.state, SignOffState::SignedOff { .. })
    }

    /// "Signed off by … on …", with the documents it holds to; `None`
    /// unless in force.
    pub fn statement(&self) -> Option<String> {
        let SignOffState::SignedOff { documents, .. } = &self.state else { return None };
        let held: Vec<String> = documents
            .iter()
            .map(|document| {
                format!(
                    "{} (archived {}, SHA-256 {})",
                    document.endpoint.path(),
                    document.id,
                    document.sha256
                )
            })
            .collect();
        Some(format!(
            "{} signed off by {} on {}, holding to {}",
            self.month,
            self.changed.by,
            minute_utc(self.changed.at),
            held.join(" and ")
        ))
    }

    /// The pinned copy of `endpoint`'s document, while signed off.
    pub fn pinned(&self, endpoint: Endpoint) -> Option<&PinnedDocument> {
        match &self.state {
            SignOffState::SignedOff { documents, .. } => {
                documents.iter().find(|document| document.endpoint == endpoint)
            }
            SignOffState::Reopened { .. } => None,
        }
    }
}

/// What a sign-off change does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum SignOffAction {
    /// Signs the run off, holding to these archived documents (the run's
    /// own and the ones it was compared with).
    SignOff { documents: Vec<i64> },
    /// Opens it again; the reason is required and audited.
    Reopen { reason: String },
}

/// `PUT /api/profiles/{profile}/sign-off/{month}`, made on `base_version`
/// (0 for a run never signed off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffChange {
    pub endpoint: Endpoint,
    pub base_version: u64,
    #[serde(flatten)]
    pub action: SignOffAction,
}

/// What changed, as `GET /api/profiles/{profile}/events` tells it; the
/// page reads the part named again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "topic")]
pub enum DecisionEvent {
    Settings { version: u64 },
    Review { month: InvoiceMonth, version: u64 },
    SignOff { month: InvoiceMonth, endpoint: Endpoint, version: u64 },
}

/// The routes of the shared decisions, under a profile.
pub mod paths {
    use super::{InvoiceMonth, routes};

    fn profile(profile: &str) -> String {
        format!("{}/{}", routes::PROFILES, super::super::request::encode(profile))
    }

    /// `GET`, `PUT`: the settings.
    pub fn settings(name: &str) -> String {
        format!("{}/settings", profile(name))
    }

    /// `GET`: each change of the settings, newest first.
    pub fn settings_history(name: &str) -> String {
        format!("{}/settings/history", profile(name))
    }

    /// `GET`: a month's decisions; `PUT`: a mark.
    pub fn reviews(name: &str, month: InvoiceMonth) -> String {
        format!("{}/reviews/{month}", profile(name))
    }

    /// `GET`: each change of a month's marks, newest first.
    pub fn review_history(name: &str, month: InvoiceMonth) -> String {
        format!("{}/reviews/{month}/history", profile(name))
    }

    /// `PUT`: signs a month's run off or reopens it.
    pub fn sign_off(name: &str, month: InvoiceMonth) -> String {
        format!("{}/sign-off/{month}", profile(name))
    }

    /// `GET`: server-sent events, one per change of the profile's decisions.
    pub fn events(name: &str) -> String {
        format!("{}/events", profile(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_month_is_read_written_and_spans_its_days() {
        let month: InvoiceMonth = "2024-02".parse().unwrap();
        assert_eq!(month.to_string(), "2024-02");
        assert_eq!((month.first_day(), month.last_day()), (day("2024-02-01"), day("2024-02-29")));
        assert_eq!(month.next().to_string(), "2024-03");
        assert_eq!(month.back(12).to_string(), "2023-02");
        assert_eq!("2026-12".parse::<InvoiceMonth>().unwrap().next().to_string(), "2027-01");
        for bad in ["2024-13", "2024-00", "24-02", "2024-2", "2024/02", "2024-02-01", "", "abcd-ef"] {
            assert!(bad.parse::<InvoiceMonth>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&month).unwrap();
        assert_eq!(json, "\"2024-02\"");
        assert_eq!(serde_json::from_str::<InvoiceMonth>(&json).unwrap(), month);
        assert!(serde_json::from_str::<InvoiceMonth>("\"2024-13\"").is_err());
    }

    #[test]
    fn a_month_is_a_window_within_one_calendar_month_to_its_last_day() {
        let window = |start: &str, end: &str| DateWindow::new(day(start), day(end)).unwrap();
        assert_eq!(
            InvoiceMonth::of_window(window("2026-09-01", "2026-09-30")),
            Some("2026-09".parse().unwrap())
        );
        assert_eq!(InvoiceMonth::of_window(window("2026-09-01", "2026-09-29")), None);
        assert_eq!(
            InvoiceMonth::of_window(window("2026-09-16", "2026-09-30")),
            Some("2026-09".parse().unwrap()),
            "the invoice run's window"
        );
        assert_eq!(InvoiceMonth::of_window(window("2026-08-01", "2026-09-30")), None);
        assert_eq!(InvoiceMonth::of_window(window("2026-08-16", "2026-08-30")), None);
        let month: InvoiceMonth = "2026-02".parse().unwrap();
        assert_eq!(InvoiceMonth::of_window(month.window()), Some(month));
    }

    #[test]
    fn an_item_key_reads_back_whatever_its_invoice_holds() {
        let items = [
            ItemId { kind: ExceptionKind::NotBilled, line: LineIdentity::RowHash("0a1b2c".to_owned()) },
            ItemId {
                kind: ExceptionKind::NoRowHash,
                line: LineIdentity::InvoiceLine { invoice: "INV 7 of 9".to_owned(), line: 4 },
            },
            ItemId {
                kind: ExceptionKind::ConsolidatedDisagrees,
                line: LineIdentity::InvoiceLine { invoice: String::new(), line: 1 },
            },
        ];
        for item in items {
            assert_eq!(ItemId::from_key(&item.key()), Some(item.clone()), "{}", item.key());
            let json = serde_json::to_string(&item).unwrap();
            assert_eq!(serde_json::from_str::<ItemId>(&json).unwrap(), item);
        }
        for bad in ["", "NotBilled", "Nope hash 1", "NotBilled line x of INV", "NotBilled row 1"] {
            assert_eq!(ItemId::from_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_line_is_known_by_its_hash_else_by_its_invoice_and_place() {
        let document = crate::json::parse_invoices(
            br#"{"Invoices":[{"Header":{"InvoiceID":"INV-9"},"Customers":[{"Subscriptions":[{"PriceLines":[
                {"InvoiceRowHash":"aa11","ExtendedPrice":"1"},
                {"InvoiceRowHash":"  ","ExtendedPrice":"2"},
                {"ExtendedPrice":"3"}]}]}]}]}"#,
        )
        .unwrap();
        let identities: Vec<LineIdentity> =
            crate::rows::rows(&document).map(|row| LineIdentity::of(&row)).collect();
        assert_eq!(
            identities,
            [
                LineIdentity::RowHash("aa11".to_owned()),
                LineIdentity::InvoiceLine { invoice: "INV-9".to_owned(), line: 2 },
                LineIdentity::InvoiceLine { invoice: "INV-9".to_owned(), line: 3 },
            ]
        );
    }

    #[test]
    fn an_item_is_open_until_decided_this_month_and_shows_an_earlier_decision() {
        let review = |hash: &str, month: &str, status| Review {
            item: ItemId { kind: ExceptionKind::NotBilled, line: LineIdentity::RowHash(hash.to_owned()) },
            month: month.parse().unwrap(),
            mark: Mark { status, note: format!("note {hash}") },
            version: 1,
            changed: Stamp { by: "bob@corp.example".to_owned(), at: "2026-10-05T09:30:00Z".parse().unwrap() },
        };
        let decided = Decided::new(&MonthDecisions {
            month: "2026-10".parse().unwrap(),
            reviews: vec![
                review("a", "2026-10", ReviewStatus::Explained),
                review("b", "2026-10", ReviewStatus::ToFix),
            ],
            earlier: vec![review("c", "2026-09", ReviewStatus::Accepted)],
            sign_offs: Vec::new(),
        });
        let item = |hash: &str| ItemId {
            kind: ExceptionKind::NotBilled,
            line: LineIdentity::RowHash(hash.to_owned()),
        };
        assert!(!decided.is_open(&item("a")));
        assert!(decided.is_open(&item("b")), "to fix is still open");
        assert!(decided.is_open(&item("c")), "an earlier decision is shown, not taken");
        assert!(decided.is_open(&item("d")));
        assert_eq!(
            decided.cells(&item("a")),
            ["Explained", "note a", "bob@corp.example", "2026-10-05 09:30 UTC"].map(String::from)
        );
        assert_eq!(decided.cells(&item("c"))[0], "Accepted (in 2026-09)");
        assert_eq!(decided.cells(&item("d"))[0], "Open");
        let other_kind =
            ItemId { kind: ExceptionKind::LowMargin, line: LineIdentity::RowHash("a".to_owned()) };
        assert!(decided.is_open(&other_kind), "the kind is part of the item");
    }

    #[test]
    fn settings_refuse_a_threshold_out_of_range_and_an_empty_correction() {
        assert_eq!(Settings::default().check(), Ok(()));
        let mut settings = Settings { low_margin_percent: Decimal::new(-1, 0), ..Settings::default() };
        assert!(matches!(settings.check(), Err(BadSettings::Threshold(_))));
        settings.low_margin_percent = Decimal::new(1001, 1);
        assert!(matches!(settings.check(), Err(BadSettings::Threshold(_))));
        settings.low_margin_percent = Decimal::new(125, 1);
        assert_eq!(settings.check(), Ok(()));
        settings.corrections.insert("Telephony".to_owned(), " ".to_owned());
        assert!(matches!(settings.check(), Err(BadSettings::EmptyCorrection(_))));
        let json = r#"{"low_margin_percent":"7.5","corrections":{"Telephony":"KPN"}}"#;
        let read: Settings = serde_json::from_str(json).unwrap();
        assert_eq!(read.low_margin_percent, Decimal::new(75, 1));
        assert_eq!(serde_json::to_string(&read).unwrap(), json);
    }

    #[test]
    fn a_sign_off_and_its_change_are_sent_flat() {
        let change = SignOffChange {
            endpoint: Endpoint::Invoices,
            base_version: 2,
            action: SignOffAction::Reopen { reason: "the vendor re-issued".to_owned() },
        };
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["action"], "reopen");
        assert_eq!(json["reason"], "the vendor re-issued");
        assert_eq!(serde_json::from_value::<SignOffChange>(json).unwrap(), change);
        let event = DecisionEvent::Review { month: "2026-09".parse().unwrap(), version: 3 };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"topic":"review","month":"2026-09","version":3}"#
        );
    }

    #[test]
    fn only_to_fix_leaves_an_item_open() {
        let open: Vec<_> = ReviewStatus::ALL.into_iter().filter(|status| status.is_open()).collect();
        assert_eq!(open, [ReviewStatus::ToFix]);
        for status in ReviewStatus::ALL {
            assert_eq!(ReviewStatus::from_name(status.name()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.name());
        }
    }

    #[test]
    fn paths_escape_the_profile() {
        let month: InvoiceMonth = "2026-09".parse().unwrap();
        assert_eq!(paths::reviews("demo", month), "/api/profiles/demo/reviews/2026-09");
        assert_eq!(paths::sign_off("a b/c", month), "/api/profiles/a%20b%2Fc/sign-off/2026-09");
        assert_eq!(paths::events("demo"), "/api/profiles/demo/events");
    }
}
