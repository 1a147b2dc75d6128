//! Paktum on PostgreSQL against Paktum on SQLite (issue 17): upload, pull and round
//! trip with one relay on SQLite, one on PostgreSQL, and two on one PostgreSQL
//! database (upload to the first, pull from and round trip to the second: every
//! document crosses relays). A throwaway cluster, a fresh database per run. Rows put
//! the PostgreSQL figure in Paktum's column and SQLite's in the other: the ratio is
//! PostgreSQL / SQLite.

use std::path::Path;

use anyhow::{Context, Result};
use paktum_launch::{Options, RelayProcess};

use super::Sizes;
use super::report::{Table, k};
use super::scenario::upload_args;
use super::server::{load, num};
use super::stats::median;
use crate::plan::Plan;

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Sqlite,
    OnePostgres,
    TwoPostgres,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "1 relay on SQLite",
            Setup::OnePostgres => "1 relay on PostgreSQL",
            Setup::TwoPostgres => "2 relays on one PostgreSQL",
        }
    }
}

fn relay(plan: &Plan, data: &Path, database: Option<&str>) -> Result<RelayProcess> {
    std::fs::create_dir_all(data).context("creating a relay data directory")?;
    RelayProcess::start(
        &plan.root.join("target/release/paktum-sync-server"),
        data,
        Options {
            open: true,
            dist: Some(plan.root.join("dist")),
            log: Some(data.with_extension("log")),
            env: database
                .map(|url| vec![("PAKTUM_DATABASE".to_string(), url.to_string())])
                .unwrap_or_default(),
            ..Options::default()
        },
    )
}

/// (upload docs/s, pull docs/s, round trip p50 ms, p99 ms) of one run.
fn measure(
    plan: &mut Plan,
    scratch: &Path,
    sizes: &Sizes,
    setup: Setup,
    cluster: &crate::postgres::Cluster,
    run: usize,
) -> Result<[f64; 4]> {
    let (contacts, employers) = sizes.throughput[0];
    let docs = contacts + employers;
    println!("\n==> {} docs, {} (run {run})", k(docs), setup.name());
    let database = match setup {
        Setup::Sqlite => None,
        _ => Some(cluster.database(
            plan,
            &format!("bench_{}_{run}_{}", setup as u8, std::process::id()),
        )?),
    };
    let base = scratch.join(format!("relays-{}-{run}", setup as u8));
    let writer = relay(plan, &base.join("a"), database.as_deref())?;
    let reader = match setup {
        Setup::TwoPostgres => Some(relay(plan, &base.join("b"), database.as_deref())?),
        _ => None,
    };
    let (to, from) = (
        writer.ws_url(),
        reader
            .as_ref()
            .map_or(writer.ws_url(), RelayProcess::ws_url),
    );
    let args = |a: &[&str]| a.iter().map(ToString::to_string).collect::<Vec<_>>();
    let up = load(
        plan,
        scratch,
        &upload_args(&to, (contacts, employers), sizes, scratch),
    )?;
    println!("    {up}");
    let pull = load(
        plan,
        scratch,
        &args(&[
            "pull",
            "--url",
            &from,
            "--team",
            "bench",
            "--teams",
            &sizes.devices.to_string(),
            "--expect",
            &docs.to_string(),
        ]),
    )?;
    println!("    {pull}");
    let rt = load(
        plan,
        scratch,
        &args(&[
            "roundtrip",
            "--url",
            &to,
            "--reader-url",
            &from,
            "--samples",
            &sizes.samples.to_string(),
        ]),
    )?;
    println!("    {rt}");
    drop((writer, reader));
    let _ = std::fs::remove_dir_all(&base);
    Ok([
        num(&up, "docs_per_s")?,
        num(&pull, "docs_per_s")?,
        num(&rt, "p50_ms")?,
        num(&rt, "p99_ms")?,
    ])
}

/// (p50, p99) of round trips of the many-devices run at twice the bench's size
/// (the 2,000 idle + 200 active at full size): on 2 relays, idle connections
/// alternate between them and each pair writes on one and reads on the other.
fn many(
    plan: &mut Plan,
    scratch: &Path,
    sizes: &Sizes,
    setup: Setup,
    cluster: &crate::postgres::Cluster,
) -> Result<[f64; 2]> {
    let (idle, active) = (sizes.idle * 2, sizes.active * 2);
    println!(
        "\n==> {} idle + {active} active devices, {}",
        k(idle),
        setup.name()
    );
    let database = match setup {
        Setup::Sqlite => None,
        _ => Some(cluster.database(
            plan,
            &format!("many_{}_{}", setup as u8, std::process::id()),
        )?),
    };
    let base = scratch.join(format!("many-{}", setup as u8));
    let one = relay(plan, &base.join("a"), database.as_deref())?;
    let two = match setup {
        Setup::TwoPostgres => Some(relay(plan, &base.join("b"), database.as_deref())?),
        _ => None,
    };
    let (url, other) = (
        one.ws_url(),
        two.as_ref().map_or(one.ws_url(), RelayProcess::ws_url),
    );
    let args: Vec<String> = [
        "many",
        "--url",
        &url,
        "--other-url",
        &other,
        "--idle",
        &idle.to_string(),
        "--active",
        &active.to_string(),
        "--rounds",
        &sizes.many_rounds.to_string(),
        "--limit-secs",
        &sizes.many_limit_secs.to_string(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let v = load(plan, scratch, &args)?;
    println!("    {v}");
    drop((one, two));
    let _ = std::fs::remove_dir_all(&base);
    Ok([num(&v, "p50_ms")?, num(&v, "p99_ms")?])
}

pub(super) fn relays(
    plan: &mut Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    let cluster = crate::postgres::Cluster::start(plan)?;
    let setups = [Setup::Sqlite, Setup::OnePostgres, Setup::TwoPostgres];
    let mut runs: Vec<Vec<[f64; 4]>> = vec![Vec::new(); setups.len()];
    // Interleaved, so a busy moment of the machine does not fall on one setup only.
    for run in 0..sizes.repeats {
        for (slot, setup) in setups.into_iter().enumerate() {
            runs[slot].push(measure(plan, scratch, sizes, setup, &cluster, run)?);
        }
    }
    let med = |slot: usize, field: usize| median(runs[slot].iter().map(|r| r[field]).collect());
    let (contacts, employers) = sizes.throughput[0];
    let label = format!("{} contacts + {} employers", k(contacts), k(employers));
    for (field, what, unit) in [
        (0, "upload", "docs/s"),
        (1, "pull into fresh devices", "docs/s"),
        (2, "round trip of one small change, p50", "ms"),
        (3, "round trip of one small change, p99", "ms"),
    ] {
        for (slot, setup) in [(1, Setup::OnePostgres), (2, Setup::TwoPostgres)] {
            table.add(
                format!("{what}, {label}: {} / 1 relay on SQLite", setup.name()),
                unit,
                [med(slot, field), med(0, field)],
            );
        }
    }
    let single = many(plan, scratch, sizes, Setup::Sqlite, &cluster)?;
    let spread = many(plan, scratch, sizes, Setup::TwoPostgres, &cluster)?;
    let label = format!(
        "{} idle + {} active devices",
        k(sizes.idle * 2),
        sizes.active * 2
    );
    for (field, what) in [(0, "p50"), (1, "p99")] {
        table.add(
            format!("{label}, round trip {what}: 2 relays on one PostgreSQL (across them) / 1 relay on SQLite"),
            "ms",
            [Some(spread[field]), Some(single[field])],
        );
    }
    table.notes.push(format!(
        "PostgreSQL rows: Paktum's column is PostgreSQL (a local cluster, default settings), the other column Paktum on SQLite; medians of {} interleaved run(s); with 2 relays the devices upload to one and pull from and round trip to the other.",
        sizes.repeats
    ));
    drop(cluster);
    Ok(())
}
