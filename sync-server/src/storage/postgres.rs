//! PostgreSQL storage (`--database postgres://…`): the same contract as SQLite — a
//! write returns only once committed (PostgreSQL's default `synchronous_commit=on`:
//! the commit is in the WAL on disk) — for relays that share one database. The
//! schema comes from `migrations/postgres/*.sql`, applied at start under an advisory
//! lock so relays starting together apply each migration once.
//!
//! The [`Storage`] trait is blocking (the hub calls it on tokio's blocking pool);
//! this drives tokio-postgres on a small runtime of its own and waits for the
//! answer, so it works from any thread.

use std::future::Future;

use deadpool_postgres::{Manager, Pool, Runtime};
use paktum_shared::DocumentId;
use tokio_postgres::NoTls;

use super::{Storage, StorageError, Stored};

/// Schema versions in order; a database records the ones applied in
/// `schema_migrations`. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_documents.sql"),
    ),
    (2, include_str!("../../migrations/postgres/0002_erased.sql")),
];

/// Any 64-bit number unique to Paktum's migrations.
const MIGRATION_LOCK: i64 = 0x7061_6b74_756d_0001;

/// Connections one relay opens at most.
const POOL_SIZE: usize = 16;

pub struct PostgresStorage {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
    storage_id: String,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("storage_id", &self.storage_id)
            .finish_non_exhaustive()
    }
}

fn db(e: impl std::fmt::Display) -> StorageError {
    StorageError::Database(e.to_string())
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user:password@host:port/database`), applies the
    /// migrations this database lacks, and reads (or makes) the storage id.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let config: tokio_postgres::Config = url.parse().map_err(db)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(db)?;
        let pool = Pool::builder(Manager::new(config, NoTls))
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(db)?;
        let mut storage = Self {
            pool,
            runtime: Some(runtime),
            storage_id: String::new(),
        };
        let pool = storage.pool.clone();
        storage.storage_id = storage.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(db)?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .await
            .map_err(db)?;
            for (version, sql) in MIGRATIONS {
                let applied = tx
                    .query_opt(
                        "SELECT 1 FROM schema_migrations WHERE version = $1",
                        &[version],
                    )
                    .await
                    .map_err(db)?;
                if applied.is_none() {
                    tx.batch_execute(sql).await.map_err(db)?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[version],
                    )
                    .await
                    .map_err(db)?;
                    tracing::info!(version, "applied PostgreSQL migration");
                }
            }
            let id: [u8; 16] = rand::random();
            let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('storage_id', $1) ON CONFLICT (key) DO NOTHING",
                &[&id],
            )
            .await
            .map_err(db)?;
            let row = tx
                .query_one("SELECT value FROM meta WHERE key = 'storage_id'", &[])
                .await
                .map_err(db)?;
            let id: String = row.get(0);
            tx.commit().await.map_err(db)?;
            Ok(id)
        })?;
        Ok(storage)
    }

    /// Runs `work` on this storage's runtime and waits for it. Waiting on a channel
    /// rather than `block_on` keeps this safe to call from inside another runtime.
    fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StorageError>> + Send + 'static,
    ) -> Result<T, StorageError> {
        let runtime = self.runtime.as_ref().ok_or(StorageError::WriterGone)?;
        let (done, result) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = done.send(work.await);
        });
        result.recv().map_err(|_| StorageError::WriterGone)?
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        // Dropping a runtime may not block inside another runtime's task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Storage for PostgresStorage {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let (pool, doc) = (self.pool.clone(), doc.as_bytes().to_vec());
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let stmt = client
                .prepare_cached("SELECT data FROM chunks WHERE doc_id = $1 ORDER BY seq")
                .await
                .map_err(db)?;
            let rows = client.query(&stmt, &[&doc]).await.map_err(db)?;
            let mut stored = Stored::default();
            for row in rows {
                stored.bytes.extend_from_slice(row.get::<_, &[u8]>(0));
                stored.chunks += 1;
            }
            Ok((stored.chunks > 0).then_some(stored))
        })
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<(), StorageError> {
        let (pool, doc, chunk) = (self.pool.clone(), doc.as_bytes().to_vec(), chunk.to_vec());
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let stmt = client
                .prepare_cached(
                    "INSERT INTO chunks (doc_id, data) SELECT $1, $2
                     WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = $1)",
                )
                .await
                .map_err(db)?;
            client.execute(&stmt, &[&doc, &chunk]).await.map_err(db)?;
            Ok(())
        })
    }

    fn compact(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<(), StorageError> {
        let (pool, doc, snapshot) = (
            self.pool.clone(),
            doc.as_bytes().to_vec(),
            snapshot.to_vec(),
        );
        self.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            // An erased id is never stored again, whoever still holds it in memory.
            let erased = tx
                .query_opt("SELECT 1 FROM erased WHERE doc_id = $1", &[&doc])
                .await
                .map_err(db)?;
            if erased.is_none() {
                tx.execute("DELETE FROM chunks WHERE doc_id = $1", &[&doc])
                    .await
                    .map_err(db)?;
                tx.execute(
                    "INSERT INTO chunks (doc_id, data) VALUES ($1, $2)",
                    &[&doc, &snapshot],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
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
        index: Option<(DocumentId, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        let (pool, doc) = (self.pool.clone(), doc.as_bytes().to_vec());
        let index = index.map(|(id, bytes)| (id.as_bytes().to_vec(), bytes));
        self.wait(async move {
            let mut client = pool.get().await.map_err(db)?;
            let tx = client.transaction().await.map_err(db)?;
            tx.execute(
                "INSERT INTO erased (doc_id) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&doc],
            )
            .await
            .map_err(db)?;
            let mut gone = vec![doc];
            if let Some((index, _)) = &index {
                gone.push(index.clone());
            }
            for id in &gone {
                tx.execute("DELETE FROM chunks WHERE doc_id = $1", &[id])
                    .await
                    .map_err(db)?;
                tx.execute("DELETE FROM sync_states WHERE doc_id = $1", &[id])
                    .await
                    .map_err(db)?;
            }
            if let Some((index, bytes)) = &index {
                tx.execute(
                    "INSERT INTO chunks (doc_id, data) VALUES ($1, $2)",
                    &[index, bytes],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            // Dead tuples keep the erased bytes in the table files until vacuumed.
            client
                .batch_execute("VACUUM chunks; VACUUM sync_states")
                .await
                .map_err(db)
        })
    }

    fn erased(&self) -> Result<Vec<DocumentId>, StorageError> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(db)?;
            let rows = client
                .query("SELECT doc_id FROM erased", &[])
                .await
                .map_err(db)?;
            Ok(rows
                .iter()
                .filter_map(|r| DocumentId::from_slice(r.get::<_, &[u8]>(0)))
                .collect())
        })
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

    fn storage_id(&self) -> Result<String, StorageError> {
        Ok(self.storage_id.clone())
    }
}
