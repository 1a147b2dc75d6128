//! In-memory storage for tests: same contract as SQLite, gone when dropped.

use std::collections::HashMap;
use std::sync::Mutex;

use paktum_shared::DocumentId;

use super::{Storage, StorageError, Stored};

#[derive(Debug, Default)]
pub struct MemoryStorage {
    docs: Mutex<HashMap<DocumentId, Vec<Vec<u8>>>>,
    states: Mutex<HashMap<(String, DocumentId), Vec<u8>>>,
    erased: Mutex<std::collections::HashSet<DocumentId>>,
    meta: Mutex<HashMap<String, String>>,
    generations: Mutex<HashMap<DocumentId, u64>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes a document's chunks only at `generation` (false: stale), under the
    /// documents' lock as `erase` rewrites, so one or the other comes first; an erased
    /// id takes the write and keeps nothing.
    fn at_generation(
        &self,
        doc: &DocumentId,
        generation: u64,
        write: impl FnOnce(&mut Vec<Vec<u8>>),
    ) -> bool {
        let mut docs = lock(&self.docs);
        if lock(&self.generations).get(doc).copied().unwrap_or(0) != generation {
            return false;
        }
        if !lock(&self.erased).contains(doc) {
            write(docs.entry(*doc).or_default());
        }
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Storage for MemoryStorage {
    fn load(&self, doc: &DocumentId) -> Result<Option<Stored>, StorageError> {
        let docs = lock(&self.docs);
        let generation = lock(&self.generations).get(doc).copied().unwrap_or(0);
        Ok(docs.get(doc).map(|chunks| Stored {
            bytes: chunks.concat(),
            chunks: chunks.len(),
            generation,
        }))
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<(), StorageError> {
        if lock(&self.erased).contains(doc) {
            return Ok(());
        }
        lock(&self.docs)
            .entry(*doc)
            .or_default()
            .push(chunk.to_vec());
        Ok(())
    }

    fn compact(&self, doc: &DocumentId, snapshot: &[u8]) -> Result<(), StorageError> {
        if lock(&self.erased).contains(doc) {
            return Ok(());
        }
        lock(&self.docs).insert(*doc, vec![snapshot.to_vec()]);
        Ok(())
    }

    fn append_at(
        &self,
        doc: &DocumentId,
        chunk: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError> {
        Ok(self.at_generation(doc, generation, |chunks| chunks.push(chunk.to_vec())))
    }

    fn compact_at(
        &self,
        doc: &DocumentId,
        snapshot: &[u8],
        generation: u64,
    ) -> Result<bool, StorageError> {
        Ok(self.at_generation(doc, generation, |chunks| *chunks = vec![snapshot.to_vec()]))
    }

    fn load_sync_state(
        &self,
        storage_id: &str,
        doc: &DocumentId,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(lock(&self.states)
            .get(&(storage_id.to_string(), *doc))
            .cloned())
    }

    fn save_sync_states(
        &self,
        storage_id: &str,
        states: &[(DocumentId, Vec<u8>)],
    ) -> Result<(), StorageError> {
        let mut map = lock(&self.states);
        for (doc, state) in states {
            map.insert((storage_id.to_string(), *doc), state.clone());
        }
        Ok(())
    }

    fn erase(
        &self,
        doc: &DocumentId,
        indices: Vec<(DocumentId, Vec<u8>)>,
    ) -> Result<(), StorageError> {
        lock(&self.erased).insert(*doc);
        let mut docs = lock(&self.docs);
        docs.remove(doc);
        let mut states = lock(&self.states);
        states.retain(|(_, d), _| d != doc);
        let mut generations = lock(&self.generations);
        for (index, bytes) in indices {
            docs.insert(index, vec![bytes]);
            states.retain(|(_, d), _| *d != index);
            *generations.entry(index).or_default() += 1;
        }
        Ok(())
    }

    fn erased(&self) -> Result<Vec<DocumentId>, StorageError> {
        Ok(lock(&self.erased).iter().copied().collect())
    }

    fn document_count(&self) -> Result<u64, StorageError> {
        Ok(lock(&self.docs).len() as u64)
    }

    fn document_ids(&self) -> Result<Vec<DocumentId>, StorageError> {
        Ok(lock(&self.docs).keys().copied().collect())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(lock(&self.meta).get(key).cloned())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StorageError> {
        lock(&self.meta).insert(key.into(), value.into());
        Ok(())
    }

    fn storage_id(&self) -> Result<String, StorageError> {
        Ok("memory".into())
    }
}
