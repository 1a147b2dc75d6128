//! The browser rows: the app in headless Chromium (`tests/bench/browser.mjs`) with the
//! browser peer beside it, then the encryption pairs, against one seeded relay.

use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use super::Sizes;
use super::report::{Table, k};
use super::scenario::{cache, strings};
use super::server::{Kind, Server, load, run_bounded};
use super::stats::Target;
use crate::plan::Plan;
use crate::tools;

pub(super) fn browser(
    plan: &mut Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
) -> Result<()> {
    let script = plan.root.join("tests/bench/browser.mjs");
    if !script.exists() || !plan.root.join("tests/bench/package-lock.json").exists() {
        let why = "tests/bench/browser.mjs (with its package-lock.json) is not there";
        table
            .notes
            .push(format!("browser benchmarks skipped: {why}."));
        return plan.skip("browser benchmarks", why);
    }
    tools::npm_install(plan, "tests/bench")?;
    // The browser peer (stock automerge-repo in the page) runs beside the app in the
    // full bench.
    if sizes.browser.0 >= 1_000 {
        tools::npm_install(plan, "tests/bench/peer")?;
    }
    tools::ensure_chromium(plan)?;
    // The main rows, then the encryption pairs (issue 16), then one first sync under a
    // Chromium trace (where its time goes, issue 18), against the same relay.
    let passes = [
        (None, "browser.json"),
        (Some("encryption"), "browser-encryption.json"),
        (Some("trace"), "browser-trace.json"),
    ];
    let large = at_size(plan, scratch, sizes, table, sizes.browser, &passes)?;
    // First sync at a tenth of the records beside it (issue 18): its cost should grow
    // linearly, for the app as for the peer. (In the quick bench, a smoke test.)
    let (contacts, employers) = sizes.browser;
    let small = (contacts / 10, employers / 10);
    let passes = [(Some("first-sync"), "browser-small.json")];
    let small_sync = at_size(plan, scratch, sizes, table, small, &passes)?;
    if let (Some(large), Some(small_sync)) = (large, small_sync) {
        let growth = |l: f64, s: f64| (s > 0.0).then(|| l / s);
        let peer = large.1.zip(small_sync.1).and_then(|(l, s)| growth(l, s));
        table.add(
            format!(
                "browser: first sync growth, {} ÷ {} contacts (10× the records; the reference: the peer's)",
                k(contacts),
                k(small.0)
            ),
            "×",
            [growth(large.0, small_sync.0), peer],
        );
    }
    Ok(())
}

/// Seeds a fresh relay with `contacts` + `employers` and runs browser.mjs once per
/// pass (`--only` and the report's file) against it; returns the first sync's median
/// and the peer's, where a pass measured them.
fn at_size(
    plan: &mut Plan,
    scratch: &Path,
    sizes: &Sizes,
    table: &mut Table,
    (contacts, employers): (usize, usize),
    passes: &[(Option<&str>, &str)],
) -> Result<Option<(f64, Option<f64>)>> {
    println!(
        "\n==> browser: seeding {} contacts + {} employers into the Paktum relay",
        k(contacts),
        k(employers)
    );
    let server = Server::start(plan, Kind::Paktum, scratch)?;
    let team = "browser-bench";
    let seeded = load(
        plan,
        scratch,
        &strings(&[
            "seed",
            "--url",
            &server.ws_url(),
            "--team",
            team,
            "--contacts",
            &contacts.to_string(),
            "--employers",
            &employers.to_string(),
            "--cache",
            &cache(scratch),
        ]),
    )?;
    println!("    {seeded}");
    let mut first_sync = None;
    for &(only, file) in passes {
        let out = scratch.join(file);
        let mut cmd = plan.command("node");
        cmd.arg("tests/bench/browser.mjs")
            .args(["--base", &server.http_url(), "--team", team])
            .args(["--expect", &contacts.to_string()])
            .args(["--expect-docs", &(contacts + employers + 1).to_string()])
            .args(["--runs", &sizes.browser_runs.to_string()])
            .args(["--notes", &sizes.browser_notes.to_string()])
            .arg("--json")
            .arg(&out);
        if let Some(only) = only {
            cmd.args(["--only", only]);
        }
        // The browser peer beside the first syncs and the main rows, in the full bench
        // (not in CI's quick one: it measures nothing at 300 records that the full run
        // does not).
        if contacts >= 1_000 && matches!(only, None | Some("first-sync")) {
            cmd.args(["--peer", "1"]);
        }
        println!(
            "\n==> browser benchmarks (headless Chromium){}",
            only.map(|o| format!(", --only {o}")).unwrap_or_default()
        );
        let ran = run_bounded(&mut cmd, "browser benchmarks", scratch);
        match &ran {
            Ok(text) => print!("{text}"),
            Err(e) => println!("    {e:#}"),
        }
        if let Err(e) = &ran {
            // Reported, not fatal: the relay figures stand on their own.
            table.notes.push(format!(
                "{e:#}; the reason is in the bench's console output."
            ));
        }
        first_sync = browser_rows(table, &out, contacts).or(first_sync);
    }
    drop(server);
    Ok(first_sync)
}

/// Adds the rows of one browser.mjs report to the table; returns its first sync
/// (median, and the peer's where it ran).
fn browser_rows(table: &mut Table, out: &Path, contacts: usize) -> Option<(f64, Option<f64>)> {
    let report: Option<Value> = std::fs::read_to_string(out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(report) = report else {
        table
            .notes
            .push("browser benchmarks wrote no report; their rows are missing.".into());
        return None;
    };
    let at_scale = contacts >= 10_000;
    let mut first_sync = None;
    for row in report["rows"].as_array().into_iter().flatten() {
        let name = row["name"].as_str().unwrap_or("?").to_string();
        let unit = row["unit"].as_str().unwrap_or("").to_string();
        let value = row["value"].as_f64();
        // The browser peer's figure for the same measure, when it ran.
        let peer = row["reference"].as_f64();
        if let (Some("first_sync"), Some(value)) = (row["key"].as_str(), value) {
            first_sync = Some((value, peer));
        }
        let target = browser_target(&name, &unit, at_scale, peer.is_some());
        table
            .add(
                format!("browser: {name}, {} contacts", k(contacts)),
                &unit,
                [value, peer],
            )
            .target = target;
    }
    let with_peer = report["rows"]
        .as_array()
        .is_some_and(|rows| rows.iter().any(|r| r["reference"].is_number()));
    if with_peer {
        table.notes.push(
        "browser rows: the reference column is the browser peer (tests/bench/peer: stock @automerge/automerge-repo 2.5 with its IndexedDB and WebSocket adapters, bundled by esbuild), run against the same relay and documents in the same Chromium, alternating run for run with the app. Its warm start counts until every record is loaded (the list could be drawn); the app's until the list shows its first rows.".into(),
    );
    }
    if report["complete"].as_bool() != Some(true) {
        table
            .notes
            .push("browser benchmarks did not complete; their rows are what they measured.".into());
    }
    first_sync
}

/// The targets for the browser rows (by the names browser.mjs gives them):
/// against the browser peer where it ran (first sync 10× faster, warm start 20×, save
/// p95 at most the peer's), else the absolute ones.
fn browser_target(name: &str, unit: &str, at_scale: bool, peer: bool) -> Option<Target> {
    if name.starts_with("first sync: Paktum's time ÷ the floor") {
        return Some(Target::AtMost(3.0));
    }
    if peer {
        if name.starts_with("first sync: all records") && at_scale {
            return Some(Target::RatioAtMost(0.1));
        }
        if name.starts_with("app start warm") && !name.contains("4x") && at_scale {
            return Some(Target::RatioAtMost(0.05));
        }
        if name.starts_with("note save") && name.contains("p95") {
            return Some(Target::RatioAtMost(1.0));
        }
    }
    let ms = |v: f64| match unit {
        "s" => v / 1000.0,
        _ => v,
    };
    if name.starts_with("first sync: all records") && at_scale {
        return Some(Target::AtMost(ms(10_000.0)));
    }
    if name.starts_with("app start warm") && at_scale {
        let limit = if name.contains("4x") {
            3_000.0
        } else {
            1_000.0
        };
        return Some(Target::AtMost(ms(limit)));
    }
    if name.starts_with("note save") && name.contains("p95") {
        return Some(Target::AtMost(ms(16.0)));
    }
    // Encryption at rest costs at most 1.3x (issue 16).
    if name.contains("encryption on / off") {
        return Some(Target::AtMost(1.3));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_rows_are_judged_against_the_peer_where_it_ran() {
        let sync = "first sync: all records stored and listed";
        assert_eq!(
            browser_target(sync, "s", true, true),
            Some(Target::RatioAtMost(0.1))
        );
        assert_eq!(
            browser_target(sync, "s", true, false),
            Some(Target::AtMost(10.0))
        );
        assert_eq!(browser_target(sync, "s", false, true), None);
        let warm = "app start warm (service worker, records stored)";
        assert_eq!(
            browser_target(warm, "ms", true, true),
            Some(Target::RatioAtMost(0.05))
        );
        assert_eq!(
            browser_target(&format!("{warm}, CPU 4x slower"), "ms", true, true),
            Some(Target::AtMost(3_000.0))
        );
        assert_eq!(
            browser_target(
                "first sync: Paktum's time ÷ the floor's (same run)",
                "×",
                false,
                true
            ),
            Some(Target::AtMost(3.0))
        );
        let save = "note save to IndexedDB commit p95 (30 saves)";
        assert_eq!(
            browser_target(save, "ms", false, true),
            Some(Target::RatioAtMost(1.0))
        );
        assert_eq!(
            browser_target(save, "ms", false, false),
            Some(Target::AtMost(16.0))
        );
    }
}
