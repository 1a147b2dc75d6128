//! The bench's report: the table of rows (figure, reference, ratio, target, met),
//! its numbers as people read them, and BENCHMARKS.md.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::stats::{Target, ratio};
use crate::plan::Plan;

/// One measure: Paktum's figure, the reference's (if it has one) and the target.
pub(super) struct Row {
    name: String,
    unit: String,
    paktum: Option<f64>,
    reference: Option<f64>,
    pub(super) target: Option<Target>,
}

#[derive(Default)]
pub(super) struct Table {
    rows: Vec<Row>,
    pub(super) notes: Vec<String>,
}

impl Table {
    pub(super) fn add(
        &mut self,
        name: impl Into<String>,
        unit: &str,
        values: [Option<f64>; 2],
    ) -> &mut Row {
        self.rows.push(Row {
            name: name.into(),
            unit: unit.into(),
            paktum: values[0],
            reference: values[1],
            target: None,
        });
        self.rows.last_mut().expect("just pushed")
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| measure | unit | Paktum | reference | Paktum/ref | target | met |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            let ratio = ratio(r.paktum, r.reference).map_or("—".into(), |x| format!("{x:.2}"));
            let (target, met) = match r.target {
                Some(t) => (describe(t, &r.unit), mark(t.met(r.paktum, r.reference))),
                None => ("—".into(), ""),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {ratio} | {target} | {met} |",
                r.name,
                r.unit,
                r.paktum.map_or("—".into(), fmt_value),
                r.reference.map_or("—".into(), fmt_value),
            );
        }
        out
    }
}

/// The target as the table states it.
fn describe(target: Target, unit: &str) -> String {
    match target {
        Target::RatioAtLeast(r) => format!("≥{r}× ref"),
        Target::RatioAtMost(r) => format!("≤{r}× ref"),
        Target::AtMost(v) => format!("≤{} {unit}", fmt_value(v)),
    }
}

/// The "met" column: a target not met stands out in bold; a missing figure is a dash.
fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "—",
    }
}

/// A figure with the precision its size deserves (three significant digits or so).
pub(super) fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        let s = format!("{v:.0}");
        // Thousands separators for readability.
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A count with thousands separators (1,000).
pub(super) fn k(n: usize) -> String {
    if n >= 1000 {
        fmt_value(n as f64)
    } else {
        n.to_string()
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{model}, {cores} cores, {mem_gib:.0} GiB RAM")
}

fn output_of(plan: &Plan, program: &str, args: &[&str]) -> String {
    plan.command(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Writes BENCHMARKS.md: the machine, the commit, the table and its notes.
pub(super) fn write_report(plan: &Plan, runs: usize, table: &Table) -> Result<()> {
    let commit = output_of(plan, "git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !output_of(
        plan,
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
    )
    .is_empty();
    let date = output_of(plan, "date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let node = output_of(plan, "node", &["--version"]);
    let rustc = output_of(plan, "rustc", &["--version"]);
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask bench` (do not edit by hand; rerun it). Paktum's relay and \
         the automerge-repo reference sync server (`tests/bench/reference/server.mjs`: \
         `@automerge/automerge-repo` 2.5 with its websocket server adapter and filesystem \
         storage) run the same workload from the same Rust load generator (`paktum-load`), \
         in the same run, each on a fresh loopback port and data directory. The dataset is \
         synthetic and deterministic (seed 1): contacts with names in Hungarian, Dutch, \
         French and German, 5–20 notes each and status histories; employers with 1–6 visits.\n"
    );
    let _ = writeln!(md, "- machine: {}", machine());
    let _ = writeln!(md, "- date: {date}");
    let _ = writeln!(
        md,
        "- commit: {commit}{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    let _ = writeln!(md, "- {rustc}; Node {node}");
    let _ = writeln!(
        md,
        "- runs: medians of {} per server; ratios are the figures that count on a shared machine\n",
        runs
    );
    md.push_str(&table.render());
    md.push('\n');
    for note in &table.notes {
        let _ = writeln!(md, "- {note}");
    }
    let _ = writeln!(
        md,
        "- the Paktum relay runs with `--insecure-open` and otherwise its defaults (its \
         per-connection rate limit, 5,000 messages/s, slows a faster device rather than closing it); \
         the reference runs as shipped (100 ms save and sync debouncing included).\n"
    );
    let _ = writeln!(md, "## Rerun\n");
    let _ = writeln!(
        md,
        "```sh\ncargo xtask bench          # full: this file (about 20 minutes on 2 cores)\n\
         cargo xtask bench --quick  # small sizes in under 2 minutes; prints, writes nothing\n```\n"
    );
    let _ = writeln!(
        md,
        "Pieces: `target/release/paktum-load --help` (seed, upload, pull, roundtrip, reconnect, \
         many), `node tests/bench/reference/server.mjs --port P --data-dir D`, \
         `node tests/bench/browser.mjs --base http://127.0.0.1:P --team T --expect N`."
    );
    std::fs::write(plan.root.join("BENCHMARKS.md"), md).context("writing BENCHMARKS.md")
}
#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of the table's row whose measure is `name`.
    fn cells(table: &Table, name: &str) -> Vec<String> {
        let rendered = table.render();
        let line = rendered
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name} in\n{rendered}"));
        line.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    }

    #[test]
    fn rows_meeting_their_targets_are_marked_met() {
        let mut table = Table::default();
        table
            .add("upload", "docs/s", [Some(900.0), Some(100.0)])
            .target = Some(Target::RatioAtLeast(5.0));
        table.add("rss", "MB", [Some(20.0), Some(100.0)]).target = Some(Target::RatioAtMost(0.25));
        table.add("bundle", "KB", [Some(449.0), None]).target = Some(Target::AtMost(450.0));
        assert_eq!(
            cells(&table, "upload"),
            ["upload", "docs/s", "900", "100", "9.00", "≥5× ref", "met"]
        );
        assert_eq!(
            cells(&table, "rss"),
            ["rss", "MB", "20.0", "100", "0.20", "≤0.25× ref", "met"]
        );
        assert_eq!(
            cells(&table, "bundle"),
            ["bundle", "KB", "449", "—", "—", "≤450 KB", "met"]
        );
    }

    #[test]
    fn rows_missing_their_targets_are_marked_not_met_in_bold() {
        let mut table = Table::default();
        table
            .add("pull", "docs/s", [Some(400.0), Some(100.0)])
            .target = Some(Target::RatioAtLeast(5.0));
        table.add("p99", "ms", [Some(51.0), None]).target = Some(Target::AtMost(50.0));
        assert_eq!(cells(&table, "pull")[6], "**not met**");
        assert_eq!(cells(&table, "p99")[6], "**not met**");
    }

    #[test]
    fn a_target_without_its_figures_is_a_dash_and_no_target_is_blank() {
        let mut table = Table::default();
        table.add("failed", "docs/s", [Some(400.0), None]).target = Some(Target::RatioAtLeast(5.0));
        table.add("plain", "ms", [Some(3.0), Some(0.0)]);
        assert_eq!(cells(&table, "failed")[5..], ["≥5× ref", "—"]);
        // A zero reference has no ratio; a row without a target has no mark.
        assert_eq!(cells(&table, "plain")[4..], ["—", "—", ""]);
    }

    #[test]
    fn figures_are_rounded_to_their_size_with_thousands_separators() {
        assert_eq!(fmt_value(1234567.4), "1,234,567");
        assert_eq!(fmt_value(-12345.0), "-12,345");
        assert_eq!(fmt_value(1000.0), "1,000");
        assert_eq!(fmt_value(999.6), "1000");
        assert_eq!(fmt_value(123.4), "123");
        assert_eq!(fmt_value(12.34), "12.3");
        assert_eq!(fmt_value(1.234), "1.23");
        assert_eq!(k(999), "999");
        assert_eq!(k(10_000), "10,000");
    }
}
