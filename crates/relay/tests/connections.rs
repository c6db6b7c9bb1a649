//! Slow and idle clients are let go, and a cap on connections keeps the
//! relay's files for the clients it serves: over real loopback TCP,
//! without a proxy in front of the relay.

mod support;

use std::{net::SocketAddr, time::Duration};

use billing::Generation::Legacy;
use relay::ConnectionLimits;
use support::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Long enough for every check to happen well inside it, short enough to
/// wait for.
const HEADER_TIMEOUT: Duration = Duration::from_secs(3);
/// A bound on waiting for something that must happen.
const PATIENCE: Duration = Duration::from_secs(30);
const HALF_OPEN: usize = 1000;

fn address_of(relay: &TestRelay) -> SocketAddr {
    relay.base_url.trim_start_matches("http://").parse().unwrap()
}

/// Whether the relay has closed `stream` (without sending anything), as
/// far as can be told without waiting.
fn closed_now(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.try_read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the relay answered half a request"),
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// Waits until the relay closes `stream`.
async fn until_closed(stream: &mut TcpStream) {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await.expect("closed in time");
    assert!(
        read.is_err() || rest.is_empty(),
        "closed without an answer: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

async fn metrics_of(relay: &TestRelay) -> std::collections::BTreeMap<String, f64> {
    scrape(&format!("{}/metrics", relay.metrics_url.as_ref().unwrap())).await
}

fn own_metrics() -> Option<relay::MetricsConfig> {
    Some(relay::MetricsConfig {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        allowlist: vendor_sim::config::loopback(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_send_half_a_header_are_closed_after_the_limit_while_others_are_served() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("production", Legacy, vendor.base_url(), KEY)], |config| {
        config.connections = ConnectionLimits {
            header_timeout: HEADER_TIMEOUT,
            idle_timeout: PATIENCE,
            max_open: 4 * HALF_OPEN,
        };
        config.metrics = own_metrics();
    })
    .await;
    let address = address_of(&relay);
    let mut half_open = Vec::with_capacity(HALF_OPEN);
    for _ in 0..HALF_OPEN {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(format!("GET /api/profiles HTTP/1.1\r\nHost: {address}\r\n").as_bytes())
            .await
            .unwrap();
        half_open.push(stream);
    }
    // A person's request is served while all of them hang on.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let document = client
        .get(relay.url(&format!("/api/documents/production/v3/invoices?{WINDOW}")))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), reqwest::StatusCode::OK);
    assert!(document.bytes().await.unwrap().len() > 1000);
    // Its keep-alive connection, idle from here, would reach the header
    // limit too while the test waits; the person leaves instead.
    drop(client);
    let still_open = half_open.iter().filter(|stream| !closed_now(stream)).count();
    assert_eq!(
        still_open, HALF_OPEN,
        "served within the header limit, with every slow client still connected"
    );
    let open = metrics_of(&relay).await["billing_relay_connections_open{}"];
    assert!(open >= HALF_OPEN as f64, "{open} open");

    for stream in &mut half_open {
        until_closed(stream).await;
    }
    let metrics = metrics_of(&relay).await;
    assert_eq!(
        metrics[r#"billing_relay_connections_closed_total{reason="header_timeout"}"#],
        HALF_OPEN as f64
    );
    let open = metrics["billing_relay_connections_open{}"];
    assert!(open <= 1.0, "only this scrape's connection is left: {open}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() {
    // The vendor takes 2.5 s to answer: a transfer under way that moves
    // no bytes for longer than the idle limit.
    let slow_vendor = vendor_sim::ApiKey {
        faults: vec!["latency=2500".parse().unwrap()],
        ..vendor_sim::ApiKey::new("relay", KEY.to_owned().into())
    };
    let vendor = vendor_with(vec![slow_vendor]).await;
    let relay = relay_with(vec![profile("production", Legacy, vendor.base_url(), KEY)], |config| {
        config.connections =
            ConnectionLimits { header_timeout: PATIENCE, idle_timeout: Duration::from_secs(1), max_open: 16 };
        config.metrics = own_metrics();
    })
    .await;
    let address = address_of(&relay);
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = [0u8; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
    until_closed(&mut stream).await;
    let metrics = metrics_of(&relay).await;
    assert_eq!(metrics[r#"billing_relay_connections_closed_total{reason="idle"}"#], 1.0);

    // A document the vendor is slow to send keeps its connection busy
    // past the idle limit: a transfer under way is not idle.
    let slow = format!("/api/documents/production/v3/invoices?{WINDOW}");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {slow} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..answer.len().min(300)]);
    assert_eq!(metrics_of(&relay).await[r#"billing_relay_connections_closed_total{reason="idle"}"#], 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_cap_new_connections_wait_and_established_downloads_finish_whole() {
    let vendor = vendor().await;
    let relay = relay_with(vec![profile("production", Legacy, vendor.base_url(), KEY)], |config| {
        config.connections =
            ConnectionLimits { header_timeout: PATIENCE, idle_timeout: PATIENCE, max_open: 3 };
        config.metrics = own_metrics();
    })
    .await;
    let address = address_of(&relay);
    let document = relay.url(&format!("/api/documents/production/v3/invoices?{WINDOW}"));
    let expected = reqwest::Client::new().get(&document).send().await.unwrap().bytes().await.unwrap();
    // Three clients, each keeping its connection: the cap is reached.
    let clients: Vec<reqwest::Client> =
        (0..3).map(|_| reqwest::Client::builder().no_proxy().build().unwrap()).collect();
    let mut downloads = Vec::new();
    for client in &clients[..2] {
        let response = client.get(&document).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        downloads.push(response);
    }
    assert_eq!(clients[2].get(relay.url("/healthz")).send().await.unwrap().status(), reqwest::StatusCode::OK);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while metrics_of(&relay).await["billing_relay_connections_open{}"] < 3.0 {
        assert!(tokio::time::Instant::now() < deadline, "three connections open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut waiting = TcpStream::connect(address).await.unwrap();
    waiting.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).await.unwrap();
    for download in downloads {
        let bytes = download.bytes().await.expect("the download ends whole");
        assert_eq!(bytes, expected, "every byte of the document");
    }
    assert!(!closed_now(&waiting), "the waiting connection is kept, not refused");
    let mut byte = [0u8; 1];
    assert!(
        matches!(waiting.try_read(&mut byte), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "not answered while three connections are open"
    );
    assert!(metrics_of(&relay).await["billing_relay_connection_cap_reached_total{}"] >= 1.0);

    drop(clients);
    let mut answer = [0u8; 256];
    let read = tokio::time::timeout(PATIENCE, waiting.read(&mut answer)).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"),
        "served once a slot is free"
    );
}
