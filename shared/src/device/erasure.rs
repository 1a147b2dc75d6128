//! The device's side of an erasure: the relay says a record was erased (a
//! `paktum-erased` message, or a tombstone row in the team's index), and the core
//! forgets it and returns a [`Step`] that deletes it from disk (chunks, sync state,
//! and the index snapshot rewritten without its row), then confirms to the relay.
//! When the relay also rewrote the team's index, the old copy is replaced by the
//! genesis and fetched again: the old one's history still holds the erased row.

use automerge::sync;

use super::{Repo, Step};
use crate::DocumentId;
use crate::caseload::{CaseloadDoc, ERASED, MOVED, Refreshed};

impl Repo {
    /// Forgets an erased record (and, with `index`, this device's copy of the team's
    /// index). The step deletes it from disk, then tells the relay.
    pub fn erased(&mut self, id: DocumentId, index: Option<DocumentId>) -> Step {
        let mut step = Step::default();
        // First: the relay holds back this device's index messages until it confirms.
        step.send.extend(self.replica.confirm_erasure(id));
        if id != self.index_id {
            self.forget_record(id, &mut step);
        }
        if index == Some(self.index_id)
            && let Ok(genesis) = self.identity.new_index()
        {
            // Rows of records changed here and not yet confirmed may be missing from
            // the relay's rewritten index: write them again once the session is through.
            let pending: Vec<DocumentId> = self
                .replica
                .doc_ids()
                .filter(|d| **d != self.index_id && self.replica.is_pending(d))
                .copied()
                .collect();
            self.unreconciled.extend(pending);
            self.replica.erase(&self.index_id);
            let doc = genesis.into_doc();
            step.batch
                .chunks
                .push(self.ledger.compact(self.index_id, &doc));
            step.batch
                .states
                .push((self.index_id, sync::State::new().encode()));
            self.replica.insert(self.index_id, doc, None);
            step.send.extend(self.replica.restart(self.index_id));
        }
        // The snapshot on disk lists the erased row: rewrite it in the same batch.
        self.snapshot_seq = None;
        step.batch.snapshot = self.snapshot();
        self.forget_verdict();
        self.revision += 1;
        step
    }

    /// Deletes a record from this device: memory now, disk by the step.
    fn forget_record(&mut self, id: DocumentId, step: &mut Step) {
        self.replica.erase(&id);
        self.ledger.forget(&id);
        self.moved_here.remove(&id);
        step.batch.erase.push(id);
        if self.entries.remove(&id).is_some() {
            self.entries_version += 1;
        }
        self.unreconciled.remove(&id);
        self.damaged.retain(|(d, _)| d.as_ref() != Some(&id));
        // What was read of it for the screens goes with it (names, phone numbers).
        self.last_contact.forget(&id);
        self.referrals.forget(&id);
        self.search.forget(&id);
        self.people.forget(&id);
        self.figure_contacts.forget(&id);
        self.figure_employers.forget(&id);
        self.on_relay.forget(&id);
    }

    /// After the index changed: records this device holds that the index lists as
    /// erased (deleted and confirmed) or as handed to another team (deleted; the
    /// device that handed it over waits until the relay has its change). Only the rows
    /// read again (`rows`) can have become tombstones.
    pub(super) fn tombstones_here(&mut self, rows: &Refreshed) -> Step {
        let mut step = Step::default();
        let Some(index) = self.index() else {
            return step;
        };
        let held = |id: &DocumentId| self.replica.heads(id).is_some();
        let (erased, moved): (Vec<DocumentId>, Vec<DocumentId>) = match rows {
            Refreshed::Nothing => return step,
            Refreshed::All => (CaseloadDoc::erased_of(index), CaseloadDoc::moved_of(index)),
            Refreshed::Rows(ids) => {
                let kinds: Vec<(DocumentId, Option<String>)> = ids
                    .iter()
                    .filter(|id| held(id))
                    .map(|id| (*id, CaseloadDoc::row_kind(index, id)))
                    .collect();
                let of = |kind: &str| {
                    kinds
                        .iter()
                        .filter(|(_, k)| k.as_deref() == Some(kind))
                        .map(|(id, _)| *id)
                        .collect()
                };
                (of(ERASED), of(MOVED))
            }
        };
        let erased: Vec<DocumentId> = erased.into_iter().filter(held).collect();
        let moved: Vec<DocumentId> = moved
            .into_iter()
            .filter(held)
            .filter(|id| !self.moved_here.contains(id))
            .collect();
        for id in erased {
            step.extend(self.erased(id, None));
        }
        step.extend(self.forget_moved(moved));
        step
    }

    /// Records this device handed to another team, once the relay has the change.
    pub(super) fn handed_over(&mut self) -> Step {
        let confirmed: Vec<DocumentId> = self
            .moved_here
            .iter()
            .filter(|id| !self.replica.is_pending(id))
            .copied()
            .collect();
        self.forget_moved(confirmed)
    }

    /// A record this device just handed away (to another team or, own caseload only,
    /// to another worker): its row here, if any, becomes `moved`, and the record is
    /// deleted here once the relay has the change (also one made for someone else).
    pub(super) fn hand_over(&mut self, editor: &crate::Editor, id: DocumentId, step: &mut Step) {
        if self.entries.contains_key(&id) {
            self.mark_moved(editor, id, step);
        }
        self.moved_here.insert(id);
    }

    /// Records of another team that its shared index no longer lists: deleted from this
    /// device as a moved record is (nothing can be pending: the core refuses edits of
    /// another team's record).
    pub(super) fn forget_unshared(&mut self, ids: Vec<DocumentId>) -> Step {
        self.forget_moved(ids)
    }

    fn forget_moved(&mut self, ids: Vec<DocumentId>) -> Step {
        let mut step = Step::default();
        if ids.is_empty() {
            return step;
        }
        for id in ids {
            self.forget_record(id, &mut step);
        }
        self.snapshot_seq = None;
        step.batch.snapshot = self.snapshot();
        self.forget_verdict();
        self.revision += 1;
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Channel, NewContact};
    use crate::device::{Identity, Loaded};

    const NOW: i64 = 1_795_521_600_000;

    #[test]
    fn an_erasure_deletes_the_record_and_rewrites_the_snapshot_and_the_index_copy() {
        let identity = Identity::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
        let (mut repo, _) = Repo::new(identity, Loaded::default(), vec![]);
        let new = |name: &str| NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        };
        let (gone, _) = repo.create_contact(new("Qzxwvkjyrtpl"), NOW).expect("one");
        let (kept, _) = repo.create_contact(new("Bram"), NOW).expect("two");
        // Its searched text is in the snapshot, beside the rows.
        repo.edit_contact(gone, NOW, |c, ed| {
            c.set_field(
                ed,
                crate::contact::ContactField::Municipality,
                Some("wqpzkxjvbnml"),
            )
        })
        .expect("edited");
        assert_eq!(repo.read_for_search(10), (2, 0));
        let before = repo.tidy().and_then(|s| s.batch.snapshot).expect("stored");
        assert!(before.bytes.windows(12).any(|w| w == b"wqpzkxjvbnml"));
        let index = repo.index_id();
        let step = repo.erased(gone, Some(index));
        assert_eq!(step.batch.erase, vec![gone], "its chunks and sync state go");
        assert!(repo.replica().doc(&gone).is_none());
        assert!(repo.entry(&gone).is_none());
        let snapshot = step.batch.snapshot.expect("the snapshot is rewritten");
        assert!(!snapshot.bytes.windows(12).any(|w| w == b"Qzxwvkjyrtpl"));
        assert!(
            !snapshot.bytes.windows(12).any(|w| w == b"wqpzkxjvbnml"),
            "nor its searched text"
        );
        // The index copy is the genesis again, written over the old chunks.
        assert!(step.batch.chunks.iter().any(|c| matches!(
            c,
            crate::device::ChunkWrite::Replace { doc, .. } if *doc == index
        )));
        assert!(
            !repo
                .index()
                .expect("index")
                .save()
                .windows(12)
                .any(|w| w == b"Qzxwvkjyrtpl")
        );
        assert!(
            step.send.is_empty(),
            "offline: nothing to send (notices only come online)"
        );
        assert!(
            repo.replica().doc(&kept).is_some(),
            "the other record stays"
        );
    }

    #[test]
    fn an_erased_record_leaves_nothing_read_of_it_in_memory() {
        let identity = Identity::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
        let (mut repo, _) = Repo::new(identity, Loaded::default(), vec![]);
        let (gone, _) = repo
            .create_contact(
                NewContact {
                    team: "kempen".into(),
                    display_name: "Qzxwvkjyrtpl".into(),
                    first_contact_on: "2026-11-20".parse().expect("day"),
                    channel: Channel::Street,
                    place: None,
                    assigned_worker: None,
                },
                NOW,
            )
            .expect("created");
        let heads = repo.replica().heads(&gone).expect("held");
        assert!(matches!(
            repo.contact(&gone),
            super::super::Loadable::Ready(_)
        ));
        assert_eq!(repo.read_for_search(10), (1, 0));
        assert!(repo.referrals_to(&DocumentId::random()).is_empty());
        repo.erased(gone, None);
        assert!(
            !repo.last_contact.is_fresh(&gone, &heads),
            "the contact read"
        );
        assert!(!repo.search.is_fresh(&gone, &heads), "its searched text");
        assert!(!repo.referrals.is_fresh(&gone, &heads), "its referrals");
    }
}
