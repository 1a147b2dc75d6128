//! What the device's store writes and reads, as plain values: the [`Batch`] one step
//! of work commits, and the documents read back from their chunks ([`Loaded`]). The
//! store (IndexedDB in the app) only moves these bytes; deciding how chunks become
//! documents, kept unloaded or loaded, and what counts as damaged, happens here.

use std::collections::BTreeMap;

use automerge::{Automerge, ChangeHash};

use super::ledger::ChunkWrite;
use crate::{DocumentId, untrusted};

/// A document read back from its chunks.
#[derive(Debug)]
pub struct StoredDoc {
    pub id: DocumentId,
    pub doc: Automerge,
    /// Chunks currently stored for it (compaction folds them into one).
    pub chunks: u32,
    pub next_seq: u64,
    /// Some chunks could not be read and were skipped.
    pub partly_damaged: bool,
}

/// A record read back as its chunks' bytes and the heads its newest chunk names,
/// without loading it (the replica loads it when it is first read).
#[derive(Debug)]
pub struct KeptDoc {
    pub id: DocumentId,
    pub bytes: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    pub chunks: u32,
    pub next_seq: u64,
}

/// Stored data that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    /// The document it belonged to, when that much was readable.
    pub id: Option<DocumentId>,
    pub next_seq: u64,
    pub reason: String,
}

/// What a load read from the chunk store.
#[derive(Debug, Default)]
pub struct Loaded {
    pub docs: Vec<StoredDoc>,
    /// Records kept unloaded (only when the read asked to keep them).
    pub kept: Vec<KeptDoc>,
    pub damaged: Vec<Damaged>,
}

impl Loaded {
    pub fn push(&mut self, assembled: Assembled) {
        match assembled {
            Assembled::Loaded(doc) => self.docs.push(*doc),
            Assembled::Kept(doc) => self.kept.push(doc),
            Assembled::Damaged(damaged) => self.damaged.push(damaged),
        }
    }
}

/// A plain copy of the caseload index's rows (see `snapshot`), valid while the
/// index's newest chunk on disk is still number `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub index: DocumentId,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// What one step of work writes, committed in one transaction.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub chunks: Vec<ChunkWrite>,
    pub states: Vec<(DocumentId, Vec<u8>)>,
    /// Written after the chunks it describes (steps are written in order).
    pub snapshot: Option<Snapshot>,
    /// Erased documents: every stored chunk and the sync state of each is deleted
    /// (after this batch's own writes).
    pub erase: Vec<DocumentId>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
            && self.states.is_empty()
            && self.snapshot.is_none()
            && self.erase.is_empty()
    }

    pub fn extend(&mut self, other: Batch) {
        self.chunks.extend(other.chunks);
        self.states.extend(other.states);
        self.erase.extend(other.erase);
        if other.snapshot.is_some() {
            self.snapshot = other.snapshot;
        }
    }
}

/// A chunk as the store read it: its number, and its bytes and the heads it names
/// when those were readable.
#[derive(Clone, Debug)]
pub struct RawChunk {
    pub seq: u64,
    pub bytes: Option<Vec<u8>>,
    pub heads: Option<Vec<ChangeHash>>,
}

/// One document assembled from its chunks.
#[derive(Debug)]
pub enum Assembled {
    /// Boxed: a loaded document is large, and assembly hands these out one by one.
    Loaded(Box<StoredDoc>),
    Kept(KeptDoc),
    Damaged(Damaged),
}

/// Chunk entries grouped by document, to be assembled one document at a time (the
/// store gives the browser a turn between documents on a long load).
#[derive(Debug, Default)]
pub struct Chunks {
    by_doc: BTreeMap<String, Vec<RawChunk>>,
    unreadable: Vec<Damaged>,
}

impl Chunks {
    /// Adds one stored entry: its document key and chunk number as read (`None` when
    /// the entry lacked them), its bytes and the heads it names.
    pub fn push(
        &mut self,
        doc: Option<String>,
        seq: Option<u64>,
        bytes: Option<Vec<u8>>,
        heads: Option<Vec<ChangeHash>>,
    ) {
        match (doc, seq) {
            (Some(doc), Some(seq)) => {
                self.by_doc
                    .entry(doc)
                    .or_default()
                    .push(RawChunk { seq, bytes, heads });
            }
            _ => self.unreadable.push(Damaged {
                id: None,
                next_seq: 0,
                reason: "a stored entry has no document id".into(),
            }),
        }
    }

    /// Assembles each document: records whose newest chunk names their heads are
    /// kept unloaded when `keep` is set (loading 10,000 takes seconds), the rest are
    /// loaded, all chunks in one call (applying them one by one is 100× slower).
    pub fn assemble(self, keep: bool) -> impl Iterator<Item = Assembled> {
        self.unreadable.into_iter().map(Assembled::Damaged).chain(
            self.by_doc
                .into_iter()
                .map(move |(key, chunks)| assemble_one(&key, chunks, keep)),
        )
    }
}

fn assemble_one(key: &str, mut chunks: Vec<RawChunk>, keep: bool) -> Assembled {
    chunks.sort_by_key(|c| c.seq);
    let next_seq = chunks.last().map(|c| c.seq + 1).unwrap_or(0);
    let Ok(id) = key.parse::<DocumentId>() else {
        return Assembled::Damaged(Damaged {
            id: None,
            next_seq,
            reason: "a stored entry has a bad document id".into(),
        });
    };
    if keep && let Some(kept) = kept(id, &chunks, next_seq) {
        return Assembled::Kept(kept);
    }
    match load_chunks(&chunks) {
        Some((doc, partly_damaged)) => Assembled::Loaded(Box::new(StoredDoc {
            id,
            doc,
            chunks: chunks.len() as u32,
            next_seq,
            partly_damaged,
        })),
        None => Assembled::Damaged(Damaged {
            id: Some(id),
            next_seq,
            reason: "none of its stored changes could be read".into(),
        }),
    }
}

/// A record whose chunks are all bytes and whose newest chunk names its heads, as
/// one run of bytes to load later. Anything less is loaded now, where damage shows.
fn kept(id: DocumentId, chunks: &[RawChunk], next_seq: u64) -> Option<KeptDoc> {
    let heads = chunks.last()?.heads.clone().filter(|h| !h.is_empty())?;
    let mut bytes = Vec::with_capacity(
        chunks
            .iter()
            .map(|c| c.bytes.as_ref().map_or(0, Vec::len))
            .sum(),
    );
    for chunk in chunks {
        bytes.extend_from_slice(chunk.bytes.as_ref()?);
    }
    Some(KeptDoc {
        id,
        bytes,
        heads,
        chunks: chunks.len() as u32,
        next_seq,
    })
}

/// Loads a document's chunks in one call; when that fails, chunk by chunk, skipping
/// the unreadable ones, so one bad write does not cost the whole record.
fn load_chunks(chunks: &[RawChunk]) -> Option<(Automerge, bool)> {
    let readable: Vec<&Vec<u8>> = chunks.iter().filter_map(|c| c.bytes.as_ref()).collect();
    let mut damaged = readable.len() != chunks.len();
    if !damaged {
        let all: Vec<u8> = readable.iter().flat_map(|b| b.iter().copied()).collect();
        if let Ok(doc) = untrusted::load(&all) {
            return Some((doc, false));
        }
    }
    let mut doc = Automerge::new();
    let mut any = false;
    for bytes in readable {
        match untrusted::load_incremental(&mut doc, bytes) {
            Ok(()) => any = true,
            Err(_) => damaged = true,
        }
    }
    (any && !doc.get_heads().is_empty()).then_some((doc, damaged))
}

/// Heads as stored: 32 bytes each, one after another.
pub fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Heads as [`heads_to_bytes`] stores them; `None` for anything else.
pub fn heads_from_bytes(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    bytes
        .chunks_exact(32)
        .map(|h| ChangeHash::try_from(h).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    fn doc_with(values: &[&str]) -> (Automerge, Vec<Vec<u8>>) {
        let mut doc = Automerge::new();
        let mut chunks = Vec::new();
        let mut heads = Vec::new();
        for v in values {
            let mut tx = doc.transaction();
            tx.put(automerge::ROOT, *v, *v).expect("put");
            tx.commit();
            chunks.push(doc.save_after(&heads));
            heads = doc.get_heads();
        }
        (doc, chunks)
    }

    fn one(chunks: Chunks, keep: bool) -> Assembled {
        let mut all: Vec<Assembled> = chunks.assemble(keep).collect();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn chunks_in_any_order_load_as_one_document() {
        let (doc, bytes) = doc_with(&["a", "b", "c"]);
        let id = DocumentId::random();
        let mut chunks = Chunks::default();
        for (seq, b) in bytes.iter().enumerate().rev() {
            chunks.push(
                Some(id.to_string()),
                Some(seq as u64),
                Some(b.clone()),
                None,
            );
        }
        let Assembled::Loaded(stored) = one(chunks, true) else {
            panic!("no heads on disk: loaded, not kept")
        };
        assert_eq!(stored.doc.get_heads(), doc.get_heads());
        assert_eq!((stored.chunks, stored.next_seq), (3, 3));
        assert!(!stored.partly_damaged);
    }

    #[test]
    fn a_record_whose_newest_chunk_names_its_heads_is_kept_unloaded() {
        let (doc, bytes) = doc_with(&["a", "b"]);
        let id = DocumentId::random();
        let mut chunks = Chunks::default();
        chunks.push(Some(id.to_string()), Some(0), Some(bytes[0].clone()), None);
        let heads = heads_from_bytes(&heads_to_bytes(&doc.get_heads()));
        chunks.push(Some(id.to_string()), Some(1), Some(bytes[1].clone()), heads);
        let Assembled::Kept(kept) = one(chunks, true) else {
            panic!("kept")
        };
        assert_eq!(kept.heads, doc.get_heads());
        let back = Automerge::load(&kept.bytes).expect("the kept bytes load");
        assert_eq!(back.get_heads(), doc.get_heads());
    }

    #[test]
    fn a_damaged_chunk_costs_only_itself() {
        let (_, bytes) = doc_with(&["a", "b"]);
        let id = DocumentId::random();
        let mut chunks = Chunks::default();
        chunks.push(Some(id.to_string()), Some(0), Some(bytes[0].clone()), None);
        // A stored value that was not bytes at all.
        chunks.push(Some(id.to_string()), Some(1), None, None);
        let Assembled::Loaded(stored) = one(chunks, false) else {
            panic!("loaded")
        };
        assert!(stored.partly_damaged);
        assert_eq!(stored.next_seq, 2, "the next write goes after the bad one");

        let mut chunks = Chunks::default();
        chunks.push(Some(id.to_string()), Some(4), Some(vec![1, 2, 3]), None);
        chunks.push(None, Some(1), None, None);
        chunks.push(
            Some("not an id".into()),
            Some(0),
            Some(bytes[0].clone()),
            None,
        );
        let damaged: Vec<Assembled> = chunks.assemble(true).collect();
        assert!(
            damaged.iter().all(|a| matches!(a, Assembled::Damaged(_))),
            "{damaged:?}"
        );
        assert!(damaged.iter().any(|a| matches!(
            a,
            Assembled::Damaged(Damaged { id: Some(d), next_seq: 5, .. }) if *d == id
        )));
        assert_eq!(heads_from_bytes(&[0; 31]), None);
    }
}
