//! Several relays on one PostgreSQL database (issue 17): a change accepted by one
//! reaches devices on another within a second, and a revocation cuts a device off
//! whichever relay it is connected to. Skipped out loud without a PostgreSQL test
//! server (`cargo xtask with-postgres`), failing under CI.

use std::time::{Duration, Instant};

use paktum_shared::contact::NewNote;
use paktum_sync_server::Config;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, TestRelay, http};

const TEAM: &str = "kempen";
const HOUR: i64 = 3_600_000;
/// The promise: a change reaches a device on another relay within this.
const WITHIN: Duration = Duration::from_secs(1);

/// Two relays on one fresh database, each with its own (unused) data directory.
async fn two_relays(
    open: bool,
) -> anyhow::Result<Option<(String, tempfile::TempDir, TestRelay, TestRelay)>> {
    let Some(url) = paktum_tests::postgres::fresh_database() else {
        return Ok(None);
    };
    let dir = tempfile::tempdir()?;
    let mut relays = Vec::new();
    for n in 0..2 {
        let mut config = Config::for_tests(dir.path().join(format!("relay-{n}")));
        config.database = Some(url.clone());
        config.insecure_open = open;
        relays.push(TestRelay::start_with(config).await?);
    }
    let second = relays.pop().expect("two");
    let first = relays.pop().expect("two");
    Ok(Some((url, dir, first, second)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_one_relay_reaches_a_device_on_the_other_within_a_second() -> anyhow::Result<()>
{
    let Some((_url, _dir, one, two)) = two_relays(true).await? else {
        return Ok(());
    };
    let mut rng = Seeded::new(17);
    let mut a = Device::new("Anna", TEAM, &one.ws_url())?;
    let mut b = Device::new("Bram", TEAM, &two.ws_url())?;
    a.connect().await?;
    b.connect().await?;

    // A creates a contact through relay one; B, idle on relay two, is told.
    let id = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 0))
        .await?;
    a.sync().await?;
    let acknowledged = Instant::now();
    b.wait_for("A's contact, through the other relay", |r| {
        r.doc_ids().any(|d| *d == id) && r.is_up_to_date()
    })
    .await?;
    let first = acknowledged.elapsed();
    assert_eq!(b.contact(&id)?, a.contact(&id)?);
    assert_eq!(b.index()?.len(), 1);

    // And back: B's note through relay two reaches A on relay one.
    b.edit_contact(id, |c, ed| {
        c.add_note(
            ed,
            NewNote {
                text: "Called back".into(),
                ..Default::default()
            },
        )
    })
    .await?;
    b.sync().await?;
    let acknowledged = Instant::now();
    a.wait_for("B's note, through the other relay", |r| {
        r.is_up_to_date() && r.confirmed_heads(&id) == b.replica().confirmed_heads(&id)
    })
    .await?;
    let second = acknowledged.elapsed();
    assert_eq!(a.contact(&id)?.notes.len(), 1);
    assert_eq!(a.contact(&id)?, b.contact(&id)?);
    eprintln!("across relays: {first:?} and {second:?}");
    assert!(first < WITHIN && second < WITHIN, "{first:?} / {second:?}");
    one.stop().await?;
    two.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_cuts_the_device_off_every_relay() -> anyhow::Result<()> {
    let Some((url, dir, one, two)) = two_relays(false).await? else {
        return Ok(());
    };
    let directory = Directory::connect(dir.path(), Some(&url))?;
    directory.create_team("kempen-pact", TEAM, false)?;
    let (_, code) = directory.invite(TEAM, "Anna", Role::Worker, HOUR, now_ms())?;
    // Enrolled through relay one, connected to both (a phone and its laptop session).
    let enrolment = match http::enrol(one.addr, &code, "test phone").await? {
        Ok(enrolment) => enrolment,
        Err((status, refusal)) => anyhow::bail!("enrolment failed: {status} {}", refusal.error),
    };
    let mut on_two = Device::enrolled(&enrolment, &two.ws_url_with_token(&enrolment.token))?;
    on_two.connect().await?;
    let mut on_one = Device::enrolled(&enrolment, &one.ws_url_with_token(&enrolment.token))?;
    on_one.connect().await?;

    let device = enrolment.device_id;
    assert!(directory.revoke(device, now_ms())?);
    let revoked = Instant::now();
    for (relay, d) in [("two", &mut on_two), ("one", &mut on_one)] {
        let closed = d.wait_for("the revocation", |_| false).await;
        assert!(
            closed
                .as_ref()
                .is_err_and(|e| !format!("{e:#}").contains("timed out")),
            "relay {relay}: {closed:?}"
        );
    }
    eprintln!(
        "cut off both relays {:?} after the revocation",
        revoked.elapsed()
    );
    // Told at once (NOTIFY), not at the next half-second poll.
    assert!(
        revoked.elapsed() < Duration::from_millis(250),
        "{:?}",
        revoked.elapsed()
    );
    one.stop().await?;
    two.stop().await
}

/// An erasure through one relay holds on the other exactly as on one relay: a device
/// online there deletes the record at once, a device offline during the erasure that
/// comes back through the other relay deletes its copy and cannot bring it back, and
/// both relays answer the same receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_through_one_relay_holds_on_the_other() -> anyhow::Result<()> {
    use paktum_shared::contact::ContactField;
    use paktum_shared::erasure::{EraseRequest, ErasureReceipt};
    let Some((url, dir, one, two)) = two_relays(false).await? else {
        return Ok(());
    };
    let directory = Directory::connect(dir.path(), Some(&url))?;
    directory.create_team("kempen-pact", TEAM, false)?;
    let enrol = |name: &'static str, role: Role| {
        let directory = &directory;
        let one = &one;
        async move {
            let (_, code) = directory.invite(TEAM, name, role, HOUR, now_ms())?;
            match http::enrol(one.addr, &code, "test phone").await? {
                Ok(enrolment) => Ok(enrolment),
                Err((status, refusal)) => {
                    anyhow::bail!("enrolment failed: {status} {}", refusal.error)
                }
            }
        }
    };
    let (anna, bram, carla) = (
        enrol("Anna", Role::Worker).await?,
        enrol("Bram", Role::Worker).await?,
        enrol("Carla", Role::Coordinator).await?,
    );
    // Anna on relay one, Bram on relay two.
    let mut a = Device::enrolled(&anna, &one.ws_url_with_token(&anna.token))?;
    let mut b = Device::enrolled(&bram, &two.ws_url_with_token(&bram.token))?;
    a.connect().await?;
    b.connect().await?;
    let mut rng = Seeded::new(1717);
    let id = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 0))
        .await?;
    let other = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 1))
        .await?;
    a.sync().await?;
    b.wait_for("both contacts, through the other relay", |r| {
        r.doc(&id).is_some() && r.doc(&other).is_some() && r.is_up_to_date()
    })
    .await?;
    // Bram goes offline and keeps editing his copy.
    b.go_offline();
    b.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Geel"))
    })
    .await?;

    // The coordinator erases through relay two; Anna, on relay one, is told.
    let body = serde_json::to_string(&EraseRequest {
        document: id.to_string(),
    })?;
    let erased = http::post_json(two.addr, &format!("/erase?token={}", carla.token), &body).await?;
    assert_eq!(erased.status, 200, "{}", erased.body);
    a.wait_for("the erasure, from the other relay", |r| {
        r.doc(&id).is_none()
    })
    .await?;
    a.sync().await?;
    assert!(
        a.repo.entry(&id).is_none(),
        "no index row left on Anna's device"
    );
    assert!(a.contact(&other).is_ok(), "the other contact stays");

    // Bram comes back through relay ONE (not the one that erased): he deletes his copy
    // and the relay takes nothing of it back.
    b.set_url(&one.ws_url_with_token(&bram.token));
    b.open().await?;
    b.wait_for("the erasure, on reconnecting", |r| r.doc(&id).is_none())
        .await?;
    b.sync().await?;
    assert!(b.repo.entry(&id).is_none());
    let mut fresh = Device::enrolled(&anna, &one.ws_url_with_token(&anna.token))?;
    fresh.connect().await?;
    assert!(
        fresh.fetch(id).await.is_err(),
        "relay one must not have it back"
    );
    let mut fresh = Device::enrolled(&anna, &two.ws_url_with_token(&anna.token))?;
    fresh.connect().await?;
    assert!(
        fresh.fetch(id).await.is_err(),
        "relay two must not have it back"
    );

    // One receipt, whichever relay answers it.
    let mut receipts = Vec::new();
    for relay in [&one, &two] {
        let r = http::get(
            relay.addr,
            &format!("/erasure?token={}&document={id}", carla.token),
        )
        .await?;
        assert_eq!(r.status, 200, "{}", r.body);
        receipts.push(serde_json::from_str::<ErasureReceipt>(&r.body)?);
    }
    assert_eq!(receipts[0], receipts[1]);
    assert!(receipts[0].confirmed >= 2, "{:?}", receipts[0]);
    one.stop().await?;
    two.stop().await
}

/// Two relays writing the same relay-written index at the same moment (each a
/// worker's contact shared with the pact, on its own relay) make two changes that
/// both stay readable: each relay writes under an actor of its own, so the index in
/// the store loads and lists every row (with one actor for both, Automerge refused
/// the second change with the same sequence number).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_writing_one_shared_index_at_once_both_keep_their_rows() -> anyhow::Result<()> {
    use paktum_shared::caseload::CaseloadDoc;
    use paktum_shared::contact::ConsentScope;
    use paktum_sync_server::storage::{PostgresStorage, Storage};

    let Some((url, dir, one, two)) = two_relays(false).await? else {
        return Ok(());
    };
    let directory = Directory::connect(dir.path(), Some(&url))?;
    directory.create_team("kempen-pact", TEAM, false)?;
    let mut devices = Vec::new();
    for (name, relay) in [("Anna", &one), ("Bram", &two)] {
        let (_, code) = directory.invite(TEAM, name, Role::Worker, HOUR, now_ms())?;
        let enrolment = match http::enrol(relay.addr, &code, "test phone").await? {
            Ok(enrolment) => enrolment,
            Err((status, refusal)) => anyhow::bail!("enrolment: {status} {}", refusal.error),
        };
        let mut d = Device::enrolled(&enrolment, &relay.ws_url_with_token(&enrolment.token))?;
        d.connect().await?;
        devices.push(d);
    }
    fn share(
        c: &mut paktum_shared::contact::ContactDoc,
        ed: &paktum_shared::Editor,
    ) -> Result<(), paktum_shared::ModelError> {
        c.give_consent(ed, "2026-11-24".parse().expect("a day"), ConsentScope::Pact)
    }
    let mut rng = Seeded::new(29);
    let mut shared = Vec::new();
    for round in 0..8 {
        let made_a = synthetic::contact(&mut rng, TEAM, round);
        let made_b = synthetic::contact(&mut rng, TEAM, round);
        let [a, b] = &mut devices[..] else {
            unreachable!("two devices")
        };
        // Both at once: each relay writes the team's shared index for its own.
        let (x, y) = tokio::join!(
            async {
                let id = a.create_contact(made_a).await?;
                a.edit_contact(id, share).await?;
                a.sync().await?;
                anyhow::Ok(id)
            },
            async {
                let id = b.create_contact(made_b).await?;
                b.edit_contact(id, share).await?;
                b.sync().await?;
                anyhow::Ok(id)
            }
        );
        shared.extend([x?, y?]);
    }
    // What any relay would load: the stored chunks of the shared index, as one.
    let storage = PostgresStorage::connect(&url)?;
    let stored = storage
        .load(&CaseloadDoc::shared_id_for_team(TEAM))?
        .ok_or_else(|| anyhow::anyhow!("no shared index stored"))?;
    let index = CaseloadDoc::load(&stored.bytes)
        .map_err(|e| anyhow::anyhow!("the stored shared index does not load: {e}"))?;
    for id in &shared {
        assert!(index.entry(id).is_some(), "the shared index lacks {id}");
    }
    one.stop().await?;
    two.stop().await
}
