//! What of each document is already on disk, so a change writes only its new part
//! (an incremental chunk) and every so often the whole document replaces its chunks.
//! That compaction waits for an idle moment ([`Ledger::take_due`]): saving the whole
//! caseload index takes far longer than an edit may.

use std::collections::{HashMap, HashSet};

use crate::DocumentId;
use automerge::{Automerge, ChangeHash};

/// After this many chunks, a document is due for compaction when things are idle.
pub const COMPACT_AFTER: u32 = 32;
/// Never idle (edits nonstop): at this many chunks the write itself compacts.
pub const COMPACT_AT_THE_LATEST: u32 = 4 * COMPACT_AFTER;

/// One write to the chunk store. `heads` (sorted) are the document's heads once the
/// chunk is written: start-up takes a record's heads from its newest chunk, so it can
/// keep the record unloaded until it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkWrite {
    /// The changes since the last write.
    Append {
        doc: DocumentId,
        seq: u64,
        bytes: Vec<u8>,
        heads: Vec<ChangeHash>,
    },
    /// The whole document; deletes the document's chunks before `seq`.
    Replace {
        doc: DocumentId,
        seq: u64,
        bytes: Vec<u8>,
        heads: Vec<ChangeHash>,
    },
}

impl ChunkWrite {
    pub fn parts(&self) -> (DocumentId, u64, &[u8]) {
        match self {
            ChunkWrite::Append {
                doc, seq, bytes, ..
            }
            | ChunkWrite::Replace {
                doc, seq, bytes, ..
            } => (*doc, *seq, bytes),
        }
    }

    pub fn heads(&self) -> &[ChangeHash] {
        match self {
            ChunkWrite::Append { heads, .. } | ChunkWrite::Replace { heads, .. } => heads,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Saved {
    heads: Vec<ChangeHash>,
    next_seq: u64,
    chunks: u32,
    /// The stored chunks are damaged: the next write replaces them all.
    replace: bool,
}

/// Per document: the heads on disk, the next chunk number and how many chunks there are.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    docs: HashMap<DocumentId, Saved>,
    /// Documents with more than [`COMPACT_AFTER`] chunks, to compact when idle.
    due: HashSet<DocumentId>,
}

impl Ledger {
    /// Records what a document looked like when it was loaded. One with many chunks
    /// becomes due for compaction (see [`Ledger::take_due`]); a damaged one is
    /// rewritten by its next write.
    pub fn loaded(
        &mut self,
        id: DocumentId,
        heads: Vec<ChangeHash>,
        chunks: u32,
        next_seq: u64,
        damaged: bool,
    ) {
        let heads = sorted(heads);
        self.docs.insert(
            id,
            Saved {
                heads,
                next_seq,
                chunks,
                replace: damaged,
            },
        );
        if chunks > COMPACT_AFTER {
            self.due.insert(id);
        }
    }

    /// A document whose stored chunks could not be read: its next write replaces them.
    pub fn damaged(&mut self, id: DocumentId, next_seq: u64) {
        self.docs.insert(
            id,
            Saved {
                heads: Vec::new(),
                next_seq,
                chunks: 0,
                replace: true,
            },
        );
    }

    /// An erased document: nothing of it is on disk any more.
    pub fn forget(&mut self, id: &DocumentId) {
        self.docs.remove(id);
        self.due.remove(id);
    }

    /// The documents due for compaction (more than [`COMPACT_AFTER`] chunks); each is
    /// listed once, so compact them all.
    pub fn take_due(&mut self) -> Vec<DocumentId> {
        self.due.drain().collect()
    }

    /// The number of the document's newest chunk on disk (or queued for it), unless
    /// its stored chunks are damaged. Ties an index snapshot to one state of the disk.
    pub fn written_seq(&self, id: &DocumentId) -> Option<u64> {
        let saved = self.docs.get(id)?;
        (!saved.replace && saved.next_seq > 0).then(|| saved.next_seq - 1)
    }

    /// The write that brings the disk up to `doc`, or `None` when it already is.
    pub fn chunk_for(&mut self, id: DocumentId, doc: &Automerge) -> Option<ChunkWrite> {
        let heads = sorted(doc.get_heads());
        let saved = self.docs.entry(id).or_default();
        if saved.heads == heads && !saved.replace {
            return None;
        }
        if saved.chunks == 0 || saved.replace || saved.chunks >= COMPACT_AT_THE_LATEST {
            return Some(self.compact(id, doc));
        }
        let seq = saved.next_seq;
        saved.chunks += 1;
        if saved.chunks > COMPACT_AFTER {
            self.due.insert(id);
        }
        let write = ChunkWrite::Append {
            doc: id,
            seq,
            bytes: doc.save_after(&saved.heads),
            heads: heads.clone(),
        };
        saved.heads = heads;
        saved.next_seq = seq + 1;
        Some(write)
    }

    /// A document that arrived whole, as `bytes` the relay sent (its changes, loadable
    /// as they are, giving `heads`): they become its one chunk, so the document is not
    /// loaded and saved again.
    pub fn arrived(
        &mut self,
        id: DocumentId,
        heads: Vec<ChangeHash>,
        bytes: Vec<u8>,
    ) -> ChunkWrite {
        self.replace_with(id, heads, bytes)
    }

    /// The whole document as one chunk, replacing the stored ones.
    pub fn compact(&mut self, id: DocumentId, doc: &Automerge) -> ChunkWrite {
        self.replace_with(id, doc.get_heads(), doc.save())
    }

    /// `bytes` (all of the document at `heads`) become its one chunk, replacing the
    /// stored ones.
    fn replace_with(
        &mut self,
        id: DocumentId,
        heads: Vec<ChangeHash>,
        bytes: Vec<u8>,
    ) -> ChunkWrite {
        let saved = self.docs.entry(id).or_default();
        let seq = saved.next_seq;
        saved.heads = sorted(heads);
        saved.next_seq = seq + 1;
        saved.chunks = 1;
        saved.replace = false;
        self.due.remove(&id);
        ChunkWrite::Replace {
            doc: id,
            seq,
            bytes,
            heads: saved.heads.clone(),
        }
    }
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ROOT;
    use automerge::transaction::Transactable;

    fn change(doc: &mut Automerge, n: u32) {
        let mut tx = doc.transaction();
        tx.put(ROOT, "n", i64::from(n)).expect("put");
        tx.commit();
    }

    #[test]
    fn the_first_write_is_whole_then_only_what_is_new() {
        let (mut ledger, id, mut doc) = (Ledger::default(), DocumentId::random(), Automerge::new());
        change(&mut doc, 0);
        let first = ledger.chunk_for(id, &doc).expect("a write");
        assert!(matches!(first, ChunkWrite::Replace { seq: 0, .. }));
        assert!(ledger.chunk_for(id, &doc).is_none(), "nothing new");
        change(&mut doc, 1);
        let next = ledger.chunk_for(id, &doc).expect("a write");
        let ChunkWrite::Append {
            seq: 1,
            bytes,
            heads,
            ..
        } = &next
        else {
            panic!("appended: {next:?}")
        };
        assert_eq!(*heads, doc.get_heads());
        let mut back = Automerge::load(first.parts().2).expect("loads");
        back.load_incremental(bytes).expect("applies");
        assert_eq!(
            back.get_heads(),
            doc.get_heads(),
            "chunks add up to the document"
        );
        assert_eq!(ledger.written_seq(&id), Some(1));
    }

    #[test]
    fn compaction_waits_for_idle_time_until_it_cannot() {
        let (mut ledger, id, mut doc) = (Ledger::default(), DocumentId::random(), Automerge::new());
        let mut n = 0;
        let mut write = |ledger: &mut Ledger| {
            n += 1;
            change(&mut doc, n);
            ledger.chunk_for(id, &doc).expect("a write")
        };
        for _ in 0..COMPACT_AFTER {
            write(&mut ledger);
        }
        assert!(
            ledger.take_due().is_empty(),
            "{COMPACT_AFTER} chunks are fine"
        );
        assert!(matches!(write(&mut ledger), ChunkWrite::Append { .. }));
        assert_eq!(ledger.take_due(), vec![id], "one more: due when idle");
        assert!(ledger.take_due().is_empty(), "listed once");
        // Never idle: the write itself compacts at the latest bound.
        let mut replaced = false;
        for _ in COMPACT_AFTER + 1..COMPACT_AT_THE_LATEST {
            replaced |= matches!(write(&mut ledger), ChunkWrite::Replace { .. });
        }
        assert!(!replaced, "appends up to the bound");
        assert!(matches!(write(&mut ledger), ChunkWrite::Replace { .. }));
        assert!(
            matches!(write(&mut ledger), ChunkWrite::Append { .. }),
            "and on from one chunk"
        );
    }

    #[test]
    fn a_damaged_document_is_rewritten_whole_by_its_next_write() {
        let (mut ledger, id, mut doc) = (Ledger::default(), DocumentId::random(), Automerge::new());
        change(&mut doc, 0);
        ledger.damaged(id, 7);
        assert_eq!(ledger.written_seq(&id), None, "no snapshot may rest on it");
        let write = ledger.chunk_for(id, &doc).expect("a write");
        assert!(
            matches!(write, ChunkWrite::Replace { seq: 7, .. }),
            "{write:?}"
        );
        ledger.loaded(id, doc.get_heads(), COMPACT_AFTER + 1, 9, false);
        assert_eq!(ledger.take_due(), vec![id], "loaded with many chunks: due");
    }
}
