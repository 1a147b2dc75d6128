//! A record handed to another team: the device that handed it over marks its row in
//! the old team's index `moved` (it may not write the new team's index), so the relay
//! lists it in the new team's index, and the new team's devices pull it at their next
//! sync like any record their index shows.

use automerge::{ActorId, Automerge};
use paktum_shared::caseload::{CaseloadDoc, Summary};
use paktum_shared::record::{Editor, RecordDoc};
use paktum_shared::{DocumentId, ModelError};

use super::document::{Document, Persist};
use super::{Hub, lock};
use crate::auth::{Access, DocClass, now_ms};
use crate::error::Error;

/// The row a record needs in its new team's index, if `before` → `after` moved it.
pub(super) fn row_to_add(
    id: DocumentId,
    doc: &Automerge,
    before: Option<&DocClass>,
    after: &DocClass,
) -> Option<(String, Summary, Vec<automerge::ChangeHash>)> {
    let (DocClass::Record { team: old, .. }, DocClass::Record { team: new, .. }) = (before?, after)
    else {
        return None;
    };
    if old == new {
        return None;
    }
    let record = RecordDoc::from_automerge(id, doc.clone()).ok()?;
    let summary = Summary::of(&record).ok()?;
    Some((new.clone(), summary, doc.get_heads()))
}

impl Hub {
    /// Writes a record's row into `team`'s index (creating the index if the team has
    /// none yet), persists it, and sends it to every connection syncing that index.
    pub(super) async fn list_in_team(
        &self,
        team: String,
        id: DocumentId,
        summary: Summary,
        heads: Vec<automerge::ChangeHash>,
    ) -> Result<(), Error> {
        let index_id = CaseloadDoc::id_for_team(&team);
        let genesis = || CaseloadDoc::new(&team);
        self.edit_index(
            index_id,
            DocClass::Index { team: team.clone() },
            genesis,
            |index, editor| index.upsert(editor, &[(id, summary.clone(), Some(heads.clone()))]),
        )
        .await
        .map(drop)
    }

    /// One change by the relay itself to an index document (`class`: the team's index
    /// or its shared index), made from `genesis` when the relay has none: persisted,
    /// then sent to every connection syncing it, and to those that asked for it before
    /// it existed. Returns whether it wrote anything. Made again on the stored index
    /// when an erasure rewrote it since this relay read it (another relay's, or the
    /// admin CLI's, not seen here yet): never written on the old history.
    pub(super) async fn edit_index(
        &self,
        index_id: DocumentId,
        class: DocClass,
        genesis: impl Fn() -> Result<CaseloadDoc, ModelError>,
        edit: impl Fn(&mut CaseloadDoc, &Editor) -> Result<bool, ModelError>,
    ) -> Result<bool, Error> {
        for _ in 0..3 {
            if let Some(written) = self
                .edit_index_once(index_id, &class, &genesis, &edit)
                .await?
            {
                return Ok(written);
            }
        }
        Err(Error::Internal(format!(
            "index {index_id} kept being rewritten while the relay wrote to it"
        )))
    }

    /// One try of [`Hub::edit_index`]: `None` when the store's index was rewritten
    /// since it was read (the copy in memory is replaced by the stored one).
    async fn edit_index_once(
        &self,
        index_id: DocumentId,
        class: &DocClass,
        genesis: &impl Fn() -> Result<CaseloadDoc, ModelError>,
        edit: &impl Fn(&mut CaseloadDoc, &Editor) -> Result<bool, ModelError>,
    ) -> Result<Option<bool>, Error> {
        let class = class.clone();
        let slot = self.slot(index_id);
        let mut guard = slot.lock().await;
        if guard.as_ref().is_none_or(|e| !e.loaded) {
            let (doc, exists, chunks, generation) = self.load(index_id).await?;
            lock(&self.unloaded).remove(&index_id);
            let mut loaded = Document::loaded(index_id, doc, exists, chunks);
            loaded.generation = generation;
            loaded.syncs = guard.take().map(|e| e.syncs).unwrap_or_default();
            *guard = Some(loaded);
        }
        let Some(entry) = guard.as_mut() else {
            return Ok(Some(false));
        };
        let before = entry.doc.get_heads();
        let doc = if entry.exists {
            std::mem::take(&mut entry.doc)
        } else {
            genesis()
                .map_err(|e| Error::Internal(e.to_string()))?
                .into_doc()
        };
        let mut index = match CaseloadDoc::from_automerge(doc) {
            Ok(index) => index,
            Err(e) => {
                *guard = None;
                return Err(Error::Internal(format!("the team's index: {e}")));
            }
        };
        // One actor per index and relay process: two relays on one database writing
        // the same index at once must not make two changes with one sequence number
        // (Automerge then refuses the document as damaged).
        let mut actor = index_id.as_bytes().to_vec();
        actor.extend_from_slice(self.peer_id.as_bytes());
        let editor = Editor {
            actor: ActorId::from(actor.as_slice()),
            worker: "relay".into(),
            now_ms: now_ms(),
        };
        let written = edit(&mut index, &editor);
        entry.doc = index.into_doc();
        if !matches!(written, Ok(true)) {
            if !entry.exists {
                // Nothing written: the relay still has no such index.
                entry.doc = Automerge::new();
            }
            return Ok(Some(false));
        }
        let persist = if entry.exists {
            Persist::Append(entry.doc.save_after(&before))
        } else {
            Persist::Compact(entry.doc.save())
        };
        match self
            .persist(index_id, &persist, Some(entry.generation))
            .await
        {
            Err(e) => {
                *guard = None;
                return Err(e);
            }
            Ok(false) => {
                // Rewritten by an erasure since read: the stored index, and try again.
                self.put_back_stored(index_id, 0, &mut guard).await?;
                return Ok(None);
            }
            Ok(true) => {}
        }
        if entry.persisted(&persist) {
            lock(&self.resident).push_back(index_id);
            for waiting in self.created(index_id) {
                let access = self.access_of(waiting, &class);
                if access != Access::None && self.track(waiting, index_id) {
                    entry.syncs.entry(waiting).or_insert_with(|| {
                        let mut state = automerge::sync::State::new();
                        state.set_read_only(access == Access::Read);
                        state
                    });
                }
            }
        }
        let effects = entry.fan_out(0, Some(&class), |to, class| self.access_of(to, class));
        drop(guard);
        self.perform(index_id, effects);
        Ok(Some(true))
    }
}
