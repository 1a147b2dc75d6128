//! `paktum-sync-server admin …`: the administrator's tools, working directly on the
//! embedded store (whoever can run this can read the data directory anyway).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::auth::{Directory, RevokeMode, Role, now_ms};

pub mod migrate;
use crate::config::{Admin, QuarantineCommand};

const HOUR_MS: i64 = 3_600_000;

/// `admin backup --to FILE [--force]`: a consistent copy while the relay runs.
pub fn backup(data_dir: &Path, to: &Path, force: bool) -> Result<()> {
    let store = data_dir.join(crate::storage::sqlite::FILE);
    if !store.exists() {
        bail!("there is no store at {}", store.display());
    }
    if to.exists() && !force {
        bail!(
            "{} exists; choose another file or pass --force to replace it",
            to.display()
        );
    }
    let copied = crate::storage::sqlite::backup::backup(data_dir, to)
        .with_context(|| format!("backing up to {}", to.display()))?;
    println!(
        "backed up {} documents and {} active devices ({} bytes) to {}",
        copied.documents,
        copied.devices,
        copied.bytes,
        to.display()
    );
    Ok(())
}

/// `admin erase --doc ID [--by ROLE]`: erases a record in the store (a running relay
/// notices within a second, tells the devices and rewrites the index again under its
/// own locks).
pub fn erase(data_dir: &Path, database: Option<&str>, doc: &str, by: &str) -> Result<()> {
    let doc: paktum_shared::DocumentId = doc.trim().parse().context("not a document id")?;
    let Some(role) = Role::parse(by) else {
        bail!("--by must be worker, coordinator or admin")
    };
    let directory = Directory::connect(data_dir, database).context("opening the directory")?;
    if let Some(receipt) = directory.erasure_receipt(&doc)? {
        println!("already {}", receipt.sentence());
        return Ok(());
    }
    let storage: Box<dyn crate::Storage> = match database {
        Some(url) => Box::new(crate::PostgresStorage::connect(url).context("opening the store")?),
        None => Box::new(crate::SqliteStorage::open(data_dir).context("opening the store")?),
    };
    let storage = storage.as_ref();
    let Some(team) = crate::erasure::team_of(storage, &doc)? else {
        bail!("the store holds no record {doc}");
    };
    let now = now_ms();
    directory
        .record_erasure(&doc, &team, role, None, now)
        .context("recording the erasure")?;
    let workers: Vec<String> = crate::erasure::worker_indices(storage, &team)?
        .into_iter()
        .map(|(_, worker)| worker)
        .collect();
    crate::erasure::carry_out(storage, &doc, &team, &workers, now).context("erasing")?;
    if let Some(receipt) = directory.erasure_receipt(&doc)? {
        println!("{}", receipt.sentence());
    }
    println!("a running relay tells the devices within a second");
    Ok(())
}

pub fn run(directory: &Directory, command: &Admin) -> Result<()> {
    match command {
        Admin::Backup { .. } => bail!("backup runs without opening the directory"),
        Admin::Erase { .. } => bail!("erase opens the store itself"),
        Admin::Migrate { .. } => bail!("migrate opens both stores itself"),
        Admin::EraseReceipt { doc } => {
            let doc: paktum_shared::DocumentId = doc.trim().parse().context("not a document id")?;
            match directory.erasure_receipt(&doc)? {
                Some(receipt) => println!("{}", receipt.sentence()),
                None => bail!("{doc} was not erased"),
            }
        }
        Admin::CreateTeam {
            pact,
            team,
            own_caseload_only,
        } => {
            directory
                .create_team(pact, team, *own_caseload_only)
                .context("creating the team")?;
            println!(
                "team {team} in pact {pact} is ready{}",
                if *own_caseload_only {
                    " (own caseloads only)"
                } else {
                    ""
                }
            );
        }
        Admin::PactSettings {
            pact,
            lock_minutes,
            lock_failures,
            inclusive_goal,
            retention_months,
            reset,
        } => {
            let changes = paktum_shared::enrol::PactSettings {
                lock_minutes: *lock_minutes,
                lock_failures: *lock_failures,
                inclusive_goal: *inclusive_goal,
                retention_months: *retention_months,
            };
            let s = directory
                .set_pact_settings(pact, changes, *reset, now_ms())
                .context("setting the pact's settings")?;
            let said = |v: Option<u32>| if v.is_some() { "" } else { " (default)" };
            println!("settings of pact {}:", pact.trim());
            println!(
                "  lock after {} quiet minutes{}",
                s.lock_minutes(),
                said(s.lock_minutes)
            );
            println!(
                "  erase after {} wrong PINs{}",
                s.lock_failures(),
                said(s.lock_failures)
            );
            println!(
                "  inclusive-employer goal {} %{}",
                s.inclusive_goal(),
                said(s.inclusive_goal)
            );
            println!(
                "  records kept {} months without a change{}",
                s.retention_months(),
                said(s.retention_months)
            );
            println!("the pact's devices take them at their next start");
        }
        Admin::Invite {
            team,
            name,
            role,
            expires_in_hours,
            url,
        } => {
            let Some(role) = Role::parse(role) else {
                bail!("role must be worker, coordinator or admin")
            };
            let (member, code) = directory
                .invite(team, name, role, expires_in_hours * HOUR_MS, now_ms())
                .context("inviting the member")?;
            println!("member {member}: {name} ({}) in {team}", role.as_str());
            println!("enrolment code: {code}  (valid {expires_in_hours} h, once)");
            println!("link: {}/#/enrol?code={code}", url.trim_end_matches('/'));
        }
        Admin::Devices => {
            println!(
                "{:>6}  {:<24} {:<12} {:<16} {:<10} label",
                "device", "member", "role", "team", "state"
            );
            for d in directory.devices().context("listing devices")? {
                let state = if d.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:>6}  {:<24} {:<12} {:<16} {:<10} {}",
                    d.device_id,
                    d.worker,
                    d.role.as_str(),
                    d.team,
                    state,
                    d.label
                );
            }
        }
        Admin::Revoke {
            device_id,
            device,
            wipe,
            quarantine,
        } => {
            let Some(device_id) = device_id.or(*device) else {
                bail!("name the device: admin revoke --device ID")
            };
            let mode = match (wipe, quarantine) {
                (false, _) => RevokeMode::Plain,
                (true, false) => RevokeMode::Wipe,
                (true, true) => RevokeMode::WipeQuarantine,
            };
            if directory
                .revoke_with(device_id, mode, now_ms())
                .context("revoking")?
            {
                println!(
                    "device {device_id} {}; a running relay disconnects it within a second",
                    mode.describe()
                );
                if mode != RevokeMode::Plain {
                    println!(
                        "its next connection hands in what it has not synced, then it erases \
                         everything on it"
                    );
                }
            } else if mode == RevokeMode::Plain {
                bail!("no active device {device_id}");
            } else {
                bail!("no device {device_id} that could still be wiped");
            }
        }
        Admin::Quarantine {
            command: QuarantineCommand::List,
        } => {
            let rows = directory.quarantine().context("reading the quarantine")?;
            if rows.is_empty() {
                println!("the quarantine is empty");
            }
            for q in rows {
                println!(
                    "{:>6}  {}  device {:<6} at {}  {} bytes",
                    q.seq, q.doc, q.device_id, q.at, q.bytes
                );
            }
        }
        Admin::Rotate {
            member_id,
            expires_in_hours,
        } => {
            let code = directory
                .rotate(*member_id, expires_in_hours * HOUR_MS, now_ms())
                .context("rotating")?;
            println!("all devices of member {member_id} revoked; new enrolment code: {code}");
        }
        Admin::Audit { limit } => {
            for e in directory
                .audit_log(*limit)
                .context("reading the audit log")?
            {
                let device = e
                    .device_id
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into());
                println!("{}  {:<20} device {device:<6} {}", e.at, e.event, e.detail);
            }
        }
    }
    Ok(())
}
