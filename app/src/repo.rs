//! The device's working copy of its team's records: the sync replica (which holds
//! every document in memory), the ledger of what is already on disk, and the caseload
//! index kept in step with every edit. Pure state without I/O: each operation returns
//! a [`Step`], what to write to the store and what to send to the relay.

use std::collections::{BTreeMap, HashMap};

use automerge::{ActorId, Automerge};
use paktum_shared::caseload::{CaseloadDoc, Entry, Summary};
use paktum_shared::contact::{Contact, ContactDoc, NewContact};
use paktum_shared::employer::{Employer, EmployerDoc};
use paktum_shared::protocol::Message;
use paktum_shared::record::{HistoryEntry, Kind};
use paktum_shared::replica::{Progress, Replica, ReplicaError};
use paktum_shared::{DocumentId, Editor, ModelError, RecordDoc};

use crate::device::Device;
use crate::store::{Batch, Loaded};

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

pub struct Repo {
    device: Device,
    actor: ActorId,
    replica: Replica,
    ledger: crate::store::Ledger,
    index_id: DocumentId,
    /// The index rows, re-read only when the index changes.
    entries: HashMap<DocumentId, Entry>,
    /// Stored data that could not be read, by document where known.
    damaged: Vec<(Option<DocumentId>, String)>,
    /// Bumped on every change a screen might show.
    revision: u64,
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
        let actor = device.actor_id();
        let index_id = CaseloadDoc::id_for_team(&device.team);
        let mut replica = Replica::new(device.session_peer_id(), Some(device.storage_id.clone()));
        replica.follow_index(index_id);
        let mut ledger = crate::store::Ledger::default();
        let mut states: HashMap<DocumentId, Vec<u8>> = states.into_iter().collect();
        let mut damaged = Vec::new();
        for d in loaded.damaged {
            if let Some(id) = d.id {
                ledger.damaged(id, d.next_seq);
            }
            damaged.push((d.id, d.reason));
        }
        let mut step = Step::default();
        for stored in loaded.docs {
            ledger.loaded(
                stored.id,
                &stored.doc,
                stored.chunks,
                stored.next_seq,
                stored.partly_damaged,
            );
            if ledger.needs_compaction(&stored.id) {
                step.batch
                    .chunks
                    .push(ledger.compact(stored.id, &stored.doc));
            }
            let state = states
                .remove(&stored.id)
                .and_then(|b| automerge::sync::State::decode(&b).ok());
            replica.insert(stored.id, stored.doc, state);
        }
        let mut repo = Self {
            device,
            actor,
            replica,
            ledger,
            index_id,
            entries: HashMap::new(),
            damaged,
            revision: 0,
        };
        if repo.replica.doc(&index_id).is_none() {
            // Deterministic genesis: every device of the team starts the same index.
            if let Ok(index) = CaseloadDoc::new(&repo.device.team) {
                let doc = index.doc().clone();
                step.batch
                    .chunks
                    .extend(repo.ledger.chunk_for(index_id, &doc));
                repo.replica.insert(index_id, doc, None);
            }
        }
        repo.reread_index();
        (repo, step)
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
        self.replica.is_up_to_date()
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
        self.read(id, |r| ContactDoc::from_record(r)?.read())
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
        self.revision += 1;
        Ok(step)
    }

    fn upsert_index(
        &mut self,
        editor: &Editor,
        rows: Vec<(DocumentId, Summary, Option<Vec<automerge::ChangeHash>>)>,
        step: &mut Step,
    ) {
        let current = match self.replica.doc(&self.index_id) {
            Some(doc) if !doc.get_heads().is_empty() => doc.clone(),
            _ => match CaseloadDoc::new(&self.device.team) {
                Ok(index) => index.doc().clone(),
                Err(_) => return,
            },
        };
        let Ok(mut index) = CaseloadDoc::from_automerge(current) else {
            return;
        };
        if let Ok(true) = index.upsert(editor, &rows) {
            let doc: Automerge = std::mem::take(index.doc_mut());
            step.batch
                .chunks
                .extend(self.ledger.chunk_for(self.index_id, &doc));
            let _ = self.replica.take(&self.index_id);
            step.send.extend(self.replica.put_back(self.index_id, doc));
            self.reread_index();
        }
    }

    fn reread_index(&mut self) {
        let Some(doc) = self.replica.doc(&self.index_id) else {
            return;
        };
        if let Ok(index) = CaseloadDoc::from_automerge(doc.clone()) {
            self.entries = index.entries().into_iter().map(|e| (e.id, e)).collect();
        }
    }

    fn collect_states(&mut self, step: &mut Step) {
        for id in self.replica.take_states_changed() {
            if let Some(state) = self.replica.sync_state(&id) {
                step.batch.states.push((id, state));
            }
        }
    }

    /// A new connection is open: the `join` to send.
    pub fn connect(&mut self) -> Message {
        self.replica.connect()
    }

    pub fn disconnect(&mut self) {
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
            if let Some(doc) = self.replica.doc(id) {
                step.batch.chunks.extend(self.ledger.chunk_for(*id, doc));
            }
            if *id == self.index_id {
                self.reread_index();
                continue;
            }
            // A record that arrived or merged: its index row must say what it now says.
            if let Loadable::Ready(record) = self.record(id)
                && let Ok(summary) = Summary::of(&record)
                && self.entries.get(id).map(|e| &e.summary) != Some(&summary)
            {
                rows.push((*id, summary, None));
            }
            self.damaged.retain(|(d, _)| d.as_ref() != Some(id));
        }
        if !rows.is_empty() {
            let editor = self.editor();
            self.upsert_index(&editor, rows, &mut step);
        }
        self.collect_states(&mut step);
        if !changed.is_empty() {
            self.revision += 1;
        }
        Ok(step)
    }
}

/// The records of one kind, as list rows.
pub fn rows_of(repo: &Repo, kind: Kind) -> Vec<Entry> {
    let mut rows: Vec<Entry> = repo
        .entries()
        .filter(|e| e.summary.kind == kind)
        .cloned()
        .collect();
    rows.sort_by(|a, b| {
        a.summary
            .name
            .to_lowercase()
            .cmp(&b.summary.name.to_lowercase())
    });
    rows
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

    /// Just enough of the relay to sync devices one session after another.
    #[derive(Default)]
    struct MiniRelay {
        docs: HashMap<DocumentId, Automerge>,
        states: HashMap<(String, DocumentId), automerge::sync::State>,
    }

    impl MiniRelay {
        fn handle(&mut self, msg: Message) -> Vec<Message> {
            use automerge::sync::SyncDoc;
            let relay = "relay".to_string();
            let asks = matches!(msg, Message::Request { .. });
            match msg {
                Message::Join { sender_id, .. } => vec![Message::Peer {
                    sender_id: relay,
                    selected_protocol_version: paktum_shared::protocol::PROTOCOL_VERSION.into(),
                    target_id: sender_id,
                    metadata: None,
                }],
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
                    let message = automerge::sync::Message::decode(&data).expect("sync message");
                    doc.receive_sync_message(state, message).expect("applies");
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

        /// One session: connect, exchange until quiet, disconnect. Returns what the
        /// device would have written.
        fn session(&mut self, repo: &mut Repo) -> (Batch, Progress) {
            let mut written = Batch::default();
            let mut to_relay = vec![repo.connect()];
            while !to_relay.is_empty() {
                let replies: Vec<Message> =
                    to_relay.drain(..).flat_map(|m| self.handle(m)).collect();
                for reply in replies {
                    let step = repo
                        .receive(reply)
                        .expect("the device takes the relay's message");
                    to_relay.extend(step.send);
                    written.extend(step.batch);
                }
            }
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
    }

    #[wasm_bindgen_test]
    fn a_fresh_device_receives_the_caseload_and_concurrent_edits_show_as_conflicts() {
        let mut relay = MiniRelay::default();
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
        relay.session(&mut anna);
        assert_eq!(anna.pending_count(), 0);

        let (mut bram, _) = Repo::new(device("Bram"), Loaded::default(), vec![]);
        let (written, progress) = relay.session(&mut bram);
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
        relay.session(&mut anna);
        relay.session(&mut bram);
        relay.session(&mut anna);
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
