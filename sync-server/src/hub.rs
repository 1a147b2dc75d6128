//! The hub: documents in memory while someone syncs them, one Automerge sync state
//! per (connection, document), and fan-out of changes to every connection syncing
//! the same document. A change is persisted before anyone is told about it, so a
//! sync message that acknowledges it is only ever sent for durable data.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex as StdMutex};

use automerge::Automerge;
use automerge::sync;
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::audit::AuditLog;
use crate::auth::{Access, Directory, DocClass, Identity};
use crate::error::Error;
use crate::storage::{Storage, StorageError};

pub mod document;

use document::{Applied, Document, Effect, Kind, Persist};

/// Documents one connection asked for while nobody had them, remembered (by id only)
/// so their creation reaches it; older wishes are dropped.
pub const WAITING: usize = 256;

fn unwait(waiting: &mut HashMap<DocumentId, Vec<ConnId>>, doc: DocumentId, conn: ConnId) {
    if let Some(conns) = waiting.get_mut(&doc) {
        conns.retain(|c| *c != conn);
        if conns.is_empty() {
            waiting.remove(&doc);
        }
    }
}

pub type ConnId = u64;

/// What the hub sends to a connection's writer.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
}

/// Per-connection limits; exceeding one closes that connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Documents one connection may sync in one session.
    pub open_documents: usize,
    /// Connections one device token may hold at once.
    pub connections_per_device: usize,
    /// Documents kept loaded in memory once every connection syncing them is up to
    /// date; beyond this, the oldest such documents are unloaded (their sync states
    /// stay) and reloaded from the store when next needed. A soft limit: documents
    /// being synced are never unloaded.
    pub documents_in_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            open_documents: 50_000,
            connections_per_device: 4,
            documents_in_memory: 256,
        }
    }
}

struct Peer {
    peer_id: String,
    storage_id: Option<String>,
    tx: mpsc::Sender<Outgoing>,
    kick: CancellationToken,
    /// `None` only when the relay runs open (development without enrolment).
    identity: Option<Identity>,
    /// Documents this connection synced; its states are saved and it is
    /// unsubscribed from them when it leaves.
    docs: HashSet<DocumentId>,
    /// Documents it asked for that nobody had (oldest first, at most [`WAITING`]).
    waiting: std::collections::VecDeque<DocumentId>,
}

/// A record's heads and class, remembered while it is not in memory: what a fresh
/// device's first sync needs (see [`paktum_shared::whole`]). About 100 bytes a record.
#[derive(Clone)]
struct Unloaded {
    id: DocumentId,
    heads: Vec<automerge::ChangeHash>,
    class: DocClass,
}

type Slot = Arc<Mutex<Option<Document>>>;

pub struct Hub {
    storage: Arc<dyn Storage>,
    peer_id: String,
    storage_id: String,
    docs: StdMutex<HashMap<DocumentId, Slot>>,
    /// Loaded documents, oldest load first (may hold ids since dropped; skipped).
    resident: StdMutex<std::collections::VecDeque<DocumentId>>,
    peers: StdMutex<HashMap<ConnId, Peer>>,
    next_conn: std::sync::atomic::AtomicU64,
    /// Connections waiting for documents nobody has yet (see [`WAITING`]).
    waiting: StdMutex<HashMap<DocumentId, Vec<ConnId>>>,
    /// Records not in memory whose stored bytes are exactly these heads.
    unloaded: StdMutex<HashMap<DocumentId, Unloaded>>,
    /// Documents read from the store and loaded since start (for `/healthz`).
    loads: std::sync::atomic::AtomicU64,
    directory: Option<Arc<Directory>>,
    /// Where refusals go; `None` when the relay runs open.
    audit: Option<AuditLog>,
    /// Team names, to recognise index documents (refreshed from the directory).
    teams: StdMutex<Vec<String>>,
    limits: Limits,
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    pub fn new(
        storage: Arc<dyn Storage>,
        directory: Option<Arc<Directory>>,
        audit: Option<AuditLog>,
        limits: Limits,
    ) -> Result<Self, StorageError> {
        let storage_id = storage.storage_id()?;
        let suffix: u64 = rand::random();
        Ok(Self {
            storage,
            peer_id: format!("paktum-relay-{suffix:016x}"),
            storage_id,
            docs: StdMutex::new(HashMap::new()),
            resident: StdMutex::new(std::collections::VecDeque::new()),
            peers: StdMutex::new(HashMap::new()),
            next_conn: std::sync::atomic::AtomicU64::new(1),
            loads: std::sync::atomic::AtomicU64::new(0),
            unloaded: StdMutex::new(HashMap::new()),
            waiting: StdMutex::new(HashMap::new()),
            teams: StdMutex::new(
                directory
                    .as_ref()
                    .and_then(|d| d.teams().ok())
                    .unwrap_or_default(),
            ),
            directory,
            audit,
            limits,
        })
    }

    pub fn directory(&self) -> Option<&Arc<Directory>> {
        self.directory.as_ref()
    }

    /// Re-reads team names (new teams) and closes connections of revoked devices.
    pub fn refresh(&self, revoked: &[i64]) {
        if let Some(teams) = self.directory.as_ref().and_then(|d| d.teams().ok()) {
            *lock(&self.teams) = teams;
        }
        for peer in lock(&self.peers).values() {
            if peer
                .identity
                .as_ref()
                .is_some_and(|i| revoked.contains(&i.device_id))
            {
                peer.kick.cancel();
            }
        }
    }

    /// Queues an audit event; never waits on the directory.
    fn audit(&self, event: &'static str, device: Option<i64>, detail: &str) {
        if let Some(log) = &self.audit {
            log.record(event, device, detail);
        }
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

    /// Sync states held for live connections, over all documents (test and health
    /// figure: the per-connection memory budget is counted in these).
    pub fn sync_states(&self) -> usize {
        lock(&self.peers).values().map(|p| p.docs.len()).sum()
    }

    /// How many times a document was loaded from the store since start.
    pub fn loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Documents whose content is loaded (the rest hold only sync states).
    pub fn documents_loaded(&self) -> usize {
        let slots: Vec<Slot> = lock(&self.docs).values().cloned().collect();
        slots
            .iter()
            .filter(|slot| {
                slot.try_lock()
                    .map(|g| g.as_ref().is_some_and(|e| e.loaded))
                    .unwrap_or(true)
            })
            .count()
    }

    /// Registers a connection after its `join`; `kick` is cancelled when the hub wants
    /// it closed. Refused when the device already holds its share of connections.
    pub fn connect(
        &self,
        peer_id: String,
        storage_id: Option<String>,
        tx: mpsc::Sender<Outgoing>,
        kick: CancellationToken,
        identity: Option<Identity>,
    ) -> Result<ConnId, Error> {
        let mut peers = lock(&self.peers);
        if let Some(device) = identity.as_ref().map(|i| i.device_id) {
            let held = peers
                .values()
                .filter(|p| p.identity.as_ref().is_some_and(|i| i.device_id == device))
                .count();
            if held >= self.limits.connections_per_device {
                drop(peers);
                self.audit("connection_refused", Some(device), "too many connections");
                return Err(Error::TooManyConnections(
                    self.limits.connections_per_device,
                ));
            }
        }
        // Sync states are kept per device storage; tie them to the device when known,
        // so one device cannot resume another's.
        let storage_id = match (&identity, storage_id) {
            (Some(i), Some(s)) => Some(format!("device-{}:{s}", i.device_id)),
            (_, s) => s,
        };
        let conn = self
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        peers.insert(
            conn,
            Peer {
                peer_id,
                storage_id,
                tx,
                kick,
                identity,
                docs: HashSet::new(),
                waiting: std::collections::VecDeque::new(),
            },
        );
        Ok(conn)
    }

    /// Forgets a connection: saves its sync states and drops documents nobody syncs.
    pub async fn disconnect(&self, conn: ConnId) {
        let Some(peer) = lock(&self.peers).remove(&conn) else {
            return;
        };
        {
            let mut waiting = lock(&self.waiting);
            for doc in &peer.waiting {
                unwait(&mut waiting, *doc, conn);
            }
        }
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
                    && slot.try_lock().is_ok_and(|g| match g.as_ref() {
                        None => true,
                        Some(e) if e.syncs.is_empty() => {
                            self.remember(*doc, e);
                            true
                        }
                        Some(_) => false,
                    })
            });
            if idle {
                docs.remove(doc);
            }
        }
    }

    fn slot(&self, doc: DocumentId) -> Slot {
        lock(&self.docs)
            .entry(doc)
            .or_insert_with(|| Arc::new(Mutex::new(None)))
            .clone()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Storage) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, Error> {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || f(storage.as_ref()))
            .await
            .map_err(|e| Error::Internal(format!("storage task failed: {e}")))?
            .map_err(Error::from)
    }

    /// Handles a `sync` or `request` from a connection.
    pub async fn receive(
        &self,
        conn: ConnId,
        doc_id: DocumentId,
        data: &[u8],
        kind: Kind,
    ) -> Result<(), Error> {
        let result = self.receive_one(conn, doc_id, data, kind).await;
        self.trim();
        result
    }

    async fn receive_one(
        &self,
        conn: ConnId,
        doc_id: DocumentId,
        data: &[u8],
        kind: Kind,
    ) -> Result<(), Error> {
        let message = sync::Message::decode(data).map_err(|e| Error::BadSync(e.to_string()))?;
        let (peer_id, storage_id, identity) = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return Ok(());
            };
            if !peer.docs.contains(&doc_id) && peer.docs.len() >= self.limits.open_documents {
                return Err(Error::TooManyDocuments(self.limits.open_documents));
            }
            peer.docs.insert(doc_id);
            (
                peer.peer_id.clone(),
                peer.storage_id.clone(),
                peer.identity.clone(),
            )
        };
        let slot = self.slot(doc_id);
        let mut guard = slot.lock().await;
        let known = match guard.as_ref() {
            Some(entry) if entry.loaded => None,
            _ => lock(&self.unloaded).get(&doc_id).cloned(),
        };
        // The document's class, decided once for this message: an unloaded record's
        // is remembered (its stored bytes are exactly what it was computed from).
        let mut class = known.as_ref().map(|k| k.class.clone());
        if let Some(known) = &known
            && self
                .quick(
                    conn,
                    &peer_id,
                    identity.as_ref(),
                    &mut guard,
                    known,
                    &message,
                )
                .await?
        {
            return Ok(());
        }
        let access_for = |class: &DocClass| {
            identity
                .as_ref()
                .map_or(Access::ReadWrite, |i| i.access(class))
        };
        if class
            .as_ref()
            .is_some_and(|c| access_for(c) == Access::None)
        {
            // Refused without loading it.
            if let Some(entry) = guard.as_mut() {
                entry.syncs.remove(&conn);
            }
            drop(guard);
            let device = identity.as_ref().map(|i| i.device_id);
            self.refuse(conn, peer_id, doc_id, "doc_refused", device, kind);
            return Ok(());
        }
        if guard.as_ref().is_none_or(|e| !e.loaded) {
            let (doc, exists, chunks) = self.load(doc_id).await?;
            // In memory it may change; remembered again when it leaves.
            lock(&self.unloaded).remove(&doc_id);
            let mut loaded = Document::loaded(doc_id, doc, exists, chunks);
            loaded.syncs = guard.take().map(|e| e.syncs).unwrap_or_default();
            *guard = Some(loaded);
            if exists {
                // Only stored documents are worth unloading; a new one joins when created.
                lock(&self.resident).push_back(doc_id);
            }
        }
        let Some(entry) = guard.as_mut() else {
            return Ok(());
        };
        let teams = lock(&self.teams).clone();
        let access = access_for(class.get_or_insert_with(|| entry.class(&teams)));
        if access == Access::None {
            entry.syncs.remove(&conn);
            drop(guard);
            let device = identity.as_ref().map(|i| i.device_id);
            self.refuse(conn, peer_id, doc_id, "doc_refused", device, kind);
            return Ok(());
        }
        if !entry.syncs.contains_key(&conn) {
            // A device that synced this document before resumes from the saved state.
            let saved = match &storage_id {
                Some(sid) => {
                    let sid = sid.clone();
                    self.blocking(move |s| s.load_sync_state(&sid, &doc_id))
                        .await?
                }
                None => None,
            };
            entry.open(
                conn,
                saved.and_then(|b| sync::State::decode(&b).ok()),
                access,
            );
        }

        let changed = match entry.apply(conn, message, kind, identity.as_ref(), &teams) {
            Applied::Unchanged => None,
            Applied::Failed(e) => {
                // The in-memory copy may hold part of the bad message: reload from disk next time.
                *guard = None;
                return Err(Error::BadSync(e));
            }
            Applied::WriteRefused => {
                // E.g. a record written for another pact's team: drop the change, keep disk as is.
                *guard = None;
                let device = identity.as_ref().map(|i| i.device_id);
                self.refuse(
                    conn,
                    peer_id,
                    doc_id,
                    "write_refused",
                    device,
                    Kind::Request,
                );
                return Ok(());
            }
            Applied::Unknown => {
                // Nobody has it: say so and keep nothing of it but the id, in the
                // connection's bounded waiting list, so its creation still reaches it.
                drop(guard);
                self.forget(conn, doc_id);
                self.wait_for_creation(conn, doc_id);
                self.drop_if_idle(doc_id, slot);
                self.answer_unknown(conn, peer_id, doc_id, kind);
                return Ok(());
            }
            Applied::Changed { persist, class } => {
                if let Err(e) = self.persist(doc_id, &persist).await {
                    *guard = None;
                    return Err(e);
                }
                if entry.persisted(&persist) {
                    lock(&self.resident).push_back(doc_id);
                    // Connections that asked for it while it did not exist sync it
                    // from the start (the fan-out checks their access).
                    for waiting in self.created(doc_id) {
                        let access = self.access_of(waiting, &class);
                        if waiting != conn && access != Access::None && self.track(waiting, doc_id)
                        {
                            entry.syncs.entry(waiting).or_insert_with(|| {
                                let mut state = sync::State::new();
                                state.set_read_only(access == Access::Read);
                                state
                            });
                        }
                    }
                }
                Some(class)
            }
        };
        let effects = entry.fan_out(conn, changed.as_ref(), |to, class| {
            self.access_of(to, class)
        });
        drop(guard);
        self.perform(doc_id, effects);
        Ok(())
    }

    /// What a connection may do with a document of this class.
    fn access_of(&self, conn: ConnId, class: &DocClass) -> Access {
        lock(&self.peers)
            .get(&conn)
            .and_then(|p| p.identity.as_ref())
            .map_or(Access::ReadWrite, |i| i.access(class))
    }

    /// Writes a change to the store; returns once it is durable.
    async fn persist(&self, doc_id: DocumentId, persist: &Persist) -> Result<(), Error> {
        match persist {
            Persist::Append(chunk) => {
                let chunk = chunk.clone();
                self.blocking(move |s| s.append(&doc_id, &chunk)).await
            }
            Persist::Compact(snapshot) => {
                let snapshot = snapshot.clone();
                self.blocking(move |s| s.compact(&doc_id, &snapshot)).await
            }
        }
    }

    /// Sends what the document's state machine decided.
    fn perform(&self, doc_id: DocumentId, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Sync { to, message } => {
                    let target = lock(&self.peers).get(&to).map(|p| p.peer_id.clone());
                    if let Some(target_id) = target {
                        self.send(
                            to,
                            Outgoing::Message(Message::Sync {
                                sender_id: self.peer_id.clone(),
                                target_id,
                                document_id: doc_id,
                                data: message.encode(),
                            }),
                        );
                    }
                }
                Effect::Unavailable { to } => {
                    self.forget(to, doc_id);
                    let target = lock(&self.peers).get(&to).map(|p| p.peer_id.clone());
                    if let Some(target_id) = target {
                        self.answer_unknown(to, target_id, doc_id, Kind::Request);
                    }
                }
                Effect::StateReset { to, reason } => {
                    tracing::warn!(doc = %doc_id, conn = to, "{reason}");
                }
            }
        }
    }

    /// Answers a fresh device's request for an unloaded record, or its acknowledgement,
    /// without loading the record (see [`paktum_shared::whole`]). False: go the ordinary way.
    async fn quick(
        &self,
        conn: ConnId,
        peer_id: &str,
        identity: Option<&Identity>,
        entry: &mut Option<Document>,
        known: &Unloaded,
        message: &sync::Message,
    ) -> Result<bool, Error> {
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
        let Some(stored) = self.blocking(move |s| s.load(&doc_id)).await? else {
            return Ok(false);
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
    async fn load(&self, doc_id: DocumentId) -> Result<(Automerge, bool, usize), Error> {
        let stored = self.blocking(move |s| s.load(&doc_id)).await?;
        if stored.is_some() {
            self.loads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match stored {
            Some(stored) => match paktum_shared::untrusted::load(&stored.bytes) {
                Ok(doc) => Ok((doc, true, stored.chunks)),
                Err(e) => {
                    // Never hand out a document we cannot read; keep its bytes untouched.
                    tracing::error!(doc = %doc_id, error = %e, "stored document does not load");
                    Err(Error::BadSync("stored document does not load".into()))
                }
            },
            None => Ok((Automerge::new(), false, 0)),
        }
    }

    /// Unloads the oldest quiet documents while more than the limit are loaded. Looks
    /// at a bounded number of candidates per call, so one message never pays for many.
    fn trim(&self) {
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
            let Some(entry) = guard.as_mut().filter(|e| e.loaded) else {
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
    fn remember(&self, doc_id: DocumentId, entry: &Document) {
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

    /// Notes that `conn` asked for a document nobody has. Bounded per connection
    /// ([`WAITING`]): beyond it the oldest wish is dropped (the device asks again).
    fn wait_for_creation(&self, conn: ConnId, doc: DocumentId) {
        let dropped = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return;
            };
            peer.waiting.push_back(doc);
            (peer.waiting.len() > WAITING)
                .then(|| peer.waiting.pop_front())
                .flatten()
        };
        let mut waiting = lock(&self.waiting);
        waiting.entry(doc).or_default().push(conn);
        if let Some(old) = dropped {
            unwait(&mut waiting, old, conn);
        }
    }

    /// The connections waiting for a document that was just created.
    fn created(&self, doc: DocumentId) -> Vec<ConnId> {
        let conns = lock(&self.waiting).remove(&doc).unwrap_or_default();
        let mut peers = lock(&self.peers);
        for conn in &conns {
            if let Some(peer) = peers.get_mut(conn) {
                peer.waiting.retain(|d| *d != doc);
            }
        }
        conns
    }

    /// Counts a document as synced by `conn`, within its limit; false if it may not.
    fn track(&self, conn: ConnId, doc: DocumentId) -> bool {
        let mut peers = lock(&self.peers);
        let Some(peer) = peers.get_mut(&conn) else {
            return false;
        };
        if !peer.docs.contains(&doc) && peer.docs.len() >= self.limits.open_documents {
            return false;
        }
        peer.docs.insert(doc);
        true
    }

    /// Drops a document's slot when nobody syncs it, holds it or waits for its lock.
    fn drop_if_idle(&self, doc: DocumentId, slot: Slot) {
        let mut docs = lock(&self.docs);
        // The map's reference and ours: nobody else is between lookup and lock.
        if Arc::strong_count(&slot) == 2
            && slot
                .try_lock()
                .is_ok_and(|g| g.as_ref().is_none_or(|e| e.syncs.is_empty() && !e.exists))
        {
            docs.remove(&doc);
        }
    }

    fn forget(&self, conn: ConnId, doc: DocumentId) {
        if let Some(peer) = lock(&self.peers).get_mut(&conn) {
            peer.docs.remove(&doc);
        }
    }

    /// What the relay says about a document it does not have: `doc-unavailable` to a
    /// request, the opening sync message of an empty document to a sync.
    /// Ends a connection's sync of a document it may not have, writes why to the audit
    /// log, and answers exactly as for a document the relay does not have.
    fn refuse(
        &self,
        conn: ConnId,
        peer_id: String,
        doc_id: DocumentId,
        event: &'static str,
        device: Option<i64>,
        kind: Kind,
    ) {
        self.forget(conn, doc_id);
        self.audit(event, device, &doc_id.to_string());
        self.answer_unknown(conn, peer_id, doc_id, kind);
    }

    fn answer_unknown(&self, conn: ConnId, peer_id: String, doc_id: DocumentId, kind: Kind) {
        let msg = if kind == Kind::Request {
            Message::DocUnavailable {
                sender_id: self.peer_id.clone(),
                target_id: peer_id,
                document_id: doc_id,
            }
        } else {
            Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: peer_id,
                document_id: doc_id,
                data: document::empty_answer(),
            }
        };
        self.send(conn, Outgoing::Message(msg));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;

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
            docs.push((id, doc));
        }
        docs
    }

    fn hub_with_two_connections() -> (Hub, [(ConnId, mpsc::Receiver<Outgoing>); 2]) {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let hub = Hub::new(storage, None, None, Limits::default()).expect("hub");
        let open = || {
            let (tx, rx) = mpsc::channel(1024);
            let conn = hub
                .connect("peer".into(), None, tx, CancellationToken::new(), None)
                .expect("connect");
            (conn, rx)
        };
        let conns = [open(), open()];
        (hub, conns)
    }

    fn empty_request() -> Vec<u8> {
        Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .expect("msg")
            .encode()
    }

    #[tokio::test]
    async fn an_unknown_document_holds_nothing_once_answered_yet_its_creation_arrives() {
        let (hub, [(asker, mut asked), (maker, mut made)]) = hub_with_two_connections();
        let id = DocumentId::random();
        hub.receive(asker, id, &empty_request(), Kind::Request)
            .await
            .expect("receive");
        assert!(matches!(
            asked.try_recv(),
            Ok(Outgoing::Message(Message::DocUnavailable { .. }))
        ));
        assert_eq!((hub.documents_in_memory(), hub.sync_states()), (0, 0));

        // Another connection creates it: the one that asked hears of it.
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "n", 1).expect("put");
        tx.commit();
        let mut state = sync::State::new();
        for _ in 0..3 {
            if let Some(msg) = doc.generate_sync_message(&mut state) {
                hub.receive(maker, id, &msg.encode(), Kind::Sync)
                    .await
                    .expect("receive");
            }
            while let Ok(Outgoing::Message(Message::Sync { data, .. })) = made.try_recv() {
                let msg = sync::Message::decode(&data).expect("decode");
                doc.receive_sync_message(&mut state, msg).expect("apply");
            }
        }
        assert!(
            matches!(asked.try_recv(), Ok(Outgoing::Message(Message::Sync { document_id, .. })) if document_id == id),
            "the creation reaches the connection that asked"
        );
    }

    #[tokio::test]
    async fn a_connection_waits_for_a_bounded_number_of_unknown_documents() {
        let (hub, [(asker, mut asked), _]) = hub_with_two_connections();
        for _ in 0..WAITING * 3 {
            hub.receive(asker, DocumentId::random(), &empty_request(), Kind::Request)
                .await
                .expect("receive");
            while asked.try_recv().is_ok() {}
        }
        assert_eq!(lock(&hub.waiting).len(), WAITING);
        hub.disconnect(asker).await;
        assert_eq!(lock(&hub.waiting).len(), 0);
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
            .connect("peer".into(), None, tx, CancellationToken::new(), None)
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
}
