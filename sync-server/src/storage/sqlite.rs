//! Embedded SQLite storage (WAL, `synchronous=FULL`). One writer thread commits
//! whatever writes are waiting in one transaction (group commit), so many devices
//! uploading at once cost one fsync per batch, and each caller returns only after
//! its write is on disk.

pub mod backup;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use paktum_shared::DocumentId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Storage, StorageError, Stored};

/// Upper bound on writes folded into one transaction.
const BATCH_MAX: usize = 512;

enum Op {
    /// `at`: only while the document is at this generation (an index).
    Append {
        doc: DocumentId,
        chunk: Vec<u8>,
        at: Option<u64>,
    },
    Compact {
        doc: DocumentId,
        snapshot: Vec<u8>,
        at: Option<u64>,
    },
    SyncStates {
        storage_id: String,
        states: Vec<(DocumentId, Vec<u8>)>,
    },
    Erase {
        doc: DocumentId,
        indices: Vec<(DocumentId, Vec<u8>)>,
    },
    Meta {
        key: String,
        value: String,
    },
}

struct Write {
    op: Op,
    /// Whether the write was made (false: an index rewritten since its writer read it).
    done: mpsc::SyncSender<Result<bool, String>>,
}

pub struct SqliteStorage {
    reader: Mutex<Connection>,
    writer: Mutex<mpsc::Sender<Write>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .finish()
    }
}

/// The relay's one database file in its data directory. Documents, sync states and
/// the directory (teams, devices, audit) share it: one file to back up and restore
/// consistently, one WAL. Each part keeps its own connection and tables.
pub const FILE: &str = "paktum.sqlite3";

/// Opens a connection to the relay's database (creating the data directory if
/// needed) with the relay's settings. The only place that names the file.
pub fn connect(data_dir: &Path) -> Result<Connection, StorageError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StorageError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    open(&data_dir.join(FILE))
}

fn open(path: &Path) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Deleted content is overwritten with zeros (cells and freed pages), so an erased
    // document leaves nothing in free pages. Per connection: every one sets it.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

impl SqliteStorage {
    /// Opens (creating if needed) `paktum.sqlite3` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let path = data_dir.join(FILE);
        let writer_conn = connect(data_dir)?;
        writer_conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS chunks (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 doc_id BLOB NOT NULL,
                 data BLOB NOT NULL);
             CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (doc_id, seq);
             CREATE TABLE IF NOT EXISTS sync_states (
                 storage_id TEXT NOT NULL,
                 doc_id BLOB NOT NULL,
                 state BLOB NOT NULL,
                 PRIMARY KEY (storage_id, doc_id));
             CREATE TABLE IF NOT EXISTS erased (doc_id BLOB PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS generations (
                 doc_id BLOB PRIMARY KEY,
                 generation INTEGER NOT NULL);",
        )?;
        let id: [u8; 16] = rand::random();
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        writer_conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('storage_id', ?1)",
            params![id],
        )?;
        let reader = open(&path)?;
        let (tx, rx) = mpsc::channel::<Write>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, rx))
            .map_err(|source| StorageError::DataDir {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Self {
            reader: Mutex::new(reader),
            writer: Mutex::new(tx),
            path,
        })
    }

    fn write(&self, op: Op) -> Result<(), StorageError> {
        self.write_at(op).map(drop)
    }

    fn write_at(&self, op: Op) -> Result<bool, StorageError> {
        let (done, wait) = mpsc::sync_channel(1);
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(Write { op, done })
            .map_err(|_| StorageError::WriterGone)?;
        match wait.recv() {
            Ok(Ok(made)) => Ok(made),
            Ok(Err(message)) => Err(StorageError::Write(message)),
            Err(_) => Err(StorageError::WriterGone),
        }
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Write>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let mut result = apply(&mut conn, &batch).map_err(|e| e.to_string());
        if result.is_ok() && batch.iter().any(|w| matches!(w.op, Op::Erase { .. })) {
            result = checkpoint(&conn).and(result);
        }
        match result {
            Ok(made) => {
                for (w, made) in batch.into_iter().zip(made) {
                    let _ = w.done.send(Ok(made));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = batch.len(), "storage batch failed; nothing of it was acknowledged");
                for w in batch {
                    let _ = w.done.send(Err(e.clone()));
                }
            }
        }
    }
}

fn apply(conn: &mut Connection, batch: &[Write]) -> Result<Vec<bool>, rusqlite::Error> {
    // The write lock from the start (waiting for it up to the busy timeout): a batch may
    // read first (an index's generation), and a read transaction that other connections
    // to the file (the directory, the admin CLI) write past cannot become a write one.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut made = Vec::with_capacity(batch.len());
    {
        // An erased id is never stored again, whoever still holds it in memory.
        let mut append = tx.prepare_cached(
            "INSERT INTO chunks (doc_id, data) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = ?1)",
        )?;
        let mut clear = tx.prepare_cached("DELETE FROM chunks WHERE doc_id = ?1")?;
        let mut state = tx.prepare_cached(
            "INSERT INTO sync_states (storage_id, doc_id, state) SELECT ?1, ?2, ?3
             WHERE NOT EXISTS (SELECT 1 FROM erased WHERE doc_id = ?2)
             ON CONFLICT (storage_id, doc_id) DO UPDATE SET state = excluded.state",
        )?;
        let mut clear_states = tx.prepare_cached("DELETE FROM sync_states WHERE doc_id = ?1")?;
        let mut erased = tx.prepare_cached("INSERT OR IGNORE INTO erased (doc_id) VALUES (?1)")?;
        let mut rewritten = tx.prepare_cached(
            "INSERT INTO generations (doc_id, generation) VALUES (?1, 1)
             ON CONFLICT (doc_id) DO UPDATE SET generation = generation + 1",
        )?;
        for w in batch {
            // In the one writer's transaction: no erasure can come between the check
            // and the write (the admin CLI's writer waits for SQLite's write lock).
            let current = match &w.op {
                Op::Append {
                    at: Some(at), doc, ..
                }
                | Op::Compact {
                    at: Some(at), doc, ..
                } => generation(&tx, doc)? == *at,
                _ => true,
            };
            made.push(current);
            if !current {
                continue;
            }
            match &w.op {
                Op::Append { doc, chunk, .. } => {
                    append.execute(params![doc.as_bytes().as_slice(), chunk])?;
                }
                Op::Compact { doc, snapshot, .. } => {
                    if !is_erased(&tx, doc)? {
                        clear.execute(params![doc.as_bytes().as_slice()])?;
                        append.execute(params![doc.as_bytes().as_slice(), snapshot])?;
                    }
                }
                Op::Erase { doc, indices } => {
                    let id = doc.as_bytes();
                    erased.execute(params![id.as_slice()])?;
                    clear.execute(params![id.as_slice()])?;
                    clear_states.execute(params![id.as_slice()])?;
                    for (index, bytes) in indices {
                        let index = index.as_bytes();
                        clear.execute(params![index.as_slice()])?;
                        clear_states.execute(params![index.as_slice()])?;
                        append.execute(params![index.as_slice(), bytes])?;
                        rewritten.execute(params![index.as_slice()])?;
                    }
                }
                Op::Meta { key, value } => {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        params![key, value],
                    )?;
                }
                Op::SyncStates { storage_id, states } => {
                    for (doc, s) in states {
                        state.execute(params![storage_id, doc.as_bytes().as_slice(), s])?;
                    }
                }
            }
        }
    }
    tx.commit()?;
    Ok(made)
}

/// How many times an erasure rewrote `doc` (0: never; every document but an index).
fn generation(conn: &Connection, doc: &DocumentId) -> Result<u64, rusqlite::Error> {
    Ok(conn
        .prepare_cached("SELECT generation FROM generations WHERE doc_id = ?1")?
        .query_row(params![doc.as_bytes().as_slice()], |r| r.get::<_, i64>(0))
        .optional()?
        .map_or(0, |g| g as u64))
}

fn is_erased(tx: &rusqlite::Transaction<'_>, doc: &DocumentId) -> Result<bool, rusqlite::Error> {
    tx.prepare_cached("SELECT 1 FROM erased WHERE doc_id = ?1")?
        .exists(params![doc.as_bytes().as_slice()])
}

/// After an erasure: copies every WAL frame into the database file and truncates the
/// WAL to zero bytes, so the old page versions (which held the erased bytes) are gone
/// from the WAL too. It waits (busy timeout) for readers of older snapshots; if one
/// still holds on, it tries again a while before giving up with an error.
fn checkpoint(conn: &Connection) -> Result<(), String> {
    for _ in 0..100 {
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if busy == 0 {
            return Ok(());
        }
        thread::sleep(std::time::Duration::from_millis(20));
    }
    Err("the WAL could not be truncated after an erasure (a reader held it)".into())
}

impl Storage for SqliteStorage {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let conn = self.reader();
        // Read first: the chunks read after are at least as new, so a write at this
        // generation can only be refused too often (and read again), never let through.
        let generation_first = generation(&conn, doc)?;
        let mut stmt =
            conn.prepare_cached("SELECT data FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query(params![doc.as_bytes().as_slice()])?;
        let mut stored = Stored::default();
        while let Some(row) = rows.next()? {
            let data: Vec<u8> = row.get(0)?;
            stored.bytes.extend_from_slice(&data);
            stored.chunks += 1;
        }
        stored.generation = generation_first;
        Ok((stored.chunks > 0).then_some(stored))
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<(), StorageError> {
        self.write(Op::Append {
            doc: *doc,
            chunk: chunk.to_vec(),
            at: None,
        })
    }

    fn compact(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<(), StorageError> {
        self.write(Op::Compact {
            doc: *doc,
            snapshot: snapshot.to_vec(),
            at: None,
        })
    }

    fn append_at(
        &self,
        doc: &DocumentId,
        chunk: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError> {
        self.write_at(Op::Append {
            doc: *doc,
            chunk: chunk.to_vec(),
            at: Some(generation),
        })
    }

    fn compact_at(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError> {
        self.write_at(Op::Compact {
            doc: *doc,
            snapshot: snapshot.to_vec(),
            at: Some(generation),
        })
    }

    fn load_sync_state(
        &self,
        storage_id: &str,
        doc: &DocumentId,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT state FROM sync_states WHERE storage_id = ?1 AND doc_id = ?2",
        )?;
        Ok(stmt
            .query_row(params![storage_id, doc.as_bytes().as_slice()], |r| r.get(0))
            .optional()?)
    }

    fn save_sync_states(
        &self,
        storage_id: &str,
        states: &[(DocumentId, Vec<u8>)],
    ) -> Result<(), StorageError> {
        if states.is_empty() {
            return Ok(());
        }
        self.write(Op::SyncStates {
            storage_id: storage_id.to_string(),
            states: states.to_vec(),
        })
    }

    fn erase(
        &self,
        doc: &DocumentId,
        indices: Vec<(DocumentId, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        self.write(Op::Erase { doc: *doc, indices })
    }

    fn erased(&self) -> Result<Vec<DocumentId>, StorageError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT doc_id FROM erased")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .filter_map(|b| DocumentId::from_slice(&b.ok()?))
            .collect();
        Ok(ids)
    }

    fn document_count(&self) -> Result<u64, StorageError> {
        let conn = self.reader();
        Ok(
            conn.query_row("SELECT COUNT(DISTINCT doc_id) FROM chunks", [], |r| {
                r.get::<_, i64>(0)
            })? as u64,
        )
    }

    fn document_ids(&self) -> Result<Vec<DocumentId>, StorageError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT DISTINCT doc_id FROM chunks")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .filter_map(|b| DocumentId::from_slice(&b.ok()?))
            .collect();
        Ok(ids)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
        let mut rows = stmt.query_map(params![key], |r| r.get::<_, String>(0))?;
        Ok(rows.next().transpose()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.write(Op::Meta {
            key: key.into(),
            value: value.into(),
        })
    }

    fn storage_id(&self) -> Result<String, StorageError> {
        let conn = self.reader();
        Ok(
            conn.query_row("SELECT value FROM meta WHERE key = 'storage_id'", [], |r| {
                r.get(0)
            })?,
        )
    }
}
