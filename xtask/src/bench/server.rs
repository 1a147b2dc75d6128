//! The servers the bench measures, started on loopback ports with their own data
//! directories and stopped by process id, and the bounded runs of the load generator.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use paktum_launch::{Options, RelayProcess};
use serde_json::Value;

use crate::plan::Plan;

/// The longest any one load-generator or browser run may take.
const RUN_LIMIT: Duration = Duration::from_secs(900);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Paktum,
    Reference,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Paktum => "Paktum relay",
            Kind::Reference => "automerge-repo reference",
        }
    }
}

/// A server the bench started; stopped by its process id when dropped.
pub(super) struct Server {
    process: Option<Process>,
    data: PathBuf,
}

enum Process {
    /// Started by the one relay launcher, as the e2e relays and the crash test are.
    Paktum(RelayProcess),
    /// The reference listens on the port it is given; it is ready once that accepts.
    Reference { child: Child, port: u16 },
}

impl Server {
    pub(super) fn start(plan: &Plan, kind: Kind, scratch: &Path) -> Result<Self> {
        let data = scratch.join(format!("{kind:?}-{}", next_server()).to_lowercase());
        std::fs::create_dir_all(&data).context("creating a server data directory")?;
        let log = data.with_extension("log");
        let process = match kind {
            Kind::Paktum => Process::Paktum(RelayProcess::start(
                &plan.root.join("target/release/paktum-sync-server"),
                &data,
                Options {
                    open: true,
                    dist: Some(plan.root.join("dist")),
                    log: Some(log),
                    ..Options::default()
                },
            )?),
            Kind::Reference => start_reference(plan, &data, &log)?,
        };
        Ok(Self {
            process: Some(process),
            data,
        })
    }

    pub(super) fn http_url(&self) -> String {
        match &self.process {
            Some(Process::Paktum(relay)) => relay.http_url().to_string(),
            Some(Process::Reference { port, .. }) => format!("http://127.0.0.1:{port}"),
            None => String::new(),
        }
    }

    pub(super) fn ws_url(&self) -> String {
        format!("{}/sync", self.http_url().replacen("http://", "ws://", 1))
    }

    pub(super) fn pid(&self) -> u32 {
        match &self.process {
            Some(Process::Paktum(relay)) => relay.pid(),
            Some(Process::Reference { child, .. }) => child.id(),
            None => 0,
        }
    }

    /// Peak resident memory (MB) and CPU seconds used so far, from /proc.
    pub(super) fn usage(&self) -> Result<(f64, f64)> {
        let pid = self.pid();
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
        match self.process.take() {
            Some(Process::Paktum(relay)) => {
                let _ = relay.stop();
            }
            Some(Process::Reference { mut child, .. }) => {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(10);
                while !matches!(child.try_wait(), Ok(Some(_))) {
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            None => {}
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The reference sync server on a free port, its output in `log`.
fn start_reference(plan: &Plan, data: &Path, log: &Path) -> Result<Process> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::fs::File::create(log)?;
    let mut child = plan
        .command("node")
        .arg("tests/bench/reference/server.mjs")
        .args(["--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting the {}", Kind::Reference.name()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("the {} exited at start ({status})", Kind::Reference.name());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the {} did not listen within 30 s", Kind::Reference.name());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Readiness of the port is enough for the reference; give it its startup anyway.
    std::thread::sleep(Duration::from_millis(200));
    Ok(Process::Reference { child, port })
}

/// Numbers the servers of this run, for their data directories' names.
fn next_server() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub(super) fn bin(plan: &Plan, name: &str) -> String {
    plan.root
        .join("target/release")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs a command to its end within [`RUN_LIMIT`] (killed by pid after that) and
/// returns its stdout.
pub(super) fn run_bounded(cmd: &mut Command, what: &str, scratch: &Path) -> Result<String> {
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
pub(super) fn load(plan: &Plan, scratch: &Path, args: &[String]) -> Result<Value> {
    let what = format!("paktum-load {}", args.first().map_or("", String::as_str));
    let text = run_bounded(
        plan.command(&bin(plan, "paktum-load")).args(args),
        &what,
        scratch,
    )?;
    last_json_line(&text, &what)
}

/// The JSON object a measuring binary prints on its last non-empty line.
pub(super) fn last_json_line(text: &str, what: &str) -> Result<Value> {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow!("{what} printed nothing"))?;
    serde_json::from_str(line).with_context(|| format!("{what} printed {line}"))
}

/// A number from a load-generator result.
pub(super) fn num(v: &Value, key: &str) -> Result<f64> {
    v.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| anyhow!("no {key} in {v}"))
}
