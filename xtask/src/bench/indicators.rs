//! The coordinator's figures at scale, measured natively by `paktum-indicators`:
//! reading every record into plain values, and computing the dashboard (the year per
//! team, the whole pact, the twelve months), which a coordinator's screen redoes
//! after a change. Two sizes side by side, so the growth shows. `browser_indicators`:
//! the same in headless Chromium, on the coordinator's page (`tests/bench/browser.mjs
//! --only indicators`), one seeded team per size. `duplicates`: the duplicate finder
//! (`paktum-duplicates`) on the same contact counts.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::Sizes;
use super::report::{Table, k};
use super::server::{Kind, Server, bin, last_json_line, load, num, run_bounded};
use crate::plan::Plan;

pub(super) fn indicators(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    let mut measured = Vec::new();
    for &(contacts, employers) in &sizes.indicators {
        println!(
            "\n==> coordinator figures, {} contacts + {} employers (native)",
            k(contacts),
            k(employers)
        );
        let text = run_bounded(
            plan.command(&bin(plan, "paktum-indicators")).args([
                "--contacts",
                &contacts.to_string(),
                "--employers",
                &employers.to_string(),
                "--runs",
                "5",
            ]),
            "paktum-indicators",
            scratch,
        )?;
        let v = last_json_line(&text, "paktum-indicators")?;
        println!("    {v}");
        let label = format!("{} contacts + {} employers", k(contacts), k(employers));
        let read = num(&v, "read_ms")?;
        let lean = num(&v, "read_for_figures_ms")?;
        let dashboard = num(&v, "dashboard_ms")?;
        table.add(
            format!("coordinator figures, {label}: read every record (native)"),
            "ms",
            [Some(read), None],
        );
        table.add(
            format!("coordinator figures, {label}: read the contacts for the figures, notes left out (native)"),
            "ms",
            [Some(lean), None],
        );
        table.add(
            format!("coordinator figures, {label}: recompute the dashboard (native, median of 5)"),
            "ms",
            [Some(dashboard), None],
        );
        measured.push((contacts + employers, lean, dashboard));
    }
    if let [(small, read_s, dash_s), .., (large, read_l, dash_l)] = measured[..] {
        table.notes.push(format!(
            "coordinator figures: {}x the records took {:.1}x the time to read (for the figures) and {:.1}x to recompute (linear would be {}x). The dashboard is the year per team, the whole pact and its twelve months, computed in one pass from plain values already read; after a change only the changed record is read again.",
            large / small.max(1),
            read_l / read_s.max(f64::MIN_POSITIVE),
            dash_l / dash_s.max(f64::MIN_POSITIVE),
            large / small.max(1),
        ));
    }
    Ok(())
}

/// The duplicate finder (`paktum-duplicates`, native) on the contact counts of
/// `sizes.indicators`: preparing the caseload (once per change of the device's data) and
/// one probe (each keystroke in the new-contact form), medians of 21.
pub(super) fn duplicates(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    for &(contacts, _) in &sizes.indicators {
        println!("\n==> duplicate finder, {} contacts (native)", k(contacts));
        let text = run_bounded(
            plan.command(&bin(plan, "paktum-duplicates")).args([
                "--contacts",
                &contacts.to_string(),
                "--runs",
                "21",
            ]),
            "paktum-duplicates",
            scratch,
        )?;
        let v = last_json_line(&text, "paktum-duplicates")?;
        println!("    {v}");
        table.add(
            format!(
                "duplicate finder, {} contacts: prepare the caseload (native, median of 21)",
                k(contacts)
            ),
            "ms",
            [Some(num(&v, "prepare_ms_median")?), None],
        );
        table.add(
            format!(
                "duplicate finder, {} contacts: one probe (native, median of 21)",
                k(contacts)
            ),
            "ms",
            [Some(num(&v, "find_ms_median")?), None],
        );
    }
    Ok(())
}

/// The coordinator's page in the browser at each size of `sizes.indicators`: the
/// pact's records read for the figures, and every indicator recomputed (median of
/// `browser_runs`), from the app's own performance measures.
pub(super) fn browser_indicators(
    plan: &Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    let server = Server::start(plan, Kind::Paktum, scratch)?;
    let mut measured = Vec::new();
    for &(contacts, employers) in &sizes.indicators {
        let label = format!("{} contacts + {} employers", k(contacts), k(employers));
        println!("\n==> coordinator's page in the browser, {label}");
        let team = format!("pact-bench-{contacts}");
        let seeded = load(
            plan,
            scratch,
            &[
                "seed".into(),
                "--url".into(),
                server.ws_url(),
                "--team".into(),
                team.clone(),
                "--contacts".into(),
                contacts.to_string(),
                "--employers".into(),
                employers.to_string(),
                "--cache".into(),
                scratch.join("records").to_string_lossy().into_owned(),
            ],
        )?;
        println!("    {seeded}");
        let out = scratch.join(format!("browser-indicators-{contacts}.json"));
        let ran = run_bounded(
            plan.command("node")
                .arg("tests/bench/browser.mjs")
                .args(["--base", &server.http_url(), "--team", &team])
                .args(["--expect", &contacts.to_string()])
                .args(["--expect-docs", &(contacts + employers + 1).to_string()])
                .args(["--runs", &sizes.browser_runs.max(3).to_string()])
                .args(["--only", "indicators", "--json"])
                .arg(&out),
            "browser benchmarks (coordinator's page)",
            scratch,
        );
        match &ran {
            Ok(text) => print!("{text}"),
            Err(e) => {
                println!("    {e:#}");
                table.notes.push(format!(
                    "coordinator's page in the browser, {label}: {e:#}; the reason is in the bench's console output."
                ));
            }
        }
        let report: Option<Value> = std::fs::read_to_string(&out)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let value = |key: &str| {
            report.as_ref().and_then(|r| {
                r["rows"].as_array()?.iter().find(|row| row["key"] == key)?["value"].as_f64()
            })
        };
        let (read, recompute) = (value("pact_records"), value("indicators_recompute"));
        table.add(
            format!(
                "browser: coordinator's page, {label}: read the pact's records for the figures"
            ),
            "ms",
            [read, None],
        );
        table.add(
            format!("browser: coordinator's page, {label}: every indicator recomputed (median)"),
            "ms",
            [recompute, None],
        );
        if let Some(ms) = recompute {
            measured.push((contacts + employers, ms));
        }
    }
    drop(server);
    if let [(small, s), .., (large, l)] = measured[..] {
        table.notes.push(format!(
            "coordinator's page in the browser: {}x the records took {:.1}x the time to recompute every indicator (linear would be {}x). Recomputed by switching the grouping: the same pass a change of a record triggers, after reading only that record again.",
            large / small.max(1),
            l / s.max(f64::MIN_POSITIVE),
            large / small.max(1),
        ));
    }
    Ok(())
}
