//! Checks for the tools Paktum builds with and installs what is missing, from the
//! registries this kind of machine can reach (crates.io, npm, Debian apt).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::plan::Plan;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132";

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &str, plan: &Plan) -> Option<String> {
    let out = plan.command(program).arg("--version").output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

pub fn ensure_wasm_target(plan: &mut Plan) -> Result<()> {
    let out = plan
        .command("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context(
            "running rustup; Paktum expects the machine's Rust toolchain to be managed by rustup",
        )?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    plan.step(
        "install the wasm32 target",
        plan.command("rustup")
            .args(["target", "add", "wasm32-unknown-unknown"]),
    )
}

pub fn ensure_trunk(plan: &mut Plan) -> Result<()> {
    if version_of("trunk", plan).is_some_and(|v| v.ends_with(TRUNK_VERSION)) {
        return Ok(());
    }
    println!(
        "trunk {TRUNK_VERSION} is missing: building it from crates.io (about 9 minutes on 2 cores)."
    );
    plan.step(
        "install trunk",
        plan.command("cargo")
            .args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]),
    )
}

/// wasm-bindgen-cli must match the `wasm-bindgen` crate in Cargo.lock exactly.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen entry; run `cargo generate-lockfile`")
}

pub fn ensure_wasm_bindgen(plan: &mut Plan) -> Result<()> {
    let want = wasm_bindgen_version(&plan.root)?;
    if version_of("wasm-bindgen", plan).is_some_and(|v| v.ends_with(&want)) {
        return Ok(());
    }
    println!("wasm-bindgen-cli {want} is missing: building it from crates.io (about 4 minutes).");
    // No --locked: its lockfile names a webpki-roots version crates.io no longer has.
    plan.step(
        "install wasm-bindgen-cli",
        plan.command("cargo")
            .args(["install", "wasm-bindgen-cli", "--version", &want]),
    )
}

/// binaryen from npm (Debian's wasm-opt 108 silently breaks the app).
pub fn ensure_wasm_opt(plan: &mut Plan) -> Result<()> {
    if version_of("wasm-opt", plan)
        .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")))
    {
        return Ok(());
    }
    ensure_node(plan)?;
    let tools = plan.root.join(".tools");
    std::fs::create_dir_all(&tools).context("creating .tools")?;
    plan.step(
        "install wasm-opt (npm binaryen)",
        plan.command("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg(format!("binaryen@{BINARYEN_VERSION}")),
    )
}

pub fn ensure_node(plan: &Plan) -> Result<()> {
    if version_of("node", plan).is_none() || version_of("npm", plan).is_none() {
        bail!(
            "Node.js and npm are needed (for wasm-opt and the JS tests); install them, e.g. `apt-get install nodejs npm`"
        );
    }
    Ok(())
}

/// Debian's Chromium and ChromeDriver, for the browser tests.
pub fn ensure_chromium(plan: &mut Plan) -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    apt_install(plan, &["chromium", "chromium-driver"])
}

/// Whether we run as root (then apt-get directly, and servers that refuse root, such
/// as PostgreSQL, run as their own user).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Installs Debian packages: as root directly, otherwise through `sudo -n`.
pub fn apt_install(plan: &mut Plan, packages: &[&str]) -> Result<()> {
    let root = is_root();
    let (program, prefix): (&str, &[&str]) = if root {
        ("apt-get", &[])
    } else {
        ("sudo", &["-n", "apt-get"])
    };
    if !root && version_of("sudo", plan).is_none() {
        bail!(
            "{} missing and this user cannot install it: run `sudo apt-get install -y {}`",
            packages.join(" and "),
            packages.join(" ")
        );
    }
    plan.step(
        "apt-get update",
        plan.command(program).args(prefix).arg("update"),
    )?;
    plan.step(
        &format!("install {}", packages.join(" and ")),
        plan.command(program)
            .args(prefix)
            .arg("install")
            .arg("-y")
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Installs a folder's npm packages from its package-lock.json, unless node_modules
/// is current. `npm install`, not `npm ci`: npm 11's `ci` refuses locks whose optional
/// platform packages (cbor-extract's) it did not record, while `install` keeps the
/// lock as it is.
pub fn npm_install(plan: &mut Plan, dir: &str) -> Result<()> {
    ensure_node(plan)?;
    let path = plan.root.join(dir);
    let lock = path.join("package-lock.json");
    let stamp = path.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => s.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    plan.step(
        &format!("npm install in {dir}"),
        plan.command("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(path),
    )
}
