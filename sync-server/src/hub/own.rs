//! "Own caseload only" (issue 15): in a team set so, a worker's device follows the
//! worker's own index (`caseload/worker.rs`), never the team's, which names everyone.
//! After every change of such a team's record, before any reply that acknowledges it,
//! the relay lists the record in the index of the worker it is assigned to and leaves a
//! `moved` row in the one it was assigned to before (that device then deletes its copy).
//! Such a worker may not write the team's index, so for the records they change the
//! relay writes the team's row itself: coordinators still see the whole team.

use std::sync::Arc;

use automerge::{Automerge, ChangeHash};
use paktum_shared::DocumentId;
use paktum_shared::caseload::{CaseloadDoc, Summary, WorkerWrite, worker_writes};
use paktum_shared::record::{Owner, RecordDoc};

use super::sharing::{self, SharedRows};
use super::{Hub, handover, lock};
use crate::auth::{DocClass, Identity};
use crate::error::Error;

/// A row to write into an index, or the `moved` row that replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Row {
    List,
    Moved,
}

/// What one record's change writes to the indices the relay keeps (besides the
/// device's own writes): its shared index, workers' own indices, the team's index for
/// an own-caseload-only writer (before the reply), and a new team's index (after it).
pub(super) struct RelayWrites {
    shared: Option<SharedRows>,
    own: Vec<(DocumentId, DocClass, Row)>,
    row: Option<(Summary, Vec<ChangeHash>)>,
    id: DocumentId,
    handed_over: Option<(String, Summary, Vec<ChangeHash>)>,
}

fn owner(class: &DocClass) -> Option<Owner> {
    match class {
        DocClass::Record {
            team,
            assigned_worker,
            ..
        } => Some(Owner {
            team: team.clone(),
            assigned_worker: assigned_worker.clone(),
        }),
        _ => None,
    }
}

/// The teams set to "own caseload only", as the directory says now.
pub(super) fn own_caseload_teams(directory: Option<&Arc<crate::auth::Directory>>) -> Vec<String> {
    directory
        .and_then(|d| d.own_caseload_teams().ok())
        .unwrap_or_default()
}

/// The own-index writes of a record's change by `writer` (see the module's text).
fn own_writes(
    before: Option<&DocClass>,
    after: &DocClass,
    writer: Option<&Identity>,
    own_teams: &[String],
) -> Vec<(DocumentId, DocClass, Row)> {
    let Some(after) = owner(after) else {
        return Vec::new();
    };
    let before = before.and_then(owner);
    let own_only = |team: &str| own_teams.iter().any(|t| t == team);
    let mut writes: Vec<_> = worker_writes(before.as_ref(), &after, own_only)
        .into_iter()
        .map(|w| match w {
            WorkerWrite::List { team, worker } => (team, worker, Row::List),
            WorkerWrite::Moved { team, worker } => (team, worker, Row::Moved),
        })
        .map(|(team, worker, row)| {
            let id = CaseloadDoc::worker_id_for(&team, &worker);
            (id, DocClass::WorkerIndex { team, worker }, row)
        })
        .collect();
    // The writer may not write its team's index: the relay does, for this record.
    if let Some(writer) = writer.filter(|w| w.own_only()) {
        let team = &writer.team;
        let row = if after.team == *team {
            Some(Row::List)
        } else if before.is_some_and(|b| b.team == *team) {
            Some(Row::Moved)
        } else {
            None
        };
        if let Some(row) = row {
            let class = DocClass::Index { team: team.clone() };
            writes.push((CaseloadDoc::id_for_team(team), class, row));
        }
    }
    writes
}

impl Hub {
    /// What a record's change from `before` to `after` by `writer` writes to the
    /// indices the relay keeps (each class decided once, before and after the change).
    pub(super) fn relay_writes(
        &self,
        id: DocumentId,
        doc: &Automerge,
        before: Option<&DocClass>,
        after: &DocClass,
        writer: Option<&Identity>,
    ) -> RelayWrites {
        let own = own_writes(before, after, writer, &lock(&self.own_teams));
        let row = own
            .iter()
            .any(|(_, _, row)| *row == Row::List)
            .then(|| {
                let record = RecordDoc::from_automerge(id, doc.clone()).ok()?;
                Some((Summary::of(&record).ok()?, doc.get_heads()))
            })
            .flatten();
        RelayWrites {
            shared: sharing::rows_to_write(id, doc, before, after),
            own,
            row,
            id,
            handed_over: handover::row_to_add(id, doc, before, after),
        }
    }

    /// Performs the writes due before the change is acknowledged, each persisted
    /// before it is sent (lock order: a record, then an index; never the reverse).
    /// Returns the one due after: the record's row in the team it was handed to.
    pub(super) async fn write_before_reply(
        &self,
        writes: Option<RelayWrites>,
    ) -> Result<Option<(String, Summary, Vec<ChangeHash>)>, Error> {
        let Some(writes) = writes else {
            return Ok(None);
        };
        self.write_shared(writes.shared).await?;
        let id = writes.id;
        for (index_id, class, row) in writes.own {
            let (team, worker) = match &class {
                DocClass::WorkerIndex { team, worker } => (team.clone(), Some(worker.clone())),
                DocClass::Index { team } => (team.clone(), None),
                _ => continue,
            };
            let genesis = || match &worker {
                Some(worker) => CaseloadDoc::new_for_worker(&team, worker),
                None => CaseloadDoc::new(&team),
            };
            let listed = writes.row.clone();
            self.edit_index(index_id, class.clone(), genesis, |index, editor| {
                match (row.clone(), listed.clone()) {
                    (Row::List, Some((summary, heads))) => {
                        index.upsert(editor, &[(id, summary, Some(heads))])
                    }
                    (Row::List, None) => Ok(false),
                    (Row::Moved, _) if index.entry(&id).is_none() => Ok(false),
                    (Row::Moved, _) => index.mark_moved(editor, &id),
                }
            })
            .await?;
        }
        Ok(writes.handed_over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn writer(own: bool) -> Identity {
        Identity {
            device_id: 1,
            member_id: 1,
            worker: "Anna".into(),
            role: Role::Worker,
            team: "kempen".into(),
            pact: "p".into(),
            pact_teams: vec!["kempen".into(), "oudergem".into()],
            own_caseload_only: own,
        }
    }

    fn record(team: &str, worker: &str) -> DocClass {
        DocClass::Record {
            team: team.into(),
            assigned_worker: Some(worker.into()),
            shared: false,
        }
    }

    #[test]
    fn a_reassignment_moves_the_row_between_workers_and_the_relay_writes_the_teams_row() {
        let own = vec!["kempen".to_string()];
        let (anna, bram) = (record("kempen", "Anna"), record("kempen", "Bram"));
        let writes = own_writes(Some(&anna), &bram, Some(&writer(true)), &own);
        let anna_index = CaseloadDoc::worker_id_for("kempen", "Anna");
        let bram_index = CaseloadDoc::worker_id_for("kempen", "Bram");
        let team_index = CaseloadDoc::id_for_team("kempen");
        let ids: Vec<_> = writes
            .iter()
            .map(|(id, _, row)| (*id, row.clone()))
            .collect();
        assert_eq!(
            ids,
            [
                (anna_index, Row::Moved),
                (bram_index, Row::List),
                (team_index, Row::List)
            ]
        );
        // A coordinator writes the team's index itself.
        let mut coordinator = writer(true);
        coordinator.role = Role::Coordinator;
        assert_eq!(own_writes(None, &anna, Some(&coordinator), &own).len(), 1);
        // A team not set so: nothing.
        assert!(own_writes(Some(&anna), &bram, Some(&writer(false)), &[]).is_empty());
        // Handed to another team by an own-caseload-only worker: moved in the team's
        // index (the new team's row is the hand-over's).
        let away = own_writes(
            Some(&anna),
            &record("oudergem", "Anna"),
            Some(&writer(true)),
            &own,
        );
        assert_eq!(
            away.last().map(|(id, _, row)| (*id, row.clone())),
            Some((team_index, Row::Moved))
        );
    }
}
