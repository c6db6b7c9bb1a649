//! The archive's figures: listing 10,000 archived documents through the
//! relay's API, on the embedded SQLite and on a real PostgreSQL cluster on
//! loopback (started as the tests start theirs).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

use crate::{
    cmd,
    processes::{Running, free_port, start_relay},
    tools::{POSTGRES_USER, Toolchain, is_root, postgres_bin},
};

const DOCUMENTS: u32 = 10_000;
const PAGE: u32 = 1_000;
const RUNS: usize = 7;

/// Columns copied from the one fetched record into the other 9,999.
const COLUMNS: &str = "profile, version, endpoint, window_start, window_end, subscription, format, \
                       vendor_status, content_type, bytes, sha256, fetched_by";

pub fn run(
    toolchain: &Toolchain,
    binaries: &Path,
    scratch: &Path,
    config: &Path,
    document_path: &str,
) -> anyhow::Result<()> {
    toolchain.ensure_debian_programs(&[("sqlite3", "sqlite3"), ("psql", "postgresql-client")])?;
    toolchain.ensure_postgres()?;
    println!(
        "\nlisting {DOCUMENTS} archived documents through the relay (curl on one connection; median of {RUNS})"
    );
    println!("{:<12} {:>22} {:>34}", "database", "first page of 50, ms", "all, 10 pages of 1,000, ms");

    for dir in ["list-sqlite", "list-postgres", "list-postgres-data"] {
        let _ = std::fs::remove_dir_all(scratch.join(dir));
    }
    let sqlite_dir = scratch.join("list-sqlite");
    let (_relay, url) = relay(binaries, config, &sqlite_dir, None)?;
    seed(&url, document_path)?;
    let copies = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
         INSERT INTO archived_documents ({COLUMNS}, fetched_at_ms, request_id) \
         SELECT {COLUMNS}, fetched_at_ms + i, request_id + i FROM archived_documents, n;",
        DOCUMENTS - 1
    );
    cmd::run(Command::new("sqlite3").arg(sqlite_dir.join("billing.sqlite3")).arg(copies))?;
    figures("SQLite", &url)?;

    let cluster = Cluster::start(&scratch.join("list-postgres"))?;
    let database = cluster.url();
    let (_relay, url) = relay(binaries, config, &scratch.join("list-postgres-data"), Some(&database))?;
    seed(&url, document_path)?;
    let copies = format!(
        "INSERT INTO archived_documents ({COLUMNS}, fetched_at, request_id) \
         SELECT {COLUMNS}, fetched_at + i * interval '1 millisecond', request_id + i \
         FROM archived_documents, generate_series(1, {}) AS i;",
        DOCUMENTS - 1
    );
    cmd::run(Command::new("psql").args(["--quiet", "-v", "ON_ERROR_STOP=1", &database, "-c", &copies]))?;
    figures("PostgreSQL", &url)
}

fn relay(
    binaries: &Path,
    config: &Path,
    data_dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<(Running, String)> {
    let database = database.map(|url| ("BILLING_DATABASE_URL", url));
    start_relay(binaries, config, data_dir, database.as_slice())
}

/// One document fetched through the relay, and archived.
fn seed(url: &str, document_path: &str) -> anyhow::Result<()> {
    let fetched = curl(&[&format!("{url}{document_path}"), "-o", "/dev/null", "-w", "%{http_code}"])?;
    anyhow::ensure!(fetched == "200", "the seed document answered {fetched}");
    // The record is written just after the last byte.
    for _ in 0..100 {
        if curl(&[&format!("{url}/api/archive?limit=1")])?.contains("\"sha256\"") {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    bail!("the seed document was not archived")
}

fn curl(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("curl").arg("--silent").arg("--fail").args(args).output()?;
    anyhow::ensure!(output.status.success(), "curl {args:?} failed");
    Ok(String::from_utf8(output.stdout)?)
}

/// Times each URL in one curl process (one connection, no start-up in
/// the figures); returns their times in ms.
fn timed(urls: &[String]) -> anyhow::Result<Vec<f64>> {
    let mut args: Vec<&str> = vec!["-o", "/dev/null", "-w", "%{time_total}\\n"];
    for url in urls {
        args.push(url);
        args.push("-o");
        args.push("/dev/null");
    }
    curl(&args)?
        .lines()
        .map(|seconds| seconds.parse::<f64>().map(|seconds| seconds * 1e3).context("a curl time"))
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn figures(database: &str, url: &str) -> anyhow::Result<()> {
    let last_page = curl(&[&format!("{url}/api/archive?limit={PAGE}&before={}", PAGE + 1)])?;
    anyhow::ensure!(
        last_page.matches("\"sha256\"").count() == PAGE as usize,
        "{database}: the archive does not hold {DOCUMENTS} documents"
    );
    let first_page = format!("{url}/api/archive");
    let mut firsts = timed(&vec![first_page; RUNS + 1])?;
    firsts.remove(0);
    let pages: Vec<String> = (0..DOCUMENTS / PAGE)
        .map(|page| format!("{url}/api/archive?limit={PAGE}&before={}", DOCUMENTS + 1 - page * PAGE))
        .collect();
    let mut walks = Vec::new();
    for _ in 0..RUNS {
        walks.push(timed(&pages)?.iter().sum::<f64>());
    }
    println!("{database:<12} {:>22.1} {:>34.1}", median(firsts), median(walks));
    Ok(())
}

/// A throwaway PostgreSQL cluster on a loopback port, run as its own user.
struct Cluster {
    data: PathBuf,
    port: u16,
}

impl Cluster {
    fn start(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        if is_root() {
            cmd::run(Command::new("chown").args(["-R", &format!("{POSTGRES_USER}:")]).arg(dir))?;
        }
        let data = dir.join("data");
        cmd::run(as_owner("initdb")?.arg("-D").arg(&data).args([
            "-U",
            "billing",
            "--auth=trust",
            "--no-sync",
        ]))?;
        let port = free_port()?;
        let options = format!("-h 127.0.0.1 -p {port} -k {} -c fsync=off", dir.display());
        cmd::run(
            as_owner("pg_ctl")?
                .arg("-D")
                .arg(&data)
                .args(["-o", &options, "-l"])
                .arg(dir.join("log"))
                .args(["-w", "start"]),
        )?;
        let cluster = Self { data, port };
        cmd::run(Command::new("psql").args([&cluster.admin_url(), "-c", "CREATE DATABASE archive"]))?;
        Ok(cluster)
    }

    fn admin_url(&self) -> String {
        format!("postgres://billing@127.0.0.1:{}/postgres", self.port)
    }

    fn url(&self) -> String {
        format!("postgres://billing@127.0.0.1:{}/archive", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(mut stop) = as_owner("pg_ctl") {
            let _ = stop.arg("-D").arg(&self.data).args(["-m", "immediate", "stop"]).status();
        }
    }
}

/// A PostgreSQL program run as the cluster's owner: the server refuses root.
fn as_owner(program: &str) -> anyhow::Result<Command> {
    let path = postgres_bin()?.join(program);
    Ok(if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", POSTGRES_USER, "--"]).arg(path);
        command
    } else {
        Command::new(path)
    })
}
