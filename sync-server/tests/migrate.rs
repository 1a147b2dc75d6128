//! `admin migrate`: a SQLite data directory a relay wrote (an enrolled device's
//! contacts, an erasure) copied into PostgreSQL by the admin CLI; a relay on
//! PostgreSQL then serves the same device with the same token, every acknowledged
//! change is there, the erased record stays refused, and a new member enrols (ids
//! continue after the copied ones). Skipped out loud without a PostgreSQL test server.

use std::path::Path;

use paktum_sync_server::Config;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, TestRelay, launch};

const HOUR: i64 = 3_600_000;
const TEAM: &str = "migrate-team";
const CONTACTS: usize = 8;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_paktum-sync-server"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_migrated_to_postgres_serves_the_same_devices_with_everything()
-> anyhow::Result<()> {
    let Some(url) = paktum_tests::postgres::fresh_database() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let directory = Directory::open(&data)?;
    directory.create_team("migrate-pact", TEAM, true)?;
    let (_, code) = directory.invite(TEAM, "Anna", Role::Coordinator, HOUR, now_ms())?;
    let (token, anna) = directory.enrol(&code, "test phone", now_ms())?;
    drop(directory);

    // Anna's contacts through a relay on SQLite; one of them is erased.
    let relay = TestRelay::start_with(Config::for_tests(data.clone())).await?;
    let mut device = Device::new("Anna", TEAM, &relay.ws_url_with_token(&token))?;
    device.connect().await?;
    let mut rng = Seeded::new(3);
    let mut ids = Vec::new();
    for n in 0..CONTACTS {
        ids.push(
            device
                .create_contact(synthetic::contact(&mut rng, TEAM, n))
                .await?,
        );
    }
    device.sync().await?;
    let acknowledged = device.acknowledged();
    relay.stop().await?;
    device.go_offline();
    let erased = ids[0];
    launch::admin(binary(), &data, &["erase", "--doc", &erased.to_string()])?;
    launch::admin(
        binary(),
        &data,
        &[
            "pact-settings",
            "--pact",
            "migrate-pact",
            "--retention-months",
            "12",
        ],
    )?;

    let out = launch::admin(
        binary(),
        &data,
        &["migrate", "--from", &data.to_string_lossy(), "--to", &url],
    )?;
    // The contacts left (the erased one's chunks are gone), the team's index and, the
    // team keeping own caseloads only, the worker's own index the relay writes.
    assert!(
        out.contains(&format!("copying {} documents", CONTACTS - 1 + 2)),
        "{out}"
    );
    assert!(out.contains("migrated and checked"), "{out}");
    assert!(out.contains("1 erased ids"), "{out}");
    // A second run refuses: the database is no longer empty.
    assert!(
        launch::admin(
            binary(),
            &data,
            &["migrate", "--from", &data.to_string_lossy(), "--to", &url]
        )
        .is_err()
    );

    // The relay on PostgreSQL, from an empty data directory: same token, same data.
    let mut config = Config::for_tests(dir.path().join("empty"));
    config.database = Some(url.clone());
    let relay = TestRelay::start_with(config).await?;
    device.set_url(&relay.ws_url_with_token(&token));
    device.connect().await?;
    // A new phone of Anna's (empty) finds everything acknowledged before.
    let mut fresh = Device::new("Anna", TEAM, &relay.ws_url_with_token(&token))?;
    fresh.connect().await?;
    // The erasure rewrote the index (a new history without the erased row): the
    // command itself checked its heads against SQLite's; the contacts are checked here.
    let index = fresh.index_id();
    let expected: Vec<_> = acknowledged
        .iter()
        .filter(|(id, _)| *id != erased && *id != index)
        .map(|(id, heads)| (id, heads))
        .collect();
    assert_eq!(expected.len(), CONTACTS - 1, "the contacts left");
    let lost = fresh.missing(expected).await?;
    assert!(lost.is_empty(), "lost in the migration: {lost:?}");
    assert!(
        fresh.fetch(erased).await.is_err() || fresh.replica().doc(&erased).is_none(),
        "the erased contact came back"
    );

    // A new member enrols on PostgreSQL: its ids follow the copied ones.
    let directory = Directory::connect(dir.path(), Some(&url))?;
    let (_, code) = directory.invite(TEAM, "Bram", Role::Worker, HOUR, now_ms())?;
    let (_, bram) = directory.enrol(&code, "test phone", now_ms())?;
    assert!(bram.device_id > anna.device_id);
    assert_eq!(directory.devices()?.len(), 2);
    assert_eq!(
        directory.pact_settings("migrate-pact")?.retention_months,
        Some(12),
        "the pact's settings were copied"
    );
    relay.stop().await
}
