//! One call sets up the world an access or erasure test needs: a relay with
//! enrolment (never open) on SQLite in a temporary directory, two pacts, and devices
//! enrolled through the relay's own `/enrol`. With `PAKTUM_TEST_BACKEND=postgres` the
//! relay's documents and directory are in a fresh PostgreSQL database instead
//! (`PAKTUM_TEST_POSTGRES`): one suite, two backends. With `postgres-2`, a second
//! relay shares that database and the devices of [`Pact::device`] take turns between
//! the two, so every rule is also checked with the devices on different relays.

use anyhow::Context;
use paktum_shared::enrol::Enrolment;
use paktum_sync_server::Config;
use paktum_sync_server::auth::{Directory, Role, now_ms};

use crate::{Device, TestRelay, http};

const HOUR: i64 = 3_600_000;

pub struct Pact {
    pub dir: tempfile::TempDir,
    pub relay: TestRelay,
    pub directory: Directory,
    /// The PostgreSQL database, when the relay runs on one.
    pub database: Option<String>,
    /// The second relay on that database (`PAKTUM_TEST_BACKEND=postgres-2`).
    pub other: Option<TestRelay>,
    devices: std::sync::atomic::AtomicUsize,
}

/// Two pacts: "kempen-pact" with teams kempen and herentals, "worms-pact" with worms.
pub async fn pact(tune: impl FnOnce(&mut Config)) -> anyhow::Result<Pact> {
    pact_with(&[], tune).await
}

/// The same pacts, with the teams in `own_caseload_only` set to "own caseload only"
/// before the relay starts.
pub async fn pact_with(
    own_caseload_only: &[&str],
    tune: impl FnOnce(&mut Config),
) -> anyhow::Result<Pact> {
    let dir = tempfile::tempdir()?;
    let backend = std::env::var("PAKTUM_TEST_BACKEND");
    let database = match backend.as_deref() {
        Ok("postgres" | "postgres-2") => Some(
            crate::postgres::fresh_database()
                .context("PAKTUM_TEST_BACKEND=postgres needs a server in PAKTUM_TEST_POSTGRES")?,
        ),
        Ok("sqlite") | Err(_) => None,
        Ok(other) => {
            anyhow::bail!("PAKTUM_TEST_BACKEND is sqlite, postgres or postgres-2, not {other}")
        }
    };
    let directory = Directory::connect(dir.path(), database.as_deref())?;
    directory.create_team("kempen-pact", "kempen", false)?;
    directory.create_team("kempen-pact", "herentals", false)?;
    directory.create_team("worms-pact", "worms", false)?;
    for team in own_caseload_only {
        directory.create_team("kempen-pact", team, true)?;
    }
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.database = database.clone();
    tune(&mut config);
    let other = if backend.as_deref() == Ok("postgres-2") {
        let mut config = config.clone();
        config.data_dir = dir.path().join("other");
        Some(TestRelay::start_with(config).await?)
    } else {
        None
    };
    let relay = TestRelay::start_with(config).await?;
    Ok(Pact {
        dir,
        relay,
        directory,
        database,
        other,
        devices: Default::default(),
    })
}

impl Pact {
    /// Invites and enrols a member through the relay's HTTP endpoint.
    pub async fn enrol(&self, team: &str, name: &str, role: Role) -> anyhow::Result<Enrolment> {
        let (_, code) = self.directory.invite(team, name, role, HOUR, now_ms())?;
        match http::enrol(self.relay.addr, &code, "test phone").await? {
            Ok(enrolment) => Ok(enrolment),
            Err((status, refusal)) => anyhow::bail!("enrolment failed: {status} {}", refusal.error),
        }
    }

    /// The second relay on the database, or the one relay.
    pub fn second(&self) -> &TestRelay {
        self.other.as_ref().unwrap_or(&self.relay)
    }

    /// An enrolled device, connected and synced; with its token. With two relays,
    /// every other device connects to the second.
    pub async fn device(
        &self,
        team: &str,
        name: &str,
        role: Role,
    ) -> anyhow::Result<(Device, String)> {
        let enrolment = self.enrol(team, name, role).await?;
        let token = enrolment.token.clone();
        let n = self
            .devices
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let relay = if n % 2 == 1 {
            self.second()
        } else {
            &self.relay
        };
        let mut d = Device::enrolled(&enrolment, &relay.ws_url_with_token(&token))?;
        d.connect().await?;
        Ok((d, token))
    }

    /// The audit log's events once `until` holds for them (the relay writes them off
    /// the sync path, a moment later); after 10 s, whatever is there.
    pub async fn audit_events(
        &self,
        until: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let events: Vec<String> = self
                .directory
                .audit_log(1000)?
                .into_iter()
                .map(|e| e.event)
                .collect();
            if until(&events) || tokio::time::Instant::now() > deadline {
                return Ok(events);
            }
            // A poll of the condition, not a guess at how long the writer takes.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
