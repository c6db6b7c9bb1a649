//! Scheduled runs, as the relay keeps them and the app and scripts read
//! them (`GET /api/runs`): what a job fetched, whether it worked, and what
//! it found: the totals, the change from the month before and the worklist.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DateWindow, Endpoint, decisions::InvoiceMonth};
use crate::exceptions::ExceptionKind;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A relay is on it now.
    Running,
    /// The vendor has not published the month's invoices yet: tried again
    /// on the next day, never reported as a failure.
    NotYetPublished,
    Succeeded,
    /// The vendor kept failing past the retries; `error` says how.
    Failed,
}

impl RunStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::NotYetPublished => "Not published yet",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
        }
    }
}

/// One currency's totals, as decimal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub invoices: usize,
    pub lines: usize,
    pub excluding_vat: String,
    pub vat: String,
    pub including_vat: String,
}

/// One currency's total excluding VAT against the month before's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyChange {
    pub currency: String,
    pub before: String,
    pub after: String,
    pub difference: String,
    /// The difference as a percentage of `before`, to one decimal; `None`
    /// when there was nothing before.
    pub percent: Option<String>,
}

/// What changed since the month before's archived run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthChange {
    pub earlier_month: InvoiceMonth,
    /// The archived document compared with.
    pub earlier_document: i64,
    pub per_currency: Vec<CurrencyChange>,
    /// Charges new, gone or different.
    pub charges_changed: usize,
    pub charges_unchanged: usize,
}

/// One kind on the worklist: how many lines, and the amount at stake per
/// currency as decimal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub lines: usize,
    pub at_stake: BTreeMap<String, String>,
}

/// What a successful run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    pub totals: Vec<CurrencyTotal>,
    /// `None` when the archive has no run of the month before.
    pub change: Option<MonthChange>,
    /// Per kind with any line; only the kinds one side alone can show
    /// unless the other side was fetched too.
    pub exceptions: BTreeMap<ExceptionKind, KindCount>,
    /// Whether the other side was fetched and joined for the worklist.
    pub joined: bool,
    /// The low-margin threshold the worklist used, in percent.
    pub low_margin_percent: String,
}

/// One run of one job for one month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub job: String,
    pub profile: String,
    pub endpoint: Endpoint,
    pub month: InvoiceMonth,
    pub window: DateWindow,
    pub status: RunStatus,
    /// Attempts at the vendor so far, retries included.
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The archived copies fetched: the document, and its other side.
    pub documents: Vec<i64>,
    pub findings: Option<Findings>,
    /// Why it failed or waits, in the vendor's or the relay's words.
    pub error: Option<String>,
}

impl RunRecord {
    /// A few lines of plain text: the outcome, the totals, the change from
    /// the month before, the worklist's counts.
    pub fn summary(&self) -> String {
        let attempts =
            if self.attempts == 1 { "1 attempt".to_owned() } else { format!("{} attempts", self.attempts) };
        let mut lines = vec![format!(
            "{} of {} ({}) for {}: {} after {attempts}",
            self.job,
            self.profile,
            self.endpoint.path(),
            self.month,
            self.status.label().to_lowercase()
        )];
        lines.extend(self.error.iter().map(|error| format!("  {error}")));
        let Some(findings) = &self.findings else { return lines.join("\n") };
        for total in &findings.totals {
            lines.push(format!(
                "  {} {} excluding VAT, {} VAT ({} invoices, {} lines)",
                total.currency, total.excluding_vat, total.vat, total.invoices, total.lines
            ));
        }
        match &findings.change {
            Some(change) => {
                for currency in &change.per_currency {
                    let percent = currency
                        .percent
                        .as_ref()
                        .map(|percent| format!(" ({percent} %)"))
                        .unwrap_or_default();
                    lines.push(format!(
                        "  {} since {}: {} to {}, {}{percent}",
                        currency.currency,
                        change.earlier_month,
                        currency.before,
                        currency.after,
                        currency.difference
                    ));
                }
                lines.push(format!(
                    "  {} charges changed since {}",
                    change.charges_changed, change.earlier_month
                ));
            }
            None => lines.push("  no archived run of the month before to compare with".to_owned()),
        }
        if findings.exceptions.is_empty() {
            lines.push("  nothing on the worklist".to_owned());
        }
        for (kind, count) in &findings.exceptions {
            let stake: Vec<String> =
                count.at_stake.iter().map(|(currency, amount)| format!("{currency} {amount}")).collect();
            lines.push(format!("  {}: {} lines, {} at stake", kind.label(), count.lines, stake.join(", ")));
        }
        lines.join("\n")
    }
}

/// `GET /api/runs`: the newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunsPage {
    pub runs: Vec<RunRecord>,
}

/// `GET /api/runs?job=…&limit=…`: both optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunsQuery {
    pub job: Option<String>,
    pub limit: Option<u32>,
}

impl RunsQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MOST: u32 = 500;

    /// Reads a query string, refusing what it does not know.
    pub fn parse(query: &str) -> Result<Self, String> {
        let mut parsed = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "job" => parsed.job = Some(value.into_owned()),
                "limit" => {
                    let limit = value.parse().ok().filter(|limit| (1..=Self::MOST).contains(limit));
                    parsed.limit = Some(limit.ok_or_else(|| {
                        format!("limit must be 1 to {}, not `{}`", Self::MOST, super::request::echoed(&value))
                    })?);
                }
                other => {
                    return Err(format!("runs take job and limit, not `{}`", super::request::echoed(other)));
                }
            }
        }
        Ok(parsed)
    }

    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// The route with this query.
    pub fn path(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(job) = &self.job {
            query.append_pair("job", job);
        }
        if let Some(limit) = self.limit {
            query.append_pair("limit", &limit.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            super::routes::RUNS.to_owned()
        } else {
            format!("{}?{query}", super::routes::RUNS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_snake_case_on_the_wire() {
        assert_eq!(serde_json::to_string(&RunStatus::NotYetPublished).unwrap(), "\"not_yet_published\"");
        assert_eq!(serde_json::from_str::<RunStatus>("\"failed\"").unwrap(), RunStatus::Failed);
        assert_eq!(RunStatus::NotYetPublished.label(), "Not published yet");
    }

    #[test]
    fn runs_queries_round_trip_and_refuse_what_they_cannot_read() {
        let query = RunsQuery { job: Some("purchases run".into()), limit: Some(20) };
        assert_eq!(query.path(), "/api/runs?job=purchases+run&limit=20");
        assert_eq!(RunsQuery::parse("job=purchases+run&limit=20").unwrap(), query);
        assert_eq!(RunsQuery::parse("").unwrap().limit(), RunsQuery::DEFAULT_LIMIT);
        assert!(RunsQuery::parse("limit=0").unwrap_err().contains("limit must be 1 to 500"));
        assert!(RunsQuery::parse("profile=x").unwrap_err().contains("not `profile`"));
    }
}
