//! The hub: documents in memory while someone syncs them, one Automerge sync state
//! per (connection, document), and fan-out of changes to every connection syncing
//! the same document. A change is persisted before anyone is told about it, so a
//! sync message that acknowledges it is only ever sent for durable data.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex as StdMutex};

use automerge::sync;
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::audit::AuditLog;
use crate::auth::{Access, Directory, DocClass, Identity};
use crate::error::Error;
use crate::storage::{Storage, StorageError};

mod admission;
pub mod document;
mod elsewhere;
mod erasure;
pub use erasure::index_told;
mod handover;
mod own;
mod rebuild;
mod resident;
mod sharing;
mod waiting;

use resident::Unloaded;
pub use waiting::WAITING;
use waiting::unwait;

use document::{Applied, Document, Effect, Kind};

pub type ConnId = u64;

/// What the hub sends to a connection's writer.
#[derive(Debug)]
pub enum Outgoing {
    Message(Message),
}

/// How the hub closes a connection from outside its message loop, and why: the
/// session waits on [`Kick::kicked`] and tells the client the reason's code.
#[derive(Clone, Debug, Default)]
pub struct Kick {
    token: CancellationToken,
    revoked: Arc<std::sync::atomic::AtomicBool>,
}

impl Kick {
    fn revoke(&self) {
        self.revoked
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.token.cancel();
    }

    fn too_slow(&self) {
        self.token.cancel();
    }

    /// Resolves once the hub closes the connection, with the reason.
    pub async fn kicked(&self) -> Error {
        self.token.cancelled().await;
        if self.revoked.load(std::sync::atomic::Ordering::Relaxed) {
            Error::Unauthorized(crate::auth::AuthError::Revoked)
        } else {
            Error::TooSlow
        }
    }
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
    kick: Kick,
    /// `None` only when the relay runs open (development without enrolment).
    identity: Option<Identity>,
    /// Documents this connection synced; its states are saved and it is
    /// unsubscribed from them when it leaves.
    docs: HashSet<DocumentId>,
    /// Documents it asked for that nobody had (oldest first, at most [`WAITING`]).
    waiting: std::collections::VecDeque<DocumentId>,
    /// Erased documents this device was told of and has not confirmed deleting.
    unconfirmed: HashSet<DocumentId>,
    /// Indexes rewritten by those erasures: its messages for them are dropped until
    /// it confirms (until then they come from its old copy, whose history holds the
    /// erased row).
    held_back: HashSet<DocumentId>,
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
    /// Teams set to "own caseload only" (refreshed with them).
    own_teams: StdMutex<Vec<String>>,
    /// Erased documents (refused from every device), with their team where known.
    erased: StdMutex<HashMap<DocumentId, String>>,
    limits: Limits,
    /// Connections per device across relays, when they share the store.
    slots: Option<Arc<dyn crate::storage::ConnectionSlots>>,
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
        let mut erased: HashMap<DocumentId, String> = storage
            .erased()?
            .into_iter()
            .map(|d| (d, String::new()))
            .collect();
        if let Some(known) = directory.as_ref().and_then(|d| d.erasures_after(0).ok()) {
            erased.extend(known.into_iter().map(|e| (e.doc, e.team)));
        }
        Ok(Self {
            slots: storage.connection_slots(),
            storage,
            peer_id: format!("paktum-relay-{:016x}", rand::random::<u64>()),
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
            erased: StdMutex::new(erased),
            own_teams: StdMutex::new(own::own_caseload_teams(directory.as_ref())),
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
            *lock(&self.own_teams) = own::own_caseload_teams(self.directory.as_ref());
        }
        for peer in lock(&self.peers).values() {
            if peer
                .identity
                .as_ref()
                .is_some_and(|i| revoked.contains(&i.device_id))
            {
                peer.kick.revoke();
            }
        }
    }

    /// Queues an audit event; never waits on the directory.
    pub(crate) fn audit(&self, event: &'static str, device: Option<i64>, detail: &str) {
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
        kick: Kick,
        identity: Option<Identity>,
    ) -> Result<ConnId, Error> {
        let mut peers = lock(&self.peers);
        self.count_here(&peers, identity.as_ref())?;
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
                unconfirmed: HashSet::new(),
                held_back: HashSet::new(),
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
                        Some(e) if e.stays_loaded() => false,
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
        let message = paktum_shared::untrusted::message(data).map_err(Error::BadSync)?;
        let (peer_id, storage_id, identity) = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return Ok(());
            };
            if peer.held_back.contains(&doc_id) {
                return Ok(());
            }
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
        if self.refuse_if_erased(conn, &peer_id, doc_id, identity.as_ref(), kind) {
            return Ok(());
        }
        let slot = self.slot(doc_id);
        let mut guard = slot.lock().await;
        // Erased while this message waited for the document.
        if self.refuse_if_erased(conn, &peer_id, doc_id, identity.as_ref(), kind) {
            return Ok(());
        }
        let (mut known, mut read) = self.known(doc_id, guard.as_ref(), &message).await?;
        // The document's class, decided once for this message: an unloaded record's
        // is remembered (its stored bytes are exactly what it was computed from).
        let mut class = known.as_ref().map(|k| k.unloaded.class.clone());
        if let Some(known) = &mut known
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
            let (doc, exists, chunks, generation) = match read.take() {
                Some(read) => read,
                None => self.load(doc_id).await?,
            };
            // In memory it may change; remembered again when it leaves.
            lock(&self.unloaded).remove(&doc_id);
            let mut loaded = Document::loaded(doc_id, doc, exists, chunks);
            loaded.generation = generation;
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
        let class_before = class.clone();
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
                saved.and_then(|b| paktum_shared::untrusted::state(&b).ok()),
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
            Applied::Retired => {
                // Only a copy from before an erasure's rewrite holds these changes: put
                // the stored index back and tell the sender to replace its copy.
                let erased = self.put_back_stored(doc_id, conn, &mut guard).await?;
                drop(guard);
                self.refuse_old_index(conn, doc_id, identity.as_ref(), &erased);
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
                let at = class.is_index().then_some(entry.generation);
                match self.persist(doc_id, &persist, at).await {
                    Err(e) => {
                        *guard = None;
                        return Err(e);
                    }
                    Ok(false) => {
                        // Read before an erasure (another relay's, the CLI's) rewrote
                        // the index: a change on the old history, not kept.
                        let erased = self.put_back_stored(doc_id, conn, &mut guard).await?;
                        drop(guard);
                        self.refuse_old_index(conn, doc_id, identity.as_ref(), &erased);
                        return Ok(());
                    }
                    Ok(true) => {}
                }
                self.storage.announce(&doc_id, &entry.doc.get_heads());
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
        let (before, writer) = (class_before.as_ref(), identity.as_ref());
        let writes = changed
            .as_ref()
            .map(|after| self.relay_writes(doc_id, &entry.doc, before, after, writer));
        // Before any reply: a withdrawn consent is acknowledged only once the shared
        // index says so, a reassignment once the workers' own indices do (`own.rs`).
        let handed_over = self.write_before_reply(writes).await?;
        let effects = entry.fan_out(conn, changed.as_ref(), |to, class| {
            self.access_of(to, class)
        });
        drop(guard);
        self.perform(doc_id, effects);
        if let Some((team, summary, heads)) = handed_over {
            self.list_in_team(team, doc_id, summary, heads).await?;
        }
        Ok(())
    }

    /// What a connection may do with a document of this class.
    fn access_of(&self, conn: ConnId, class: &DocClass) -> Access {
        lock(&self.peers)
            .get(&conn)
            .and_then(|p| p.identity.as_ref())
            .map_or(Access::ReadWrite, |i| i.access(class))
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

    fn forget(&self, conn: ConnId, doc: DocumentId) {
        if let Some(peer) = lock(&self.peers).get_mut(&conn) {
            peer.docs.remove(&doc);
        }
    }

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

    /// What the relay says of a document it lacks: `doc-unavailable`, or an empty sync.
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
            kick.too_slow();
        }
    }
}
