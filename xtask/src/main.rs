//! `cargo xtask run | dist | test | bench`: everything a newcomer needs, in Rust.
//! `run` sets up the tools, builds the app and starts the relay on
//! http://127.0.0.1:8080; `test` runs every check CI runs.

mod bench;
mod build;
mod compress;
mod invariants;
mod locales;
mod plan;
mod postgres;
mod steps;
mod tools;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Paktum automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what is missing, build the app, start the relay with its embedded store.
    Run {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Where the relay keeps its SQLite store (delete it to reset all data).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Build what a server runs: the app into dist/ (with brotli and gzip copies) and
    /// the release relay, target/release/paktum-sync-server (used by deploy/Containerfile).
    Dist,
    /// Run COMMAND with a throwaway PostgreSQL cluster (Debian's postgresql, installed
    /// if missing) on a free loopback port, its URL in PAKTUM_TEST_POSTGRES, e.g.
    /// `cargo xtask with-postgres cargo test -p paktum-sync-server --lib storage`.
    WithPostgres {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// fmt, clippy, native tests, browser tests, interop, release build, end-to-end, bench --quick.
    Test,
    /// Paktum's relay against the automerge-repo reference, the browser, the bundle;
    /// writes BENCHMARKS.md.
    Bench {
        /// Small sizes in under two minutes: a smoke test that writes nothing.
        #[arg(long)]
        quick: bool,
        /// Only the bundle rows (the app as served, with English only, the floor):
        /// three release builds, no servers, BENCHMARKS.md left as it is.
        #[arg(long, conflicts_with = "quick")]
        bundle: bool,
        /// Only the PostgreSQL rows: upload, pull and round trip with 1 relay on SQLite,
        /// 1 on PostgreSQL and 2 on one PostgreSQL; BENCHMARKS.md left as it is.
        #[arg(long, conflicts_with_all = ["quick", "bundle"])]
        postgres: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut plan = plan::Plan::new()?;
    let result = match cli.command {
        Command::Run { listen, data_dir } => steps::run(&mut plan, &listen, &data_dir),
        Command::Dist => steps::dist(&mut plan),
        Command::WithPostgres { command } => steps::with_postgres(&mut plan, &command),
        Command::Test => steps::test(&mut plan),
        Command::Bench { bundle: true, .. } => bench::bundle(&mut plan),
        Command::Bench { postgres: true, .. } => bench::postgres(&mut plan),
        Command::Bench { quick, .. } => bench::bench(&mut plan, quick),
    };
    plan.summary();
    result
}
