//! The device core's upkeep of the team's caseload index: rows written with every
//! edit and for every record that arrives, the index lent out of the replica (never
//! cloned), and the sorted lists the screens show.

use std::collections::BTreeMap;
use std::sync::Arc;

use automerge::Automerge;

use super::{Repo, Step};
use crate::Editor;
use crate::caseload::{CaseloadDoc, Entry, Refreshed, Summary};
use crate::record::Kind;
use crate::{DocumentId, ModelError};

impl Repo {
    /// The rows of one kind sorted by name; re-sorted only when the index changed.
    pub fn sorted_rows(&self, kind: Kind) -> Arc<[Entry]> {
        if let Some((version, rows)) = self.sorted.borrow().get(&kind)
            && *version == self.entries_version
        {
            return rows.clone();
        }
        let mut rows: Vec<(String, &Entry)> = self
            .entries
            .values()
            .filter(|e| e.summary.kind == kind)
            .map(|e| (e.summary.name.to_lowercase(), e))
            .collect();
        // Lower-cased once per row, not once per comparison.
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let rows: Arc<[Entry]> = rows.into_iter().map(|(_, e)| e.clone()).collect();
        self.sorted
            .borrow_mut()
            .insert(kind, (self.entries_version, rows.clone()));
        rows
    }

    /// Writes index rows.
    pub(super) fn upsert_index(
        &mut self,
        editor: &Editor,
        rows: Vec<(DocumentId, Summary, Option<Vec<automerge::ChangeHash>>)>,
        step: &mut Step,
    ) {
        self.write_index(step, |index| index.upsert(editor, &rows));
    }

    /// Replaces a record's row by a `moved` row (it went to another team).
    pub(super) fn mark_moved(&mut self, editor: &Editor, id: DocumentId, step: &mut Step) {
        self.write_index(step, |index| index.mark_moved(editor, &id));
    }

    /// Writes to the index with `write` (true when it wrote something), then re-reads
    /// the rows it wrote. The index (one row per record) is lent out of the replica and
    /// given back, never cloned, and only the rows written are re-read: with 10,000
    /// records a clone or a full re-read would cost more than the rest of an edit.
    fn write_index(
        &mut self,
        step: &mut Step,
        write: impl FnOnce(&mut CaseloadDoc) -> Result<bool, ModelError>,
    ) {
        let mut taken = self.replica.take(&self.index_id);
        let genesis = taken.as_ref().is_none_or(|d| d.get_heads().is_empty());
        let doc = if genesis {
            match CaseloadDoc::new(&self.identity.team) {
                Ok(index) => index.into_doc(),
                Err(_) => return self.give_back_index(taken),
            }
        } else {
            match taken.take() {
                Some(doc) if CaseloadDoc::check(&doc).is_ok() => doc,
                other => return self.give_back_index(other),
            }
        };
        let Ok(mut index) = CaseloadDoc::from_automerge(doc) else {
            // Unreachable: checked above (or a fresh genesis).
            return self.give_back_index(taken);
        };
        if !matches!(write(&mut index), Ok(true)) {
            return self.give_back_index(if genesis {
                taken
            } else {
                Some(index.into_doc())
            });
        }
        if genesis {
            // A new index: nothing read before counts.
            self.entries_heads = None;
        }
        self.refresh_entries(index.doc());
        let doc = index.into_doc();
        step.batch
            .chunks
            .extend(self.ledger.chunk_for(self.index_id, &doc));
        step.send.extend(self.replica.put_back(self.index_id, doc));
    }

    /// Returns a lent index unchanged (nothing to send).
    pub(super) fn give_back_index(&mut self, doc: Option<Automerge>) {
        if let Some(doc) = doc {
            self.replica.insert(self.index_id, doc, None);
        }
    }

    /// Brings the index rows in line with the index after it changed (start-up, and
    /// after the relay changed it): only the rows changed since they were last read are
    /// read again ([`CaseloadDoc::refresh_rows`]), so a change among 10,000 rows costs
    /// the rows it wrote. Says which rows were read again.
    pub(super) fn reread_index(&mut self) -> Refreshed {
        let Some(doc) = self.replica.doc(&self.index_id) else {
            return Refreshed::Nothing;
        };
        let refreshed = CaseloadDoc::refresh_rows(doc, &mut self.entries, &mut self.entries_heads)
            .unwrap_or(Refreshed::Nothing);
        if refreshed != Refreshed::Nothing {
            self.entries_version += 1;
        }
        refreshed
    }

    /// The same, for an index document held outside the replica (lent for a write).
    fn refresh_entries(&mut self, doc: &Automerge) {
        if let Ok(refreshed) =
            CaseloadDoc::refresh_rows(doc, &mut self.entries, &mut self.entries_heads)
            && refreshed != Refreshed::Nothing
        {
            self.entries_version += 1;
        }
    }
}

/// The records of one kind, as list rows sorted by name.
pub fn rows_of(repo: &Repo, kind: Kind) -> Vec<Entry> {
    repo.sorted_rows(kind).to_vec()
}

/// The distinct workers named in the index, for the caseload filter.
pub fn workers(repo: &Repo) -> Vec<String> {
    let mut set: BTreeMap<String, ()> = BTreeMap::new();
    for e in repo.entries() {
        if e.summary.kind == Kind::Contact && !e.summary.worker.is_empty() {
            set.insert(e.summary.worker.clone(), ());
        }
    }
    set.into_keys().collect()
}
