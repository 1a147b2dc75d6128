//! The steps of `run` and `test`, each timed and named so a failure says which
//! step broke and the summary shows where the time went.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::plan::Plan;
use crate::tools;

pub(crate) fn build_tools(plan: &mut Plan) -> Result<()> {
    tools::ensure_wasm_target(plan)?;
    tools::ensure_wasm_opt(plan)?;
    tools::ensure_wasm_bindgen(plan)?;
    tools::ensure_trunk(plan)
}

pub(crate) fn build_app(plan: &mut Plan) -> Result<()> {
    plan.step(
        "build the app (trunk build --release)",
        plan.command("trunk").args(["build", "--release"]),
    )?;
    // The relay serves these to browsers that accept them: a phone downloads the
    // brotli copy of the wasm, about a third of its size.
    let start = Instant::now();
    let (raw, br) = crate::compress::precompress(&plan.root.join("dist"))
        .context("compressing the built app")?;
    println!(
        "compressed the app for serving: {} KB -> {} KB brotli",
        raw / 1000,
        br / 1000
    );
    plan.record("compress the app (brotli, gzip)", start.elapsed());
    Ok(())
}

pub fn run(plan: &mut Plan, listen: &str, data_dir: &Path) -> Result<()> {
    build_tools(plan)?;
    build_app(plan)?;
    plan.step(
        "build the relay",
        plan.command("cargo")
            .args(["build", "--release", "-p", "paktum-sync-server"]),
    )?;
    plan.summary();
    println!(
        "\nStarting Paktum at http://{listen}/ with its store in {}",
        data_dir.display()
    );
    let mut relay = plan.command(
        &plan
            .root
            .join("target/release/paktum-sync-server")
            .to_string_lossy(),
    );
    println!("Development mode: devices sync without enrolment (--insecure-open). For real data,");
    println!("run the relay without it and enrol devices with `paktum-sync-server admin invite`.");
    // Open until the app's enrolment screen lands (ARCHITECTURE.md, "Trust model").
    relay
        .args([
            "--listen",
            listen,
            "--dist",
            "dist",
            "--insecure-open",
            "--data-dir",
        ])
        .arg(data_dir);
    let status = relay.status().context("starting the relay")?;
    if !status.success() {
        bail!("the relay stopped with {status}");
    }
    Ok(())
}

pub fn test(plan: &mut Plan) -> Result<()> {
    build_tools(plan)?;
    tools::ensure_chromium(plan)?;
    tools::npm_install(plan, "tests/interop")?;
    let e2e = plan.root.join("tests/e2e/package-lock.json").exists();
    if e2e {
        tools::npm_install(plan, "tests/e2e")?;
    }
    let native = [
        "-p",
        "paktum-shared",
        "-p",
        "paktum-sync-server",
        "-p",
        "paktum-tests",
        "-p",
        "xtask",
    ];
    plan.step(
        "format check",
        plan.command("cargo")
            .args(["fmt", "--all", "--", "--check"]),
    )?;
    let wasm = ["--target", "wasm32-unknown-unknown"];
    clippy(
        plan,
        "clippy (native)",
        &[&native[..], &["--all-targets"]].concat(),
    )?;
    clippy(
        plan,
        "clippy (shared and the bundle floor on wasm)",
        &[
            &[
                "-p",
                "paktum-shared",
                "--lib",
                "--test",
                "wasm",
                "-p",
                "paktum-bundle-floor",
            ][..],
            &wasm[..],
        ]
        .concat(),
    )?;
    clippy(
        plan,
        "clippy (app on wasm)",
        &[&["-p", "paktum-app", "--all-targets"], &wasm[..]].concat(),
    )?;
    plan.step(
        "native tests (model, relay, interop)",
        plan.command("cargo").arg("test").args(native),
    )?;
    plan.step(
        "browser tests: shared (headless Chromium)",
        plan.command("cargo").args([
            "test",
            "-p",
            "paktum-shared",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "wasm",
        ]),
    )?;
    plan.step(
        "browser tests: app store and sync (headless Chromium)",
        plan.command("cargo").args([
            "test",
            "-p",
            "paktum-app",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    build_app(plan)?;
    plan.step(
        "build the relay",
        plan.command("cargo")
            .args(["build", "-p", "paktum-sync-server"]),
    )?;
    let relay = Relay::start(plan, false)?;
    // A second relay as in production (device tokens), with one invited member.
    let secure = Relay::start(plan, true)?;
    let code = secure.invite(plan, "Ella")?;
    let interop = plan.step(
        "interop against the running relay",
        plan.command("cargo")
            .args(["test", "-p", "paktum-tests", "--test", "interop"])
            .env("PAKTUM_RELAY_URL", relay.ws_url()),
    );
    let e2e_result = match (&interop, e2e) {
        (Ok(()), true) => plan.step(
            "end-to-end in the browser (Playwright)",
            plan.command("node")
                .arg("tests/e2e/run.mjs")
                // --dist: the relay serves ./dist, so the update-offer scenario runs too.
                .args([
                    "--base",
                    &relay.http_url(),
                    "--dist",
                    "dist",
                    "--artifacts",
                    "tests/artifacts",
                    "--secure-base",
                    &secure.http_url(),
                    "--code",
                    &code,
                ]),
        ),
        _ => Ok(()),
    };
    relay.stop();
    secure.stop();
    interop?;
    e2e_result?;
    // Last: the benchmark harness at small sizes (a smoke test; never fails on timings).
    crate::bench::bench(plan, true)
}

/// Clippy over `scope` with every warning an error.
fn clippy(plan: &mut Plan, name: &str, scope: &[&str]) -> Result<()> {
    plan.step(
        name,
        plan.command("cargo")
            .arg("clippy")
            .args(scope)
            .args(["--", "-D", "warnings"]),
    )
}

/// The debug relay on a free loopback port with a throwaway store, for e2e steps.
/// Open (no tokens: the scenarios set devices up by name and team) or secure (as in
/// production, with the team "enrolled" made by the admin CLI).
struct Relay {
    child: Child,
    port: u16,
    data: TempDir,
}

const E2E_TEAM: &str = "enrolled";

fn relay_binary(plan: &Plan) -> String {
    plan.root
        .join("target/debug/paktum-sync-server")
        .to_string_lossy()
        .into_owned()
}

impl Relay {
    fn start(plan: &Plan, secure: bool) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let data = TempDir::new(
            &plan.root.join("target/e2e-data"),
            if secure { "secure" } else { "open" },
        )?;
        if secure {
            let status = plan
                .command(&relay_binary(plan))
                .arg("--data-dir")
                .arg(&data.0)
                .args(["admin", "create-team", "--pact", "e2e", "--team", E2E_TEAM])
                .status()
                .context("creating the e2e team")?;
            if !status.success() {
                bail!("admin create-team failed ({status})");
            }
        }
        let mut cmd = plan.command(&relay_binary(plan));
        cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--dist", "dist"]);
        if !secure {
            cmd.arg("--insecure-open");
        }
        let child = cmd
            .arg("--data-dir")
            .arg(&data.0)
            .spawn()
            .context("starting the relay")?;
        let relay = Self { child, port, data };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("the relay did not start listening within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(relay)
    }

    /// Invites a worker of the e2e team through the admin CLI; returns the code.
    fn invite(&self, plan: &Plan, name: &str) -> Result<String> {
        let out = plan
            .command(&relay_binary(plan))
            .arg("--data-dir")
            .arg(&self.data.0)
            .args(["admin", "invite", "--team", E2E_TEAM, "--name", name])
            .args(["--url", &self.http_url()])
            .output()
            .context("running admin invite")?;
        let printed = String::from_utf8_lossy(&out.stdout);
        printed
            .lines()
            .find_map(|l| l.strip_prefix("enrolment code: "))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .with_context(|| format!("no enrolment code in the admin output: {printed}"))
    }

    fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }

    /// SIGTERM by process id (graceful), then reap it.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(base: &Path, tag: &str) -> Result<Self> {
        let dir = base.join(format!("run-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).context("creating a data directory for the e2e relay")?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
