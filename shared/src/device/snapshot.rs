//! A plain copy of the caseload index's rows with the index heads it was read at, so
//! start-up can show the lists without loading the index document (which takes about a
//! second at 10,000 records). Only a cache: the index document stays the truth, and a
//! snapshot that does not decode, or whose heads differ, is dropped.

use crate::caseload::{Entry, Summary};
use crate::record::Kind;
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

/// Bumped when the encoding changes; other versions read as no snapshot.
const FORMAT: u32 = 2;

/// The index rows as of the index heads `heads` (sorted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexRows {
    pub heads: Vec<ChangeHash>,
    pub entries: Vec<Entry>,
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

#[derive(Serialize, Deserialize)]
struct Wire {
    format: u32,
    heads: Vec<String>,
    rows: Vec<Row>,
}

/// Encodes rows (in any order) read at the index heads `heads`.
pub fn encode<'a>(heads: &[ChangeHash], entries: impl Iterator<Item = &'a Entry>) -> Vec<u8> {
    let hex = |hs: &[ChangeHash]| {
        let mut hs: Vec<String> = hs.iter().map(ToString::to_string).collect();
        hs.sort();
        hs
    };
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
    let wire = Wire {
        format: FORMAT,
        heads: hex(heads),
        rows,
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
    Some(IndexRows { heads, entries })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocumentId;

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
        let bytes = encode(&[hash(9), hash(8)], entries.iter());
        let back = decode(&bytes).expect("decodes");
        assert_eq!(back.heads, vec![hash(8), hash(9)], "heads sorted");
        assert_eq!(back.entries, entries);
    }

    #[test]
    fn anything_else_is_no_snapshot() {
        let good = encode(&[hash(1)], [entry("Lotte", None, vec![])].iter());
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
