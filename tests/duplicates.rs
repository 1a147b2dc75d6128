//! Duplicates with the real relay (issue 15): the same young person entered on two
//! devices; both devices suggest the other record, with its reasons; a coordinator
//! merges one into the other and erases it; after sync the other device has the kept
//! contact with both notes timelines and nothing of the erased one, and the relay
//! refuses the erased id from then on, also from a device that kept a copy offline.

use paktum_shared::DocumentId;
use paktum_shared::contact::duplicates::Reason;
use paktum_shared::contact::{ContactField, NewNote};
use paktum_shared::device::Loadable;
use paktum_shared::erasure::{EraseRequest, ErasureReceipt};
use paktum_sync_server::auth::Role;
use paktum_tests::pact::{Pact, pact};
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, http};

async fn erase(p: &Pact, token: &str, doc: DocumentId) -> anyhow::Result<(u16, String)> {
    let body = serde_json::to_string(&EraseRequest {
        document: doc.to_string(),
    })?;
    let r = http::post_json(p.relay.addr, &format!("/erase?token={token}"), &body).await?;
    Ok((r.status, r.body))
}

fn note(text: &str) -> NewNote {
    NewNote {
        text: text.into(),
        ..Default::default()
    }
}

fn holds_nothing_of(device: &Device, id: &DocumentId) -> bool {
    device.replica().doc(id).is_none() && device.repo.entry(id).is_none()
}

#[tokio::test]
async fn a_duplicate_merged_on_one_device_leaves_the_other_with_both_timelines_and_is_refused_after()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(1515);
    let (mut anna, anna_token) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut carla, carla_token) = p.device("kempen", "Carla", Role::Coordinator).await?;
    let (mut bram, _) = p.device("kempen", "Bram", Role::Worker).await?;

    // Anna meets "Réka Szabó"; Carla, not knowing, enters "szabo reka" with a phone.
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = "Réka Szabó".into();
    let a = anna.create_contact(new).await?;
    anna.edit_contact(a, |c, ed| c.add_note(ed, note("met at the skate park")))
        .await?;
    let mut new = synthetic::contact(&mut rng, "kempen", 1);
    new.display_name = "szabo reka".into();
    let b = carla.create_contact(new).await?;
    carla
        .edit_contact(b, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("+36 30 123 4567"))?;
            c.add_note(ed, note("came to the youth centre"))
        })
        .await?;
    let unrelated = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 2))
        .await?;
    anna.sync().await?;
    carla.sync().await?;
    for device in [&mut anna, &mut carla, &mut bram] {
        device
            .wait_for("both records", |r| {
                [a, b]
                    .iter()
                    .all(|id| r.heads(id).is_some_and(|h| !h.is_empty()))
            })
            .await?;
        device.sync().await?;
    }

    // Each device suggests the other record, saying why; the unrelated one is not.
    let on_anna = anna.repo.duplicates_of(&a, 5);
    assert_eq!(on_anna.len(), 1, "{on_anna:?}");
    assert_eq!(
        (on_anna[0].id, on_anna[0].reasons.clone()),
        (b, vec![Reason::SameName])
    );
    let on_carla = carla.repo.duplicates_of(&b, 5);
    assert_eq!(on_carla.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a]);
    assert!(anna.repo.duplicates_of(&unrelated, 5).is_empty());
    // A worker's device does not merge (the erasure that ends it is a coordinator's).
    assert!(!anna.repo.may_merge());
    assert!(carla.repo.may_merge());

    // Bram goes offline with his copy of B, and writes on it.
    bram.go_offline();
    bram.edit_contact(b, |c, ed| c.add_note(ed, note("written offline")))
        .await?;

    // Carla merges B into A, then erases B.
    let merge = carla.merge_contacts(a, b).await?;
    assert_eq!(merge.notes, 1);
    assert_eq!(merge.filled, vec![ContactField::Phone]);
    carla.sync().await?;
    let (status, body) = erase(&p, &anna_token, b).await?;
    assert_eq!(status, 403, "a worker may not erase: {body}");
    let (status, body) = erase(&p, &carla_token, b).await?;
    assert_eq!(status, 200, "{body}");
    let receipt: ErasureReceipt = serde_json::from_str(&body)?;
    assert_eq!(receipt.by_role, "coordinator");

    // Both devices online: A with both notes and the merge entry; nothing of B.
    for device in [&mut anna, &mut carla] {
        device
            .wait_for("the merge and the erasure", |r| {
                r.doc(&b).is_none()
                    && r.doc(&a).is_some_and(|d| {
                        automerge::ReadDoc::get(d, automerge::ROOT, "merged_from")
                            .ok()
                            .flatten()
                            .is_some()
                    })
            })
            .await?;
        device.sync().await?;
    }
    for device in [&anna, &carla] {
        let kept = device.contact(&a)?;
        let mut texts: Vec<&str> = kept.notes.iter().map(|n| n.text.as_str()).collect();
        texts.sort();
        assert_eq!(texts, ["came to the youth centre", "met at the skate park"]);
        assert_eq!(kept.phone.as_deref(), Some("+36 30 123 4567"));
        assert!(holds_nothing_of(device, &b), "{}", device.team);
        assert!(matches!(device.repo.contact(&b), Loadable::NotHere));
        assert!(device.repo.duplicates_of(&a, 5).is_empty());
    }
    let entries = anna.repo.merged_into(&a);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, b.to_string());
    assert_eq!(entries[0].by, "Carla");

    // Bram reconnects with his copy of B and his offline note: he deletes it, and the
    // relay takes nothing of it back.
    bram.open().await?;
    bram.wait_for("the erasure", |r| r.doc(&b).is_none())
        .await?;
    bram.sync().await?;
    assert!(holds_nothing_of(&bram, &b));
    assert_eq!(bram.contact(&a)?.notes.len(), 2);
    let mut fresh = Device::new("Mieke", "kempen", &p.relay.ws_url_with_token(&anna_token))?;
    fresh.connect().await?;
    assert!(
        fresh.fetch(b).await.is_err(),
        "the relay must not have B back"
    );
    assert!(fresh.repo.entry(&b).is_none());
    assert_eq!(fresh.contact(&a)?.notes.len(), 2);
    Ok(())
}
