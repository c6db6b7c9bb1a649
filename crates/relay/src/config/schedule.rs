//! `[[schedule]]` entries: the jobs the relay runs by itself, each with
//! its profile, endpoint, format, window rule and retries.

use std::time::Duration;

use billing::{
    Endpoint, Format, Generation,
    api::{
        DateWindow,
        decisions::InvoiceMonth,
        runs::{RunRecord, RunStatus},
    },
};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
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
    /// The `[[webhook]]`s to post each such run to, by name.
    #[serde(default)]
    pub webhooks: Vec<String>,
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
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
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
    /// The fixed window `start` to `end`, fetched at each time `cron`
    /// gives (five fields, in the relay's local time): a watch on a period
    /// the vendor may still re-issue, compared each time with the last.
    Cron { cron: CronExpression, start: NaiveDate, end: NaiveDate },
}

/// A cron expression, read once when the configuration is.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct CronExpression {
    text: String,
    /// Boxed: a parsed expression is much larger than the other rules.
    parsed: Box<croner::Cron>,
}

impl TryFrom<String> for CronExpression {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let parsed = text
            .parse::<croner::Cron>()
            .map_err(|error| format!("`{text}` is not a cron expression: {error}"))?;
        Ok(Self { text, parsed: Box::new(parsed) })
    }
}

impl PartialEq for CronExpression {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronExpression {}

impl CronExpression {
    /// The last time at or before `now` the expression gives.
    pub fn latest(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.parsed.find_previous_occurrence(&now, true).ok()
    }

    /// The first time after `now` the expression gives.
    pub fn next(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.parsed.find_next_occurrence(&now, false).ok()
    }
}

/// One run's place in its job: the key that makes it one run (the month,
/// or the cron time), its invoice month and the window fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub key: String,
    pub month: InvoiceMonth,
    pub window: DateWindow,
}

impl Slot {
    fn month(month: InvoiceMonth) -> Self {
        Self { key: month.to_string(), month, window: month.window() }
    }

    /// `start` to `end` (checked in order when the configuration is read),
    /// run for the cron time `at`.
    fn fixed(start: NaiveDate, end: NaiveDate, at: NaiveDateTime) -> Self {
        let month = InvoiceMonth::containing(start);
        let window = DateWindow::new(start, end).unwrap_or_else(|_| month.window());
        Self { key: at.format("%Y-%m-%dT%H:%M").to_string(), month, window }
    }
}

fn default_from_day() -> u32 {
    20
}

impl WindowRule {
    /// The run due at `now` (local time), or `None` before the rule's first
    /// day of the month or its first cron time.
    pub fn due(&self, now: NaiveDateTime) -> Option<Slot> {
        let this_month = InvoiceMonth::containing(now.date());
        match self {
            Self::InvoiceRun { from_day } => (now.day() >= *from_day).then(|| Slot::month(this_month)),
            Self::LastMonth => Some(Slot::month(this_month.back(1))),
            Self::Cron { cron, start, end } => Some(Slot::fixed(*start, *end, cron.latest(now)?)),
        }
    }

    /// The run a person's `billing-relay run` makes at `now`: the rule's,
    /// even before its first day or cron time.
    pub fn slot_of(&self, now: NaiveDateTime) -> Slot {
        match self {
            Self::InvoiceRun { .. } => Slot::month(InvoiceMonth::containing(now.date())),
            Self::Cron { start, end, .. } => Slot::fixed(*start, *end, now),
            Self::LastMonth => Slot::month(InvoiceMonth::containing(now.date()).back(1)),
        }
    }

    /// When the rule next wants a look after `now`, if it keeps a time of
    /// its own.
    pub fn next_time(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Self::Cron { cron, .. } => cron.next(now),
            _ => None,
        }
    }

    /// Whether an empty document means "not published yet" rather than
    /// "nothing was invoiced".
    pub fn waits_for_publication(&self) -> bool {
        matches!(self, Self::InvoiceRun { .. })
    }

    /// Whether a run compares with the last copy of its own window rather
    /// than with the month before.
    pub fn watches_a_fixed_window(&self) -> bool {
        matches!(self, Self::Cron { .. })
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
        match &self.window {
            WindowRule::InvoiceRun { from_day } => {
                anyhow::ensure!((1..=28).contains(from_day), "schedule `{name}`: from_day must be 1 to 28");
            }
            WindowRule::Cron { start, end, .. } => {
                DateWindow::new(*start, *end)
                    .map_err(|error| anyhow::anyhow!("schedule `{name}`: {error}"))?;
            }
            WindowRule::LastMonth => {}
        }
        anyhow::ensure!(
            config.schedule.iter().filter(|job| &job.name == name).count() == 1,
            "schedule `{name}`: two jobs have this name"
        );
        anyhow::ensure!(
            self.tell.is_empty() || config.smtp.is_some(),
            "schedule `{name}`: telling people by e-mail needs an [smtp] server"
        );
        for webhook in &self.webhooks {
            anyhow::ensure!(
                config.webhooks.iter().any(|configured| &configured.name == webhook),
                "schedule `{name}`: no [[webhook]] is named `{webhook}`"
            );
        }
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

    fn at(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn an_invoice_run_is_due_from_its_day_and_last_month_at_once() {
        let run = WindowRule::InvoiceRun { from_day: 20 };
        let key = |slot: Option<Slot>| slot.map(|slot| slot.key);
        assert_eq!(key(run.due(at("2026-12-19T23:59:00"))), None);
        assert_eq!(key(run.due(at("2026-12-20T00:00:00"))), Some("2026-12".to_owned()));
        assert_eq!(run.slot_of(at("2026-12-02T08:00:00")).month, "2026-12".parse().unwrap());
        let last_month = WindowRule::LastMonth.due(at("2026-01-01T00:00:00")).unwrap();
        assert_eq!((last_month.key.as_str(), last_month.window.end()), ("2025-12", day("2025-12-31")));
        assert!(run.waits_for_publication() && !WindowRule::LastMonth.waits_for_publication());
    }

    #[test]
    fn a_cron_rule_is_due_at_its_last_time_with_its_fixed_window() {
        let rule = WindowRule::Cron {
            cron: "30 6 * * 1".to_owned().try_into().unwrap(),
            start: day("2026-10-01"),
            end: day("2026-10-15"),
        };
        // 2026-12-07 is a Monday.
        let slot = rule.due(at("2026-12-07T06:29:00")).unwrap();
        assert_eq!(slot.key, "2026-11-30T06:30", "the Monday before");
        let slot = rule.due(at("2026-12-07T06:30:00")).unwrap();
        assert_eq!(slot.key, "2026-12-07T06:30");
        assert_eq!((slot.window.start(), slot.window.end()), (day("2026-10-01"), day("2026-10-15")));
        assert_eq!(slot.month, "2026-10".parse().unwrap());
        assert_eq!(rule.next_time(at("2026-12-07T06:30:00")), Some(at("2026-12-14T06:30:00")));
        assert!(rule.watches_a_fixed_window() && !rule.waits_for_publication());
        let error = CronExpression::try_from("every monday".to_owned()).unwrap_err();
        assert!(error.contains("`every monday` is not a cron expression"), "{error}");
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
        let job = toml_job(
            r#"name = "watch"
               profile = "demo"
               endpoint = "invoices"
               format = "xml"
               window = { rule = "cron", cron = "30 6 * * 1", start = "2026-01-01", end = "2026-03-31" }"#,
        );
        assert_eq!(job.window.next_time(at("2026-12-07T06:00:00")), Some(at("2026-12-07T06:30:00")));
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
            slot: "2026-10".into(),
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
            told: Vec::new(),
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
