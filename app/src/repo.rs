//! The device's working copy of its team's records: the sync replica (which holds
//! every document in memory), the ledger of what is already on disk, and the caseload
//! index kept in step with every edit. Pure state without I/O: each operation returns
//! a [`Step`], what to write to the store and what to send to the relay.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use automerge::{ActorId, Automerge};
use paktum_shared::caseload::{CaseloadDoc, Entry, Summary};
use paktum_shared::contact::{Contact, ContactDoc, NewContact};
use paktum_shared::employer::{Employer, EmployerDoc};
use paktum_shared::protocol::Message;
use paktum_shared::record::{HistoryEntry, Kind};
use paktum_shared::replica::{Progress, Replica, ReplicaError};
use paktum_shared::{DocumentId, Editor, ModelError, RecordDoc};

use crate::device::Device;
use crate::store::{Batch, Loaded, Snapshot};

mod snapshot;

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
type Sorted = (u64, Rc<[Entry]>);

pub struct Repo {
    device: Device,
    actor: ActorId,
    replica: Replica,
    ledger: crate::store::Ledger,
    index_id: DocumentId,
    /// The index rows, re-read only when the index changes.
    entries: HashMap<DocumentId, Entry>,
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
    /// The contact read last, with the heads it was read at: its page re-reads it on
    /// every redraw, and reading a contact with many notes takes milliseconds.
    last_contact: RefCell<Option<(Vec<automerge::ChangeHash>, Contact)>>,
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
    pub fn new(device: Device, loaded: Loaded, states: Vec<(DocumentId, Vec<u8>)>) -> (Self, Step) {
        let mut repo = Self::empty(device);
        let step = repo.open_index(loaded, states);
        (repo, step)
    }

    /// Starts from a snapshot of the index rows, so the lists show before the index
    /// document is loaded; `None` when the snapshot does not decode. Call
    /// [`Repo::open_index`] before anything else: edits wait for it.
    pub fn from_snapshot(device: Device, snapshot: &Snapshot) -> Option<Self> {
        let mut repo = Self::empty(device);
        if snapshot.index != repo.index_id {
            return None;
        }
        let rows = snapshot::decode(&snapshot.bytes)?;
        repo.entries = rows.entries.into_iter().map(|e| (e.id, e)).collect();
        repo.entries_version += 1;
        repo.snapshot_heads = Some(rows.heads);
        repo.snapshot_seq = Some(snapshot.seq);
        Some(repo)
    }

    fn empty(device: Device) -> Self {
        let actor = device.actor_id();
        let index_id = CaseloadDoc::id_for_team(&device.team);
        let mut replica = Replica::new(device.session_peer_id(), Some(device.storage_id.clone()));
        replica.follow_index(index_id);
        Self {
            device,
            actor,
            replica,
            ledger: crate::store::Ledger::default(),
            index_id,
            entries: HashMap::new(),
            entries_version: 0,
            sorted: RefCell::new(HashMap::new()),
            up_to_date: Cell::new(None),
            damaged: Vec::new(),
            revision: 0,
            index_open: false,
            snapshot_heads: None,
            snapshot_seq: None,
            last_contact: RefCell::new(None),
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
            if let Ok(index) = CaseloadDoc::new(&self.device.team) {
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

    /// Idle-time housekeeping: the compactions that are due (kept off the edit path:
    /// saving the whole index takes ~100× an edit), then a fresh index snapshot when
    /// the one on disk is missing or older than the index. `None` when nothing to do.
    pub fn tidy(&mut self) -> Option<Step> {
        let mut step = Step::default();
        for id in self.ledger.take_due() {
            if let Some(doc) = self.replica.doc(&id) {
                step.batch.chunks.push(self.ledger.compact(id, doc));
            }
        }
        if let Some(snapshot) = self.snapshot() {
            step.batch.snapshot = Some(snapshot);
        }
        (!step.batch.is_empty()).then_some(step)
    }

    /// The index rows to store as a snapshot, if the stored one is not current. Costs a
    /// pass over every row.
    fn snapshot(&mut self) -> Option<Snapshot> {
        if !self.index_open {
            return None;
        }
        let seq = self.ledger.written_seq(&self.index_id)?;
        if self.snapshot_seq == Some(seq) {
            return None;
        }
        let heads = self.replica.doc(&self.index_id)?.get_heads();
        let bytes = snapshot::encode(&heads, self.entries.values());
        self.snapshot_seq = Some(seq);
        Some(Snapshot {
            index: self.index_id,
            seq,
            bytes,
        })
    }

    /// Takes in documents loaded later (start-up loads the index first, then the
    /// records). Call before syncing: the replica plans from what it holds.
    pub fn add_loaded(&mut self, loaded: Loaded, states: Vec<(DocumentId, Vec<u8>)>) -> Step {
        let mut states: HashMap<DocumentId, Vec<u8>> = states.into_iter().collect();
        let mut saved_state = |id: &DocumentId| {
            states
                .remove(id)
                .and_then(|b| automerge::sync::State::decode(&b).ok())
        };
        for d in loaded.damaged {
            if let Some(id) = d.id {
                self.ledger.damaged(id, d.next_seq);
            }
            self.damaged.push((d.id, d.reason));
        }
        let mut step = Step::default();
        let mut index_loaded = false;
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
            let state = saved_state(&stored.id);
            self.replica.insert(stored.id, stored.doc, state);
        }
        for kept in loaded.kept {
            if self.replica.heads(&kept.id).is_some() {
                continue;
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
        if index_loaded {
            let snapshot_heads = self.snapshot_heads.take();
            let heads = self.replica.doc(&self.index_id).map(|d| {
                let mut heads = d.get_heads();
                heads.sort();
                heads
            });
            // The snapshot's rows are this index's rows: reading 10,000 again is waste.
            if snapshot_heads.is_none() || heads != snapshot_heads {
                self.snapshot_seq = None;
                self.reread_index();
            }
        }
        self.revision += 1;
        step
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn editor(&self) -> Editor {
        self.device.editor(&self.actor)
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

    /// Whether the index row of `id` was written by one writer for the record's
    /// current heads.
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

    /// The rows of one kind sorted by name; re-sorted only when the index changed.
    pub fn sorted_rows(&self, kind: Kind) -> Rc<[Entry]> {
        if let Some((version, rows)) = self.sorted.borrow().get(&kind)
            && *version == self.entries_version
        {
            return rows.clone();
        }
        let mut rows: Vec<(String, &Entry)> = self
            .entries
            .values()
            .filter(|e| e.summary.kind == kind)
            .map(|e| (e.summary.name.to_lowercase(), e))
            .collect();
        // Lower-cased once per row, not once per comparison.
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let rows: Rc<[Entry]> = rows.into_iter().map(|(_, e)| e.clone()).collect();
        self.sorted
            .borrow_mut()
            .insert(kind, (self.entries_version, rows.clone()));
        rows
    }

    pub fn is_connected(&self) -> bool {
        self.replica.is_connected()
    }

    fn record(&self, id: &DocumentId) -> Loadable<RecordDoc> {
        match self.replica.doc(id) {
            None => match self.damaged.iter().find(|(d, _)| d.as_ref() == Some(id)) {
                Some((_, reason)) => Loadable::Damaged(reason.clone()),
                None => Loadable::NotHere,
            },
            Some(doc) if doc.get_heads().is_empty() => Loadable::NotHere,
            Some(doc) => match RecordDoc::from_automerge(*id, doc.clone()) {
                Ok(record) => Loadable::Ready(record),
                Err(e) => Loadable::Damaged(e.to_string()),
            },
        }
    }

    pub fn contact(&self, id: &DocumentId) -> Loadable<Contact> {
        let heads = self.replica.heads(id);
        if let (Some(heads), Some((read_at, contact))) = (&heads, &*self.last_contact.borrow())
            && contact.id == *id
            && read_at == heads
        {
            return Loadable::Ready(contact.clone());
        }
        let read = self.read(id, |r| ContactDoc::from_record(r)?.read());
        if let (Loadable::Ready(contact), Some(heads)) = (&read, heads) {
            *self.last_contact.borrow_mut() = Some((heads, contact.clone()));
        }
        read
    }

    pub fn employer(&self, id: &DocumentId) -> Loadable<Employer> {
        self.read(id, |r| EmployerDoc::from_record(r)?.read())
    }

    pub fn history(&self, id: &DocumentId) -> Loadable<(Kind, Vec<HistoryEntry>)> {
        self.read(id, |r| Ok((r.kind(), r.history())))
    }

    fn read<T>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(RecordDoc) -> Result<T, ModelError>,
    ) -> Loadable<T> {
        match self.record(id) {
            Loadable::Ready(record) => match f(record) {
                Ok(v) => Loadable::Ready(v),
                Err(e) => Loadable::Damaged(e.to_string()),
            },
            Loadable::NotHere => Loadable::NotHere,
            Loadable::Damaged(reason) => Loadable::Damaged(reason),
        }
    }

    pub fn create_contact(&mut self, new: NewContact) -> Result<(DocumentId, Step), ModelError> {
        let editor = self.editor();
        let doc = ContactDoc::create(&editor, new)?;
        let id = doc.record().id();
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((id, step))
    }

    pub fn create_employer(&mut self, name: &str) -> Result<(DocumentId, Step), ModelError> {
        let editor = self.editor();
        let doc = EmployerDoc::create(&editor, &self.device.team, name)?;
        let id = doc.record().id();
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((id, step))
    }

    /// Applies one operation to a contact; nothing changes when it fails.
    pub fn edit_contact<T>(
        &mut self,
        id: DocumentId,
        op: impl FnOnce(&mut ContactDoc, &Editor) -> Result<T, ModelError>,
    ) -> Result<(T, Step), ModelError> {
        let editor = self.editor();
        let mut doc = ContactDoc::from_record(self.editable(&id)?)?;
        let out = op(&mut doc, &editor)?;
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((out, step))
    }

    pub fn edit_employer<T>(
        &mut self,
        id: DocumentId,
        op: impl FnOnce(&mut EmployerDoc, &Editor) -> Result<T, ModelError>,
    ) -> Result<(T, Step), ModelError> {
        let editor = self.editor();
        let mut doc = EmployerDoc::from_record(self.editable(&id)?)?;
        let out = op(&mut doc, &editor)?;
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((out, step))
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

    /// Takes an edited record in: disk chunk, sync messages, index row.
    fn commit(
        &mut self,
        id: DocumentId,
        record: RecordDoc,
        editor: &Editor,
    ) -> Result<Step, ModelError> {
        let summary = Summary::of(&record)?;
        let heads = record.heads();
        let doc = record.into_doc();
        let mut step = Step::default();
        step.batch.chunks.extend(self.ledger.chunk_for(id, &doc));
        let _ = self.replica.take(&id);
        step.send.extend(self.replica.put_back(id, doc));
        self.upsert_index(editor, vec![(id, summary, Some(heads))], &mut step);
        self.collect_states(&mut step);
        self.forget_verdict();
        self.revision += 1;
        Ok(step)
    }

    /// Writes index rows. The index (one row per record) is lent out of the replica and
    /// given back, never cloned, and only the written rows are re-read: with 10,000
    /// records a clone or a full re-read would cost more than the rest of an edit.
    fn upsert_index(
        &mut self,
        editor: &Editor,
        rows: Vec<(DocumentId, Summary, Option<Vec<automerge::ChangeHash>>)>,
        step: &mut Step,
    ) {
        let mut taken = self.replica.take(&self.index_id);
        let genesis = taken.as_ref().is_none_or(|d| d.get_heads().is_empty());
        let doc = if genesis {
            match CaseloadDoc::new(&self.device.team) {
                Ok(index) => index.into_doc(),
                Err(_) => return self.give_back_index(taken),
            }
        } else {
            match taken.take() {
                Some(doc) if CaseloadDoc::check(&doc).is_ok() => doc,
                other => return self.give_back_index(other),
            }
        };
        let Ok(mut index) = CaseloadDoc::from_automerge(doc) else {
            // Unreachable: checked above (or a fresh genesis).
            return self.give_back_index(taken);
        };
        if !matches!(index.upsert(editor, &rows), Ok(true)) {
            return self.give_back_index(if genesis {
                taken
            } else {
                Some(index.into_doc())
            });
        }
        if genesis {
            self.entries.clear();
        }
        self.entries_version += 1;
        for (id, _, _) in &rows {
            match index.entry(id) {
                Some(entry) => self.entries.insert(*id, entry),
                None => self.entries.remove(id),
            };
        }
        let doc = index.into_doc();
        step.batch
            .chunks
            .extend(self.ledger.chunk_for(self.index_id, &doc));
        step.send.extend(self.replica.put_back(self.index_id, doc));
    }

    /// Returns a lent index unchanged (nothing to send).
    fn give_back_index(&mut self, doc: Option<Automerge>) {
        if let Some(doc) = doc {
            self.replica.insert(self.index_id, doc, None);
        }
    }

    /// Re-reads every index row (start-up, and after the relay changed the index).
    fn reread_index(&mut self) {
        let Some(doc) = self.replica.take(&self.index_id) else {
            return;
        };
        if CaseloadDoc::check(&doc).is_err() {
            return self.give_back_index(Some(doc));
        }
        if let Ok(index) = CaseloadDoc::from_automerge(doc) {
            self.entries = index.entries().into_iter().map(|e| (e.id, e)).collect();
            self.entries_version += 1;
            self.give_back_index(Some(index.into_doc()));
        }
    }

    fn collect_states(&mut self, step: &mut Step) {
        let changed = self.replica.take_states_changed();
        for id in &changed {
            if let Some(state) = self.replica.sync_state(id) {
                step.batch.states.push((*id, state));
            }
        }
        self.forget_verdict();
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

    /// Handles one message from the relay.
    pub fn receive(&mut self, msg: Message) -> Result<Step, ReplicaError> {
        let mut step = Step {
            send: self.replica.receive(msg)?,
            ..Step::default()
        };
        let changed = self.replica.take_changed();
        let mut rows = Vec::new();
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
                self.reread_index();
                continue;
            }
            // A record that arrived or merged: its index row must say what it now says.
            // A row written for exactly these heads already does (the common case of
            // a first sync), and reading a whole record costs far more than comparing.
            self.damaged.retain(|(d, _)| d.as_ref() != Some(id));
            if self.row_matches_heads(id) {
                continue;
            }
            if let Loadable::Ready(record) = self.record(id)
                && let Ok(summary) = Summary::of(&record)
                && self.entries.get(id).map(|e| &e.summary) != Some(&summary)
            {
                rows.push((*id, summary, None));
            }
        }
        if !rows.is_empty() {
            let editor = self.editor();
            self.upsert_index(&editor, rows, &mut step);
        }
        self.collect_states(&mut step);
        self.forget_verdict();
        if !changed.is_empty() {
            self.revision += 1;
        }
        Ok(step)
    }
}

/// The records of one kind, as list rows sorted by name.
pub fn rows_of(repo: &Repo, kind: Kind) -> Vec<Entry> {
    repo.sorted_rows(kind).to_vec()
}

/// The distinct workers named in the index, for the caseload filter.
pub fn workers(repo: &Repo) -> Vec<String> {
    let mut set: BTreeMap<String, ()> = BTreeMap::new();
    for e in repo.entries() {
        if e.summary.kind == Kind::Contact && !e.summary.worker.is_empty() {
            set.insert(e.summary.worker.clone(), ());
        }
    }
    set.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use paktum_shared::contact::{Channel, ContactField, NewNote};
    use paktum_shared::testing::Relay;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn device(worker: &str) -> Device {
        Device::new(worker, "kempen", "ws://127.0.0.1:8080/sync")
    }

    fn new_contact(name: &str) -> NewContact {
        NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: Channel::Street,
            place: Some("Market square".into()),
            assigned_worker: None,
        }
    }

    #[wasm_bindgen_test]
    fn an_edit_updates_the_index_and_leaves_chunks_to_write() {
        let (mut repo, start) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        assert_eq!(start.batch.chunks.len(), 1, "the index genesis is written");
        let (id, step) = repo.create_contact(new_contact("Lotte")).expect("created");
        assert_eq!(step.batch.chunks.len(), 2, "record and index");
        assert!(step.send.is_empty(), "not connected: nothing to send");
        let entry = repo.entry(&id).expect("indexed");
        assert_eq!(entry.summary.name, "Lotte");
        assert!(repo.is_pending(&id));
        let (_, step) = repo
            .edit_contact(id, |c, ed| {
                c.add_note(
                    ed,
                    NewNote {
                        text: "Met at the market".into(),
                        ..Default::default()
                    },
                )?;
                c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
            })
            .expect("edited");
        assert_eq!(
            step.batch.chunks.len(),
            2,
            "the record, and its index row's new date"
        );
        let Loadable::Ready(contact) = repo.contact(&id) else {
            panic!("readable")
        };
        assert_eq!(contact.notes.len(), 1);
        assert_eq!(contact.phone.as_deref(), Some("0470 11 22 33"));
    }

    /// What the store would load for the repo's index document now.
    fn stored_index(repo: &Repo) -> Loaded {
        let doc = repo.replica.doc(&repo.index_id).expect("index").clone();
        Loaded {
            docs: vec![crate::store::StoredDoc {
                id: repo.index_id,
                doc,
                chunks: 1,
                next_seq: 1,
                partly_damaged: false,
            }],
            kept: vec![],
            damaged: vec![],
        }
    }

    fn names(repo: &Repo) -> Vec<String> {
        let mut names: Vec<String> = repo.entries().map(|e| e.summary.name.clone()).collect();
        names.sort();
        names
    }

    #[wasm_bindgen_test]
    fn a_current_snapshot_shows_the_rows_before_the_index_is_loaded() {
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        anna.create_contact(new_contact("Lotte")).expect("created");
        anna.create_contact(new_contact("Bram")).expect("created");
        let tidy = anna.tidy().expect("a snapshot to store");
        let snapshot = tidy.batch.snapshot.expect("snapshot");
        assert!(
            anna.tidy().is_none(),
            "stored once while the index is unchanged"
        );

        let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
        assert!(!again.is_index_open());
        assert_eq!(names(&again), ["Bram", "Lotte"]);
        let version = again.entries_version;
        again.open_index(stored_index(&anna), vec![]);
        assert!(again.is_index_open());
        assert_eq!(again.entries_version, version, "rows kept, not re-read");
        let mut rows: Vec<&Entry> = again.entries().collect();
        rows.sort_by_key(|e| e.id);
        let mut expected =
            CaseloadDoc::from_automerge(anna.replica.doc(&anna.index_id).expect("index").clone())
                .expect("index")
                .entries();
        expected.sort_by_key(|e| e.id);
        assert_eq!(rows, expected.iter().collect::<Vec<_>>());
    }

    /// The index snapshot the next idle moment would store.
    fn snapshot_of(repo: &mut Repo) -> Snapshot {
        repo.tidy()
            .and_then(|s| s.batch.snapshot)
            .expect("snapshot")
    }

    #[wasm_bindgen_test]
    fn a_stale_snapshot_gives_way_to_the_index() {
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        let (lotte, _) = anna.create_contact(new_contact("Lotte")).expect("created");
        let snapshot = snapshot_of(&mut anna);
        anna.create_contact(new_contact("Bram")).expect("created");
        anna.edit_contact(lotte, |c, ed| {
            c.set_field(ed, ContactField::DisplayName, Some("Lotte P."))
        })
        .expect("renamed");

        let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
        assert_eq!(names(&again), ["Lotte"]);
        again.open_index(stored_index(&anna), vec![]);
        assert_eq!(names(&again), ["Bram", "Lotte P."], "the index's rows");
        assert!(
            again.tidy().and_then(|s| s.batch.snapshot).is_some(),
            "and a new snapshot is due"
        );
    }

    #[wasm_bindgen_test]
    fn a_corrupt_or_foreign_snapshot_is_no_snapshot() {
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        anna.create_contact(new_contact("Lotte")).expect("created");
        let snapshot = snapshot_of(&mut anna);
        let mut garbled = snapshot.clone();
        garbled.bytes.truncate(garbled.bytes.len() / 2);
        assert!(Repo::from_snapshot(device("Anna"), &garbled).is_none());
        let other_team = Device::new("Anna", "elsewhere", "ws://127.0.0.1:8080/sync");
        assert!(Repo::from_snapshot(other_team, &snapshot).is_none());
    }

    #[wasm_bindgen_test]
    fn with_no_index_on_disk_after_a_snapshot_the_index_starts_over() {
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        anna.create_contact(new_contact("Lotte")).expect("created");
        let snapshot = snapshot_of(&mut anna);
        let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
        let start = again.open_index(Loaded::default(), vec![]);
        assert_eq!(start.batch.chunks.len(), 1, "the genesis is written");
        assert!(names(&again).is_empty(), "no rows the index does not have");
    }

    #[wasm_bindgen_test]
    fn a_contact_read_again_after_an_edit_shows_the_edit() {
        let (mut repo, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        let (id, _) = repo.create_contact(new_contact("Lotte")).expect("created");
        let (other, _) = repo.create_contact(new_contact("Bram")).expect("created");
        let read = |repo: &Repo, id| match repo.contact(&id) {
            Loadable::Ready(c) => c,
            other => panic!("readable: {other:?}"),
        };
        assert_eq!(read(&repo, id), read(&repo, id), "read twice, the same");
        repo.edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
        })
        .expect("edited");
        assert_eq!(read(&repo, id).phone.as_deref(), Some("0470 11 22 33"));
        assert_eq!(read(&repo, other).display_name, "Bram", "another contact");
        assert_eq!(read(&repo, id).display_name, "Lotte");
    }

    #[wasm_bindgen_test]
    fn a_refused_edit_changes_nothing() {
        let (mut repo, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        let (id, _) = repo.create_contact(new_contact("Lotte")).expect("created");
        let before = repo.revision();
        let Err(err) = repo.edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("call me"))
        }) else {
            panic!("refused")
        };
        assert!(err.to_string().contains("phone number"), "{err}");
        assert_eq!(repo.revision(), before);
        assert!(matches!(
            repo.contact(&DocumentId::random()),
            Loadable::NotHere
        ));
    }

    /// One session with the relay: connect, exchange until quiet, disconnect. Returns
    /// what the device would have written.
    fn session(relay: &mut Relay, repo: &mut Repo) -> (Batch, Progress) {
        let mut written = Batch::default();
        let connect = repo.connect();
        relay.exchange(vec![connect], |reply| {
            let step = repo
                .receive(reply)
                .expect("the device takes the relay's message");
            written.extend(step.batch);
            step.send
        });
        assert!(
            repo.is_up_to_date(),
            "nothing left to sync for {}: {:?} pending {} connected {}",
            repo.device.worker,
            repo.progress(),
            repo.replica.pending_count(),
            repo.is_connected()
        );
        let progress = repo.progress();
        repo.disconnect();
        (written, progress)
    }

    /// The chunks written for one document, loaded as the store would.
    fn load_written(batch: &Batch, id: DocumentId) -> Automerge {
        let bytes: Vec<u8> = batch
            .chunks
            .iter()
            .filter(|c| c.parts().0 == id)
            .flat_map(|c| c.parts().2.to_vec())
            .collect();
        Automerge::load(&bytes).expect("the written chunks load")
    }

    #[wasm_bindgen_test]
    fn a_record_arriving_whole_is_stored_as_the_relay_sent_it_and_loads_back() {
        let mut relay = Relay::default();
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        let (id, _) = anna.create_contact(new_contact("Lotte")).expect("created");
        for text in ["First meeting", "Second meeting"] {
            anna.edit_contact(id, |c, ed| {
                c.add_note(
                    ed,
                    NewNote {
                        text: text.into(),
                        ..Default::default()
                    },
                )
                .map(|_| ())
            })
            .expect("note");
        }
        session(&mut relay, &mut anna);

        let (mut bram, _) = Repo::new(device("Bram"), Loaded::default(), vec![]);
        let (written, _) = session(&mut relay, &mut bram);
        let held = bram.replica.doc(&id).expect("arrived").clone();
        let ours: Vec<&crate::store::ChunkWrite> = written
            .chunks
            .iter()
            .filter(|c| c.parts().0 == id)
            .collect();
        assert!(
            matches!(ours[..], [crate::store::ChunkWrite::Replace { seq: 0, .. }]),
            "one chunk: {ours:?}"
        );
        assert_eq!(load_written(&written, id).get_heads(), held.get_heads());

        // Later changes to a record it has are appended as usual.
        anna.edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
        })
        .expect("phone");
        session(&mut relay, &mut anna);
        let (later, _) = session(&mut relay, &mut bram);
        let mut both = written.clone();
        both.extend(later.clone());
        assert!(
            later
                .chunks
                .iter()
                .any(|c| matches!(c, crate::store::ChunkWrite::Append { doc, .. } if *doc == id)),
            "appended"
        );
        assert_eq!(
            load_written(&both, id).get_heads(),
            bram.replica.doc(&id).expect("held").get_heads()
        );

        // Bram's app starts again: the record comes back kept unloaded, with the heads
        // its newest chunk names, and reads, edits and syncs as a loaded one.
        let ours: Vec<&crate::store::ChunkWrite> =
            both.chunks.iter().filter(|c| c.parts().0 == id).collect();
        let newest = ours.last().expect("written");
        let kept = crate::store::KeptDoc {
            id,
            bytes: ours.iter().flat_map(|c| c.parts().2.to_vec()).collect(),
            heads: newest.heads().to_vec(),
            chunks: ours.len() as u32,
            next_seq: newest.parts().1 + 1,
        };
        let states: Vec<(DocumentId, Vec<u8>)> = both.states.clone();
        let index = bram.replica.doc(&bram.index_id).expect("index").clone();
        let (mut again, _) = Repo::new(
            device("Bram"),
            Loaded {
                docs: vec![crate::store::StoredDoc {
                    id: bram.index_id,
                    doc: index,
                    chunks: 1,
                    next_seq: 1,
                    partly_damaged: false,
                }],
                kept: vec![],
                damaged: vec![],
            },
            vec![],
        );
        let _ = again.add_loaded(
            Loaded {
                kept: vec![kept],
                ..Loaded::default()
            },
            states,
        );
        assert!(
            again.replica.kept_bytes(&id).is_some(),
            "not loaded at start"
        );
        assert!(!again.is_pending(&id), "the relay holds it");
        let Loadable::Ready(contact) = again.contact(&id) else {
            panic!("reads");
        };
        assert_eq!(contact.phone.as_deref(), Some("0470 11 22 33"));
        let (_, step) = again
            .edit_contact(id, |c, ed| {
                c.set_field(ed, ContactField::Phone, Some("0470 99"))
            })
            .expect("edits");
        assert!(
            step.batch.chunks.iter().any(|c| matches!(
                c,
                crate::store::ChunkWrite::Append { doc, seq, .. } if *doc == id && *seq == newest.parts().1 + 1
            )),
            "appended after the kept chunks: {:?}",
            step.batch.chunks
        );
        assert!(again.is_pending(&id));
    }

    #[wasm_bindgen_test]
    fn a_fresh_device_receives_the_caseload_and_concurrent_edits_show_as_conflicts() {
        let mut relay = Relay::default();
        let (mut anna, _) = Repo::new(device("Anna"), Loaded::default(), vec![]);
        let (id, _) = anna.create_contact(new_contact("Lotte")).expect("created");
        anna.edit_contact(id, |c, ed| {
            c.add_note(
                ed,
                NewNote {
                    text: "First meeting".into(),
                    ..Default::default()
                },
            )
            .map(|_| ())
        })
        .expect("note");
        session(&mut relay, &mut anna);
        assert_eq!(anna.pending_count(), 0);

        let (mut bram, _) = Repo::new(device("Bram"), Loaded::default(), vec![]);
        let (written, progress) = session(&mut relay, &mut bram);
        assert_eq!(progress.done, progress.total, "progress reached its total");
        assert_eq!(progress.total, 2, "the index and the record");
        assert!(
            written.chunks.iter().any(|c| c.parts().0 == id),
            "the record is written to disk"
        );
        assert!(
            written.states.iter().any(|(d, _)| *d == id),
            "and its sync state"
        );
        let Loadable::Ready(lotte) = bram.contact(&id) else {
            panic!("Lotte arrived")
        };
        assert_eq!(lotte.notes.len(), 1);
        assert_eq!(
            bram.entry(&id).map(|e| e.summary.name.clone()),
            Some("Lotte".into())
        );

        // Both change the phone number offline; after syncing both see both values.
        anna.edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("0470 00 00 01"))
        })
        .expect("phone");
        bram.edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("0470 00 00 02"))
        })
        .expect("phone");
        bram.edit_contact(id, |c, ed| {
            c.change_status(ed, paktum_shared::contact::Status::Engaged, None)
        })
        .expect("status");
        session(&mut relay, &mut anna);
        session(&mut relay, &mut bram);
        session(&mut relay, &mut anna);
        for repo in [&anna, &bram] {
            let Loadable::Ready(c) = repo.contact(&id) else {
                panic!("readable")
            };
            let mut values: Vec<String> = c.conflicts[&ContactField::Phone]
                .iter()
                .map(|v| v.value.clone())
                .collect();
            values.sort();
            assert_eq!(values, ["0470 00 00 01", "0470 00 00 02"]);
            assert_eq!(c.status, paktum_shared::contact::Status::Engaged);
            assert_eq!(
                repo.entry(&id)
                    .and_then(|e| e.summary.status.clone())
                    .as_deref(),
                Some("engaged")
            );
        }
    }
}
