//! `paktum-test-ca --dir DIR --name NAME…`: a throwaway CA (`ca.pem`) and a leaf for the
//! names (`cert.pem`, chain; `key.pem`) in DIR, for the relay's HTTPS in the browser
//! test (`tests/e2e/https.mjs`, started by `cargo xtask test`). Never for real use.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use paktum_tests::certs::TestCa;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    dir: PathBuf,
    /// DNS names of the leaf.
    #[arg(long = "name", required = true)]
    names: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let ca = TestCa::new()?;
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    ca.leaf(&names)?.install(&args.dir)?;
    let ca_file = args.dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).with_context(|| format!("writing {}", ca_file.display()))?;
    println!(
        "test CA {} and a leaf for {} in {}",
        ca_file.display(),
        args.names.join(", "),
        args.dir.display()
    );
    Ok(())
}
