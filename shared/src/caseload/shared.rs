//! The shared index (issue 15, consent gates sharing): per team, the list of its records
//! that may leave the team — contacts with active consent of the pact's scope, and
//! employers. Coordinators and admins of the pact's other teams follow it instead of the
//! team's own index, which names every young person of the team. Only the relay writes
//! it. Its rows carry the record's kind and heads and nothing else (no name, worker,
//! status or day), so its history, which no rewrite removes, holds no personal data: a
//! row that leaves (consent withdrawn, record moved) becomes `{kind: "unshared"}`, and a
//! device that holds that record deletes its copy.

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjType, ROOT};

use super::{CaseloadDoc, Summary};
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record::{self, Editor, Kind};

/// The `kind` of a row whose record is no longer shared beyond its team.
pub const UNSHARED: &str = "unshared";

/// Whether a record document may be read beyond its team: a contact with active consent
/// of the pact's scope (`contact::shares_beyond_team`), an employer always (an
/// organisation, not a young person). Anything else: no.
pub fn shares_beyond_team(doc: &Automerge) -> bool {
    match record::str_at(doc, &ROOT, "kind")
        .as_deref()
        .and_then(Kind::parse)
    {
        Some(Kind::Contact) => crate::contact::shares_beyond_team(doc),
        Some(Kind::Employer) => true,
        Some(Kind::Caseload) | None => false,
    }
}

/// Where a record stands for sharing: its team and whether it may leave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sharing {
    pub team: String,
    pub shared: bool,
}

impl Sharing {
    /// A record document's sharing; `None` for anything that is not a record of a team.
    pub fn of(doc: &Automerge) -> Option<Sharing> {
        let kind = record::str_at(doc, &ROOT, "kind");
        if !matches!(
            kind.as_deref().and_then(Kind::parse),
            Some(Kind::Contact | Kind::Employer)
        ) {
            return None;
        }
        Some(Sharing {
            team: record::owner(doc)?.team,
            shared: shares_beyond_team(doc),
        })
    }
}

/// Applies a record's change to the shared indices in `docs` (the indices by id, made
/// from the genesis when missing), as the relay does; the in-memory relay of tests
/// calls it. Returns the ids of the indices that changed.
pub fn apply_shared_writes(
    docs: &mut std::collections::HashMap<DocumentId, Automerge>,
    editor: &Editor,
    id: DocumentId,
    before: Option<&Sharing>,
    after: &Sharing,
    kind: Kind,
    heads: &[ChangeHash],
) -> Vec<DocumentId> {
    let mut changed = Vec::new();
    for write in shared_writes(before, after) {
        let (SharedWrite::List { team } | SharedWrite::Unlist { team }) = &write;
        let index_id = CaseloadDoc::shared_id_for_team(team);
        let held = docs.remove(&index_id).filter(|d| !d.get_heads().is_empty());
        let existed = held.is_some();
        let index = match held {
            Some(doc) => CaseloadDoc::from_automerge(doc),
            None => CaseloadDoc::new_shared(team),
        };
        let Ok(mut index) = index else { continue };
        let written = match write {
            SharedWrite::List { .. } => index.list_shared(editor, id, kind, heads.to_vec()),
            SharedWrite::Unlist { .. } => index.unlist_shared(editor, &id),
        };
        let written = matches!(written, Ok(true));
        if written {
            changed.push(index_id);
        }
        if written || existed {
            docs.insert(index_id, index.into_doc());
        }
    }
    changed
}

/// A write to one team's shared index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedWrite {
    /// List the record (or bring its heads up to date) in `team`'s shared index.
    List { team: String },
    /// Mark the record no longer shared in `team`'s shared index.
    Unlist { team: String },
}

/// What a change of a record from `before` (`None`: new, or not a record) to `after`
/// writes to the shared indices. A shared record is listed in its team's shared index
/// at every change (its heads move); one that left for another team while shared is
/// unlisted from the old team's. One that is not shared is unlisted from its team's at
/// every change: a no-op when it is not listed, and it mends a shared index that missed
/// a withdrawal (a relay stopped between storing the record and the index).
pub fn shared_writes(before: Option<&Sharing>, after: &Sharing) -> Vec<SharedWrite> {
    let mut writes = Vec::new();
    if let Some(before) = before
        && before.shared
        && before.team != after.team
    {
        writes.push(SharedWrite::Unlist {
            team: before.team.clone(),
        });
    }
    writes.push(if after.shared {
        SharedWrite::List {
            team: after.team.clone(),
        }
    } else {
        SharedWrite::Unlist {
            team: after.team.clone(),
        }
    });
    writes
}

impl CaseloadDoc {
    /// The shared index's document id for `team` (derived, like the team's index).
    pub fn shared_id_for_team(team: &str) -> DocumentId {
        DocumentId::derived("paktum-shared-index", team)
    }

    /// A team's empty shared index: a deterministic first change (actor = its id), so a
    /// relay that rebuilds it starts from the same root.
    pub fn new_shared(team: &str) -> Result<Self, ModelError> {
        Self::genesis(team, Self::shared_id_for_team)
    }

    /// Lists a shared record with its kind and heads only; false if the row said so.
    pub fn list_shared(
        &mut self,
        editor: &Editor,
        id: DocumentId,
        kind: Kind,
        heads: Vec<ChangeHash>,
    ) -> Result<bool, ModelError> {
        self.list_shared_rows(editor, vec![(id, kind, heads)])
    }

    /// Lists several shared records in one change (the relay's start-up pass); false
    /// if every row said so already.
    pub fn list_shared_rows(
        &mut self,
        editor: &Editor,
        rows: Vec<(DocumentId, Kind, Vec<ChangeHash>)>,
    ) -> Result<bool, ModelError> {
        let rows: Vec<_> = rows
            .into_iter()
            .map(|(id, kind, heads)| {
                let row = Summary {
                    kind,
                    name: String::new(),
                    status: None,
                    worker: String::new(),
                    next_follow_up: None,
                    follow_up_by: None,
                    updated_at: 0,
                };
                (id, row, Some(heads))
            })
            .collect();
        self.upsert(editor, &rows)
    }

    /// Replaces a record's row by an `unshared` row; false if there is none to replace
    /// (never listed) or it already is one.
    pub fn unlist_shared(&mut self, editor: &Editor, id: &DocumentId) -> Result<bool, ModelError> {
        match Self::row_kind(&self.doc, id).as_deref() {
            None | Some(UNSHARED) => return Ok(false),
            Some(_) => {}
        }
        let (mut tx, records) = self.rows_tx(editor)?;
        let row = tx.put_object(&records, id.to_string().as_str(), ObjType::Map)?;
        tx.put(&row, "kind", UNSHARED)?;
        tx.commit_with(record::commit_options(editor, "index: no longer shared"));
        Ok(true)
    }

    /// The records this shared index lists as no longer shared.
    pub fn unshared_of(doc: &Automerge) -> Vec<DocumentId> {
        Self::tombstones(doc, UNSHARED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{Channel, ConsentScope, ContactDoc, NewContact};
    use automerge::ActorId;
    use proptest::prelude::*;

    fn sharing(team: u8, shared: bool) -> Sharing {
        Sharing {
            team: format!("t{team}"),
            shared,
        }
    }

    proptest! {
        /// A record ends listed exactly where it is shared, and unlisted from its
        /// team when not shared and from a team it left while shared.
        #[test]
        fn a_record_is_listed_exactly_where_it_is_shared(
            before in proptest::option::of((0u8..3, any::<bool>())),
            after in (0u8..3, any::<bool>()),
        ) {
            let before = before.map(|(t, s)| sharing(t, s));
            let after = sharing(after.0, after.1);
            let writes = shared_writes(before.as_ref(), &after);
            let listed: Vec<&String> = writes.iter().filter_map(|w| match w {
                SharedWrite::List { team } => Some(team),
                SharedWrite::Unlist { .. } => None,
            }).collect();
            let unlisted: Vec<&String> = writes.iter().filter_map(|w| match w {
                SharedWrite::Unlist { team } => Some(team),
                SharedWrite::List { .. } => None,
            }).collect();
            prop_assert_eq!(listed.len(), usize::from(after.shared));
            if after.shared {
                prop_assert_eq!(listed[0], &after.team);
            }
            let mut should_unlist: Vec<&String> = before
                .iter()
                .filter(|b| b.shared && b.team != after.team)
                .map(|b| &b.team)
                .collect();
            if !after.shared {
                should_unlist.push(&after.team);
            }
            prop_assert_eq!(&unlisted, &should_unlist);
            // Never listed and unlisted in one team by the same change.
            prop_assert!(!unlisted.iter().any(|u| listed.contains(u)));
        }
    }

    #[test]
    fn the_shared_index_holds_no_name_and_a_withdrawn_row_becomes_unshared() {
        let ed = Editor::new(ActorId::random(), "Anna", 10);
        let mut contact = ContactDoc::create(
            &ed,
            NewContact {
                team: "kempen".into(),
                display_name: "Zephyrine".into(),
                first_contact_on: "2026-11-01".parse().expect("day"),
                channel: Channel::School,
                place: None,
                assigned_worker: None,
            },
        )
        .expect("contact");
        assert!(!shares_beyond_team(contact.record().doc()));
        contact
            .give_consent(&ed, "2026-11-02".parse().expect("day"), ConsentScope::Pact)
            .expect("consent");
        assert!(shares_beyond_team(contact.record().doc()));
        let id = contact.record().id();
        let relay = Editor::new(ActorId::random(), "relay", 20);
        let mut shared = CaseloadDoc::new_shared("kempen").expect("shared");
        assert_ne!(
            CaseloadDoc::shared_id_for_team("kempen"),
            CaseloadDoc::id_for_team("kempen")
        );
        assert!(
            !shared
                .unlist_shared(&relay, &id)
                .expect("nothing to unlist")
        );
        let heads = contact.record().heads();
        assert!(
            shared
                .list_shared(&relay, id, Kind::Contact, heads.clone())
                .expect("listed")
        );
        assert!(
            !shared
                .list_shared(&relay, id, Kind::Contact, heads.clone())
                .expect("again")
        );
        let row = shared.entry(&id).expect("row");
        assert_eq!(row.heads, vec![heads]);
        assert!(row.summary.name.is_empty());
        assert!(shared.unlist_shared(&relay, &id).expect("unlisted"));
        assert!(shared.entry(&id).is_none(), "no longer a record row");
        assert_eq!(CaseloadDoc::unshared_of(shared.doc()), vec![id]);
        let bytes = shared.save();
        assert!(
            !bytes.windows(9).any(|w| w == b"Zephyrine"),
            "no name anywhere in its history"
        );
    }
}
