//! Scheduled runs against the real emulator on loopback, on SQLite and on
//! a real PostgreSQL: a job fetches through the person's path, is archived
//! as the job, and records totals, the change from the month before and
//! the worklist, each checked against crates/billing on direct downloads.

mod support;

use std::{path::Path, time::Duration};

use billing::{
    Endpoint, Format,
    Generation::Legacy,
    api::{
        ArchivePage,
        decisions::InvoiceMonth,
        runs::{RunRecord, RunStatus, RunsPage},
    },
    exceptions::worklist,
    totals::totals_by_currency,
};
use chrono::NaiveDate;
use relay::{
    ArchiveConfig, MetricsConfig, RelayConfig,
    config::{AlertRule, Job, WindowRule},
    schedule::Scheduler,
};
use support::{database::Database, *};
use vendor_sim::{ApiKey, Fault};

on_both_databases!(
    a_job_archives_what_it_fetches_and_records_totals_changes_and_the_worklist,
    a_month_not_yet_published_waits_for_the_next_day_and_a_failing_vendor_fails_after_its_retries,
    relays_started_after_the_time_catch_up_and_run_the_month_once_between_them,
    each_run_is_told_once_by_e_mail_and_a_mail_server_that_is_down_is_tried_again,
    a_vendor_that_never_recovers_is_reported_once_as_failed,
);

fn job(name: &str, window: WindowRule) -> Job {
    Job {
        name: name.to_owned(),
        profile: "p".to_owned(),
        endpoint: Endpoint::Invoices,
        version: None,
        format: Format::Xml,
        window,
        other_side: true,
        retries: 2,
        retry_wait: Duration::ZERO,
        tell: Vec::new(),
        alert: AlertRule::Always,
    }
}

fn config(vendor_url: &str, data_dir: &Path, database: &Database, jobs: Vec<Job>) -> RelayConfig {
    let mut config = RelayConfig {
        profiles: vec![profile("p", Legacy, vendor_url.to_owned(), KEY)],
        archive: ArchiveConfig::in_directory(data_dir.to_owned()),
        schedule: jobs,
        ..RelayConfig::defaults("unused".into())
    };
    database.configure(&mut config);
    config
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

async fn run(config: RelayConfig, job: &str, today: &str) -> RunRecord {
    relay::schedule::run_now(config, job, day(today)).await.unwrap().expect("nobody else runs it")
}

/// The emulator's document for `month`, fetched directly.
async fn direct(vendor_url: &str, endpoint: &str, month: InvoiceMonth) -> billing::InvoiceDocument {
    let url = format!(
        "{vendor_url}/v3/{endpoint}?startDate={}&endDate={}",
        month.first_day().format("%Y%m%d"),
        month.last_day().format("%Y%m%d")
    );
    let response = reqwest::Client::new().get(url).header("X-Api-Key", KEY).send().await.unwrap();
    billing::xml::parse_invoices(&response.bytes().await.unwrap()).unwrap()
}

async fn a_job_archives_what_it_fetches_and_records_totals_changes_and_the_worklist(database: Database) {
    let vendor = vendor().await;
    let data_dir = tempfile::tempdir().unwrap();
    let configured = || {
        config(&vendor.base_url(), data_dir.path(), &database, vec![job("monthly", WindowRule::LastMonth)])
    };

    // September's run first: nothing archived before it to compare with.
    let september = run(configured(), "monthly", "2026-10-10").await;
    assert_eq!((september.status, september.attempts), (RunStatus::Succeeded, 2), "{september:?}");
    assert_eq!(september.month.to_string(), "2026-09");
    assert_eq!(september.documents.len(), 2, "the document and its other side are archived");
    assert_eq!(september.findings.as_ref().unwrap().change, None);

    let october = run(configured(), "monthly", "2026-11-25").await;
    let month: InvoiceMonth = "2026-10".parse().unwrap();
    assert_eq!((october.status, october.month), (RunStatus::Succeeded, month), "{october:?}");
    let findings = october.findings.clone().unwrap();
    let (purchases, sales) = (
        direct(&vendor.base_url(), "invoices", month).await,
        direct(&vendor.base_url(), "customerinvoices", month).await,
    );
    let expected: Vec<(String, String, String)> = totals_by_currency(&purchases)
        .into_iter()
        .map(|(currency, (_, sums))| (currency, sums.excluding_vat.to_string(), sums.vat.to_string()))
        .collect();
    let recorded: Vec<(String, String, String)> = findings
        .totals
        .iter()
        .map(|total| (total.currency.clone(), total.excluding_vat.clone(), total.vat.clone()))
        .collect();
    assert_eq!(recorded, expected, "the totals are the document's");

    let change = findings.change.expect("September's archived run is compared with");
    assert_eq!(change.earlier_month.to_string(), "2026-09");
    assert_eq!(change.earlier_document, september.documents[0]);
    let september_totals = &september.findings.as_ref().unwrap().totals;
    for currency in &change.per_currency {
        let before = september_totals.iter().find(|total| total.currency == currency.currency).unwrap();
        assert_eq!(currency.before, before.excluding_vat, "{}", currency.currency);
    }
    let previous = direct(&vendor.base_url(), "invoices", "2026-09".parse().unwrap()).await;
    assert_eq!(change.charges_changed, billing::changes::compare(&previous, &purchases).changes.len());

    let threshold = billing::api::decisions::Settings::default().low_margin_percent;
    let expected = worklist(Some(&purchases), Some(&sales), threshold);
    assert!(findings.joined);
    assert_eq!(findings.exceptions.len(), expected.kinds.len());
    for (kind, count) in &findings.exceptions {
        let (lines, at_stake) = expected.stake(*kind);
        let at_stake: std::collections::BTreeMap<String, String> =
            at_stake.into_iter().map(|(currency, amount)| (currency, amount.to_string())).collect();
        assert_eq!((count.lines, &count.at_stake), (lines, &at_stake), "{kind:?}");
    }
    assert!(october.summary().contains("monthly of p (invoices) for 2026-10: succeeded after 2 attempts"));

    // A relay on the same database and archive lists the runs and the job's documents.
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |served| {
        served.archive = ArchiveConfig::in_directory(data_dir.path().to_owned());
        database.configure(served);
    })
    .await;
    let page: RunsPage = reqwest::get(relay.url("/api/runs")).await.unwrap().json().await.unwrap();
    let ids: Vec<i64> = page.runs.iter().map(|run| run.id).collect();
    assert_eq!(ids, [october.id, september.id], "newest first");
    assert_eq!(page.runs[0], october);
    let one: RunsPage =
        reqwest::get(relay.url("/api/runs?job=monthly&limit=1")).await.unwrap().json().await.unwrap();
    assert_eq!(one.runs.len(), 1);
    let none: RunsPage = reqwest::get(relay.url("/api/runs?job=other")).await.unwrap().json().await.unwrap();
    assert!(none.runs.is_empty());
    let refused = reqwest::get(relay.url("/api/runs?limit=0")).await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
    let archived: ArchivePage = reqwest::get(relay.url("/api/archive")).await.unwrap().json().await.unwrap();
    assert_eq!(archived.documents.len(), 4);
    assert!(archived.documents.iter().all(|document| document.fetched_by.as_deref() == Some("job:monthly")));
}

async fn a_month_not_yet_published_waits_for_the_next_day_and_a_failing_vendor_fails_after_its_retries(
    database: Database,
) {
    let vendor = vendor().await;
    let data_dir = tempfile::tempdir().unwrap();
    let invoice_run = WindowRule::InvoiceRun { from_day: 20 };
    let configured = || config(&vendor.base_url(), data_dir.path(), &database, vec![job("run", invoice_run)]);
    let scheduler = Scheduler::open(configured()).await.unwrap();
    assert!(scheduler.tick(day("2026-12-19")).await.is_empty(), "not due before its day");
    // The emulator's today is 2026-11-25: December's run is not out yet.
    let [waiting] = scheduler.tick(day("2026-12-20")).await.try_into().unwrap();
    assert_eq!(waiting.status, RunStatus::NotYetPublished, "{waiting:?}");
    assert!(waiting.error.as_deref().unwrap().contains("not published the invoices dated 2026-12 yet"));
    assert!(waiting.findings.is_none());
    assert!(scheduler.tick(day("2026-12-20")).await.is_empty(), "tried once a day");
    let [next_day] = scheduler.tick(day("2026-12-21")).await.try_into().unwrap();
    assert_eq!(
        (next_day.id, next_day.attempts, next_day.status),
        (waiting.id, 2, RunStatus::NotYetPublished)
    );
    let again = run(configured(), "run", "2026-12-21").await;
    assert_eq!((again.id, again.attempts), (waiting.id, 3), "a person may try it again the same day");

    let failing = vendor_with(vec![ApiKey {
        faults: vec![Fault::ServerError],
        ..ApiKey::new("relay", KEY.to_owned().into())
    }])
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let failed = run(
        config(&failing.base_url(), data_dir.path(), &database, vec![job("run", invoice_run)]),
        "run",
        "2026-11-25",
    )
    .await;
    assert_eq!((failed.status, failed.attempts), (RunStatus::Failed, 3), "the first try and two retries");
    let error = failed.error.unwrap();
    assert!(error.contains("500") && error.contains("internal server error"), "the vendor's words: {error}");
}

/// Waits until the relay at `url` has looked for due jobs at least once.
async fn checked_once(url: &str) -> std::collections::BTreeMap<String, f64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = scrape(&format!("{url}/metrics")).await;
        if metrics.get("billing_relay_schedule_checks_total{}").is_some_and(|checks| *checks >= 1.0) {
            return metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "{url} never looked for due jobs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn relays_started_after_the_time_catch_up_and_run_the_month_once_between_them(database: Database) {
    let (vendor_url, vendor_calls, _vendor) = counting_vendor().await;
    let data_dir = tempfile::tempdir().unwrap();
    let start = || {
        relay_with(vec![profile("p", Legacy, vendor_url.clone(), KEY)], |served| {
            served.archive = ArchiveConfig::in_directory(data_dir.path().to_owned());
            served.schedule = vec![job("monthly", WindowRule::LastMonth)];
            served.metrics = Some(MetricsConfig { listen: None, allowlist: vendor_sim::config::loopback() });
            database.configure(served);
        })
    };
    // Last month's job is due since the 1st; both relays start after it and
    // look at once. Relays sharing PostgreSQL start together; a SQLite file
    // is migrated by one relay before another opens it.
    let (first, second) = if database.url.is_some() {
        tokio::join!(start(), start())
    } else {
        let first = start().await;
        (first, start().await)
    };
    let (one, other) = tokio::join!(checked_once(&first.base_url), checked_once(&second.base_url));
    let succeeded = "billing_relay_scheduled_runs_total{job=\"monthly\",outcome=\"succeeded\"}";
    let ran: f64 =
        [&one, &other].iter().map(|metrics| metrics.get(succeeded).copied().unwrap_or_default()).sum();
    assert_eq!(ran, 1.0, "one relay ran it: {one:?} {other:?}");
    let page: RunsPage = reqwest::get(second.url("/api/runs")).await.unwrap().json().await.unwrap();
    let [run] = page.runs.try_into().unwrap();
    assert_eq!((run.status, run.attempts), (RunStatus::Succeeded, 2));
    assert_eq!(
        vendor_calls.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the document and its other side, once"
    );
    let last_success = "billing_relay_scheduled_run_last_success_timestamp_seconds{job=\"monthly\"}";
    let stamped = one.get(last_success).or(other.get(last_success)).copied().unwrap_or_default();
    assert_eq!(stamped as i64, run.finished_at.unwrap().timestamp(), "the age a monitor alerts on");

    // A third relay started later looks too, and leaves the month alone.
    let third = start().await;
    checked_once(&third.base_url).await;
    let page: RunsPage = reqwest::get(third.url("/api/runs")).await.unwrap().json().await.unwrap();
    assert_eq!(page.runs.len(), 1);
    assert_eq!(vendor_calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

async fn each_run_is_told_once_by_e_mail_and_a_mail_server_that_is_down_is_tried_again(database: Database) {
    let vendor = vendor().await;
    let mut smtp = support::smtp::SmtpServer::start().await;
    smtp.stop();
    let data_dir = tempfile::tempdir().unwrap();
    let mut told = job("monthly", WindowRule::LastMonth);
    told.tell = vec!["finance@corp.example".to_owned(), "controller@corp.example".to_owned()];
    // A second job, told only of a worklist longer than any month's: never, here.
    let mut quiet = job("quiet", WindowRule::LastMonth);
    quiet.tell = vec!["cfo@corp.example".to_owned()];
    quiet.alert = AlertRule::ExceptionsOver { lines: 1_000_000 };
    let mut configured = config(&vendor.base_url(), data_dir.path(), &database, vec![told, quiet]);
    configured.smtp = Some(mail_server(&smtp));
    let scheduler = Scheduler::open(configured).await.unwrap();

    // The mail server is down: the runs are kept, and nobody is told yet.
    let [run, quiet_run] = scheduler.tick(day("2026-11-25")).await.try_into().unwrap();
    assert_eq!(
        (run.job.as_str(), run.status, quiet_run.status),
        ("monthly", RunStatus::Succeeded, RunStatus::Succeeded)
    );
    assert_eq!(scheduler.tell().await, 0);
    smtp.start_again().await;
    assert!(scheduler.tick(day("2026-11-25")).await.is_empty(), "the run is not run again");
    assert_eq!(smtp.messages().len(), 1, "told once the server is back");
    assert_eq!(scheduler.tell().await, 0, "and never twice");
    assert!(scheduler.tick(day("2026-11-26")).await.is_empty());
    let [message] = smtp.messages().try_into().unwrap();

    let findings = run.findings.unwrap();
    let lines: usize = findings.exceptions.values().map(|count| count.lines).sum();
    assert!(
        message.contains(&format!("Subject: Billing invoices 2026-10 of p: {lines} lines on the worklist")),
        "{message}"
    );
    for to in ["finance@corp.example", "controller@corp.example"] {
        assert!(message.contains(to), "to {to}");
    }
    assert!(
        message.contains("multipart/alternative") && message.contains("text/html"),
        "plain text and HTML"
    );
    assert!(!message.contains("cfo@corp.example"), "the quiet job's rule told nobody");
    let text = unfolded(&message);
    for total in &findings.totals {
        let line = format!(
            "{} {} excluding VAT, {} VAT ({} invoices, {} lines)",
            total.currency, total.excluding_vat, total.vat, total.invoices, total.lines
        );
        assert!(text.contains(&line), "{line} in {text}");
    }
    for (kind, count) in &findings.exceptions {
        assert!(text.contains(&format!("{}: {} lines", kind.label(), count.lines)), "{kind:?} in {text}");
    }
    let link = "https://billing.corp.example/?profile=p&version=v3&endpoint=invoices&format=xml&start=2026-10-01&end=2026-10-31";
    assert!(text.contains(link), "the link that opens the month: {text}");
}

/// A message's text with quoted-printable soft line breaks joined and `=3D` read back.
fn unfolded(message: &str) -> String {
    message.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

fn mail_server(smtp: &support::smtp::SmtpServer) -> relay::config::SmtpConfig {
    relay::config::SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: smtp.port,
        security: relay::config::Security::None,
        credentials: None,
        from: "Billing portal <billing@corp.example>".to_owned(),
        portal_url: Some("https://billing.corp.example".to_owned()),
    }
}

async fn a_vendor_that_never_recovers_is_reported_once_as_failed(database: Database) {
    let failing = vendor_with(vec![ApiKey {
        faults: vec![Fault::ServerError],
        ..ApiKey::new("relay", KEY.to_owned().into())
    }])
    .await;
    let smtp = support::smtp::SmtpServer::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut told = job("monthly", WindowRule::LastMonth);
    told.tell = vec!["finance@corp.example".to_owned()];
    let mut configured = config(&failing.base_url(), data_dir.path(), &database, vec![told]);
    configured.smtp = Some(mail_server(&smtp));
    let scheduler = Scheduler::open(configured).await.unwrap();
    let [run] = scheduler.tick(day("2026-11-25")).await.try_into().unwrap();
    assert_eq!((run.status, run.attempts), (RunStatus::Failed, 3));
    for next_day in ["2026-11-26", "2026-11-27"] {
        assert!(scheduler.tick(day(next_day)).await.is_empty(), "a failed month is not run again by itself");
    }
    let [message] = smtp.messages().try_into().expect("one failure report, no more");
    let text = unfolded(&message);
    assert!(text.contains("Subject: Billing invoices 2026-10 of p: failed"), "{text}");
    assert!(text.contains("failed after 3 attempts") && text.contains("internal server error"), "{text}");
}
