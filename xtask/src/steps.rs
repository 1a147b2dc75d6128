//! `run`, `dist` and `test`: their steps in order, each timed and named (see `plan`) so a
//! failure says which step broke and the summary shows where the time went.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use paktum_launch::{Options, RelayProcess};

use crate::plan::Plan;
use crate::{build, tools};

pub fn run(plan: &mut Plan, listen: &str, data_dir: &Path) -> Result<()> {
    build::tools(plan)?;
    build::app(plan)?;
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

pub fn dist(plan: &mut Plan) -> Result<()> {
    build::tools(plan)?;
    build::app(plan)?;
    plan.step(
        "build the relay",
        plan.command("cargo")
            .args(["build", "--release", "-p", "paktum-sync-server"]),
    )
}

pub fn with_postgres(plan: &mut Plan, command: &[String]) -> Result<()> {
    let (program, args) = command.split_first().context("no command given")?;
    let postgres = crate::postgres::Cluster::start(plan)?;
    println!("PAKTUM_TEST_POSTGRES={}", postgres.url());
    plan.step(
        &command.join(" "),
        plan.command(program)
            .args(args)
            .env("PAKTUM_TEST_POSTGRES", postgres.url()),
    )
}

pub fn test(plan: &mut Plan) -> Result<()> {
    build::tools(plan)?;
    tools::ensure_chromium(plan)?;
    tools::npm_install(plan, "tests/interop")?;
    let e2e = plan.root.join("tests/e2e/package-lock.json").exists();
    if e2e {
        tools::npm_install(plan, "tests/e2e")?;
    } else {
        plan.skip(
            "end-to-end in the browser",
            "tests/e2e/package-lock.json is missing (run `npm install` in tests/e2e and commit it)",
        )?;
    }
    let native = [
        "-p",
        "paktum-shared",
        "-p",
        "paktum-sync-server",
        "-p",
        "paktum-tests",
        "-p",
        "paktum-launch",
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
    // The storage suite runs against PostgreSQL too (sync-server/src/storage/suite.rs).
    let postgres = crate::postgres::Cluster::start(plan)?;
    plan.step(
        "native tests (model, relay, interop; storage and directory on SQLite and PostgreSQL, two relays on one database)",
        plan.command("cargo")
            .arg("test")
            .args(native)
            .env("PAKTUM_TEST_POSTGRES", postgres.url()),
    )?;
    // One access suite, two backends: again with documents and directory in
    // PostgreSQL. Not the unknown-documents scaling test: it measures the hub's
    // bookkeeping, and costs 85 s there (one round trip per unknown document).
    plan.step(
        "access tests on PostgreSQL",
        plan.command("cargo")
            .arg("test")
            .args(native)
            .args(["--test", "access", "--", "--skip", "many_unknown_documents"])
            .env("PAKTUM_TEST_POSTGRES", postgres.url())
            .env("PAKTUM_TEST_BACKEND", "postgres"),
    )?;
    // And with the devices spread over two relays on one database (every other device
    // of the `pact()` fixture on the second): the rules hold across relays.
    plan.step(
        "access tests on two relays (PostgreSQL)",
        plan.command("cargo")
            .arg("test")
            .args(native)
            .args(["--test", "access", "--", "--skip", "many_unknown_documents"])
            .env("PAKTUM_TEST_POSTGRES", postgres.url())
            .env("PAKTUM_TEST_BACKEND", "postgres-2"),
    )?;
    drop(postgres);
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
    build::app(plan)?;
    plan.step(
        "build the relay (and the test CA tool)",
        plan.command("cargo").args([
            "build",
            "-p",
            "paktum-sync-server",
            "--bin",
            "paktum-sync-server",
            "-p",
            "paktum-tests",
            "--bin",
            "paktum-test-ca",
        ]),
    )?;
    let relay = E2eRelay::start(plan, Mode::Open)?;
    // A second relay as in production (device tokens), with one invited member.
    let secure = E2eRelay::start(plan, Mode::Secure)?;
    // A third serving HTTPS itself with a certificate for pact.example from a test CA.
    let https = E2eRelay::start(plan, Mode::Https)?;
    let code = secure.process.invite(E2E_TEAM, "Ella")?;
    let interop = plan.step(
        "interop against the running relay",
        plan.command("cargo")
            .args(["test", "-p", "paktum-tests", "--test", "interop"])
            .env("PAKTUM_RELAY_URL", relay.process.ws_url()),
    );
    let e2e_result = match (&interop, e2e) {
        (Ok(()), true) => plan.step(
            "end-to-end in the browser (Playwright)",
            plan.command("node")
                .arg("tests/e2e/run.mjs")
                // --dist: the relay serves ./dist, so the update-offer scenario runs too.
                .args([
                    "--base",
                    relay.process.http_url(),
                    "--dist",
                    "dist",
                    "--artifacts",
                    "tests/artifacts",
                    "--secure-base",
                    secure.process.http_url(),
                    "--code",
                    &code,
                ]),
        ),
        _ => Ok(()),
    };
    let https_result = match (&interop, e2e) {
        (Ok(()), true) => https.browser_test(plan),
        _ => Ok(()),
    };
    relay.stop();
    secure.stop();
    https.stop();
    interop?;
    e2e_result?;
    https_result?;
    if e2e {
        erasure_in_browsers(plan)?;
        duplicates_in_browsers(plan)?;
        wipe_in_browsers(plan)?;
        pact_in_browsers(plan)?;
    }
    // Last: the benchmark harness at small sizes (a smoke test; never fails on timings).
    crate::bench::bench(plan, true)
}

/// The browser grep test of an erasure (`tests/e2e/erasure.mjs`): its own relay with
/// device tokens (two workers and two coordinators invited: one erases in the app, one
/// asks for the receipt), and its own browsers, one persistent Chromium profile on disk
/// per device under `target/e2e-profiles`.
fn erasure_in_browsers(plan: &mut Plan) -> Result<()> {
    let relay = E2eRelay::start(plan, Mode::Secure)?;
    let data = relay.process.data_dir().to_path_buf();
    let http = relay.process.http_url().to_string();
    let invite = |name: &str, role: &str| relay.process.invite_as(E2E_TEAM, name, role);
    let codes = format!(
        "{},{},{}",
        invite("Wim", "worker")?,
        invite("Zoe", "worker")?,
        invite("Cleo", "coordinator")?
    );
    let coordinator = invite("Cora", "coordinator")?;
    let result = plan.step(
        "end-to-end: an erasure leaves nothing in the browser profiles (Playwright)",
        plan.command("node")
            .arg("tests/e2e/erasure.mjs")
            .args([
                "--base",
                &http,
                "--codes",
                &codes,
                "--coordinator-code",
                &coordinator,
                "--artifacts",
                "tests/artifacts",
            ])
            .arg("--data-dir")
            .arg(&data),
    );
    relay.stop();
    result
}

/// Duplicates suggested and merged in the browser (`tests/e2e/duplicates.mjs`): its own
/// relay with device tokens, a worker and a coordinator invited to one team.
fn duplicates_in_browsers(plan: &mut Plan) -> Result<()> {
    let relay = E2eRelay::start(plan, Mode::Secure)?;
    let http = relay.process.http_url().to_string();
    let invite = |name: &str, role: &str| relay.process.invite_as(E2E_TEAM, name, role);
    let codes = format!(
        "{},{}",
        invite("Wim", "worker")?,
        invite("Cleo", "coordinator")?
    );
    let result = plan.step(
        "end-to-end: duplicates suggested and merged (Playwright)",
        plan.command("node").arg("tests/e2e/duplicates.mjs").args([
            "--base",
            &http,
            "--codes",
            &codes,
            "--artifacts",
            "tests/artifacts",
        ]),
    );
    relay.stop();
    result
}

/// Remote wipe in the browser (`tests/e2e/wipe.mjs`): its own relay with device
/// tokens and one invited worker; the script withdraws the device with the admin CLI.
fn wipe_in_browsers(plan: &mut Plan) -> Result<()> {
    let relay = E2eRelay::start(plan, Mode::Secure)?;
    let binary = plan.root.join("target/debug/paktum-sync-server");
    let data = relay.process.data_dir().to_path_buf();
    let http = relay.process.http_url().to_string();
    let printed = paktum_launch::admin(
        &binary,
        &data,
        &[
            "invite", "--team", E2E_TEAM, "--name", "Wim", "--role", "worker", "--url", &http,
        ],
    )?;
    let code = paktum_launch::enrolment_code(&printed)
        .with_context(|| format!("no enrolment code in the admin output: {printed}"))?;
    let result = plan.step(
        "end-to-end: a device withdrawn with a wipe hands in, empties its store and says why (Playwright)",
        plan.command("node")
            .arg("tests/e2e/wipe.mjs")
            .args(["--base", &http, "--code", &code, "--artifacts", "tests/artifacts"])
            .arg("--binary")
            .arg(&binary)
            .arg("--data-dir")
            .arg(&data),
    );
    relay.stop();
    result
}

/// The coordinator's screens (`tests/e2e/pact.mjs`): its own relay with device tokens,
/// a second team in the same pact, a worker in each team and a coordinator.
fn pact_in_browsers(plan: &mut Plan) -> Result<()> {
    const SECOND_TEAM: &str = "west";
    let relay = E2eRelay::start(plan, Mode::Secure)?;
    let binary = plan.root.join("target/debug/paktum-sync-server");
    let data = relay.process.data_dir().to_path_buf();
    let http = relay.process.http_url().to_string();
    paktum_launch::admin(
        &binary,
        &data,
        &["create-team", "--pact", "e2e", "--team", SECOND_TEAM],
    )
    .context("creating the second e2e team")?;
    let invite = |team: &str, name: &str, role: &str| relay.process.invite_as(team, name, role);
    let codes = format!(
        "{},{},{}",
        invite(E2E_TEAM, "Wim", "worker")?,
        invite(SECOND_TEAM, "Zoe", "worker")?,
        invite(E2E_TEAM, "Cleo", "coordinator")?
    );
    let result = plan.step(
        "end-to-end: the coordinator's screens (Playwright)",
        plan.command("node").arg("tests/e2e/pact.mjs").args([
            "--base",
            &http,
            "--codes",
            &codes,
            "--teams",
            &format!("{E2E_TEAM},{SECOND_TEAM}"),
            "--artifacts",
            "tests/artifacts",
        ]),
    );
    relay.stop();
    result
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

/// The debug relay with a throwaway store, for the interop and end-to-end steps. Open
/// (no tokens: the scenarios set devices up by name and team), secure (as in
/// production, with the team "enrolled" made by the admin CLI) or open over HTTPS
/// (its own TLS, a leaf for [`HTTPS_NAME`] from a throwaway CA in its directory).
struct E2eRelay {
    // Declared first so it is stopped before its data directory goes.
    process: RelayProcess,
    data: TempDir,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Open,
    Secure,
    Https,
}

const E2E_TEAM: &str = "enrolled";
/// The name the HTTPS browser test gives the relay (Chromium maps it to 127.0.0.1).
const HTTPS_NAME: &str = "pact.example";

impl E2eRelay {
    fn start(plan: &Plan, mode: Mode) -> Result<Self> {
        let binary = plan.root.join("target/debug/paktum-sync-server");
        let tag = match mode {
            Mode::Open => "open",
            Mode::Secure => "secure",
            Mode::Https => "https",
        };
        let data = TempDir::new(&plan.root.join("target/e2e-data"), tag)?;
        if mode == Mode::Secure {
            paktum_launch::admin(
                &binary,
                &data.0,
                &["create-team", "--pact", "e2e", "--team", E2E_TEAM],
            )
            .context("creating the e2e team")?;
        }
        let tls = if mode == Mode::Https {
            let certs = data.0.join("tls");
            let made = plan
                .command(
                    &plan
                        .root
                        .join("target/debug/paktum-test-ca")
                        .to_string_lossy(),
                )
                .arg("--dir")
                .arg(&certs)
                .args(["--name", HTTPS_NAME])
                .status()
                .context("running paktum-test-ca")?;
            if !made.success() {
                bail!("paktum-test-ca failed ({made})");
            }
            Some((certs.join("cert.pem"), certs.join("key.pem")))
        } else {
            None
        };
        let process = RelayProcess::start(
            &binary,
            &data.0,
            Options {
                open: mode != Mode::Secure,
                dist: Some(plan.root.join("dist")),
                tls,
                ..Options::default()
            },
        )?;
        Ok(Self { process, data })
    }

    /// `tests/e2e/https.mjs` against this relay, by name instead of 127.0.0.1.
    fn browser_test(&self, plan: &mut Plan) -> Result<()> {
        let port = self
            .process
            .http_url()
            .rsplit(':')
            .next()
            .context("the relay's port")?
            .to_string();
        plan.step(
            "the app over HTTPS in the browser (Playwright)",
            plan.command("node")
                .arg("tests/e2e/https.mjs")
                .args(["--base", &format!("https://{HTTPS_NAME}:{port}")])
                .arg("--ca")
                .arg(self.data.0.join("tls/ca.pem"))
                .args(["--artifacts", "tests/artifacts"]),
        )
    }

    /// SIGTERM by process id (graceful); a relay that does not stop is only reported.
    fn stop(self) {
        if let Err(e) = self.process.stop() {
            println!("warning: stopping the e2e relay: {e:#}");
        }
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
