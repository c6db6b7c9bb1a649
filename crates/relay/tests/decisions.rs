//! The shared decisions over real loopback HTTP, on SQLite and on a real
//! PostgreSQL (the same tests on both), and two relays sharing one
//! PostgreSQL: settings, marks, sign-off, their versions and histories,
//! and the events that tell every page.

mod support;

use std::{pin::Pin, time::Duration};

use billing::{
    Generation::Legacy,
    api::{
        ArchiveReceipt, ErrorBody, ErrorCode,
        decisions::{
            DecisionEvent, ItemId, LineIdentity, Mark, MonthDecisions, Review, ReviewChange,
            ReviewHistoryEntry, ReviewStatus, Settings, SettingsChange, SettingsHistoryEntry, SharedSettings,
            SignOff, SignOffAction, SignOffChange, SignOffState, paths,
        },
    },
    exceptions::ExceptionKind,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use relay::RelayConfig;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde::{Serialize, de::DeserializeOwned};
use support::{database::Database, *};

const SEPTEMBER: &str = "/api/documents/p/v3/invoices?start=2026-09-01&end=2026-09-30";

on_both_databases!(
    settings_are_versioned_and_a_stale_change_gets_the_current_one,
    marks_are_kept_per_month_carried_forward_and_locked_by_a_sign_off,
    every_change_reaches_the_event_stream,
);

async fn relay_on(database: &Database, vendor_url: String) -> TestRelay {
    relay_with(vec![profile("p", Legacy, vendor_url, KEY)], |config: &mut RelayConfig| {
        database.configure(config)
    })
    .await
}

async fn get<T: DeserializeOwned>(relay: &TestRelay, path: &str) -> T {
    let response = reqwest::get(relay.url(path)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// PUTs `body` as JSON: the answer's status and body.
async fn put(relay: &TestRelay, path: &str, body: &impl Serialize) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new().put(relay.url(path)).json(body).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn put_ok<T: DeserializeOwned>(relay: &TestRelay, path: &str, body: &impl Serialize) -> T {
    let (status, answer) = put(relay, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    serde_json::from_value(answer).unwrap()
}

fn refusal(answer: serde_json::Value) -> ErrorBody {
    serde_json::from_value(answer).unwrap()
}

fn settings(threshold: i64, corrections: &[(&str, &str)]) -> Settings {
    Settings {
        low_margin_percent: Decimal::new(threshold, 0),
        corrections: corrections
            .iter()
            .map(|(product, publisher)| (product.to_string(), publisher.to_string()))
            .collect(),
    }
}

fn item(hash: &str) -> ItemId {
    ItemId { kind: ExceptionKind::NotBilled, line: LineIdentity::RowHash(hash.to_owned()) }
}

fn mark(item: &ItemId, base_version: u64, status: ReviewStatus, note: &str) -> ReviewChange {
    ReviewChange { item: item.clone(), base_version, mark: Mark { status, note: note.to_owned() } }
}

/// Fetches September from the vendor through the relay and returns its archive id and hash.
async fn archived_september(relay: &TestRelay) -> (i64, String) {
    let response = reqwest::get(relay.url(SEPTEMBER)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let request_id: u64 = response.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    let bytes = response.bytes().await.unwrap();
    let receipt: ArchiveReceipt = get(relay, &format!("/api/archive/receipts/{request_id}")).await;
    let ArchiveReceipt::Archived { id } = receipt else { panic!("not archived: {receipt:?}") };
    use sha2::Digest;
    (id, format!("{:x}", sha2::Sha256::digest(&bytes)))
}

async fn settings_are_versioned_and_a_stale_change_gets_the_current_one(database: Database) {
    let vendor = vendor().await;
    let relay = relay_on(&database, vendor.base_url()).await;
    let path = paths::settings("p");
    let fresh: SharedSettings = get(&relay, &path).await;
    assert_eq!((fresh.version, fresh.settings, fresh.changed), (0, Settings::default(), None));

    let alices = SettingsChange { base_version: 0, settings: settings(12, &[("Telephony", "KPN")]) };
    let saved: SharedSettings = put_ok(&relay, &path, &alices).await;
    assert_eq!((saved.version, saved.changed.as_ref().unwrap().by.as_str()), (1, "you"));
    // Bob's change, made on the version he saw before Alice's.
    let bobs = SettingsChange { base_version: 0, settings: settings(8, &[]) };
    let (status, answer) = put(&relay, &path, &bobs).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let conflict = refusal(answer);
    assert_eq!(conflict.code, ErrorCode::DecisionConflict);
    let current: SharedSettings = serde_json::from_value(conflict.current.unwrap()).unwrap();
    assert_eq!(current, saved, "the refusal carries what is kept now");
    assert_eq!(get::<SharedSettings>(&relay, &path).await, saved, "nothing overwritten");
    let reapplied: SharedSettings =
        put_ok(&relay, &path, &SettingsChange { base_version: current.version, ..bobs }).await;
    assert_eq!((reapplied.version, reapplied.settings.low_margin_percent), (2, Decimal::new(8, 0)));

    let history: Vec<SettingsHistoryEntry> = get(&relay, &paths::settings_history("p")).await;
    assert_eq!(history.iter().map(|entry| entry.version).collect::<Vec<_>>(), [2, 1], "newest first");
    assert_eq!((&history[0].before, &history[0].after), (&alices.settings, &reapplied.settings));
    assert_eq!(history[1].before, Settings::default());

    for (body, says) in [
        (
            serde_json::json!({ "base_version": 2, "settings": { "low_margin_percent": "101", "corrections": {} } }),
            "0 to 100",
        ),
        (
            serde_json::json!({ "base_version": 2, "settings": { "low_margin_percent": "5", "corrections": { "Telephony": "" } } }),
            "empty side",
        ),
        (
            serde_json::json!({ "base_version": 2, "settings": { "low_margin_percent": 5.5, "corrections": {} } }),
            "not the change",
        ),
        (serde_json::json!({ "base_version": "two" }), "not the change"),
    ] {
        let (status, answer) = put(&relay, &path, &body).await;
        let refused = refusal(answer);
        assert_eq!((status, refused.code), (StatusCode::BAD_REQUEST, ErrorCode::BadParameter), "{body}");
        assert!(refused.detail.contains(says), "{body}: {}", refused.detail);
    }
    let form =
        reqwest::Client::new().put(relay.url(&path)).body("low_margin_percent=1").send().await.unwrap();
    assert_eq!(form.status(), StatusCode::BAD_REQUEST);
    assert!(form.json::<ErrorBody>().await.unwrap().detail.contains("Content-Type: application/json"));
    assert_eq!(get::<SharedSettings>(&relay, &path).await.version, 2, "no refused change was kept");
    let (status, answer) = put(&relay, &paths::settings("nobody"), &alices).await;
    assert_eq!((status, refusal(answer).code), (StatusCode::NOT_FOUND, ErrorCode::UnknownProfile));
}

async fn marks_are_kept_per_month_carried_forward_and_locked_by_a_sign_off(database: Database) {
    let vendor = vendor().await;
    let relay = relay_on(&database, vendor.base_url()).await;
    let (september, october) = ("2026-09".parse().unwrap(), "2026-10".parse().unwrap());
    let (item, other) = (item("0a1b2c3d"), item("ffee0011"));
    let path = paths::reviews("p", september);
    let first: Review =
        put_ok(&relay, &path, &mark(&item, 0, ReviewStatus::ToFix, "  not billed yet  ")).await;
    assert_eq!((first.version, first.mark.note.as_str()), (1, "not billed yet"), "the note is trimmed");
    let stale = put(&relay, &path, &mark(&item, 0, ReviewStatus::Accepted, "fine")).await;
    assert_eq!(stale.0, StatusCode::CONFLICT);
    let current: Review = serde_json::from_value(refusal(stale.1).current.unwrap()).unwrap();
    assert_eq!(current, first);
    let explained: Review =
        put_ok(&relay, &path, &mark(&item, 1, ReviewStatus::Explained, "internal subscription")).await;
    put_ok::<Review>(&relay, &path, &mark(&other, 0, ReviewStatus::Fixed, "credited")).await;

    let month: MonthDecisions = get(&relay, &path).await;
    assert_eq!(month.reviews.len(), 2);
    assert!(month.earlier.is_empty() && month.sign_offs.is_empty());
    // October shows September's decisions on the same items until it has its own.
    let later = paths::reviews("p", october);
    put_ok::<Review>(&relay, &later, &mark(&other, 0, ReviewStatus::ToFix, "came back")).await;
    let october_decisions: MonthDecisions = get(&relay, &later).await;
    assert_eq!(october_decisions.earlier, [explained], "the earlier decision comes along");
    assert_eq!(october_decisions.reviews[0].mark.note, "came back");

    let history: Vec<ReviewHistoryEntry> = get(&relay, &paths::review_history("p", september)).await;
    assert_eq!(history.len(), 3);
    let of_item: Vec<_> = history.iter().filter(|entry| entry.item == item).collect();
    assert_eq!(of_item[0].before.as_ref().map(|mark| mark.status), Some(ReviewStatus::ToFix));
    assert_eq!(of_item[0].after.status, ReviewStatus::Explained);

    // The sign-off holds to September's archived document and the marks as they stand.
    let (document, sha256) = archived_september(&relay).await;
    let sign_off_path = paths::sign_off("p", september);
    let sign_off = |base_version, documents: Vec<i64>| SignOffChange {
        endpoint: billing::Endpoint::Invoices,
        base_version,
        action: SignOffAction::SignOff { documents },
    };
    let (status, answer) = put(&relay, &sign_off_path, &sign_off(0, vec![document + 1000])).await;
    assert_eq!((status, refusal(answer).code), (StatusCode::BAD_REQUEST, ErrorCode::BadParameter));
    let (status, answer) = put(&relay, &paths::sign_off("p", october), &sign_off(0, vec![document])).await;
    let refused = refusal(answer);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.detail.contains("its own month"), "{}", refused.detail);
    let signed: SignOff = put_ok(&relay, &sign_off_path, &sign_off(0, vec![document])).await;
    let SignOffState::SignedOff { documents, reviews, settings } = &signed.state else {
        panic!("{signed:?}")
    };
    assert_eq!((documents[0].id, documents[0].sha256.as_str()), (document, sha256.as_str()));
    assert_eq!(reviews.len(), 2, "the marks as they stood");
    assert_eq!(settings, &Settings::default());
    assert_eq!(signed.pinned(billing::Endpoint::Invoices).map(|pinned| pinned.id), Some(document));

    let (status, answer) = put(&relay, &path, &mark(&item, 2, ReviewStatus::Fixed, "late")).await;
    let refused = refusal(answer);
    assert_eq!((status, refused.code), (StatusCode::CONFLICT, ErrorCode::MonthSignedOff));
    assert!(refused.detail.contains("2026-09 was signed off by you"), "{}", refused.detail);
    assert_eq!(serde_json::from_value::<SignOff>(refused.current.unwrap()).unwrap(), signed);
    let october_mark = put(&relay, &later, &mark(&item, 0, ReviewStatus::Fixed, "done in October")).await;
    assert_eq!(october_mark.0, StatusCode::OK, "another month is open");

    let reopen = |reason: &str| SignOffChange {
        endpoint: billing::Endpoint::Invoices,
        base_version: 1,
        action: SignOffAction::Reopen { reason: reason.to_owned() },
    };
    let (status, answer) = put(&relay, &sign_off_path, &reopen("   ")).await;
    let refused = refusal(answer);
    assert_eq!((status, refused.code), (StatusCode::BAD_REQUEST, ErrorCode::BadParameter));
    assert!(refused.detail.contains("needs a reason"), "{}", refused.detail);
    let reopened: SignOff = put_ok(&relay, &sign_off_path, &reopen("the vendor re-issued invoice 12")).await;
    assert_eq!(
        reopened.state,
        SignOffState::Reopened { reason: "the vendor re-issued invoice 12".to_owned() }
    );
    let fixed: Review = put_ok(&relay, &path, &mark(&item, 2, ReviewStatus::Fixed, "late")).await;
    assert_eq!(fixed.version, 3, "open again");
    let month: MonthDecisions = get(&relay, &path).await;
    assert_eq!(month.sign_offs, [reopened]);
    assert!(month.signed_off().is_none());
}

/// A server-sent event stream, read an event at a time.
struct Events {
    stream: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    buffer: String,
}

impl Events {
    async fn open(relay: &TestRelay) -> Self {
        let response = reqwest::get(relay.url(&paths::events("p"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut events = Self { stream: Box::pin(response.bytes_stream()), buffer: String::new() };
        assert_eq!(events.next().await.0, "open", "the stream says it listens before anything changes");
        events
    }

    /// The next event's name and data; keep-alive comments are skipped.
    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map(|value| value.trim().to_owned())
                };
                if let Some(event) = field("event:") {
                    return (event, field("data:").unwrap_or_default());
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream goes on")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    async fn next_decision(&mut self) -> DecisionEvent {
        let (event, data) = self.next().await;
        assert_eq!(event, "decision", "{data}");
        serde_json::from_str(&data).unwrap()
    }
}

async fn every_change_reaches_the_event_stream(database: Database) {
    let vendor = vendor().await;
    let relay = relay_on(&database, vendor.base_url()).await;
    let mut events = Events::open(&relay).await;
    let change = SettingsChange { base_version: 0, settings: settings(9, &[]) };
    put_ok::<SharedSettings>(&relay, &paths::settings("p"), &change).await;
    assert_eq!(events.next_decision().await, DecisionEvent::Settings { version: 1 });
    let september = "2026-09".parse().unwrap();
    put_ok::<Review>(&relay, &paths::reviews("p", september), &mark(&item("aa"), 0, ReviewStatus::Fixed, ""))
        .await;
    assert_eq!(events.next_decision().await, DecisionEvent::Review { month: september, version: 1 });
    // A refused change tells nobody: the next event is the next change.
    put(&relay, &paths::settings("p"), &change).await;
    put_ok::<SharedSettings>(&relay, &paths::settings("p"), &SettingsChange { base_version: 1, ..change })
        .await;
    assert_eq!(events.next_decision().await, DecisionEvent::Settings { version: 2 });
}

#[tokio::test]
async fn two_relays_sharing_postgresql_tell_each_others_pages() {
    let database = Database::postgres().await;
    let vendor = vendor().await;
    let first = relay_on(&database, vendor.base_url()).await;
    let second = relay_on(&database, vendor.base_url()).await;
    let mut on_second = Events::open(&second).await;
    let mut on_first = Events::open(&first).await;
    let september = "2026-09".parse().unwrap();
    let path = paths::reviews("p", september);
    put_ok::<Review>(&first, &path, &mark(&item("01"), 0, ReviewStatus::Explained, "through the first"))
        .await;
    assert_eq!(on_second.next_decision().await, DecisionEvent::Review { month: september, version: 1 });
    assert_eq!(on_first.next_decision().await, DecisionEvent::Review { month: september, version: 1 });
    let seen: MonthDecisions = get(&second, &path).await;
    assert_eq!(seen.reviews[0].mark.note, "through the first");
    // Both relays take the same version's change at once: one wins, one is told.
    let change = mark(&item("01"), 1, ReviewStatus::Fixed, "raced");
    let (a, b) = tokio::join!(put(&first, &path, &change), put(&second, &path, &change));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    assert_eq!(get::<MonthDecisions>(&first, &path).await.reviews[0].version, 2);
}

#[tokio::test]
async fn a_stopped_database_refuses_changes_with_its_code_and_keeps_what_was_saved() {
    let mut database = Database::postgres().await;
    let vendor = vendor().await;
    let relay = relay_on(&database, vendor.base_url()).await;
    let path = paths::settings("p");
    let saved: SharedSettings =
        put_ok(&relay, &path, &SettingsChange { base_version: 0, settings: settings(11, &[]) }).await;
    let server = database.server.as_mut().unwrap();
    server.stop().await;
    let (status, answer) =
        put(&relay, &path, &SettingsChange { base_version: 1, settings: settings(3, &[]) }).await;
    let refused = refusal(answer);
    assert_eq!((status, refused.code), (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::DecisionsUnavailable));
    assert!(refused.detail.contains("nothing was changed"), "{}", refused.detail);
    let read = reqwest::get(relay.url(&path)).await.unwrap();
    assert_eq!(read.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.start_again().await;
    assert_eq!(get::<SharedSettings>(&relay, &path).await, saved);
}

#[tokio::test]
async fn a_browser_on_another_site_cannot_change_a_decision() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let path = paths::settings("p");
    let change = SettingsChange { base_version: 0, settings: settings(1, &[]) };
    for (name, value) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let response = reqwest::Client::new()
            .put(relay.url(&path))
            .header(name, value)
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        assert_eq!(response.json::<ErrorBody>().await.unwrap().code, ErrorCode::CrossSiteRequest);
    }
    assert_eq!(get::<SharedSettings>(&relay, &path).await.version, 0);
    let same_site = reqwest::Client::new()
        .put(relay.url(&path))
        .header("sec-fetch-site", "same-origin")
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::OK);
}
