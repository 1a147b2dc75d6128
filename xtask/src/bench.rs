//! `cargo xtask bench [--quick]`: Paktum's relay measured side by side with the
//! automerge-repo reference sync server under the same load generator (`paktum-load`),
//! plus the browser benchmarks (`tests/bench/browser.mjs`), the coordinator's figures
//! at two sizes (`paktum-indicators`, native) and the bundle sizes.
//! Servers run on loopback ports with their own data directories and are stopped by
//! process id, also on error. The full run writes BENCHMARKS.md; `--quick` is a
//! smoke test of the harness (small sizes, never fails on timings).
//!
//! `server` starts and measures the servers and runs the load generator, `scenario`
//! holds the measurements (`indicators` the coordinator's), `stats` the medians, ratios and targets, `report` the
//! table and BENCHMARKS.md.

mod browser;
mod indicators;
mod languages;
mod relays;
mod report;
mod scenario;
mod server;
mod stats;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::plan::Plan;
use crate::{build, tools};
use report::Table;

/// How much each measurement does: the full run's sizes, or `--quick`'s.
struct Sizes {
    repeats: usize,
    /// Runs at the largest throughput size (each takes minutes).
    repeats_large: usize,
    /// Seconds an upload may take before its rate is taken over what was confirmed.
    limit_secs: u64,
    /// (contacts, employers) for upload and pull.
    throughput: Vec<(usize, usize)>,
    devices: usize,
    samples: usize,
    reconnect: Vec<usize>,
    reconnect_rounds: usize,
    idle: usize,
    active: usize,
    many_rounds: usize,
    /// Seconds each phase of the many-devices run may take: a server that stops
    /// answering fails the run after this, not after the load generator's 10 minutes.
    many_limit_secs: u64,
    browser: (usize, usize),
    browser_runs: usize,
    browser_notes: usize,
    /// (contacts, employers) for the coordinator figures, smallest first.
    indicators: Vec<(usize, usize)>,
}

impl Sizes {
    fn full() -> Self {
        Self {
            repeats: 3,
            repeats_large: 1,
            limit_secs: 180,
            throughput: vec![(1_000, 0), (10_000, 1_000)],
            devices: 4,
            samples: 200,
            reconnect: vec![1_000, 10_000],
            reconnect_rounds: 3,
            idle: 1_000,
            active: 100,
            many_rounds: 20,
            many_limit_secs: 120,
            browser: (10_000, 1_000),
            browser_runs: 3,
            browser_notes: 30,
            indicators: vec![(1_000, 100), (10_000, 1_000)],
        }
    }

    fn quick() -> Self {
        Self {
            repeats: 1,
            repeats_large: 1,
            limit_secs: 120,
            throughput: vec![(200, 20)],
            devices: 2,
            samples: 20,
            reconnect: vec![100, 300],
            reconnect_rounds: 1,
            idle: 100,
            active: 10,
            many_rounds: 3,
            many_limit_secs: 60,
            browser: (300, 0),
            browser_runs: 1,
            browser_notes: 5,
            indicators: vec![(100, 10), (300, 30)],
        }
    }
}

/// Only the PostgreSQL rows (1 relay on SQLite, 1 on PostgreSQL, 2 on one
/// PostgreSQL), at the full run's first throughput size; BENCHMARKS.md left as it is.
pub fn postgres(plan: &mut Plan) -> Result<()> {
    let sizes = Sizes::full();
    build_release_bins(plan)?;
    let scratch = scratch(plan)?;
    let mut table = Table::default();
    relays::relays(plan, &scratch, &sizes, &mut table)?;
    print_table(&table);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Only the bundle rows: the app as served, with English only, and the floor. No
/// servers, and BENCHMARKS.md is left as it is.
pub fn bundle(plan: &mut Plan) -> Result<()> {
    build::tools(plan)?;
    build::app(plan)?;
    let scratch = scratch(plan)?;
    let mut table = Table::default();
    scenario::bundle(plan, &mut table)?;
    languages::languages(plan, &scratch, &mut table)?;
    scenario::bundle_floor(plan, &scratch, &mut table)?;
    print_table(&table);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

pub fn bench(plan: &mut Plan, quick: bool) -> Result<()> {
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    build_release_bins(plan)?;
    tools::npm_install(plan, "tests/bench/reference")?;
    if quick {
        // Inside `cargo xtask test`, which has just built the app.
        ensure_dist(plan)?;
    } else {
        // The browser rows must measure this tree's app, not whatever dist/ holds.
        build::tools(plan)?;
        build::app(plan)?;
    }

    let scratch = scratch(plan)?;
    let mut table = Table::default();
    let started = Instant::now();

    scenario::relay_throughput(plan, &scratch, &sizes, &mut table)?;
    if !quick {
        // A cluster and nine relay runs: not part of `cargo xtask test`'s smoke run.
        relays::relays(plan, &scratch, &sizes, &mut table)?;
    }
    scenario::reconnect(plan, &scratch, &sizes, &mut table)?;
    scenario::many_devices(plan, &scratch, &sizes, &mut table)?;
    indicators::indicators(plan, &scratch, &sizes, &mut table)?;
    indicators::duplicates(plan, &scratch, &sizes, &mut table)?;
    scenario::bundle(plan, &mut table)?;
    if !quick {
        // Each is a second release build of minutes: too slow for --quick.
        languages::languages(plan, &scratch, &mut table)?;
        scenario::bundle_floor(plan, &scratch, &mut table)?;
    }
    browser::browser(plan, &scratch, &sizes, &mut table)?;
    indicators::browser_indicators(plan, &scratch, &sizes, &mut table)?;

    // The same note from repeated runs (a reference failing every time) is said once.
    let mut seen = std::collections::HashSet::new();
    table.notes.retain(|n| seen.insert(n.clone()));
    print_table(&table);
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
    if quick {
        println!(
            "(--quick: small sizes, a smoke test of the harness; BENCHMARKS.md left as it is)"
        );
    } else {
        report::write_report(plan, sizes.repeats, &table)?;
        println!("wrote BENCHMARKS.md");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// The relay and the load generator, release builds (every bench needs both).
fn build_release_bins(plan: &mut Plan) -> Result<()> {
    plan.step(
        "build the relay and the load generator (release)",
        plan.command("cargo").args([
            "build",
            "--release",
            "-p",
            "paktum-sync-server",
            "-p",
            "paktum-tests",
            "--bins",
        ]),
    )
}

/// A scratch directory of this run's own under target/ (`cargo xtask test` may run a
/// quick bench meanwhile), emptied first.
fn scratch(plan: &Plan) -> Result<std::path::PathBuf> {
    let scratch = plan
        .root
        .join(format!("target/bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).context("creating target/bench")?;
    Ok(scratch)
}

fn print_table(table: &Table) {
    println!("\n{}", table.render());
    for note in &table.notes {
        println!("note: {note}");
    }
}

/// The built app in dist/, building it only when missing (never two trunk builds at once).
fn ensure_dist(plan: &mut Plan) -> Result<()> {
    let has = |ext: &str| {
        std::fs::read_dir(plan.root.join("dist"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == ext))
            })
            .unwrap_or(false)
    };
    let both = |plan: &Plan| {
        plan.root.join("dist/index.html").exists()
            && plan.root.join(build::PACT_DIST).join("index.html").exists()
    };
    if has("wasm") && both(plan) {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    while Command::new("pgrep")
        .args(["-f", "trunk build"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        if Instant::now() > deadline {
            bail!("another trunk build has been running for 15 minutes");
        }
        println!("waiting for another trunk build to finish…");
        std::thread::sleep(Duration::from_secs(5));
    }
    if !has("wasm") || !both(plan) {
        build::tools(plan)?;
        build::app(plan)?;
    }
    Ok(())
}
