//! Consent gates sharing (issue 15), with the real relay: a contact of one team reaches
//! the devices of the pact's other teams (their coordinators) only while its consent is
//! active and of the pact's scope, and leaves them at their next sync once withdrawn.
//! What the coordinator's device was sent is searched byte by byte for the names.

use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{ConsentScope, ContactDoc, NewContact};
use paktum_shared::employer::EmployerDoc;
use paktum_shared::{Editor, ModelError};
use paktum_sync_server::auth::Role;
use paktum_sync_server::storage::{PostgresStorage, SqliteStorage, Storage};
use paktum_tests::Device;
use paktum_tests::pact::{Pact, pact, pact_with};
use paktum_tests::synthetic::{self, Seeded};

fn day(d: &str) -> paktum_shared::Day {
    d.parse().expect("a day")
}

fn give(scope: ConsentScope) -> impl FnOnce(&mut ContactDoc, &Editor) -> Result<(), ModelError> {
    move |c, ed| c.give_consent(ed, day("2026-11-24"), scope)
}

fn withdraw(c: &mut ContactDoc, ed: &Editor) -> Result<(), ModelError> {
    c.withdraw_consent(ed, day("2026-11-25"))
}

/// A synthetic contact of `team` whose display name is `name` (unique per test, so a
/// byte search for it cannot hit anything else).
fn contact(rng: &mut Seeded, team: &str, name: &str) -> NewContact {
    NewContact {
        display_name: name.into(),
        ..synthetic::contact(rng, team, 0)
    }
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// An enrolled device that keeps every byte the relay sends it, from the first.
async fn listening(p: &Pact, team: &str, name: &str, role: Role) -> anyhow::Result<Device> {
    let enrolment = p.enrol(team, name, role).await?;
    let url = p.relay.ws_url_with_token(&enrolment.token);
    let mut device = Device::enrolled(&enrolment, &url)?;
    device.heard = Some(Vec::new());
    device.connect().await?;
    Ok(device)
}

fn heard(d: &Device) -> &[u8] {
    d.heard.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn another_teams_coordinator_receives_a_contact_only_with_consent_to_share_with_the_pact()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(15);
    let (shared_name, team_name, none_name) = (
        "Zephyrine Oakenfold",
        "Quillon Marchetti",
        "Ysolde Brannigan",
    );
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let shared = anna
        .create_contact(contact(&mut rng, "kempen", shared_name))
        .await?;
    let team_only = anna
        .create_contact(contact(&mut rng, "kempen", team_name))
        .await?;
    let no_consent = anna
        .create_contact(contact(&mut rng, "kempen", none_name))
        .await?;
    anna.edit_contact(shared, give(ConsentScope::Team)).await?;
    anna.edit_contact(team_only, give(ConsentScope::Team))
        .await?;
    anna.sync().await?;

    // A coordinator of herentals, same pact: none of kempen's contacts, no kempen index.
    let mut kim = listening(&p, "herentals", "Coordinator Kim", Role::Coordinator).await?;
    let not_here = |kim: &Device, id: &DocumentId| kim.replica().doc(id).is_none();
    for id in [shared, team_only, no_consent] {
        assert!(not_here(&kim, &id));
        assert_eq!(kim.repo.team_of(&id), None);
    }
    assert!(
        kim.fetch(team_only).await.is_err(),
        "refused on request too"
    );
    assert!(
        kim.fetch(CaseloadDoc::id_for_team("kempen")).await.is_err(),
        "kempen's index names everyone"
    );
    for name in [shared_name, team_name, none_name] {
        assert!(!holds(heard(&kim), name), "{name} reached the coordinator");
    }
    assert!(kim.repo.pact_records().contacts.is_empty());

    // Consent to share with the pact's partners: it reaches Kim, online, at once.
    anna.edit_contact(shared, give(ConsentScope::Pact)).await?;
    anna.sync().await?;
    kim.wait_for("the shared contact", |r| {
        r.heads(&shared).is_some_and(|h| !h.is_empty())
    })
    .await?;
    assert_eq!(kim.contact(&shared)?.display_name, shared_name);
    assert_eq!(kim.repo.team_of(&shared), Some("kempen"));
    assert!(!kim.repo.can_edit(&shared), "read-only");
    assert!(
        holds(heard(&kim), shared_name),
        "the search finds a name that came"
    );
    for name in [team_name, none_name] {
        assert!(!holds(heard(&kim), name), "{name} reached the coordinator");
    }
    // A shared index row holds no personal data: the name came in the record only.
    let shared_index = kim
        .replica()
        .doc(&CaseloadDoc::shared_id_for_team("kempen"))
        .expect("kempen's shared index")
        .clone();
    assert!(!holds(&shared_index.clone().save_nocompress(), shared_name));
    assert_eq!(
        CaseloadDoc::entries_of(&shared_index)?
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [shared]
    );

    // Withdrawn while Kim is offline: Kim's device drops it at its next sync.
    kim.go_offline();
    anna.edit_contact(shared, withdraw).await?;
    anna.sync().await?;
    kim.connect().await?;
    kim.wait_for("the withdrawn contact to go", |r| {
        r.heads(&shared).is_none()
    })
    .await?;
    assert_eq!(kim.deleted, [shared], "deleted from its store");
    assert_eq!(kim.repo.team_of(&shared), None);
    assert!(
        kim.repo.pact_records().contacts.is_empty(),
        "and from its figures"
    );
    assert!(kim.fetch(shared).await.is_err(), "refused from now on");

    // The team's own devices are unaffected throughout, and so is its coordinator.
    let (bram, _) = p.device("kempen", "Bram", Role::Worker).await?;
    let (lies, _) = p
        .device("kempen", "Coordinator Lies", Role::Coordinator)
        .await?;
    for device in [&anna, &bram, &lies] {
        for (id, name) in [
            (shared, shared_name),
            (team_only, team_name),
            (no_consent, none_name),
        ] {
            assert_eq!(device.contact(&id)?.display_name, name);
        }
    }
    p.relay.stop().await
}

#[tokio::test]
async fn a_coordinator_online_when_consent_is_withdrawn_is_told_at_once() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(16);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let id = anna
        .create_contact(contact(&mut rng, "kempen", "Orsolya Venkataraman"))
        .await?;
    anna.edit_contact(id, give(ConsentScope::Pact)).await?;
    anna.sync().await?;
    let (mut kim, _) = p
        .device("herentals", "Coordinator Kim", Role::Coordinator)
        .await?;
    assert!(kim.contact(&id).is_ok());
    // A coordinator of another pact never gets it, consent or not.
    let (mut max, _) = p
        .device("worms", "Coordinator Max", Role::Coordinator)
        .await?;
    assert!(max.fetch(id).await.is_err());

    anna.edit_contact(id, withdraw).await?;
    anna.sync().await?;
    kim.wait_for("the withdrawn contact to go", |r| r.heads(&id).is_none())
        .await?;
    assert_eq!(kim.deleted, [id]);
    // Given again, with the team's scope only: still not shared.
    anna.edit_contact(id, give(ConsentScope::Team)).await?;
    anna.sync().await?;
    assert!(kim.fetch(id).await.is_err());
    p.relay.stop().await
}

/// Records stored before the relay kept shared and own indices (an upgraded relay's
/// data): the start-up pass lists them, so another team's coordinator gets the shared
/// ones and an own-caseload-only worker its own, without any of them changing.
#[tokio::test]
async fn records_stored_before_the_shared_index_reach_another_teams_coordinator_after_a_restart()
-> anyhow::Result<()> {
    let (shared_name, kept_name, employer_name) = (
        "Zephyrine Oakenfold",
        "Quillon Marchetti",
        "Brannigan Bakeries",
    );
    let mut stored = Vec::new();
    let p = pact_with(&["kempen"], |config| {
        let mut rng = Seeded::new(1516);
        let ed = Editor::new(automerge::ActorId::random(), "Anna", 1_795_521_600_000);
        let mut shared =
            ContactDoc::create(&ed, contact(&mut rng, "kempen", shared_name)).expect("contact");
        shared
            .give_consent(&ed, day("2026-11-24"), ConsentScope::Pact)
            .expect("consent");
        let mut kept = contact(&mut rng, "kempen", kept_name);
        kept.assigned_worker = Some("Bram".into());
        let kept = ContactDoc::create(&ed, kept).expect("contact");
        let employer = EmployerDoc::create(&ed, "kempen", employer_name).expect("employer");
        let store: Box<dyn Storage> = match &config.database {
            Some(url) => Box::new(PostgresStorage::connect(url).expect("store")),
            None => Box::new(SqliteStorage::open(&config.data_dir).expect("store")),
        };
        for record in [shared.record(), kept.record(), employer.record()] {
            store
                .append(&record.id(), &record.doc().save())
                .expect("stored");
            stored.push(record.id());
        }
    })
    .await?;
    let [shared, kept, employer] = stored[..] else {
        anyhow::bail!("three records stored")
    };

    let mut kim = listening(&p, "herentals", "Coordinator Kim", Role::Coordinator).await?;
    let shared_index = CaseloadDoc::shared_id_for_team("kempen");
    let mut listed: Vec<DocumentId> = CaseloadDoc::entries_of(
        kim.replica()
            .doc(&shared_index)
            .expect("kempen's shared index"),
    )?
    .iter()
    .map(|e| e.id)
    .collect();
    listed.sort();
    let mut both = vec![shared, employer];
    both.sort();
    assert_eq!(listed, both, "the consented contact and the employer");
    assert_eq!(kim.contact(&shared)?.display_name, shared_name);
    assert!(kim.fetch(kept).await.is_err());
    assert!(!holds(heard(&kim), kept_name), "no consent, no name");

    // The own-caseload-only worker's own index was built too.
    let anna = listening(&p, "kempen", "Anna", Role::Worker).await?;
    let own: Vec<DocumentId> = anna.index()?.entries().iter().map(|e| e.id).collect();
    assert_eq!(own, [shared]);
    assert!(!holds(heard(&anna), kept_name), "Bram's contact");
    p.relay.stop().await
}
