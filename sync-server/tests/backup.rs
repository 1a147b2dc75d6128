//! Backups while the relay runs: `admin backup` during a stream of writes, the copy
//! restored into a fresh data directory as the README says (stop, copy the file to
//! DATA_DIR/paktum.sqlite3, start), and a fresh device finds every contact that was
//! acknowledged before the backup started.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use automerge::ChangeHash;
use paktum_shared::DocumentId;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::Device;
use paktum_tests::launch::{self, Options, RelayProcess};
use paktum_tests::synthetic::{self, Seeded};
use tokio::sync::watch;

const HOUR: i64 = 3_600_000;
const TEAM: &str = "backup-team";
const BEFORE: usize = 12;
/// The writer's work is bounded, so the test ends even if the backup were slow.
const WRITER_ACTIONS: usize = 400;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_paktum-sync-server"))
}

fn start_relay(data_dir: &Path, n: usize) -> anyhow::Result<RelayProcess> {
    RelayProcess::start(
        binary(),
        data_dir,
        Options {
            dist: Some(data_dir.join("no-app")),
            log: Some(data_dir.join(format!("relay-{n}.log"))),
            env: vec![("NO_COLOR".into(), "1".into())],
            ..Options::default()
        },
    )
}

/// Contacts the writer made so far, and what the relay has acknowledged to it.
type Acknowledged = (usize, Vec<(DocumentId, Vec<ChangeHash>)>);

/// Creates contacts and syncs each until told to stop, publishing what the relay
/// has acknowledged after every sync.
async fn keep_writing(
    mut device: Device,
    acknowledged: watch::Sender<Acknowledged>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    let mut rng = Seeded::new(7);
    for n in 0..WRITER_ACTIONS {
        if *stop.borrow_and_update() {
            return Ok(n);
        }
        device
            .create_contact(synthetic::contact(&mut rng, TEAM, n))
            .await?;
        device.sync().await?;
        acknowledged.send_replace((n + 1, device.acknowledged()));
    }
    Ok(WRITER_ACTIONS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_devices_write_restores_every_acknowledged_contact()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let (anna, bram) = {
        let directory = Directory::open(&data)?;
        directory.create_team("backup-pact", TEAM, false)?;
        let mut tokens = Vec::new();
        for name in ["Anna", "Bram"] {
            let (_, code) = directory.invite(TEAM, name, Role::Worker, HOUR, now_ms())?;
            tokens.push(directory.enrol(&code, "test phone", now_ms())?.0);
        }
        (tokens[0].clone(), tokens[1].clone())
    };
    let relay = start_relay(&data, 1)?;

    let mut first = Device::new("Anna", TEAM, &relay.ws_url_with_token(&anna))?;
    first.connect().await?;
    let mut rng = Seeded::new(1);
    for n in 0..BEFORE {
        first
            .create_contact(synthetic::contact(&mut rng, TEAM, n))
            .await?;
    }
    first.sync().await?;

    // A second device keeps writing during the backup.
    let mut writer = Device::new("Bram", TEAM, &relay.ws_url_with_token(&bram))?;
    writer.connect().await?;
    let (acknowledged_tx, mut acknowledged) = watch::channel((0, Vec::new()));
    let (stop_tx, stop) = watch::channel(false);
    let writing = tokio::spawn(keep_writing(writer, acknowledged_tx, stop));
    acknowledged
        .wait_for(|(made, _): &Acknowledged| *made >= 3)
        .await
        .context("the writer acknowledged nothing")?;

    // Everything acknowledged before the backup starts must be in it.
    let mut expected: BTreeMap<DocumentId, Vec<ChangeHash>> = BTreeMap::new();
    for (id, heads) in first
        .acknowledged()
        .into_iter()
        .chain(acknowledged.borrow().1.clone())
    {
        expected.entry(id).or_default().extend(heads);
    }
    let at_start = acknowledged.borrow().0;
    let copy = dir.path().join("paktum-backup.sqlite3");
    let printed = {
        let (data, copy) = (data.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            launch::admin(
                binary(),
                &data,
                &["backup", "--to", &copy.to_string_lossy()],
            )
        })
        .await??
    };
    let at_end = acknowledged.borrow().0;
    stop_tx.send_replace(true);
    let written = writing.await??;
    assert!(
        printed.starts_with("backed up ") && printed.contains(" bytes) to "),
        "{printed}"
    );
    let documents: usize = printed
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .context("the document count printed")?;
    assert!(
        documents >= expected.len(),
        "{printed} vs {} expected",
        expected.len()
    );

    // No overwriting without --force; with it, the file is replaced whole.
    let before = std::fs::read(&copy)?;
    let refused = launch::admin(
        binary(),
        &data,
        &["backup", "--to", &copy.to_string_lossy()],
    );
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("--force")),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(&copy)?,
        before,
        "the existing backup is untouched"
    );
    let older = dir.path().join("older.sqlite3");
    std::fs::write(&older, b"not a database")?;
    launch::admin(
        binary(),
        &data,
        &["backup", "--to", &older.to_string_lossy(), "--force"],
    )?;
    check_integrity(&older)?;
    relay.stop()?;

    // Restore as documented: a fresh data directory holding just the copy.
    check_integrity(&copy)?;
    let fresh = dir.path().join("restored");
    std::fs::create_dir_all(&fresh)?;
    std::fs::copy(&copy, fresh.join("paktum.sqlite3"))?;
    let restored = start_relay(&fresh, 2)?;
    let mut reader = Device::new("Anna", TEAM, &restored.ws_url_with_token(&anna))?;
    reader.connect().await?;
    reader.sync().await?;
    let lost = reader.missing(&expected).await?;
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing after restore: {lost:?}"
    );
    // …and the restored index lists each of them.
    let listed: std::collections::BTreeSet<DocumentId> =
        reader.index()?.entries().iter().map(|e| e.id).collect();
    let unlisted: Vec<_> = expected
        .keys()
        .filter(|id| **id != reader.index_id() && !listed.contains(id))
        .collect();
    assert!(
        unlisted.is_empty(),
        "not in the restored index: {unlisted:?}"
    );
    println!(
        "backup during writes: {documents} documents copied; {} acknowledged before it \
         all restored; the writer had made {at_start} contacts when it started, {at_end} when it \
         ended, {written} in all",
        expected.len()
    );
    restored.stop()?;
    Ok(())
}

fn check_integrity(file: &Path) -> anyhow::Result<()> {
    let db = rusqlite::Connection::open(file)?;
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    anyhow::ensure!(check == "ok", "{}: {check}", file.display());
    Ok(())
}
