//! A device's side of syncing with the relay, as a pure state machine: feed it the
//! relay's messages, send what it returns. It syncs the team's caseload index first,
//! then only the records the index shows changed plus the ones changed locally, a
//! window at a time, and reports progress. The app and the Rust test clients both
//! drive it; neither re-implements the protocol.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

use automerge::sync;
use automerge::{Automerge, ChangeHash, ReadDoc};
use thiserror::Error;

use crate::id::DocumentId;
use crate::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};
use plan::IndexPlan;

/// How many record documents are synced at once; bounds memory and message bursts.
const WINDOW: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReplicaError {
    #[error("the relay speaks protocol version {0}, this app speaks {PROTOCOL_VERSION}")]
    Version(String),
    #[error("the relay sent a message before the handshake")]
    NotConnected,
    /// The relay's `error` message: its sentence, and its code when it sent one this
    /// build knows (the app words the code, the sentence is for logs and old relays).
    #[error("the relay closed the session: {message}")]
    Remote {
        message: String,
        code: Option<crate::refusal::Code>,
    },
    #[error("a sync message for {0} could not be applied: {1}")]
    BadSync(DocumentId, String),
}

/// Where a session stands, for the sync status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Records (and the index) finished this session.
    pub done: usize,
    /// Records (and the index) this session set out to sync.
    pub total: usize,
}

/// A document as the replica holds it.
#[derive(Debug)]
enum Slot {
    Loaded(Automerge),
    /// Arrived whole ([`crate::whole::arrival`]) and kept as the bytes that came, with
    /// the heads the relay named; loaded the first time it is read or synced again.
    Kept {
        bytes: Vec<u8>,
        heads: Vec<ChangeHash>,
        /// Loaded for a reader (who cannot change the slot); taken when it is.
        read: OnceLock<Automerge>,
    },
}

impl Slot {
    /// The heads, sorted, without loading.
    fn heads(&self) -> Vec<ChangeHash> {
        match self {
            Slot::Loaded(doc) => doc.get_heads(),
            Slot::Kept { heads, .. } => heads.clone(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Slot::Loaded(doc) => doc.get_heads().is_empty(),
            Slot::Kept { .. } => false,
        }
    }

    /// Whether the document holds change `hash`: a lookup in the change graph (not
    /// `get_change_by_hash`, which rebuilds the whole change). A kept document loads
    /// only for a hash other than its heads (an index row older than the record).
    fn has(&self, hash: &ChangeHash) -> bool {
        match self {
            Slot::Kept { heads, .. } if heads.contains(hash) => true,
            slot => slot.doc().get_missing_deps(&[*hash]).is_empty(),
        }
    }

    fn doc(&self) -> &Automerge {
        match self {
            Slot::Loaded(doc) => doc,
            Slot::Kept { bytes, read, .. } => read.get_or_init(|| load_kept(bytes)),
        }
    }
}

/// Loads kept bytes. Bytes that do not load leave an empty document, which the sync
/// state reset in [`Replica::loaded`] makes the next session fetch again.
fn load_kept(bytes: &[u8]) -> Automerge {
    crate::untrusted::load(bytes).unwrap_or_default()
}

#[derive(Debug)]
pub struct Replica {
    peer_id: String,
    metadata: PeerMetadata,
    remote: Option<String>,
    /// The caseload indices followed: the team's own first, then (a coordinator's
    /// device) the pact's other teams.
    indices: Vec<DocumentId>,
    docs: HashMap<DocumentId, Slot>,
    states: HashMap<DocumentId, sync::State>,
    /// Documents synced in this session: the relay forwards their changes to us.
    active: HashSet<DocumentId>,
    queue: VecDeque<DocumentId>,
    /// The members of `queue`, for O(1) membership checks.
    queued: HashSet<DocumentId>,
    /// Documents with changes the relay has not confirmed, kept up to date as
    /// documents or sync states change (a walk over 10,000 documents per message
    /// was most of a reconnect's client time).
    pending: HashSet<DocumentId>,
    in_progress: HashSet<DocumentId>,
    unavailable: HashSet<DocumentId>,
    /// Documents whose content changed by sync since the caller last asked.
    changed: BTreeSet<DocumentId>,
    /// Documents whose sync state changed since the caller last asked.
    states_changed: BTreeSet<DocumentId>,
    /// Per index followed, what the last plan read of it (see [`Replica::plan_from_index`]).
    plans: HashMap<DocumentId, IndexPlan>,
    /// Records whose copy here was added, replaced or dropped since the last plan: a
    /// row that did not change may be ahead of a copy that did.
    touched: HashSet<DocumentId>,
    progress: Progress,
    /// Set once the relay said this device was withdrawn and wiped (`paktum-wiped`).
    withdrawn: Option<wipe::Withdrawal>,
}

impl Replica {
    /// `storage_id` names this device's persistent store; with it the relay keeps our
    /// sync state between sessions, so reconnecting costs only what changed.
    pub fn new(peer_id: impl Into<String>, storage_id: Option<String>) -> Self {
        Self {
            peer_id: peer_id.into(),
            metadata: PeerMetadata {
                is_ephemeral: storage_id.is_none(),
                storage_id,
            },
            remote: None,
            indices: Vec::new(),
            docs: HashMap::new(),
            states: HashMap::new(),
            active: HashSet::new(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            pending: HashSet::new(),
            in_progress: HashSet::new(),
            unavailable: HashSet::new(),
            changed: BTreeSet::new(),
            states_changed: BTreeSet::new(),
            plans: HashMap::new(),
            touched: HashSet::new(),
            progress: Progress { done: 0, total: 0 },
            withdrawn: None,
        }
    }

    /// Syncs this index first (with any others followed) and plans record syncs from
    /// it. Following the same index twice follows it once.
    pub fn follow_index(&mut self, index_id: DocumentId) {
        if !self.indices.contains(&index_id) {
            self.indices.push(index_id);
        }
    }

    /// Whether `id` is one of the indices followed.
    pub fn is_index(&self, id: &DocumentId) -> bool {
        self.indices.contains(id)
    }

    /// The indices followed, and how many of them this device holds (with content).
    pub fn indices_known(&self) -> (usize, usize) {
        let known = self
            .indices
            .iter()
            .filter(|id| self.docs.get(id).is_some_and(|slot| !slot.is_empty()))
            .count();
        (self.indices.len(), known)
    }

    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// Adds a document loaded from the device store, with its saved sync state.
    pub fn insert(&mut self, id: DocumentId, doc: Automerge, state: Option<sync::State>) {
        self.docs.insert(id, Slot::Loaded(doc));
        self.touched.insert(id);
        if let Some(state) = state {
            self.states.insert(id, state);
        }
        self.recheck(id);
    }

    /// Adds a document from the device store without loading it: its stored bytes, the
    /// heads they hold (sorted) and its saved sync state. It loads when first read or
    /// synced; bytes that turn out not to hold `heads` are synced again from scratch.
    pub fn insert_kept(
        &mut self,
        id: DocumentId,
        bytes: Vec<u8>,
        mut heads: Vec<ChangeHash>,
        state: Option<sync::State>,
    ) {
        heads.sort();
        self.touched.insert(id);
        self.docs.insert(
            id,
            Slot::Kept {
                bytes,
                heads,
                read: OnceLock::new(),
            },
        );
        if let Some(state) = state {
            self.states.insert(id, state);
        }
        self.recheck(id);
    }

    /// A document, loaded now if it arrived whole and was kept unloaded until now.
    pub fn doc(&self, id: &DocumentId) -> Option<&Automerge> {
        self.docs.get(id).map(Slot::doc)
    }

    /// A document's heads (sorted), without loading it.
    pub fn heads(&self, id: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.docs.get(id).map(Slot::heads)
    }

    /// The bytes of a document that arrived whole and is not loaded yet: exactly the
    /// document at [`Replica::heads`], to store as they are.
    pub fn kept_bytes(&self, id: &DocumentId) -> Option<&[u8]> {
        match self.docs.get(id)? {
            Slot::Kept { bytes, .. } => Some(bytes),
            Slot::Loaded(_) => None,
        }
    }

    /// A document to change, loaded first if it was kept unloaded. Should the kept
    /// bytes not be the document the relay named, the sync state is reset, so the next
    /// session syncs it from scratch instead of trusting what was acknowledged.
    /// Returns it with its sync state (both new if there were none).
    fn loaded(&mut self, id: DocumentId) -> (&mut Automerge, &mut sync::State) {
        let slot = self
            .docs
            .entry(id)
            .or_insert_with(|| Slot::Loaded(Automerge::new()));
        if let Slot::Kept { bytes, heads, read } = slot {
            let doc = read.take().unwrap_or_else(|| load_kept(bytes));
            if doc.get_heads() != *heads {
                self.states.insert(id, sync::State::new());
                self.states_changed.insert(id);
                self.touched.insert(id);
            }
            *slot = Slot::Loaded(doc);
        }
        let Slot::Loaded(doc) = slot else {
            unreachable!("loaded just above")
        };
        (doc, self.states.entry(id).or_default())
    }

    pub fn doc_ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.docs.keys()
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Lends a document out for a local edit; give it back with [`Replica::put_back`].
    pub fn take(&mut self, id: &DocumentId) -> Option<Automerge> {
        self.docs.contains_key(id).then_some(())?;
        self.loaded(*id);
        self.pending.remove(id);
        match self.docs.remove(id) {
            Some(Slot::Loaded(doc)) => Some(doc),
            _ => None,
        }
    }

    /// Returns (or newly adds) a locally edited document; when connected, yields the
    /// messages that carry the edit to the relay.
    pub fn put_back(&mut self, id: DocumentId, doc: Automerge) -> Vec<Message> {
        self.docs.insert(id, Slot::Loaded(doc));
        self.touched.insert(id);
        self.recheck(id);
        if self.remote.is_none() {
            return Vec::new();
        }
        if self.active.contains(&id) {
            self.generate(id).into_iter().collect()
        } else {
            self.enqueue(id);
            self.fill_window()
        }
    }

    /// Asks for a document by id (e.g. a link from another app); arrives by sync, or
    /// [`Replica::is_unavailable`] turns true. Only while connected.
    pub fn want(&mut self, id: DocumentId) -> Vec<Message> {
        if self.remote.is_none() {
            return Vec::new();
        }
        self.enqueue(id);
        self.fill_window()
    }

    /// Whether a document is neither queued nor in flight in this session.
    pub fn is_settled(&self, id: &DocumentId) -> bool {
        !self.queued.contains(id) && !self.in_progress.contains(id)
    }

    /// The saved form of a document's sync state with the relay.
    pub fn sync_state(&self, id: &DocumentId) -> Option<Vec<u8>> {
        self.states.get(id).map(sync::State::encode)
    }

    /// The heads the relay has confirmed holding for a document (empty if none).
    pub fn confirmed_heads(&self, id: &DocumentId) -> Vec<automerge::ChangeHash> {
        let mut shared = self
            .states
            .get(id)
            .map(|s| s.shared_heads.clone())
            .unwrap_or_default();
        shared.sort();
        shared
    }

    /// Whether a document has changes the relay has not confirmed.
    pub fn is_pending(&self, id: &DocumentId) -> bool {
        self.pending.contains(id)
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    pub fn pending_ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.pending.iter()
    }

    /// The pending documents other than `except`, each with how many of its changes
    /// the relay has not confirmed.
    pub fn pending_changes<'a>(
        &'a self,
        except: &'a DocumentId,
    ) -> impl Iterator<Item = usize> + 'a {
        self.pending
            .iter()
            .filter(move |id| *id != except)
            .map(|id| {
                self.doc(id)
                    .map_or(0, |doc| doc.get_changes(&self.confirmed_heads(id)).len())
            })
    }

    /// Re-reads whether `id` waits for the relay, after its document or sync state changed.
    fn recheck(&mut self, id: DocumentId) {
        let waits = self
            .docs
            .get(&id)
            .is_some_and(|slot| slot.heads() != self.confirmed_heads(&id));
        if waits {
            self.pending.insert(id);
        } else {
            self.pending.remove(&id);
        }
    }

    pub fn is_connected(&self) -> bool {
        self.remote.is_some()
    }

    /// Up to date: connected, nothing queued or in flight, nothing unconfirmed.
    pub fn is_up_to_date(&self) -> bool {
        self.remote.is_some()
            && self.queue.is_empty()
            && self.in_progress.is_empty()
            && self.pending_count() == 0
    }

    /// A one-line account of the session, for logs and test failures (ids only).
    pub fn describe(&self) -> String {
        format!(
            "connected={} queued={} in_progress={:?} pending={} docs={} progress={}/{}",
            self.remote.is_some(),
            self.queue.len(),
            self.in_progress,
            self.pending_count(),
            self.docs.len(),
            self.progress.done,
            self.progress.total
        )
    }

    pub fn progress(&self) -> Progress {
        self.progress
    }

    pub fn is_unavailable(&self, id: &DocumentId) -> bool {
        self.unavailable.contains(id)
    }

    /// Documents changed by sync since the last call (to persist and re-read).
    pub fn take_changed(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }

    /// Documents whose sync state should be saved.
    pub fn take_states_changed(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.states_changed)
            .into_iter()
            .collect()
    }

    /// Starts a session on a fresh connection: returns the `join` to send.
    pub fn connect(&mut self) -> Message {
        self.disconnect();
        Message::Join {
            sender_id: self.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            metadata: Some(self.metadata.clone()),
        }
    }

    /// Forgets the session (the connection dropped); saved sync states stay.
    pub fn disconnect(&mut self) {
        self.remote = None;
        self.active.clear();
        self.queue.clear();
        self.queued.clear();
        self.in_progress.clear();
        self.unavailable.clear();
        self.progress = Progress { done: 0, total: 0 };
        // A new session must not assume anything in flight from the old one arrived.
        for state in self.states.values_mut() {
            *state = crate::untrusted::state(&state.encode()).unwrap_or_default();
        }
    }

    /// Handles one message from the relay and returns the messages to send back.
    pub fn receive(&mut self, msg: Message) -> Result<Vec<Message>, ReplicaError> {
        match msg {
            Message::Peer {
                sender_id,
                selected_protocol_version,
                ..
            } => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return Err(ReplicaError::Version(selected_protocol_version));
                }
                self.remote = Some(sender_id);
                Ok(self.begin())
            }
            Message::Error { message, code } => Err(ReplicaError::Remote { message, code }),
            Message::Sync {
                document_id, data, ..
            }
            | Message::Request {
                document_id, data, ..
            } => {
                if self.remote.is_none() {
                    return Err(ReplicaError::NotConnected);
                }
                self.on_sync(document_id, &data)
            }
            Message::DocUnavailable { document_id, .. } => {
                self.unavailable.insert(document_id);
                // The relay does not have it either: nothing to pull, nothing of ours to push
                // (we only request documents we lack).
                if self.docs.get(&document_id).is_some_and(Slot::is_empty) {
                    self.docs.remove(&document_id);
                    self.touched.insert(document_id);
                    self.pending.remove(&document_id);
                }
                Ok(self.finish(document_id))
            }
            Message::Wipe { .. } => Ok(self.hand_in()),
            Message::Wiped {
                kept,
                message,
                code,
                ..
            } => {
                self.withdrawn = Some(wipe::Withdrawal {
                    kept,
                    message,
                    code,
                });
                Ok(Vec::new())
            }
            // Gossip and ephemeral messages carry nothing a device must store.
            _ => Ok(Vec::new()),
        }
    }

    fn begin(&mut self) -> Vec<Message> {
        match self.indices.len() {
            1.. => {
                self.progress.total = self.indices.len();
                let indices = self.indices.clone();
                indices.into_iter().flat_map(|id| self.start(id)).collect()
            }
            0 => {
                let mut ids: Vec<DocumentId> = self.docs.keys().copied().collect();
                ids.sort();
                for id in ids {
                    self.enqueue(id);
                }
                self.fill_window()
            }
        }
    }

    fn on_sync(&mut self, id: DocumentId, data: &[u8]) -> Result<Vec<Message>, ReplicaError> {
        let message = crate::untrusted::message(data).map_err(|e| ReplicaError::BadSync(id, e))?;
        if let Some(out) = self.keep_arrival(id, &message) {
            return Ok(out);
        }
        let (doc, state) = self.loaded(id);
        let before = doc.get_heads();
        let received = crate::untrusted::receive(doc, state, message);
        let index_changed = doc.get_heads() != before;
        // Also after a failure: the sync state may have been reset.
        self.recheck(id);
        received.map_err(|e| ReplicaError::BadSync(id, e))?;
        self.states_changed.insert(id);
        self.active.insert(id);
        self.unavailable.remove(&id);
        if index_changed {
            self.changed.insert(id);
        }
        // An acknowledgement may still go out, but once their heads are ours the
        // relay has everything: the document is done for this session.
        let mut out: Vec<Message> = self.generate(id).into_iter().collect();
        if self.in_sync(&id) {
            out.extend(self.finish(id));
        }
        if index_changed && self.is_index(&id) && !self.in_progress.contains(&id) {
            // Someone else's edits arrived live: pull the records they touched.
            out.extend(self.plan_from_index());
        }
        Ok(out)
    }

    /// A whole record for a document we hold nothing of, kept as its bytes without
    /// loading it (see [`crate::whole`]); `None` when the message is anything else.
    fn keep_arrival(&mut self, id: DocumentId, message: &sync::Message) -> Option<Vec<Message>> {
        if self.remote.is_none()
            || self.is_index(&id)
            || !self.docs.get(&id).is_none_or(Slot::is_empty)
        {
            return None;
        }
        let state = self.states.entry(id).or_default();
        let (bytes, heads, answer) = crate::whole::arrival(message, state)?;
        self.insert_kept(id, bytes, heads, None);
        self.states_changed.insert(id);
        self.active.insert(id);
        self.unavailable.remove(&id);
        self.changed.insert(id);
        let mut out = vec![self.wrap(id, answer.encode(), true)?];
        out.extend(self.finish(id));
        Some(out)
    }

    /// Their heads are ours: this document is in sync for now.
    fn in_sync(&self, id: &DocumentId) -> bool {
        let (Some(slot), Some(state)) = (self.docs.get(id), self.states.get(id)) else {
            return false;
        };
        let ours = slot.heads();
        let mut theirs = state.their_heads.clone().unwrap_or_default();
        theirs.sort();
        state.their_heads.is_some() && ours == theirs
    }

    fn finish(&mut self, id: DocumentId) -> Vec<Message> {
        if !self.in_progress.remove(&id) {
            return Vec::new();
        }
        self.progress.done += 1;
        let mut out = Vec::new();
        if self.is_index(&id) {
            out.extend(self.plan_from_index());
        }
        out.extend(self.fill_window());
        out
    }

    fn enqueue(&mut self, id: DocumentId) {
        if self.active.contains(&id) || self.in_progress.contains(&id) || self.queued.contains(&id)
        {
            return;
        }
        self.queue.push_back(id);
        self.queued.insert(id);
        self.progress.total += 1;
    }

    fn fill_window(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while self.in_progress.len() < WINDOW {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            self.queued.remove(&id);
            out.extend(self.start(id));
        }
        out
    }

    fn start(&mut self, id: DocumentId) -> Option<Message> {
        self.in_progress.insert(id);
        self.active.insert(id);
        let msg = self.generate(id);
        if msg.is_none() {
            self.in_progress.remove(&id);
            self.progress.done += 1;
        }
        msg
    }

    fn generate(&mut self, id: DocumentId) -> Option<Message> {
        self.remote.as_ref()?;
        let have_doc = self.docs.get(&id).is_some_and(|slot| !slot.is_empty());
        let (doc, state) = self.loaded(id);
        let generated = crate::untrusted::generate(doc, state);
        if generated.is_err() {
            self.recheck(id); // the sync state was reset
        }
        let message = generated.ok().flatten()?;
        self.states_changed.insert(id);
        self.wrap(id, message.encode(), have_doc)
    }

    /// A sync message for the relay: a `sync`, or a `request` while we hold nothing.
    fn wrap(&self, id: DocumentId, data: Vec<u8>, have_doc: bool) -> Option<Message> {
        let remote = self.remote.clone()?;
        let (sender_id, target_id, document_id) = (self.peer_id.clone(), remote, id);
        Some(if have_doc {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        })
    }
}

mod erasure;
mod plan;
mod wipe;

pub use wipe::Withdrawal;
#[cfg(test)]
mod tests;
