//! The relay beside nginx configured as the same relay, both in front of the
//! emulator, under the same load tool (wrk): throughput and latency for a
//! small and a 50 MB document (also with archiving off), the relay's memory
//! while it streams a 500 MB one, and listing its archive.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, bail};

use crate::{
    cmd::{self, workspace_root},
    goals::{Goal, Goals},
    processes::{KEY, Running, free_port, nginx_config_in, start_announcing, start_nginx, start_relay},
    tools::Toolchain,
};

const SMALL_SECONDS: u32 = 10;
/// wrk runs of what each goal compares: the small document through nginx
/// and each relay its goals compare with nginx, the large one through the
/// relay archiving and not.
const GOAL_ROUNDS: usize = 3;
const SMALL_GOAL_VIAS: [&str; 3] = ["nginx", "relay", "relay, archive off"];
const LARGE_GOAL_VIAS: [&str; 2] = ["relay", "relay, archive off"];
const LARGE_SECONDS: u32 = 20;
/// Customers of the invented reseller: a year of their purchase invoices is
/// about 62 MB of XML.
const CUSTOMERS: usize = 1300;
/// A reseller whose customer invoices since 2017 pass 500 MB.
const HUGE_CUSTOMERS: usize = 2000;
/// A reseller whose purchase invoices over three and a half years are about
/// 900 MB of JSON, for the browser's largest document.
const VAST_CUSTOMERS: usize = 9000;
const YEAR: (&str, &str) = ("20251125", "20261124");

/// `browser`: also the app's figures in Chromium through this relay.
pub fn run(toolchain: &Toolchain, browser: bool, goals: &mut Goals) -> anyhow::Result<()> {
    toolchain.ensure_debian_programs(&[
        ("nginx", "nginx"),
        ("wrk", "wrk"),
        ("curl", "curl"),
        ("redis-server", "redis-server"),
        ("sqlite3", "sqlite3"),
    ])?;
    toolchain.ensure_oidc_provider()?;
    cmd::run(toolchain.command("cargo").args([
        "build",
        "--release",
        "--package",
        "vendor-sim",
        "--package",
        "relay",
        "--bin",
        "vendor-sim",
        "--bin",
        "billing-relay",
    ]))?;
    let root = workspace_root();
    let binaries = root.join("target/release");
    let scratch = tempdir(&root)?;

    let start_vendor = |customers: usize| {
        let mut vendor = Command::new(binaries.join("vendor-sim"));
        vendor.args(["--key", KEY, "--listen", "127.0.0.1:0", "--today", "2026-11-25"]);
        vendor.args(["--customers", &customers.to_string()]);
        start_announcing(vendor, "vendor-sim listening on ")
    };
    let (_vendor, vendor_url) = start_vendor(CUSTOMERS)?;
    let (_huge_vendor, huge_vendor_url) = start_vendor(HUGE_CUSTOMERS)?;
    let (_vast_vendor, vast_vendor_url) = start_vendor(VAST_CUSTOMERS)?;

    // Each run counts what it archived from nothing.
    for data in ["data", "data-off"] {
        let _ = std::fs::remove_dir_all(scratch.join(data));
    }
    let config = scratch.join("relay.toml");
    let base_config = relay_config(&vendor_url, &huge_vendor_url, &vast_vendor_url, &root.join("dist"));
    std::fs::write(&config, &base_config)?;
    let (relay, relay_url) = start_relay(&binaries, &config, &scratch.join("data"), &[])?;
    // The same relay keeping no archive, for what archiving costs.
    let (unarchived, unarchived_url) =
        start_relay(&binaries, &config, &scratch.join("data-off"), &[("BILLING_ARCHIVE", "false")])?;

    let nginx_port = free_port()?;
    let nginx_dir = scratch.join("nginx");
    std::fs::create_dir_all(&nginx_dir)?;
    std::fs::write(nginx_dir.join("nginx.conf"), nginx_config(&nginx_dir, nginx_port, &vendor_url))?;
    let nginx = start_nginx(toolchain, &nginx_dir)?;
    std::thread::sleep(Duration::from_millis(500));
    let nginx_url = format!("http://127.0.0.1:{nginx_port}");

    let hosted = crate::hosting_bench::start(toolchain, &binaries, &scratch, &base_config)?;

    let subscription = first_subscription_id(&vendor_url)?;
    let (start, end) = YEAR;
    let dashed = |date: &str| format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]);
    let documents = [
        (
            "small",
            format!("/v3/subscriptiondetails?subscriptionId={subscription}"),
            format!("/api/documents/bench/v3/subscriptiondetails?subscription={subscription}"),
            32,
            SMALL_SECONDS,
        ),
        (
            "50 MB",
            format!("/v3/invoices?startDate={start}&endDate={end}"),
            format!("/api/documents/bench/v3/invoices?start={}&end={}", dashed(start), dashed(end)),
            2,
            LARGE_SECONDS,
        ),
    ];
    let no_cookie = String::new();
    println!("\nthe relay beside nginx (wrk, 2 threads; relay logging at warn, nginx access log off)");
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "route", "req/s", "MB/s", "p50 ms", "p99 ms", "CPU µs/req"
    );
    let ticks_per_second = clock_ticks_per_second()?;
    let process_of = |via: &str| -> Option<&Running> {
        match via {
            "nginx" => Some(&nginx),
            "relay" => Some(&relay),
            "relay, archive off" => Some(&unarchived),
            _ => None,
        }
    };
    let measure = |via: &str, url: &str, header: &str, connections: u32, seconds: u32| {
        let process = process_of(via);
        let ticks_before = process.map(Running::cpu_ticks).transpose()?;
        let mut result = wrk(url, header, connections, seconds)?;
        if let (Some(process), Some(before)) = (process, ticks_before) {
            let seconds = (process.cpu_ticks()? - before) as f64 / ticks_per_second;
            result.cpu_microseconds = Some(seconds * 1e6 / result.requests.max(1) as f64);
        }
        anyhow::Ok(result)
    };
    let mut table = Vec::new();
    for (label, vendor_path, relay_path, connections, seconds) in &documents {
        let vias: [(&str, String, &String); 8] = [
            ("direct", format!("{vendor_url}{vendor_path}"), &no_cookie),
            ("nginx", format!("{nginx_url}{vendor_path}"), &no_cookie),
            ("relay", format!("{relay_url}{relay_path}"), &no_cookie),
            ("relay, archive off", format!("{unarchived_url}{relay_path}"), &no_cookie),
            (
                "relay, sign-in, session in memory",
                format!("{}{relay_path}", hosted.memory),
                &hosted.memory_cookie,
            ),
            (
                "relay, sign-in, session in Redis",
                format!("{}{relay_path}", hosted.redis),
                &hosted.redis_cookie,
            ),
            (
                "nginx + 2 relays, sign-in, Redis",
                format!("{}{relay_path}", hosted.pair),
                &hosted.redis_cookie,
            ),
            ("relay, sign-in, bearer token", format!("{}{relay_path}", hosted.redis), &hosted.bearer),
        ];
        let bytes = download_bytes(&vias[2].1, "")?;
        for (via, url, header) in &vias[1..] {
            anyhow::ensure!(
                download_bytes(url, header)? == bytes,
                "{via} sent another document than the relay"
            );
        }
        for (via, url, header) in &vias {
            let result = measure(via, url, header, *connections, *seconds)?;
            println!(
                "{:<46} {:>10.1} {:>10.1} {:>10.2} {:>10.2} {:>12}",
                format!("{label} ({bytes} B) {via}"),
                result.requests_per_second,
                result.requests_per_second * bytes as f64 / 1e6,
                result.p50_ms,
                result.p99_ms,
                result.cpu_microseconds.map(|cpu| format!("{cpu:.1}")).unwrap_or_default(),
            );
            table.push((*label, *via, result));
        }
        // The goals' ratios move from one wrk run to the next on a shared
        // machine: what each goal compares is taken again, in turn, and
        // the goal is the median round.
        let goal_vias = if *label == "small" { &SMALL_GOAL_VIAS[..] } else { &LARGE_GOAL_VIAS[..] };
        for _ in 1..GOAL_ROUNDS {
            for (via, url, header) in vias.iter().filter(|(via, ..)| goal_vias.contains(via)) {
                table.push((*label, *via, measure(via, url, header, *connections, *seconds)?));
            }
        }
    }
    for (label, ..) in &documents {
        let find = |via: &str| table.iter().find(|(l, v, _)| l == label && *v == via).map(|(_, _, r)| *r);
        let Some(nginx) = find("nginx") else { continue };
        for (_, via, result) in
            table.iter().filter(|(l, v, _)| l == label && !matches!(*v, "direct" | "nginx"))
        {
            println!(
                "{label}: {via} / nginx throughput {:.2}, p99 {:+.2} ms",
                result.requests_per_second / nginx.requests_per_second,
                result.p99_ms - nginx.p99_ms
            );
        }
        if let (Some(archiving), Some(off)) = (find("relay"), find("relay, archive off")) {
            println!(
                "{label}: relay archiving / archive off throughput {:.2}, p99 {:+.2} ms",
                archiving.requests_per_second / off.requests_per_second,
                archiving.p99_ms - off.p99_ms
            );
        }
        let round_of = |via: &str| -> Vec<WrkResult> {
            table.iter().filter(|(l, v, _)| l == label && *v == via).map(|(.., result)| *result).collect()
        };
        if *label == "50 MB" {
            let kept: Vec<f64> = round_of("relay")
                .iter()
                .zip(round_of("relay, archive off"))
                .map(|(archiving, off)| archiving.requests_per_second / off.requests_per_second)
                .collect();
            println!(
                "50 MB: relay archiving / archive off in {} rounds: throughput {}",
                kept.len(),
                listed(&kept)
            );
            if let Some(kept) = median(kept) {
                goals.record(
                    "50 MB: archiving relay over archive off, throughput (median round)",
                    kept,
                    "×",
                    Goal::AtLeast(0.9),
                );
            }
        }
        if *label == "small" {
            let nginx_rounds = round_of("nginx");
            for via in ["relay, archive off", "relay"] {
                let rounds = round_of(via);
                let ratios = |of: fn(&WrkResult) -> Option<f64>| -> Vec<f64> {
                    rounds
                        .iter()
                        .zip(&nginx_rounds)
                        .filter_map(|(relay, nginx)| Some(of(relay)? / of(nginx)?))
                        .collect()
                };
                let throughput = ratios(|result| Some(result.requests_per_second));
                let cpu = ratios(|result| result.cpu_microseconds);
                println!(
                    "small: {via} over nginx in {} rounds: throughput {}, CPU per request {}",
                    rounds.len(),
                    listed(&throughput),
                    listed(&cpu)
                );
                if let Some(throughput) = median(throughput) {
                    let name = format!("small: {via} over nginx, throughput (median round)");
                    goals.record(name, throughput, "×", Goal::AtLeast(1.0));
                }
                if let Some(cpu) = median(cpu) {
                    let name = format!("small: {via} over nginx, CPU per request (median round)");
                    goals.record(name, cpu, "×", Goal::AtMost(1.2));
                }
            }
        }
    }

    archived_counts(&scratch.join("data"), &table, &documents.each_ref().map(|(label, ..)| *label))?;

    let before = relay.peak_resident_megabytes()?;
    let huge = format!("{relay_url}/api/documents/huge/v3/customerinvoices?start=2017-01-01&end=2026-11-24");
    let huge_bytes = download_bytes(&huge, "")?;
    anyhow::ensure!(huge_bytes >= 500_000_000, "the huge document is only {huge_bytes} bytes");
    let after = relay.peak_resident_megabytes()?;
    println!(
        "\nrelay peak resident memory: {before:.1} MB before, {after:.1} MB after streaming {:.1} MB",
        huge_bytes as f64 / 1e6
    );
    crate::archive_bench::run(toolchain, &binaries, &scratch, &config, &documents[0].2)?;
    if browser { browser_figures(toolchain, &relay_url, &scratch, goals) } else { Ok(()) }
}

/// The middle of `figures`, or the mean of the middle two.
fn median(mut figures: Vec<f64>) -> Option<f64> {
    figures.sort_by(f64::total_cmp);
    let middle = figures.len() / 2;
    match figures.len() {
        0 => None,
        n if n % 2 == 1 => Some(figures[middle]),
        _ => Some((figures[middle - 1] + figures[middle]) / 2.0),
    }
}

/// `0.74 0.71 0.80 ×`.
fn listed(figures: &[f64]) -> String {
    let each: Vec<String> = figures.iter().map(|figure| format!("{figure:.2}")).collect();
    format!("{} ×", each.join(" "))
}

/// The kernel's clock ticks per second, in which /proc counts CPU time.
fn clock_ticks_per_second() -> anyhow::Result<f64> {
    let output = Command::new("getconf").arg("CLK_TCK").output().context("cannot run getconf")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// The app in headless Chromium on a document of about 20 MB, through the
/// relay started above (`tests/measure.rs`).
fn browser_figures(
    toolchain: &Toolchain,
    relay_url: &str,
    scratch: &Path,
    goals: &mut Goals,
) -> anyhow::Result<()> {
    let phases = scratch.join("browser-phases.jsonl");
    let _ = std::fs::remove_file(&phases);
    cmd::run(
        toolchain
            .command("cargo")
            .args(["test", "--package", "billing-portal", "--test", "measure"])
            // One browser at a time, so neither run's frames pay for the other's.
            .args(["--", "--ignored", "--nocapture", "--test-threads=1"])
            .env("BILLING_MEASURE_URL", relay_url)
            .env("BILLING_MEASURE_PHASES", &phases),
    )?;
    goals.record_browser_phases(&phases)
}

#[derive(Clone, Copy)]
struct WrkResult {
    /// Responses wrk read to the end.
    requests: u64,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The serving process's CPU time per request, where it is ours to count.
    cpu_microseconds: Option<f64>,
}

/// How many documents of each size the archiving relay kept, against the
/// complete responses wrk read from it (each size was also fetched twice
/// to check the routes agree): archiving that fell behind would show here.
fn archived_counts(
    data_dir: &Path,
    table: &[(&str, &str, WrkResult)],
    labels: &[&str],
) -> anyhow::Result<()> {
    // The writer commits each record a moment after the last byte.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let output = Command::new("sqlite3")
        .arg(data_dir.join("billing.sqlite3"))
        .arg("SELECT count(*) FROM archived_documents GROUP BY bytes ORDER BY bytes")
        .output()
        .context("cannot run sqlite3")?;
    anyhow::ensure!(output.status.success(), "sqlite3: {}", String::from_utf8_lossy(&output.stderr));
    let counts: Vec<u64> =
        String::from_utf8_lossy(&output.stdout).lines().map(str::parse).collect::<Result<_, _>>()?;
    for (label, archived) in labels.iter().zip(&counts) {
        let read: u64 =
            table.iter().filter(|(l, via, _)| l == label && *via == "relay").map(|row| row.2.requests).sum();
        println!("{label}: the relay archived {archived} documents of {} it sent whole", read + 2);
    }
    Ok(())
}

/// wrk against `url`, with `header` (e.g. a cookie) when not empty.
fn wrk(url: &str, header: &str, connections: u32, seconds: u32) -> anyhow::Result<WrkResult> {
    let mut command = Command::new("wrk");
    command
        .args(["--threads", "2", "--connections", &connections.to_string()])
        .args(["--duration", &format!("{seconds}s"), "--timeout", "30s", "--latency"])
        .args(["--header", &format!("X-Api-Key: {KEY}")]);
    if !header.is_empty() {
        command.args(["--header", header]);
    }
    let output = command.arg(url).output().context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "wrk failed: {text}");
    anyhow::ensure!(!text.contains("Non-2xx"), "wrk saw errors for {url}: {text}");
    let number_after = |label: &str| -> anyhow::Result<&str> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(str::trim)
            .with_context(|| format!("no `{label}` in wrk's output: {text}"))
    };
    let requests = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .with_context(|| format!("no request count in wrk's output: {text}"))?
        .0
        .parse()?;
    Ok(WrkResult {
        requests,
        requests_per_second: number_after("Requests/sec:")?.parse()?,
        p50_ms: milliseconds(number_after("50%")?)?,
        p99_ms: milliseconds(number_after("99%")?)?,
        cpu_microseconds: None,
    })
}

/// wrk's `812.00us`, `1.23ms`, `2.50s` in milliseconds.
fn milliseconds(text: &str) -> anyhow::Result<f64> {
    let (number, factor) = if let Some(number) = text.strip_suffix("us") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60_000.0)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000.0)
    } else {
        bail!("`{text}` is not a wrk duration")
    };
    Ok(number.parse::<f64>()? * factor)
}

/// Bytes of one download, through curl so the figure is independent of us;
/// with `header` when not empty.
fn download_bytes(url: &str, header: &str) -> anyhow::Result<u64> {
    let mut command = Command::new("curl");
    if !header.is_empty() {
        command.args(["--header", header]);
    }
    let output = command
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--output",
            "/dev/null",
            "--write-out",
            "%{size_download}",
        ])
        .args(["--header", &format!("X-Api-Key: {KEY}"), url])
        .output()
        .context("cannot run curl")?;
    anyhow::ensure!(output.status.success(), "curl {url}: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

fn first_subscription_id(vendor_url: &str) -> anyhow::Result<String> {
    let output = Command::new("curl")
        .args(["--silent", "--fail", "--header", &format!("X-Api-Key: {KEY}")])
        .arg(format!("{vendor_url}/v3/invoices?startDate=20261001&endDate=20261031"))
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let start = text.find("<SubscriptionID>").context("no subscription in the vendor's invoices")? + 16;
    let end = text[start..].find('<').context("an unclosed SubscriptionID")?;
    Ok(text[start..start + end].to_owned())
}

fn tempdir(root: &Path) -> anyhow::Result<PathBuf> {
    let dir = root.join("target/relay-bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn relay_config(vendor_url: &str, huge_vendor_url: &str, vast_vendor_url: &str, app_dir: &Path) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
app_dir = "{}"
allowlist = ["127.0.0.0/8"]

[rate_limit]
per_minute = 100000000
burst = 100000000

[[profiles]]
name = "bench"
environment = "BENCH"
generation = "legacy"
base_url = "{vendor_url}"
key_env = "BENCH_KEY"

[[profiles]]
name = "huge"
environment = "BENCH"
generation = "legacy"
base_url = "{huge_vendor_url}"
key_env = "BENCH_KEY"

[[profiles]]
name = "vast"
environment = "BENCH"
generation = "legacy"
base_url = "{vast_vendor_url}"
key_env = "BENCH_KEY"
"#,
        app_dir.display()
    )
}

/// nginx as the same relay: the allowlist, the key header injected, the
/// client's headers dropped, proxy_pass without buffering.
fn nginx_config(dir: &Path, port: u16, vendor_url: &str) -> String {
    let upstream = vendor_url.trim_start_matches("http://");
    let http = format!(
        r#"    upstream vendor {{ server {upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        allow 127.0.0.0/8;
        deny all;
        location /v3/ {{
            proxy_pass http://vendor;
            proxy_http_version 1.1;
            proxy_pass_request_headers off;
            proxy_set_header Connection "";
            proxy_set_header Host {upstream};
            proxy_set_header X-Api-Key "{KEY}";
            proxy_set_header Accept "application/xml";
            proxy_buffering off;
        }}
    }}
}}
"#
    );
    nginx_config_in(dir, &http)
}
