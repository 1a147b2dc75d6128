//! A plain copy of the caseload index's rows with the index heads it was read at, so
//! start-up can show the lists without loading the index document (which takes about a
//! second at 10,000 records). Only a cache: the index document stays the truth, and a
//! snapshot that does not decode, or whose heads differ, is dropped.
//!
//! Beside the rows it keeps what the device read of its records and would otherwise
//! lose on a reload ([`RecordReads`]): when the relay confirmed each record's latest
//! change ("on the relay since") and the folded text a search looks in. Each is kept
//! with the record's heads and used only while the record still has them. Snapshots
//! written before these were kept have none, and still load.

use crate::DocumentId;
use crate::caseload::{Entry, Summary};
use crate::record::Kind;
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

/// Bumped when the encoding changes; other versions read as no snapshot.
const FORMAT: u32 = 2;

/// The index rows as of the index heads `heads` (sorted), and what was read of the
/// records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexRows {
    pub heads: Vec<ChangeHash>,
    pub entries: Vec<Entry>,
    pub reads: Vec<RecordReads>,
}

/// What the device read of one record at its heads `heads`: when the relay was seen
/// holding that version (milliseconds), and the record's folded search text. Personal
/// data (names, phone numbers): it goes with the record on erasure, a move and a reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordReads {
    pub id: DocumentId,
    pub heads: Vec<ChangeHash>,
    pub on_relay: Option<i64>,
    pub search: Option<String>,
}

/// id, kind, name, status, worker, next follow-up, its author, updated at, heads per
/// writer.
type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
    Vec<Vec<String>>,
);

/// id, heads, on the relay since, search text.
type Read = (String, Vec<String>, Option<i64>, Option<String>);

#[derive(Serialize, Deserialize)]
struct Wire {
    format: u32,
    heads: Vec<String>,
    rows: Vec<Row>,
    /// Added within format 2: a snapshot written before has none.
    #[serde(default)]
    reads: Vec<Read>,
}

fn hex(hs: &[ChangeHash]) -> Vec<String> {
    let mut hs: Vec<String> = hs.iter().map(ToString::to_string).collect();
    hs.sort();
    hs
}

/// Encodes rows (in any order) read at the index heads `heads`, and what was read of
/// the records.
pub fn encode<'a>(
    heads: &[ChangeHash],
    entries: impl Iterator<Item = &'a Entry>,
    reads: impl Iterator<Item = RecordReads>,
) -> Vec<u8> {
    let rows = entries
        .map(|e| {
            let s = &e.summary;
            (
                e.id.to_string(),
                s.kind.as_str().to_string(),
                s.name.clone(),
                s.status.clone(),
                s.worker.clone(),
                s.next_follow_up.map(|d| d.to_string()),
                s.follow_up_by.clone(),
                s.updated_at,
                e.heads.iter().map(|h| hex(h)).collect(),
            )
        })
        .collect();
    let reads = reads
        .map(|r| (r.id.to_string(), hex(&r.heads), r.on_relay, r.search))
        .collect();
    let wire = Wire {
        format: FORMAT,
        heads: hex(heads),
        rows,
        reads,
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// Decodes a snapshot; `None` when any part of it is not what [`encode`] writes.
pub fn decode(bytes: &[u8]) -> Option<IndexRows> {
    let wire: Wire = serde_json::from_slice(bytes).ok()?;
    if wire.format != FORMAT {
        return None;
    }
    let hashes = |hs: Vec<String>| -> Option<Vec<ChangeHash>> {
        let mut hs = hs
            .iter()
            .map(|h| h.parse().ok())
            .collect::<Option<Vec<ChangeHash>>>()?;
        hs.sort();
        Some(hs)
    };
    let heads = hashes(wire.heads)?;
    let entries = wire
        .rows
        .into_iter()
        .map(
            |(id, kind, name, status, worker, next_follow_up, follow_up_by, updated_at, heads)| {
                Some(Entry {
                    id: id.parse().ok()?,
                    summary: Summary {
                        kind: Kind::parse(&kind)?,
                        name,
                        status,
                        worker,
                        next_follow_up: match next_follow_up {
                            Some(day) => Some(day.parse().ok()?),
                            None => None,
                        },
                        follow_up_by,
                        updated_at,
                    },
                    heads: heads.into_iter().map(hashes).collect::<Option<Vec<_>>>()?,
                })
            },
        )
        .collect::<Option<Vec<Entry>>>()?;
    let reads = wire
        .reads
        .into_iter()
        .map(|(id, heads, on_relay, search)| {
            Some(RecordReads {
                id: id.parse().ok()?,
                heads: hashes(heads)?,
                on_relay,
                search,
            })
        })
        .collect::<Option<Vec<RecordReads>>>()?;
    Some(IndexRows {
        heads,
        entries,
        reads,
    })
}

impl super::Repo {
    /// Idle-time housekeeping: the compactions that are due (kept off the edit path:
    /// saving the whole index takes ~100× an edit), then a fresh index snapshot when
    /// the one on disk is missing or older than the index. `None` when nothing to do.
    pub fn tidy(&mut self) -> Option<super::Step> {
        let mut step = super::Step::default();
        for id in self.ledger.take_due() {
            if let Some(doc) = self.replica.doc(&id) {
                step.batch.chunks.push(self.ledger.compact(id, doc));
            }
        }
        if let Some(snapshot) = self.snapshot() {
            step.batch.snapshot = Some(snapshot);
        }
        (!step.batch.is_empty()).then_some(step)
    }

    /// The index rows to store as a snapshot, if the stored one is not current. Costs a
    /// pass over every row.
    pub(super) fn snapshot(&mut self) -> Option<super::Snapshot> {
        if !self.index_open {
            return None;
        }
        let seq = self.ledger.written_seq(&self.index_id)?;
        if self.snapshot_seq == Some(seq) && !self.reads_changed.get() {
            return None;
        }
        let heads = self.replica.doc(&self.index_id)?.get_heads();
        let bytes = encode(&heads, self.entries.values(), self.reads());
        self.snapshot_seq = Some(seq);
        self.reads_changed.set(false);
        Some(super::Snapshot {
            index: self.index_id,
            seq,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> ChangeHash {
        ChangeHash([n; 32])
    }

    fn entry(name: &str, follow_up: Option<&str>, heads: Vec<Vec<ChangeHash>>) -> Entry {
        Entry {
            id: DocumentId::random(),
            summary: Summary {
                kind: Kind::Contact,
                name: name.into(),
                status: follow_up.map(|_| "engaged".into()),
                worker: "Anna".into(),
                next_follow_up: follow_up.map(|d| d.parse().expect("day")),
                follow_up_by: follow_up.map(|_| "Anna".into()),
                updated_at: 1_763_600_000_000,
            },
            heads,
        }
    }

    #[test]
    fn rows_come_back_as_they_were_written() {
        let entries = vec![
            entry(
                "Lotte \"L\" Peeters",
                Some("2026-12-01"),
                vec![vec![hash(1)]],
            ),
            entry("Bram", None, vec![vec![hash(2), hash(3)], vec![hash(4)]]),
            entry("", None, vec![]),
        ];
        let reads = vec![
            RecordReads {
                id: entries[0].id,
                heads: vec![hash(1)],
                on_relay: Some(1_763_600_060_000),
                search: Some("lotte \"l\" peeters\nkoszeg\n".into()),
            },
            RecordReads {
                id: entries[1].id,
                heads: vec![hash(2), hash(3)],
                on_relay: None,
                search: Some(String::new()),
            },
        ];
        let bytes = encode(
            &[hash(9), hash(8)],
            entries.iter(),
            reads.clone().into_iter(),
        );
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.heads, vec![hash(8), hash(9)], "heads sorted");
        assert_eq!(back.entries, entries);
        assert_eq!(back.reads, reads);
    }

    #[test]
    fn a_snapshot_written_before_reads_were_kept_still_loads() {
        let id = DocumentId::random();
        // As the previous version wrote it: format 2, no `reads`.
        let old = format!(
            r#"{{"format":2,"heads":["{h}"],"rows":[["{id}","contact","Lotte",null,"Anna",null,null,1763600000000,[["{h}"]]]]}}"#,
            h = hash(1)
        );
        let back = decode(old.as_bytes()).expect("an old snapshot loads");
        assert_eq!(back.entries.len(), 1);
        assert_eq!(back.entries[0].summary.name, "Lotte");
        assert!(back.reads.is_empty());
    }

    #[test]
    fn anything_else_is_no_snapshot() {
        let good = encode(
            &[hash(1)],
            [entry("Lotte", None, vec![])].iter(),
            std::iter::empty(),
        );
        assert!(decode(&good).is_some());
        assert!(decode(&good[..good.len() - 1]).is_none(), "truncated");
        assert!(decode(b"").is_none());
        let other_format = String::from_utf8(good.clone())
            .expect("json")
            .replace("\"format\":2", "\"format\":3");
        assert!(decode(other_format.as_bytes()).is_none(), "another format");
        let bad_id = String::from_utf8(good)
            .expect("json")
            .replacen("[[\"", "[[\"!", 1);
        assert!(decode(bad_id.as_bytes()).is_none(), "a row with a bad id");
    }
}
