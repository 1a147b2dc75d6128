//! The measurements: relay throughput, reconnecting, many devices (each against both
//! servers), the bundle and its floor, and the app in the browser. Each adds its rows
//! and notes to the table.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use super::Sizes;
use super::report::{Row, Table, fmt_value, k};
use super::server::{Kind, Server, load, num};
use super::stats::{Target, median};
use crate::compress;
use crate::plan::Plan;

/// A measurement's result, where the reference failing is a result (a note), not a
/// broken harness; Paktum failing is an error.
fn reference_may_fail(
    measured: Result<Value>,
    kind: Kind,
    notes: &mut Vec<String>,
    note: impl FnOnce(&anyhow::Error) -> String,
) -> Result<Option<Value>> {
    match (measured, kind) {
        (Ok(v), _) => Ok(Some(v)),
        (Err(e), Kind::Reference) => {
            notes.push(note(&e));
            Ok(None)
        }
        (Err(e), Kind::Paktum) => Err(e),
    }
}

fn both<T>(mut f: impl FnMut(Kind) -> Result<T>) -> Result<[T; 2]> {
    Ok([f(Kind::Paktum)?, f(Kind::Reference)?])
}

pub(super) fn relay_throughput(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    for (i, &(contacts, employers)) in sizes.throughput.iter().enumerate() {
        let last = i + 1 == sizes.throughput.len();
        let docs = contacts + employers;
        let mut runs: [Vec<[f64; 8]>; 2] = [Vec::new(), Vec::new()];
        let repeats = if last && i > 0 {
            sizes.repeats_large
        } else {
            sizes.repeats
        };
        for repeat in 0..repeats {
            for (slot, kind) in [Kind::Paktum, Kind::Reference].into_iter().enumerate() {
                println!(
                    "\n==> relay throughput, {} docs, {} (run {}/{})",
                    k(docs),
                    kind.name(),
                    repeat + 1,
                    repeats
                );
                let server = Server::start(plan, kind, scratch)?;
                let url = server.ws_url();
                let up = load(
                    plan,
                    scratch,
                    &upload_args(&url, (contacts, employers), sizes, scratch),
                );
                let Some(up) = reference_may_fail(up, kind, &mut table.notes, |e| {
                    format!(
                        "{}: uploading {} docs failed ({e:#}); its run has no figures.",
                        kind.name(),
                        k(docs)
                    )
                })?
                else {
                    continue;
                };
                println!("    {up}");
                let complete = up["complete"].as_bool() == Some(true);
                let cpu_before_pull = server.usage()?.1;
                let pull = if complete {
                    load(
                        plan,
                        scratch,
                        &strings(&[
                            "pull",
                            "--url",
                            &url,
                            "--team",
                            "bench",
                            "--teams",
                            &sizes.devices.to_string(),
                            "--expect",
                            &docs.to_string(),
                        ]),
                    )?
                } else {
                    table.notes.push(format!(
                        "{}: uploading {} docs did not finish within {} s ({} confirmed); its upload rate is over that time and its pull was not measured.",
                        kind.name(),
                        k(docs),
                        sizes.limit_secs,
                        up["docs"]
                    ));
                    Value::Null
                };
                println!("    {pull}");
                // Server CPU per 1,000 documents pulled: what a pull costs the server
                // itself, apart from the load generator's own applying of documents.
                let pull_cpu = match num(&pull, "docs") {
                    Ok(n) if n > 0.0 => (server.usage()?.1 - cpu_before_pull) / n * 1000.0,
                    _ => f64::NAN,
                };
                let rt = load(
                    plan,
                    scratch,
                    &strings(&[
                        "roundtrip",
                        "--url",
                        &url,
                        "--samples",
                        &sizes.samples.to_string(),
                    ]),
                )?;
                println!("    {rt}");
                let (rss, cpu) = server.usage()?;
                println!("    peak RSS {rss:.1} MB, CPU {cpu:.2} s");
                drop(server);
                runs[slot].push([
                    num(&up, "docs_per_s")?,
                    num(&pull, "docs_per_s").unwrap_or(f64::NAN),
                    num(&rt, "p50_ms")?,
                    num(&rt, "p99_ms")?,
                    rss,
                    cpu,
                    num(&up, "doc_bytes")? / 1e6,
                    pull_cpu,
                ]);
            }
        }
        let med = |slot: usize, field: usize| median(runs[slot].iter().map(|r| r[field]).collect());
        let col = |field: usize| [med(0, field), med(1, field)];
        let label = format!("{} contacts + {} employers", k(contacts), k(employers));
        let mb = col(6)[0].unwrap_or(0.0);
        table
            .add(
                format!(
                    "upload, {} devices, {label} ({mb:.0} MB of documents)",
                    sizes.devices
                ),
                "docs/s",
                col(0),
            )
            .target = Some(Target::RatioAtLeast(5.0));
        table
            .add(
                format!("pull into fresh devices, {label}"),
                "docs/s",
                col(1),
            )
            .target = Some(Target::RatioAtLeast(5.0));
        table.add(
            format!("server CPU per 1,000 documents pulled, {label}"),
            "s",
            col(7),
        );
        table.add(
            format!("round trip of one small change, p50 (after {label})"),
            "ms",
            col(2),
        );
        table.add(
            format!("round trip of one small change, p99 (after {label})"),
            "ms",
            col(3),
        );
        let rss = table.add(format!("relay peak RSS, {label}"), "MB", col(4));
        if last {
            rss.target = Some(Target::RatioAtMost(0.25));
        }
        table.add(format!("relay CPU time, {label}"), "s", col(5));
    }
    table.notes.push(format!(
        "throughput: medians of {} run(s) per server ({} at the largest size), each on a fresh server and data directory; upload and pull use {} devices at once (one team each).",
        sizes.repeats, sizes.repeats_large, sizes.devices
    ));
    Ok(())
}

/// Generated records, kept for this run only: every server gets the same bytes, and
/// repeats skip generating (a minute per 10,000 contacts).
pub(super) fn cache(scratch: &Path) -> String {
    scratch.join("records").to_string_lossy().into_owned()
}

/// `paktum-load upload` of team "bench" with these sizes, from this run's cache.
pub(super) fn upload_args(
    url: &str,
    (contacts, employers): (usize, usize),
    sizes: &Sizes,
    scratch: &Path,
) -> Vec<String> {
    strings(&[
        "upload",
        "--url",
        url,
        "--team",
        "bench",
        "--contacts",
        &contacts.to_string(),
        "--employers",
        &employers.to_string(),
        "--devices",
        &sizes.devices.to_string(),
        "--cache",
        &cache(scratch),
        "--limit-secs",
        &sizes.limit_secs.to_string(),
    ])
}

pub(super) fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(ToString::to_string).collect()
}

pub(super) fn reconnect(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    let largest = sizes.reconnect.iter().copied().max().unwrap_or(0);
    let mut results: Vec<(usize, [Value; 2])> = Vec::new();
    let mut notes = Vec::new();
    for &records in &sizes.reconnect {
        let pair = both(|kind| {
            println!(
                "\n==> reconnect after a day's work, {} records, {}",
                k(records),
                kind.name()
            );
            let server = Server::start(plan, kind, scratch)?;
            let measured = load(
                plan,
                scratch,
                &strings(&[
                    "reconnect",
                    "--url",
                    &server.ws_url(),
                    "--team",
                    "reconnect",
                    "--contacts",
                    &records.to_string(),
                    "--changed",
                    "5",
                    "--rounds",
                    &sizes.reconnect_rounds.to_string(),
                    "--cache",
                    &cache(scratch),
                    "--limit-secs",
                    &sizes.limit_secs.to_string(),
                ]),
            );
            let v = reference_may_fail(measured, kind, &mut notes, |e| {
                format!(
                    "reconnect among {}: the {} could not be measured: {e:#}.",
                    k(records),
                    kind.name()
                )
            })?
            .unwrap_or(Value::Null);
            println!("    {v}");
            Ok(v)
        })?;
        results.push((records, pair));
    }
    table.notes.extend(notes);
    for (records, [p, r]) in &results {
        let get = |v: &Value, key: &str| num(v, key).ok();
        let at_scale = *records == largest && largest >= 10_000;
        let label = format!("reconnect, 5+5 changed among {}", k(*records));
        let bytes = table.add(
            format!("{label}: bytes exchanged"),
            "KB",
            [
                get(p, "bytes").map(|b| b / 1000.0),
                get(r, "bytes").map(|b| b / 1000.0),
            ],
        );
        if at_scale {
            bytes.target = Some(Target::AtMost(20.0));
        }
        table.add(
            format!("{label}: messages"),
            "msgs",
            [get(p, "messages"), get(r, "messages")],
        );
        let time = table.add(
            format!("{label}: time to up to date"),
            "ms",
            [
                get(p, "secs").map(|s| s * 1000.0),
                get(r, "secs").map(|s| s * 1000.0),
            ],
        );
        if at_scale {
            time.target = Some(Target::AtMost(1000.0));
        }
    }
    table.notes.push(format!(
        "reconnect: one device holds the records; another device changes 5 on the relay while it edits 5 offline; medians of {} such round(s) per server.",
        sizes.reconnect_rounds
    ));
    Ok(())
}

pub(super) fn many_devices(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    // Per run: peak RSS, p50, p99, and the share of one core the server and the load
    // generator each used while the active pairs ran.
    let mut runs: [Vec<[f64; 5]>; 2] = [Vec::new(), Vec::new()];
    for repeat in 0..sizes.repeats {
        for (slot, kind) in [Kind::Paktum, Kind::Reference].into_iter().enumerate() {
            println!(
                "\n==> {} idle + {} active devices, {} (run {}/{})",
                k(sizes.idle),
                sizes.active,
                kind.name(),
                repeat + 1,
                sizes.repeats
            );
            let server = Server::start(plan, kind, scratch)?;
            let measured = load(
                plan,
                scratch,
                &strings(&[
                    "many",
                    "--url",
                    &server.ws_url(),
                    "--idle",
                    &sizes.idle.to_string(),
                    "--active",
                    &sizes.active.to_string(),
                    "--rounds",
                    &sizes.many_rounds.to_string(),
                    "--limit-secs",
                    &sizes.many_limit_secs.to_string(),
                    "--server-pid",
                    &server.pid().to_string(),
                ]),
            );
            let Some(v) = reference_may_fail(measured, kind, &mut table.notes, |e| {
                format!(
                    "many devices: a run of the {} failed ({e:#}); the medians are over the other runs.",
                    kind.name()
                )
            })?
            else {
                continue;
            };
            let (rss, _) = server.usage()?;
            println!("    {v}; peak RSS {rss:.1} MB");
            if num(&v, "idle_closed_early").unwrap_or(0.0) > 0.0 {
                table.notes.push(format!(
                    "many devices: the {} closed {} idle connection(s) during the run.",
                    kind.name(),
                    v["idle_closed_early"]
                ));
            }
            let active = num(&v, "active_secs")?.max(1e-3);
            let share = |key: &str| num(&v, key).map(|cpu| 100.0 * cpu / active);
            runs[slot].push([
                rss,
                num(&v, "p50_ms")?,
                num(&v, "p99_ms")?,
                share("server_cpu_secs")?,
                share("client_cpu_secs")?,
            ]);
        }
    }
    let col = |field: usize| {
        [
            median(runs[0].iter().map(|r| r[field]).collect()),
            median(runs[1].iter().map(|r| r[field]).collect()),
        ]
    };
    let label = format!("{} idle + {} active devices", k(sizes.idle), sizes.active);
    let at_scale = sizes.idle >= 1_000 && sizes.active >= 100;
    let rss = table.add(format!("{label}: relay peak RSS"), "MB", col(0));
    if at_scale {
        rss.target = Some(Target::AtMost(200.0));
    }
    table.add(format!("{label}: round trip p50"), "ms", col(1));
    let p99 = table.add(format!("{label}: round trip p99"), "ms", col(2));
    if at_scale {
        p99.target = Some(Target::AtMost(50.0));
    }
    table.add(
        format!("{label}: server CPU while the pairs run (user+sys)"),
        "% of a core",
        col(3),
    );
    table.add(
        format!("{label}: load generator CPU meanwhile (user+sys; its column: the run against that server)"),
        "% of a core",
        col(4),
    );
    table.notes.push(format!(
        "many devices: each phase (opening the idle connections, the active pairs) may take {} s before the run fails. The CPU rows are user+sys from /proc over the active phase, as a share of one core; the machine's cores are shared by the server, the load generator and anything else running, so a p99 is only as good as the room they left each other.",
        sizes.many_limit_secs
    ));
    Ok(())
}

/// The two shells as served: the worker's (`dist/`, every phone) with the bundle
/// target, and the coordinator's page (`dist/pact/`, only coordinators' and admins'
/// devices), a row per file and a total each.
pub(super) fn bundle(plan: &Plan, table: &mut Table) -> Result<()> {
    println!("\n==> bundle sizes (dist/, dist/pact/)");
    let worker = shell(plan, "dist", "", table)?;
    size_row(
        table,
        "bundle total, the worker's shell (dist/: wasm + js + css)",
        worker,
    )
    .target = Some(Target::AtMost(450.0));
    let pact = shell(plan, crate::build::PACT_DIST, "pact/", table)?;
    size_row(
        table,
        "bundle total, the coordinator's page (dist/pact/: wasm + js + css)",
        pact,
    );
    Ok(())
}

/// A row per asset of `dir` (named with `prefix`), and their total `[raw, gzip, brotli]`.
fn shell(plan: &Plan, dir: &str, prefix: &str, table: &mut Table) -> Result<[usize; 3]> {
    let mut total = [0usize; 3];
    let mut files: Vec<PathBuf> = std::fs::read_dir(plan.root.join(dir))
        .with_context(|| format!("reading {dir}/"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| compress::is_asset(p))
        .collect();
    files.sort();
    for path in files {
        let sizes = compress::sizes(&path)?;
        let name = path
            .file_name()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        let [raw, gz, br] = sizes;
        println!("    {prefix}{name}: {raw} raw, {gz} gzip, {br} brotli");
        for (t, v) in total.iter_mut().zip(sizes) {
            *t += v;
        }
        size_row(table, &format!("bundle {prefix}{name}"), sizes);
    }
    Ok(total)
}

/// A row of sizes in bytes `[raw, gzip, brotli]`: gzip is the value (the target's
/// measure), raw and brotli go in its name.
pub(super) fn size_row<'t>(
    table: &'t mut Table,
    what: &str,
    [raw, gz, br]: [usize; 3],
) -> &'t mut Row {
    table.add(
        format!(
            "{what}: {} KB raw, {} KB brotli 11; gzip -9",
            fmt_value(raw as f64 / 1000.0),
            fmt_value(br as f64 / 1000.0)
        ),
        "KB",
        [Some(gz as f64 / 1000.0), None],
    )
}

/// The wasm of `tests/bundle-floor` (automerge and paktum-shared, no UI), built as
/// the app's is (wasm-release profile, wasm-bindgen, wasm-opt -Oz): the part of the
/// bundle that only a smaller automerge could shrink.
pub(super) fn bundle_floor(plan: &mut Plan, scratch: &Path, table: &mut Table) -> Result<()> {
    println!("\n==> bundle floor (automerge + paktum-shared, no UI)");
    plan.step(
        "build the bundle floor",
        plan.command("cargo").args([
            "build",
            "--profile",
            "wasm-release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "paktum-bundle-floor",
        ]),
    )?;
    let out = scratch.join("floor");
    plan.step(
        "wasm-bindgen the bundle floor",
        plan.command("wasm-bindgen")
            .args(["--target", "web", "--out-dir"])
            .arg(&out)
            .arg("target/wasm32-unknown-unknown/wasm-release/paktum_bundle_floor.wasm"),
    )?;
    let wasm = out.join("paktum_bundle_floor_bg.wasm");
    plan.step(
        "wasm-opt -Oz the bundle floor",
        plan.command("wasm-opt")
            .arg("-Oz")
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )?;
    let sizes = compress::sizes(&wasm).context("measuring the bundle floor's wasm")?;
    let [raw, gz, br] = sizes;
    println!("    floor: {raw} raw, {gz} gzip, {br} brotli");
    size_row(
        table,
        "bundle floor: automerge + paktum-shared alone, no UI (wasm)",
        sizes,
    );
    table.notes.push(
        "bundle floor: `tests/bundle-floor` calls what a syncing device needs of automerge and paktum-shared (records, index, load, save, merge, sync) and nothing else; any Paktum app bundle is at least this.".into(),
    );
    Ok(())
}
