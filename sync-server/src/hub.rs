//! The hub: documents in memory while someone syncs them, one Automerge sync state
//! per (connection, document), and fan-out of changes to every connection syncing
//! the same document. A change is persisted before anyone is told about it, so a
//! sync message that acknowledges it is only ever sent for durable data.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex as StdMutex};

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::storage::{Storage, StorageError};

/// Chunks a document may accumulate before the relay compacts it into one.
const COMPACT_AFTER: usize = 64;

pub type ConnId = u64;

/// What the hub sends to a connection's writer.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("sync message for a document could not be applied: {0}")]
    BadSync(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("storage task failed: {0}")]
    Join(String),
}

struct Peer {
    peer_id: String,
    storage_id: Option<String>,
    tx: mpsc::Sender<Outgoing>,
    kick: CancellationToken,
    /// Documents this connection synced; its states are saved and it is
    /// unsubscribed from them when it leaves.
    docs: HashSet<DocumentId>,
}

struct DocEntry {
    doc: Automerge,
    exists: bool,
    chunks: usize,
    syncs: HashMap<ConnId, sync::State>,
}

type Slot = Arc<Mutex<Option<DocEntry>>>;

pub struct Hub {
    storage: Arc<dyn Storage>,
    peer_id: String,
    storage_id: String,
    docs: StdMutex<HashMap<DocumentId, Slot>>,
    peers: StdMutex<HashMap<ConnId, Peer>>,
    next_conn: std::sync::atomic::AtomicU64,
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    pub fn new(storage: Arc<dyn Storage>) -> Result<Self, StorageError> {
        let storage_id = storage.storage_id()?;
        let suffix: u64 = rand::random();
        Ok(Self {
            storage,
            peer_id: format!("paktum-relay-{suffix:016x}"),
            storage_id,
            docs: StdMutex::new(HashMap::new()),
            peers: StdMutex::new(HashMap::new()),
            next_conn: std::sync::atomic::AtomicU64::new(1),
        })
    }

    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    pub fn storage_id(&self) -> &str {
        &self.storage_id
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    pub fn connections(&self) -> usize {
        lock(&self.peers).len()
    }

    pub fn documents_in_memory(&self) -> usize {
        lock(&self.docs).len()
    }

    /// Registers a connection after its `join`.
    /// `kick` is cancelled when the hub wants the connection closed.
    pub fn connect(
        &self,
        peer_id: String,
        storage_id: Option<String>,
        tx: mpsc::Sender<Outgoing>,
        kick: CancellationToken,
    ) -> ConnId {
        let conn = self
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.peers).insert(
            conn,
            Peer {
                peer_id,
                storage_id,
                tx,
                kick,
                docs: HashSet::new(),
            },
        );
        conn
    }

    /// Forgets a connection: saves its sync states and drops documents nobody syncs.
    pub async fn disconnect(&self, conn: ConnId) {
        let Some(peer) = lock(&self.peers).remove(&conn) else {
            return;
        };
        let mut states = Vec::new();
        for doc in &peer.docs {
            let slot = lock(&self.docs).get(doc).cloned();
            let Some(slot) = slot else { continue };
            let mut guard = slot.lock().await;
            if let Some(entry) = guard.as_mut()
                && let Some(state) = entry.syncs.remove(&conn)
            {
                states.push((*doc, state.encode()));
            }
        }
        if let Some(storage_id) = peer.storage_id
            && !states.is_empty()
        {
            let storage = self.storage.clone();
            let saved =
                tokio::task::spawn_blocking(move || storage.save_sync_states(&storage_id, &states))
                    .await;
            if !matches!(saved, Ok(Ok(()))) {
                tracing::warn!(
                    conn,
                    "could not save sync states; the next sync of this device will be larger"
                );
            }
        }
        let mut docs = lock(&self.docs);
        for doc in &peer.docs {
            // Evict only if nobody else holds or waits for the slot.
            let idle = docs.get(doc).is_some_and(|slot| {
                Arc::strong_count(slot) == 1
                    && slot
                        .try_lock()
                        .map(|g| g.as_ref().is_none_or(|e| e.syncs.is_empty()))
                        .unwrap_or(false)
            });
            if idle {
                docs.remove(doc);
            }
        }
    }

    async fn slot(&self, doc: DocumentId) -> Result<Slot, HubError> {
        let slot = lock(&self.docs)
            .entry(doc)
            .or_insert_with(|| Arc::new(Mutex::new(None)))
            .clone();
        Ok(slot)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Storage) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, HubError> {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || f(storage.as_ref()))
            .await
            .map_err(|e| HubError::Join(e.to_string()))?
            .map_err(HubError::from)
    }

    /// Handles a `sync` or `request` from a connection.
    pub async fn receive(
        &self,
        conn: ConnId,
        doc_id: DocumentId,
        data: &[u8],
        is_request: bool,
    ) -> Result<(), HubError> {
        let message = sync::Message::decode(data).map_err(|e| HubError::BadSync(e.to_string()))?;
        let (peer_id, storage_id) = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return Ok(());
            };
            peer.docs.insert(doc_id);
            (peer.peer_id.clone(), peer.storage_id.clone())
        };
        let slot = self.slot(doc_id).await?;
        let mut guard = slot.lock().await;
        if guard.is_none() {
            let stored = self.blocking(move |s| s.load(&doc_id)).await?;
            let entry = match stored {
                Some(stored) => match Automerge::load(&stored.bytes) {
                    Ok(doc) => DocEntry {
                        doc,
                        exists: true,
                        chunks: stored.chunks,
                        syncs: HashMap::new(),
                    },
                    Err(e) => {
                        // Never hand out a document we cannot read; keep its bytes untouched.
                        tracing::error!(doc = %doc_id, error = %e, "stored document does not load");
                        return Err(HubError::BadSync("stored document does not load".into()));
                    }
                },
                None => DocEntry {
                    doc: Automerge::new(),
                    exists: false,
                    chunks: 0,
                    syncs: HashMap::new(),
                },
            };
            *guard = Some(entry);
        }
        let Some(entry) = guard.as_mut() else {
            return Ok(());
        };

        if let std::collections::hash_map::Entry::Vacant(slot) = entry.syncs.entry(conn) {
            // A device that synced this document before resumes from the saved state.
            let saved = match &storage_id {
                Some(sid) => {
                    let sid = sid.clone();
                    self.blocking(move |s| s.load_sync_state(&sid, &doc_id))
                        .await?
                }
                None => None,
            };
            let state = saved
                .and_then(|b| sync::State::decode(&b).ok())
                .unwrap_or_default();
            slot.insert(state);
        }

        let before = entry.doc.get_heads();
        let applied = {
            let Some(state) = entry.syncs.get_mut(&conn) else {
                return Ok(());
            };
            entry.doc.receive_sync_message(state, message)
        };
        if let Err(e) = applied {
            // The in-memory copy may hold part of the bad message: reload from disk next time.
            *guard = None;
            return Err(HubError::BadSync(e.to_string()));
        }

        let changed = entry.doc.get_heads() != before;
        if changed {
            let persisted = if entry.chunks + 1 > COMPACT_AFTER
                || !entry.exists && before.is_empty() && entry.chunks == 0
            {
                let snapshot = entry.doc.save();
                let result = self.blocking(move |s| s.compact(&doc_id, &snapshot)).await;
                result.map(|()| 1)
            } else {
                let chunk = entry.doc.save_after(&before);
                let result = self.blocking(move |s| s.append(&doc_id, &chunk)).await;
                result.map(|()| entry.chunks + 1)
            };
            match persisted {
                Ok(chunks) => {
                    entry.chunks = chunks;
                    entry.exists = true;
                }
                Err(e) => {
                    *guard = None;
                    return Err(e);
                }
            }
        }

        if is_request && !entry.exists {
            // Nobody has it: say so, but stay subscribed so its creation reaches this peer.
            self.send(
                conn,
                Outgoing::Message(Message::DocUnavailable {
                    sender_id: self.peer_id.clone(),
                    target_id: peer_id,
                    document_id: doc_id,
                }),
            );
            return Ok(());
        }

        let targets: Vec<ConnId> = entry.syncs.keys().copied().collect();
        for target in targets {
            if target != conn && !changed {
                continue;
            }
            let Some(state) = entry.syncs.get_mut(&target) else {
                continue;
            };
            if let Some(reply) = entry.doc.generate_sync_message(state) {
                let target_peer = lock(&self.peers).get(&target).map(|p| p.peer_id.clone());
                let Some(target_peer) = target_peer else {
                    continue;
                };
                self.send(
                    target,
                    Outgoing::Message(Message::Sync {
                        sender_id: self.peer_id.clone(),
                        target_id: target_peer,
                        document_id: doc_id,
                        data: reply.encode(),
                    }),
                );
            }
        }
        Ok(())
    }

    /// Queues a message for a connection; a connection too slow to keep up is closed
    /// (it resyncs when it reconnects) rather than letting the relay's memory grow.
    fn send(&self, conn: ConnId, out: Outgoing) {
        let peer = lock(&self.peers)
            .get(&conn)
            .map(|p| (p.tx.clone(), p.kick.clone()));
        if let Some((tx, kick)) = peer
            && tx.try_send(out).is_err()
        {
            tracing::warn!(conn, "connection cannot keep up; closing it");
            kick.cancel();
        }
    }
}
