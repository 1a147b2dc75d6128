//! A relay in memory for tests of code that syncs: it answers a device's messages at
//! once, one document per id and one sync state per peer and document, with no sockets
//! and no storage. Built for `shared`'s own tests and, through the `testing` feature,
//! for other crates' tests; never part of a release build.

use std::collections::HashMap;

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};

use crate::caseload::{Sharing, apply_shared_writes};
use crate::id::DocumentId;
use crate::protocol::{Message, PROTOCOL_VERSION};
use crate::record::{self, Editor, Kind};

/// How many rounds of messages an exchange may take before a test calls it stuck.
const ROUNDS: usize = 1000;

#[derive(Default)]
pub struct Relay {
    /// What the relay holds; a test may change these to play another device.
    pub docs: HashMap<DocumentId, Automerge>,
    states: HashMap<(String, DocumentId), sync::State>,
}

impl Relay {
    /// The relay's replies to one message. A request for a document nobody has is
    /// answered `doc-unavailable`, as the real relay does.
    ///
    /// # Panics
    /// On a sync message that does not decode or apply: a test double fails loudly.
    pub fn answer(&mut self, msg: Message) -> Vec<Message> {
        let relay = "relay".to_string();
        let asks = matches!(msg, Message::Request { .. });
        match msg {
            Message::Join { sender_id, .. } => {
                // A new session: what was in flight in the last one is forgotten, as a
                // relay that keeps sync states between sessions forgets it.
                for ((peer, _), state) in &mut self.states {
                    if *peer == sender_id {
                        *state = sync::State::decode(&state.encode()).unwrap_or_default();
                    }
                }
                vec![Message::Peer {
                    sender_id: relay,
                    selected_protocol_version: PROTOCOL_VERSION.into(),
                    target_id: sender_id,
                    metadata: None,
                }]
            }
            Message::Request {
                sender_id,
                document_id,
                data,
                ..
            }
            | Message::Sync {
                sender_id,
                document_id,
                data,
                ..
            } => {
                let doc = self.docs.entry(document_id).or_default();
                let state = self
                    .states
                    .entry((sender_id.clone(), document_id))
                    .or_default();
                let message = sync::Message::decode(&data).expect("a sync message");
                let (heads, before) = (doc.get_heads(), Sharing::of(doc));
                doc.receive_sync_message(state, message).expect("applies");
                if doc.get_heads() != heads
                    && let Some(after) = Sharing::of(doc)
                {
                    // As the relay does: the shared indices follow the record's consent.
                    let kind = record::str_at(doc, &automerge::ROOT, "kind")
                        .as_deref()
                        .and_then(Kind::parse)
                        .unwrap_or(Kind::Contact);
                    let heads = doc.get_heads();
                    let editor = Editor::new(automerge::ActorId::random(), "relay", 0);
                    apply_shared_writes(
                        &mut self.docs,
                        &editor,
                        document_id,
                        before.as_ref(),
                        &after,
                        kind,
                        &heads,
                    );
                }
                let doc = self.docs.entry(document_id).or_default();
                let state = self
                    .states
                    .entry((sender_id.clone(), document_id))
                    .or_default();
                if asks && doc.get_heads().is_empty() {
                    return vec![Message::DocUnavailable {
                        sender_id: relay,
                        target_id: sender_id,
                        document_id,
                    }];
                }
                doc.generate_sync_message(state)
                    .map(|m| Message::Sync {
                        sender_id: relay,
                        target_id: sender_id,
                        document_id,
                        data: m.encode(),
                    })
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Exchanges messages with one device until neither side has anything to say:
    /// `out` goes to the relay, each reply to `device`, and what that returns back to
    /// the relay.
    ///
    /// # Panics
    /// If the two are still talking after a thousand rounds.
    pub fn exchange(
        &mut self,
        mut out: Vec<Message>,
        mut device: impl FnMut(Message) -> Vec<Message>,
    ) {
        for _ in 0..ROUNDS {
            let replies: Vec<Message> = out.into_iter().flat_map(|m| self.answer(m)).collect();
            if replies.is_empty() {
                return;
            }
            out = replies.into_iter().flat_map(&mut device).collect();
        }
        panic!("sync did not settle");
    }
}

/// An index row of Anna's contact called `name` (no status, no follow-up), for tests
/// of the index and its erasure.
pub fn contact_row(name: &str) -> crate::caseload::Summary {
    crate::caseload::Summary {
        kind: Kind::Contact,
        name: name.into(),
        status: None,
        worker: "Anna".into(),
        next_follow_up: None,
        follow_up_by: None,
        updated_at: 5,
    }
}
