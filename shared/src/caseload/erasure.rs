//! Erasure in the caseload index. Automerge keeps every change, so an index row once
//! written with a name keeps that name in the document's history. Erasing a record
//! therefore rewrites its team's index from scratch: the deterministic genesis, then
//! one change holding the current rows, the erased record's row replaced by a
//! tombstone (`kind: "erased"`, the day; no name, no worker, no heads). Devices drop
//! their old copy of the index and fetch the rewritten one (`protocol::Message::Erased`).
//!
//! The old history still lives on devices not yet told, and (with several relays) in
//! the memory of a relay that has not seen the erasure yet; merged back, it would
//! bring the erased row with it. So the rewrite names what it replaced: the root
//! `retired` map holds the hashes of the first changes of every history the index
//! replaced (each change whose only dependency is the genesis, or none; kept across
//! rewrites). Every change of an old history descends from one of them, and Automerge
//! applies a change only after its dependencies, so refusing these few hashes refuses
//! the whole old history: the relay checks each message against them
//! ([`CaseloadDoc::holds_retired`]) and purges what a store holds
//! ([`CaseloadDoc::without_retired`]). A history a device starts afresh from the
//! genesis (a replaced copy, a new device) is not retired.

use std::collections::HashSet;
use std::str::FromStr;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Automerge, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue, Value, ValueRef,
};

use super::CaseloadDoc;
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record;

/// The `kind` of a tombstone row: the record was erased.
pub const ERASED: &str = "erased";
/// The `kind` of a row left by a record handed to another team (no name either).
pub const MOVED: &str = "moved";
/// The root map (a set of change hashes in hex) of the histories a rewrite replaced.
pub const RETIRED: &str = "retired";

impl CaseloadDoc {
    /// The first changes of every history this index replaced (empty when it was never
    /// rewritten). Of concurrent values of the map, all of them.
    pub fn retired_of(doc: &Automerge) -> HashSet<ChangeHash> {
        let mut retired = HashSet::new();
        for (value, obj) in doc.get_all(ROOT, RETIRED).unwrap_or_default() {
            if value == Value::Object(ObjType::Map) {
                retired.extend(doc.keys(&obj).filter_map(|k| ChangeHash::from_str(&k).ok()));
            }
        }
        retired
    }

    /// Whether this index is a rewrite (it has the `retired` map, even an empty one).
    pub fn is_rewritten(doc: &Automerge) -> bool {
        record::obj_at(doc, &ROOT, RETIRED, ObjType::Map).is_some()
    }

    /// Whether `doc` holds one of `retired` (read before a message was taken in: the
    /// message's own changes must not decide what is retired). A few hash lookups,
    /// whatever the size of the index or of the message.
    pub fn holds_retired(doc: &Automerge, retired: &HashSet<ChangeHash>) -> bool {
        retired.iter().any(|h| doc.get_change_by_hash(h).is_some())
    }

    /// `doc` without its retired histories (every change that is or descends from a
    /// retired one), built from the changes that remain; `None` when it holds none.
    pub fn without_retired(doc: &Automerge) -> Option<Automerge> {
        let retired = Self::retired_of(doc);
        if !Self::holds_retired(doc, &retired) {
            return None;
        }
        let changes = doc.get_changes(&[]);
        let mut dropped: HashSet<ChangeHash> = HashSet::new();
        // Until nothing more is dropped: one pass when the changes come in causal
        // order, and correct in any order.
        loop {
            let before = dropped.len();
            for change in &changes {
                let hash = change.hash();
                if !dropped.contains(&hash)
                    && (retired.contains(&hash)
                        || change.deps().iter().any(|d| dropped.contains(d)))
                {
                    dropped.insert(hash);
                }
            }
            if dropped.len() == before {
                break;
            }
        }
        let kept: Vec<automerge::Change> = changes
            .into_iter()
            .filter(|c| !dropped.contains(&c.hash()))
            .collect();
        let mut clean = Automerge::new();
        clean.apply_changes(kept).ok()?;
        Some(clean)
    }

    /// The first changes of `old`'s history (those whose dependencies are at most the
    /// genesis `genesis`), with what `old` had retired already.
    fn retiring(old: &Automerge, genesis: &[ChangeHash]) -> HashSet<ChangeHash> {
        let mut retired = Self::retired_of(old);
        retired.extend(
            old.get_changes_meta(&[])
                .into_iter()
                .filter(|c| !genesis.contains(&c.hash))
                .filter(|c| c.deps.iter().all(|d| genesis.contains(d)))
                .map(|c| c.hash),
        );
        retired
    }
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
        let genesis = index.doc.get_heads();
        let mut retired: Vec<String> = old
            .map(|old| Self::retiring(old, &genesis))
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect();
        retired.sort();
        // A fresh actor each time: a second rewrite must not reuse the first one's
        // (actor, sequence number) pairs for different changes.
        index.doc.set_actor(ActorId::random());
        let mut tx = index.doc.transaction();
        let set = tx.put_object(ROOT, RETIRED, ObjType::Map)?;
        for hash in &retired {
            tx.put(&set, hash.as_str(), true)?;
        }
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

    /// The old history merged into a rewritten index is found by a few hash lookups
    /// and purged whole; a history started afresh from the genesis is kept; a second
    /// rewrite retires the first one's history too.
    #[test]
    fn the_old_history_of_a_rewritten_index_is_retired_and_a_fresh_one_is_not() {
        let editor = |worker: &str| Editor {
            actor: ActorId::random(),
            worker: worker.into(),
            now_ms: 1,
        };
        let row = crate::testing::contact_row;
        let (gone, kept) = (DocumentId::random(), DocumentId::random());
        // Two phones started the team offline: two first changes on the genesis.
        let mut anna = CaseloadDoc::new("kempen").expect("index");
        anna.upsert(&editor("Anna"), &[(gone, row("Qzxwvkjyrtpl"), None)])
            .expect("row");
        let mut bram = CaseloadDoc::new("kempen").expect("index");
        bram.upsert(&editor("Bram"), &[(kept, row("Bram"), None)])
            .expect("row");
        anna.doc_mut().merge(bram.doc_mut()).expect("merge");
        anna.upsert(&editor("Anna"), &[(kept, row("Bram B."), None)])
            .expect("later");
        let old = anna.doc().clone();
        let rewritten =
            CaseloadDoc::rewritten("kempen", Some(&old), gone, "2026-12-02", 9).expect("rewritten");
        let retired = CaseloadDoc::retired_of(rewritten.doc());
        assert_eq!(retired.len(), 2, "the two first changes: {retired:?}");
        assert!(CaseloadDoc::is_rewritten(rewritten.doc()));
        assert!(!CaseloadDoc::is_rewritten(&old));
        assert!(!CaseloadDoc::holds_retired(rewritten.doc(), &retired));
        assert_eq!(
            CaseloadDoc::without_retired(rewritten.doc()).map(|_| ()),
            None
        );

        // A phone not yet told merges its old copy in: caught, and purged whole.
        let mut merged = rewritten.doc().clone();
        merged.merge(&mut old.clone()).expect("merge");
        assert!(CaseloadDoc::holds_retired(&merged, &retired));
        let has_name = |doc: &Automerge| doc.save().windows(12).any(|w| w == b"Qzxwvkjyrtpl");
        assert!(has_name(&merged), "the old history names it");
        let clean = CaseloadDoc::without_retired(&merged).expect("purged");
        assert_eq!(clean.get_heads(), rewritten.doc().get_heads());
        assert!(!has_name(&clean));

        // A phone that replaced its copy by the genesis and wrote before the rewrite
        // reached it: not retired, and kept by a purge.
        let mut fresh = CaseloadDoc::new("kempen").expect("genesis");
        fresh
            .upsert(
                &editor("Anna"),
                &[(DocumentId::random(), row("Mieke"), None)],
            )
            .expect("row");
        let mut with_fresh = rewritten.doc().clone();
        with_fresh.merge(fresh.doc_mut()).expect("merge");
        assert!(!CaseloadDoc::holds_retired(&with_fresh, &retired));
        with_fresh.merge(&mut old.clone()).expect("merge");
        let clean = CaseloadDoc::without_retired(&with_fresh).expect("purged");
        let mut expected = with_fresh.get_heads();
        expected.retain(|h| {
            rewritten.doc().get_change_by_hash(h).is_some()
                || fresh.doc().get_change_by_hash(h).is_some()
        });
        let mut heads = clean.get_heads();
        heads.sort();
        expected.sort();
        assert_eq!(heads, expected);

        // A second erasure retires the first rewrite's history and keeps the first set.
        let again = CaseloadDoc::rewritten("kempen", Some(&with_fresh), kept, "2026-12-03", 10)
            .expect("again");
        let second = CaseloadDoc::retired_of(again.doc());
        assert!(second.is_superset(&retired));
        let first_rewrite = rewritten.doc().get_heads();
        assert!(
            first_rewrite.iter().all(|h| second.contains(h)),
            "{second:?}"
        );
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
        let row = crate::testing::contact_row("Qzxwvkjyrtpl");
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
