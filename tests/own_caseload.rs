//! "Own caseload only" (issue 15), with the real relay: in a team set so, a worker's
//! device follows the worker's own index and receives no row, name or record of a
//! colleague's caseload; the team's coordinator still sees the whole team (the relay
//! writes the team's rows for such workers); a reassignment moves the row from one
//! worker's index to the other's and the old worker's device deletes its copy. What
//! each device was sent is searched byte by byte for the other's names.

use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{ContactDoc, ContactField, NewContact};
use paktum_shared::{Editor, ModelError};
use paktum_sync_server::auth::Role;
use paktum_tests::Device;
use paktum_tests::pact::{Pact, pact_with};
use paktum_tests::synthetic::{self, Seeded};

fn contact(rng: &mut Seeded, name: &str) -> NewContact {
    NewContact {
        display_name: name.into(),
        ..synthetic::contact(rng, "kempen", 0)
    }
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

fn assign(to: &str) -> impl FnOnce(&mut ContactDoc, &Editor) -> Result<(), ModelError> + '_ {
    move |c, ed| c.set_field(ed, ContactField::AssignedWorker, Some(to))
}

/// An enrolled device that keeps every byte the relay sends it, from the first.
async fn listening(p: &Pact, name: &str, role: Role) -> anyhow::Result<Device> {
    let enrolment = p.enrol("kempen", name, role).await?;
    let url = p.relay.ws_url_with_token(&enrolment.token);
    let mut device = Device::enrolled(&enrolment, &url)?;
    device.heard = Some(Vec::new());
    device.connect().await?;
    Ok(device)
}

fn heard(d: &Device) -> &[u8] {
    d.heard.as_deref().unwrap_or_default()
}

/// The records a device's own index lists (rows of records, not `moved` rows).
fn listed(d: &Device) -> anyhow::Result<Vec<DocumentId>> {
    let mut ids: Vec<DocumentId> = d.index()?.entries().into_iter().map(|e| e.id).collect();
    ids.sort();
    Ok(ids)
}

/// Waits until the device's index lists `id` with `worker` (its changes come live).
async fn until_listed(d: &mut Device, id: DocumentId, worker: &str) -> anyhow::Result<()> {
    let index = d.index_id();
    d.wait_for("the row", |r| {
        r.doc(&index).is_some_and(|doc| {
            CaseloadDoc::entries_of(doc)
                .unwrap_or_default()
                .iter()
                .any(|e| e.id == id && e.summary.worker == worker)
        })
    })
    .await
}

#[tokio::test]
async fn a_worker_of_an_own_caseload_team_receives_only_its_own_rows_and_a_reassignment_moves_them()
-> anyhow::Result<()> {
    let p = pact_with(&["kempen"], |_| {}).await?;
    let mut rng = Seeded::new(1515);
    let (anna_name, bram_name, later_name) = (
        "Zephyrine Oakenfold",
        "Quillon Marchetti",
        "Ysolde Brannigan",
    );
    let mut anna = listening(&p, "Anna", Role::Worker).await?;
    let mut bram = listening(&p, "Bram", Role::Worker).await?;
    assert_eq!(
        anna.index_id(),
        CaseloadDoc::worker_id_for("kempen", "Anna")
    );
    let annas = anna.create_contact(contact(&mut rng, anna_name)).await?;
    anna.sync().await?;
    let brams = bram.create_contact(contact(&mut rng, bram_name)).await?;
    bram.sync().await?;
    anna.sync().await?;

    // Each device lists its own record only, and was sent nothing of the other's.
    assert_eq!(listed(&anna)?, [annas]);
    assert_eq!(listed(&bram)?, [brams]);
    assert!(
        !holds(heard(&anna), bram_name),
        "Bram's contact reached Anna"
    );
    assert!(
        !holds(heard(&bram), anna_name),
        "Anna's contact reached Bram"
    );
    // Asked for anyway (a modified client): refused as unknown. (Bram does not ask for
    // Anna's record: a device refused a record waits for its next session to ask again,
    // and Bram is to receive it below while online.)
    assert!(anna.fetch(brams).await.is_err(), "the colleague's record");
    for (device, index) in [
        (&mut anna, CaseloadDoc::worker_id_for("kempen", "Bram")),
        (&mut bram, CaseloadDoc::worker_id_for("kempen", "Anna")),
    ] {
        assert!(device.fetch(index).await.is_err(), "the colleague's index");
        let team = CaseloadDoc::id_for_team("kempen");
        assert!(
            device.fetch(team).await.is_err(),
            "the team's index names everyone"
        );
    }

    // The team's coordinator sees the whole team: the relay wrote the team's rows.
    let mut lies = listening(&p, "Coordinator Lies", Role::Coordinator).await?;
    assert_eq!(lies.index_id(), CaseloadDoc::id_for_team("kempen"));
    let mut both = vec![annas, brams];
    both.sort();
    assert_eq!(listed(&lies)?, both);
    assert_eq!(lies.contact(&annas)?.display_name, anna_name);
    assert_eq!(lies.contact(&brams)?.display_name, bram_name);
    assert_eq!(
        lies.index()?.entry(&brams).map(|e| e.summary.name),
        Some(bram_name.to_string())
    );

    // The coordinator reassigns Anna's contact to Bram: it leaves Anna's index and
    // device (online, at once), and enters Bram's.
    lies.edit_contact(annas, assign("Bram")).await?;
    lies.sync().await?;
    anna.wait_for("the reassigned contact to go", |r| {
        r.heads(&annas).is_none()
    })
    .await?;
    assert!(anna.deleted.contains(&annas), "deleted from Anna's store");
    assert!(listed(&anna)?.is_empty());
    assert!(
        anna.index()?.entry(&annas).is_none()
            && CaseloadDoc::moved_of(anna.index()?.doc()).contains(&annas),
        "a `moved` row, no name"
    );
    assert!(anna.fetch(annas).await.is_err(), "refused from now on");
    bram.wait_for("the reassigned contact", |r| {
        r.heads(&annas).is_some_and(|h| !h.is_empty())
    })
    .await?;
    assert_eq!(bram.contact(&annas)?.display_name, anna_name);
    assert_eq!(listed(&bram)?, both);

    // A worker hands a contact to a colleague: the relay writes the team's row (the
    // worker may not) and Anna's index; Bram's device drops its copy once it is in.
    let later = bram.create_contact(contact(&mut rng, later_name)).await?;
    bram.sync().await?;
    until_listed(&mut lies, later, "Bram").await?;
    bram.edit_contact(later, assign("Anna")).await?;
    bram.sync().await?;
    bram.wait_for("the handed-over contact to go", |r| {
        r.heads(&later).is_none()
    })
    .await?;
    anna.wait_for("the contact handed to Anna", |r| {
        r.heads(&later).is_some_and(|h| !h.is_empty())
    })
    .await?;
    assert_eq!(listed(&anna)?, [later]);
    assert!(
        !holds(heard(&anna), bram_name),
        "Bram's own contact never reached Anna"
    );
    until_listed(&mut lies, later, "Anna").await?;

    // A contact Anna creates for Bram stays on her device only until the relay has it.
    let mut for_bram = contact(&mut rng, "Orsolya Venkataraman");
    for_bram.assigned_worker = Some("Bram".into());
    let made = anna.create_contact(for_bram).await?;
    anna.sync().await?;
    anna.wait_for("the contact made for Bram to go", |r| {
        r.heads(&made).is_none()
    })
    .await?;
    assert!(anna.deleted.contains(&made));
    assert_eq!(listed(&anna)?, [later]);
    until_listed(&mut bram, made, "Bram").await?;
    until_listed(&mut lies, made, "Bram").await?;
    p.relay.stop().await
}
