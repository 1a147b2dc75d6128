//! Remote wipe with the real relay over WebSocket (issue 16): a worker's phone edits
//! offline, the admin withdraws it (`admin revoke --wipe [--quarantine]`), and when it
//! next reaches the relay it hands in what it had not synced and is wiped. With
//! quarantine its changes wait apart for the coordinator and are not in the
//! documents; without, they are merged. Either way nothing of any document is sent
//! to the withdrawn phone, and a second connection hands in nothing more.

use paktum_shared::DocumentId;
use paktum_shared::contact::{Contact, ContactDoc};
use paktum_shared::record::RecordDoc;
use paktum_shared::refusal::Code;
use paktum_sync_server::auth::{RevokeMode, Role, now_ms};
use paktum_tests::Device;
use paktum_tests::pact::{Pact, pact};
use paktum_tests::synthetic::{self, Seeded};

/// Anna (worker) with a synced contact, Bert (her colleague) holding it too; then
/// Anna goes offline, adds a note to it and makes a second contact. Returns both
/// devices, Anna's device id, the synced contact, the offline one and the note text.
async fn offline_work(
    p: &Pact,
) -> anyhow::Result<(Device, Device, i64, DocumentId, DocumentId, String)> {
    let mut rng = Seeded::new(16);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let synced = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 1))
        .await?;
    anna.sync().await?;
    let (mut bert, _) = p.device("kempen", "Bert", Role::Worker).await?;
    bert.sync().await?;
    anyhow::ensure!(
        bert.contact(&synced).is_ok(),
        "Bert holds the synced contact"
    );
    anna.go_offline();
    let mut note = synthetic::note(&mut rng);
    note.text = format!("offline note {}", rng.next_u64());
    let text = note.text.clone();
    anna.edit_contact(synced, |c, ed| c.add_note(ed, note))
        .await?;
    let offline = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 2))
        .await?;
    anyhow::ensure!(
        anna.repo.pending_count() == 2,
        "two records wait for the relay"
    );
    let device = p
        .directory
        .devices()?
        .into_iter()
        .find(|d| d.worker == "Anna")
        .map(|d| d.device_id)
        .ok_or_else(|| anyhow::anyhow!("Anna's device"))?;
    Ok((anna, bert, device, synced, offline, text))
}

fn note_in(doc: Option<automerge::Automerge>, id: DocumentId) -> Option<Contact> {
    let record = RecordDoc::from_automerge(id, doc?).ok()?;
    ContactDoc::from_record(record).ok()?.read().ok()
}

fn has_note(contact: &Contact, text: &str) -> bool {
    contact.notes.iter().any(|n| n.text == text)
}

#[tokio::test]
async fn a_phone_withdrawn_with_quarantine_hands_in_its_offline_work_apart_and_is_wiped()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let (mut anna, bert, device, synced, offline, text) = offline_work(&p).await?;
    assert!(
        p.directory
            .revoke_with(device, RevokeMode::WipeQuarantine, now_ms())?
    );

    let before = anna.traffic.received_messages;
    let withdrawal = anna.reach_relay_withdrawn().await?;
    assert_eq!(withdrawal.code, Some(Code::WithdrawnQuarantined));
    assert!(withdrawal.quarantined());
    // Both records and the index row of the new one.
    assert_eq!(withdrawal.kept, 3, "{withdrawal:?}");
    assert_eq!(
        anna.traffic.received_messages - before,
        3,
        "peer, wipe and wiped: nothing of a document reaches a withdrawn phone"
    );
    assert_eq!(
        anna.replica().len(),
        1,
        "the phone holds nothing but a fresh index"
    );

    // The quarantine lists ids, the device and the time; the documents do not hold it.
    let quarantined = p.directory.quarantine()?;
    let docs: Vec<DocumentId> = quarantined.iter().map(|q| q.doc).collect();
    assert!(
        docs.contains(&synced) && docs.contains(&offline),
        "{docs:?}"
    );
    assert!(
        quarantined
            .iter()
            .all(|q| q.device_id == device && q.bytes > 0)
    );
    // A device enrolled now gets the relay's documents as they are.
    let (mut carla, _) = p.device("kempen", "Carla", Role::Worker).await?;
    drop(bert);
    let relay_copy = carla.contact(&synced)?;
    assert!(!has_note(&relay_copy, &text), "the offline note was merged");
    assert!(
        carla.fetch(offline).await.is_err(),
        "the contact made offline reached the documents"
    );
    // What is quarantined is the real change: on top of the relay's copy it adds the note.
    let seq = quarantined
        .iter()
        .find(|q| q.doc == synced)
        .map(|q| q.seq)
        .unwrap_or_default();
    let data = p.directory.quarantined_data(seq)?.unwrap_or_default();
    let mut doc = carla.replica().doc(&synced).cloned().unwrap_or_default();
    doc.load_incremental(&data)?;
    let merged = note_in(Some(doc), synced).ok_or_else(|| anyhow::anyhow!("unreadable"))?;
    assert!(
        has_note(&merged, &text),
        "the quarantined change holds the note"
    );

    // Once wiped, a connection gets the wipe again and hands in nothing more.
    let again = anna.reach_relay_withdrawn().await?;
    assert_eq!(again.kept, 0);
    assert_eq!(p.directory.quarantine()?.len(), quarantined.len());
    let events = p.audit_events(|e| e.iter().any(|e| e == "wiped")).await?;
    assert_eq!(
        events.iter().filter(|e| *e == "wiped").count(),
        1,
        "{events:?}"
    );
    p.relay.stop().await
}

#[tokio::test]
async fn a_phone_withdrawn_with_a_plain_wipe_hands_in_its_offline_work_merged() -> anyhow::Result<()>
{
    let p = pact(|_| {}).await?;
    let (mut anna, mut bert, device, synced, offline, text) = offline_work(&p).await?;
    assert!(
        p.directory
            .revoke_with(device, RevokeMode::Wipe, now_ms())?
    );
    let withdrawal = anna.reach_relay_withdrawn().await?;
    assert_eq!(withdrawal.code, Some(Code::Withdrawn));
    assert!(!withdrawal.quarantined());
    assert!(p.directory.quarantine()?.is_empty());
    // Bert is online: the merged changes reach him as any colleague's would.
    bert.wait_for("the handed-in note", |r| {
        note_in(r.doc(&synced).cloned(), synced).is_some_and(|c| has_note(&c, &text))
    })
    .await?;
    bert.wait_for("the contact made offline, listed in the index", |r| {
        r.doc(&offline).is_some() && r.is_settled(&offline)
    })
    .await?;
    assert!(bert.contact(&offline).is_ok(), "the contact made offline");
    p.relay.stop().await
}

#[tokio::test]
async fn a_plain_revocation_still_refuses_the_phone_and_wipes_nothing() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let (mut anna, _bert, device, _, _, _) = offline_work(&p).await?;
    assert!(
        p.directory
            .revoke_with(device, RevokeMode::Plain, now_ms())?
    );
    assert!(anna.open().await.is_err(), "a revoked phone is refused");
    assert_eq!(anna.repo.pending_count(), 2, "and keeps its work");
    assert!(p.directory.quarantine()?.is_empty());
    p.relay.stop().await
}
