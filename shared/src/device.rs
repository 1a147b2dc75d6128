//! The device core: a device's working copy of its team's records, the same code in
//! the app, the test devices and the load generator. It holds the sync replica (every
//! document in memory, or kept as bytes until read), the ledger of what is already on
//! disk, and the caseload index kept in step with every edit. No I/O, no clock and no
//! identity of its own: those come in as arguments, and each operation returns a
//! [`Step`], what to write to the store and then what to send to the relay.

mod day;
mod disk;
mod duplicates;
mod erasure;
mod figures;
mod identity;
mod index;
mod intake;
mod ledger;
mod listing;
mod lock;
mod pact;
mod read;
mod referrals;
mod search;
mod snapshot;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ActorId, Automerge};

use crate::caseload::{Entry, Summary};
use crate::contact::{Contact, ContactDoc, NewContact};
use crate::employer::EmployerDoc;
use crate::protocol::Message;
use crate::record::{self, Kind};
use crate::replica::{Progress, Replica, ReplicaError};
use crate::{DocumentId, Editor, ModelError, RecordDoc};
use read::ReadAt;

pub use day::{AHEAD_DAYS, Due, Whose, due, follow_ups};
pub use disk::{
    Assembled, Batch, Chunks, Damaged, KeptDoc, Loaded, RawChunk, Snapshot, StoredDoc,
    heads_from_bytes, heads_to_bytes,
};
pub use figures::PactRecords;
pub use identity::{Identity, Role, normalise_relay_url, normalise_team};
pub use index::{rows_of, workers};
pub use ledger::{COMPACT_AFTER, COMPACT_AT_THE_LATEST, ChunkWrite, Ledger};
pub use listing::{SortBy, member_choices, sort_rows, status_counts};
pub use lock::{LockPolicy, MIN_PIN_CHARS, is_acceptable_pin};
pub use pact::PactProgress;
pub use referrals::ReferralTo;
pub use search::found;

/// What an operation leaves to do: persist first, then send.
#[derive(Debug, Default)]
pub struct Step {
    pub batch: Batch,
    pub send: Vec<Message>,
}

impl Step {
    pub fn extend(&mut self, other: Step) {
        self.batch.extend(other.batch);
        self.send.extend(other.send);
    }
}

/// A record as the screens see it.
#[derive(Clone, Debug, PartialEq)]
pub enum Loadable<T> {
    Ready(T),
    /// Listed in the index but not yet on this device (it arrives with the next sync).
    NotHere,
    /// On this device but unreadable; the sentence says why.
    Damaged(String),
}

/// A sorted list of rows and the `entries_version` it was sorted at.
type Sorted = (u64, Arc<[Entry]>);

pub struct Repo {
    identity: Identity,
    actor: ActorId,
    replica: Replica,
    ledger: Ledger,
    index_id: DocumentId,
    /// The index rows, re-read only where the index changed.
    entries: HashMap<DocumentId, Entry>,
    /// The index heads `entries` were read at (`None`: not read from the index yet);
    /// the next read takes in only the rows changed since.
    entries_heads: Option<Vec<automerge::ChangeHash>>,
    /// The pact's other teams a coordinator's device follows, with their rows.
    others: pact::OtherTeams,
    /// Bumped whenever `entries` changes; keys the sorted lists.
    entries_version: u64,
    /// Sorted rows per kind, as of `entries_version` (lists re-render often).
    sorted: RefCell<HashMap<Kind, Sorted>>,
    /// The replica's (whole-caseload) up-to-date verdict since its last change.
    up_to_date: Cell<Option<bool>>,
    /// Stored data that could not be read, by document where known.
    damaged: Vec<(Option<DocumentId>, String)>,
    /// Bumped on every change a screen might show.
    revision: u64,
    /// The index document is in the replica (after [`Repo::open_index`]); until then
    /// the rows come from a snapshot and nothing may be edited.
    index_open: bool,
    /// The index heads the start-up snapshot was taken at, until the index is open.
    snapshot_heads: Option<Vec<automerge::ChangeHash>>,
    /// The index chunk the snapshot on disk describes, when it is known to be current.
    snapshot_seq: Option<u64>,
    /// Records that arrived or merged whose index rows are not yet checked (done when
    /// the session's plan is through).
    unreconciled: std::collections::BTreeSet<DocumentId>,
    /// The contact read last, with the heads it was read at: its page re-reads it on
    /// every redraw, and reading a contact with many notes takes milliseconds.
    last_contact: ReadAt<Contact>,
    /// Each contact's referrals as read at its heads (`referrals::ReferralTo`).
    referrals: ReadAt<Vec<crate::contact::Referral>>,
    /// Per record, the folded text a search looks in, with the heads it was read at.
    search: ReadAt<String>,
    people: duplicates::People, // what `duplicates.rs` keeps
    /// The pact's records as the coordinator's figures read them (`figures.rs`).
    figure_contacts: ReadAt<Contact>,
    figure_employers: ReadAt<crate::employer::Employer>,
    /// When the relay was first seen holding each record at the heads kept with it.
    on_relay: ReadAt<i64>,
    /// `search` or `on_relay` learnt something the snapshot on disk lacks.
    reads_changed: Cell<bool>,
    /// Records handed to another team here: deleted once the relay has the change.
    moved_here: std::collections::BTreeSet<DocumentId>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("docs", &self.replica.len())
            .field("revision", &self.revision)
            .finish()
    }
}

impl Repo {
    /// Builds the working copy from what the store loaded. The returned step holds the
    /// start-up housekeeping: compactions and, on a new device, the index's genesis.
    pub fn new(
        identity: Identity,
        loaded: Loaded,
        states: Vec<(DocumentId, Vec<u8>)>,
    ) -> (Self, Step) {
        let mut repo = Self::empty(identity);
        let step = repo.open_index(loaded, states);
        (repo, step)
    }

    /// Starts from a snapshot of the index rows, so the lists show before the index
    /// document is loaded; `None` when the snapshot does not decode. Call
    /// [`Repo::open_index`] before anything else: edits wait for it.
    pub fn from_snapshot(identity: Identity, snapshot: &Snapshot) -> Option<Self> {
        let mut repo = Self::empty(identity);
        if snapshot.index != repo.index_id {
            return None;
        }
        let rows = snapshot::decode(&snapshot.bytes)?;
        repo.entries = rows.entries.into_iter().map(|e| (e.id, e)).collect();
        repo.entries_version += 1;
        repo.snapshot_heads = Some(rows.heads);
        repo.snapshot_seq = Some(snapshot.seq);
        // Kept with the record's heads: used only while the record still has them, so
        // they stay good even when the rows give way to the index.
        for read in rows.reads {
            if let Some(ms) = read.on_relay {
                repo.on_relay.put(read.id, read.heads.clone(), ms);
            }
            if let Some(text) = read.search {
                repo.search.put(read.id, read.heads, text);
            }
        }
        Some(repo)
    }

    fn empty(identity: Identity) -> Self {
        let actor = identity.actor_id();
        let index_id = identity.index_id();
        let mut replica = Replica::new(
            identity.session_peer_id(),
            Some(identity.storage_id.clone()),
        );
        replica.follow_index(index_id);
        let others = pact::OtherTeams::of(&identity);
        for id in others.index_ids() {
            replica.follow_index(id);
        }
        Self {
            identity,
            actor,
            replica,
            ledger: Ledger::default(),
            index_id,
            entries: HashMap::new(),
            entries_heads: None,
            others,
            entries_version: 0,
            sorted: RefCell::new(HashMap::new()),
            up_to_date: Cell::new(None),
            damaged: Vec::new(),
            revision: 0,
            index_open: false,
            snapshot_heads: None,
            snapshot_seq: None,
            unreconciled: std::collections::BTreeSet::new(),
            last_contact: ReadAt::default(),
            referrals: ReadAt::default(),
            search: ReadAt::default(),
            people: duplicates::People::default(),
            figure_contacts: ReadAt::default(),
            figure_employers: ReadAt::default(),
            on_relay: ReadAt::default(),
            reads_changed: Cell::new(false),
            moved_here: std::collections::BTreeSet::new(),
        }
    }

    /// Takes in the loaded index document (and whatever else was loaded with it);
    /// starts the team's index when there is none. Rows from a snapshot are kept only
    /// when the index has exactly the snapshot's heads, else re-read from the index.
    pub fn open_index(&mut self, loaded: Loaded, states: Vec<(DocumentId, Vec<u8>)>) -> Step {
        let mut step = self.add_loaded(loaded, states);
        let index_id = self.index_id;
        if self.replica.doc(&index_id).is_none() {
            // Deterministic genesis: every device of the team starts the same index.
            if let Ok(index) = self.identity.new_index() {
                let doc = index.doc().clone();
                step.batch
                    .chunks
                    .extend(self.ledger.chunk_for(index_id, &doc));
                self.replica.insert(index_id, doc, None);
                self.forget_verdict();
            }
            self.snapshot_heads = None;
            self.reread_index();
        }
        if self.snapshot_seq != self.ledger.written_seq(&index_id) {
            self.snapshot_seq = None;
        }
        self.index_open = true;
        self.revision += 1;
        step
    }

    /// Whether the index document is loaded (edits wait for it).
    pub fn is_index_open(&self) -> bool {
        self.index_open
    }

    /// Takes in documents loaded later (start-up loads the index first, then the
    /// records). Call before syncing: the replica plans from what it holds.
    pub fn add_loaded(&mut self, mut loaded: Loaded, states: Vec<(DocumentId, Vec<u8>)>) -> Step {
        let mut states: HashMap<DocumentId, Vec<u8>> = states.into_iter().collect();
        let mut saved_state = |id: &DocumentId| {
            states
                .remove(id)
                .and_then(|b| crate::untrusted::state(&b).ok())
        };
        let mut step = self.others.drop_withdrawn_indices(&mut loaded);
        for d in loaded.damaged {
            if let Some(id) = d.id {
                self.ledger.damaged(id, d.next_seq);
            }
            self.damaged.push((d.id, d.reason));
        }
        let mut index_loaded = false;
        let mut others_loaded = Vec::new();
        for stored in loaded.docs {
            // Created or changed here while the rest was loading: memory is newer.
            if self.replica.heads(&stored.id).is_some() {
                continue;
            }
            self.ledger.loaded(
                stored.id,
                stored.doc.get_heads(),
                stored.chunks,
                stored.next_seq,
                stored.partly_damaged,
            );
            // Damaged chunks are rewritten now, from what could be read.
            if stored.partly_damaged {
                step.batch
                    .chunks
                    .push(self.ledger.compact(stored.id, &stored.doc));
            }
            index_loaded |= stored.id == self.index_id;
            if self.others.team_of_index(&stored.id).is_some() {
                others_loaded.push(stored.id);
            }
            let state = saved_state(&stored.id);
            self.replica.insert(stored.id, stored.doc, state);
        }
        for kept in loaded.kept {
            if self.replica.heads(&kept.id).is_some() {
                continue;
            }
            // Another team's index read from the store (a coordinator's restart).
            if self.others.team_of_index(&kept.id).is_some() {
                others_loaded.push(kept.id);
            }
            self.ledger.loaded(
                kept.id,
                kept.heads.clone(),
                kept.chunks,
                kept.next_seq,
                false,
            );
            let state = saved_state(&kept.id);
            self.replica
                .insert_kept(kept.id, kept.bytes, kept.heads, state);
        }
        self.forget_verdict();
        for id in others_loaded {
            self.reread_other_index(&id, &mut step);
        }
        if index_loaded {
            let snapshot_heads = self.snapshot_heads.take();
            let heads = self.replica.doc(&self.index_id).map(|d| {
                let mut heads = d.get_heads();
                heads.sort();
                heads
            });
            // The snapshot's rows are this index's rows at the snapshot's heads: only
            // the rows changed since are read (all of them without a snapshot).
            if snapshot_heads.is_none() || heads != snapshot_heads {
                self.snapshot_seq = None;
            }
            if self.entries_heads.is_none() {
                self.entries_heads = snapshot_heads;
            }
            self.reread_index();
        }
        self.revision += 1;
        step
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Who makes a change at `now_ms`.
    pub fn editor(&self, now_ms: i64) -> Editor {
        self.identity.editor(&self.actor, now_ms)
    }

    /// Every row of the team's index.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn entry(&self, id: &DocumentId) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Stored data that could not be read (shown as damaged; the rest works).
    pub fn damaged(&self) -> &[(Option<DocumentId>, String)] {
        &self.damaged
    }

    pub fn is_pending(&self, id: &DocumentId) -> bool {
        self.replica.is_pending(id)
    }

    /// Records with changes the relay has not confirmed (the index is bookkeeping,
    /// not a worker's change, so it is not counted; it still keeps "up to date" off).
    pub fn pending_count(&self) -> usize {
        self.replica.pending_count() - usize::from(self.replica.is_pending(&self.index_id))
    }

    /// The records with changes the relay has not confirmed (the index left out, as
    /// in [`Repo::pending_count`]).
    pub fn pending_ids(&self) -> Vec<DocumentId> {
        self.replica
            .pending_ids()
            .filter(|id| **id != self.index_id)
            .copied()
            .collect()
    }

    /// What waits for the relay, as a worker counts it: (changes, records). A new
    /// contact with three notes is 4 changes in 1 record.
    pub fn pending_changes(&self) -> (usize, usize) {
        self.replica
            .pending_changes(&self.index_id)
            .fold((0, 0), |(changes, records), n| (changes + n, records + 1))
    }

    pub fn progress(&self) -> Progress {
        self.replica.progress()
    }

    pub fn is_up_to_date(&self) -> bool {
        if self.replica.pending_count() > 0 {
            return false;
        }
        let up = self
            .up_to_date
            .get()
            .unwrap_or_else(|| self.replica.is_up_to_date());
        self.up_to_date.set(Some(up));
        up
    }

    /// Whether the index row of `id` was written by one writer for the record's current heads.
    fn row_matches_heads(&self, id: &DocumentId) -> bool {
        let (Some(entry), Some(heads)) = (self.entries.get(id), self.replica.heads(id)) else {
            return false;
        };
        let [written] = entry.heads.as_slice() else {
            return false;
        };
        let mut written = written.clone();
        written.sort();
        !heads.is_empty() && heads == written
    }

    /// Documents or sync states changed: the up-to-date verdict must be asked again.
    fn forget_verdict(&self) {
        self.up_to_date.set(None);
    }

    pub fn is_connected(&self) -> bool {
        self.replica.is_connected()
    }

    pub fn create_contact(
        &mut self,
        new: NewContact,
        now_ms: i64,
    ) -> Result<(DocumentId, Step), ModelError> {
        let editor = self.editor(now_ms);
        let doc = ContactDoc::create(&editor, new)?;
        let id = doc.record().id();
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((id, step))
    }

    pub fn create_employer(
        &mut self,
        name: &str,
        now_ms: i64,
    ) -> Result<(DocumentId, Step), ModelError> {
        let editor = self.editor(now_ms);
        let doc = EmployerDoc::create(&editor, &self.identity.team, name)?;
        let id = doc.record().id();
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((id, step))
    }

    /// Applies one operation to a contact; nothing changes when it fails.
    pub fn edit_contact<T>(
        &mut self,
        id: DocumentId,
        now_ms: i64,
        op: impl FnOnce(&mut ContactDoc, &Editor) -> Result<T, ModelError>,
    ) -> Result<(T, Step), ModelError> {
        self.edit_as(
            id,
            now_ms,
            ContactDoc::from_record,
            ContactDoc::into_record,
            op,
        )
    }

    pub fn edit_employer<T>(
        &mut self,
        id: DocumentId,
        now_ms: i64,
        op: impl FnOnce(&mut EmployerDoc, &Editor) -> Result<T, ModelError>,
    ) -> Result<(T, Step), ModelError> {
        self.edit_as(
            id,
            now_ms,
            EmployerDoc::from_record,
            EmployerDoc::into_record,
            op,
        )
    }

    /// One operation on a record read as a typed document `D`; nothing changes when it fails.
    fn edit_as<D, T>(
        &mut self,
        id: DocumentId,
        now_ms: i64,
        typed: fn(RecordDoc) -> Result<D, ModelError>,
        untyped: fn(D) -> RecordDoc,
        op: impl FnOnce(&mut D, &Editor) -> Result<T, ModelError>,
    ) -> Result<(T, Step), ModelError> {
        let record = self.editable(&id)?;
        self.may_change(&id, &record)?;
        let editor = self.editor(now_ms);
        let mut doc = typed(record)?;
        let out = op(&mut doc, &editor)?;
        let step = self.commit(id, untyped(doc), &editor)?;
        Ok((out, step))
    }

    /// Takes in a whole record made elsewhere (an import, a test's synthetic
    /// caseload): written, listed in the index and sent like an edit made here. A
    /// record another team's index lists is refused like an edit of it.
    pub fn adopt(&mut self, record: RecordDoc, now_ms: i64) -> Result<Step, ModelError> {
        let id = record.id();
        if let Some(team) = self.read_only_of(&id, || None) {
            return Err(ModelError::ReadOnly { team });
        }
        let editor = self.editor(now_ms);
        self.commit(id, record, &editor)
    }

    /// Asks the relay for a document this device does not list (one made by another
    /// app, say); it arrives like any other.
    pub fn want(&mut self, id: DocumentId) -> Vec<Message> {
        self.replica.want(id)
    }

    /// The sync replica, for reading (tests and the load generator look inside).
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The team's caseload index document, as it stands.
    pub fn index(&self) -> Option<&Automerge> {
        self.replica.doc(&self.index_id)
    }

    pub fn index_id(&self) -> DocumentId {
        self.index_id
    }

    fn editable(&self, id: &DocumentId) -> Result<RecordDoc, ModelError> {
        match self.record(id) {
            Loadable::Ready(record) => Ok(record),
            Loadable::NotHere => Err(ModelError::NotFound {
                what: "record",
                id: id.to_string(),
            }),
            Loadable::Damaged(reason) => Err(ModelError::Corrupt(reason)),
        }
    }

    /// Refuses a change the relay would refuse (another team's record): it would stay
    /// pending for good.
    fn may_change(&self, id: &DocumentId, record: &RecordDoc) -> Result<(), ModelError> {
        match self.read_only_of(id, || record.team()) {
            Some(team) => Err(ModelError::ReadOnly { team }),
            None => Ok(()),
        }
    }

    /// Takes an edited record in: disk chunk, sync messages, index row.
    fn commit(
        &mut self,
        id: DocumentId,
        record: RecordDoc,
        editor: &Editor,
    ) -> Result<Step, ModelError> {
        let summary = Summary::of(&record)?;
        // Handed to another team (or, own caseload only, another worker): its row here
        // becomes a `moved` row (no name); deleted here once the relay has the change.
        let moved = record::owner(record.doc()).is_some_and(|o| !self.identity.lists(Some(&o)));
        let heads = record.heads();
        let doc = record.into_doc();
        let mut step = Step::default();
        step.batch.chunks.extend(self.ledger.chunk_for(id, &doc));
        let _ = self.replica.take(&id);
        step.send.extend(self.replica.put_back(id, doc));
        if !moved {
            self.upsert_index(editor, vec![(id, summary, Some(heads))], &mut step);
        } else {
            self.hand_over(editor, id, &mut step);
        }
        self.collect_states(&mut step);
        self.on_relay.forget(&id);
        self.forget_verdict();
        self.revision += 1;
        Ok(step)
    }

    /// The sync states to save; returns the documents they belong to.
    fn collect_states(&mut self, step: &mut Step) -> Vec<DocumentId> {
        let changed = self.replica.take_states_changed();
        for id in &changed {
            if let Some(state) = self.replica.sync_state(id) {
                step.batch.states.push((*id, state));
            }
        }
        self.forget_verdict();
        changed
    }

    /// A new connection is open: the `join` to send.
    pub fn connect(&mut self) -> Message {
        self.up_to_date.set(None);
        self.replica.connect()
    }

    pub fn disconnect(&mut self) {
        self.up_to_date.set(None);
        self.replica.disconnect();
        self.revision += 1;
    }

    /// Writes the index rows of records that arrived or merged since the last time,
    /// where the row no longer says what the record says.
    fn reconcile_rows(&mut self, now_ms: i64, step: &mut Step) {
        let mut rows = Vec::new();
        for id in std::mem::take(&mut self.unreconciled) {
            // A row written for exactly these heads already says it (the common case
            // of a first sync), and reading a whole record costs far more than comparing.
            if self.row_matches_heads(&id) {
                continue;
            }
            // Only the team's own records are listed in its index: a record fetched
            // from elsewhere (a coordinator's look at another team) is not.
            if let Loadable::Ready(record) = self.record(&id)
                && self.identity.lists(record::owner(record.doc()).as_ref())
                && let Ok(summary) = Summary::of(&record)
                && self.entries.get(&id).map(|e| &e.summary) != Some(&summary)
            {
                rows.push((id, summary, None));
            }
        }
        if !rows.is_empty() {
            let editor = self.editor(now_ms);
            self.upsert_index(&editor, rows, step);
        }
    }

    /// Handles one message from the relay.
    pub fn receive(&mut self, msg: Message, now_ms: i64) -> Result<Step, ReplicaError> {
        if let Message::Erased {
            document_id,
            index_id,
            ..
        } = msg
        {
            return Ok(self.erased(document_id, index_id));
        }
        let mut step = Step {
            send: self.replica.receive(msg)?,
            ..Step::default()
        };
        let changed = self.replica.take_changed();
        if changed.contains(&self.index_id) {
            let rows = self.reread_index();
            step.extend(self.tombstones_here(&rows));
        }
        for id in &changed {
            // A record that arrived whole is stored as the bytes that came, not loaded
            // and saved again (most of a first sync's work); loading waits for a reader.
            if let (Some(bytes), Some(heads)) =
                (self.replica.kept_bytes(id), self.replica.heads(id))
            {
                let write = self.ledger.arrived(*id, heads, bytes.to_vec());
                step.batch.chunks.push(write);
            } else if let Some(doc) = self.replica.doc(id) {
                step.batch.chunks.extend(self.ledger.chunk_for(*id, doc));
            }
            if *id == self.index_id {
                continue;
            }
            if self.reread_other_index(id, &mut step) {
                continue;
            }
            self.damaged.retain(|(d, _)| d.as_ref() != Some(id));
            self.unreconciled.insert(*id);
        }
        // Index rows are brought in line once the session's plan is through, not per
        // message: mid-sync a record is often half merged, and every device writing a
        // row for each intermediate state made index changes grow with devices × edits
        // (the fault test saw hundreds for a hundred edits).
        let progress = self.replica.progress();
        if self.replica.is_connected() && progress.done >= progress.total {
            self.reconcile_rows(now_ms, &mut step);
            if !self.moved_here.is_empty() {
                step.extend(self.handed_over());
            }
        }
        let acknowledged = self.collect_states(&mut step);
        self.note_on_relay(&changed, &acknowledged, now_ms);
        self.forget_verdict();
        if !changed.is_empty() {
            self.revision += 1;
        }
        Ok(step)
    }
}
