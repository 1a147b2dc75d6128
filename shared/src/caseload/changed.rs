//! Which rows of an index changed since it was last read: the one answer the device's
//! lists, its sync plan and its tombstone check share, so that taking in an index
//! change costs the rows it touched, not the team's whole caseload (reading 10,000
//! rows took a quarter of a second; finding the 5 changed ones takes a tenth of a
//! millisecond). The answer comes from the changes themselves: every op a change
//! since `since` holds names the row it writes (an op on the `records` map names
//! the row's key; an op inside a row names the row by its parent).

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use automerge::legacy::{Key, ObjectId};
use automerge::{Automerge, ChangeHash, ObjId, ObjType, Prop, ROOT, ReadDoc};

use super::{CaseloadDoc, Entry};
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record;

/// The rows an index's changes since some earlier heads may have changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// Only these rows can differ (written, replaced, made tombstones or removed);
    /// every other row reads as it did at the earlier heads.
    Rows(BTreeSet<DocumentId>),
    /// Anything may differ: read every row (no earlier heads, heads this document
    /// does not hold — an index replaced after an erasure —, or the map of rows
    /// itself written).
    All,
}

/// What [`CaseloadDoc::refresh_rows`] did to the rows it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// Nothing changed.
    Nothing,
    /// These rows were read again (each now in the map, or gone from it).
    Rows(BTreeSet<DocumentId>),
    /// Every row was read again.
    All,
}

impl CaseloadDoc {
    /// The rows `doc` (an index) may have changed since it stood at `since`.
    pub fn changed_since(doc: &Automerge, since: Option<&[ChangeHash]>) -> Changed {
        let Some(since) = since.filter(|s| !s.is_empty()) else {
            return Changed::All;
        };
        if !doc.get_missing_deps(since).is_empty() {
            return Changed::All;
        }
        let Some(records) = record::obj_at(doc, &ROOT, "records", ObjType::Map) else {
            return Changed::All;
        };
        let mut rows = BTreeSet::new();
        // What each object written to is, by its id as the change names it.
        let mut targets: HashMap<(u64, automerge::ActorId), Target> = HashMap::new();
        for change in doc.get_changes(since) {
            for op in change.decode().operations {
                let ObjectId::Id(obj) = op.obj else {
                    match &op.key {
                        // The map of rows itself replaced or removed.
                        Key::Map(key) if key.as_str() == "records" => return Changed::All,
                        _ => continue,
                    }
                };
                let target = match targets.get(&(obj.0, obj.1.clone())) {
                    Some(target) => target.clone(),
                    None => {
                        let Ok(id) = doc.import_obj(&format!("{}@{}", obj.0, obj.1)) else {
                            // An object this document does not know: trust nothing.
                            return Changed::All;
                        };
                        let target = if id == records {
                            Target::Records
                        } else {
                            Target::Row(row_holding(doc, &records, &id))
                        };
                        targets.insert((obj.0, obj.1), target.clone());
                        target
                    }
                };
                let row = match (target, &op.key) {
                    (Target::Records, Key::Map(key)) => DocumentId::from_str(key).ok(),
                    (Target::Row(row), _) => row,
                    (Target::Records, Key::Seq(_)) => None,
                };
                rows.extend(row);
            }
        }
        Changed::Rows(rows)
    }

    /// A row of an index document held elsewhere (`None`: no such row, or one that is
    /// not a record's, such as a tombstone).
    pub fn entry_in(doc: &Automerge, id: &DocumentId) -> Option<Entry> {
        let records = record::obj_at(doc, &ROOT, "records", ObjType::Map)?;
        let row = record::obj_at(doc, &records, &id.to_string(), ObjType::Map)?;
        Self::read_row(doc, *id, &row)
    }

    /// The `kind` of a row as written (a record kind, or [`super::ERASED`] /
    /// [`super::MOVED`] for a tombstone), without reading the rest of it.
    pub fn row_kind(doc: &Automerge, id: &DocumentId) -> Option<String> {
        let records = record::obj_at(doc, &ROOT, "records", ObjType::Map)?;
        let row = record::obj_at(doc, &records, &id.to_string(), ObjType::Map)?;
        record::str_at(doc, &row, "kind")
    }

    /// Brings `rows`, read from `doc` when it stood at `heads`, in line with `doc` as
    /// it is now, reading only the rows that changed since (every row when `heads` is
    /// `None` or not in `doc`'s history); `heads` becomes `doc`'s. The rows are
    /// exactly what [`CaseloadDoc::entries_of`] would read (tested).
    pub fn refresh_rows(
        doc: &Automerge,
        rows: &mut HashMap<DocumentId, Entry>,
        heads: &mut Option<Vec<ChangeHash>>,
    ) -> Result<Refreshed, ModelError> {
        Self::check(doc)?;
        let now = doc.get_heads();
        if heads.as_deref() == Some(now.as_slice()) {
            return Ok(Refreshed::Nothing);
        }
        let refreshed = match Self::changed_since(doc, heads.as_deref()) {
            Changed::All => {
                *rows = Self::rows(doc).into_iter().map(|e| (e.id, e)).collect();
                Refreshed::All
            }
            Changed::Rows(ids) => {
                for id in &ids {
                    match Self::entry_in(doc, id) {
                        Some(entry) => rows.insert(*id, entry),
                        None => rows.remove(id),
                    };
                }
                Refreshed::Rows(ids)
            }
        };
        *heads = Some(now);
        Ok(refreshed)
    }
}

/// What an op writes to: the map of rows (its key names the row), or an object inside
/// a row (`None`: an object outside every row).
#[derive(Clone)]
enum Target {
    Records,
    Row(Option<DocumentId>),
}

/// The row (a key of `records`) that object `obj` lies in, following its parents up.
fn row_holding(doc: &Automerge, records: &ObjId, obj: &ObjId) -> Option<DocumentId> {
    doc.parents(obj)
        .ok()?
        .find(|parent| parent.obj == *records)
        .and_then(|parent| match parent.prop {
            Prop::Map(key) => DocumentId::from_str(&key).ok(),
            Prop::Seq(_) => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caseload::Summary;
    use crate::record::{Editor, Kind};
    use automerge::ActorId;
    use automerge::transaction::Transactable;
    use proptest::prelude::*;

    /// One thing that happens to one of two copies of an index.
    #[derive(Clone, Debug)]
    enum Op {
        /// A device writes a row (`heads: None` leaves the row's heads as they are).
        Upsert {
            on_b: bool,
            row: usize,
            name: u8,
            status: Option<u8>,
            heads: Option<u8>,
        },
        /// A record handed to another team: its row becomes a `moved` row.
        Moved { on_b: bool, row: usize },
        /// A row removed outright (no device does this; an index must still read right).
        Removed { on_b: bool, row: usize },
        /// A row whose name is a text object (readers accept one), edited in place.
        TextName { on_b: bool, row: usize, text: u8 },
        /// The other copy's changes merged in (what a sync does).
        Merge { into_b: bool },
        /// The relay rewrote the index after an erasure (new history from the genesis).
        Erased { row: usize },
        /// The rows kept in step with copy A are refreshed and compared with a full read.
        Check,
    }

    fn op() -> impl Strategy<Value = Op> {
        let row = 0usize..6;
        prop_oneof![
            5 => (any::<bool>(), row.clone(), any::<u8>(), proptest::option::of(0u8..3), proptest::option::of(any::<u8>()))
                .prop_map(|(on_b, row, name, status, heads)| Op::Upsert { on_b, row, name, status, heads }),
            1 => (any::<bool>(), row.clone()).prop_map(|(on_b, row)| Op::Moved { on_b, row }),
            1 => (any::<bool>(), row.clone()).prop_map(|(on_b, row)| Op::Removed { on_b, row }),
            1 => (any::<bool>(), row.clone(), any::<u8>()).prop_map(|(on_b, row, text)| Op::TextName { on_b, row, text }),
            2 => any::<bool>().prop_map(|into_b| Op::Merge { into_b }),
            1 => row.prop_map(|row| Op::Erased { row }),
            3 => Just(Op::Check),
        ]
    }

    fn id(row: usize) -> DocumentId {
        DocumentId::derived("changed-rows-test", &row.to_string())
    }

    fn summary(name: u8, status: Option<u8>) -> Summary {
        Summary {
            kind: Kind::Contact,
            name: format!("Name {name}"),
            status: status.map(|s| ["new", "engaged", "closed"][usize::from(s)].to_string()),
            worker: "Anna".into(),
            next_follow_up: None,
            follow_up_by: None,
            updated_at: i64::from(name),
        }
    }

    fn records(doc: &Automerge) -> ObjId {
        record::obj_at(doc, &ROOT, "records", ObjType::Map).expect("records")
    }

    fn apply(index: &mut CaseloadDoc, editor: &Editor, op: &Op) {
        match op {
            Op::Upsert {
                row,
                name,
                status,
                heads,
                ..
            } => {
                let heads = heads.map(|h| vec![ChangeHash([h; 32])]);
                index
                    .upsert(editor, &[(id(*row), summary(*name, *status), heads)])
                    .expect("upsert");
            }
            Op::Moved { row, .. } => {
                index.mark_moved(editor, &id(*row)).expect("moved");
            }
            Op::Removed { row, .. } => {
                let records = records(index.doc());
                let doc = index.doc_mut();
                doc.set_actor(editor.actor.clone());
                let mut tx = doc.transaction();
                if tx
                    .get(&records, id(*row).to_string())
                    .ok()
                    .flatten()
                    .is_some()
                {
                    tx.delete(&records, id(*row).to_string()).expect("delete");
                }
                tx.commit();
            }
            Op::TextName { row, text, .. } => {
                let records = records(index.doc());
                let doc = index.doc_mut();
                doc.set_actor(editor.actor.clone());
                let mut tx = doc.transaction();
                let Some((automerge::Value::Object(ObjType::Map), row)) =
                    tx.get(&records, id(*row).to_string()).expect("get")
                else {
                    return;
                };
                let name = match tx.get(&row, "name").expect("name") {
                    Some((automerge::Value::Object(ObjType::Text), name)) => name,
                    _ => tx.put_object(&row, "name", ObjType::Text).expect("text"),
                };
                tx.splice_text(&name, 0, 0, &format!("{text} "))
                    .expect("splice");
                tx.commit();
            }
            Op::Merge { .. } | Op::Erased { .. } | Op::Check => unreachable!("not an edit"),
        }
    }

    /// The rows read again only where they changed equal a full read, whatever the
    /// changes: edits on either copy, merges (concurrent values), `moved` rows, rows
    /// removed, text objects inside rows, and an index rewritten after an erasure.
    fn run(ops: &[Op]) -> Result<(usize, usize), TestCaseError> {
        let mut a = CaseloadDoc::new("kempen").expect("index");
        let mut b = CaseloadDoc::new("kempen").expect("index");
        let (ea, eb) = (
            Editor::new(ActorId::random(), "Anna", 1),
            Editor::new(ActorId::random(), "Bram", 2),
        );
        let (mut rows, mut heads) = (HashMap::new(), None);
        let (mut partial, mut checks) = (0, 0);
        for (n, op) in ops.iter().enumerate() {
            match op {
                Op::Upsert { on_b, .. }
                | Op::Moved { on_b, .. }
                | Op::Removed { on_b, .. }
                | Op::TextName { on_b, .. } => {
                    let (index, editor) = if *on_b { (&mut b, &eb) } else { (&mut a, &ea) };
                    apply(index, &editor.at(n as i64), op);
                }
                Op::Merge { into_b } => {
                    let (to, from) = if *into_b {
                        (&mut b, &mut a)
                    } else {
                        (&mut a, &mut b)
                    };
                    to.doc_mut().merge(from.doc_mut()).expect("merge");
                }
                Op::Erased { row } => {
                    let old = a.doc_mut();
                    old.merge(b.doc_mut()).expect("merge");
                    a = CaseloadDoc::rewritten("kempen", Some(a.doc()), id(*row), "2026-12-02", 9)
                        .expect("rewritten");
                    b = CaseloadDoc::new("kempen").expect("genesis");
                    b.doc_mut().merge(a.doc_mut()).expect("merge");
                }
                Op::Check => {
                    checks += 1;
                    let refreshed = CaseloadDoc::refresh_rows(a.doc(), &mut rows, &mut heads)
                        .expect("an index");
                    if matches!(refreshed, Refreshed::Rows(_)) {
                        partial += 1;
                    }
                    let full: HashMap<DocumentId, Entry> = CaseloadDoc::entries_of(a.doc())
                        .expect("an index")
                        .into_iter()
                        .map(|e| (e.id, e))
                        .collect();
                    prop_assert_eq!(&rows, &full, "after {:?}", &ops[..=n]);
                    prop_assert_eq!(heads.clone(), Some(a.doc().get_heads()));
                }
            }
        }
        Ok((partial, checks))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn rows_read_again_where_they_changed_equal_a_full_read(ops in proptest::collection::vec(op(), 1..40)) {
            run(&ops)?;
        }
    }

    #[test]
    fn only_the_rows_a_change_wrote_are_named() {
        let mut index = CaseloadDoc::new("kempen").expect("index");
        let editor = Editor::new(ActorId::random(), "Anna", 1);
        for row in 0..20 {
            apply(
                &mut index,
                &editor,
                &Op::Upsert {
                    on_b: false,
                    row,
                    name: 1,
                    status: None,
                    heads: Some(1),
                },
            );
        }
        let since = index.doc().get_heads();
        apply(
            &mut index,
            &editor,
            &Op::Upsert {
                on_b: false,
                row: 3,
                name: 2,
                status: None,
                heads: Some(2),
            },
        );
        apply(
            &mut index,
            &editor,
            &Op::Moved {
                on_b: false,
                row: 7,
            },
        );
        apply(
            &mut index,
            &editor,
            &Op::TextName {
                on_b: false,
                row: 9,
                text: 4,
            },
        );
        assert_eq!(
            CaseloadDoc::changed_since(index.doc(), Some(&since)),
            Changed::Rows([id(3), id(7), id(9)].into_iter().collect())
        );
        assert_eq!(
            CaseloadDoc::changed_since(index.doc(), Some(&index.doc().get_heads())),
            Changed::Rows(BTreeSet::new())
        );
        assert_eq!(CaseloadDoc::changed_since(index.doc(), None), Changed::All);
        let elsewhere = CaseloadDoc::new("worms").expect("index");
        assert_eq!(
            CaseloadDoc::changed_since(index.doc(), Some(&elsewhere.doc().get_heads())),
            Changed::All,
            "heads of another history"
        );
    }

    #[test]
    fn the_model_test_sees_partial_reads() {
        // The property above must exercise the partial path, not only full reads.
        let ops = [
            Op::Upsert {
                on_b: false,
                row: 1,
                name: 1,
                status: None,
                heads: Some(1),
            },
            Op::Check,
            Op::Upsert {
                on_b: true,
                row: 2,
                name: 2,
                status: Some(1),
                heads: None,
            },
            Op::Merge { into_b: false },
            Op::Check,
            Op::Removed {
                on_b: false,
                row: 1,
            },
            Op::Check,
        ];
        let (partial, checks) = run(&ops).expect("rows equal");
        assert_eq!((partial, checks), (2, 3));
    }
}
