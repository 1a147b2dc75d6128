//! Paktum's relay binary started as its own process, the one way every caller does it:
//! `cargo xtask test` (the end-to-end relays), `cargo xtask bench` and the crash test
//! (`sync-server/tests/durability.rs`, which kills it with `SIGKILL`).
//!
//! The relay listens on `127.0.0.1:0`, so no port is picked in advance and none can be
//! taken meanwhile; it is ready when it prints the line with its address. With a log
//! file its output goes straight there and the line is looked for in the file; without
//! one its output is copied to ours through a pipe and the line is seen as it passes.
//! It keeps its store in the data directory the caller gives; it is stopped
//! (`SIGTERM`) or killed (`SIGKILL`) by process id, and killed when dropped. Tests that run the relay in-process use `paktum_tests::TestRelay`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long the relay may take to listen, and to stop after `SIGTERM`.
const PATIENCE: Duration = Duration::from_secs(30);

/// How to run the relay.
#[derive(Debug, Default)]
pub struct Options {
    /// `--insecure-open`: devices sync without tokens (development and sync tests).
    pub open: bool,
    /// The app directory it serves (`--dist`); the relay's default when `None`.
    pub dist: Option<PathBuf>,
    /// Where its output goes; echoed to ours when `None`.
    pub log: Option<PathBuf>,
    /// Extra environment, e.g. `RUST_LOG`.
    pub env: Vec<(String, String)>,
    /// HTTPS with this certificate chain and key (`--tls-cert`, `--tls-key`); its URLs
    /// are then `https://` and `wss://`.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running relay process.
#[derive(Debug)]
pub struct RelayProcess {
    child: Option<Child>,
    pid: u32,
    binary: PathBuf,
    data_dir: PathBuf,
    log: Option<PathBuf>,
    /// `http://127.0.0.1:PORT` (or `https://`), as the relay printed it.
    http: String,
}

impl RelayProcess {
    /// Starts `binary` on a free loopback port with its store in `data_dir` and
    /// returns once it listens; fails with its output if it exits or stays silent.
    pub fn start(binary: &Path, data_dir: &Path, options: Options) -> Result<Self> {
        let mut cmd = Command::new(binary);
        cmd.args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        if options.open {
            cmd.arg("--insecure-open");
        }
        if let Some(dist) = &options.dist {
            cmd.arg("--dist").arg(dist);
        }
        if let Some((cert, key)) = &options.tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
        let (mut child, address) = match &options.log {
            Some(path) => {
                // Straight into the file, as a relay runs in production: nothing of ours
                // sits between the relay and its output to slow it down.
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
                let append = || {
                    File::options()
                        .append(true)
                        .open(path)
                        .with_context(|| format!("opening {}", path.display()))
                };
                let child = cmd
                    .stdout(append()?)
                    .stderr(append()?)
                    .spawn()
                    .with_context(|| format!("starting {}", binary.display()))?;
                (child, None)
            }
            None => {
                let mut child = cmd
                    .stdout(Stdio::piped())
                    .spawn()
                    .with_context(|| format!("starting {}", binary.display()))?;
                let stdout = child.stdout.take().context("the relay's stdout")?;
                (child, Some(echo(stdout)))
            }
        };
        let mut relay = Self {
            pid: child.id(),
            child: None,
            binary: binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            log: options.log,
            http: String::new(),
        };
        let waited = match address {
            Some(address) => match address.recv_timeout(PATIENCE) {
                Ok(http) => Some(http),
                // Its stdout closed: it exited (reaped here, so its status is known).
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    None
                }
                Err(mpsc::RecvTimeoutError::Timeout) => None,
            },
            None => relay.address_in_log(&mut child),
        };
        let status = child.try_wait();
        relay.child = Some(child);
        match (waited, status) {
            (Some(http), _) => {
                relay.http = http;
                Ok(relay)
            }
            (None, Ok(Some(status))) => {
                bail!("the relay exited at start ({status}){}", relay.log_tail())
            }
            (None, _) => bail!(
                "the relay did not listen within {PATIENCE:?}{}",
                relay.log_tail()
            ),
        }
    }

    /// Waits for the address line in the log: the log is a plain file, so this looks
    /// again every 20 ms until the line is there, the relay has exited, or 30 s passed.
    fn address_in_log(&self, child: &mut Child) -> Option<String> {
        let path = self.log.as_ref()?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let printed = std::fs::read_to_string(path).unwrap_or_default();
            // Only whole lines: the relay may be in the middle of writing the address.
            let whole = printed.rfind('\n').map_or("", |i| &printed[..=i]);
            if let Some(http) = whole.lines().find_map(address_in) {
                return Some(http);
            }
            if !matches!(child.try_wait(), Ok(None)) || Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT`, or `https://…` with TLS (no trailing slash).
    pub fn http_url(&self) -> &str {
        &self.http
    }

    /// The sync endpoint, `ws://127.0.0.1:PORT/sync` (`wss://` with TLS).
    pub fn ws_url(&self) -> String {
        format!("{}/sync", self.http.replacen("http", "ws", 1))
    }

    /// The sync endpoint with a device token, as the app and JS clients send it.
    pub fn ws_url_with_token(&self, token: &str) -> String {
        format!("{}?token={token}", self.ws_url())
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether the process has ended, without waiting.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        match &mut self.child {
            Some(child) => child.try_wait(),
            None => Ok(None),
        }
    }

    /// Invites a member of `team` with the admin CLI on this relay's store; returns
    /// the one-time enrolment code.
    pub fn invite(&self, team: &str, name: &str) -> Result<String> {
        self.invite_as(team, name, "worker")
    }

    /// A one-time enrolment code for `name` in `team` with `role` (worker,
    /// coordinator, admin), through the admin CLI on this relay's data.
    pub fn invite_as(&self, team: &str, name: &str, role: &str) -> Result<String> {
        let printed = admin(
            &self.binary,
            &self.data_dir,
            &[
                "invite", "--team", team, "--name", name, "--role", role, "--url", &self.http,
            ],
        )?;
        enrolment_code(&printed)
            .with_context(|| format!("no enrolment code in the admin output: {printed}"))
    }

    /// The last lines of the relay's log, for failure messages (empty when its
    /// output is echoed instead).
    pub fn log_tail(&self) -> String {
        let Some(log) = self
            .log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            return String::new();
        };
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "; relay log:\n{}",
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }

    /// Graceful stop: `SIGTERM` by process id, so sessions save their state; `SIGKILL`
    /// if it has not ended within 30 s.
    pub fn stop(mut self) -> Result<ExitStatus> {
        let child = self.child.take().context("the relay was already stopped")?;
        signal("TERM", self.pid)?;
        let (done, ended) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut child = child;
            let status = child.wait();
            let _ = done.send(());
            status
        });
        if ended.recv_timeout(PATIENCE).is_err() {
            signal("KILL", self.pid)?;
        }
        waiter
            .join()
            .map_err(|_| anyhow::anyhow!("waiting for the relay panicked"))?
            .context("waiting for the relay to stop")
    }

    /// `SIGKILL`: no shutdown hook, no flush, no goodbye. Fails unless that is what
    /// ended it.
    pub fn kill(mut self) -> Result<()> {
        self.child
            .as_mut()
            .context("the relay was already stopped")?
            .kill()
            .context("sending SIGKILL")?;
        self.wait_killed()
    }

    /// Waits for the process to end (killed from elsewhere by its pid) and checks
    /// that `SIGKILL` is what ended it.
    pub fn wait_killed(mut self) -> Result<()> {
        let mut child = self.child.take().context("the relay was already stopped")?;
        let status = child.wait().context("waiting for the relay")?;
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if status.signal() != Some(9) {
                bail!("the relay ended with {status}, not by SIGKILL");
            }
        }
        Ok(())
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Copies the relay's stdout to ours for as long as it runs, in whole chunks (a relay
/// blocks while its stdout pipe is full, so copying must keep up); reports its address
/// once. If the relay exits first, the sender is dropped and `recv` fails.
fn echo(mut stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (found, address) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        let mut chunk = vec![0u8; 64 * 1024];
        // The output so far, until the address line is complete.
        let mut head = Vec::new();
        let mut out = std::io::stdout();
        loop {
            let n = match stdout.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let _ = out.write_all(&chunk[..n]);
            let _ = out.flush();
            if found.is_some() {
                head.extend_from_slice(&chunk[..n]);
                // Only whole lines: a chunk may end in the middle of the address.
                let whole = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                if let Some(http) = String::from_utf8_lossy(&head[..whole])
                    .lines()
                    .find_map(address_in)
                    && let Some(found) = found.take()
                {
                    let _ = found.send(http);
                    head = Vec::new();
                }
            }
        }
    });
    address
}

/// Runs `binary --data-dir DIR admin ARGS…` (the relay's admin CLI); its stdout.
pub fn admin(binary: &Path, data_dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(binary)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("admin")
        .args(args)
        .output()
        .with_context(|| format!("running admin {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "admin {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Sends a signal by process id with `kill(1)` (std can only send `SIGKILL`).
fn signal(name: &str, pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -{name} {pid} failed ({status})");
    }
    Ok(())
}

/// The relay's base URL from the line it prints once it listens:
/// "Paktum is running at http://127.0.0.1:PORT/ (sync at ws://…/sync). …" (https and
/// wss when it serves TLS itself).
fn address_in(line: &str) -> Option<String> {
    let rest = line.split("Paktum is running at ").nth(1)?;
    let url = rest.split_whitespace().next()?.trim_end_matches('/');
    (url.starts_with("http://") || url.starts_with("https://")).then(|| url.to_string())
}

/// The code from `admin invite`'s output ("enrolment code: CODE …").
/// The one-time code in `admin invite`'s output.
pub fn enrolment_code(printed: &str) -> Option<String> {
    printed
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_comes_from_the_line_the_relay_prints() {
        let line = "Paktum is running at http://127.0.0.1:41234/ (sync at ws://127.0.0.1:41234/sync). Press Ctrl-C to stop.\n";
        assert_eq!(address_in(line).as_deref(), Some("http://127.0.0.1:41234"));
        let tls = "Paktum is running at https://127.0.0.1:41235/ (sync at wss://127.0.0.1:41235/sync). Press Ctrl-C to stop.\n";
        assert_eq!(address_in(tls).as_deref(), Some("https://127.0.0.1:41235"));
        assert_eq!(
            address_in("2026-11-24 INFO Paktum relay listening addr=…"),
            None
        );
    }

    #[test]
    fn the_code_comes_from_the_invite_output() {
        let printed = "invited Ella (worker of enrolled)\nenrolment code: ABCD-EFGH-JK (expires in 72 h)\nlink: http://…\n";
        assert_eq!(enrolment_code(printed).as_deref(), Some("ABCD-EFGH-JK"));
        assert_eq!(enrolment_code("nothing here"), None);
    }

    /// Held by each test that writes and runs a script: a script written while another
    /// test forks can be held open by that fork's child and fail to start with "Text
    /// file busy".
    static SCRIPTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// A stand-in for the relay binary: a shell script with the relay's arguments.
    fn fake_relay(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake-relay");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make it executable");
        path
    }

    #[test]
    fn start_waits_for_the_address_and_stop_ends_the_process() -> Result<()> {
        let _one_at_a_time = SCRIPTS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir()?;
        let binary = fake_relay(
            dir.path(),
            r#"echo "starting with $*"
echo "a warning on stderr" >&2
echo "Paktum is running at http://127.0.0.1:5999/ (sync at ws://127.0.0.1:5999/sync)."
exec sleep 600"#,
        );
        let log = dir.path().join("relay.log");
        let relay = RelayProcess::start(
            &binary,
            dir.path(),
            Options {
                open: true,
                log: Some(log.clone()),
                ..Options::default()
            },
        )?;
        assert_eq!(relay.http_url(), "http://127.0.0.1:5999");
        assert_eq!(relay.ws_url(), "ws://127.0.0.1:5999/sync");
        assert_eq!(
            relay.ws_url_with_token("t0k"),
            "ws://127.0.0.1:5999/sync?token=t0k"
        );
        let status = relay.stop()?;
        assert!(!status.success(), "SIGTERM ended the process: {status}");
        let printed = std::fs::read_to_string(&log)?;
        assert!(
            printed.contains("--listen 127.0.0.1:0 --data-dir")
                && printed.contains("--insecure-open")
                && printed.contains("a warning on stderr")
                && printed.contains("Paktum is running at"),
            "stdout and stderr both in the log: {printed}"
        );
        Ok(())
    }

    #[test]
    fn a_relay_that_exits_at_start_is_an_error_with_its_output() -> Result<()> {
        let _one_at_a_time = SCRIPTS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir()?;
        let binary = fake_relay(dir.path(), "echo 'cannot open the store' >&2; exit 3");
        let err = RelayProcess::start(
            &binary,
            dir.path(),
            Options {
                log: Some(dir.path().join("relay.log")),
                ..Options::default()
            },
        )
        .expect_err("the relay exited");
        let message = format!("{err:#}");
        assert!(
            message.contains("exited at start") && message.contains("cannot open the store"),
            "{message}"
        );
        Ok(())
    }

    #[test]
    fn kill_is_sigkill() -> Result<()> {
        let _one_at_a_time = SCRIPTS.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir()?;
        let binary = fake_relay(
            dir.path(),
            "echo 'Paktum is running at http://127.0.0.1:5998/ (sync at …)'; exec sleep 600",
        );
        let relay = RelayProcess::start(&binary, dir.path(), Options::default())?;
        relay.kill()
    }
}
