//! A throwaway PostgreSQL cluster for the tests: Debian's `postgresql` package
//! (installed if missing), `initdb` into `target/postgres-<pid>` (or the temporary
//! directory if the `postgres` user cannot reach it), listening only on a
//! free loopback port (and a socket in its own directory), trust authentication;
//! stopped and removed when dropped. As root it runs as the `postgres` user, since
//! PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::plan::Plan;
use crate::tools;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// The newest installed server's `bin` directory (`/usr/lib/postgresql/N/bin`).
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Cluster {
    pub fn start(plan: &mut Plan) -> Result<Self> {
        let bin = match server_bin() {
            Some(bin) => bin,
            None => {
                tools::apt_install(plan, &["postgresql"])?;
                server_bin()
                    .context("postgresql installed, but no initdb under /usr/lib/postgresql")?
            }
        };
        let as_postgres = tools::is_root();
        let name = format!("postgres-{}", std::process::id());
        let mut dir = prepare(&plan.root.join("target").join(&name), as_postgres)?;
        // The postgres user may not reach into a checkout under a private home
        // directory: then the system's temporary directory.
        if as_postgres && !reachable_by_postgres(&dir) {
            let _ = std::fs::remove_dir_all(&dir);
            dir = prepare(
                &std::env::temp_dir().join(format!("paktum-{name}")),
                as_postgres,
            )?;
        }
        // A port free now; the cluster takes it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port")?
            .port();
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        }
        .started(plan)?;
        Ok(cluster)
    }

    fn started(self, plan: &mut Plan) -> Result<Self> {
        let data = self.dir.join("data");
        plan.step(
            "PostgreSQL test cluster: initdb",
            self.pg("initdb")
                .args([
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "-D",
                ])
                .arg(&data),
        )?;
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        plan.step(
            &format!("PostgreSQL test cluster: start on 127.0.0.1:{}", self.port),
            self.pg("pg_ctl")
                .args(["start", "-w", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(self.dir.join("log"))
                .args(["-o", &options]),
        )?;
        Ok(self)
    }

    /// A server program, as the `postgres` user when we are root.
    fn pg(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(&self.dir);
        cmd
    }

    /// `postgres://postgres@127.0.0.1:PORT` (no database: tests make their own).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// A new, empty database `name` on the cluster; its URL.
    pub fn database(&self, plan: &mut Plan, name: &str) -> Result<String> {
        plan.step(
            &format!("PostgreSQL: create database {name}"),
            self.pg("createdb").args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ]),
        )?;
        Ok(format!("{}/{name}", self.url()))
    }
}

/// A new, empty directory for the cluster, owned by `postgres` when we are root.
fn prepare(dir: &std::path::Path, as_postgres: bool) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).context("creating the PostgreSQL test directory")?;
    if as_postgres {
        let owned = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir)
            .status()
            .context("running chown")?;
        if !owned.success() {
            bail!("chown postgres {} failed", dir.display());
        }
    }
    Ok(dir.to_path_buf())
}

fn reachable_by_postgres(dir: &std::path::Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stopped = self
            .pg("pg_ctl")
            .args(["stop", "-m", "fast", "-D"])
            .arg(self.dir.join("data"))
            .status();
        if !matches!(stopped, Ok(s) if s.success()) {
            println!(
                "warning: the PostgreSQL test cluster in {} did not stop cleanly",
                self.dir.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
