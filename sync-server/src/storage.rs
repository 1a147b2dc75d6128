//! Where the relay keeps documents: a [`Storage`] trait with an embedded SQLite
//! implementation (the default), PostgreSQL (`--database postgres://…`) and an
//! in-memory one for tests. Every backend passes the same suite (`storage::suite`).
//!
//! Documents are stored as chunks (incremental changes, now and then compacted into
//! one snapshot) and loaded with one query, concatenated, so Automerge loads them in
//! one call. [`Storage::append`] returns only once the chunk is durable.

pub mod memory;
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod suite;

use paktum_shared::DocumentId;
use thiserror::Error;

pub use memory::MemoryStorage;
pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(String),
    #[error("database write failed: {0}")]
    Write(String),
    #[error("the storage writer has stopped")]
    WriterGone,
}

/// A stored document: all its chunks concatenated, and how many there were.
#[derive(Debug, Default, Clone)]
pub struct Stored {
    pub bytes: Vec<u8>,
    pub chunks: usize,
    /// How many times an erasure rewrote this document (an index); 0 for any other.
    /// A relay writes an index only at the generation it read ([`Storage::append_at`]).
    pub generation: u64,
}

/// A document changed by another relay on the same database: its id and, when the
/// other relay said, its heads then (empty: found by the fallback poll; reload it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    pub doc: DocumentId,
    pub heads: Vec<automerge::ChangeHash>,
}

/// The relay's persistent state. Calls block; the hub runs them on tokio's blocking pool.
pub trait Storage: Send + Sync + 'static {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError>;
    /// Appends an incremental chunk; durable when this returns.
    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<(), StorageError>;
    /// Replaces all chunks of a document with one full save, atomically.
    fn compact(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<(), StorageError>;
    /// [`Storage::append`] of an index's chunk only while the index is at `generation`
    /// (the one its writer read): false, and nothing stored, once an erasure rewrote it
    /// since. A relay that has not seen an erasure yet (several relays on one database,
    /// or the admin CLI beside a running relay) holds the old history in memory; a
    /// change built on it must not follow the rewrite into the store. Atomic with
    /// [`Storage::erase`]: the append lands before the rewrite (which replaces it) or is
    /// refused after it.
    fn append_at(
        &self,
        doc: &DocumentId,
        chunk: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError>;
    /// [`Storage::compact`] of an index, on the same condition as [`Storage::append_at`].
    fn compact_at(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError>;
    /// The sync state we had with a peer's storage for a document.
    fn load_sync_state(
        &self,
        storage_id: &str,
        doc: &DocumentId,
    ) -> Result<Option<Vec<u8>>, StorageError>;
    fn save_sync_states(
        &self,
        storage_id: &str,
        states: &[(DocumentId, Vec<u8>)],
    ) -> Result<(), StorageError>;
    /// Erases a document: every chunk and sync state of it goes, its id is refused
    /// from then on (`append`/`compact` of it do nothing), and each of `indices` (its
    /// team's index, its workers' own indices) is replaced by the one chunk given (its
    /// sync states go too: they describe the old history) and its generation goes up by
    /// one. Atomic; in SQLite the freed pages are zeroed and the WAL truncated
    /// before this returns (see `sqlite::erase`).
    fn erase(
        &self,
        doc: &DocumentId,
        indices: Vec<(DocumentId, Vec<u8>)>,
    ) -> Result<(), StorageError>;
    /// Every erased document id.
    fn erased(&self) -> Result<Vec<DocumentId>, StorageError>;
    fn document_count(&self) -> Result<u64, StorageError>;
    /// Every stored document's id (the start-up pass over the records reads them).
    fn document_ids(&self) -> Result<Vec<DocumentId>, StorageError>;
    /// A value the relay keeps about its store under `key` (`None`: never set).
    fn meta(&self, key: &str) -> Result<Option<String>, StorageError>;
    /// Sets such a value; durable when this returns.
    fn set_meta(&self, key: &str, value: &str) -> Result<(), StorageError>;
    /// A stable id for this relay's storage, announced to peers.
    fn storage_id(&self) -> Result<String, StorageError>;
    /// Tells the other relays on the same database that `doc`, just written, now has
    /// `heads`. Never waits; nothing to do where one relay owns the store.
    fn announce(&self, _doc: &DocumentId, _heads: &[automerge::ChangeHash]) {}
    /// Changes written by other relays on the same database, from now on; `None`
    /// where one relay owns the store.
    fn changes(&self) -> Option<tokio::sync::mpsc::Receiver<Changed>> {
        None
    }
    /// Connections per device counted across every relay on the same database;
    /// `None` where one relay owns the store (the hub counts its own connections).
    fn connection_slots(&self) -> Option<std::sync::Arc<dyn ConnectionSlots>> {
        None
    }
}

/// A device's connection slots shared by the relays on one database.
pub trait ConnectionSlots: Send + Sync {
    /// Takes one of `device`'s `limit` slots for a new connection: `None` when all
    /// are held, on whichever relays. Blocks (the hub calls it on the blocking pool).
    fn take(&self, device: i64, limit: usize) -> Result<Option<HeldSlot>, StorageError>;
}

/// A slot held by one connection, given back when dropped.
pub struct HeldSlot(pub Box<dyn Send + Sync>);

impl std::fmt::Debug for HeldSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeldSlot")
    }
}
