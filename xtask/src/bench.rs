//! `cargo xtask bench [--quick]`: Paktum's relay measured side by side with the
//! automerge-repo reference sync server under the same load generator (`paktum-load`),
//! plus the browser benchmarks (`tests/bench/browser.mjs`) and the bundle sizes.
//! Servers run on loopback ports with their own data directories and are stopped by
//! process id, also on error. The full run writes BENCHMARKS.md; `--quick` is a
//! smoke test of the harness (small sizes, never fails on timings).

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::compress;
use crate::steps::{self, Plan};
use crate::tools;

/// The longest any one load-generator or browser run may take.
const RUN_LIMIT: Duration = Duration::from_secs(900);

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
    browser: (usize, usize),
    browser_runs: usize,
    browser_notes: usize,
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
            browser: (10_000, 1_000),
            browser_runs: 3,
            browser_notes: 30,
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
            browser: (300, 0),
            browser_runs: 1,
            browser_notes: 5,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Paktum,
    Reference,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Paktum => "Paktum relay",
            Kind::Reference => "automerge-repo reference",
        }
    }
}

/// A server the bench started; killed by its process id when dropped.
struct Server {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(plan: &Plan, kind: Kind, scratch: &Path) -> Result<Self> {
        let port = free_port()?;
        let data = scratch.join(format!("{kind:?}-{port}").to_lowercase());
        std::fs::create_dir_all(&data).context("creating a server data directory")?;
        let log = std::fs::File::create(data.with_extension("log"))?;
        let mut cmd = match kind {
            Kind::Paktum => {
                let mut cmd = plan.command(&bin(plan, "paktum-sync-server"));
                cmd.args(["--insecure-open", "--listen", &format!("127.0.0.1:{port}")])
                    .arg("--data-dir")
                    .arg(&data)
                    .args(["--dist", "dist"]);
                cmd
            }
            Kind::Reference => {
                let mut cmd = plan.command("node");
                cmd.arg("tests/bench/reference/server.mjs")
                    .args(["--port", &port.to_string()])
                    .arg("--data-dir")
                    .arg(&data);
                cmd
            }
        };
        let child = cmd
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting the {}", kind.name()))?;
        let mut server = Self { child, port, data };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("the {} exited at start ({status})", kind.name());
            }
            if Instant::now() > deadline {
                bail!("the {} did not listen within 30 s", kind.name());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Readiness of the port is enough for the reference; give it its startup anyway.
        server.wait_quiet();
        Ok(server)
    }

    fn wait_quiet(&mut self) {
        std::thread::sleep(Duration::from_millis(200));
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Peak resident memory (MB) and CPU seconds used so far, from /proc.
    fn usage(&self) -> Result<(f64, f64)> {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .context("reading the server's /proc status")?;
        let hwm_kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow!("no VmHWM in /proc/{pid}/status"))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .ok_or_else(|| anyhow!("unexpected /proc/{pid}/stat"))?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
        let ticks: f64 = fields
            .get(11)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            + fields
                .get(12)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
        Ok((hwm_kb / 1024.0, ticks / clock_ticks()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                let _ = std::fs::remove_dir_all(&self.data);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn bin(plan: &Plan, name: &str) -> String {
    plan.root
        .join("target/release")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs a command to its end within [`RUN_LIMIT`] (killed by pid after that) and
/// returns its stdout.
fn run_bounded(cmd: &mut Command, what: &str, scratch: &Path) -> Result<String> {
    let out_path = scratch.join(format!("out-{}.txt", std::process::id()));
    let out = std::fs::File::create(&out_path)?;
    let mut child = cmd
        .stdout(out)
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("{what}: could not start"))?;
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{what}: still running after {RUN_LIMIT:?}, stopped");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(text)
}

/// One `paktum-load` run; its last stdout line is a JSON object.
fn load(plan: &Plan, scratch: &Path, args: &[String]) -> Result<Value> {
    let what = format!("paktum-load {}", args.first().map_or("", String::as_str));
    let text = run_bounded(
        plan.command(&bin(plan, "paktum-load")).args(args),
        &what,
        scratch,
    )?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow!("{what} printed nothing"))?;
    serde_json::from_str(line).with_context(|| format!("{what} printed {line}"))
}

fn num(v: &Value, key: &str) -> Result<f64> {
    v.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| anyhow!("no {key} in {v}"))
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    Some(xs[xs.len() / 2])
}

/// What a row must show to be "met".
#[derive(Clone, Copy)]
enum Target {
    /// Paktum / reference at least this (higher is better).
    RatioAtLeast(f64),
    /// Paktum / reference at most this (lower is better).
    RatioAtMost(f64),
    /// Paktum's value at most this.
    AtMost(f64),
}

impl Target {
    fn describe(self, unit: &str) -> String {
        match self {
            Target::RatioAtLeast(r) => format!("≥{r}× ref"),
            Target::RatioAtMost(r) => format!("≤{r}× ref"),
            Target::AtMost(v) => format!("≤{} {unit}", fmt_value(v)),
        }
    }

    fn met(self, paktum: Option<f64>, reference: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtLeast(r) => Some(paktum? / reference? >= r),
            Target::RatioAtMost(r) => Some(paktum? / reference? <= r),
            Target::AtMost(v) => Some(paktum? <= v),
        }
    }
}

struct Row {
    name: String,
    unit: String,
    paktum: Option<f64>,
    reference: Option<f64>,
    target: Option<Target>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Table {
    fn add(&mut self, name: impl Into<String>, unit: &str, values: [Option<f64>; 2]) -> &mut Row {
        self.rows.push(Row {
            name: name.into(),
            unit: unit.into(),
            paktum: values[0],
            reference: values[1],
            target: None,
        });
        self.rows.last_mut().expect("just pushed")
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| measure | unit | Paktum | reference | Paktum/ref | target | met |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
        for r in &self.rows {
            let ratio = match (r.paktum, r.reference) {
                (Some(p), Some(q)) if q != 0.0 => format!("{:.2}", p / q),
                _ => "—".into(),
            };
            let (target, met) = match r.target {
                Some(t) => (
                    t.describe(&r.unit),
                    match t.met(r.paktum, r.reference) {
                        Some(true) => "met",
                        Some(false) => "**not met**",
                        None => "—",
                    },
                ),
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

fn fmt_value(v: f64) -> String {
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
fn k(n: usize) -> String {
    if n >= 1000 {
        fmt_value(n as f64)
    } else {
        n.to_string()
    }
}

pub fn bench(plan: &mut Plan, quick: bool) -> Result<()> {
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
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
    )?;
    tools::npm_install(plan, "tests/bench/reference")?;
    if quick {
        // Inside `cargo xtask test`, which has just built the app.
        ensure_dist(plan)?;
    } else {
        // The browser rows must measure this tree's app, not whatever dist/ holds.
        steps::build_tools(plan)?;
        steps::build_app(plan)?;
    }

    // One directory per run: `cargo xtask test` may run a quick bench meanwhile.
    let scratch = plan
        .root
        .join(format!("target/bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).context("creating target/bench")?;
    let mut table = Table::default();
    let started = Instant::now();

    relay_throughput(plan, &scratch, &sizes, &mut table)?;
    reconnect(plan, &scratch, &sizes, &mut table)?;
    many_devices(plan, &scratch, &sizes, &mut table)?;
    bundle(plan, &mut table)?;
    if !quick {
        bundle_floor(plan, &scratch, &mut table)?;
    }
    browser(plan, &scratch, &sizes, &mut table)?;

    // The same note from repeated runs (a reference failing every time) is said once.
    let mut seen = std::collections::HashSet::new();
    table.notes.retain(|n| seen.insert(n.clone()));
    let rendered = table.render();
    println!("\n{rendered}");
    for note in &table.notes {
        println!("note: {note}");
    }
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
    if quick {
        println!(
            "(--quick: small sizes, a smoke test of the harness; BENCHMARKS.md left as it is)"
        );
    } else {
        write_report(plan, &sizes, &table)?;
        println!("wrote BENCHMARKS.md");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
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
    if has("wasm") && plan.root.join("dist/index.html").exists() {
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
    if !has("wasm") {
        steps::build_tools(plan)?;
        steps::build_app(plan)?;
    }
    Ok(())
}

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

fn relay_throughput(plan: &Plan, scratch: &Path, sizes: &Sizes, table: &mut Table) -> Result<()> {
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
                    &strings(&[
                        "upload",
                        "--url",
                        &url,
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
                    ]),
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
fn cache(scratch: &Path) -> String {
    scratch.join("records").to_string_lossy().into_owned()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(ToString::to_string).collect()
}

fn reconnect(plan: &Plan, scratch: &Path, sizes: &Sizes, table: &mut Table) -> Result<()> {
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

fn many_devices(plan: &Plan, scratch: &Path, sizes: &Sizes, table: &mut Table) -> Result<()> {
    let mut runs: [Vec<[f64; 3]>; 2] = [Vec::new(), Vec::new()];
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
            runs[slot].push([rss, num(&v, "p50_ms")?, num(&v, "p99_ms")?]);
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
    Ok(())
}

fn bundle(plan: &Plan, table: &mut Table) -> Result<()> {
    println!("\n==> bundle sizes (dist/)");
    let mut total = [0usize; 3];
    let mut files: Vec<PathBuf> = std::fs::read_dir(plan.root.join("dist"))
        .context("reading dist/")?
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
        println!("    {name}: {raw} raw, {gz} gzip, {br} brotli");
        for (t, v) in total.iter_mut().zip(sizes) {
            *t += v;
        }
        size_row(table, &format!("bundle {name}"), sizes);
    }
    size_row(table, "bundle total (wasm + js + css)", total).target = Some(Target::AtMost(450.0));
    Ok(())
}

/// A row of sizes in bytes `[raw, gzip, brotli]`: gzip is the value (the target's
/// measure), raw and brotli go in its name.
fn size_row<'t>(table: &'t mut Table, what: &str, [raw, gz, br]: [usize; 3]) -> &'t mut Row {
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
fn bundle_floor(plan: &mut Plan, scratch: &Path, table: &mut Table) -> Result<()> {
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

fn browser(plan: &mut Plan, scratch: &Path, sizes: &Sizes, table: &mut Table) -> Result<()> {
    let script = plan.root.join("tests/bench/browser.mjs");
    if !script.exists() || !plan.root.join("tests/bench/package-lock.json").exists() {
        let note = "browser benchmarks skipped: tests/bench/browser.mjs (with its package-lock.json) is not there yet.";
        println!("\n==> {note}");
        table.notes.push(note.into());
        return Ok(());
    }
    tools::npm_install(plan, "tests/bench")?;
    tools::ensure_chromium(plan)?;
    let (contacts, employers) = sizes.browser;
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
    let out = scratch.join("browser.json");
    let mut cmd = plan.command("node");
    cmd.arg("tests/bench/browser.mjs")
        .args(["--base", &server.http_url(), "--team", team])
        .args(["--expect", &contacts.to_string()])
        .args(["--expect-docs", &(contacts + employers + 1).to_string()])
        .args(["--runs", &sizes.browser_runs.to_string()])
        .args(["--notes", &sizes.browser_notes.to_string()])
        .arg("--json")
        .arg(&out);
    println!("\n==> browser benchmarks (headless Chromium)");
    let ran = run_bounded(&mut cmd, "browser benchmarks", scratch);
    drop(server);
    match &ran {
        Ok(text) => print!("{text}"),
        Err(e) => println!("    {e:#}"),
    }
    let report: Option<Value> = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if let Err(e) = &ran {
        // Reported, not fatal: the relay figures stand on their own.
        table.notes.push(format!(
            "{e:#}; the reason is in the bench's console output."
        ));
    }
    let Some(report) = report else {
        table
            .notes
            .push("browser benchmarks wrote no report; their rows are missing.".into());
        return Ok(());
    };
    let at_scale = contacts >= 10_000;
    for row in report["rows"].as_array().into_iter().flatten() {
        let name = row["name"].as_str().unwrap_or("?").to_string();
        let unit = row["unit"].as_str().unwrap_or("").to_string();
        let value = row["value"].as_f64();
        let target = browser_target(&name, &unit, at_scale);
        table
            .add(
                format!("browser: {name}, {} contacts", k(contacts)),
                &unit,
                [value, None],
            )
            .target = target;
    }
    if report["complete"].as_bool() != Some(true) {
        table
            .notes
            .push("browser benchmarks did not complete; their rows are what they measured.".into());
    }
    Ok(())
}

/// The issue's targets for the browser rows (by the names browser.mjs gives them).
fn browser_target(name: &str, unit: &str, at_scale: bool) -> Option<Target> {
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
    None
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

fn write_report(plan: &Plan, sizes: &Sizes, table: &Table) -> Result<()> {
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
        sizes.repeats
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
