//! One document on the relay as plain computation (samod-core's shape: events in,
//! effects out). Given a connection's message and the document's state it says what
//! to persist, then what to send to whom; the hub does the I/O in between, so a
//! change is on disk before any reply mentions it. No locks, no storage, no clock.

use std::collections::HashMap;

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;

use super::ConnId;
use crate::auth::{Access, DocClass, Identity, classify};

/// Chunks a document may accumulate before the relay compacts it into one.
pub const COMPACT_AFTER: usize = 64;

/// What kind of protocol message brought the sync data: a `request` is answered
/// `doc-unavailable` when nobody has the document, a `sync` with an empty document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Request,
    Sync,
}

/// What to write to the store before anyone hears of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    /// The change alone, after the chunks already stored.
    Append(Vec<u8>),
    /// The whole document, replacing every stored chunk.
    Compact(Vec<u8>),
}

/// The outcome of taking in one message.
#[derive(Debug)]
pub enum Applied {
    /// Nothing new arrived; the document may still have something to say.
    Unchanged,
    /// New changes: persist them, then call [`Document::persisted`] and fan out
    /// with the document's new class.
    Changed { persist: Persist, class: DocClass },
    /// A `request` for a document nobody has: answer so, keep nothing of it.
    Unknown,
    /// The change would leave the document where the writer may not put it (e.g. in
    /// another pact): the in-memory copy holds it and must be dropped, disk is intact.
    WriteRefused,
    /// The message brought back an index history an erasure retired (a copy from
    /// before the rewrite, whose history names the erased record): the in-memory copy
    /// holds it and must be replaced from disk; the sender is told of the erasure.
    Retired,
    /// The message could not be applied; the in-memory copy may hold part of it
    /// and must be dropped (reloaded from disk on next use).
    Failed(String),
}

/// What the hub sends after a message (once any change is on disk).
#[derive(Debug)]
pub enum Effect {
    Sync {
        to: ConnId,
        message: sync::Message,
    },
    /// The document left this connection's reach (handed to another team).
    Unavailable {
        to: ConnId,
    },
    /// A peer's sync state could not be used and was reset (for the log).
    StateReset {
        to: ConnId,
        reason: String,
    },
}

/// A document the relay holds: its content while loaded, and one sync state per
/// connection syncing it (kept while unloaded).
#[derive(Debug)]
pub struct Document {
    pub id: DocumentId,
    /// Empty while unloaded (see the hub's `documents_in_memory` limit).
    pub doc: Automerge,
    pub loaded: bool,
    /// On disk (at least one chunk).
    pub exists: bool,
    pub chunks: usize,
    /// The store's generation of it when read (an index's rewrites by erasures): its
    /// changes are written only while the store is still there.
    pub generation: u64,
    pub syncs: HashMap<ConnId, sync::State>,
}

impl Document {
    /// A document as read from the store (`doc` empty and `exists` false if absent).
    pub fn loaded(id: DocumentId, doc: Automerge, exists: bool, chunks: usize) -> Self {
        Self {
            id,
            doc,
            loaded: true,
            exists,
            chunks,
            generation: 0,
            syncs: HashMap::new(),
        }
    }

    /// A stored document whose content is not in memory.
    pub fn unloaded(id: DocumentId, chunks: usize) -> Self {
        Self {
            id,
            doc: Automerge::new(),
            loaded: false,
            exists: true,
            chunks,
            generation: 0,
            syncs: HashMap::new(),
        }
    }

    /// A team's caseload index stays loaded once loaded, synced or not: every device of
    /// the team syncs it on every reconnect, and loading one of 10,000 rows costs
    /// ~120 ms (Automerge recomputes every change hash) against ~1 ms to take in a
    /// change. Memory: ~1 MB per 1,000 rows, one index per team. Known by content (its
    /// id is the one derived from the team it names), so also on an open relay. So do
    /// the indices the relay writes after record changes (a team's shared index, a
    /// worker's own index): reloaded at each change, they cost a load per change.
    pub fn stays_loaded(&self) -> bool {
        self.loaded
            && self.exists
            && (CaseloadDoc::check(&self.doc).is_ok_and(|team| {
                CaseloadDoc::id_for_team(&team) == self.id
                    || CaseloadDoc::shared_id_for_team(&team) == self.id
            }) || CaseloadDoc::worker_index_of(&self.id, &self.doc).is_some())
    }

    /// The share-policy class of what is in memory.
    pub fn class(&self, teams: &[String]) -> DocClass {
        classify(&self.id, self.exists.then_some(&self.doc), teams)
    }

    /// Every connection syncing it has told us it holds exactly our heads: nothing is
    /// in flight, so the document can be dropped from memory and reloaded from disk.
    pub fn is_quiet(&self) -> bool {
        let mut ours = self.doc.get_heads();
        ours.sort();
        self.syncs.values().all(|s| {
            s.their_heads.as_ref().is_some_and(|theirs| {
                let mut theirs = theirs.clone();
                theirs.sort();
                theirs == ours
            })
        })
    }

    /// Starts syncing with a connection (from its saved state, if the hub found one);
    /// a read-only connection's changes are never applied.
    pub fn open(&mut self, conn: ConnId, saved: Option<sync::State>, access: Access) {
        let mut state = saved.unwrap_or_default();
        state.set_read_only(access == Access::Read);
        self.syncs.insert(conn, state);
    }

    /// Takes in one message from `conn` (already opened). `writer` is the sender's
    /// identity (`None` when the relay runs open).
    pub fn apply(
        &mut self,
        conn: ConnId,
        message: sync::Message,
        kind: Kind,
        writer: Option<&Identity>,
        teams: &[String],
    ) -> Applied {
        let Some(state) = self.syncs.get_mut(&conn) else {
            return Applied::Unchanged;
        };
        let before = self.doc.get_heads();
        // Read before the message is taken in: its own changes must not decide it.
        let retired = CaseloadDoc::retired_of(&self.doc);
        if let Err(e) = paktum_shared::untrusted::receive(&mut self.doc, state, message) {
            return Applied::Failed(e);
        }
        if self.doc.get_heads() == before {
            if kind == Kind::Request && !self.exists {
                self.syncs.remove(&conn);
                return Applied::Unknown;
            }
            return Applied::Unchanged;
        }
        if CaseloadDoc::holds_retired(&self.doc, &retired) {
            return Applied::Retired;
        }
        let class = classify(&self.id, Some(&self.doc), teams);
        if writer.is_some_and(|w| !w.may_leave_as(&class)) {
            return Applied::WriteRefused;
        }
        let persist = if self.chunks + 1 > COMPACT_AFTER
            || !self.exists && before.is_empty() && self.chunks == 0
        {
            Persist::Compact(self.doc.save())
        } else {
            Persist::Append(self.doc.save_after(&before))
        };
        Applied::Changed { persist, class }
    }

    /// Notes that `persist` is on disk. True if the document was created by it.
    pub fn persisted(&mut self, persist: &Persist) -> bool {
        self.chunks = match persist {
            Persist::Append(_) => self.chunks + 1,
            Persist::Compact(_) => 1,
        };
        let created = !self.exists;
        self.exists = true;
        created
    }

    /// What to send after a message from `from`: its answer, and when the document
    /// changed, the change to every other connection still allowed to have it
    /// (`access` answers for each, given the document's class now).
    pub fn fan_out(
        &mut self,
        from: ConnId,
        changed: Option<&DocClass>,
        access: impl Fn(ConnId, &DocClass) -> Access,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut targets: Vec<ConnId> = self.syncs.keys().copied().collect();
        targets.sort_unstable();
        for to in targets {
            if to != from {
                let Some(class) = changed else { continue };
                if access(to, class) == Access::None {
                    // A record handed over to another team leaves the old team's devices.
                    self.syncs.remove(&to);
                    effects.push(Effect::Unavailable { to });
                    continue;
                }
            }
            let Some(state) = self.syncs.get_mut(&to) else {
                continue;
            };
            match paktum_shared::untrusted::generate(&self.doc, state) {
                Ok(Some(message)) => effects.push(Effect::Sync { to, message }),
                Ok(None) => {}
                Err(reason) => effects.push(Effect::StateReset { to, reason }),
            }
        }
        effects
    }
}

/// The first sync message of a document the relay does not have (what it says to a
/// `sync` for a document that is unknown or refused).
pub fn empty_answer() -> Vec<u8> {
    Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .map(sync::Message::encode)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use automerge::transaction::Transactable;

    const A: ConnId = 1;
    const B: ConnId = 2;

    #[test]
    fn the_indices_stay_loaded_and_records_do_not() {
        let kept =
            |id: DocumentId, doc: Automerge| Document::loaded(id, doc, true, 1).stays_loaded();
        let team = CaseloadDoc::new("kempen").expect("index");
        assert!(kept(CaseloadDoc::id_for_team("kempen"), team.into_doc()));
        let shared = CaseloadDoc::new_shared("kempen").expect("shared");
        assert!(kept(
            CaseloadDoc::shared_id_for_team("kempen"),
            shared.into_doc()
        ));
        let own = CaseloadDoc::new_for_worker("kempen", "Anna").expect("own");
        let own_id = CaseloadDoc::worker_id_for("kempen", "Anna");
        assert!(kept(own_id, own.clone().into_doc()));
        assert!(!kept(DocumentId::random(), own.into_doc()), "not its id");
        assert!(!kept(DocumentId::random(), record("kempen")));
    }

    fn record(team: &str) -> Automerge {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "team", team).expect("put");
        tx.commit();
        doc
    }

    fn edit(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, key, 1).expect("put");
        tx.commit();
    }

    fn worker(team: &str) -> Identity {
        Identity {
            device_id: 1,
            member_id: 1,
            worker: "Anna".into(),
            role: Role::Worker,
            team: team.into(),
            pact: "p".into(),
            pact_teams: vec!["kempen".into(), "herentals".into()],
            own_caseload_only: false,
        }
    }

    /// Runs a device's side against the document until nothing is left to say;
    /// returns everything the document asked to persist.
    fn sync_from(
        document: &mut Document,
        conn: ConnId,
        device: &mut Automerge,
        writer: Option<&Identity>,
    ) -> Vec<Persist> {
        let mut state = sync::State::new();
        let mut persisted = Vec::new();
        for _ in 0..4 {
            let Some(msg) = device.generate_sync_message(&mut state) else {
                break;
            };
            let changed = match document.apply(conn, msg, Kind::Sync, writer, &[]) {
                Applied::Changed { persist, class } => {
                    document.persisted(&persist);
                    persisted.push(persist);
                    Some(class)
                }
                Applied::Unchanged => None,
                other => panic!("unexpected {other:?}"),
            };
            for effect in document.fan_out(conn, changed.as_ref(), |_, _| Access::ReadWrite) {
                if let Effect::Sync { to, message } = effect
                    && to == conn
                {
                    device
                        .receive_sync_message(&mut state, message)
                        .expect("apply");
                }
            }
        }
        persisted
    }

    fn new_document() -> Document {
        Document::loaded(DocumentId::random(), Automerge::new(), false, 0)
    }

    #[test]
    fn a_new_document_is_saved_whole_then_appended_then_compacted() {
        let mut document = new_document();
        document.open(A, None, Access::ReadWrite);
        let mut device = record("kempen");
        let first = sync_from(&mut document, A, &mut device, None);
        assert!(
            matches!(first.as_slice(), [Persist::Compact(_)]),
            "{first:?}"
        );
        assert!(document.exists);
        for n in 0..COMPACT_AFTER {
            edit(&mut device, &format!("k{n}"));
            let next = sync_from(&mut document, A, &mut device, None);
            let expected_compact = n == COMPACT_AFTER - 1;
            assert_eq!(next.len(), 1);
            assert_eq!(matches!(next[0], Persist::Compact(_)), expected_compact);
        }
        assert_eq!(document.chunks, 1);
        assert_eq!(document.doc.get_heads(), device.get_heads());
    }

    #[test]
    fn a_request_for_nothing_is_unknown_and_keeps_no_state() {
        let mut document = new_document();
        document.open(A, None, Access::ReadWrite);
        let ask = Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .expect("msg");
        assert!(matches!(
            document.apply(A, ask, Kind::Request, None, &[]),
            Applied::Unknown
        ));
        assert!(document.syncs.is_empty());
    }

    #[test]
    fn a_change_reaches_the_others_and_a_handover_leaves_who_may_not_follow() {
        let mut document = new_document();
        document.open(A, None, Access::ReadWrite);
        let mut device = record("kempen");
        sync_from(&mut document, A, &mut device, None);
        document.open(B, None, Access::ReadWrite);
        document.open(3, None, Access::ReadWrite);

        // Without a change, only the sender is answered.
        let quiet = document.fan_out(A, None, |_, _| Access::ReadWrite);
        assert!(
            quiet
                .iter()
                .all(|e| matches!(e, Effect::Sync { to: A, .. }))
        );

        // Handed to herentals: connection 3 may not follow it, B may.
        edit(&mut device, "team");
        let mut tx = device.transaction();
        tx.put(automerge::ROOT, "team", "herentals").expect("put");
        tx.commit();
        let msg = device
            .generate_sync_message(&mut sync::State::new())
            .expect("msg");
        document.apply(A, msg, Kind::Sync, None, &[]);
        let class = document.class(&[]);
        let effects = document.fan_out(A, Some(&class), |to, _| {
            if to == 3 {
                Access::None
            } else {
                Access::ReadWrite
            }
        });
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Sync { to: B, .. }))
        );
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Unavailable { to: 3 }))
        );
        assert!(!document.syncs.contains_key(&3));
    }

    #[test]
    fn a_record_written_into_another_pact_is_refused() {
        let mut document = new_document();
        document.open(A, None, Access::ReadWrite);
        let mut device = record("worms");
        let mut state = sync::State::new();
        let writer = worker("kempen");
        let mut refused = false;
        for _ in 0..3 {
            let Some(msg) = device.generate_sync_message(&mut state) else {
                break;
            };
            match document.apply(A, msg, Kind::Sync, Some(&writer), &[]) {
                Applied::WriteRefused => {
                    refused = true;
                    break;
                }
                Applied::Unchanged => {
                    for effect in document.fan_out(A, None, |_, _| Access::ReadWrite) {
                        if let Effect::Sync { message, .. } = effect {
                            device
                                .receive_sync_message(&mut state, message)
                                .expect("apply");
                        }
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(refused);
    }

    /// A copy of an index from before an erasure's rewrite is refused whatever way its
    /// old history arrives; a copy started afresh from the genesis is taken.
    #[test]
    fn an_index_history_retired_by_an_erasure_is_refused_and_a_fresh_one_taken() {
        use automerge::ReadDoc;
        let row = paktum_shared::testing::contact_row;
        let editor = || paktum_shared::Editor::new(automerge::ActorId::random(), "Anna", 1);
        let gone = DocumentId::random();
        let mut old = CaseloadDoc::new("kempen").expect("index");
        old.upsert(&editor(), &[(gone, row("Qzxwvkjyrtpl"), None)])
            .expect("row");
        let rewritten = CaseloadDoc::rewritten("kempen", Some(old.doc()), gone, "2026-12-02", 9)
            .expect("rewritten");
        let id = CaseloadDoc::id_for_team("kempen");
        let stored = || Document::loaded(id, rewritten.doc().clone(), true, 1);

        // The old copy, with an edit made on it before its phone was told.
        let mut stale = old.clone();
        stale
            .upsert(&editor(), &[(DocumentId::random(), row("Bram"), None)])
            .expect("later");
        let mut document = stored();
        document.open(A, None, Access::ReadWrite);
        document.open(B, None, Access::ReadWrite);
        let mut state = sync::State::new();
        let mut outcome = Vec::new();
        for _ in 0..6 {
            let Some(msg) = stale.doc().generate_sync_message(&mut state) else {
                break;
            };
            let applied = document.apply(A, msg, Kind::Sync, None, &[]);
            let retired = matches!(applied, Applied::Retired);
            outcome.push(format!("{applied:?}"));
            if retired {
                break;
            }
            assert!(matches!(applied, Applied::Unchanged), "{applied:?}");
            for effect in document.fan_out(A, None, |_, _| Access::ReadWrite) {
                if let Effect::Sync { to: A, message } = effect {
                    stale
                        .doc_mut()
                        .receive_sync_message(&mut state, message)
                        .expect("apply");
                }
            }
        }
        assert_eq!(
            outcome.last().map(String::as_str),
            Some("Retired"),
            "{outcome:?}"
        );

        // A phone that replaced its copy by the genesis and wrote a row at once.
        let mut fresh = CaseloadDoc::new("kempen").expect("genesis");
        fresh
            .upsert(&editor(), &[(DocumentId::random(), row("Mieke"), None)])
            .expect("row");
        let mut document = stored();
        document.open(B, None, Access::ReadWrite);
        let persisted = sync_from(&mut document, B, fresh.doc_mut(), None);
        assert_eq!(persisted.len(), 1, "{persisted:?}");
        assert!(
            fresh
                .doc()
                .get_heads()
                .iter()
                .all(|h| document.doc.get_change_by_hash(h).is_some())
        );
    }

    #[test]
    fn a_read_only_connection_changes_nothing() {
        let mut document = new_document();
        document.open(A, None, Access::ReadWrite);
        let mut device = record("kempen");
        sync_from(&mut document, A, &mut device, None);
        document.open(B, None, Access::Read);
        let mut reader = device.fork();
        edit(&mut reader, "sneaky");
        let heads = document.doc.get_heads();
        let mut state = sync::State::new();
        for _ in 0..3 {
            if let Some(msg) = reader.generate_sync_message(&mut state) {
                assert!(matches!(
                    document.apply(B, msg, Kind::Sync, None, &[]),
                    Applied::Unchanged
                ));
            }
            for effect in document.fan_out(B, None, |_, _| Access::Read) {
                if let Effect::Sync { message, .. } = effect {
                    let _ = reader.receive_sync_message(&mut state, message);
                }
            }
        }
        assert_eq!(document.doc.get_heads(), heads);
    }
}
