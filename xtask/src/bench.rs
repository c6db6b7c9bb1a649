//! `cargo xtask bench`: what a first page load costs, per file and in all.

use std::{io::Write, path::Path};

use anyhow::Context;

use crate::{
    cmd::workspace_root,
    tools::{Needs, Toolchain},
};

pub fn run() -> anyhow::Result<()> {
    let toolchain = Toolchain::ensure(Needs::Build)?;
    toolchain.build_app()?;
    first_load_bytes(&workspace_root().join("dist"))
}

struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

fn compressed_sizes(bytes: &[u8]) -> anyhow::Result<Sizes> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes)?;
    let gzip = gzip.finish()?.len();
    let mut brotli = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &brotli::enc::BrotliEncoderParams::default())?;
    Ok(Sizes { raw: bytes.len(), gzip, brotli: brotli.len() })
}

fn first_load_bytes(dist: &Path) -> anyhow::Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(dist)
        .with_context(|| format!("cannot read {}", dist.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    println!("first-load bytes of {}", dist.display());
    println!("{:<48} {:>10} {:>10} {:>10}", "file", "raw", "gzip -9", "brotli");
    let mut total = Sizes { raw: 0, gzip: 0, brotli: 0 };
    for file in files.iter().filter(|file| file.is_file()) {
        let sizes = compressed_sizes(&std::fs::read(file)?)?;
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        println!("{name:<48} {:>10} {:>10} {:>10}", sizes.raw, sizes.gzip, sizes.brotli);
        total.raw += sizes.raw;
        total.gzip += sizes.gzip;
        total.brotli += sizes.brotli;
    }
    println!("{:<48} {:>10} {:>10} {:>10}", "total", total.raw, total.gzip, total.brotli);
    Ok(())
}
