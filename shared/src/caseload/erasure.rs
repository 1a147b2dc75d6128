//! Erasure in the caseload index. Automerge keeps every change, so an index row once
//! written with a name keeps that name in the document's history. Erasing a record
//! therefore rewrites its team's index from scratch: the deterministic genesis, then
//! one change holding the current rows, the erased record's row replaced by a
//! tombstone (`kind: "erased"`, the day; no name, no worker, no heads). Devices drop
//! their old copy of the index and fetch the rewritten one (`protocol::Message::Erased`).

use std::str::FromStr;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc, ScalarValue, ValueRef};

use super::CaseloadDoc;
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record;

/// The `kind` of a tombstone row: the record was erased.
pub const ERASED: &str = "erased";
/// The `kind` of a row left by a record handed to another team (no name either).
pub const MOVED: &str = "moved";

impl CaseloadDoc {
    /// The records this index lists as erased (tombstone rows).
    pub fn erased_of(doc: &Automerge) -> Vec<DocumentId> {
        Self::tombstones(doc, ERASED)
    }

    /// The records handed from this team to another.
    pub fn moved_of(doc: &Automerge) -> Vec<DocumentId> {
        Self::tombstones(doc, MOVED)
    }

    pub(super) fn tombstones(doc: &Automerge, kind: &str) -> Vec<DocumentId> {
        let Some(records) = record::obj_at(doc, &ROOT, "records", ObjType::Map) else {
            return Vec::new();
        };
        record::child_maps(doc, &records)
            .into_iter()
            .filter(|(_, row)| record::str_at(doc, row, "kind").as_deref() == Some(kind))
            .filter_map(|(key, _)| DocumentId::from_str(&key).ok())
            .collect()
    }

    /// Replaces a record's row by a `moved` row (the record went to another team):
    /// the team's devices delete their copies when they see it. False if it was one.
    pub fn mark_moved(
        &mut self,
        editor: &record::Editor,
        id: &DocumentId,
    ) -> Result<bool, ModelError> {
        if Self::row_kind(&self.doc, id).as_deref() == Some(MOVED) {
            return Ok(false);
        }
        let (mut tx, records) = self.rows_tx(editor)?;
        let row = tx.put_object(&records, id.to_string().as_str(), ObjType::Map)?;
        tx.put(&row, "kind", MOVED)?;
        tx.commit_with(record::commit_options(
            editor,
            "index: handed to another team",
        ));
        Ok(true)
    }

    /// The index of `team` rewritten without history from `old` (the relay's copy),
    /// with `erased`'s row a tombstone dated `day` (`YYYY-MM-DD`). Rows keep their
    /// current values (of concurrent values, Automerge's winner; of concurrent
    /// `heads`, all of them, joined).
    pub fn rewritten(
        team: &str,
        old: Option<&Automerge>,
        erased: DocumentId,
        day: &str,
        now_ms: i64,
    ) -> Result<CaseloadDoc, ModelError> {
        Self::rewritten_from(CaseloadDoc::new(team)?, old, erased, day, now_ms)
    }

    /// `worker`'s own index in `team` rewritten the same way (see [`Self::rewritten`]),
    /// from its own genesis, so the worker's device syncs with it.
    pub fn rewritten_for_worker(
        team: &str,
        worker: &str,
        old: Option<&Automerge>,
        erased: DocumentId,
        day: &str,
        now_ms: i64,
    ) -> Result<CaseloadDoc, ModelError> {
        let genesis = CaseloadDoc::new_for_worker(team, worker)?;
        Self::rewritten_from(genesis, old, erased, day, now_ms)
    }

    fn rewritten_from(
        mut index: CaseloadDoc,
        old: Option<&Automerge>,
        erased: DocumentId,
        day: &str,
        now_ms: i64,
    ) -> Result<CaseloadDoc, ModelError> {
        // A fresh actor each time: a second rewrite must not reuse the first one's
        // (actor, sequence number) pairs for different changes.
        index.doc.set_actor(ActorId::random());
        let mut tx = index.doc.transaction();
        let records = record::obj_at_tx(&tx, &ROOT, "records", ObjType::Map)
            .ok_or_else(|| ModelError::Corrupt("index without records".into()))?;
        let old_records = old.and_then(|doc| record::obj_at(doc, &ROOT, "records", ObjType::Map));
        if let (Some(old), Some(old_records)) = (old, old_records) {
            for (key, row) in record::child_maps(old, &old_records) {
                if key == erased.to_string() {
                    continue;
                }
                let new_row = tx.put_object(&records, key.as_str(), ObjType::Map)?;
                for item in old.map_range(&row, ..) {
                    let value: Option<ScalarValue> = match &item.value {
                        _ if item.key == "heads" => {
                            let mut all: Vec<String> = record::all_values(old, &row, "heads")
                                .into_iter()
                                .filter_map(|v| match v {
                                    automerge::Value::Scalar(s) => match s.as_ref() {
                                        ScalarValue::Str(s) => Some(s.to_string()),
                                        _ => None,
                                    },
                                    _ => None,
                                })
                                .flat_map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>())
                                .filter(|h| !h.is_empty())
                                .collect();
                            all.sort();
                            all.dedup();
                            Some(all.join(",").into())
                        }
                        ValueRef::Scalar(s) => Some(s.to_owned().into()),
                        ValueRef::Object(ObjType::Text) => {
                            old.text(item.id()).ok().map(|t| t.as_str().into())
                        }
                        ValueRef::Object(_) => None,
                    };
                    if let Some(value) = value {
                        tx.put(&new_row, item.key.as_ref(), value)?;
                    }
                }
            }
        }
        let tombstone = tx.put_object(&records, erased.to_string().as_str(), ObjType::Map)?;
        tx.put(&tombstone, "kind", ERASED)?;
        tx.put(&tombstone, "erased_on", day)?;
        tx.commit_with(
            CommitOptions::default()
                .with_message("relay\tindex rewritten after an erasure")
                .with_time(now_ms),
        );
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caseload::Summary;
    use crate::record::{Editor, Kind};

    #[test]
    fn a_rewritten_index_keeps_the_other_rows_and_nothing_of_the_erased_one() {
        let editor = Editor {
            actor: ActorId::random(),
            worker: "Anna".into(),
            now_ms: 1,
        };
        let mut index = CaseloadDoc::new("kempen").expect("index");
        let (gone, kept) = (DocumentId::random(), DocumentId::random());
        let row = |name: &str| Summary {
            kind: Kind::Contact,
            name: name.into(),
            status: Some("new".into()),
            worker: "Anna".into(),
            next_follow_up: None,
            follow_up_by: None,
            updated_at: 5,
        };
        index
            .upsert(
                &editor,
                &[
                    (gone, row("Qzxwvkjyrtpl"), Some(vec![])),
                    (kept, row("Bram"), None),
                ],
            )
            .expect("rows");
        let has_name = |bytes: &[u8]| bytes.windows(12).any(|w| w == b"Qzxwvkjyrtpl");
        assert!(has_name(&index.save()), "the name is in the index before");
        let rewritten = CaseloadDoc::rewritten("kempen", Some(index.doc()), gone, "2026-12-02", 9)
            .expect("rewritten");
        let bytes = rewritten.save();
        assert!(
            !has_name(&bytes),
            "the erased name is gone from the saved bytes"
        );
        assert_eq!(rewritten.entry(&kept).map(|e| e.summary), Some(row("Bram")));
        assert_eq!(rewritten.entry(&gone), None, "a tombstone is no list row");
        assert_eq!(CaseloadDoc::erased_of(rewritten.doc()), vec![gone]);
        // It shares the genesis, so a fresh device's index syncs with it.
        let genesis = CaseloadDoc::new("kempen").expect("genesis");
        assert!(
            genesis
                .doc()
                .get_heads()
                .iter()
                .all(|h| rewritten.doc().get_change_by_hash(h).is_some())
        );
        // A second erasure keeps the first tombstone.
        let other = DocumentId::random();
        let again =
            CaseloadDoc::rewritten("kempen", Some(rewritten.doc()), other, "2026-12-03", 10)
                .expect("again");
        let mut erased = CaseloadDoc::erased_of(again.doc());
        erased.sort();
        let mut expected = vec![gone, other];
        expected.sort();
        assert_eq!(erased, expected);
    }

    #[test]
    fn a_workers_rewritten_index_starts_from_the_workers_genesis_and_stays_theirs() {
        let editor = Editor {
            actor: ActorId::random(),
            worker: "relay".into(),
            now_ms: 1,
        };
        let mut index = CaseloadDoc::new_for_worker("kempen", "Anna").expect("index");
        let gone = DocumentId::random();
        let row = Summary {
            kind: Kind::Contact,
            name: "Qzxwvkjyrtpl".into(),
            status: None,
            worker: "Anna".into(),
            next_follow_up: None,
            follow_up_by: None,
            updated_at: 5,
        };
        index
            .upsert(&editor, &[(gone, row, Some(vec![]))])
            .expect("row");
        index.mark_moved(&editor, &gone).expect("moved");
        let has_name = |bytes: &[u8]| bytes.windows(12).any(|w| w == b"Qzxwvkjyrtpl");
        assert!(has_name(&index.save()), "the moved row's history names it");
        let rewritten = CaseloadDoc::rewritten_for_worker(
            "kempen",
            "Anna",
            Some(index.doc()),
            gone,
            "2026-12-02",
            9,
        )
        .expect("rewritten");
        assert!(!has_name(&rewritten.save()));
        assert_eq!(CaseloadDoc::erased_of(rewritten.doc()), vec![gone]);
        assert_eq!(CaseloadDoc::moved_of(rewritten.doc()), vec![]);
        let id = CaseloadDoc::worker_id_for("kempen", "Anna");
        assert_eq!(
            CaseloadDoc::worker_index_of(&id, rewritten.doc()),
            Some(("kempen".into(), "Anna".into()))
        );
        let genesis = CaseloadDoc::new_for_worker("kempen", "Anna").expect("genesis");
        assert!(
            genesis
                .doc()
                .get_heads()
                .iter()
                .all(|h| rewritten.doc().get_change_by_hash(h).is_some())
        );
    }
}
