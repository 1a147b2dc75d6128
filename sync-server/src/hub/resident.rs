//! Which documents stay loaded: the oldest quiet ones leave memory (their sync
//! states stay, their heads and class are remembered), and a fresh device's first
//! sync of a record not in memory is answered from its stored bytes
//! ([`paktum_shared::whole`]) without loading it.

use automerge::Automerge;
use automerge::sync;
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;

use super::document::{Document, Persist};
use super::{ConnId, Hub, Outgoing, lock};
use crate::auth::{Access, DocClass, Identity};
use crate::error::Error;
use crate::storage::Stored;

/// A record's heads and class, remembered while it is not in memory: what a fresh
/// device's first sync needs (see [`paktum_shared::whole`]). About 100 bytes a record.
#[derive(Clone)]
pub(super) struct Unloaded {
    pub(super) id: DocumentId,
    pub(super) heads: Vec<automerge::ChangeHash>,
    pub(super) class: DocClass,
}

/// A record not in memory, known by its heads and class; with its stored bytes when
/// they were just read.
pub(super) struct Known {
    pub(super) unloaded: Unloaded,
    stored: Option<Stored>,
}

/// A document as read from the store: (document, whether it exists, chunks on disk,
/// its generation: how many times an erasure rewrote it).
pub(super) type Read = (Automerge, bool, usize, u64);

impl Hub {
    /// What the hub knows of a document before a message for it: nothing more when it
    /// is in memory; else its remembered heads and class; else, for a fresh device's
    /// first contact, the document read from the store now, and if it is a record, its
    /// heads and class remembered as if it had left memory here (a relay that did not
    /// take the upload answers from the stored bytes too, rather than encoding every
    /// change again). The read document goes to the ordinary way if the quick one
    /// does not answer: it is never read twice.
    pub(super) async fn known(
        &self,
        doc_id: DocumentId,
        entry: Option<&Document>,
        message: &sync::Message,
    ) -> Result<(Option<Known>, Option<Read>), Error> {
        if entry.is_some_and(|e| e.loaded) {
            return Ok((None, None));
        }
        if let Some(unloaded) = lock(&self.unloaded).get(&doc_id).cloned() {
            let known = Known {
                unloaded,
                stored: None,
            };
            return Ok((Some(known), None));
        }
        if !paktum_shared::whole::is_first_contact(message) {
            return Ok((None, None));
        }
        let stored = self.blocking(move |s| s.load(&doc_id)).await?;
        let (doc, exists, chunks, generation) = self.parse(doc_id, stored.as_ref())?;
        let class = crate::auth::classify(&doc_id, exists.then_some(&doc), &lock(&self.teams));
        let known = match (stored, class) {
            (Some(stored), class @ DocClass::Record { .. }) => {
                let unloaded = Unloaded {
                    id: doc_id,
                    heads: doc.get_heads(),
                    class,
                };
                lock(&self.unloaded).insert(doc_id, unloaded.clone());
                Some(Known {
                    unloaded,
                    stored: Some(stored),
                })
            }
            _ => None,
        };
        Ok((known, Some((doc, exists, chunks, generation))))
    }

    /// Answers a fresh device's request for an unloaded record, or its acknowledgement,
    /// without loading the record (see [`paktum_shared::whole`]). False: go the ordinary way.
    pub(super) async fn quick(
        &self,
        conn: ConnId,
        peer_id: &str,
        identity: Option<&Identity>,
        entry: &mut Option<Document>,
        known: &mut Known,
        message: &sync::Message,
    ) -> Result<bool, Error> {
        let stored = known.stored.take();
        let known = &known.unloaded;
        let doc_id = known.id;
        let access = identity.map_or(Access::ReadWrite, |i| i.access(&known.class));
        if access == Access::None {
            return Ok(false); // refused the ordinary way, with its audit entry
        }
        if let Some(state) = entry.as_mut().and_then(|e| e.syncs.get_mut(&conn)) {
            return Ok(paktum_shared::whole::acknowledgement(
                message,
                state,
                &known.heads,
            ));
        }
        if !paktum_shared::whole::is_first_contact(message) {
            return Ok(false);
        }
        let stored = match stored {
            Some(stored) => stored,
            None => match self.blocking(move |s| s.load(&doc_id)).await? {
                Some(stored) => stored,
                None => return Ok(false),
            },
        };
        let mut state = sync::State::new();
        state.set_read_only(access == Access::Read);
        let reply =
            paktum_shared::whole::first_contact(message, &mut state, &known.heads, stored.bytes);
        entry
            .get_or_insert_with(|| Document::unloaded(doc_id, stored.chunks))
            .syncs
            .insert(conn, state);
        self.send(
            conn,
            Outgoing::Message(Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: peer_id.to_string(),
                document_id: doc_id,
                data: reply.encode(),
            }),
        );
        Ok(true)
    }

    /// A document from the store: (document, whether it exists, chunks on disk).
    pub(super) async fn load(&self, doc_id: DocumentId) -> Result<Read, Error> {
        let stored = self.blocking(move |s| s.load(&doc_id)).await?;
        self.parse(doc_id, stored.as_ref())
    }

    /// Writes a change to the store; returns once it is durable. With `at` (an index:
    /// the generation its copy was read at) only while the store's index is still at
    /// it: false, and nothing written, when an erasure rewrote it since.
    pub(super) async fn persist(
        &self,
        doc_id: DocumentId,
        persist: &Persist,
        at: Option<u64>,
    ) -> Result<bool, Error> {
        let persist = persist.clone();
        self.blocking(move |s| match (persist, at) {
            (Persist::Append(chunk), None) => s.append(&doc_id, &chunk).map(|()| true),
            (Persist::Compact(snapshot), None) => s.compact(&doc_id, &snapshot).map(|()| true),
            (Persist::Append(chunk), Some(at)) => s.append_at(&doc_id, &chunk, at),
            (Persist::Compact(snapshot), Some(at)) => s.compact_at(&doc_id, &snapshot, at),
        })
        .await
    }

    /// A document from its stored bytes (none: a new, empty one).
    fn parse(&self, doc_id: DocumentId, stored: Option<&Stored>) -> Result<Read, Error> {
        if stored.is_some() {
            self.loads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match stored {
            Some(stored) => match paktum_shared::untrusted::load(&stored.bytes) {
                // An index's history an erasure retired never leaves the store again,
                // even if a relay that had not seen the erasure yet stored on top of it.
                Ok(doc) => match paktum_shared::caseload::CaseloadDoc::without_retired(&doc) {
                    Some(clean) => {
                        tracing::warn!(doc = %doc_id, "stored index held a retired history; left out");
                        Ok((clean, true, stored.chunks, stored.generation))
                    }
                    None => Ok((doc, true, stored.chunks, stored.generation)),
                },
                Err(e) => {
                    // Never hand out a document we cannot read; keep its bytes untouched.
                    tracing::error!(doc = %doc_id, error = %e, "stored document does not load");
                    Err(Error::BadSync("stored document does not load".into()))
                }
            },
            None => Ok((Automerge::new(), false, 0, 0)),
        }
    }

    /// Unloads the oldest quiet documents while more than the limit are loaded. Looks
    /// at a bounded number of candidates per call, so one message never pays for many.
    pub(super) fn trim(&self) {
        let limit = self.limits.documents_in_memory;
        for _ in 0..64 {
            let candidate = {
                let mut resident = lock(&self.resident);
                if resident.len() <= limit {
                    return;
                }
                resident.pop_front()
            };
            let Some(doc_id) = candidate else { return };
            let Some(slot) = lock(&self.docs).get(&doc_id).cloned() else {
                continue; // dropped since: nothing to unload
            };
            let Ok(mut guard) = slot.try_lock() else {
                lock(&self.resident).push_back(doc_id); // in use right now
                continue;
            };
            let Some(entry) = guard.as_mut().filter(|e| e.loaded && !e.stays_loaded()) else {
                continue;
            };
            if entry.is_quiet() {
                // Every change is on disk before anyone hears of it, so the store
                // holds exactly this document.
                self.remember(doc_id, entry);
                entry.doc = Automerge::new();
                entry.loaded = false;
            } else {
                lock(&self.resident).push_back(doc_id);
            }
        }
    }

    /// Notes a record's heads and class as it leaves memory (quiet, so the store holds
    /// exactly this document).
    pub(super) fn remember(&self, doc_id: DocumentId, entry: &Document) {
        if !entry.loaded || !entry.exists {
            return;
        }
        let class = entry.class(&lock(&self.teams));
        if matches!(class, DocClass::Record { .. }) {
            let heads = entry.doc.get_heads();
            lock(&self.unloaded).insert(
                doc_id,
                Unloaded {
                    id: doc_id,
                    heads,
                    class,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Limits;
    use crate::hub::document::Kind;
    use crate::storage::{MemoryStorage, Storage};
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use std::sync::Arc;
    use tokio::sync::mpsc;

    /// A connection that syncs `n` new documents to the hub, message by message, as a
    /// device would, until the hub has acknowledged each.
    async fn upload(
        hub: &Hub,
        conn: ConnId,
        rx: &mut mpsc::Receiver<Outgoing>,
        n: usize,
    ) -> Vec<(DocumentId, Automerge)> {
        let mut docs = Vec::new();
        for i in 0..n {
            let id = DocumentId::random();
            let mut doc = Automerge::new();
            let mut tx = doc.transaction();
            tx.put(automerge::ROOT, "n", i as i64).expect("put");
            tx.commit();
            sync_one(hub, conn, rx, id, &mut doc).await;
            docs.push((id, doc));
        }
        docs
    }

    /// Syncs one document with the hub until the hub has acknowledged it.
    async fn sync_one(
        hub: &Hub,
        conn: ConnId,
        rx: &mut mpsc::Receiver<Outgoing>,
        id: DocumentId,
        doc: &mut Automerge,
    ) {
        let mut state = sync::State::new();
        // Two rounds carry the change and its acknowledgement.
        for _ in 0..3 {
            if let Some(msg) = doc.generate_sync_message(&mut state) {
                hub.receive(conn, id, &msg.encode(), Kind::Sync)
                    .await
                    .expect("receive");
            }
            while let Ok(Outgoing::Message(Message::Sync { data, .. })) = rx.try_recv() {
                let msg = sync::Message::decode(&data).expect("decode");
                doc.receive_sync_message(&mut state, msg).expect("apply");
            }
        }
    }

    #[tokio::test]
    async fn a_teams_index_stays_loaded_when_its_devices_leave_and_records_do_not() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let limits = Limits {
            documents_in_memory: 2,
            ..Limits::default()
        };
        let hub = Hub::new(storage, None, None, limits).expect("hub");
        let (tx, mut rx) = mpsc::channel(1024);
        let conn = hub
            .connect("a".into(), None, tx, crate::hub::Kick::default(), None)
            .expect("connect");
        let mut index = paktum_shared::caseload::CaseloadDoc::new("kempen").expect("index");
        let index_id = index.id();
        sync_one(&hub, conn, &mut rx, index_id, index.doc_mut()).await;
        // More records than the limit: the oldest quiet documents leave memory.
        let records = upload(&hub, conn, &mut rx, 6).await;
        hub.disconnect(conn).await;

        let (tx, mut rx) = mpsc::channel(1024);
        let conn = hub
            .connect("b".into(), None, tx, crate::hub::Kick::default(), None)
            .expect("connect");
        let loads = hub.loads();
        let mut copy = index.doc().clone();
        sync_one(&hub, conn, &mut rx, index_id, &mut copy).await;
        assert_eq!(hub.loads(), loads, "the index was still loaded");
        let (id, record) = &records[0];
        sync_one(&hub, conn, &mut rx, *id, &mut record.clone()).await;
        assert_eq!(
            hub.loads(),
            loads + 1,
            "a record left memory and is loaded again"
        );
    }

    #[tokio::test]
    async fn synced_documents_beyond_the_limit_are_unloaded_and_reload_intact() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let limits = Limits {
            documents_in_memory: 3,
            ..Limits::default()
        };
        let hub = Hub::new(storage, None, None, limits).expect("hub");
        let (tx, mut rx) = mpsc::channel(1024);
        let conn = hub
            .connect("peer".into(), None, tx, crate::hub::Kick::default(), None)
            .expect("connect");
        let docs = upload(&hub, conn, &mut rx, 10).await;
        assert_eq!(
            hub.documents_in_memory(),
            10,
            "sync states are kept for all"
        );
        assert!(
            hub.documents_loaded() <= 3,
            "loaded: {}",
            hub.documents_loaded()
        );

        // An unloaded document comes back from the store with its content.
        let (id, doc) = &docs[0];
        let mut state = sync::State::new();
        let msg = Automerge::new()
            .generate_sync_message(&mut state)
            .expect("msg");
        hub.receive(conn, *id, &msg.encode(), Kind::Sync)
            .await
            .expect("receive");
        let mut got = false;
        while let Ok(Outgoing::Message(Message::Sync {
            data, document_id, ..
        })) = rx.try_recv()
        {
            if document_id == *id {
                let m = sync::Message::decode(&data).expect("decode");
                got = !m.heads.is_empty() && m.heads == doc.get_heads();
            }
        }
        assert!(got, "the reloaded document answers with its heads");
    }

    /// Another relay on the same store took the upload: this one never had the record in
    /// memory, and a fresh device's first sync is answered from the stored bytes, the
    /// record remembered by heads and class and not kept loaded, as on the relay that
    /// took it; the device's acknowledgement needs no load either.
    #[tokio::test]
    async fn a_record_stored_by_another_relay_is_answered_from_its_bytes() {
        use paktum_shared::contact::{Channel, ContactDoc, NewContact};
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let editor = paktum_shared::record::Editor::new(automerge::ActorId::random(), "Anna", 0);
        let new = NewContact {
            team: "kempen".into(),
            display_name: "R. Test".into(),
            first_contact_on: "2026-11-24".parse().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        };
        let contact = ContactDoc::create(&editor, new)
            .expect("contact")
            .into_record();
        let (id, stored) = (contact.id(), contact.doc().clone().save());
        storage.append(&id, &stored).expect("stored elsewhere");
        let hub = Hub::new(storage, None, None, Limits::default()).expect("hub");
        let (tx, mut rx) = mpsc::channel(1024);
        let conn = hub
            .connect("fresh".into(), None, tx, crate::hub::Kick::default(), None)
            .expect("connect");
        let mut doc = Automerge::new();
        sync_one(&hub, conn, &mut rx, id, &mut doc).await;
        assert_eq!(
            doc.get_heads(),
            contact.doc().get_heads(),
            "the whole record"
        );
        assert_eq!(hub.loads(), 1, "read once");
        assert_eq!(hub.documents_loaded(), 0, "answered from its bytes");
        assert!(lock(&hub.unloaded).contains_key(&id), "remembered");
    }
}
