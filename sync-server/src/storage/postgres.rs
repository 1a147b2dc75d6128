//! PostgreSQL storage (`--database postgres://…`): the same contract as SQLite — a
//! write returns only once committed (PostgreSQL's default `synchronous_commit=on`:
//! the commit is in the WAL on disk) — for relays that share one database. The
//! schema comes from `migrations/postgres/*.sql`, applied at start under an advisory
//! lock so relays starting together apply each migration once.
//!
//! The [`Storage`] trait is blocking (the hub calls it on tokio's blocking pool);
//! this drives tokio-postgres on a small runtime of its own and waits for the
//! answer, so it works from any thread.

pub mod changes;
pub mod database;
pub mod slots;

use std::future::Future;
use std::sync::Arc;

use paktum_shared::DocumentId;

pub use database::Database;

use super::{Storage, StorageError, Stored};

/// Connections one relay's storage opens at most.
const POOL_SIZE: usize = 16;

pub struct PostgresStorage {
    database: Arc<Database>,
    pool: deadpool_postgres::Pool,
    storage_id: String,
    /// This process among the relays on the database (its own announcements).
    relay: String,
    seen: changes::Shared,
    /// Connections per device across the relays (`slots.rs`).
    slots: Arc<slots::Slots>,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("storage_id", &self.storage_id)
            .finish_non_exhaustive()
    }
}

/// An error with its causes, in one line: tokio-postgres says only "db error" at the
/// top.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn db(e: impl std::error::Error) -> StorageError {
    StorageError::Database(with_causes(&e))
}

impl PostgresStorage {
    /// The document ids a query's first column names (bytes that are no id skipped).
    fn ids(&self, sql: &'static str) -> Result<Vec<DocumentId>, StorageError> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let rows = client.query(sql, &[]).await.map_err(db)?;
            Ok(rows
                .iter()
                .filter_map(|r| DocumentId::from_slice(r.get::<_, &[u8]>(0)))
                .collect())
        })
    }

    /// Connects to `url` (`postgres://user:password@host:port/database`), applies the
    /// migrations this database lacks, and reads (or makes) the storage id.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let database = Arc::new(Database::connect(url, POOL_SIZE).map_err(StorageError::Database)?);
        let pool = database.pool();
        let mut storage = Self {
            database: database.clone(),
            pool: pool.clone(),
            storage_id: String::new(),
            relay: format!("{:016x}", rand::random::<u64>()),
            seen: changes::Shared::default(),
            slots: Arc::new(slots::Slots::new(database.clone())),
        };
        storage.storage_id = storage.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let id: [u8; 16] = rand::random();
            let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('storage_id', $1) ON CONFLICT (key) DO NOTHING",
                    &[&id],
                )
                .await
                .map_err(db)?;
            let row = client
                .query_one("SELECT value FROM meta WHERE key = 'storage_id'", &[])
                .await
                .map_err(db)?;
            Ok(row.get::<_, String>(0))
        })?;
        Ok(storage)
    }

    /// The database this storage writes to.
    pub fn database(&self) -> Arc<Database> {
        self.database.clone()
    }

    fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StorageError>> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.database
            .wait(work)
            .map_err(|_| StorageError::WriterGone)?
    }
}

impl Storage for PostgresStorage {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let (pool, doc) = (self.pool.clone(), doc.as_bytes().to_vec());
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            // One statement, so the generation and the chunks come from one snapshot
            // (a write at the generation read is refused once the index is rewritten),
            // and one round trip per load, as before generations.
            let stmt = client
                .prepare_cached(
                    "SELECT data, (SELECT generation FROM generations WHERE doc_id = $1)
                     FROM chunks WHERE doc_id = $1 ORDER BY seq",
                )
                .await
                .map_err(db)?;
            let rows = client.query(&stmt, &[&doc]).await.map_err(db)?;
            let mut stored = Stored::default();
            for row in rows {
                stored.bytes.extend_from_slice(row.get::<_, &[u8]>(0));
                stored.generation = row.get::<_, Option<i64>>(1).unwrap_or(0) as u64;
                stored.chunks += 1;
            }
            Ok((stored.chunks > 0).then_some(stored))
        })
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<(), StorageError> {
        let (pool, id, chunk) = (self.pool.clone(), doc.as_bytes().to_vec(), chunk.to_vec());
        let seq = self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            // Ordered against an erasure of the document (migration 0008).
            let stmt = client
                .prepare_cached("SELECT paktum_append($1, $2, $3)")
                .await
                .map_err(db)?;
            let row = client
                .query_one(&stmt, &[&id, &chunk, &lock_key(&id)])
                .await
                .map_err(db)?;
            Ok(row.get::<_, Option<i64>>(0))
        })?;
        if let Some(seq) = seq {
            changes::wrote(&self.seen, doc, seq);
        }
        Ok(())
    }

    /// Other relays may have appended chunks this snapshot lacks: they are merged into
    /// it, and only the chunks read are replaced (one appended meanwhile stays).
    fn compact(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<(), StorageError> {
        self.compact_if(doc, snapshot, None).map(drop)
    }

    fn append_at(&self, doc: &DocumentId, chunk: &[u8], at: u64) -> Result<bool, StorageError> {
        let (pool, id, chunk) = (self.pool.clone(), doc.as_bytes().to_vec(), chunk.to_vec());
        let seq = self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            // Shared with other writers of the index, exclusive with an erasure's
            // rewrite of it (`erase`); one round trip (migration 0008).
            let stmt = client
                .prepare_cached("SELECT paktum_append_at($1, $2, $3, $4)")
                .await
                .map_err(db)?;
            let row = client
                .query_one(&stmt, &[&id, &chunk, &lock_key(&id), &(at as i64)])
                .await
                .map_err(db)?;
            // -1: refused as stale; NULL: an erased id (written as nothing).
            Ok(match row.get::<_, Option<i64>>(0) {
                Some(-1) => None,
                seq => Some(seq),
            })
        })?;
        Ok(self.written_at(doc, seq))
    }

    fn compact_at(&self, doc: &DocumentId, snapshot: &[u8], at: u64) -> Result<bool, StorageError> {
        self.compact_if(doc, snapshot, Some(at))
    }

    fn load_sync_state(
        &self,
        storage_id: &str,
        doc: &DocumentId,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let (pool, peer, doc) = (
            self.pool.clone(),
            storage_id.to_string(),
            doc.as_bytes().to_vec(),
        );
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let row = client
                .query_opt(
                    "SELECT state FROM sync_states WHERE storage_id = $1 AND doc_id = $2",
                    &[&peer, &doc],
                )
                .await
                .map_err(db)?;
            Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
        })
    }

    fn save_sync_states(
        &self,
        storage_id: &str,
        states: &[(DocumentId, Vec<u8>)],
    ) -> Result<(), StorageError> {
        if states.is_empty() {
            return Ok(());
        }
        let (pool, peer) = (self.pool.clone(), storage_id.to_string());
        let states: Vec<(Vec<u8>, Vec<u8>)> = states
            .iter()
            .map(|(doc, s)| (doc.as_bytes().to_vec(), s.clone()))
            .collect();
        self.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO sync_states (storage_id, doc_id, state) SELECT $1, $2, $3
                     WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = $2)
                     ON CONFLICT (storage_id, doc_id) DO UPDATE SET state = excluded.state",
                )
                .await
                .map_err(db)?;
            for (doc, state) in &states {
                tx.execute(&stmt, &[&peer, doc, state]).await.map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    fn erase(
        &self,
        doc: &DocumentId,
        indices: Vec<(DocumentId, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        let (pool, doc) = (self.pool.clone(), doc.as_bytes().to_vec());
        let indices: Vec<_> = indices
            .into_iter()
            .map(|(id, bytes)| (id.as_bytes().to_vec(), bytes))
            .collect();
        self.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            // Waits for writes of the indices at their old generation to commit (they
            // are deleted below) and keeps new ones out until the rewrite has committed
            // (they then find the new generation). In one order, so two erasures of a
            // team never wait on each other.
            // The record's own key too: an append of it (`paktum_append`) either
            // commits before the delete below or finds the erasure.
            let mut keys: Vec<i64> = indices.iter().map(|(id, _)| lock_key(id)).collect();
            keys.push(lock_key(&doc));
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
                    .await
                    .map_err(db)?;
            }
            tx.execute(
                "INSERT INTO erased (doc_id) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&doc],
            )
            .await
            .map_err(db)?;
            let mut gone = vec![doc];
            gone.extend(indices.iter().map(|(index, _)| index.clone()));
            for id in &gone {
                tx.execute("DELETE FROM chunks WHERE doc_id = $1", &[id])
                    .await
                    .map_err(db)?;
                tx.execute("DELETE FROM sync_states WHERE doc_id = $1", &[id])
                    .await
                    .map_err(db)?;
            }
            for (index, bytes) in &indices {
                tx.execute(
                    "INSERT INTO chunks (doc_id, data) VALUES ($1, $2)",
                    &[index, bytes],
                )
                .await
                .map_err(db)?;
                tx.execute(
                    "INSERT INTO generations (doc_id, generation) VALUES ($1, 1)
                     ON CONFLICT (doc_id) DO UPDATE SET generation = generations.generation + 1",
                    &[index],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            // Dead tuples keep the erased bytes in the table files until vacuumed.
            // One statement each: several in one call run as one transaction block,
            // where VACUUM is refused.
            for table in ["chunks", "sync_states"] {
                client
                    .batch_execute(&format!("VACUUM {table}"))
                    .await
                    .map_err(db)?;
            }
            Ok(())
        })
    }

    fn erased(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.ids("SELECT doc_id FROM erased")
    }

    fn document_count(&self) -> Result<u64, StorageError> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let row = client
                .query_one("SELECT COUNT(DISTINCT doc_id) FROM chunks", &[])
                .await
                .map_err(db)?;
            Ok(row.get::<_, i64>(0) as u64)
        })
    }

    fn document_ids(&self) -> Result<Vec<DocumentId>, StorageError> {
        self.ids("SELECT DISTINCT doc_id FROM chunks")
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        let (pool, key) = (self.pool.clone(), key.to_string());
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let row = client
                .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                .await
                .map_err(db)?;
            Ok(row.map(|r| r.get::<_, String>(0)))
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StorageError> {
        let (pool, key, value) = (self.pool.clone(), key.to_string(), value.to_string());
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            client
                .execute(
                    "INSERT INTO meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&key, &value],
                )
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    fn storage_id(&self) -> Result<String, StorageError> {
        Ok(self.storage_id.clone())
    }

    fn announce(&self, doc: &DocumentId, heads: &[automerge::ChangeHash]) {
        changes::announce(&self.database, &self.relay, &self.seen, doc, heads);
    }

    fn changes(&self) -> Option<tokio::sync::mpsc::Receiver<super::Changed>> {
        Some(changes::subscribe(
            &self.database,
            self.relay.clone(),
            self.seen.clone(),
        ))
    }

    fn connection_slots(&self) -> Option<Arc<dyn super::ConnectionSlots>> {
        Some(self.slots.clone())
    }
}

impl PostgresStorage {
    /// [`Storage::compact`], with `at`: only while the document is at that generation
    /// (false when it is not; see [`Storage::append_at`]).
    /// What a write at a generation did: `None`, refused as stale (false); else taken,
    /// with the chunk's seq when one was written (an erased id writes nothing).
    fn written_at(&self, doc: &DocumentId, seq: Option<Option<i64>>) -> bool {
        if let Some(Some(seq)) = seq {
            changes::wrote(&self.seen, doc, seq);
        }
        seq.is_some()
    }

    fn compact_if(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        at: Option<u64>,
    ) -> Result<bool, StorageError> {
        let (pool, id, snapshot) = (
            self.pool.clone(),
            doc.as_bytes().to_vec(),
            snapshot.to_vec(),
        );
        let seq = self.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            if let Some(at) = at {
                tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&lock_key(&id)])
                    .await
                    .map_err(db)?;
                if generation(&tx, &id).await? != at {
                    return Ok(None);
                }
            }
            // An erased id is never stored again, whoever still holds it in memory.
            let erased = tx
                .query_opt("SELECT 1 FROM erased WHERE doc_id = $1", &[&id])
                .await
                .map_err(db)?;
            if erased.is_some() {
                return tx.commit().await.map_err(db).map(|()| Some(None));
            }
            let rows = tx
                .query(
                    "SELECT seq, data FROM chunks WHERE doc_id = $1 ORDER BY seq FOR UPDATE",
                    &[&id],
                )
                .await
                .map_err(db)?;
            let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let stored: Vec<u8> = rows
                .iter()
                .flat_map(|r| r.get::<_, &[u8]>(1).to_vec())
                .collect();
            let snapshot = merged(&snapshot, &stored)?;
            tx.execute(
                "DELETE FROM chunks WHERE doc_id = $1 AND seq = ANY($2)",
                &[&id, &seqs],
            )
            .await
            .map_err(db)?;
            let row = tx
                .query_one(
                    "INSERT INTO chunks (doc_id, data) VALUES ($1, $2) RETURNING seq",
                    &[&id, &snapshot],
                )
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(Some(Some(row.get::<_, i64>(0))))
        })?;
        Ok(self.written_at(doc, seq))
    }
}

/// How many times an erasure rewrote `doc` (no row: never).
async fn generation(
    client: &impl deadpool_postgres::GenericClient,
    doc: &[u8],
) -> Result<u64, StorageError> {
    let row = client
        .query_opt(
            "SELECT generation FROM generations WHERE doc_id = $1",
            &[&doc],
        )
        .await
        .map_err(db)?;
    Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
}

/// The advisory lock that orders writes of a record, and of an index at a generation,
/// against an erasure (one 64-bit key per document, from its id).
fn lock_key(doc: &[u8]) -> i64 {
    let mut key = [0u8; 8];
    for (i, b) in doc.iter().enumerate() {
        key[i % 8] ^= *b;
    }
    i64::from_le_bytes(key)
}

/// The snapshot with whatever of `stored` it lacks; unchanged if it lacks nothing.
fn merged(snapshot: &[u8], stored: &[u8]) -> Result<Vec<u8>, StorageError> {
    if stored.is_empty() {
        return Ok(snapshot.to_vec());
    }
    let mut doc = paktum_shared::untrusted::load(snapshot).map_err(StorageError::Database)?;
    let before = doc.get_heads();
    // Chunks that do not load are kept (the compaction fails) rather than lost.
    paktum_shared::untrusted::load_incremental(&mut doc, stored).map_err(StorageError::Database)?;
    Ok(if doc.get_heads() == before {
        snapshot.to_vec()
    } else {
        doc.save()
    })
}
