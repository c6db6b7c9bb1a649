//! The app's own wasm, split. trunk cannot split a wasm (trunk#1022), so
//! once trunk has built the rest of `dist` (the worker, the styles,
//! index.html), this builds the app with its `split` feature and
//! `--emit-relocs`, has wasm-split-cli cut it into the first screen's
//! module, one file per part of src/split.rs and the files of code those
//! parts share, binds and optimises each, and writes them under
//! `dist/app-<hash of them all>/` with their loader in index.html. The
//! split tool names files after the call sites, not their content, so the
//! directory carries the hash that lets browsers keep them for good.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

mod data;

use crate::{
    cmd::{self, files_under, workspace_root},
    tools::{Toolchain, WASM_OPT_FEATURES},
};

/// The link in index.html that has trunk skip the app; trunk leaves it in
/// place (with an id added), and the loader replaces it.
const SKIPPED_BY_TRUNK: &str = r#"<link data-trunk rel="rust" data-bin="billing-portal" data-trunk-skip"#;
/// The module the others are split from; the first screen's code.
const ENTRY: &str = "app";

/// The whole app into `dist/`, fully offline: trunk's part, the split
/// page, and the compressed copies the relay sends as they are.
pub fn build_app(toolchain: &Toolchain) -> anyhow::Result<()> {
    // trunk builds with `cargo --offline`: every crate must be here first.
    cmd::run(toolchain.command("cargo").args(["fetch", "--quiet"]))?;
    cmd::run(toolchain.command("trunk").args(["build", "--release"]))?;
    let dist = workspace_root().join("dist");
    build_split_page(toolchain, &dist)?;
    crate::precompress::precompress(&dist, &crate::tools::precompressed_cache()?)
}

fn build_split_page(toolchain: &Toolchain, dist: &Path) -> anyhow::Result<()> {
    let root = workspace_root();
    // Without reference types: with them wasm-bindgen rewrites the main
    // module's calls into JavaScript to pass `externref`s, and the parts,
    // which it never sees, would pass their `JsValue`s as bare numbers
    // (wasm-split-cli 0.2.4 leaves out what externref would need, by its
    // own note in split_point.rs). Cargo adds this to .cargo/config.toml's
    // flags; `cargo rustc` adds `--emit-relocs`, which the splitter needs,
    // to the app's own link only.
    cmd::run(toolchain.command("cargo").args([
        "rustc",
        "--offline",
        "--config",
        r#"target.wasm32-unknown-unknown.rustflags = ["-C", "target-feature=-reference-types"]"#,
        "--package",
        "billing-portal",
        "--bin",
        "billing-portal",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "--features",
        "split",
        "--",
        "-C",
        "link-arg=--emit-relocs",
    ]))?;
    let linked = root.join("target/wasm32-unknown-unknown/wasm-release/billing-portal.wasm");
    let stage = root.join("target/split-page");
    let (split, bound) = (stage.join("split"), stage.join("bound"));
    for dir in [&split, &bound] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    }
    cmd::run(
        toolchain
            .command("wasm-split-cli")
            .args(["--target", "web", "--out-name", ENTRY])
            .arg(&linked)
            .arg(&split),
    )?;
    spread_chunk_fetches(&split.join("__wasm_split.js"))?;
    let entry = split.join(format!("{ENTRY}.wasm"));
    let parts: Vec<PathBuf> = files_under(&split)?
        .into_iter()
        .filter(|file| file.extension().is_some_and(|e| e == "wasm") && *file != entry)
        .collect();
    data::gather_into_main(&entry, &parts, &linked)?;
    cmd::run(
        toolchain
            .command("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--keep-lld-exports",
                "--no-typescript",
                "--out-name",
                ENTRY,
                "--out-dir",
            ])
            .arg(&bound)
            .arg(&entry),
    )?;
    for file in files_under(&split)? {
        if file != entry {
            std::fs::copy(&file, bound.join(file.file_name().unwrap_or_default()))?;
        }
    }
    let wasm: Vec<PathBuf> = files_under(&bound)?
        .into_iter()
        .filter(|file| file.extension().is_some_and(|e| e == "wasm"))
        .collect();
    optimise(toolchain, &wasm)?;

    let mut files = files_under(&bound)?;
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(std::fs::read(file)?);
    }
    let hash = format!("{:x}", hasher.finalize());
    let dir_name = format!("{ENTRY}-{}", &hash[..16]);
    let out = dist.join(&dir_name);
    std::fs::create_dir_all(&out)?;
    for file in &files {
        std::fs::copy(file, out.join(file.file_name().unwrap_or_default()))?;
    }

    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path)?;
    let start = index.find(SKIPPED_BY_TRUNK);
    let end = start.and_then(|start| index[start..].find("/>").map(|length| start + length + 2));
    let (Some(start), Some(end)) = (start, end) else {
        bail!("{} has no `{SKIPPED_BY_TRUNK} />` to put the app's loader in", index_path.display());
    };
    std::fs::write(&index_path, format!("{}{}{}", &index[..start], loader(&dir_name), &index[end..]))?;
    println!("xtask: the app is split into {} files under dist/{dir_name}", files.len());
    Ok(())
}

/// How wasm-split-cli's loader starts the fetches of the files a part
/// needs: all of them in one task.
const ALL_FETCHES_AT_ONCE: &str = "const parallelStuff = deps.map(d => d());";

/// The loader's fetches a few to a task, the page's frames between them.
/// A part of the document needs up to about eighty shared files, and each
/// `fetch()` holds Chromium's main thread for about a third of a
/// millisecond: started at once, as a document's fetch starts, they made a
/// late frame of 35–50 ms.
const FETCHES_A_FEW_AT_A_TIME: &str = "const parallelStuff = [];
        for (const [index, dep] of deps.entries()) {
            if (index % 8 === 0) await new Promise(resolve => setTimeout(resolve));
            parallelStuff.push(dep());
        }";

fn spread_chunk_fetches(loader: &Path) -> anyhow::Result<()> {
    let script =
        std::fs::read_to_string(loader).with_context(|| format!("cannot read {}", loader.display()))?;
    if script.matches(ALL_FETCHES_AT_ONCE).count() != 1 {
        bail!("{} no longer starts its fetches as `{ALL_FETCHES_AT_ONCE}`", loader.display());
    }
    std::fs::write(loader, script.replace(ALL_FETCHES_AT_ONCE, FETCHES_A_FEW_AT_A_TIME))?;
    Ok(())
}

/// Fetches the entry's script, its split loader and its wasm at once, then
/// starts the app.
fn loader(dir: &str) -> String {
    format!(
        r#"<link rel="modulepreload" href="/{dir}/{ENTRY}.js" />
    <link rel="modulepreload" href="/{dir}/__wasm_split.js" />
    <link rel="preload" href="/{dir}/{ENTRY}_bg.wasm" as="fetch" type="application/wasm" crossorigin />
    <script type="module">
import init from '/{dir}/{ENTRY}.js';
await init({{ module_or_path: '/{dir}/{ENTRY}_bg.wasm' }});
</script>"#
    )
}

/// `wasm-opt -Oz` over every file, as many at once as there are cores.
fn optimise(toolchain: &Toolchain, files: &[PathBuf]) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let commands: Vec<Command> = files
        .iter()
        .map(|file| {
            let mut command = toolchain.command("wasm-opt");
            command.arg("-Oz").args(WASM_OPT_FEATURES).arg(file).arg("-o").arg(file);
            command
        })
        .collect();
    let mut remaining = commands.into_iter();
    loop {
        let running: Vec<_> = remaining
            .by_ref()
            .take(cores)
            .map(|mut command| command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn())
            .collect::<Result<_, _>>()
            .context("cannot start wasm-opt")?;
        if running.is_empty() {
            return Ok(());
        }
        // Its warnings about the split tool's name sections are noise; its
        // errors are shown.
        for child in running {
            let output = child.wait_with_output()?;
            if !output.status.success() {
                bail!("wasm-opt failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_starts_its_fetches_a_few_at_a_time_or_the_build_stops() {
        let dir = tempfile::tempdir().unwrap();
        let loader = dir.path().join("__wasm_split.js");
        // As wasm-split-cli 0.2.4 writes it.
        let written = "function makeLoad(fetcher, deps) {
    const loader = async () => {
        const parallelStuff = deps.map(d => d());
        const instantiate = fetcher();
        await Promise.all(parallelStuff);";
        std::fs::write(&loader, written).unwrap();
        spread_chunk_fetches(&loader).unwrap();
        let spread = std::fs::read_to_string(&loader).unwrap();
        assert!(!spread.contains(ALL_FETCHES_AT_ONCE));
        assert!(spread.contains("setTimeout") && spread.contains("parallelStuff.push(dep());"));
        assert!(
            spread.ends_with("const instantiate = fetcher();\n        await Promise.all(parallelStuff);")
        );

        let error = spread_chunk_fetches(&loader).unwrap_err().to_string();
        assert!(error.contains("no longer starts its fetches"), "{error}");
    }
}
