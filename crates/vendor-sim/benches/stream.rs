//! How fast the emulator streams a document of more than 100 MB over
//! loopback, and that it does so without holding it: the process's peak
//! resident memory is printed after the run.

use std::net::SocketAddr;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use vendor_sim::{Config, DataSpec, RunningVendor};

const KEY: &str = "bench-key";
/// A year of purchase invoices for this many customers passes 100 MB.
const CUSTOMERS: usize = 2500;
const PATH: &str = "/v3/invoices?startDate=20251125&endDate=20261124";

async fn start() -> RunningVendor {
    let config = Config {
        data: DataSpec { seed: 2026, customers: CUSTOMERS, hostile_names: false },
        today: NaiveDate::from_ymd_opt(2026, 11, 25),
        ..Config::single_key("bench", KEY.to_owned().into())
    };
    vendor_sim::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.expect("a loopback port")
}

/// Downloads the document, counting its bytes without keeping them.
async fn download(client: &reqwest::Client, url: &str) -> u64 {
    let response = client.get(url).header("X-Api-Key", KEY).send().await.expect("an answer");
    assert!(response.status().is_success());
    let mut body = response.bytes_stream();
    let mut bytes = 0;
    while let Some(chunk) = body.next().await {
        bytes += chunk.expect("a whole body").len() as u64;
    }
    bytes
}

fn peak_resident_megabytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}

fn stream(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let vendor = runtime.block_on(start());
    let client = reqwest::Client::new();
    let url = format!("{}{PATH}", vendor.base_url());
    let size = runtime.block_on(download(&client, &url));
    assert!(size >= 100_000_000, "the document is {size} bytes, under 100 MB");

    let mut group = criterion.benchmark_group("emulator");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    group.bench_function("stream_xml", |bench| bench.iter(|| runtime.block_on(download(&client, &url))));
    group.finish();
    if let Some(peak) = peak_resident_megabytes() {
        println!("emulator/stream_xml: {size} bytes a document; peak resident memory {peak:.1} MB");
    }
}

criterion_group!(benches, stream);
criterion_main!(benches);
