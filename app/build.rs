//! Names the build the settings screen shows: `PAKTUM_BUILD` when the build sets it
//! (a release pipeline), else the commit checked out (`git rev-parse`), else "dev".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PAKTUM_BUILD");
    // Run again after every commit or checkout (HEAD's reflog changes with each), not
    // only when the app's own files change.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/logs/HEAD");
    }
    let build = std::env::var("PAKTUM_BUILD")
        .ok()
        .filter(|b| !b.is_empty())
        .or_else(|| git(&["rev-parse", "--short=10", "HEAD"]))
        .unwrap_or_else(|| "dev".to_string());
    println!("cargo:rustc-env=PAKTUM_BUILD={build}");
}
