//! Hostile bytes against everything that parses what the network or the disk hands
//! us: the document loader (stored chunks), the Automerge sync-message path the relay
//! runs for every incoming message, and the model readers on top. Each case starts
//! from real bytes and mutates them (flips, inserts, deletes, truncations, splices),
//! which reaches much deeper than random noise.
//!
//! The normal test run does a few hundred cases per property. For a long fuzzing run:
//!     PROPTEST_CASES=200000 cargo test --release -p paktum-shared --test fuzz
//! Everything must end in `Ok` or `Err`; a panic fails the property and proptest
//! shrinks the input to a minimal reproducer.

#![cfg(not(target_arch = "wasm32"))]

use std::sync::OnceLock;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, Automerge};
use paktum_shared::caseload::{CaseloadDoc, Summary};
use paktum_shared::contact::{Channel, ContactDoc, ContactField, NewContact, NewNote, Status};
use paktum_shared::employer::EmployerDoc;
use paktum_shared::protocol::Message;
use paktum_shared::record::RecordDoc;
use paktum_shared::{DocumentId, Editor};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const T0: i64 = 1_795_521_600_000;

/// Real bytes to start from: saved records, incremental chunks, an index, sync
/// messages and protocol envelopes.
struct Seeds {
    id: DocumentId,
    base: Automerge,
    inputs: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let ed = Editor::new(ActorId::random(), "Anna", T0);
        let mut contact = ContactDoc::create(
            &ed,
            NewContact {
                team: "kempen".into(),
                display_name: "Réka Dominik".into(),
                first_contact_on: "2026-11-20".parse().expect("day"),
                channel: Channel::YouthCentre,
                place: Some("Kőszeg".into()),
                assigned_worker: None,
            },
        )
        .expect("contact");
        let id = contact.record().id();
        let base = contact.record().doc().fork();
        let before = contact.record().heads();
        for i in 0..3 {
            contact
                .add_note(
                    &ed.at(T0 + i),
                    NewNote {
                        text: format!("Meeting {i}: CV and bus pass"),
                        ..Default::default()
                    },
                )
                .expect("note");
        }
        contact
            .change_status(&ed.at(T0 + 9), Status::Engaged, None)
            .expect("status");
        contact
            .set_field(&ed.at(T0 + 10), ContactField::Municipality, Some("Bük"))
            .expect("field");
        let full = contact.record().save();
        let incremental = contact.record().save_after(&before);

        let employer = EmployerDoc::create(&ed, "kempen", "Bakkerij Noor").expect("employer");
        let mut index = CaseloadDoc::new("kempen").expect("index");
        index
            .upsert(
                &ed,
                &[(
                    id,
                    Summary::of(contact.record()).expect("summary"),
                    Some(contact.record().heads()),
                )],
            )
            .expect("upsert");

        // A sync exchange from a fresh peer and from one that has the base.
        let mut sync_messages = Vec::new();
        for mut peer in [Automerge::new(), base.fork()] {
            let mut ours = sync::State::new();
            let mut theirs = sync::State::new();
            for _ in 0..4 {
                if let Some(m) = contact.record().doc().generate_sync_message(&mut ours) {
                    sync_messages.push(m.clone().encode());
                    peer.receive_sync_message(&mut theirs, m).expect("sync");
                }
                if let Some(m) = peer.generate_sync_message(&mut theirs) {
                    let mut doc = contact.record().doc().fork();
                    doc.receive_sync_message(&mut ours, m).expect("sync");
                }
            }
        }
        let envelope = Message::Sync {
            sender_id: "peer-a".into(),
            target_id: "relay".into(),
            document_id: id,
            data: sync_messages[0].clone(),
        }
        .encode();

        let mut inputs = vec![
            full.clone(),
            [full.clone(), incremental.clone()].concat(),
            incremental,
            employer.record().save(),
            index.save(),
            envelope,
        ];
        inputs.extend(sync_messages);
        Seeds { id, base, inputs }
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    Duplicate { at: usize, len: usize },
    Splice { seed: usize, from: usize, at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(seed, from, at)| Mutation::Splice { seed, from, at }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let inputs = &seeds().inputs;
    for m in mutations {
        let n = bytes.len().max(1);
        match m {
            Mutation::Flip { at, byte } => {
                if !bytes.is_empty() {
                    bytes[at % n] ^= byte | 1;
                }
            }
            Mutation::Insert { at, bytes: new } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate { at } => bytes.truncate(at % n),
            Mutation::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(end..end, copy);
                }
            }
            Mutation::Splice { seed, from, at } => {
                let other = &inputs[seed % inputs.len()];
                let from = from % other.len().max(1);
                let at = at % (bytes.len() + 1);
                bytes.truncate(at);
                bytes.extend_from_slice(&other[from..]);
            }
        }
    }
    bytes
}

/// Automerge rejects a chunk whose checksum (the first 4 bytes of SHA-256 over type,
/// length and data) does not match, before parsing any column. Re-stamping it after a
/// mutation sends the bytes past that gate into the column decoders.
fn restamp_checksum(bytes: &mut [u8]) {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return;
    }
    let (mut len, mut shift, mut at) = (0usize, 0u32, 9usize);
    loop {
        let Some(&b) = bytes.get(at) else { return };
        len |= usize::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        at += 1;
        shift += 7;
        if b & 0x80 == 0 || shift > 56 {
            break;
        }
    }
    let end = at.saturating_add(len).min(bytes.len());
    let mut hasher = Sha256::new();
    hasher.update(&bytes[8..at]);
    hasher.update(&bytes[at..end]);
    let digest = hasher.finalize();
    bytes[4..8].copy_from_slice(&digest[..4]);
}

/// Everything the app and relay do with bytes from storage.
fn load_everything(bytes: &[u8]) {
    let id = seeds().id;
    if let Ok(record) = RecordDoc::load(id, bytes) {
        let _ = record.history();
        let _ = Summary::of(&record);
        if let Ok(contact) = ContactDoc::from_record(record) {
            let _ = contact.read();
        }
    }
    if let Ok(employer) = EmployerDoc::load(id, bytes) {
        let _ = employer.read();
    }
    if let Ok(index) = CaseloadDoc::load(bytes) {
        let _ = index.entries();
    }
}

/// What the relay does with a message's sync data for a document it holds, then
/// what a reader does with the result.
fn receive_sync(bytes: &[u8]) {
    if let Ok(msg) = sync::Message::decode(bytes) {
        let mut doc = seeds().base.fork();
        let mut state = sync::State::new();
        if paktum_shared::untrusted::receive(&mut doc, &mut state, msg).is_ok() {
            let _ = paktum_shared::untrusted::generate(&doc, &mut state);
            let _ = doc.save();
            if let Ok(record) = RecordDoc::from_automerge(seeds().id, doc) {
                let _ = ContactDoc::from_record(record).and_then(|c| c.read());
            }
        }
    }
}

proptest! {
    #[test]
    fn loading_mutated_documents_never_panics(
        seed in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..6),
        restamp in any::<bool>(),
    ) {
        let inputs = &seeds().inputs;
        let mut bytes = mutate(inputs[seed % inputs.len()].clone(), &mutations);
        if restamp {
            restamp_checksum(&mut bytes);
        }
        load_everything(&bytes);
    }

    #[test]
    fn receiving_mutated_sync_messages_never_panics(
        seed in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let inputs = &seeds().inputs;
        let bytes = mutate(inputs[seed % inputs.len()].clone(), &mutations);
        receive_sync(&bytes);
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        load_everything(&bytes);
        receive_sync(&bytes);
    }
}

/// Re-stamping really gets mutated bytes past the checksum: a flipped byte in a
/// note's text is refused as it is, and with a fresh checksum it is parsed (and the
/// changed text is refused only by the change-hash check, or loads).
#[test]
fn restamped_bytes_reach_the_decoder() {
    let s = seeds();
    let original = &s.inputs[0];
    let mut outcomes = std::collections::BTreeSet::new();
    let (mut refused_raw, mut parsed_restamped) = (0, 0);
    for at in (12..original.len()).step_by(7) {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        if paktum_shared::untrusted::load(&bytes).is_err() {
            refused_raw += 1;
        }
        restamp_checksum(&mut bytes);
        match paktum_shared::untrusted::load(&bytes) {
            Ok(_) => {
                parsed_restamped += 1;
                outcomes.insert("ok".to_string());
            }
            Err(e) => {
                outcomes.insert(e.to_string().chars().take(24).collect());
            }
        }
    }
    assert!(refused_raw > 0, "plain flips are refused by the checksum");
    assert!(
        outcomes.len() > 2 || parsed_restamped > 0,
        "restamped flips reach different decoder paths: {outcomes:?}"
    );
}

/// The seeds themselves are valid, so mutations start from bytes that parse deep.
#[test]
fn seeds_parse() {
    let s = seeds();
    assert!(RecordDoc::load(s.id, &s.inputs[0]).is_ok());
    assert!(RecordDoc::load(s.id, &s.inputs[1]).is_ok());
    assert!(CaseloadDoc::load(&s.inputs[4]).is_ok());
    assert!(Message::decode(&s.inputs[5]).is_ok());
    assert!(s.inputs.len() > 7, "sync messages were captured");
    assert!(sync::Message::decode(&s.inputs[6]).is_ok());
}
