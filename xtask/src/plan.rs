//! The plan of one `cargo xtask` command: the workspace root, the PATH our tools
//! run with, and the named, timed steps that a failure names and the summary lists.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct Plan {
    pub root: PathBuf,
    path: OsString,
    done: Vec<(String, Duration)>,
    skipped: Vec<String>,
    /// Under CI a skipped step is a failure: nothing may pass by not running.
    ci: bool,
}

impl Plan {
    pub fn new() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask lives in the workspace")?
            .to_path_buf();
        // Tools we install ourselves come first on PATH: npm's wasm-opt, cargo's bin.
        let mut dirs = vec![root.join(".tools/node_modules/.bin")];
        if let Some(home) = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        {
            dirs.push(home.join("bin"));
        }
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(dirs).context("building PATH")?;
        Ok(Self {
            root,
            path,
            done: Vec::new(),
            skipped: Vec::new(),
            ci: ci(std::env::var("CI").ok().as_deref()),
        })
    }

    /// A command run from the workspace root with our PATH.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).env("PATH", &self.path);
        cmd
    }

    /// Runs one named step, streaming its output; fails with the step's name.
    pub fn step(&mut self, name: &str, cmd: &mut Command) -> Result<()> {
        println!("\n==> {name}");
        let start = Instant::now();
        let status = cmd
            .status()
            .with_context(|| format!("{name}: could not start {:?}", cmd.get_program()))?;
        self.done.push((name.to_string(), start.elapsed()));
        if !status.success() {
            bail!("step failed: {name} ({status})");
        }
        Ok(())
    }

    /// A step done in-process, timed by the caller, for the summary.
    pub fn record(&mut self, name: &str, took: Duration) {
        self.done.push((name.to_string(), took));
    }

    /// A step that cannot run here: said loudly now and in the summary; under CI an
    /// error, so a CI run never passes without it.
    pub fn skip(&mut self, name: &str, why: &str) -> Result<()> {
        let line = format!("SKIPPED: {name}: {why}");
        println!("\n==> {line}");
        self.skipped.push(line);
        if self.ci {
            bail!("{name} cannot run ({why}), and CI must run every step");
        }
        Ok(())
    }

    pub fn summary(&self) {
        for line in &self.skipped {
            println!("\n{line}");
        }
        if self.done.is_empty() {
            return;
        }
        println!("\n{:<58} {:>9}", "step", "seconds");
        for (name, took) in &self.done {
            println!("{name:<58} {:>9.1}", took.as_secs_f64());
        }
        let total: Duration = self.done.iter().map(|(_, d)| *d).sum();
        println!("{:<58} {:>9.1}", "total", total.as_secs_f64());
    }
}

/// Whether the `CI` environment variable says this is a CI run (`.ci/run` sets it;
/// CI services set it to `true`). Unset, empty, `0` or `false` is not.
fn ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_any_value_but_empty_zero_or_false() {
        assert!(ci(Some("true")));
        assert!(ci(Some("1")));
        assert!(ci(Some("yes")));
        assert!(!ci(None));
        assert!(!ci(Some("")));
        assert!(!ci(Some("0")));
        assert!(!ci(Some("FALSE")));
    }

    #[test]
    fn a_skip_is_reported_and_fails_only_under_ci() -> Result<()> {
        let mut plan = Plan::new()?;
        plan.ci = false;
        plan.skip("end-to-end", "no package-lock.json")?;
        assert_eq!(plan.skipped, ["SKIPPED: end-to-end: no package-lock.json"]);
        plan.ci = true;
        let err = plan
            .skip("end-to-end", "no package-lock.json")
            .expect_err("a skip fails under CI");
        assert!(err.to_string().contains("CI must run every step"), "{err}");
        Ok(())
    }
}
