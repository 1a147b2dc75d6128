//! The worker's own index (issue 15, "own caseload only"): in a team set so, each
//! worker's device follows an index of its own records instead of the team's index,
//! which names every young person of the team. One per (team, worker), its id derived
//! from both, its first change fixed (as the team's index), with `worker` at the root.
//! The worker's device writes its own rows; the relay keeps it in line after every
//! change of a record of such a team (`sync-server/src/hub/own.rs`): the row goes where
//! the record is assigned, and a record assigned away leaves a `moved` row, so the old
//! worker's device deletes its copy.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjType, ROOT};

use super::CaseloadDoc;
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record::{self, Kind, Owner, SCHEMA_VERSION};

impl CaseloadDoc {
    /// The id of `worker`'s own index in `team` (derived, like the team's index).
    pub fn worker_id_for(team: &str, worker: &str) -> DocumentId {
        DocumentId::derived("paktum-worker-index", &format!("{team}\u{0}{worker}"))
    }

    /// `worker`'s empty own index in `team`: a deterministic first change (actor = its
    /// id, time 0), so the device and the relay start the same root.
    pub fn new_for_worker(team: &str, worker: &str) -> Result<Self, ModelError> {
        let team = record::required("team", team)?;
        let worker = record::required("worker", worker)?;
        let id = Self::worker_id_for(&team, &worker);
        let mut doc = Automerge::new().with_actor(ActorId::from(id.as_bytes().as_slice()));
        let mut tx = doc.transaction();
        tx.put(ROOT, "schema", SCHEMA_VERSION)?;
        tx.put(ROOT, "kind", Kind::Caseload.as_str())?;
        tx.put(ROOT, "team", team.as_str())?;
        tx.put(ROOT, "worker", worker.as_str())?;
        tx.put_object(ROOT, "records", ObjType::Map)?;
        tx.commit_with(CommitOptions::default().with_time(0));
        Ok(Self { team, doc })
    }

    /// The team and worker of a worker's own index: only when `id` is the one derived
    /// from them (so a document cannot pass for another worker's index).
    pub fn worker_index_of(id: &DocumentId, doc: &Automerge) -> Option<(String, String)> {
        let team = Self::check(doc).ok()?;
        let worker = record::str_at(doc, &ROOT, "worker")?;
        (Self::worker_id_for(&team, &worker) == *id).then_some((team, worker))
    }
}

/// A write to one worker's own index after a record's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerWrite {
    /// The record's row (its summary and heads) in this worker's index.
    List { team: String, worker: String },
    /// A `moved` row: the record was assigned to someone else or left the team.
    Moved { team: String, worker: String },
}

/// What a record's change from `before` (`None`: new) to `after` writes to workers' own
/// indices, for teams where `own_only` says each worker syncs only their own caseload.
/// The record is listed where it is assigned, and marked moved where it was assigned
/// before, if that is another index. A record assigned to nobody is in no worker's.
pub fn worker_writes(
    before: Option<&Owner>,
    after: &Owner,
    own_only: impl Fn(&str) -> bool,
) -> Vec<WorkerWrite> {
    let place = |o: &Owner| {
        o.assigned_worker
            .as_ref()
            .filter(|w| !w.is_empty() && own_only(&o.team))
            .map(|w| (o.team.clone(), w.clone()))
    };
    let (old, new) = (before.and_then(place), place(after));
    let mut writes = Vec::new();
    if let Some((team, worker)) = old.clone().filter(|o| Some(o) != new.as_ref()) {
        writes.push(WorkerWrite::Moved { team, worker });
    }
    if let Some((team, worker)) = new {
        writes.push(WorkerWrite::List { team, worker });
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn owner(team: u8, worker: Option<u8>) -> Owner {
        Owner {
            team: format!("t{team}"),
            assigned_worker: worker.map(|w| format!("w{w}")),
        }
    }

    proptest! {
        /// A record is listed in exactly the index of the worker it is assigned to (in
        /// an own-caseload team), and leaves a `moved` row in the one it was in before.
        #[test]
        fn a_record_is_listed_only_where_it_is_assigned(
            before in proptest::option::of((0u8..3, proptest::option::of(0u8..3))),
            after in (0u8..3, proptest::option::of(0u8..3)),
            own in proptest::collection::vec(any::<bool>(), 3),
        ) {
            let own_only = |t: &str| own[usize::from(t.as_bytes()[1] - b'0')];
            let before = before.map(|(t, w)| owner(t, w));
            let after = owner(after.0, after.1);
            let writes = worker_writes(before.as_ref(), &after, own_only);
            let listed: Vec<_> = writes.iter().filter_map(|w| match w {
                WorkerWrite::List { team, worker } => Some((team.clone(), worker.clone())),
                WorkerWrite::Moved { .. } => None,
            }).collect();
            let moved: Vec<_> = writes.iter().filter_map(|w| match w {
                WorkerWrite::Moved { team, worker } => Some((team.clone(), worker.clone())),
                WorkerWrite::List { .. } => None,
            }).collect();
            let place = |o: &Owner| o.assigned_worker.clone()
                .filter(|_| own_only(&o.team)).map(|w| (o.team.clone(), w));
            prop_assert_eq!(listed, place(&after).into_iter().collect::<Vec<_>>());
            let was = before.as_ref().and_then(place);
            let should_move: Vec<_> = was.filter(|w| Some(w) != place(&after).as_ref())
                .into_iter().collect();
            prop_assert_eq!(moved, should_move);
        }
    }

    #[test]
    fn a_workers_index_is_known_by_its_id_and_starts_the_same_everywhere() {
        let a = CaseloadDoc::new_for_worker("kempen", "Anna").expect("index");
        let b = CaseloadDoc::new_for_worker("kempen", "Anna").expect("index");
        assert_eq!(a.doc().get_heads(), b.doc().get_heads());
        let id = CaseloadDoc::worker_id_for("kempen", "Anna");
        assert_ne!(id, CaseloadDoc::worker_id_for("kempen", "Bram"));
        assert_ne!(id, CaseloadDoc::id_for_team("kempen"));
        assert_eq!(
            CaseloadDoc::worker_index_of(&id, a.doc()),
            Some(("kempen".into(), "Anna".into()))
        );
        let bram = CaseloadDoc::worker_id_for("kempen", "Bram");
        assert_eq!(CaseloadDoc::worker_index_of(&bram, a.doc()), None);
        let team = CaseloadDoc::new("kempen").expect("team index");
        assert_eq!(CaseloadDoc::worker_index_of(&id, team.doc()), None);
    }
}
