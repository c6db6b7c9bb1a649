//! The emulator over real HTTP on loopback.

use reqwest::StatusCode;
use vendor_sim::{Config, RunningVendor};

const KEY: &str = "test-key-0123456789";

async fn start() -> RunningVendor {
    vendor_sim::spawn("127.0.0.1:0".parse().unwrap(), Config::single_key("test", KEY.to_owned().into()))
        .await
        .expect("emulator binds a loopback port")
}

async fn get(vendor: &RunningVendor, path: &str, key: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", vendor.base_url()));
    if let Some(key) = key {
        request = request.header("X-Api-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn missing_or_unknown_key_is_401_with_a_json_error() {
    let vendor = start().await;
    let (status, body) = get(&vendor, "/v3/invoices", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "missing API key");
    let (status, body) = get(&vendor, "/v3/invoices", Some("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unknown API key");
}

#[tokio::test]
async fn unknown_route_with_a_valid_key_is_404() {
    let vendor = start().await;
    let (status, body) = get(&vendor, "/v9/nothing", Some(KEY)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "unknown version or endpoint");
}

#[tokio::test]
async fn health_needs_no_key() {
    let vendor = start().await;
    let response = reqwest::get(format!("{}/healthz", vendor.base_url())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
