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
            match self.identity.new_index() {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use automerge::ReadDoc;
    use proptest::prelude::*;

    use super::super::{Identity, Loaded, Repo};
    use crate::caseload::CaseloadDoc;
    use crate::contact::{Channel, ContactField, NewContact, Status};
    use crate::testing::Relay;

    const NOW: i64 = 1_795_521_600_000;

    #[derive(Clone, Debug)]
    enum Op {
        /// Device `on` creates a contact.
        Create { on: usize, name: u8 },
        /// Device `on` renames the `nth` record it holds (if any).
        Rename { on: usize, nth: usize, name: u8 },
        /// Device `on` moves the status of the `nth` record it holds.
        Status { on: usize, nth: usize, closed: bool },
        /// Device `on` syncs with the relay until quiet, then goes offline.
        Session { on: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        let on = 0usize..3;
        prop_oneof![
            2 => (on.clone(), any::<u8>()).prop_map(|(on, name)| Op::Create { on, name }),
            3 => (on.clone(), any::<usize>(), any::<u8>())
                .prop_map(|(on, nth, name)| Op::Rename { on, nth, name }),
            2 => (on.clone(), any::<usize>(), any::<bool>())
                .prop_map(|(on, nth, closed)| Op::Status { on, nth, closed }),
            4 => on.prop_map(|on| Op::Session { on }),
        ]
    }

    /// The rows a full read of the device's index gives.
    fn full_read(repo: &Repo) -> HashMap<crate::DocumentId, crate::caseload::Entry> {
        CaseloadDoc::entries_of(repo.index().expect("an index"))
            .expect("an index")
            .into_iter()
            .map(|e| (e.id, e))
            .collect()
    }

    fn nth_record(repo: &Repo, nth: usize) -> Option<crate::DocumentId> {
        let mut ids: Vec<_> = repo.entries.keys().copied().collect();
        ids.sort();
        (!ids.is_empty()).then(|| ids[nth % ids.len()])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Three devices of a team edit offline and sync through a relay in any order:
        /// each device's rows, kept in step by reading only the rows that changed, equal
        /// a full read of its index after every step, and after each session every
        /// record its index lists is on the device as the index names it (the sync
        /// plan, read the same way, missed none).
        #[test]
        fn rows_and_plan_read_where_the_index_changed_match_a_full_read(
            ops in proptest::collection::vec(op(), 1..30)
        ) {
            let mut relay = Relay::default();
            let mut devices: Vec<Repo> = ["Anna", "Bram", "Cleo"]
                .iter()
                .map(|w| Repo::new(Identity::new(w, "kempen", "ws://127.0.0.1:8080/sync"), Loaded::default(), vec![]).0)
                .collect();
            for (n, op) in ops.iter().enumerate() {
                let now = NOW + n as i64 * 1000;
                match *op {
                    Op::Create { on, name } => {
                        let new = NewContact {
                            team: "kempen".into(),
                            display_name: format!("Name {name}"),
                            first_contact_on: "2026-11-20".parse().expect("day"),
                            channel: Channel::Street,
                            place: None,
                            assigned_worker: None,
                        };
                        devices[on].create_contact(new, now).expect("created");
                    }
                    Op::Rename { on, nth, name } => {
                        if let Some(id) = nth_record(&devices[on], nth) {
                            let _ = devices[on].edit_contact(id, now, |c, ed| {
                                c.set_field(ed, ContactField::DisplayName, Some(&format!("Name {name}")))
                            });
                        }
                    }
                    Op::Status { on, nth, closed } => {
                        if let Some(id) = nth_record(&devices[on], nth) {
                            let status = if closed { Status::Closed } else { Status::Engaged };
                            let _ = devices[on].edit_contact(id, now, |c, ed| c.change_status(ed, status, None));
                        }
                    }
                    Op::Session { on } => {
                        let repo = &mut devices[on];
                        let connect = repo.connect();
                        relay.exchange(vec![connect], |reply| {
                            repo.receive(reply, now).expect("the device takes the relay's message").send
                        });
                        prop_assert!(repo.is_up_to_date(), "after {:?}", &ops[..=n]);
                        let index = repo.index().expect("an index");
                        for entry in CaseloadDoc::entries_of(index).expect("an index") {
                            let here = repo.replica().doc(&entry.id);
                            prop_assert!(
                                here.is_some_and(|doc| !entry.is_ahead_of(|h| doc.get_missing_deps(&[*h]).is_empty())),
                                "a listed record is behind after {:?}", &ops[..=n]
                            );
                        }
                        repo.disconnect();
                    }
                }
                for repo in &devices {
                    let full = full_read(repo);
                    prop_assert_eq!(&repo.entries, &full, "after {:?}", &ops[..=n]);
                }
            }
        }
    }
}
