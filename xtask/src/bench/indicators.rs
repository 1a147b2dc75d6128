//! The coordinator's figures at scale, measured natively by `paktum-indicators`:
//! reading every record into plain values, and computing the dashboard (the year per
//! team, the whole pact, the twelve months), which a coordinator's screen redoes
//! after a change. Two sizes side by side, so the growth shows.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use super::Sizes;
use super::report::{Table, k};
use super::server::{bin, num, run_bounded};
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
        let line = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .ok_or_else(|| anyhow!("paktum-indicators printed nothing"))?;
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("paktum-indicators printed {line}"))?;
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
