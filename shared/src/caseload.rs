//! The caseload index: one document per team listing every record with the summary a
//! list needs and the heads each record had when last written, so a device finds the
//! records that changed without touching the others.

use std::str::FromStr;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, ScalarValueRef,
    ValueRef,
};

use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record::{self, Editor, Kind, SCHEMA_VERSION};

mod changed;
mod erasure;
mod shared;
mod worker;
pub use crate::summary::Summary;
pub use changed::{Changed, Refreshed};
pub use erasure::{ERASED, MOVED, RETIRED};
pub use shared::{
    SharedWrite, Sharing, UNSHARED, apply_shared_writes, shared_writes, shares_beyond_team,
};
pub use worker::{WorkerWrite, worker_writes};

// Here, not in `summary`: the one place that knows every record kind, so the kinds'
// modules depend on `summary` and nothing depends back on them.
impl Summary {
    /// The summary of any record document (contact or employer).
    pub fn of(record: &crate::record::RecordDoc) -> Result<Summary, ModelError> {
        match record.kind() {
            Kind::Contact => crate::contact::summary_of(record),
            Kind::Employer => Ok(crate::employer::read_employer(record)?.summary()),
            Kind::Caseload => Err(ModelError::WrongKind {
                expected: "record",
                found: "caseload".into(),
            }),
        }
    }
}

/// One row of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: DocumentId,
    pub summary: Summary,
    /// The record's heads as written by each concurrent writer (usually one).
    pub heads: Vec<Vec<ChangeHash>>,
}

impl Entry {
    /// Whether a local copy (known by its `has_change` lookup) lacks a change the
    /// index knows of, so the record must be pulled from the relay.
    pub fn is_ahead_of(&self, has_change: impl Fn(&ChangeHash) -> bool) -> bool {
        self.heads.iter().flatten().any(|h| !has_change(h))
    }
}

/// A team's caseload index document.
#[derive(Clone, Debug)]
pub struct CaseloadDoc {
    team: String,
    doc: Automerge,
}

impl CaseloadDoc {
    /// The index's document id: derived from the team name, so every device of the team
    /// finds the same document without asking anyone.
    pub fn id_for_team(team: &str) -> DocumentId {
        DocumentId::derived("paktum-caseload", team)
    }

    /// A new, empty index. Its first change is deterministic (fixed actor and time), so
    /// two devices that start the same team offline create byte-identical roots and
    /// their later edits land in the same `records` map.
    pub fn new(team: &str) -> Result<Self, ModelError> {
        Self::genesis(team, Self::id_for_team)
    }

    /// An empty index of `team` whose first change's actor is the id `id_of` derives
    /// from the team, at time 0: the same bytes wherever it is made.
    pub(crate) fn genesis(team: &str, id_of: fn(&str) -> DocumentId) -> Result<Self, ModelError> {
        let team = record::required("team", team)?;
        let actor = ActorId::from(id_of(&team).as_bytes().as_slice());
        let mut doc = Automerge::new().with_actor(actor);
        let mut tx = doc.transaction();
        tx.put(ROOT, "schema", SCHEMA_VERSION)?;
        tx.put(ROOT, "kind", Kind::Caseload.as_str())?;
        tx.put(ROOT, "team", team.as_str())?;
        tx.put_object(ROOT, "records", ObjType::Map)?;
        tx.commit_with(CommitOptions::default().with_time(0));
        Ok(Self { team, doc })
    }

    pub fn load(bytes: &[u8]) -> Result<Self, ModelError> {
        let doc = crate::untrusted::load(bytes).map_err(ModelError::Corrupt)?;
        Self::from_automerge(doc)
    }

    pub fn from_automerge(doc: Automerge) -> Result<Self, ModelError> {
        let team = Self::check(&doc)?;
        Ok(Self { team, doc })
    }

    /// Whether `doc` is an index this version reads; its team if so. Lets a holder
    /// check a document before handing it over by value (the index is too big to clone
    /// on every edit).
    pub fn check(doc: &Automerge) -> Result<String, ModelError> {
        let kind = record::str_at(doc, &ROOT, "kind");
        if kind.as_deref() != Some(Kind::Caseload.as_str()) {
            return Err(ModelError::WrongKind {
                expected: "caseload",
                found: kind.unwrap_or_default(),
            });
        }
        let schema = record::i64_at(doc, &ROOT, "schema").unwrap_or(0);
        if schema > SCHEMA_VERSION {
            return Err(ModelError::NewerSchema(schema as u64));
        }
        record::str_at(doc, &ROOT, "team")
            .ok_or_else(|| ModelError::Corrupt("index without team".into()))
    }

    pub fn team(&self) -> &str {
        &self.team
    }

    pub fn id(&self) -> DocumentId {
        Self::id_for_team(&self.team)
    }

    pub fn doc(&self) -> &Automerge {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    pub fn into_doc(self) -> Automerge {
        self.doc
    }

    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    fn records(&self) -> Option<ObjId> {
        record::obj_at(&self.doc, &ROOT, "records", ObjType::Map)
    }

    /// Writes the rows of records that were created or changed, in one change.
    /// Only fields that differ are written, so re-reconciling a row is free.
    /// Returns whether anything was written.
    /// `heads: None` leaves a row's heads as they are (used when only re-reconciling a
    /// summary after a merge, so devices that merged the same changes agree).
    pub fn upsert(
        &mut self,
        editor: &Editor,
        rows: &[(DocumentId, Summary, Option<Vec<ChangeHash>>)],
    ) -> Result<bool, ModelError> {
        let (mut tx, records) = self.rows_tx(editor)?;
        for (id, summary, heads) in rows {
            let key = id.to_string();
            let row = record::map_at_tx(&mut tx, &records, &key)?;
            let heads = heads.as_ref().map(|heads| {
                let mut heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
                heads.sort();
                heads.join(",")
            });
            let fields: [(&str, Option<ScalarValue>); 8] = [
                ("kind", Some(summary.kind.as_str().into())),
                ("name", Some(summary.name.as_str().into())),
                ("status", summary.status.as_deref().map(Into::into)),
                ("worker", Some(summary.worker.as_str().into())),
                (
                    "next_follow_up",
                    summary.next_follow_up.map(|d| d.to_string().into()),
                ),
                (
                    "follow_up_by",
                    summary.follow_up_by.as_deref().map(Into::into),
                ),
                (
                    "updated_at",
                    Some(ScalarValue::Timestamp(summary.updated_at)),
                ),
                ("heads", heads.map(Into::into)),
            ];
            for (field, value) in fields {
                if field == "heads" && value.is_none() {
                    continue;
                }
                let current = tx.get_all(&row, field)?;
                // Identical concurrent values count as the same: two devices that merged
                // the same changes write the same summary, and must not ping-pong.
                let same = match &value {
                    None => current.is_empty(),
                    Some(v) => !current.is_empty()
                        && current.iter().all(
                            |(c, _)| matches!(c, automerge::Value::Scalar(c) if c.as_ref() == v),
                        ),
                };
                if same {
                    continue;
                }
                match value {
                    Some(v) => tx.put(&row, field, v)?,
                    None => {
                        if !current.is_empty() {
                            tx.delete(&row, field)?;
                        }
                    }
                }
            }
        }
        if tx.pending_ops() == 0 {
            tx.rollback();
            return Ok(false);
        }
        tx.commit_with(record::commit_options(
            editor,
            &format!("index: {} rows", rows.len()),
        ));
        Ok(true)
    }

    /// A transaction on the index as `editor`, with the map of rows (made if missing).
    fn rows_tx(&mut self, editor: &Editor) -> Result<(Transaction<'_>, ObjId), ModelError> {
        if self.doc.get_actor() != &editor.actor {
            self.doc.set_actor(editor.actor.clone());
        }
        let mut tx = self.doc.transaction();
        let records = match record::obj_at_tx(&tx, &ROOT, "records", ObjType::Map) {
            Some(r) => r,
            None => tx.put_object(ROOT, "records", ObjType::Map)?,
        };
        Ok((tx, records))
    }

    pub fn entry(&self, id: &DocumentId) -> Option<Entry> {
        let records = self.records()?;
        let row = record::obj_at(&self.doc, &records, &id.to_string(), ObjType::Map)?;
        Self::read_row(&self.doc, *id, &row)
    }

    /// Every row, in no particular order.
    pub fn entries(&self) -> Vec<Entry> {
        Self::rows(&self.doc)
    }

    /// The rows of an index document held elsewhere, without taking it over (a
    /// device checks them on every change of the index; cloning 10,000 rows each
    /// time cost more than reading them).
    pub fn entries_of(doc: &Automerge) -> Result<Vec<Entry>, ModelError> {
        Self::check(doc)?;
        Ok(Self::rows(doc))
    }

    fn rows(doc: &Automerge) -> Vec<Entry> {
        let Some(records) = record::obj_at(doc, &ROOT, "records", ObjType::Map) else {
            return Vec::new();
        };
        record::child_maps(doc, &records)
            .into_iter()
            .filter_map(|(key, row)| Self::read_row(doc, DocumentId::from_str(&key).ok()?, &row))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.records().map(|r| self.doc.length(&r)).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads a row in one pass over its keys (start-up reads 10,000 of them; a lookup
    /// per field was most of the time to first paint).
    fn read_row(doc: &Automerge, id: DocumentId, row: &ObjId) -> Option<Entry> {
        let (mut kind, mut name, mut status, mut worker) = (None, None, None, None);
        let (mut follow_up, mut updated_at, mut heads) = (None, 0, Vec::new());
        let mut follow_up_by = None;
        for item in doc.map_range(row, ..) {
            let text = || match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(s)) => Some(s.to_string()),
                ValueRef::Object(ObjType::Text) => doc.text(item.id()).ok(),
                _ => None,
            };
            match item.key.as_ref() {
                "kind" => kind = text(),
                "name" => name = text(),
                "status" => status = text().filter(|s| !s.is_empty()),
                "worker" => worker = text(),
                "next_follow_up" => follow_up = text().and_then(|d| d.parse().ok()),
                "follow_up_by" => follow_up_by = text(),
                "updated_at" => {
                    updated_at = match &item.value {
                        ValueRef::Scalar(ScalarValueRef::Int(n) | ScalarValueRef::Timestamp(n)) => {
                            *n
                        }
                        ValueRef::Scalar(ScalarValueRef::Uint(n)) => i64::try_from(*n).unwrap_or(0),
                        ValueRef::Scalar(ScalarValueRef::F64(f)) => *f as i64,
                        _ => 0,
                    }
                }
                "heads" => heads = Self::row_heads(doc, row),
                _ => {}
            }
        }
        Some(Entry {
            id,
            summary: Summary {
                kind: Kind::parse(&kind?)?,
                name: name.unwrap_or_default(),
                status,
                worker: worker.unwrap_or_default(),
                next_follow_up: follow_up,
                follow_up_by,
                updated_at,
            },
            heads,
        })
    }

    /// Every concurrent value of a row's `heads`, each a list of change hashes.
    fn row_heads(doc: &Automerge, row: &ObjId) -> Vec<Vec<ChangeHash>> {
        record::all_values(doc, row, "heads")
            .into_iter()
            .filter_map(|v| match v {
                automerge::Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(s) => Some(
                        s.split(',')
                            .filter(|h| !h.is_empty())
                            .filter_map(|h| ChangeHash::from_str(h).ok())
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str) -> Summary {
        Summary {
            kind: Kind::Contact,
            name: name.into(),
            status: Some("new".into()),
            worker: "Anna".into(),
            next_follow_up: None,
            follow_up_by: None,
            updated_at: 1,
        }
    }

    #[test]
    fn two_devices_starting_offline_share_one_index() {
        let mut a = CaseloadDoc::new("kempen").expect("index");
        let mut b = CaseloadDoc::new("kempen").expect("index");
        assert_eq!(
            a.doc.get_heads(),
            b.doc.get_heads(),
            "genesis is deterministic"
        );
        let ea = Editor::new(ActorId::random(), "Anna", 10);
        let eb = Editor::new(ActorId::random(), "Bram", 11);
        let (ra, rb) = (DocumentId::random(), DocumentId::random());
        a.upsert(&ea, &[(ra, summary("Lotte"), Some(vec![]))])
            .expect("upsert");
        b.upsert(&eb, &[(rb, summary("Milan"), Some(vec![]))])
            .expect("upsert");
        a.doc.merge(&mut b.doc).expect("merge");
        let mut names: Vec<_> = a.entries().into_iter().map(|e| e.summary.name).collect();
        names.sort();
        assert_eq!(names, ["Lotte", "Milan"]);
    }

    #[test]
    fn upsert_writes_only_what_changed() {
        let mut index = CaseloadDoc::new("worms").expect("index");
        let ed = Editor::new(ActorId::random(), "Anna", 10);
        let id = DocumentId::random();
        assert!(
            index
                .upsert(&ed, &[(id, summary("Lotte"), Some(vec![]))])
                .expect("first")
        );
        assert!(
            !index
                .upsert(&ed, &[(id, summary("Lotte"), Some(vec![]))])
                .expect("again")
        );
        assert_eq!(
            index.entry(&id).map(|e| e.summary.name),
            Some("Lotte".into())
        );
    }

    #[test]
    fn an_index_tells_which_records_a_device_lacks() {
        let ed = Editor::new(ActorId::random(), "Anna", 10);
        let mut record = crate::contact::ContactDoc::create(
            &ed,
            crate::contact::NewContact {
                team: "worms".into(),
                display_name: "Lotte".into(),
                first_contact_on: "2026-11-01".parse().expect("day"),
                channel: crate::contact::Channel::School,
                place: None,
                assigned_worker: None,
            },
        )
        .expect("contact");
        let stale = record.record().doc().clone();
        record
            .change_status(&ed, crate::contact::Status::Engaged, None)
            .expect("status");
        let mut index = CaseloadDoc::new("worms").expect("index");
        let summary = record.read().expect("read").summary();
        index
            .upsert(
                &ed,
                &[(record.record().id(), summary, Some(record.record().heads()))],
            )
            .expect("upsert");
        let entry = index.entry(&record.record().id()).expect("row");
        assert!(entry.is_ahead_of(|h| stale.get_change_by_hash(h).is_some()));
        assert!(!entry.is_ahead_of(|h| record.record().doc().get_change_by_hash(h).is_some()));
    }

    #[test]
    fn a_record_is_not_an_index() {
        assert!(CaseloadDoc::load(b"nonsense").is_err());
    }
}
