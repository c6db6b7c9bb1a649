//! `[[schedule]]` entries: the jobs the relay runs by itself, each with
//! its profile, endpoint, format, window rule and retries.

use std::time::Duration;

use billing::{
    Endpoint, Format, Generation,
    api::{
        decisions::InvoiceMonth,
        runs::{RunRecord, RunStatus},
    },
};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Profile, RelayConfig};

/// One `[[schedule]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Letters, digits, `-` and `_`: it names the job in the audit and the
    /// archive (`job:NAME`).
    pub name: String,
    pub profile: String,
    pub endpoint: Endpoint,
    /// The profile's newest version unless given.
    pub version: Option<String>,
    pub format: Format,
    pub window: WindowRule,
    /// Fetch the other side too (customer invoices for purchases and the
    /// other way round) so the worklist has its margins.
    #[serde(default)]
    pub other_side: bool,
    /// Attempts at the vendor after the first, with backoff and jitter.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The wait before the first retry; each later one waits twice as long.
    #[serde(default = "default_retry_wait", with = "super::seconds", rename = "retry_wait_seconds")]
    pub retry_wait: Duration,
    /// Whom to e-mail each run that succeeded or failed (through `[smtp]`).
    #[serde(default)]
    pub tell: Vec<String>,
    /// Which succeeded runs are worth telling; a failed one always is.
    #[serde(default)]
    pub alert: AlertRule,
}

/// When a succeeded run is told: always, only with more than `lines` on
/// the worklist, or only when a currency's total moved more than `percent`
/// from the month before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "when", deny_unknown_fields)]
pub enum AlertRule {
    #[default]
    Always,
    ExceptionsOver {
        lines: usize,
    },
    TotalMoves {
        percent: u32,
    },
}

impl AlertRule {
    /// Whether `run` is worth telling under this rule.
    pub fn tells(self, run: &RunRecord) -> bool {
        let findings = match (run.status, &run.findings) {
            (RunStatus::Failed, _) => return true,
            (RunStatus::Succeeded, Some(findings)) => findings,
            _ => return false,
        };
        match self {
            Self::Always => true,
            Self::ExceptionsOver { lines } => {
                findings.exceptions.values().map(|count| count.lines).sum::<usize>() > lines
            }
            Self::TotalMoves { percent } => {
                findings.change.iter().flat_map(|change| &change.per_currency).any(|currency| {
                    let moved = currency.percent.as_deref().and_then(|moved| moved.parse::<Decimal>().ok());
                    moved.is_some_and(|moved| moved.abs() > Decimal::from(percent))
                })
            }
        }
    }
}

fn default_retries() -> u32 {
    3
}

fn default_retry_wait() -> Duration {
    Duration::from_secs(60)
}

/// Which month a job fetches, and from when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule", deny_unknown_fields)]
pub enum WindowRule {
    /// The run for the month just ended, dated in this month: tried daily
    /// from `from_day` until the vendor has published it.
    InvoiceRun {
        #[serde(default = "default_from_day")]
        from_day: u32,
    },
    /// Last month's invoices, from the first of this month.
    LastMonth,
}

fn default_from_day() -> u32 {
    20
}

impl WindowRule {
    /// The invoice month a run on `today` fetches, or `None` before the
    /// rule's first day of the month.
    pub fn month_due(self, today: NaiveDate) -> Option<InvoiceMonth> {
        let this_month = InvoiceMonth::containing(today);
        match self {
            Self::InvoiceRun { from_day } => (today.day() >= from_day).then_some(this_month),
            Self::LastMonth => Some(this_month.back(1)),
        }
    }

    /// The invoice month a person's `billing-relay run` fetches on `today`:
    /// the rule's month, even before its first day.
    pub fn month_of(self, today: NaiveDate) -> InvoiceMonth {
        match self {
            Self::InvoiceRun { .. } => InvoiceMonth::containing(today),
            Self::LastMonth => InvoiceMonth::containing(today).back(1),
        }
    }

    /// Whether an empty document means "not published yet" rather than
    /// "nothing was invoiced".
    pub fn waits_for_publication(self) -> bool {
        matches!(self, Self::InvoiceRun { .. })
    }
}

impl Job {
    /// Checks the job against the configured profiles.
    pub fn check(&self, config: &RelayConfig) -> anyhow::Result<()> {
        let name = &self.name;
        anyhow::ensure!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')),
            "schedule `{name}`: a job's name may use only letters, digits, `-` and `_`"
        );
        let profile = self.profile_in(config)?;
        anyhow::ensure!(
            profile.endpoints.contains(&self.endpoint) && self.endpoint != Endpoint::SubscriptionDetails,
            "schedule `{name}`: the profile `{}` offers no {} by date window",
            profile.name,
            self.endpoint.path()
        );
        let version = self.version(profile);
        anyhow::ensure!(
            profile.versions.iter().any(|offered| offered == version),
            "schedule `{name}`: the profile `{}` offers no version {version}",
            profile.name
        );
        anyhow::ensure!(
            profile.generation == Generation::Legacy || self.format == Format::Json,
            "schedule `{name}`: the {} API answers in JSON only",
            profile.generation.label()
        );
        if let WindowRule::InvoiceRun { from_day } = self.window {
            anyhow::ensure!((1..=28).contains(&from_day), "schedule `{name}`: from_day must be 1 to 28");
        }
        anyhow::ensure!(
            config.schedule.iter().filter(|job| &job.name == name).count() == 1,
            "schedule `{name}`: two jobs have this name"
        );
        anyhow::ensure!(
            self.tell.is_empty() || config.smtp.is_some(),
            "schedule `{name}`: telling people by e-mail needs an [smtp] server"
        );
        for address in &self.tell {
            address.parse::<lettre::Address>().map_err(|error| {
                anyhow::anyhow!("schedule `{name}`: `{address}` is not an e-mail address: {error}")
            })?;
        }
        Ok(())
    }

    pub fn profile_in<'a>(&self, config: &'a RelayConfig) -> anyhow::Result<&'a Profile> {
        config.profile(&self.profile).ok_or_else(|| {
            anyhow::anyhow!("schedule `{}`: the profile `{}` is not configured", self.name, self.profile)
        })
    }

    pub fn version<'a>(&'a self, profile: &'a Profile) -> &'a str {
        self.version.as_deref().or(profile.versions.last().map(String::as_str)).unwrap_or_default()
    }

    /// How the job appears as the one who fetched, in the audit and the archive.
    pub fn account(&self) -> String {
        format!("job:{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use billing::api::runs::{CurrencyChange, Findings, KindCount, MonthChange};

    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn an_invoice_run_is_due_from_its_day_and_last_month_at_once() {
        let run = WindowRule::InvoiceRun { from_day: 20 };
        assert_eq!(run.month_due(day("2026-12-19")), None);
        assert_eq!(run.month_due(day("2026-12-20")), Some("2026-12".parse().unwrap()));
        assert_eq!(run.month_of(day("2026-12-02")), "2026-12".parse().unwrap());
        assert_eq!(WindowRule::LastMonth.month_due(day("2026-01-01")), Some("2025-12".parse().unwrap()));
        assert!(run.waits_for_publication() && !WindowRule::LastMonth.waits_for_publication());
    }

    #[test]
    fn rules_read_from_toml() {
        let job: Job = toml_job(
            r#"name = "purchases"
               profile = "demo"
               endpoint = "invoices"
               format = "json"
               window = { rule = "invoice_run", from_day = 22 }"#,
        );
        assert_eq!(job.window, WindowRule::InvoiceRun { from_day: 22 });
        assert_eq!((job.retries, job.retry_wait), (3, Duration::from_secs(60)));
        let job = toml_job(
            r#"name = "sales"
               profile = "demo"
               endpoint = "customerinvoices"
               format = "xml"
               window = { rule = "last_month" }
               other_side = true"#,
        );
        assert_eq!(job.window, WindowRule::LastMonth);
    }

    fn toml_job(text: &str) -> Job {
        use figment::providers::Format as _;
        figment::Figment::from(figment::providers::Toml::string(text)).extract().unwrap()
    }

    fn succeeded(lines: usize, moved: Option<&str>) -> RunRecord {
        let exceptions = if lines == 0 {
            Default::default()
        } else {
            [(
                billing::exceptions::ExceptionKind::NotBilled,
                KindCount { lines, at_stake: Default::default() },
            )]
            .into()
        };
        let change = MonthChange {
            earlier_month: "2026-09".parse().unwrap(),
            earlier_document: 1,
            per_currency: vec![CurrencyChange {
                currency: "EUR".into(),
                before: "100".into(),
                after: "100".into(),
                difference: "0".into(),
                percent: moved.map(str::to_owned),
            }],
            charges_changed: 0,
            charges_unchanged: 1,
        };
        RunRecord {
            id: 1,
            job: "j".into(),
            profile: "p".into(),
            endpoint: Endpoint::Invoices,
            month: "2026-10".parse().unwrap(),
            window: InvoiceMonth::containing(day("2026-10-01")).window(),
            status: RunStatus::Succeeded,
            attempts: 1,
            started_at: chrono::Utc::now(),
            finished_at: None,
            documents: Vec::new(),
            findings: Some(Findings {
                totals: Vec::new(),
                change: Some(change),
                exceptions,
                joined: true,
                low_margin_percent: "10".into(),
            }),
            error: None,
        }
    }

    #[test]
    fn alert_rules_tell_what_is_worth_telling_and_every_failure() {
        let quiet = succeeded(3, Some("-2.5"));
        assert!(AlertRule::Always.tells(&quiet));
        assert!(!AlertRule::ExceptionsOver { lines: 3 }.tells(&quiet));
        assert!(AlertRule::ExceptionsOver { lines: 2 }.tells(&quiet));
        assert!(!AlertRule::TotalMoves { percent: 5 }.tells(&quiet));
        assert!(AlertRule::TotalMoves { percent: 2 }.tells(&quiet), "a fall counts as a move");
        assert!(!AlertRule::TotalMoves { percent: 0 }.tells(&succeeded(0, None)), "nothing before: no move");
        let failed = RunRecord { status: RunStatus::Failed, findings: None, ..quiet.clone() };
        assert!(AlertRule::ExceptionsOver { lines: 1000 }.tells(&failed));
        let waiting = RunRecord { status: RunStatus::NotYetPublished, findings: None, ..quiet };
        assert!(!AlertRule::Always.tells(&waiting));
        let rule: AlertRule = figment::Figment::from(figment::providers::Serialized::defaults(
            serde_json::json!({ "when": "total_moves", "percent": 5 }),
        ))
        .extract()
        .unwrap();
        assert_eq!(rule, AlertRule::TotalMoves { percent: 5 });
    }
}
