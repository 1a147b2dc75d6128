//! Changes made through another relay on the same database (`Storage::changes`):
//! a document this relay has connections for is re-read from the store and the news
//! fanned out to them, as if a local device had written it; connections waiting for
//! a document created elsewhere start syncing it.

use automerge::{ReadDoc, sync};

use super::document::Document;
use super::{ConnId, Hub, lock};
use crate::auth::Access;
use crate::error::Error;
use crate::storage::Changed;

/// No connection: a change from elsewhere is news to every one.
const ELSEWHERE: ConnId = ConnId::MAX;

impl Hub {
    /// Takes in a change another relay committed.
    pub async fn changed_elsewhere(&self, changed: Changed) -> Result<(), Error> {
        let doc_id = changed.doc;
        // Remembered heads of an unloaded record are stale now.
        lock(&self.unloaded).remove(&doc_id);
        let waiting = !lock(&self.waiting)
            .get(&doc_id)
            .is_none_or(|w| w.is_empty());
        let slot = lock(&self.docs).get(&doc_id).cloned();
        let slot = match (slot, waiting) {
            (Some(slot), _) => slot,
            (None, true) => self.slot(doc_id),
            (None, false) => return Ok(()),
        };
        let mut guard = slot.lock().await;
        // Remembered meanwhile from what was stored before this change (`known`).
        lock(&self.unloaded).remove(&doc_id);
        if let Some(entry) = guard.as_ref()
            && entry.loaded
            && !changed.heads.is_empty()
            && changed
                .heads
                .iter()
                .all(|h| entry.doc.get_change_by_hash(h).is_some())
        {
            return Ok(()); // already has it
        }
        let has_syncs = guard.as_ref().is_some_and(|e| !e.syncs.is_empty());
        if !has_syncs && !waiting {
            // Nobody here syncs it: re-read from the store when next asked.
            if guard.as_ref().is_some_and(|e| e.loaded) {
                *guard = None;
            }
            return Ok(());
        }
        let before = guard
            .as_ref()
            .filter(|e| e.loaded)
            .map(|e| e.doc.get_heads());
        let (doc, exists, chunks, generation) = self.load(doc_id).await?;
        if !exists {
            return Ok(());
        }
        let mut entry = Document::loaded(doc_id, doc, true, chunks);
        entry.generation = generation;
        // What was in memory is all in the store: a change is stored before the slot's
        // lock is let go, and a copy that failed to store is dropped.
        if let Some(old) = guard.take() {
            entry.syncs = old.syncs;
        } else {
            lock(&self.resident).push_back(doc_id);
        }
        let teams = lock(&self.teams).clone();
        let class = entry.class(&teams);
        for conn in self.created(doc_id) {
            let access = self.access_of(conn, &class);
            if access != Access::None && self.track(conn, doc_id) {
                entry.syncs.entry(conn).or_insert_with(|| {
                    let mut state = sync::State::new();
                    state.set_read_only(access == Access::Read);
                    state
                });
            }
        }
        let news = before.is_none_or(|b| b != entry.doc.get_heads());
        let effects = if news {
            entry.fan_out(ELSEWHERE, Some(&class), |to, class| {
                self.access_of(to, class)
            })
        } else {
            Vec::new()
        };
        *guard = Some(entry);
        drop(guard);
        self.perform(doc_id, effects);
        Ok(())
    }
}
