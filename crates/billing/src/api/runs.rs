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

/// What changed since the month before's archived run; for a cron rule's
/// fixed window, since the window's copy before this run's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthChange {
    /// The month compared with: the run's own for a fixed window.
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
    /// What makes it one run of its job: the month (`2026-10`), or a cron
    /// rule's time (`2026-12-07T06:30`).
    pub slot: String,
    /// The invoice month of the window's start.
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
    /// The channels told of it so far: `email`, `webhook:NAME`.
    #[serde(default)]
    pub told: Vec<String>,
}

/// What a webhook of shape `json` receives when a run ends: the run, the
/// same few lines an e-mail opens with, and the link that opens its month
/// in the portal. Teams and Slack get their own shapes of the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNotice {
    /// Always `run_ended`, so a receiver can tell this notice from others.
    pub event: String,
    pub subject: String,
    pub summary: String,
    pub link: String,
    pub run: RunRecord,
}

impl RunNotice {
    pub const EVENT: &'static str = "run_ended";

    pub fn new(run: RunRecord, link: String) -> Self {
        Self { event: Self::EVENT.to_owned(), subject: run.subject(), summary: run.summary(), link, run }
    }
}

impl RunRecord {
    /// The period fetched in words: the month when the window is one,
    /// else its dates and the cron time of this run.
    pub fn period(&self) -> String {
        if InvoiceMonth::of_window(self.window) == Some(self.month) && self.slot == self.month.to_string() {
            self.month.to_string()
        } else {
            format!(
                "{} to {} (run of {})",
                self.window.start(),
                self.window.end(),
                self.slot.replace('T', " ")
            )
        }
    }

    /// One line for a message's subject: the job's month and its outcome.
    pub fn subject(&self) -> String {
        let lines: usize = self
            .findings
            .iter()
            .flat_map(|findings| findings.exceptions.values())
            .map(|count| count.lines)
            .sum();
        let outcome = match self.status {
            RunStatus::Failed => "failed".to_owned(),
            RunStatus::Running => "running".to_owned(),
            RunStatus::NotYetPublished => "not published yet".to_owned(),
            RunStatus::Succeeded if lines == 0 => "nothing on the worklist".to_owned(),
            RunStatus::Succeeded => format!("{lines} lines on the worklist"),
        };
        format!("Billing {} {} of {}: {outcome}", self.endpoint.path(), self.period(), self.profile)
    }

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
            self.period(),
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
                // A watched window compares with its own earlier copy.
                let since = if change.earlier_month == self.month {
                    "the last run".to_owned()
                } else {
                    change.earlier_month.to_string()
                };
                for currency in &change.per_currency {
                    let percent = currency
                        .percent
                        .as_ref()
                        .map(|percent| format!(" ({percent} %)"))
                        .unwrap_or_default();
                    lines.push(format!(
                        "  {} since {since}: {} to {}, {}{percent}",
                        currency.currency, currency.before, currency.after, currency.difference
                    ));
                }
                lines.push(format!("  {} charges changed since {since}", change.charges_changed));
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

/// `GET /api/runs?profile=…&job=…&limit=…`: each optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunsQuery {
    pub profile: Option<String>,
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
                "profile" => parsed.profile = Some(value.into_owned()),
                "job" => parsed.job = Some(value.into_owned()),
                "limit" => {
                    let limit = value.parse().ok().filter(|limit| (1..=Self::MOST).contains(limit));
                    parsed.limit = Some(limit.ok_or_else(|| {
                        format!("limit must be 1 to {}, not `{}`", Self::MOST, super::request::echoed(&value))
                    })?);
                }
                other => {
                    return Err(format!(
                        "runs take profile, job and limit, not `{}`",
                        super::request::echoed(other)
                    ));
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
        if let Some(profile) = &self.profile {
            query.append_pair("profile", profile);
        }
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
        let query =
            RunsQuery { profile: Some("demo".into()), job: Some("purchases run".into()), limit: Some(20) };
        assert_eq!(query.path(), "/api/runs?profile=demo&job=purchases+run&limit=20");
        assert_eq!(RunsQuery::parse("profile=demo&job=purchases+run&limit=20").unwrap(), query);
        assert_eq!(RunsQuery::parse("").unwrap().limit(), RunsQuery::DEFAULT_LIMIT);
        assert!(RunsQuery::parse("limit=0").unwrap_err().contains("limit must be 1 to 500"));
        assert!(RunsQuery::parse("month=x").unwrap_err().contains("not `month`"));
    }
}
