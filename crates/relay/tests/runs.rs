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
    config::{AlertRule, Job, WebhookConfig, WebhookShape, WindowRule},
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
    a_vendor_that_refuses_and_then_recovers_succeeds_on_a_retry,
    webhooks_get_the_run_as_the_openapi_schema_says_and_in_teams_and_slack_shapes_each_once,
    a_cron_rule_fetches_its_fixed_window_at_each_time_and_compares_it_with_the_last,
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
        webhooks: Vec::new(),
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

/// Noon of the day `text`, in the relay's local time, as a scheduler sees it.
fn noon(text: &str) -> chrono::NaiveDateTime {
    day(text).and_hms_opt(12, 0, 0).unwrap()
}

async fn run(config: RelayConfig, job: &str, today: &str) -> RunRecord {
    relay::schedule::run_now(config, job, noon(today)).await.unwrap().expect("nobody else runs it")
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
    let configured =
        || config(&vendor.base_url(), data_dir.path(), &database, vec![job("run", invoice_run.clone())]);
    let scheduler = Scheduler::open(configured()).await.unwrap();
    assert!(scheduler.tick(noon("2026-12-19")).await.is_empty(), "not due before its day");
    // The emulator's today is 2026-11-25: December's run is not out yet.
    let [waiting] = scheduler.tick(noon("2026-12-20")).await.try_into().unwrap();
    assert_eq!(waiting.status, RunStatus::NotYetPublished, "{waiting:?}");
    assert!(waiting.error.as_deref().unwrap().contains("not published the invoices dated 2026-12 yet"));
    assert!(waiting.findings.is_none());
    assert!(scheduler.tick(noon("2026-12-20")).await.is_empty(), "tried once a day");
    let [next_day] = scheduler.tick(noon("2026-12-21")).await.try_into().unwrap();
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
    let [run, quiet_run] = scheduler.tick(noon("2026-11-25")).await.try_into().unwrap();
    assert_eq!(
        (run.job.as_str(), run.status, quiet_run.status),
        ("monthly", RunStatus::Succeeded, RunStatus::Succeeded)
    );
    assert_eq!(scheduler.tell().await, 0);
    smtp.start_again().await;
    assert!(scheduler.tick(noon("2026-11-25")).await.is_empty(), "the run is not run again");
    assert_eq!(smtp.messages().len(), 1, "told once the server is back");
    assert_eq!(scheduler.tell().await, 0, "and never twice");
    assert!(scheduler.tick(noon("2026-11-26")).await.is_empty());
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
        extra_root: None,
    }
}

async fn a_cron_rule_fetches_its_fixed_window_at_each_time_and_compares_it_with_the_last(database: Database) {
    let vendor = vendor().await;
    let data_dir = tempfile::tempdir().unwrap();
    let rule = WindowRule::Cron {
        cron: "0 6 * * *".to_owned().try_into().unwrap(),
        start: day("2026-10-01"),
        end: day("2026-10-15"),
    };
    let mut watch = job("watch", rule);
    watch.other_side = false;
    let scheduler =
        Scheduler::open(config(&vendor.base_url(), data_dir.path(), &database, vec![watch])).await.unwrap();
    let at = |text: &str| text.parse::<chrono::NaiveDateTime>().unwrap();

    // Started before today's time: yesterday's is caught up, once.
    let [first] = scheduler.tick(at("2026-11-24T05:00:00")).await.try_into().unwrap();
    assert_eq!((first.status, first.slot.as_str()), (RunStatus::Succeeded, "2026-11-23T06:00"), "{first:?}");
    assert_eq!((first.window.start(), first.window.end()), (day("2026-10-01"), day("2026-10-15")));
    assert_eq!(first.period(), "2026-10-01 to 2026-10-15 (run of 2026-11-23 06:00)");
    assert_eq!(first.findings.as_ref().unwrap().change, None, "nothing kept before it");
    assert!(scheduler.tick(at("2026-11-24T05:59:00")).await.is_empty(), "the same time is not run twice");

    let [second] = scheduler.tick(at("2026-11-24T06:00:00")).await.try_into().unwrap();
    assert_eq!(second.slot, "2026-11-24T06:00");
    assert_ne!(second.id, first.id);
    let findings = second.findings.as_ref().unwrap();
    let change = findings.change.as_ref().expect("compared with the last run's copy");
    assert_eq!(change.earlier_document, first.documents[0]);
    assert_eq!(change.charges_changed, 0, "the vendor did not re-issue");
    assert!(change.per_currency.iter().all(|currency| currency.before == currency.after));
    assert_eq!(findings.totals, first.findings.as_ref().unwrap().totals);
    assert!(second.summary().contains("charges changed since the last run"), "{}", second.summary());
    let direct_window = format!("{}/v3/invoices?startDate=20261001&endDate=20261015", vendor.base_url());
    let response = reqwest::Client::new().get(direct_window).header("X-Api-Key", KEY).send().await.unwrap();
    let document = billing::xml::parse_invoices(&response.bytes().await.unwrap()).unwrap();
    let expected: Vec<String> =
        totals_by_currency(&document).values().map(|(_, sums)| sums.excluding_vat.to_string()).collect();
    let recorded: Vec<String> = findings.totals.iter().map(|total| total.excluding_vat.clone()).collect();
    assert_eq!(recorded, expected, "the fixed window's totals");
}

async fn a_vendor_that_refuses_and_then_recovers_succeeds_on_a_retry(database: Database) {
    let recovering = vendor_with(vec![ApiKey {
        faults: vec!["status500=2".parse().unwrap()],
        ..ApiKey::new("relay", KEY.to_owned().into())
    }])
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut once = job("monthly", WindowRule::LastMonth);
    once.other_side = false;
    let configured = config(&recovering.base_url(), data_dir.path(), &database, vec![once]);
    let run = run(configured, "monthly", "2026-11-25").await;
    assert_eq!(
        (run.status, run.attempts, run.error),
        (RunStatus::Succeeded, 3, None),
        "two refusals, then the document"
    );
    let month = "2026-10".parse().unwrap();
    let expected = totals_by_currency(&direct(&recovering.base_url(), "invoices", month).await);
    let totals = &run.findings.unwrap().totals;
    assert_eq!(totals.len(), expected.len());
    for total in totals {
        assert_eq!(
            total.excluding_vat,
            expected[&total.currency].1.excluding_vat.to_string(),
            "{}",
            total.currency
        );
    }
    assert_eq!(run.documents.len(), 1, "the recovered document is archived");
}

/// Mail over STARTTLS and over TLS from the first byte, each with a login,
/// to a real server whose certificate an internal authority signed.
#[tokio::test]
async fn mail_goes_over_starttls_or_tls_with_a_login() {
    let vendor = vendor().await;
    for security in [relay::config::Security::Starttls, relay::config::Security::Tls] {
        let smtp = support::smtp::SmtpServer::start_with(security).await;
        let data_dir = tempfile::tempdir().unwrap();
        let mut told = job("monthly", WindowRule::LastMonth);
        told.tell = vec!["finance@corp.example".to_owned()];
        let mut configured =
            config(&vendor.base_url(), data_dir.path(), &Database::sqlite().await, vec![told]);
        configured.smtp = Some(relay::config::SmtpConfig {
            host: "localhost".to_owned(),
            security,
            credentials: Some((support::smtp::USER.to_owned(), support::smtp::PASSWORD.to_owned().into())),
            extra_root: Some(std::fs::read(smtp.ca_file.as_ref().unwrap()).unwrap()),
            ..mail_server(&smtp)
        });
        let scheduler = Scheduler::open(configured).await.unwrap();
        let [run] = scheduler.tick(noon("2026-11-25")).await.try_into().unwrap();
        let [message] = smtp.messages().try_into().unwrap_or_else(|messages: Vec<String>| {
            panic!("one message over {security:?}, not {}", messages.len())
        });
        assert!(message.starts_with("X-Test-Arrived: tls=yes authenticated=yes"), "{security:?}: {message}");
        assert!(message.contains("Subject: Billing invoices 2026-10 of p"), "{message}");
        assert_eq!(run.status, RunStatus::Succeeded);
    }
}

async fn webhooks_get_the_run_as_the_openapi_schema_says_and_in_teams_and_slack_shapes_each_once(
    database: Database,
) {
    let vendor = vendor().await;
    let smtp = support::smtp::SmtpServer::start().await;
    let receiver = support::webhook::Receiver::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut told = job("monthly", WindowRule::LastMonth);
    told.tell = vec!["finance@corp.example".to_owned()];
    told.webhooks = vec!["ours".to_owned(), "teams".to_owned(), "slack".to_owned()];
    let mut configured = config(&vendor.base_url(), data_dir.path(), &database, vec![told]);
    configured.smtp = Some(mail_server(&smtp));
    configured.webhooks =
        [("ours", WebhookShape::Json), ("teams", WebhookShape::Teams), ("slack", WebhookShape::Slack)]
            .into_iter()
            .map(|(name, shape)| WebhookConfig {
                name: name.to_owned(),
                shape,
                url: format!("{}/{name}", receiver.base_url).into(),
            })
            .collect();
    let scheduler = Scheduler::open(configured).await.unwrap();

    // Slack's receiver is down at first: the others are told once, Slack when it is back.
    receiver.down("/slack");
    let [run] = scheduler.tick(noon("2026-11-25")).await.try_into().unwrap();
    receiver.wait_for(2).await;
    assert!(receiver.received("/slack").is_empty());
    receiver.up("/slack");
    assert_eq!(scheduler.tell().await, 1, "only the channel that was down");
    assert_eq!(scheduler.tell().await, 0, "and never twice");
    assert_eq!(smtp.messages().len(), 1, "the e-mail went once");
    let [ours] = receiver.received("/ours").try_into().unwrap();
    let [teams] = receiver.received("/teams").try_into().unwrap();
    let [slack] = receiver.received("/slack").try_into().unwrap();

    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |served| {
        served.archive = ArchiveConfig::in_directory(data_dir.path().to_owned());
        database.configure(served);
    })
    .await;
    let openapi: serde_json::Value =
        reqwest::get(relay.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let notice =
        openapi["webhooks"]["runEnded"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            .clone();
    assert_eq!(notice["$ref"], "#/components/schemas/RunNotice", "the webhook is in the description");
    let validator = schema_validator(&openapi, "RunNotice");
    let errors: Vec<String> = validator.iter_errors(&ours).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "the JSON follows its schema: {errors:?}\n{ours:#}");
    let mut undescribed = ours.clone();
    undescribed["run"]["findings"]["surprise"] = serde_json::json!(1);
    assert!(!validator.is_valid(&undescribed), "the schema refuses what it does not describe");

    let page: RunsPage = reqwest::get(relay.url("/api/runs")).await.unwrap().json().await.unwrap();
    let [listed] = page.runs.try_into().unwrap();
    assert_eq!(listed.told, ["email", "webhook:ours", "webhook:teams", "webhook:slack"]);
    let mut sent: RunRecord = serde_json::from_value(ours["run"].clone()).unwrap();
    sent.told = listed.told.clone();
    assert_eq!(sent, listed, "the run as recorded");
    let link = "https://billing.corp.example/?profile=p&version=v3&endpoint=invoices&format=xml&start=2026-10-01&end=2026-10-31";
    assert_eq!((ours["event"].as_str(), ours["link"].as_str()), (Some("run_ended"), Some(link)));
    assert_eq!(ours["summary"].as_str(), Some(run.summary().as_str()));

    let card = &teams["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(
        (card["content"]["type"].as_str(), card["content"]["version"].as_str()),
        (Some("AdaptiveCard"), Some("1.4"))
    );
    assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["content"]["actions"][0]["url"], link);
    assert_eq!(card["content"]["body"][0]["text"], run.subject());
    let card_text = card["content"].to_string();
    for total in &run.findings.as_ref().unwrap().totals {
        assert!(card_text.contains(&format!("{} {} excluding VAT", total.currency, total.excluding_vat)));
    }

    assert_eq!(slack["text"], run.subject());
    let blocks = slack["blocks"].as_array().unwrap();
    let kinds: Vec<&str> = blocks.iter().map(|block| block["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["header", "section", "actions"]);
    assert_eq!(blocks[2]["elements"][0]["url"], link);
    assert!(blocks[1]["text"]["text"].as_str().unwrap().len() <= 3000, "Slack's limit for a section");
}

/// A validator for the description's schema `name`, its references
/// resolved within the description.
fn schema_validator(openapi: &serde_json::Value, name: &str) -> jsonschema::Validator {
    let mut root = openapi.clone();
    root["$ref"] = serde_json::json!(format!("#/components/schemas/{name}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("the description's schemas compile")
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
    let [run] = scheduler.tick(noon("2026-11-25")).await.try_into().unwrap();
    assert_eq!((run.status, run.attempts), (RunStatus::Failed, 3));
    for next_day in ["2026-11-26", "2026-11-27"] {
        assert!(scheduler.tick(noon(next_day)).await.is_empty(), "a failed month is not run again by itself");
    }
    let [message] = smtp.messages().try_into().expect("one failure report, no more");
    let text = unfolded(&message);
    assert!(text.contains("Subject: Billing invoices 2026-10 of p: failed"), "{text}");
    assert!(text.contains("failed after 3 attempts") && text.contains("internal server error"), "{text}");
}
