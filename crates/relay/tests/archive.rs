//! The archive over real loopback HTTP: the relay in front of the real
//! emulator, archiving into SQLite or a real PostgreSQL (the same tests on
//! both) and the local object store, and what it keeps when things break.

mod support;

use std::path::{Path, PathBuf};

use billing::{
    Format,
    Generation::Legacy,
    api::{ArchivePage, ArchiveReceipt, ErrorBody, ErrorCode, Scope},
};
use relay::{ArchiveConfig, MetricsConfig, RelayConfig};
use reqwest::{StatusCode, header};
use sha2::{Digest, Sha256};
use support::{database::Database, *};
use vendor_sim::ApiKey;

const DOCUMENT: &str = "/api/documents/p/v3/invoices?start=2026-06-01&end=2026-09-30";

on_both_databases!(
    a_fetched_document_is_listed_and_opened_byte_for_byte,
    twenty_parallel_fetches_store_one_file_and_twenty_records,
    broken_and_abandoned_transfers_leave_no_record_and_no_file,
    a_file_changed_by_one_byte_is_refused_with_its_code,
);

async fn relay_archiving(vendor_url: String, database: &Database) -> TestRelay {
    relay_with(vec![profile("p", Legacy, vendor_url, KEY)], |config| database.configure(config)).await
}

/// The document's bytes, its `X-Request-Id` and its Content-Type.
async fn fetch(relay: &TestRelay, path: &str) -> (Vec<u8>, u64, String) {
    let response = reqwest::get(relay.url(path)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let request_id = response.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
    (response.bytes().await.unwrap().to_vec(), request_id, content_type)
}

async fn receipt(relay: &TestRelay, request_id: u64) -> Result<ArchiveReceipt, ErrorCode> {
    let response = reqwest::get(relay.url(&format!("/api/archive/receipts/{request_id}"))).await.unwrap();
    if response.status() == StatusCode::OK {
        Ok(response.json().await.unwrap())
    } else {
        Err(response.json::<ErrorBody>().await.unwrap().code)
    }
}

async fn archived_id(relay: &TestRelay, request_id: u64) -> i64 {
    match receipt(relay, request_id).await {
        Ok(ArchiveReceipt::Archived { id }) => id,
        other => panic!("request {request_id} was not archived: {other:?}"),
    }
}

async fn list(relay: &TestRelay, query: &str) -> ArchivePage {
    let response = reqwest::get(relay.url(&format!("/api/archive{query}"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Every file under `dir`, however deep.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() { files_under(&path) } else { vec![path] }
        })
        .collect()
}

fn stored_files(relay: &TestRelay) -> Vec<PathBuf> {
    files_under(&relay.data_dir.path().join("documents"))
}

async fn a_fetched_document_is_listed_and_opened_byte_for_byte(database: Database) {
    let vendor = vendor().await;
    let relay = relay_archiving(vendor.base_url(), &database).await;
    let (live, request_id, content_type) = fetch(&relay, DOCUMENT).await;
    let id = archived_id(&relay, request_id).await;

    let page = list(&relay, "?profile=p").await;
    assert_eq!(page.next, None);
    let [document] = page.documents.as_slice() else { panic!("{page:?}") };
    assert_eq!((document.id, document.request_id), (id, request_id));
    assert_eq!(document.request.endpoint().path(), "invoices");
    assert_eq!((document.request.version(), document.request.format()), ("v3", Format::Xml));
    let Scope::Window(window) = document.request.scope() else { panic!("a window") };
    assert_eq!(
        (window.start().to_string(), window.end().to_string()),
        ("2026-06-01".into(), "2026-09-30".into())
    );
    assert_eq!((document.vendor_status, document.content_type.as_str()), (200, content_type.as_str()));
    assert_eq!((document.bytes, document.sha256.as_str()), (live.len() as u64, sha256(&live).as_str()));
    assert_eq!(document.fetched_by, None, "sign-in is off");
    assert!((chrono::Utc::now() - document.fetched_at).num_seconds() < 60, "{}", document.fetched_at);

    let opened = reqwest::get(relay.url(&document.path())).await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let headers = opened.headers().clone();
    assert_eq!(headers[header::ETAG], format!("\"{}\"", document.sha256).as_str());
    assert_eq!(headers[header::CONTENT_TYPE], content_type.as_str());
    assert!(headers.contains_key(header::LAST_MODIFIED));
    let fetched_at: chrono::DateTime<chrono::Utc> =
        headers["billing-fetched-at"].to_str().unwrap().parse().unwrap();
    assert_eq!(fetched_at, document.fetched_at);
    assert_eq!(opened.bytes().await.unwrap(), live, "exactly as received");
    let download = reqwest::get(relay.url(&format!("{}?download=1", document.path()))).await.unwrap();
    let disposition = download.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"{}\"", document.request.file_name()));

    // More documents: newest first, a page at a time, filtered.
    let (sales, sales_id, _) =
        fetch(&relay, "/api/documents/p/v3/customerinvoices?start=2026-07-01&end=2026-07-31&format=json")
            .await;
    let sales_id = archived_id(&relay, sales_id).await;
    let (_, third, _) = fetch(&relay, "/api/documents/p/v3/invoices?start=2026-01-01&end=2026-01-31").await;
    let third = archived_id(&relay, third).await;
    let first_page = list(&relay, "?limit=2").await;
    let ids: Vec<i64> = first_page.documents.iter().map(|document| document.id).collect();
    assert_eq!(ids, [third, sales_id]);
    let next = first_page.next.expect("a second page");
    let second_page = list(&relay, next.path().trim_start_matches("/api/archive")).await;
    assert_eq!(second_page.documents.iter().map(|document| document.id).collect::<Vec<_>>(), [id]);
    assert_eq!(second_page.next, None);
    let sales_only = list(&relay, "?endpoint=customerinvoices").await;
    assert_eq!(sales_only.documents.len(), 1);
    assert_eq!(sales_only.documents[0].request.format(), Format::Json);
    assert_eq!(sales_only.documents[0].bytes, sales.len() as u64);
    let summer = list(&relay, "?from=2026-06-01&to=2026-09-30").await;
    assert_eq!(summer.documents.iter().map(|document| document.id).collect::<Vec<_>>(), [sales_id, id]);
    for bad in ["?limit=0", "?from=2026-09-30&to=2026-06-01", "?key=1", "?endpoint=../etc"] {
        let response = reqwest::get(relay.url(&format!("/api/archive{bad}"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    for missing in ["/api/archive/999999", "/api/archive/0", "/api/archive/x", "/api/archive/receipts/1"] {
        let response = reqwest::get(relay.url(missing)).await.unwrap();
        let body: ErrorBody = response.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::ArchivedDocumentNotFound, "{missing}");
    }

    // A relay started again on the same database and store finds it all.
    let data_dir = relay.data_dir.path().to_owned();
    let again = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.archive = ArchiveConfig::in_directory(data_dir);
        database.configure(config);
    })
    .await;
    let after_restart = list(&again, "").await;
    assert_eq!(after_restart.documents, list(&relay, "").await.documents);
    let reopened = reqwest::get(again.url(&format!("/api/archive/{id}"))).await.unwrap();
    assert_eq!(reopened.bytes().await.unwrap(), live);
}

async fn twenty_parallel_fetches_store_one_file_and_twenty_records(database: Database) {
    let vendor = vendor().await;
    let relay = relay_archiving(vendor.base_url(), &database).await;
    let fetches: Vec<_> = (0..20).map(|_| fetch(&relay, DOCUMENT)).collect();
    let fetched = futures_util::future::join_all(fetches).await;
    let mut receipts = Vec::new();
    for (bytes, request_id, _) in &fetched {
        assert_eq!(bytes, &fetched[0].0);
        receipts.push((archived_id(&relay, *request_id).await, *request_id));
    }
    receipts.sort_unstable();
    let page = list(&relay, "").await;
    let mut records: Vec<(i64, u64)> =
        page.documents.iter().map(|document| (document.id, document.request_id)).collect();
    records.sort_unstable();
    assert_eq!(receipts, records, "twenty records, each the one its transfer's receipt names");
    assert!(page.documents.iter().all(|document| document.sha256 == sha256(&fetched[0].0)));
    let files = stored_files(&relay);
    assert_eq!(files.len(), 1, "one stored file: {files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), fetched[0].0);
}

#[tokio::test]
async fn a_document_too_large_to_hold_streams_to_the_store_and_is_kept_once_like_a_small_one() {
    let vendor = vendor().await;
    let relay = relay_archiving(vendor.base_url(), &Database::sqlite().await).await;
    let large = "/api/documents/p/v3/invoices?start=2025-01-01&end=2026-09-30";
    let mut fetched = Vec::new();
    for path in [large, DOCUMENT, large, DOCUMENT] {
        let (bytes, request_id, _) = fetch(&relay, path).await;
        fetched.push((archived_id(&relay, request_id).await, bytes));
    }
    assert!(fetched[0].1.len() > 1_000_000 && fetched[1].1.len() < 300_000, "one held, one streamed");

    let mut files: Vec<Vec<u8>> =
        stored_files(&relay).iter().map(|file| std::fs::read(file).unwrap()).collect();
    files.sort_by_key(Vec::len);
    assert_eq!(
        files,
        [fetched[1].1.clone(), fetched[0].1.clone()],
        "each document's bytes once, nothing else"
    );
    for (id, bytes) in &fetched {
        let opened = reqwest::get(relay.url(&format!("/api/archive/{id}"))).await.unwrap();
        assert_eq!(&opened.bytes().await.unwrap(), bytes, "record {id}");
    }
}

async fn broken_and_abandoned_transfers_leave_no_record_and_no_file(database: Database) {
    let dropping =
        ApiKey { faults: vec!["drop".parse().unwrap()], ..ApiKey::new("drop", "dropping".to_owned().into()) };
    let dripping = ApiKey {
        faults: vec!["drip=65536:1000".parse().unwrap()],
        ..ApiKey::new("drip", "dripping".to_owned().into())
    };
    let vendor = vendor_with(vec![dropping, dripping]).await;
    let profiles = vec![
        profile("dropping", Legacy, vendor.base_url(), "dropping"),
        profile("dripping", Legacy, vendor.base_url(), "dripping"),
    ];
    let relay = relay_with(profiles, |config| database.configure(config)).await;
    let wide = "v3/invoices?start=2025-01-01&end=2026-09-30";

    let broken = reqwest::get(relay.url(&format!("/api/documents/dropping/{wide}"))).await.unwrap();
    let broken_id: u64 = broken.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    assert!(broken.bytes().await.is_err(), "the vendor broke off");
    assert_eq!(receipt(&relay, broken_id).await, Err(ErrorCode::ArchivedDocumentNotFound));

    let mut abandoned = reqwest::get(relay.url(&format!("/api/documents/dripping/{wide}"))).await.unwrap();
    let abandoned_id: u64 = abandoned.headers()["x-request-id"].to_str().unwrap().parse().unwrap();
    assert!(!abandoned.chunk().await.unwrap().unwrap().is_empty());
    drop(abandoned);
    // The receipt waits until the relay has thrown the transfer away.
    assert_eq!(receipt(&relay, abandoned_id).await, Err(ErrorCode::ArchivedDocumentNotFound));

    assert_eq!(list(&relay, "").await.documents, [], "no record");
    assert_eq!(stored_files(&relay), Vec::<PathBuf>::new(), "no file, not even a partial one");
}

async fn a_file_changed_by_one_byte_is_refused_with_its_code(database: Database) {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        database.configure(config);
        config.metrics = Some(MetricsConfig { listen: None, allowlist: relay::config::loopback() });
    })
    .await;
    let (live, request_id, _) = fetch(&relay, DOCUMENT).await;
    let id = archived_id(&relay, request_id).await;
    let [file] = stored_files(&relay).try_into().unwrap();
    let mut changed = live.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x01;
    std::fs::write(&file, &changed).unwrap();
    let response = reqwest::get(relay.url(&format!("/api/archive/{id}"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::ArchivedDocumentDamaged);
    assert!(!body.detail.contains("<?xml"), "never the document: {}", body.detail);
    std::fs::write(&file, &live[..live.len() - 1]).unwrap();
    let truncated: ErrorBody =
        reqwest::get(relay.url(&format!("/api/archive/{id}"))).await.unwrap().json().await.unwrap();
    assert_eq!(truncated.code, ErrorCode::ArchivedDocumentDamaged);
    std::fs::remove_file(&file).unwrap();
    let missing: ErrorBody =
        reqwest::get(relay.url(&format!("/api/archive/{id}"))).await.unwrap().json().await.unwrap();
    assert_eq!(missing.code, ErrorCode::ArchivedDocumentDamaged);
    let metrics = scrape(&relay.url("/metrics")).await;
    assert_eq!(metrics.get("billing_relay_archive_damaged_reads_total{}"), Some(&3.0), "{metrics:?}");
}

#[tokio::test]
async fn an_unwritable_store_still_delivers_the_document_whole_and_archiving_resumes() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |config| {
        config.metrics = Some(MetricsConfig { listen: None, allowlist: relay::config::loopback() });
    })
    .await;
    let direct = reqwest::Client::new()
        .get(format!("{}/v3/invoices?startDate=20260601&endDate=20260930", vendor.base_url()))
        .header("x-api-key", KEY)
        .header(header::ACCEPT, "application/xml")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // Root may write anywhere, so the store's directory becomes a file.
    let documents = relay.data_dir.path().join("documents");
    std::fs::remove_dir_all(&documents).unwrap();
    std::fs::write(&documents, b"not a directory").unwrap();
    let (live, request_id, _) = fetch(&relay, DOCUMENT).await;
    assert_eq!(live, direct, "the document arrives whole");
    let Ok(ArchiveReceipt::NotArchived { reason }) = receipt(&relay, request_id).await else {
        panic!("not archived")
    };
    assert!(reason.contains("storage could not be written"), "{reason}");
    assert_eq!(list(&relay, "").await.documents, []);
    let metrics = scrape(&relay.url("/metrics")).await;
    let not_archived = "billing_relay_archive_documents_total{outcome=\"not_archived\",reason=\"store\"}";
    assert_eq!(metrics.get(not_archived), Some(&1.0), "{metrics:?}");

    std::fs::remove_file(&documents).unwrap();
    std::fs::create_dir(&documents).unwrap();
    let (_, request_id, _) = fetch(&relay, DOCUMENT).await;
    archived_id(&relay, request_id).await;
    assert_eq!(stored_files(&relay).len(), 1, "only the archived copy, nothing partial");
}

#[tokio::test]
async fn a_stopped_database_still_delivers_the_document_and_archiving_resumes_when_it_is_back() {
    let mut database = Database::postgres().await;
    let vendor = vendor().await;
    let relay = relay_archiving(vendor.base_url(), &database).await;
    let server = database.server.as_mut().unwrap();
    server.stop().await;
    let (live, request_id, _) = fetch(&relay, DOCUMENT).await;
    assert!(live.ends_with(b">") || live.ends_with(b">\n"), "whole");
    let Ok(ArchiveReceipt::NotArchived { reason }) = receipt(&relay, request_id).await else {
        panic!("not archived")
    };
    assert!(reason.contains("database"), "{reason}");
    let listed = reqwest::get(relay.url("/api/archive")).await.unwrap();
    assert_eq!(listed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(listed.json::<ErrorBody>().await.unwrap().code, ErrorCode::ArchiveUnavailable);
    assert_eq!(stored_files(&relay), Vec::<PathBuf>::new(), "no file without its record");

    server.start_again().await;
    let (again, request_id, _) = fetch(&relay, DOCUMENT).await;
    assert_eq!(again, live);
    let id = archived_id(&relay, request_id).await;
    assert_eq!(list(&relay, "").await.documents.iter().map(|document| document.id).collect::<Vec<_>>(), [id]);
}

#[tokio::test]
async fn two_relays_on_one_database_and_one_store_share_the_archive() {
    let database = Database::postgres().await;
    let store = tempfile::tempdir().unwrap();
    let vendor = vendor().await;
    let sharing = |config: &mut RelayConfig| {
        database.configure(config);
        config.archive.store_url = Some(format!("file://{}", store.path().display()));
    };
    let first = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], sharing).await;
    let second = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], sharing).await;
    let (live, request_id, _) = fetch(&first, DOCUMENT).await;
    let id = archived_id(&first, request_id).await;
    // Behind a load balancer the page's receipt question may reach the other relay.
    assert_eq!(archived_id(&second, request_id).await, id, "the other relay answers from the shared records");
    let listed = list(&second, "?profile=p").await;
    assert_eq!(listed.documents.iter().map(|document| document.id).collect::<Vec<_>>(), [id]);
    let opened = reqwest::get(second.url(&format!("/api/archive/{id}"))).await.unwrap();
    assert_eq!(opened.bytes().await.unwrap(), live, "byte-identical through the other relay");
    let (_, request_id, _) = fetch(&second, DOCUMENT).await;
    archived_id(&second, request_id).await;
    assert_eq!(files_under(store.path()).len(), 1, "the same bytes are stored once");
}

#[tokio::test]
async fn a_purge_removes_only_what_has_outlived_its_retention() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("p", Legacy, vendor.base_url(), KEY)], |_| {}).await;
    let (_, first, _) = fetch(&relay, DOCUMENT).await;
    archived_id(&relay, first).await;
    let (_, second, _) = fetch(&relay, DOCUMENT).await;
    archived_id(&relay, second).await;
    let settings = ArchiveConfig::in_directory(relay.data_dir.path().to_owned());
    let metrics = std::sync::Arc::new(relay::Metrics::default());
    let database = relay::open_database(&settings).await.unwrap();
    let archive = relay::open_archive(&settings, &database, metrics).await.unwrap().unwrap();
    let now = chrono::Utc::now();
    let purge = |years_later: u32| {
        let archive = archive.clone();
        async move {
            let then = now.checked_add_months(chrono::Months::new(12 * years_later)).unwrap();
            relay::archive::purge::purge(&archive, 7, then).await.unwrap()
        }
    };
    assert_eq!(purge(6).await, relay::archive::purge::Purged::default(), "six years on, nothing goes");
    assert_eq!(list(&relay, "").await.documents.len(), 2);
    let purged = purge(8).await;
    assert_eq!((purged.records, purged.files), (2, 1), "eight years on, both records and their one file");
    assert_eq!(list(&relay, "").await.documents, []);
    assert_eq!(stored_files(&relay), Vec::<PathBuf>::new());
}
