//! `cargo xtask bench`: what a first page load costs, per file and in all,
//! how fast crates/billing parses a large document beside its floors, how
//! long the workbook takes at 100,000 lines, what the worker holds for
//! them, and how fast the emulator streams a document.

use std::path::Path;

use anyhow::Context;

use crate::{
    cmd::{self, workspace_root},
    goals::{Goal, Goals},
    tools::{Needs, Toolchain},
};

pub fn run(relay_only: bool) -> anyhow::Result<()> {
    let toolchain = Toolchain::ensure(Needs::BuildAndBrowser)?;
    let mut goals = Goals::default();
    // The relay only serves the app's files, so any built app will do.
    if !(relay_only && workspace_root().join("dist/index.html").is_file()) {
        crate::page::build_app(&toolchain)?;
    }
    if !relay_only {
        first_load_bytes(&workspace_root().join("dist"), &mut goals)?;
        parse_throughput(&toolchain, &mut goals)?;
        workbook_time(&toolchain)?;
        // It prints what the worker holds for the 100,087-line document itself.
        cmd::run(toolchain.command("cargo").args(["bench", "--package", "analysis", "--bench", "memory"]))?;
        emulator_throughput(&toolchain)?;
    }
    crate::relay_bench::run(&toolchain, !relay_only, &mut goals)?;
    goals.print();
    Ok(())
}

/// Runs the emulator's streaming benchmark: a document of more than 100 MB
/// over loopback. The benchmark itself prints the peak memory.
fn emulator_throughput(toolchain: &Toolchain) -> anyhow::Result<()> {
    cmd::run(toolchain.command("cargo").args(["bench", "--package", "vendor-sim", "--bench", "stream"]))?;
    let (bytes, speed) = throughput(&workspace_root().join("target/criterion/emulator/stream_xml"))?;
    println!("\nemulator streams a {:.1} MB XML document at {speed:.1} MB/s", bytes as f64 / 1e6);
    Ok(())
}

/// Runs the workbook's benchmark: 100,000 lines with the margin, the
/// changes and the worklist. The benchmark itself prints the file's size.
fn workbook_time(toolchain: &Toolchain) -> anyhow::Result<()> {
    cmd::run(toolchain.command("cargo").args(["bench", "--package", "analysis", "--bench", "workbook"]))?;
    let milliseconds =
        mean_nanoseconds(&workspace_root().join("target/criterion/workbook_100k/write"))? / 1e6;
    println!(
        "
the workbook at 100,000 lines, natively (criterion mean): {milliseconds:.0} ms"
    );
    Ok(())
}

/// Runs the criterion benchmark and sets each parser beside its floor.
fn parse_throughput(toolchain: &Toolchain, goals: &mut Goals) -> anyhow::Result<()> {
    cmd::run(toolchain.command("cargo").args(["bench", "--package", "billing", "--bench", "parse"]))?;
    let results = workspace_root().join("target/criterion/parse");
    println!("\nparse throughput (criterion mean of 10 samples)");
    println!(
        "{:<6} {:>10} {:>14} {:>8} {:>16} {:>8} {:>14}",
        "format", "MB", "model MB/s", "ratio", "streamed MB/s", "ratio", "floor MB/s"
    );
    for format in ["xml", "json"] {
        let (bytes, model) = throughput(&results.join(format!("{format}_model")))?;
        let (_, streamed) = throughput(&results.join(format!("{format}_streamed")))?;
        let (_, floor) = throughput(&results.join(format!("{format}_floor")))?;
        let megabytes = bytes as f64 / 1e6;
        println!(
            "{format:<6} {megabytes:>10.1} {model:>14.1} {:>8.2} {streamed:>16.1} {:>8.2} {floor:>14.1}",
            model / floor,
            streamed / floor
        );
        goals.record(
            format!("{format} parse, whole, over its floor"),
            model / floor,
            "×",
            Goal::AtLeast(0.5),
        );
        goals.record(
            format!("{format} parse, streamed, over its floor"),
            streamed / floor,
            "×",
            Goal::AtLeast(0.5),
        );
    }
    println!("\nlines table at 100,000 lines, natively (criterion mean)");
    for step in [
        "index",
        "first sort by a column",
        "sort again",
        "search",
        "group",
        "charts",
        "changes",
        "exceptions",
    ] {
        let milliseconds =
            mean_nanoseconds(&workspace_root().join("target/criterion/lines_100k").join(step))? / 1e6;
        println!("{step:<24} {milliseconds:>10.2} ms");
    }
    Ok(())
}

/// A criterion result file of `benchmark`'s latest run.
fn criterion_file(benchmark: &Path, file: &str) -> anyhow::Result<serde_json::Value> {
    let path = benchmark.join("new").join(file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn mean_nanoseconds(benchmark: &Path) -> anyhow::Result<f64> {
    criterion_file(benchmark, "estimates.json")?["mean"]["point_estimate"]
        .as_f64()
        .context("criterion recorded no mean")
}

/// The bytes one iteration read and the mean MB/s, from criterion's files.
fn throughput(benchmark: &Path) -> anyhow::Result<(u64, f64)> {
    let bytes = criterion_file(benchmark, "benchmark.json")?["throughput"]["Bytes"]
        .as_u64()
        .context("criterion recorded no byte throughput")?;
    Ok((bytes, bytes as f64 / mean_nanoseconds(benchmark)? * 1e3))
}

/// swagger-ui-dist 5.35's bundle, standalone preset and CSS, gzipped: what
/// the vendor's own page loads.
const SWAGGER_UI_GZIP: usize = 565_000;
/// 200 KB, counted in thousands.
const FIRST_LOAD_GOAL: f64 = 200_000.0;

struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

fn compressed_sizes(bytes: &[u8]) -> anyhow::Result<Sizes> {
    Ok(Sizes {
        raw: bytes.len(),
        gzip: crate::precompress::gzip(bytes)?.len(),
        brotli: crate::precompress::brotli(bytes)?.len(),
    })
}

/// index.html and the files it names: what a browser loads before any
/// fetch. The worker's files, which nothing in index.html names, come later.
fn first_load_bytes(dist: &Path, goals: &mut Goals) -> anyhow::Result<()> {
    let index = std::fs::read_to_string(dist.join("index.html"))
        .with_context(|| format!("cannot read {}/index.html: build the app first", dist.display()))?;
    // What index.html names (the styles, the split app's entry module, its
    // loader and its wasm): the parts and the worker come later.
    let mut files: Vec<_> = cmd::files_under(dist)?
        .into_iter()
        .filter(|file| {
            let relative = file.strip_prefix(dist).unwrap_or(file).to_string_lossy().into_owned();
            relative == "index.html" || index.contains(&format!("/{relative}"))
        })
        .collect();
    files.sort();
    println!("first-load bytes of {}", dist.display());
    println!("{:<48} {:>10} {:>10} {:>10}", "file", "raw", "gzip -9", "brotli");
    let mut total = Sizes { raw: 0, gzip: 0, brotli: 0 };
    for file in files.iter().filter(|file| file.is_file()) {
        let sizes = compressed_sizes(&std::fs::read(file)?)?;
        let name = file.strip_prefix(dist).unwrap_or(file).to_string_lossy();
        println!("{name:<48} {:>10} {:>10} {:>10}", sizes.raw, sizes.gzip, sizes.brotli);
        total.raw += sizes.raw;
        total.gzip += sizes.gzip;
        total.brotli += sizes.brotli;
    }
    println!("{:<48} {:>10} {:>10} {:>10}", "total", total.raw, total.gzip, total.brotli);
    println!(
        "against Swagger UI's {SWAGGER_UI_GZIP} bytes gzip: {:.2} of it (goal: under 200 KB gzip)",
        total.gzip as f64 / SWAGGER_UI_GZIP as f64
    );
    goals.record("first load, gzip -9", total.gzip as f64, "B", Goal::AtMost(FIRST_LOAD_GOAL));
    Ok(())
}
