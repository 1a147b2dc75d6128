//! The device's store in IndexedDB: record documents as incremental chunks with
//! periodic compaction, the sync state per relay and document, and the device
//! identity. The only module of the app that touches IndexedDB.
//!
//! With a PIN set, every value is stored encrypted (`cipher.rs`): a value keeps in
//! the clear only what its key needs (document id and sequence number, relay address)
//! and puts everything else into one `sealed` field. Without a PIN nothing is
//! encrypted; setting one encrypts what is there in one transaction.

mod cipher;
mod lock;

use lock::{LockRecord, payload, seal_device_value, sealed_chunk, split_chunk};

use std::cell::RefCell;
use std::fmt;

use automerge::ChangeHash;
use futures_util::future::try_join_all;
use js_sys::{Array, Object, Reflect, Uint8Array};
use paktum_shared::DocumentId;
use paktum_shared::device::{
    Batch, ChunkWrite, Chunks, Identity, Loaded, Snapshot, heads_from_bytes, heads_to_bytes,
};
use paktum_shared::enrol::TeamMembers;
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

pub use cipher::{Cipher, CryptoError, PBKDF2_ITERATIONS, Wrapped};

/// The database every installation uses; tests pass their own names.
pub const DATABASE: &str = "paktum";

/// Filler written by [`Store::scrub`] after an erasure.
pub const SCRUB_BYTES: usize = 32 << 20;

const CHUNKS: &str = "chunks";
const SYNC_STATES: &str = "sync_states";
const DEVICE: &str = "device";
const DEVICE_KEY: &str = "identity";
/// The caseload index snapshot lives beside the identity: one small store, one value.
const SNAPSHOT_KEY: &str = "index-snapshot";
/// The team's members as the relay last listed them (JSON `TeamMembers`).
const MEMBERS_KEY: &str = "members";
/// The data key wrapped by the PIN, in the clear: salt, iterations, wrapped key, and
/// the count of wrong PINs so far (a reload must not reset the delays).
const LOCK_KEY: &str = "lock";
/// The records with changes the relay has not confirmed, as document ids in the clear
/// (JSON): after too many wrong PINs these are kept, everything else goes, and the
/// device cannot read which are pending without the key.
const UNSYNCED_KEY: &str = "unsynced";
/// The scrub's filler keys in the device store: `~` sorts after every other key there.
const FILLER: &str = "~scrub-";

/// Why the store could not do what was asked, in words for the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The browser refused IndexedDB (private mode, blocked storage).
    Unavailable,
    Read,
    Write,
    /// A PIN is set and the app is locked: nothing can be read or written.
    Locked,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::Unavailable => {
                "This browser does not let Paktum keep data on this device. Leave private browsing or allow site storage, then reload."
            }
            StoreError::Read => "The data saved on this device could not be read. Reload the app to try again.",
            StoreError::Write => {
                "This change could not be saved on this device. The device may be out of space; free some and try again."
            }
            StoreError::Locked => "Paktum is locked. Unlock it with your PIN.",
        })
    }
}

impl std::error::Error for StoreError {}

/// Why an unlock failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnlockError {
    /// The PIN did not unwrap the data key; `failures` wrong PINs in a row so far.
    WrongPin {
        failures: u32,
    },
    Store(StoreError),
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: Rexie,
    /// The wrapped data key when a PIN is set (read at open).
    lock: RefCell<Option<LockRecord>>,
    /// The data key while unlocked.
    cipher: RefCell<Option<Cipher>>,
}

impl Store {
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let db = Rexie::builder(name)
            .version(1)
            .add_object_store(ObjectStore::new(CHUNKS).key_path_array(["doc", "seq"]))
            .add_object_store(ObjectStore::new(SYNC_STATES).key_path_array(["relay", "doc"]))
            .add_object_store(ObjectStore::new(DEVICE))
            .build()
            .await
            .map_err(|_| StoreError::Unavailable)?;
        let store = Self {
            db,
            lock: RefCell::new(None),
            cipher: RefCell::new(None),
        };
        let lock = store.get_one(DEVICE, LOCK_KEY.into()).await?;
        *store.lock.borrow_mut() = lock.as_ref().and_then(LockRecord::from_js);
        Ok(store)
    }

    /// Deletes a whole database (tests, and "reset this device").
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Rexie::delete(name).await.map_err(|_| StoreError::Write)
    }

    pub fn close(self) {
        self.db.close();
    }

    pub async fn identity(&self) -> Result<Option<Identity>, StoreError> {
        let value = self.get_device(DEVICE_KEY).await?;
        // A damaged identity reads as none: the worker sets the device up again.
        Ok(value.and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub async fn save_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        let json = serde_json::to_string(identity).map_err(|_| StoreError::Write)?;
        self.put_device(DEVICE_KEY, &json).await
    }

    /// The team's members as last listed by the relay (none before the first list).
    pub async fn members(&self) -> Result<Option<TeamMembers>, StoreError> {
        let value = self.get_device(MEMBERS_KEY).await?;
        Ok(value.and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub async fn save_members(&self, members: &TeamMembers) -> Result<(), StoreError> {
        let json = serde_json::to_string(members).map_err(|_| StoreError::Write)?;
        self.put_device(MEMBERS_KEY, &json).await
    }

    /// Every value of the device store goes through here (and [`Store::get_device`]),
    /// so a new one is encrypted like the rest.
    async fn put_device(&self, key: &str, json: &str) -> Result<(), StoreError> {
        let value = seal_device_value(&self.sealing()?, &JsValue::from_str(json)).await?;
        let tx = self
            .db
            .transaction(&[DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(DEVICE).map_err(|_| StoreError::Write)?;
        store
            .put(&value, Some(&key.into()))
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await
    }

    /// Erases everything this device holds ("reset this device"): every record, sync
    /// state, the identity with its token, the snapshot and the member list, in one
    /// transaction. The database itself stays open (deleting it would wait for every
    /// connection to close).
    pub async fn erase(&self) -> Result<(), StoreError> {
        let names = [CHUNKS, SYNC_STATES, DEVICE];
        let tx = self
            .db
            .transaction(&names, TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        for name in names {
            tx.store(name)
                .map_err(|_| StoreError::Write)?
                .clear()
                .await
                .map_err(|_| StoreError::Write)?;
        }
        finish(tx).await?;
        self.lock.borrow_mut().take();
        self.cipher.borrow_mut().take();
        Ok(())
    }

    /// The index snapshot, if it describes what is on disk now: written for the index
    /// `index` when its newest chunk was the newest chunk still. Anything else (none,
    /// another team's, older than the index's chunks, unreadable) reads as `None`.
    pub async fn snapshot(&self, index: &DocumentId) -> Result<Option<Snapshot>, StoreError> {
        let tx = self
            .db
            .transaction(&[DEVICE, CHUNKS], TransactionMode::ReadOnly)
            .map_err(|_| StoreError::Read)?;
        let value = tx
            .store(DEVICE)
            .map_err(|_| StoreError::Read)?
            .get(SNAPSHOT_KEY.into())
            .await
            .map_err(|_| StoreError::Read)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let doc = index.to_string();
        if get(&value, "index").as_string().as_deref() != Some(doc.as_str()) {
            return Ok(None);
        }
        let Some(seq) = get(&value, "seq").as_f64().map(|s| s as u64) else {
            return Ok(None);
        };
        let range = KeyRange::bound(&key_seq(&doc, 0), &key_seq(&doc, u64::MAX), None, None)
            .map_err(|_| StoreError::Read)?;
        // Keys only (a chunk may hold the whole index); at most ~32 of them.
        let keys = tx
            .store(CHUNKS)
            .map_err(|_| StoreError::Read)?
            .get_all_keys(Some(range), None)
            .await
            .map_err(|_| StoreError::Read)?;
        let newest_seq = keys
            .iter()
            .filter_map(|key| Array::from(key).get(1).as_f64())
            .map(|s| s as u64)
            .max();
        if newest_seq != Some(seq) {
            return Ok(None);
        }
        Ok(self.opened(&value, "bytes").await?.map(|bytes| Snapshot {
            index: *index,
            seq,
            bytes,
        }))
    }

    /// Reads every document: all chunks in one request, each document's chunks
    /// concatenated and loaded in one call (applying them one by one is 100× slower).
    pub async fn load(&self) -> Result<Loaded, StoreError> {
        let values = self.read_chunks(None).await?;
        Ok(assemble(values, None, Assembly::Load).await)
    }

    /// Reads one document (start-up shows the caseload from its index first).
    pub async fn load_doc(&self, id: &DocumentId) -> Result<Loaded, StoreError> {
        let doc = id.to_string();
        let range = KeyRange::bound(&key_seq(&doc, 0), &key_seq(&doc, u64::MAX), None, None)
            .map_err(|_| StoreError::Read)?;
        let values = self.read_chunks(Some(range)).await?;
        Ok(assemble(values, None, Assembly::Load).await)
    }

    /// Reads every document but `except`. Records whose newest chunk names their heads
    /// are kept unloaded (loading 10,000 took seconds); the rest are loaded, giving the
    /// browser a turn now and then so the screens stay responsive.
    pub async fn load_except(&self, except: &DocumentId) -> Result<Loaded, StoreError> {
        let values = self.read_chunks(None).await?;
        Ok(assemble(values, Some(&except.to_string()), Assembly::KeepSliced).await)
    }

    /// The chunk entries in `range`, opened: each `{doc, seq, bytes, heads}` as
    /// written without a PIN. All decryptions are asked for at once (WebCrypto works
    /// off the main thread), then awaited in order.
    async fn read_chunks(&self, range: Option<KeyRange>) -> Result<Vec<JsValue>, StoreError> {
        let values = self.get_all(CHUNKS, range).await?;
        if !values.iter().any(|v| !get(v, "sealed").is_undefined()) {
            return Ok(values);
        }
        let cipher = self.cipher.borrow().clone().ok_or(StoreError::Locked)?;
        let opening = values.iter().map(|value| {
            let sealed = get(value, "sealed").dyn_into_bytes();
            let cipher = &cipher;
            async move {
                match sealed {
                    Some(sealed) => cipher.open(&sealed).await.ok(),
                    None => None,
                }
            }
        });
        let opened = futures_util::future::join_all(opening).await;
        Ok(values
            .into_iter()
            .zip(opened)
            .map(|(value, plain)| {
                if get(&value, "sealed").is_undefined() {
                    return value;
                }
                let (doc, seq) = (get(&value, "doc"), get(&value, "seq"));
                // Damaged: no bytes, and the assembly reports the document damaged.
                let Some((heads, bytes)) = plain.as_deref().and_then(split_chunk) else {
                    return object(&[("doc", doc), ("seq", seq)]);
                };
                object(&[
                    ("doc", doc),
                    ("seq", seq),
                    ("bytes", Uint8Array::from(bytes).into()),
                    ("heads", Uint8Array::from(heads).into()),
                ])
            })
            .collect())
    }

    /// The value at `key` in one object store, read in a transaction of its own.
    async fn get_one(&self, name: &str, key: JsValue) -> Result<Option<JsValue>, StoreError> {
        let tx = self
            .db
            .transaction(&[name], TransactionMode::ReadOnly)
            .map_err(|_| StoreError::Read)?;
        let store = tx.store(name).map_err(|_| StoreError::Read)?;
        store.get(key).await.map_err(|_| StoreError::Read)
    }

    /// The values in `range` (all without one) of one object store.
    async fn get_all(
        &self,
        name: &str,
        range: Option<KeyRange>,
    ) -> Result<Vec<JsValue>, StoreError> {
        let tx = self
            .db
            .transaction(&[name], TransactionMode::ReadOnly)
            .map_err(|_| StoreError::Read)?;
        let store = tx.store(name).map_err(|_| StoreError::Read)?;
        store
            .get_all(range, None)
            .await
            .map_err(|_| StoreError::Read)
    }

    /// The saved sync states with one relay.
    pub async fn sync_states(&self, relay: &str) -> Result<Vec<(DocumentId, Vec<u8>)>, StoreError> {
        let range = KeyRange::bound(&key2(relay, ""), &key2(relay, "\u{ffff}"), None, None)
            .map_err(|_| StoreError::Read)?;
        let values = self.get_all(SYNC_STATES, Some(range)).await?;
        let opened = try_join_all(values.iter().map(|v| async move {
            let id: Option<DocumentId> = get(v, "doc").as_string().and_then(|d| d.parse().ok());
            Ok::<_, StoreError>(id.zip(self.opened(v, "bytes").await?))
        }))
        .await?;
        Ok(opened.into_iter().flatten().collect())
    }

    /// The saved sync state of one document with one relay.
    pub async fn sync_state(
        &self,
        relay: &str,
        id: &DocumentId,
    ) -> Result<Vec<(DocumentId, Vec<u8>)>, StoreError> {
        let value = self
            .get_one(SYNC_STATES, key2(relay, &id.to_string()))
            .await?;
        let bytes = match value {
            Some(v) => self.opened(&v, "bytes").await?,
            None => None,
        };
        Ok(bytes.map(|bytes| (*id, bytes)).into_iter().collect())
    }

    /// Writes a batch atomically: either all of it is on disk afterwards or none.
    pub async fn write(&self, relay: &str, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Sealed before the transaction opens: it would commit while WebCrypto works.
        let sealing = self.sealing()?;
        // All encryptions asked for at once: WebCrypto runs them off the main thread.
        let chunk_values: Vec<JsValue> = try_join_all(batch.chunks.iter().map(|write| {
            let (doc, seq, bytes) = write.parts();
            sealed_chunk(&sealing, doc.to_string(), seq, bytes, write.heads())
        }))
        .await?;
        let state_values: Vec<JsValue> =
            try_join_all(batch.states.iter().map(|(doc, bytes)| async {
                let (field, payload) = payload(&sealing, bytes).await?;
                Ok::<_, StoreError>(object(&[
                    ("relay", JsValue::from_str(relay)),
                    ("doc", JsValue::from_str(&doc.to_string())),
                    (field, payload),
                ]))
            }))
            .await?;
        let snapshot_value = match &batch.snapshot {
            Some(snapshot) => {
                let (field, payload) = payload(&sealing, &snapshot.bytes).await?;
                Some(object(&[
                    ("index", JsValue::from_str(&snapshot.index.to_string())),
                    ("seq", JsValue::from_f64(snapshot.seq as f64)),
                    (field, payload),
                ]))
            }
            None => None,
        };
        let names: &[&str] = if batch.snapshot.is_some() {
            &[CHUNKS, SYNC_STATES, DEVICE]
        } else {
            &[CHUNKS, SYNC_STATES]
        };
        let tx = self
            .db
            .transaction(names, TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        // All puts go out at once, and only the last is awaited: a transaction fails
        // as a whole, and a turn of the event loop per put made a first sync's
        // thousands of writes slow.
        let chunks = tx.store(CHUNKS).map_err(|_| StoreError::Write)?;
        chunks
            .put_all(chunk_values.into_iter().map(|value| (value, None)))
            .await
            .map_err(|_| StoreError::Write)?;
        for write in &batch.chunks {
            let (doc, seq, _) = write.parts();
            // Nothing precedes chunk 0 (and an empty key range is an error). A chunk
            // put in this batch before its document's replacement goes too: the
            // replacement holds it.
            if matches!(write, ChunkWrite::Replace { .. }) && seq > 0 {
                let doc = doc.to_string();
                let older =
                    KeyRange::bound(&key_seq(&doc, 0), &key_seq(&doc, seq), None, Some(true))
                        .map_err(|_| StoreError::Write)?;
                chunks
                    .delete(older.into())
                    .await
                    .map_err(|_| StoreError::Write)?;
            }
        }
        let states = tx.store(SYNC_STATES).map_err(|_| StoreError::Write)?;
        states
            .put_all(state_values.into_iter().map(|value| (value, None)))
            .await
            .map_err(|_| StoreError::Write)?;
        // Erased documents: every chunk and the sync state go (after this batch's own
        // writes, which an erasure supersedes).
        for doc in &batch.erase {
            let doc = doc.to_string();
            let all = KeyRange::bound(&key_seq(&doc, 0), &key_seq(&doc, u64::MAX), None, None)
                .map_err(|_| StoreError::Write)?;
            chunks
                .delete(all.into())
                .await
                .map_err(|_| StoreError::Write)?;
            states
                .delete(key2(relay, &doc))
                .await
                .map_err(|_| StoreError::Write)?;
        }
        if let Some(value) = snapshot_value {
            tx.store(DEVICE)
                .map_err(|_| StoreError::Write)?
                .put(&value, Some(&SNAPSHOT_KEY.into()))
                .await
                .map_err(|_| StoreError::Write)?;
        }
        finish(tx).await
    }

    /// After an erasure: makes Chromium's IndexedDB (LevelDB) drop the deleted values.
    /// A delete only appends a tombstone; the old value stays in the log and in the
    /// tables until a compaction merges the two, and a page cannot ask for one.
    ///
    /// So the scrub writes [`SCRUB_BYTES`] of incompressible filler (4 KiB values,
    /// small enough to stay inside LevelDB, not in blob files) **into this database's own
    /// key range**, bracketing it: every transaction writes a row at the lowest key the
    /// chunk store can hold (`["", 0]`, removed again at once) and filler under
    /// `~scrub-…` keys at the top of the device store. Each memtable flush then spans
    /// the whole of Paktum's keys, so every compaction it triggers (level 0 → 1, and
    /// the level 1 → 2 compactions that follow as level 1 overflows) takes in every
    /// table holding Paktum's rows, and merges each erased value with its tombstone.
    /// Why 32 MiB: the first table a fresh database flushes goes straight to level 2,
    /// so an erased value there goes only when a level 1 → 2 compaction takes it in;
    /// after 24 MiB, level 1 stood at ~26 MB with that compaction still to come (a
    /// browser closed then kept the value: 2 of 16 runs), and 8 MiB more lets it run
    /// while the scrub still writes (tests/e2e/erasure-repeat.sh: 16 of 16).
    /// The filler is deleted at the end (and at the start, should a scrub have been
    /// cut short). Filler in a separate scratch database did not always do it: a table
    /// that LevelDB had placed at level 2 never overlapped the scratch keys
    /// (tests/e2e/erasure.mjs failed on it about half the time).
    pub async fn scrub(&self) -> Result<(), StoreError> {
        const VALUE: usize = 4096;
        const PER_TX: usize = 256;
        self.drop_filler().await?;
        // xorshift from a random seed: incompressible for Snappy, cheap to make.
        let mut x = (js_sys::Math::random() * u64::MAX as f64) as u64 | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let low = key_seq("", 0);
        for round in 0..SCRUB_BYTES / (VALUE * PER_TX) {
            let tx = self
                .db
                .transaction(&[CHUNKS, DEVICE], TransactionMode::ReadWrite)
                .map_err(|_| StoreError::Write)?;
            let chunks = tx.store(CHUNKS).map_err(|_| StoreError::Write)?;
            chunks
                .put(&chunk_value("", 0, &[], &[]), None)
                .await
                .map_err(|_| StoreError::Write)?;
            let device = tx.store(DEVICE).map_err(|_| StoreError::Write)?;
            for i in 0..PER_TX {
                let bytes: Vec<u8> = (0..VALUE / 8).flat_map(|_| next().to_le_bytes()).collect();
                let key = JsValue::from_str(&format!("{FILLER}{:08}", round * PER_TX + i));
                device
                    .put(&Uint8Array::from(bytes.as_slice()).into(), Some(&key))
                    .await
                    .map_err(|_| StoreError::Write)?;
            }
            chunks
                .delete(low.clone())
                .await
                .map_err(|_| StoreError::Write)?;
            finish(tx).await?;
        }
        self.drop_filler().await
    }

    /// Deletes the scrub's filler rows (`~scrub-…` in the device store).
    async fn drop_filler(&self) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let range = KeyRange::bound(
            &JsValue::from_str(FILLER),
            &JsValue::from_str(&format!("{FILLER}\u{ffff}")),
            None,
            None,
        )
        .map_err(|_| StoreError::Write)?;
        tx.store(DEVICE)
            .map_err(|_| StoreError::Write)?
            .delete(range.into())
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await
    }

    /// Test hook: puts a raw value into the chunk store, as a damaged disk might hold.
    #[cfg(test)]
    pub(crate) async fn put_raw_chunk(&self, value: &JsValue) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[CHUNKS], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(CHUNKS).map_err(|_| StoreError::Write)?;
        store
            .put(value, None)
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await
    }

    /// The data key while unlocked, for what the app keeps sealed in memory (drafts
    /// while locked).
    pub fn cipher(&self) -> Option<Cipher> {
        self.cipher.borrow().clone()
    }

    /// How many chunks are stored for a document (tests and diagnostics).
    pub async fn chunk_count(&self, id: &DocumentId) -> Result<u32, StoreError> {
        let tx = self
            .db
            .transaction(&[CHUNKS], TransactionMode::ReadOnly)
            .map_err(|_| StoreError::Read)?;
        let store = tx.store(CHUNKS).map_err(|_| StoreError::Read)?;
        let doc = id.to_string();
        let range = KeyRange::bound(&key_seq(&doc, 0), &key_seq(&doc, u64::MAX), None, None)
            .map_err(|_| StoreError::Read)?;
        store.count(Some(range)).await.map_err(|_| StoreError::Read)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Assembly {
    /// Load every document.
    Load,
    /// Keep what can be kept unloaded; load the rest, yielding to the browser about
    /// every 40 ms of work (a timer turn costs a few ms, so shorter slices would
    /// mostly wait).
    KeepSliced,
}

/// Hands the chunk entries to the device core's assembly (skipping `except`), giving
/// the browser a turn between documents on a long load.
async fn assemble(values: Vec<JsValue>, except: Option<&str>, how: Assembly) -> Loaded {
    let keep = how == Assembly::KeepSliced;
    let mut chunks = Chunks::default();
    for value in values {
        let doc = get(&value, "doc").as_string();
        if doc.is_some() && doc.as_deref() == except {
            continue;
        }
        let seq = get(&value, "seq").as_f64().map(|s| s as u64);
        // Only a record kept unloaded needs its heads from disk.
        let heads = keep
            .then(|| get(&value, "heads").dyn_into_bytes())
            .flatten()
            .and_then(|b| heads_from_bytes(&b));
        chunks.push(doc, seq, get(&value, "bytes").dyn_into_bytes(), heads);
    }
    let mut loaded = Loaded::default();
    let mut slice_start = crate::timing::now();
    for assembled in chunks.assemble(keep) {
        loaded.push(assembled);
        if keep && crate::timing::now() - slice_start > 40.0 {
            gloo_timers::future::TimeoutFuture::new(0).await;
            slice_start = crate::timing::now();
        }
    }
    loaded
}

async fn finish(tx: rexie::Transaction) -> Result<(), StoreError> {
    match tx.done().await {
        Ok(rexie::TransactionResult::Committed) => Ok(()),
        _ => Err(StoreError::Write),
    }
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

trait IntoBytes {
    fn dyn_into_bytes(self) -> Option<Vec<u8>>;
}

impl IntoBytes for JsValue {
    fn dyn_into_bytes(self) -> Option<Vec<u8>> {
        self.dyn_into::<Uint8Array>().ok().map(|a| a.to_vec())
    }
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

fn chunk_value(doc: &str, seq: u64, bytes: &[u8], heads: &[ChangeHash]) -> JsValue {
    let heads = heads_to_bytes(heads);
    object(&[
        ("doc", JsValue::from_str(doc)),
        ("seq", JsValue::from_f64(seq as f64)),
        ("bytes", Uint8Array::from(bytes).into()),
        ("heads", Uint8Array::from(heads.as_slice()).into()),
    ])
}

fn key_seq(doc: &str, seq: u64) -> JsValue {
    Array::of2(&JsValue::from_str(doc), &JsValue::from_f64(seq as f64)).into()
}

fn key2(a: &str, b: &str) -> JsValue {
    Array::of2(&JsValue::from_str(a), &JsValue::from_str(b)).into()
}

#[cfg(test)]
mod tests;
