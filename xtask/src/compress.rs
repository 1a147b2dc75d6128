//! Compressed copies of the built app (`dist/`): the relay serves `x.br` or `x.gz`
//! in place of `x` to a browser that accepts them, and the bench measures the same
//! encodings.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

/// The app's code and styles, the files the bundle rows count (icons are PNG
/// already; `index.html` is small and must stay fresh).
pub fn is_asset(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x == "wasm" || x == "js" || x == "css")
}

pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// `path`'s size `[raw, gzip, brotli]`: the compressed sizes from the copies
/// `precompress` wrote beside it when they are at least as new as the file (the
/// same encoders, so the same bytes), else compressed here.
pub fn sizes(path: &Path) -> Result<[usize; 3]> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let written = std::fs::metadata(path)?.modified()?;
    let copy = |ext: &str, encode: fn(&[u8]) -> Result<Vec<u8>>| -> Result<usize> {
        let beside = copy_path(path, ext);
        match std::fs::metadata(&beside).and_then(|m| m.modified()) {
            Ok(t) if t >= written => Ok(std::fs::metadata(&beside)?.len() as usize),
            _ => Ok(encode(&raw)?.len()),
        }
    };
    Ok([raw.len(), copy("gz", gzip)?, copy("br", brotli)?])
}

/// `x.ext` beside `x`.
fn copy_path(path: &Path, ext: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    name.into()
}

/// Writes `x.br` and `x.gz` beside every asset in `dist` (but `sw.js`: the service
/// worker script is fetched by the browser itself and stays as it is), and removes
/// compressed copies whose original is gone. Returns (raw, brotli) byte totals.
pub fn precompress(dist: &Path) -> Result<(usize, usize)> {
    let mut totals = (0, 0);
    for entry in std::fs::read_dir(dist).context("reading dist/")? {
        let path = entry?.path();
        let stale = path.extension().is_some_and(|x| x == "br" || x == "gz")
            && !path.with_extension("").exists();
        if stale {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            continue;
        }
        if !is_asset(&path) || path.file_name().is_some_and(|n| n == "sw.js") {
            continue;
        }
        let raw = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let br = brotli(&raw)?;
        for (ext, bytes) in [("br", &br), ("gz", &gzip(&raw)?)] {
            let name = copy_path(&path, ext);
            std::fs::write(&name, bytes).with_context(|| format!("writing {}", name.display()))?;
        }
        totals.0 += raw.len();
        totals.1 += br.len();
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn precompressed_copies_decode_to_the_original_and_stale_ones_go() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("paktum-precompress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let wasm: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("app_bg.wasm"), &wasm)?;
        std::fs::write(dir.join("sw.js"), "self.x = 1;")?;
        std::fs::write(dir.join("icon.png"), [1, 2, 3])?;
        std::fs::write(dir.join("old_bg.wasm.br"), [0])?;
        let (raw, br) = precompress(&dir)?;
        assert_eq!(raw, wasm.len());
        assert!(br > 0 && br < raw, "{br} of {raw}");

        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(
            &mut &std::fs::read(dir.join("app_bg.wasm.br"))?[..],
            &mut unbrotli,
        )?;
        assert_eq!(unbrotli, wasm);
        let mut ungzip = Vec::new();
        flate2::read::GzDecoder::new(&std::fs::read(dir.join("app_bg.wasm.gz"))?[..])
            .read_to_end(&mut ungzip)?;
        assert_eq!(ungzip, wasm);
        assert!(
            !dir.join("sw.js.br").exists(),
            "the service worker stays plain"
        );
        assert!(!dir.join("icon.png.gz").exists());
        assert!(
            !dir.join("old_bg.wasm.br").exists(),
            "a stale copy is removed"
        );

        // Sizes read off the copies equal compressing here, with or without copies.
        let fresh = |bytes: &[u8]| -> Result<[usize; 3]> {
            Ok([bytes.len(), gzip(bytes)?.len(), brotli(bytes)?.len()])
        };
        assert_eq!(sizes(&dir.join("app_bg.wasm"))?, fresh(&wasm)?);
        assert_eq!(sizes(&dir.join("sw.js"))?, fresh(b"self.x = 1;")?);
        // A copy older than its file (a rebuild without precompress) is not believed.
        std::fs::write(dir.join("app_bg.wasm.gz"), [0])?;
        std::fs::File::options()
            .write(true)
            .open(dir.join("app_bg.wasm.gz"))?
            .set_modified(std::time::SystemTime::UNIX_EPOCH)?;
        assert_eq!(sizes(&dir.join("app_bg.wasm"))?, fresh(&wasm)?);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
