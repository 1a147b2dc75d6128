//! Building the app: the tools it needs, `trunk build --release` of the field app
//! (`index.html` → `dist/`) and of the coordinator's page (`pact.html` →
//! `dist/pact/`), and the brotli and gzip copies the relay serves. Used by `run`, `test` and `bench`.

use std::time::Instant;

use anyhow::{Context, Result};

use crate::plan::Plan;
use crate::tools;

pub fn tools(plan: &mut Plan) -> Result<()> {
    tools::ensure_wasm_target(plan)?;
    tools::ensure_wasm_opt(plan)?;
    tools::ensure_wasm_bindgen(plan)?;
    tools::ensure_trunk(plan)
}

/// Where the coordinator's page goes: its own directory of `dist/`, so the field
/// app's files stay what a worker's phone downloads.
pub const PACT_DIST: &str = "dist/pact";

pub fn app(plan: &mut Plan) -> Result<()> {
    plan.step(
        "build the app (trunk build --release)",
        plan.command("trunk").args(["build", "--release"]),
    )?;
    // Second, because trunk empties its dist directory (dist/, with dist/pact/ in
    // it) before it writes; its post-build hook stamps dist/sw.js with both pages.
    plan.step(
        "build the coordinator's page (trunk build pact.html --release)",
        // The page before `--release`, which takes an optional value.
        plan.command("trunk").args([
            "build",
            "pact.html",
            "--release",
            "--dist",
            PACT_DIST,
            "--public-url",
            "/pact/",
        ]),
    )?;
    // The relay serves these to browsers that accept them: a phone downloads the
    // brotli copy of the wasm, about a third of its size.
    let start = Instant::now();
    let mut totals = (0, 0);
    for dir in ["dist", PACT_DIST] {
        let (raw, br) = crate::compress::precompress(&plan.root.join(dir))
            .with_context(|| format!("compressing the built app in {dir}"))?;
        totals = (totals.0 + raw, totals.1 + br);
    }
    println!(
        "compressed the app for serving: {} KB -> {} KB brotli",
        totals.0 / 1000,
        totals.1 / 1000
    );
    plan.record("compress the app (brotli, gzip)", start.elapsed());
    Ok(())
}
