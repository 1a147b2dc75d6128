//! Crash durability: the relay binary as a separate process, 50 devices uploading
//! at once, `SIGKILL` in the middle of the stream, a restart on the same data
//! directory (on PostgreSQL: the devices move to a second relay on the same database,
//! running all along). Every change any device saw acknowledged must be there afterwards,
//! the store must open cleanly, and resyncing must not duplicate anything.
//!
//! "Acknowledged" is what the relay itself told the device: the heads in the
//! device's sync state that the relay confirmed holding (`Replica::confirmed_heads`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use automerge::ChangeHash;
use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::NewNote;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::Device;
use paktum_tests::launch::{Options, RelayProcess};
use paktum_tests::synthetic::{self, Seeded};

const DEVICES: usize = 50;
const TEAMS: usize = 5;
/// Each device's work is bounded, so the test ends even if the kill came late.
const ACTIONS_PER_DEVICE: usize = 16;
/// The relay is killed once this many actions were confirmed across all devices.
const KILL_AFTER_CONFIRMED: usize = 150;
const HOUR: i64 = 3_600_000;

/// The relay binary, started as its own process so it can really be killed; its log
/// goes to `relay-<n>.log` beside the store, where a failing test points to.
/// With `database`, documents go to PostgreSQL there (`PAKTUM_DATABASE`).
fn start_relay(data_dir: &Path, n: usize, database: Option<&str>) -> anyhow::Result<RelayProcess> {
    let mut env = vec![
        (
            "RUST_LOG".into(),
            std::env::var("PAKTUM_TEST_RELAY_LOG").unwrap_or("info".into()),
        ),
        ("NO_COLOR".into(), "1".into()),
    ];
    if let Some(url) = database {
        env.push(("PAKTUM_DATABASE".into(), url.into()));
    }
    RelayProcess::start(
        Path::new(env!("CARGO_BIN_EXE_paktum-sync-server")),
        data_dir,
        Options {
            dist: Some(data_dir.join("no-app")),
            log: Some(data_dir.join(format!("relay-{n}.log"))),
            env,
            ..Options::default()
        },
    )
}

fn team(n: usize) -> String {
    format!("durability-{}", n % TEAMS)
}

/// One device's stream of work: new contacts and notes on them, each synced as it
/// goes, until its actions run out or the relay disappears under it.
async fn field_work(mut device: Device, n: usize, confirmed: Arc<AtomicUsize>) -> Device {
    let mut rng = Seeded::new(n as u64);
    let mut mine = Vec::new();
    for action in 0..ACTIONS_PER_DEVICE {
        let step = async {
            if action % 4 == 0 {
                let team = device.team.clone();
                let id = device
                    .create_contact(synthetic::contact(&mut rng, &team, action))
                    .await?;
                mine.push(id);
            } else if let Some(&id) = mine.last() {
                let text = format!("Visit {action} by device {n}");
                device
                    .edit_contact(id, |c, ed| {
                        c.add_note(
                            ed,
                            NewNote {
                                text,
                                ..Default::default()
                            },
                        )
                    })
                    .await?;
            }
            device.sync().await
        };
        if step.await.is_err() {
            break; // the relay is gone: what was confirmed so far is what counts
        }
        confirmed.fetch_add(1, Ordering::Relaxed);
    }
    device
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_change() -> anyhow::Result<()> {
    sigkill_mid_stream(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_change_on_postgres() -> anyhow::Result<()> {
    let Some(url) = paktum_tests::postgres::fresh_database() else {
        return Ok(());
    };
    sigkill_mid_stream(Some(url)).await
}

/// The scenario on SQLite in the data directory, or on PostgreSQL at `database`.
async fn sigkill_mid_stream(database: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Five teams of ten enrolled workers; the relay runs as in production (tokens,
    // share policy), so each device syncs its own team's records only.
    let mut tokens = Vec::new();
    {
        let directory = Directory::connect(dir.path(), database.as_deref())?;
        for t in 0..TEAMS {
            directory.create_team("durability-pact", &team(t), false)?;
        }
        for n in 0..DEVICES {
            let (_, code) = directory.invite(
                &team(n),
                &format!("worker {n}"),
                Role::Worker,
                HOUR,
                now_ms(),
            )?;
            let (token, _) = directory.enrol(&code, "test phone", now_ms())?;
            tokens.push(token);
        }
    }
    let mut relay = start_relay(dir.path(), 1, database.as_deref())?;
    // On PostgreSQL a second relay shares the database from the start: the devices
    // move to it when the first is killed (no restart), as behind a load balancer.
    let mut other = match &database {
        Some(url) => {
            let other = dir.path().join("other");
            std::fs::create_dir_all(&other)?;
            Some(start_relay(&other, 2, Some(url))?)
        }
        None => None,
    };

    // Everybody online first, then everybody writes at once.
    let mut online = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let mut device = Device::new(
            &format!("worker {n}"),
            &team(n),
            &relay.ws_url_with_token(token),
        )?;
        device.connect().await?;
        online.push(device);
    }
    let confirmed = Arc::new(AtomicUsize::new(0));
    // The kill comes from its own thread, so busy device tasks cannot delay it.
    let killer = {
        let confirmed = confirmed.clone();
        let pid = relay.pid();
        std::thread::spawn(move || -> anyhow::Result<usize> {
            // Enough confirmed work to make the check mean something; on a slow,
            // busy machine, whatever was confirmed after 20 s (at least a few).
            let start = std::time::Instant::now();
            loop {
                let done = confirmed.load(Ordering::Relaxed);
                let waited = start.elapsed();
                if done >= KILL_AFTER_CONFIRMED || (waited > Duration::from_secs(20) && done >= 10)
                {
                    break;
                }
                if waited > Duration::from_secs(120) {
                    bail!("only {done} actions confirmed in 120 s");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let status = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()?;
            anyhow::ensure!(status.success(), "kill -KILL {pid} failed");
            Ok(confirmed.load(Ordering::Relaxed))
        })
    };
    let tasks: Vec<_> = online
        .into_iter()
        .enumerate()
        .map(|(n, device)| tokio::spawn(field_work(device, n, confirmed.clone())))
        .collect();
    let killed = killer
        .join()
        .map_err(|_| anyhow::anyhow!("killer thread panicked"))?;
    let at_kill = match killed {
        Ok(n) => n,
        Err(e) => {
            let status = relay.try_wait();
            bail!("{e:#} (relay process: {status:?}){}", relay.log_tail())
        }
    };
    relay.wait_killed()?;

    let mut devices = Vec::new();
    for task in tasks {
        let mut device = task.await?;
        device.go_offline();
        devices.push(device);
    }
    let finished = confirmed.load(Ordering::Relaxed);
    assert!(
        finished < DEVICES * ACTIONS_PER_DEVICE,
        "the kill must land mid-stream ({finished} of {} actions done)",
        DEVICES * ACTIONS_PER_DEVICE
    );

    // What each device saw acknowledged, per team and document.
    type Acknowledged = BTreeMap<DocumentId, BTreeSet<ChangeHash>>;
    let mut acknowledged: BTreeMap<String, Acknowledged> = BTreeMap::new();
    for device in &devices {
        let team = acknowledged.entry(device.team.clone()).or_default();
        for (id, heads) in device.acknowledged() {
            team.entry(id).or_default().extend(heads);
        }
    }
    assert!(!acknowledged.is_empty(), "devices saw acknowledgements");

    // The store opens cleanly: SQLite's own check (PostgreSQL recovers on its own),
    // then the relay itself.
    if database.is_none() {
        let db = rusqlite::Connection::open(dir.path().join("paktum.sqlite3"))
            .context("opening the store after the crash")?;
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        assert_eq!(check, "ok");
    }
    let relay = match other.take() {
        Some(other) => other,
        None => start_relay(dir.path(), 2, database.as_deref())?,
    };

    // A fresh device of each team finds every acknowledged change: a coordinator of
    // the team (another team's coordinator would not get its contacts without consent
    // to share them with the pact, issue 15).
    let mut auditor_tokens = BTreeMap::new();
    {
        let directory = Directory::connect(dir.path(), database.as_deref())?;
        for t in 0..TEAMS {
            let (_, code) =
                directory.invite(&team(t), "auditor", Role::Coordinator, HOUR, now_ms())?;
            let token = directory.enrol(&code, "test laptop", now_ms())?.0;
            auditor_tokens.insert(team(t), token);
        }
    }
    for (team, acknowledged) in &acknowledged {
        let mut auditor = Device::new(
            "auditor",
            team,
            &relay.ws_url_with_token(&auditor_tokens[team]),
        )?;
        auditor.connect().await?;
        let lost = auditor.missing(acknowledged).await?;
        assert!(
            lost.is_empty(),
            "acknowledged changes missing after restart: {lost:?}"
        );
    }

    // The devices come back and resync everything they still had pending.
    for (device, token) in devices.iter_mut().zip(&tokens) {
        device.set_url(&relay.ws_url_with_token(token));
        device.connect().await?;
    }

    // Nothing duplicated, nothing missing: every team's index lists each contact
    // its devices hold exactly once, each contact's notes are unique, and the
    // relay's copy is exactly the merge of every device's copy.
    for t in 0..TEAMS {
        let team = team(t);
        let mut held: BTreeMap<DocumentId, automerge::Automerge> = BTreeMap::new();
        for device in devices.iter().filter(|d| d.team == team) {
            let index_id = device.index_id();
            for id in device.replica().doc_ids().filter(|id| **id != index_id) {
                let copy = device.replica().doc(id).context("held copy")?;
                match held.get_mut(id) {
                    Some(merged) => {
                        merged.merge(&mut copy.clone())?;
                    }
                    None => {
                        held.insert(*id, copy.clone());
                    }
                }
            }
        }
        // The team's coordinator reads the team's documents, as a member of the team
        // whose index rows the relay applies. (Posing as a member of a team the
        // relay let it only read made its core write rows never applied: a flaky wait.)
        let mut reader = Device::new(
            "reader",
            &team,
            &relay.ws_url_with_token(&auditor_tokens[&team]),
        )?;
        reader.connect().await?;
        let index_id = CaseloadDoc::id_for_team(&team);
        reader.fetch(index_id).await?;
        let index = CaseloadDoc::from_automerge(
            reader
                .replica()
                .doc(&index_id)
                .context("the team's index")?
                .clone(),
        )?;
        let listed: Vec<DocumentId> = index.entries().iter().map(|e| e.id).collect();
        let listed_set: BTreeSet<_> = listed.iter().copied().collect();
        assert_eq!(listed.len(), listed_set.len(), "{team}: index rows unique");
        let held_set: BTreeSet<_> = held.keys().copied().collect();
        assert_eq!(
            listed_set
                .symmetric_difference(&held_set)
                .collect::<Vec<_>>(),
            Vec::<&DocumentId>::new(),
            "{team}: the index lists exactly the contacts the devices hold"
        );
        for (id, merged) in &held {
            reader.fetch(*id).await?;
            let contact = reader.contact(id)?;
            let note_ids: BTreeSet<_> = contact.notes.iter().map(|n| n.id.clone()).collect();
            assert_eq!(note_ids.len(), contact.notes.len(), "{id}: notes unique");
            let mut relay_heads = reader.replica().doc(id).context("relay copy")?.get_heads();
            let mut device_heads = merged.get_heads();
            relay_heads.sort();
            device_heads.sort();
            assert_eq!(
                relay_heads, device_heads,
                "{id}: relay copy = merge of device copies"
            );
        }
    }
    println!(
        "killed after {at_kill} confirmed actions ({finished} finished), \
         {} documents with acknowledged changes all present",
        acknowledged.values().map(BTreeMap::len).sum::<usize>()
    );
    relay.kill()
}
