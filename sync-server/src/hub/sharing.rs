//! Consent gates sharing (issue 15): after every change of a record the relay brings
//! the shared indices in line (`paktum_shared::caseload::shared_writes`). A record that
//! may leave its team (active consent of the pact's scope, or an employer) is listed in
//! its team's shared index with its heads; one that no longer may (consent withdrawn,
//! handed to another team) becomes an `unshared` row there, and the devices of other
//! teams that hold it delete their copy when they see that row. The share policy
//! (`auth/policy.rs`) already refuses the record itself to them from that change on.

use automerge::{Automerge, ChangeHash, ROOT, ReadDoc};
use paktum_shared::DocumentId;
use paktum_shared::caseload::{CaseloadDoc, SharedWrite, Sharing, shared_writes};
use paktum_shared::record::Kind;

use super::Hub;
use crate::auth::DocClass;
use crate::error::Error;

/// What one record's change writes to the shared indices.
pub(super) struct SharedRows {
    id: DocumentId,
    kind: Kind,
    heads: Vec<ChangeHash>,
    writes: Vec<SharedWrite>,
}

fn sharing(class: &DocClass) -> Option<Sharing> {
    match class {
        DocClass::Record { team, shared, .. } => Some(Sharing {
            team: team.clone(),
            shared: *shared,
        }),
        _ => None,
    }
}

/// The shared-index writes of a record's change from `before` to `after` (its class
/// decided once, before and after the change); `None` when there are none.
pub(super) fn rows_to_write(
    id: DocumentId,
    doc: &Automerge,
    before: Option<&DocClass>,
    after: &DocClass,
) -> Option<SharedRows> {
    let after_sharing = sharing(after)?;
    let writes = shared_writes(before.and_then(sharing).as_ref(), &after_sharing);
    if writes.is_empty() {
        return None;
    }
    let kind = match doc.get(ROOT, "kind").ok().flatten() {
        Some((automerge::Value::Scalar(s), _)) => s.as_str().and_then(Kind::parse),
        _ => None,
    }?;
    Some(SharedRows {
        id,
        kind,
        heads: doc.get_heads(),
        writes,
    })
}

impl Hub {
    /// Performs a record's shared-index writes, each persisted before it is sent.
    pub(super) async fn write_shared(&self, rows: Option<SharedRows>) -> Result<(), Error> {
        let Some(SharedRows {
            id,
            kind,
            heads,
            writes,
        }) = rows
        else {
            return Ok(());
        };
        for write in writes {
            let (SharedWrite::List { team } | SharedWrite::Unlist { team }) = &write;
            let index_id = CaseloadDoc::shared_id_for_team(team);
            let class = DocClass::SharedIndex { team: team.clone() };
            let genesis = || CaseloadDoc::new_shared(team);
            let heads = heads.clone();
            self.edit_index(index_id, class, genesis, |index, editor| match &write {
                SharedWrite::List { .. } => index.list_shared(editor, id, kind, heads.clone()),
                SharedWrite::Unlist { .. } => index.unlist_shared(editor, &id),
            })
            .await?;
        }
        Ok(())
    }

    /// Marks a record no longer shared in `team`'s shared index (an erased record).
    pub(super) async fn unlist_shared(&self, team: &str, id: DocumentId) -> Result<(), Error> {
        let index_id = CaseloadDoc::shared_id_for_team(team);
        let class = DocClass::SharedIndex { team: team.into() };
        let genesis = || CaseloadDoc::new_shared(team);
        self.edit_index(index_id, class, genesis, |index, editor| {
            index.unlist_shared(editor, &id)
        })
        .await
        .map(drop)
    }
}
