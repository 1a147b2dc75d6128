//! The device's store in IndexedDB: record documents as incremental chunks with
//! periodic compaction, the sync state per relay and document, and the device
//! identity. The only module of the app that touches IndexedDB.

mod ledger;

use std::collections::BTreeMap;
use std::fmt;

use automerge::{Automerge, ChangeHash};
use js_sys::{Array, Object, Reflect, Uint8Array};
use paktum_shared::DocumentId;
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;

use crate::device::Device;

pub use ledger::{ChunkWrite, Ledger};

/// The database every installation uses; tests pass their own names.
pub const DATABASE: &str = "paktum";

const CHUNKS: &str = "chunks";
const SYNC_STATES: &str = "sync_states";
const DEVICE: &str = "device";
const DEVICE_KEY: &str = "identity";
/// The caseload index snapshot lives beside the identity: one small store, one value.
const SNAPSHOT_KEY: &str = "index-snapshot";

/// Why the store could not do what was asked, in words for the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The browser refused IndexedDB (private mode, blocked storage).
    Unavailable,
    Read,
    Write,
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
        })
    }
}

impl std::error::Error for StoreError {}

/// A document read back from its chunks.
#[derive(Debug)]
pub struct StoredDoc {
    pub id: DocumentId,
    pub doc: Automerge,
    /// Chunks currently stored for it (compaction folds them into one).
    pub chunks: u32,
    pub next_seq: u64,
    /// Some chunks could not be read and were skipped.
    pub partly_damaged: bool,
}

/// A record read back as its chunks' bytes and the heads its newest chunk names,
/// without loading it (the replica loads it when it is first read).
#[derive(Debug)]
pub struct KeptDoc {
    pub id: DocumentId,
    pub bytes: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    pub chunks: u32,
    pub next_seq: u64,
}

/// Stored data that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    /// The document it belonged to, when that much was readable.
    pub id: Option<DocumentId>,
    pub next_seq: u64,
    pub reason: String,
}

/// Everything in the chunk store, read in one request.
#[derive(Debug, Default)]
pub struct Loaded {
    pub docs: Vec<StoredDoc>,
    /// Records kept unloaded (only from [`Store::load_except`]).
    pub kept: Vec<KeptDoc>,
    pub damaged: Vec<Damaged>,
}

/// A plain copy of the caseload index's rows (encoded by `repo`), valid while the
/// index's newest chunk on disk is still number `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub index: DocumentId,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// What one step of work writes, committed in one IndexedDB transaction.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub chunks: Vec<ChunkWrite>,
    pub states: Vec<(DocumentId, Vec<u8>)>,
    /// Written after the chunks it describes (the outbox keeps steps in order).
    pub snapshot: Option<Snapshot>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.states.is_empty() && self.snapshot.is_none()
    }

    pub fn extend(&mut self, other: Batch) {
        self.chunks.extend(other.chunks);
        self.states.extend(other.states);
        if other.snapshot.is_some() {
            self.snapshot = other.snapshot;
        }
    }
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: Rexie,
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
        Ok(Self { db })
    }

    /// Deletes a whole database (tests, and "reset this device").
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        Rexie::delete(name).await.map_err(|_| StoreError::Write)
    }

    pub fn close(self) {
        self.db.close();
    }

    pub async fn device(&self) -> Result<Option<Device>, StoreError> {
        let value = self.get_one(DEVICE, DEVICE_KEY.into()).await?;
        // A damaged identity reads as none: the worker sets the device up again.
        Ok(value
            .and_then(|v| v.as_string())
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub async fn save_device(&self, device: &Device) -> Result<(), StoreError> {
        let json = serde_json::to_string(device).map_err(|_| StoreError::Write)?;
        let tx = self
            .db
            .transaction(&[DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(DEVICE).map_err(|_| StoreError::Write)?;
        store
            .put(&JsValue::from_str(&json), Some(&DEVICE_KEY.into()))
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await
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
        Ok(get(&value, "bytes").dyn_into_bytes().map(|bytes| Snapshot {
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

    async fn read_chunks(&self, range: Option<KeyRange>) -> Result<Vec<JsValue>, StoreError> {
        self.get_all(CHUNKS, range).await
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
        Ok(values
            .into_iter()
            .filter_map(|v| {
                let id = get(&v, "doc").as_string()?.parse().ok()?;
                Some((id, get(&v, "bytes").dyn_into_bytes()?))
            })
            .collect())
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
        Ok(value
            .and_then(|v| get(&v, "bytes").dyn_into_bytes())
            .map(|bytes| (*id, bytes))
            .into_iter()
            .collect())
    }

    /// Writes a batch atomically: either all of it is on disk afterwards or none.
    pub async fn write(&self, relay: &str, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
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
            .put_all(batch.chunks.iter().map(|write| {
                let (doc, seq, bytes) = write.parts();
                (
                    chunk_value(&doc.to_string(), seq, bytes, write.heads()),
                    None,
                )
            }))
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
            .put_all(batch.states.iter().map(|(doc, bytes)| {
                let value = object(&[
                    ("relay", JsValue::from_str(relay)),
                    ("doc", JsValue::from_str(&doc.to_string())),
                    ("bytes", Uint8Array::from(bytes.as_slice()).into()),
                ]);
                (value, None)
            }))
            .await
            .map_err(|_| StoreError::Write)?;
        if let Some(snapshot) = &batch.snapshot {
            let value = object(&[
                ("index", JsValue::from_str(&snapshot.index.to_string())),
                ("seq", JsValue::from_f64(snapshot.seq as f64)),
                ("bytes", Uint8Array::from(snapshot.bytes.as_slice()).into()),
            ]);
            tx.store(DEVICE)
                .map_err(|_| StoreError::Write)?
                .put(&value, Some(&SNAPSHOT_KEY.into()))
                .await
                .map_err(|_| StoreError::Write)?;
        }
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

/// A chunk as read: its number, its bytes and the heads it names, if they were bytes.
type RawChunk = (u64, Option<Vec<u8>>, Option<Vec<ChangeHash>>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Assembly {
    /// Load every document.
    Load,
    /// Keep what can be kept unloaded; load the rest, yielding to the browser about
    /// every 40 ms of work (a timer turn costs a few ms, so shorter slices would
    /// mostly wait).
    KeepSliced,
}

/// Groups chunk entries by document and loads or keeps each one (skipping `except`).
async fn assemble(values: Vec<JsValue>, except: Option<&str>, how: Assembly) -> Loaded {
    let mut loaded = Loaded::default();
    let mut by_doc: BTreeMap<String, Vec<RawChunk>> = BTreeMap::new();
    for value in values {
        let doc = get(&value, "doc").as_string();
        let seq = get(&value, "seq").as_f64().map(|s| s as u64);
        match (doc, seq) {
            (Some(doc), _) if except == Some(doc.as_str()) => {}
            (Some(doc), Some(seq)) => {
                let bytes = get(&value, "bytes").dyn_into_bytes();
                // Only a record kept unloaded needs its heads from disk.
                let heads = (how == Assembly::KeepSliced)
                    .then(|| get(&value, "heads").dyn_into_bytes())
                    .flatten()
                    .and_then(|b| heads_of(&b));
                by_doc.entry(doc).or_default().push((seq, bytes, heads))
            }
            _ => loaded.damaged.push(Damaged {
                id: None,
                next_seq: 0,
                reason: "a stored entry has no document id".into(),
            }),
        }
    }
    let mut slice_start = crate::timing::now();
    for (key, mut chunks) in by_doc {
        if how == Assembly::KeepSliced && crate::timing::now() - slice_start > 40.0 {
            gloo_timers::future::TimeoutFuture::new(0).await;
            slice_start = crate::timing::now();
        }
        chunks.sort_by_key(|(seq, ..)| *seq);
        let next_seq = chunks.last().map(|(seq, ..)| seq + 1).unwrap_or(0);
        let Ok(id) = key.parse::<DocumentId>() else {
            loaded.damaged.push(Damaged {
                id: None,
                next_seq,
                reason: "a stored entry has a bad document id".into(),
            });
            continue;
        };
        if how == Assembly::KeepSliced
            && let Some(kept) = keep(id, &chunks, next_seq)
        {
            loaded.kept.push(kept);
            continue;
        }
        match load_chunks(&chunks) {
            Some((doc, partly_damaged)) => loaded.docs.push(StoredDoc {
                id,
                doc,
                chunks: chunks.len() as u32,
                next_seq,
                partly_damaged,
            }),
            None => loaded.damaged.push(Damaged {
                id: Some(id),
                next_seq,
                reason: "none of its stored changes could be read".into(),
            }),
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

/// A record whose chunks are all bytes and whose newest chunk names its heads, as
/// one run of bytes to load later. Anything less is loaded now, where damage shows.
fn keep(id: DocumentId, chunks: &[RawChunk], next_seq: u64) -> Option<KeptDoc> {
    let heads = chunks.last()?.2.clone().filter(|h| !h.is_empty())?;
    let mut bytes = Vec::with_capacity(
        chunks
            .iter()
            .map(|c| c.1.as_ref().map_or(0, Vec::len))
            .sum(),
    );
    for (_, chunk, _) in chunks {
        bytes.extend_from_slice(chunk.as_ref()?);
    }
    Some(KeptDoc {
        id,
        bytes,
        heads,
        chunks: chunks.len() as u32,
        next_seq,
    })
}

/// Heads as stored: 32 bytes each, one after another.
fn heads_of(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    bytes
        .chunks_exact(32)
        .map(|h| ChangeHash::try_from(h).ok())
        .collect()
}

/// Loads a document's chunks in one call; when that fails, chunk by chunk, skipping
/// the unreadable ones, so one bad write does not cost the whole record.
fn load_chunks(chunks: &[RawChunk]) -> Option<(Automerge, bool)> {
    let readable: Vec<&Vec<u8>> = chunks.iter().filter_map(|(_, b, _)| b.as_ref()).collect();
    let mut damaged = readable.len() != chunks.len();
    if !damaged {
        let all: Vec<u8> = readable.iter().flat_map(|b| b.iter().copied()).collect();
        if let Ok(doc) = Automerge::load(&all) {
            return Some((doc, false));
        }
    }
    let mut doc = Automerge::new();
    let mut any = false;
    for bytes in readable {
        match doc.load_incremental(bytes) {
            Ok(_) => any = true,
            Err(_) => damaged = true,
        }
    }
    (any && !doc.get_heads().is_empty()).then_some((doc, damaged))
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

trait IntoBytes {
    fn dyn_into_bytes(self) -> Option<Vec<u8>>;
}

impl IntoBytes for JsValue {
    fn dyn_into_bytes(self) -> Option<Vec<u8>> {
        use wasm_bindgen::JsCast;
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
    let heads: Vec<u8> = heads.iter().flat_map(|h| h.0).collect();
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
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn doc_with(n: usize) -> Automerge {
        let mut doc = Automerge::new();
        for i in 0..n {
            let mut tx = doc.transaction();
            tx.put(ROOT, format!("k{i}"), i as i64).expect("put");
            tx.commit();
        }
        doc
    }

    fn edit(doc: &mut Automerge, key: &str, value: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, value).expect("put");
        tx.commit();
    }

    async fn fresh(name: &str) -> Store {
        let _ = Store::delete(name).await;
        Store::open(name).await.expect("opens")
    }

    #[wasm_bindgen_test]
    async fn records_come_back_kept_unloaded_with_the_heads_of_their_newest_chunk() {
        let name = "test-kept";
        let store = fresh(name).await;
        let (index, record, old) = (
            DocumentId::random(),
            DocumentId::random(),
            DocumentId::random(),
        );
        let mut ledger = Ledger::default();
        let mut doc = doc_with(3);
        let mut batch = Batch::default();
        batch.chunks.extend(ledger.chunk_for(record, &doc));
        edit(&mut doc, "name", "Lotte");
        batch.chunks.extend(ledger.chunk_for(record, &doc));
        batch.chunks.extend(ledger.chunk_for(index, &doc_with(1)));
        store
            .write("ws://relay/sync", &batch)
            .await
            .expect("written");
        // A record written before chunks named their heads is loaded as before.
        let older = doc_with(2);
        store
            .put_raw_chunk(&chunk_value(&old.to_string(), 0, &older.save(), &[]))
            .await
            .expect("raw");

        let loaded = store.load_except(&index).await.expect("loads");
        assert!(loaded.damaged.is_empty());
        let [kept] = &loaded.kept[..] else {
            panic!("one record kept: {:?}", loaded.kept);
        };
        assert_eq!(kept.id, record);
        assert_eq!(kept.heads, doc.get_heads());
        assert_eq!((kept.chunks, kept.next_seq), (2, 2));
        let back = Automerge::load(&kept.bytes).expect("the kept bytes load");
        assert_eq!(back.get_heads(), doc.get_heads());
        let [loaded_old] = &loaded.docs[..] else {
            panic!("the old record loaded: {:?}", loaded.docs);
        };
        assert_eq!(loaded_old.id, old);
        assert_eq!(loaded_old.doc.get_heads(), older.get_heads());
        // Whole loads (the index at start-up) still load.
        let all = store.load().await.expect("loads");
        assert!(all.kept.is_empty());
        assert_eq!(all.docs.len(), 3);
        store.close();
    }

    #[wasm_bindgen_test]
    async fn writes_survive_a_reopen() {
        let name = "test-writes-survive";
        let store = fresh(name).await;
        let id = DocumentId::random();
        let mut ledger = Ledger::default();
        let mut doc = doc_with(3);
        let mut batch = Batch::default();
        batch.chunks.extend(ledger.chunk_for(id, &doc));
        edit(&mut doc, "name", "Lotte");
        batch.chunks.extend(ledger.chunk_for(id, &doc));
        batch.states.push((id, vec![1, 2, 3]));
        store
            .write("ws://relay/sync", &batch)
            .await
            .expect("written");
        store.close();

        let store = Store::open(name).await.expect("reopens");
        let loaded = store.load().await.expect("loads");
        assert!(loaded.damaged.is_empty());
        assert_eq!(loaded.docs.len(), 1);
        let back = &loaded.docs[0];
        assert_eq!(back.id, id);
        assert_eq!(back.chunks, 2);
        assert_eq!(back.doc.get_heads(), doc.get_heads());
        assert!(back.doc.get(ROOT, "name").expect("reads").is_some());
        assert_eq!(
            store.sync_states("ws://relay/sync").await.expect("states"),
            vec![(id, vec![1, 2, 3])]
        );
        assert!(
            store
                .sync_states("ws://other/sync")
                .await
                .expect("states")
                .is_empty()
        );
        store.close();
        Store::delete(name).await.expect("deleted");
    }

    #[wasm_bindgen_test]
    async fn compaction_folds_chunks_into_one() {
        let name = "test-compaction";
        let store = fresh(name).await;
        let id = DocumentId::random();
        let mut ledger = Ledger::default();
        let mut doc = doc_with(1);
        let write = |ledger: &mut Ledger, doc: &Automerge| Batch {
            chunks: ledger.chunk_for(id, doc).into_iter().collect(),
            ..Batch::default()
        };
        // Edits only append; past COMPACT_AFTER the document is due for the idle time.
        for i in 0..(ledger::COMPACT_AFTER + 5) {
            edit(&mut doc, "n", &i.to_string());
            let batch = write(&mut ledger, &doc);
            assert!(
                matches!(batch.chunks[..], [ChunkWrite::Append { .. }]) || i == 0,
                "edit {i} appends"
            );
            store.write("r", &batch).await.expect("written");
        }
        assert_eq!(
            store.chunk_count(&id).await.expect("counts"),
            ledger::COMPACT_AFTER + 5
        );
        let due = ledger.take_due();
        assert_eq!(due, vec![id]);
        assert!(ledger.take_due().is_empty(), "listed once");
        let idle = Batch {
            chunks: vec![ledger.compact(id, &doc)],
            ..Batch::default()
        };
        store.write("r", &idle).await.expect("written");
        assert_eq!(store.chunk_count(&id).await.expect("counts"), 1);
        let loaded = store.load().await.expect("loads");
        assert_eq!(loaded.docs[0].doc.get_heads(), doc.get_heads());
        // Nothing to write when nothing changed.
        assert!(ledger.chunk_for(id, &doc).is_none());

        // Never idle: the write itself compacts at COMPACT_AT_THE_LATEST chunks.
        for i in 0..(ledger::COMPACT_AT_THE_LATEST + 5) {
            edit(&mut doc, "m", &i.to_string());
            let batch = write(&mut ledger, &doc);
            store.write("r", &batch).await.expect("written");
        }
        let count = store.chunk_count(&id).await.expect("counts");
        assert!(
            count <= ledger::COMPACT_AT_THE_LATEST,
            "compacted to {count} chunks"
        );
        assert_eq!(
            store.load().await.expect("loads").docs[0].doc.get_heads(),
            doc.get_heads()
        );
        store.close();
        Store::delete(name).await.expect("deleted");
    }

    #[wasm_bindgen_test]
    async fn a_snapshot_counts_only_while_the_index_has_no_newer_chunk() {
        let name = "test-snapshot";
        let store = fresh(name).await;
        let (index, other) = (DocumentId::random(), DocumentId::random());
        assert_eq!(store.snapshot(&index).await.expect("reads"), None);
        let mut ledger = Ledger::default();
        let mut doc = doc_with(2);
        let snapshot = |ledger: &Ledger| Snapshot {
            index,
            seq: ledger.written_seq(&index).expect("written"),
            bytes: b"rows".to_vec(),
        };
        let first = Batch {
            chunks: ledger.chunk_for(index, &doc).into_iter().collect(),
            snapshot: Some(snapshot(&ledger)),
            ..Batch::default()
        };
        store.write("r", &first).await.expect("written");
        let read = store.snapshot(&index).await.expect("reads");
        assert_eq!(read, first.snapshot);
        assert_eq!(store.snapshot(&other).await.expect("reads"), None);

        // The index changes after the snapshot: the snapshot no longer counts.
        edit(&mut doc, "name", "Lotte");
        let later = Batch {
            chunks: ledger.chunk_for(index, &doc).into_iter().collect(),
            ..Batch::default()
        };
        store.write("r", &later).await.expect("written");
        assert_eq!(store.snapshot(&index).await.expect("reads"), None);

        // A compaction is a newer chunk too; a snapshot written with it counts again.
        let compacted = Batch {
            chunks: vec![ledger.compact(index, &doc)],
            snapshot: Some(snapshot(&ledger)),
            ..Batch::default()
        };
        store.write("r", &compacted).await.expect("written");
        assert_eq!(
            store.snapshot(&index).await.expect("reads"),
            compacted.snapshot
        );
        store.close();
        Store::delete(name).await.expect("deleted");
    }

    #[wasm_bindgen_test]
    async fn a_corrupt_entry_damages_only_its_own_record() {
        let name = "test-corrupt";
        let store = fresh(name).await;
        let mut ledger = Ledger::default();
        let ids: Vec<DocumentId> = (0..4).map(|_| DocumentId::random()).collect();
        let (good, garbled, hurt, lost) = (ids[0], ids[1], ids[2], ids[3]);
        let docs: Vec<Automerge> = (0..3).map(|_| doc_with(2)).collect();
        let mut batch = Batch::default();
        for (id, doc) in [good, garbled, hurt].into_iter().zip(&docs) {
            batch.chunks.extend(ledger.chunk_for(id, doc));
        }
        store.write("r", &batch).await.expect("written");
        // `garbled` gets a later chunk of garbage bytes, `hurt` one whose bytes are not
        // bytes at all, `lost` has nothing readable, and one entry names no document.
        store
            .put_raw_chunk(&chunk_value(
                &garbled.to_string(),
                1,
                b"\x85\x6f\x4a\x83garbage",
                &[],
            ))
            .await
            .expect("raw");
        let not_bytes = object(&[
            ("doc", JsValue::from_str(&hurt.to_string())),
            ("seq", JsValue::from_f64(1.0)),
            ("bytes", JsValue::from_str("oops")),
        ]);
        store.put_raw_chunk(&not_bytes).await.expect("raw");
        store
            .put_raw_chunk(&chunk_value(&lost.to_string(), 0, b"not automerge", &[]))
            .await
            .expect("raw");
        let odd = object(&[
            ("doc", JsValue::from_str("zzz")),
            ("seq", JsValue::from_f64(0.0)),
        ]);
        store.put_raw_chunk(&odd).await.expect("raw");

        let loaded = store.load().await.expect("loading does not fail");
        let find = |id: DocumentId| loaded.docs.iter().find(|d| d.id == id);
        assert_eq!(
            find(good).map(|d| d.doc.get_heads()),
            Some(docs[0].get_heads())
        );
        assert_eq!(
            find(garbled).map(|d| d.doc.get_heads()),
            Some(docs[1].get_heads())
        );
        let hurt_back = find(hurt).expect("partly recovered");
        assert!(hurt_back.partly_damaged);
        assert_eq!(hurt_back.doc.get_heads(), docs[2].get_heads());
        assert_eq!(hurt_back.next_seq, 2, "new chunks go after the bad one");
        assert!(find(lost).is_none());
        assert!(loaded.damaged.iter().any(|d| d.id == Some(lost)));
        assert_eq!(loaded.damaged.len(), 2, "{:?}", loaded.damaged);
        store.close();
        Store::delete(name).await.expect("deleted");
    }

    #[wasm_bindgen_test]
    async fn the_device_identity_is_kept() {
        let name = "test-device";
        let store = fresh(name).await;
        assert_eq!(store.device().await.expect("reads"), None);
        let device = Device::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
        store.save_device(&device).await.expect("saves");
        store.close();
        let store = Store::open(name).await.expect("reopens");
        assert_eq!(store.device().await.expect("reads"), Some(device));
        store.close();
        Store::delete(name).await.expect("deleted");
    }
}
