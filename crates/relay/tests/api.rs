//! The relay over real HTTP on loopback, in front of the real emulator.

use relay::{Application, RelayConfig};
use reqwest::StatusCode;

struct TestRelay {
    base_url: String,
    _app_dir: tempfile::TempDir,
    _vendor: vendor_sim::RunningVendor,
}

const INDEX: &str = "<!DOCTYPE html><title>app shell</title>";

async fn start() -> TestRelay {
    let app_dir = tempfile::tempdir().unwrap();
    std::fs::write(app_dir.path().join("index.html"), INDEX).unwrap();
    let (vendor, profiles) = relay::demo::start_vendor().await.unwrap();
    let config =
        RelayConfig { listen: "127.0.0.1:0".parse().unwrap(), app_dir: app_dir.path().to_owned(), profiles };
    let application = Application::build(config).await.unwrap();
    let base_url = format!("http://{}", application.local_addr().unwrap());
    tokio::spawn(application.run_until_stopped());
    TestRelay { base_url, _app_dir: app_dir, _vendor: vendor }
}

#[tokio::test]
async fn profiles_list_the_demo_profile_without_key_or_url() {
    let relay = start().await;
    let response = reqwest::get(format!("{}/api/profiles", relay.base_url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    let profiles: Vec<billing::ProfileSummary> = serde_json::from_str(&body).unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name, "demo");
    assert_eq!(profiles[0].generation, billing::Generation::Legacy);
    assert_eq!(profiles[0].versions, ["v1", "v2", "v3"]);
    assert!(!body.contains("demo-"), "a key leaked: {body}");
    assert!(!body.contains("127.0.0.1"), "the vendor URL leaked: {body}");
}

#[tokio::test]
async fn unknown_api_routes_are_json_404s_not_the_app() {
    let relay = start().await;
    let response = reqwest::get(format!("{}/api/nothing", relay.base_url)).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no such API route");
    assert_eq!(body["detail"], "the relay has no API at /api/nothing");
}

#[tokio::test]
async fn any_other_path_serves_the_app_shell() {
    let relay = start().await;
    for path in ["/", "/invoices/some/deep/link"] {
        let response = reqwest::get(format!("{}{path}", relay.base_url)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.text().await.unwrap(), INDEX, "{path}");
    }
}

#[tokio::test]
async fn an_app_dir_without_index_is_refused_at_build() {
    let empty = tempfile::tempdir().unwrap();
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        app_dir: empty.path().to_owned(),
        profiles: Vec::new(),
    };
    let error = Application::build(config).await.err().expect("build must fail");
    let message = error.to_string();
    assert!(message.contains("has no index.html"), "{message}");
    assert!(message.contains(&empty.path().display().to_string()), "{message}");
}
