//! A record that travels whole: the messages that make up most of a first sync,
//! handled on both sides without loading the document.
//!
//! A device that has none of a record asks with empty heads; the relay answers with
//! the whole document, and the device acknowledges with the relay's heads. Loading a
//! document costs about 0.5 ms natively and 1.2 ms in the browser (Automerge
//! recomputes every change hash) and saving it again another 0.1 ms: at 10,000
//! records that was most of a first sync, on the relay and on the device. Both ends
//! can skip it, because each step is exact without the document:
//!
//! - The relay, for an unloaded document whose heads it remembers:
//!   - [`first_contact`]: the answer is the stored bytes (all chunks, which a device
//!     loads in one call like a saved document), our heads, and a `have` that says
//!     "I hold exactly these heads", so whatever the device later writes is sent in
//!     full.
//!   - [`acknowledgement`]: the device holds exactly our heads and asks for nothing:
//!     the sync state advances as Automerge would advance it, and no answer is due.
//! - The device, for a record it holds nothing of: [`arrival`] takes the whole
//!   document as bytes to keep, answers as Automerge would answer once it had applied
//!   them, and leaves loading to the first time the record is read or synced again.
//!   Everything in the document came from the peer, so there is nothing of ours the
//!   peer could lack.
//!
//! Everything else goes the ordinary way (load, receive, generate). The sync states
//! these functions leave are those Automerge leaves, except that the relay's
//! `sent_hashes` stays empty: it only spares re-sending, so a later message may
//! repeat a change (which a peer ignores) but never omits one. `tests` compares each
//! with Automerge itself.

use automerge::ChangeHash;
use automerge::sync::{self, Capability, Have, MessageFlags, MessageVersion};

fn sorted(heads: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut heads = heads.to_vec();
    heads.sort();
    heads
}

/// What receiving `msg` records about the peer, for a message that carries no changes.
fn note_peer(state: &mut sync::State, msg: &sync::Message) {
    state.in_flight = false;
    if let Some(flags) = msg.flags {
        let mut caps = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            caps.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(caps);
        if flags.contains(MessageFlags::SYNC_RESET) {
            state.sent_hashes.clear();
        }
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }
    state.their_have = Some(msg.have.clone());
    state.their_heads = Some(msg.heads.clone());
    state.their_need = Some(msg.need.clone());
}

/// Whether `msg` is a first request from a peer holding none of the document, from
/// a peer that takes whole documents. Only for a connection that has not synced the
/// document yet.
pub fn is_first_contact(msg: &sync::Message) -> bool {
    msg.heads.is_empty()
        && msg.need.is_empty()
        && msg.changes.is_empty()
        && msg.flags.is_some_and(|f| {
            !f.contains(MessageFlags::READ_ONLY) && !f.contains(MessageFlags::SYNC_RESET)
        })
}

/// Answers a [`is_first_contact`] message with the whole stored document. `state` is
/// the connection's new sync state (read-only already set where it applies).
pub fn first_contact(
    msg: &sync::Message,
    state: &mut sync::State,
    heads: &[ChangeHash],
    stored: Vec<u8>,
) -> sync::Message {
    note_peer(state, msg);
    // The peer has nothing: what both hold is nothing, and nothing was sent before.
    state.shared_heads.clear();
    state.sent_hashes.clear();
    state.have_responded = true;
    state.last_sent_heads = heads.to_vec();
    state.in_flight = true;
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    if state.read_only {
        flags.set(MessageFlags::READ_ONLY);
    }
    sync::Message {
        heads: heads.to_vec(),
        need: Vec::new(),
        have: vec![Have {
            last_sync: heads.to_vec(),
            bloom: sync::BloomFilter::default(),
        }],
        changes: stored.into(),
        flags: Some(flags),
        version: MessageVersion::V2,
    }
}

/// Takes in a message that says the peer holds exactly our `heads` and needs nothing
/// more; returns false (leaving `state` untouched) for anything else, which must go
/// the ordinary way. When it returns true there is nothing to answer.
pub fn acknowledgement(msg: &sync::Message, state: &mut sync::State, heads: &[ChangeHash]) -> bool {
    let ours = sorted(heads);
    let plain = msg.changes.is_empty()
        && msg.need.is_empty()
        && sorted(&msg.heads) == ours
        && msg.flags.is_none_or(|f| !f.contains(MessageFlags::SYNC_RESET))
        // What they have beyond our heads would be theirs to send, not ours.
        && msg.have.len() <= 1
        && msg.have.iter().all(|h| sorted(&h.last_sync) == ours)
        // Otherwise Automerge would still send one message to state our heads.
        && state.have_responded
        && sorted(&state.last_sent_heads) == ours
        && !state.needs_reset;
    if !plain {
        return false;
    }
    note_peer(state, msg);
    // They hold all we have: nothing we sent is unseen, and what we share is our heads.
    state.sent_hashes.clear();
    state.shared_heads = msg.heads.clone();
    state.last_sent_heads = msg.heads.clone();
    true
}

/// Takes in a peer's message that brings a whole document to a device holding none of
/// it (its `state` as left by asking with empty heads), without applying it: returns
/// the document's bytes and heads (sorted) to keep, and the answer to send, with
/// `state` as [`automerge::sync::SyncDoc`] would leave it after receiving `msg` and
/// answering. `None` (and `state` untouched) for any other message, which must go
/// the ordinary way.
///
/// The heads are the peer's word: the keeper checks them when it loads the bytes.
pub fn arrival(
    msg: &sync::Message,
    state: &mut sync::State,
) -> Option<(Vec<u8>, Vec<ChangeHash>, sync::Message)> {
    let heads = sorted(&msg.heads);
    let whole = !msg.changes.is_empty()
        && !heads.is_empty()
        && msg.need.is_empty()
        // What they say they had in common with us must be within what they send.
        && msg.have.iter().all(|h| h.last_sync.iter().all(|x| heads.binary_search(x).is_ok()))
        // A device that asked with empty heads and has nothing of its own to send.
        && state.last_sent_heads.is_empty()
        && state.sent_hashes.is_empty()
        && !state.read_only
        && !state.needs_reset;
    if !whole {
        return None;
    }
    let bytes: Vec<u8> = msg.changes.iter().flatten().copied().collect();
    // Receiving: every head of theirs is now ours, so they are what both hold.
    note_peer(state, msg);
    state.shared_heads = msg.heads.clone();
    // Answering: our heads, nothing needed, and that we hold all since their heads.
    state.have_responded = true;
    state.last_sent_heads = heads.clone();
    state.in_flight = true;
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    let answer = sync::Message {
        heads: heads.clone(),
        need: Vec::new(),
        have: vec![Have {
            last_sync: msg.heads.clone(),
            bloom: sync::BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
        }],
        changes: sync::ChunkList::empty(),
        flags: Some(flags),
        version: if state
            .their_capabilities
            .as_ref()
            .is_some_and(|c| c.contains(&Capability::MessageV2))
        {
            MessageVersion::V2
        } else {
            MessageVersion::V1
        },
    };
    Some((bytes, heads, answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ReadDoc};

    fn record(notes: usize) -> Automerge {
        let mut doc = Automerge::new();
        for n in 0..notes {
            let mut tx = doc.transaction();
            tx.put(automerge::ROOT, format!("note {n}"), format!("text {n}"))
                .expect("put");
            tx.commit();
        }
        doc
    }

    fn roundtrip(msg: &sync::Message) -> sync::Message {
        sync::Message::decode(&msg.clone().encode()).expect("decodes")
    }

    /// The fields of a sync state that decide what happens next (all but `sent_hashes`).
    fn decisive(s: &sync::State) -> impl PartialEq + std::fmt::Debug {
        (
            sorted(&s.shared_heads),
            sorted(&s.last_sent_heads),
            s.their_heads.clone(),
            s.their_need.clone(),
            s.their_have.clone(),
            s.in_flight,
            s.have_responded,
            s.their_capabilities.clone(),
            s.read_only,
            s.peer_read_only,
            s.needs_reset,
        )
    }

    #[test]
    fn a_fresh_device_gets_the_document_and_states_agree_with_automerge() {
        for read_only in [false, true] {
            let relay_doc = record(12);
            let heads = relay_doc.get_heads();
            let mut stored = relay_doc.save();
            // A stored document is its chunks one after another: add an incremental one.
            let mut more = relay_doc.fork();
            more.transaction().commit();
            let mut tx = more.transaction();
            tx.put(automerge::ROOT, "status", "in training")
                .expect("put");
            tx.commit();
            stored.extend(more.save_after(&heads));
            let relay_doc = more;
            let heads = relay_doc.get_heads();

            // The device's first message, as a real device generates it.
            let mut device = Automerge::new();
            let mut device_state = sync::State::new();
            let ask = roundtrip(
                &device
                    .generate_sync_message(&mut device_state)
                    .expect("asks"),
            );
            assert!(is_first_contact(&ask));

            // Automerge's own answer, for comparison.
            let mut real = sync::State::new();
            real.set_read_only(read_only);
            let mut loaded = relay_doc.clone();
            loaded
                .receive_sync_message(&mut real, ask.clone())
                .expect("receives");
            let real_answer = loaded.generate_sync_message(&mut real).expect("answers");

            let mut quick = sync::State::new();
            quick.set_read_only(read_only);
            let answer = roundtrip(&first_contact(&ask, &mut quick, &heads, stored.clone()));
            assert_eq!(decisive(&quick), decisive(&real));
            assert_eq!(answer.heads, real_answer.heads);
            assert_eq!(answer.need, real_answer.need);
            assert_eq!(answer.flags, real_answer.flags);

            device
                .receive_sync_message(&mut device_state, answer)
                .expect("the device applies the stored document");
            assert_eq!(device.get_heads(), heads);
            assert_eq!(
                device
                    .get(automerge::ROOT, "status")
                    .expect("reads")
                    .map(|(v, _)| v.to_string()),
                Some("\"in training\"".to_string())
            );

            // The device's acknowledgement: no answer due, states as Automerge leaves them.
            let ack = roundtrip(
                &device
                    .generate_sync_message(&mut device_state)
                    .expect("acks"),
            );
            let mut real_after = real.clone();
            loaded
                .receive_sync_message(&mut real_after, ack.clone())
                .expect("receives");
            assert!(loaded.generate_sync_message(&mut real_after).is_none());
            // Automerge's path, from the state the quick path left.
            let mut quick_real = quick.clone();
            loaded
                .receive_sync_message(&mut quick_real, ack.clone())
                .expect("receives");
            assert!(loaded.generate_sync_message(&mut quick_real).is_none());
            assert!(acknowledgement(&ack, &mut quick, &heads));
            assert_eq!(decisive(&quick), decisive(&real_after));
            assert_eq!(decisive(&quick), decisive(&quick_real));

            // Afterwards the device's own edit reaches the relay in full.
            let mut tx = device.transaction();
            tx.put(automerge::ROOT, "phone", "+36 1 000 0000")
                .expect("put");
            tx.commit();
            let mut relay_state = quick;
            let mut relay = relay_doc.clone();
            for _ in 0..10 {
                let Some(m) = device.generate_sync_message(&mut device_state) else {
                    break;
                };
                relay
                    .receive_sync_message(&mut relay_state, roundtrip(&m))
                    .expect("receives");
                if let Some(reply) = relay.generate_sync_message(&mut relay_state) {
                    device
                        .receive_sync_message(&mut device_state, roundtrip(&reply))
                        .expect("receives");
                }
            }
            if read_only {
                assert_eq!(
                    relay.get_heads(),
                    heads,
                    "a read-only peer's edit is not taken"
                );
            } else {
                assert_eq!(relay.get_heads(), device.get_heads());
            }
        }
    }

    #[test]
    fn anything_but_a_plain_acknowledgement_goes_the_ordinary_way() {
        let doc = record(3);
        let heads = doc.get_heads();
        let mut state = sync::State::new();
        let ask = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .expect("asks");
        let _ = first_contact(&ask, &mut state, &heads, doc.save());

        // A device with a change of its own: heads differ.
        let mut ahead = doc.fork();
        let mut tx = ahead.transaction();
        tx.put(automerge::ROOT, "x", 1).expect("put");
        tx.commit();
        let mut device_state = sync::State::new();
        let theirs = ahead
            .generate_sync_message(&mut device_state)
            .expect("message");
        let before = state.clone();
        assert!(!acknowledgement(&theirs, &mut state, &heads));
        assert_eq!(
            state, before,
            "a refused message leaves the state untouched"
        );

        // A message that asks for changes by hash.
        let mut needy = roundtrip(&theirs);
        needy.heads = heads.clone();
        needy.need = heads.clone();
        assert!(!acknowledgement(&needy, &mut state, &heads));

        // A message before we ever answered (e.g. a new session resuming a saved state).
        let mut fresh = sync::State::new();
        let mut plain = roundtrip(&theirs);
        plain.heads = heads.clone();
        plain.have = vec![];
        assert!(!acknowledgement(&plain, &mut fresh, &heads));
        assert!(acknowledgement(&plain, &mut state, &heads));

        // A first contact that carries changes, or asks read-only, is not one.
        assert!(!is_first_contact(&theirs));
    }

    /// What a real device does with an answer: apply it, then acknowledge.
    fn applied(
        answer: &sync::Message,
        mut state: sync::State,
    ) -> (Automerge, sync::State, Option<sync::Message>) {
        let mut device = Automerge::new();
        device
            .receive_sync_message(&mut state, answer.clone())
            .expect("applies");
        let ack = device.generate_sync_message(&mut state);
        (device, state, ack)
    }

    #[test]
    fn a_device_keeps_a_whole_record_unapplied_and_answers_as_automerge_would() {
        let relay_doc = record(9);
        let heads = relay_doc.get_heads();
        // Both kinds of answer to a first request: the relay's from stored bytes (have:
        // exactly these heads, read-write or read-only) and Automerge's own (have:
        // nothing in common, and a Bloom filter of everything).
        let mut answers = Vec::new();
        for read_only in [false, true] {
            let mut state = sync::State::new();
            state.set_read_only(read_only);
            let ask = Automerge::new()
                .generate_sync_message(&mut sync::State::new())
                .expect("asks");
            answers.push(first_contact(&ask, &mut state, &heads, relay_doc.save()));
            let mut real = sync::State::new();
            let mut loaded = relay_doc.clone();
            loaded
                .receive_sync_message(&mut real, ask)
                .expect("receives");
            answers.push(loaded.generate_sync_message(&mut real).expect("answers"));
        }
        for answer in answers {
            let answer = roundtrip(&answer);
            let mut asked = sync::State::new();
            let _ = Automerge::new().generate_sync_message(&mut asked);
            let (device, real_state, real_ack) = applied(&answer, asked.clone());

            let mut state = asked;
            let (bytes, kept_heads, ack) = arrival(&answer, &mut state).expect("whole");
            assert_eq!(kept_heads, heads);
            assert_eq!(state, real_state);
            assert_eq!(
                ack.clone().encode(),
                real_ack.expect("acknowledges").encode(),
                "the same bytes on the wire"
            );
            let kept = Automerge::load(&bytes).expect("the kept bytes load");
            assert_eq!(kept.get_heads(), device.get_heads());
            assert_eq!(kept.get_heads(), heads);
        }
    }

    #[test]
    fn only_a_whole_record_for_an_empty_device_is_kept_unapplied() {
        let doc = record(3);
        let heads = doc.get_heads();
        let ask = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .expect("asks");
        let answer = first_contact(&ask, &mut sync::State::new(), &heads, doc.save());

        // A device that already sent heads of its own.
        let mine = record(1);
        let mut state = sync::State::new();
        let _ = mine.generate_sync_message(&mut state);
        let before = state.clone();
        assert!(arrival(&answer, &mut state).is_none());
        assert_eq!(
            state, before,
            "a refused message leaves the state untouched"
        );

        let mut asked = sync::State::new();
        let _ = Automerge::new().generate_sync_message(&mut asked);
        // Asking for something back, or a `have` beyond what it sends.
        let mut needy = answer.clone();
        needy.need = heads.clone();
        assert!(arrival(&needy, &mut asked.clone()).is_none());
        let mut beyond = answer.clone();
        beyond.have[0].last_sync = mine.get_heads();
        assert!(arrival(&beyond, &mut asked.clone()).is_none());
        // No changes at all: nothing to keep.
        let mut empty = answer.clone();
        empty.changes = sync::ChunkList::empty();
        assert!(arrival(&empty, &mut asked.clone()).is_none());
        // A read-only device applies nothing, so it keeps nothing either.
        let mut reader = asked.clone();
        reader.set_read_only(true);
        assert!(arrival(&answer, &mut reader).is_none());
        assert!(arrival(&answer, &mut asked).is_some());
    }
}
