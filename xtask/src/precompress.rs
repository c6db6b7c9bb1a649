//! The built app's files written again beside themselves as brotli
//! (quality 11) and gzip (level 9), which the relay sends as they are
//! instead of compressing each answer. Each compressed file is kept in a
//! cache under the SHA-256 of its input, so a file that did not change
//! costs nothing on the next build; the newest 512 are kept (the split app
//! alone is some 60 files).

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use sha2::{Digest, Sha256};

/// What a browser may be sent compressed.
const COMPRESSIBLE: [&str; 5] = ["html", "js", "wasm", "css", "svg"];
/// How many compressed files the cache keeps.
const KEPT: usize = 512;

/// Writes `NAME.br` and `NAME.gz` beside every compressible file under `dir`.
pub fn precompress(dir: &Path, cache: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(cache).with_context(|| format!("cannot make {}", cache.display()))?;
    for file in files(dir)? {
        let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let key = format!("{:x}", Sha256::digest(&bytes));
        for (extension, compress) in [("br", brotli as fn(&[u8]) -> anyhow::Result<Vec<u8>>), ("gz", gzip)] {
            let cached = cache.join(format!("{key}.{extension}"));
            if !cached.is_file() {
                let partial = cache.join(format!("{key}.{extension}.partial"));
                std::fs::write(&partial, compress(&bytes)?)?;
                std::fs::rename(&partial, &cached)?;
            }
            let mut beside = file.clone().into_os_string();
            beside.push(format!(".{extension}"));
            std::fs::copy(&cached, &beside).with_context(|| format!("cannot write {beside:?}"))?;
        }
    }
    prune(cache)
}

/// The files under `dir` a browser may be sent compressed.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = crate::cmd::files_under(dir)?;
    found.retain(|path| {
        path.extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| COMPRESSIBLE.contains(&extension))
    });
    Ok(found)
}

/// Brotli at its best (quality 11), as the relay sends and the bench weighs it.
pub fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut compressed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params)?;
    Ok(compressed)
}

/// gzip -9.
pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Keeps the newest [`KEPT`] compressed files.
fn prune(cache: &Path) -> anyhow::Result<()> {
    let mut kept: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(cache)?
        .flatten()
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    kept.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, old) in kept.into_iter().skip(KEPT) {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn each_file_gets_a_brotli_and_a_gzip_copy_that_decompress_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let app = "function greet() { return 'hello'; }\n".repeat(200);
        std::fs::write(dir.path().join("app-0123456789abcdef.js"), &app).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not sent compressed").unwrap();
        precompress(dir.path(), cache.path()).unwrap();

        let br = std::fs::read(dir.path().join("app-0123456789abcdef.js.br")).unwrap();
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, app.as_bytes());
        let gz = std::fs::read(dir.path().join("app-0123456789abcdef.js.gz")).unwrap();
        let mut ungzipped = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut ungzipped).unwrap();
        assert_eq!(ungzipped, app.as_bytes());
        assert!(br.len() < app.len() / 10 && gz.len() < app.len() / 10, "compressed");
        assert!(!dir.path().join("notes.txt.br").exists());

        // The next build takes them from the cache: the same bytes.
        std::fs::remove_file(dir.path().join("app-0123456789abcdef.js.br")).unwrap();
        precompress(dir.path(), cache.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("app-0123456789abcdef.js.br")).unwrap(), br);
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
    }
}
