//! Handing a contact to another team. Each move is kept (`team_moves`), so figures
//! per team can count an event for the team that held the record when it happened.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};

use super::ContactDoc;
use crate::error::ModelError;
use crate::record::{self, Editor, RecordDoc};

/// One hand-over from a team to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMove {
    pub from: String,
    pub to: String,
    pub by: String,
    pub at_ms: i64,
}

impl ContactDoc {
    /// Sets the team and, when it changes, appends the move to `team_moves`.
    pub(super) fn move_to_team(&mut self, editor: &Editor, to: String) -> Result<(), ModelError> {
        let from = record::str_at(self.0.doc(), &ROOT, "team").unwrap_or_default();
        let by = editor.worker.clone();
        self.0.change(editor, "team", |tx| {
            tx.put(ROOT, "team", to.as_str())?;
            if from == to {
                return Ok(());
            }
            let moves = match record::obj_at_tx(tx, &ROOT, "team_moves", ObjType::List) {
                Some(m) => m,
                None => tx.put_object(ROOT, "team_moves", ObjType::List)?,
            };
            let len = tx.length(&moves);
            let entry = tx.insert_object(&moves, len, ObjType::Map)?;
            tx.put(&entry, "from", from.as_str())?;
            tx.put(&entry, "to", to.as_str())?;
            tx.put(&entry, "by", by)?;
            tx.put(&entry, "at", ScalarValue::Timestamp(editor.now_ms))?;
            Ok(())
        })
    }
}

/// The moves of a record, oldest first.
pub(super) fn moves_of(record: &RecordDoc) -> Vec<TeamMove> {
    let doc = record.doc();
    let mut moves: Vec<TeamMove> = record::obj_at(doc, &ROOT, "team_moves", ObjType::List)
        .map(|list| {
            doc.list_range(&list, ..)
                .filter_map(|item| {
                    let m = item.id();
                    Some(TeamMove {
                        from: record::str_at(doc, &m, "from")?,
                        to: record::str_at(doc, &m, "to")?,
                        by: record::str_at(doc, &m, "by").unwrap_or_default(),
                        at_ms: record::i64_at(doc, &m, "at").unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    moves.sort_by_key(|m| m.at_ms);
    moves
}
