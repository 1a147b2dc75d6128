//! Building the app: the tools it needs, `trunk build --release`, and the brotli and
//! gzip copies the relay serves. Used by `run`, `test` and `bench`.

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

pub fn app(plan: &mut Plan) -> Result<()> {
    plan.step(
        "build the app (trunk build --release)",
        plan.command("trunk").args(["build", "--release"]),
    )?;
    // The relay serves these to browsers that accept them: a phone downloads the
    // brotli copy of the wasm, about a third of its size.
    let start = Instant::now();
    let (raw, br) = crate::compress::precompress(&plan.root.join("dist"))
        .context("compressing the built app")?;
    println!(
        "compressed the app for serving: {} KB -> {} KB brotli",
        raw / 1000,
        br / 1000
    );
    plan.record("compress the app (brotli, gzip)", start.elapsed());
    Ok(())
}
