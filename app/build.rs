//! Names the build the settings screen shows: `PAKTUM_BUILD` when the build sets it
//! (a release pipeline), else the commit checked out (`git rev-parse`), else "dev".

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PAKTUM_BUILD");
    let build = std::env::var("PAKTUM_BUILD")
        .ok()
        .filter(|b| !b.is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=10", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
                .filter(|c| !c.is_empty())
        })
        .unwrap_or_else(|| "dev".to_string());
    println!("cargo:rustc-env=PAKTUM_BUILD={build}");
}
