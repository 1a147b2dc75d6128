//! What the languages beyond English add to the app's wasm, measured: the app is built
//! a second time with English only and the two wasm files are compared.
//!
//! leptos_i18n reads the locale list from the app's `Cargo.toml`
//! (`[package.metadata.leptos-i18n]`) when `load_locales!` expands, and no feature or
//! environment variable selects it. So the English-only app is built from a scratch
//! copy (a one-member workspace holding `app/` with `locales = ["en"]`, the root's
//! dependencies, profiles and lock file, `index.html`, `Trunk.toml` and `public/`),
//! through the same `trunk build --release` as the real one, into the same `target/`
//! (only the app crate and the final LTO link are redone).
//!
//! What the difference holds: the hu, nl, fr and de catalogues and the code leptos_i18n
//! generates for them. What it does not: the English catalogue, and the dates, numbers,
//! plurals and collation of `paktum_shared::language`, which both builds keep (the
//! language is chosen at run time).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::report::Table;
use super::scenario::size_row;
use crate::compress;
use crate::plan::Plan;

pub(super) fn languages(plan: &mut Plan, scratch: &Path, table: &mut Table) -> Result<()> {
    println!("\n==> what the four languages beyond English add to the wasm");
    let five = the_wasm(&plan.root.join("dist"))?;
    let copy = scratch.join("english-only");
    english_only_copy(&plan.root, &copy)?;
    let target = plan.root.join("target");
    plan.step(
        "build the app with English only (trunk build --release, scratch copy)",
        plan.command("trunk")
            .args(["build", "--release"])
            .current_dir(&copy)
            .env("CARGO_TARGET_DIR", &target),
    )?;
    let one = the_wasm(&copy.join("dist"))?;
    let five = compress::sizes(&five)?;
    let one = compress::sizes(&one)?;
    println!("    five languages: {five:?} (raw, gzip, brotli)");
    println!("    English only:   {one:?}");
    size_row(table, "bundle wasm with English only", one);
    let added: [usize; 3] = std::array::from_fn(|i| five[i].saturating_sub(one[i]));
    size_row(
        table,
        "the hu, nl, fr, de catalogues add to the wasm (five languages − English only)",
        added,
    );
    if (0..3).any(|i| five[i] < one[i]) {
        table.notes.push(format!(
            "languages: the English-only wasm came out larger than the five-language one in some measure ({one:?} vs {five:?}); the row shows 0 there."
        ));
    }
    table.notes.push(
        "languages: the app built twice by the same `trunk build --release`, the second from a scratch copy whose manifest lists only `en` (leptos_i18n takes its locales from there at compile time). The difference is the four catalogues and leptos_i18n's code for them; the English catalogue and `paktum_shared::language` (dates, numbers, plurals, collation; chosen at run time) are in both builds. Built in the full bench only: the second release build takes minutes.".into(),
    );
    Ok(())
}

/// The one `.wasm` file in a trunk `dist/`.
fn the_wasm(dist: &Path) -> Result<PathBuf> {
    let wasm: Vec<PathBuf> = std::fs::read_dir(dist)
        .with_context(|| format!("reading {}", dist.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    match wasm.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!("expected one .wasm in {}, found {other:?}", dist.display()),
    }
}

/// Writes the one-member workspace that builds the app with English only.
fn english_only_copy(root: &Path, copy: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(copy);
    std::fs::create_dir_all(copy.join("app"))?;
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    std::fs::write(copy.join("Cargo.toml"), one_member(&manifest, root)?)?;
    for file in ["Cargo.lock", "index.html", "Trunk.toml"] {
        std::fs::copy(root.join(file), copy.join(file))
            .with_context(|| format!("copying {file}"))?;
    }
    copy_dir(&root.join("public"), &copy.join("public"), &[])?;
    // All of app/ (sources, build script, …) but the catalogues.
    copy_dir(
        &root.join("app"),
        &copy.join("app"),
        &["locales", "Cargo.toml"],
    )?;
    std::fs::create_dir_all(copy.join("app/locales"))?;
    std::fs::copy(
        root.join("app/locales/en.json"),
        copy.join("app/locales/en.json"),
    )?;
    let app = std::fs::read_to_string(root.join("app/Cargo.toml"))?;
    std::fs::write(copy.join("app/Cargo.toml"), english_only(&app)?)?;
    Ok(())
}

/// The root manifest as a workspace of the app alone, its path dependencies absolute.
fn one_member(manifest: &str, root: &Path) -> Result<String> {
    let mut out = String::new();
    let mut members = false;
    for line in manifest.lines() {
        if line.starts_with("members") {
            out.push_str("members = [\"app\"]\n");
            members = true;
        } else if line.starts_with("default-members") {
        } else if let Some((before, after)) = line.split_once("path = \"") {
            out.push_str(&format!("{before}path = \"{}/{after}\n", root.display()));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !members {
        bail!("the root Cargo.toml has no `members` line");
    }
    Ok(out)
}

/// The app's manifest with `locales = ["en"]`.
fn english_only(app: &str) -> Result<String> {
    let (before, metadata) = app
        .split_once("[package.metadata.leptos-i18n]")
        .context("app/Cargo.toml has no [package.metadata.leptos-i18n]")?;
    let mut out = format!("{before}[package.metadata.leptos-i18n]\n");
    let mut listed = false;
    for line in metadata.lines().skip(1) {
        if line.trim_start().starts_with("locales") {
            out.push_str("locales = [\"en\"]\n");
            listed = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !listed {
        bail!("app/Cargo.toml lists no locales");
    }
    Ok(out)
}

/// Copies `from` into `to`, leaving out the entries of `from` named in `skip`.
fn copy_dir(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target, &[])?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_lists_only_english_and_finds_the_shared_crate() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let app = std::fs::read_to_string(root.join("app/Cargo.toml"))?;
        let copy = english_only(&app)?;
        assert!(copy.contains("locales = [\"en\"]\n"), "{copy}");
        assert!(!copy.contains("\"hu\""));
        assert_eq!(copy.matches("[dependencies]").count(), 1);
        let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
        let workspace = one_member(&manifest, Path::new("/r"))?;
        assert!(workspace.contains("members = [\"app\"]\n"));
        assert!(!workspace.contains("default-members"));
        assert!(workspace.contains("paktum-shared = { path = \"/r/shared\" }"));
        assert!(workspace.contains("[profile.wasm-release]"));
        Ok(())
    }

    #[test]
    fn the_copy_holds_all_of_the_app_but_the_other_catalogues() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let copy = std::env::temp_dir().join(format!("paktum-en-only-{}", std::process::id()));
        english_only_copy(&root, &copy)?;
        for file in [
            "app/build.rs",
            "app/src/main.rs",
            "app/locales/en.json",
            "index.html",
        ] {
            assert!(copy.join(file).is_file(), "{file} missing from the copy");
        }
        let catalogues: Vec<_> = std::fs::read_dir(copy.join("app/locales"))?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(catalogues, ["en.json"]);
        let _ = std::fs::remove_dir_all(&copy);
        Ok(())
    }
}
