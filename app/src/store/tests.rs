//! The store against real IndexedDB in headless Chromium.

use super::*;
use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT, ReadDoc};
use paktum_shared::device::{COMPACT_AFTER, COMPACT_AT_THE_LATEST, Ledger};
use wasm_bindgen_test::wasm_bindgen_test;

fn doc_with(n: usize) -> Automerge {
    let mut doc = Automerge::new();
    for i in 0..n {
        let mut tx = doc.transaction();
        tx.put(ROOT, format!("k{i}"), i as i64).expect("put");
        tx.commit();
    }
    doc
}

fn edit(doc: &mut Automerge, key: &str, value: &str) {
    let mut tx = doc.transaction();
    tx.put(ROOT, key, value).expect("put");
    tx.commit();
}

async fn fresh(name: &str) -> Store {
    let _ = Store::delete(name).await;
    Store::open(name).await.expect("opens")
}

#[wasm_bindgen_test]
async fn records_come_back_kept_unloaded_with_the_heads_of_their_newest_chunk() {
    let name = "test-kept";
    let store = fresh(name).await;
    let (index, record, old) = (
        DocumentId::random(),
        DocumentId::random(),
        DocumentId::random(),
    );
    let mut ledger = Ledger::default();
    let mut doc = doc_with(3);
    let mut batch = Batch::default();
    batch.chunks.extend(ledger.chunk_for(record, &doc));
    edit(&mut doc, "name", "Lotte");
    batch.chunks.extend(ledger.chunk_for(record, &doc));
    batch.chunks.extend(ledger.chunk_for(index, &doc_with(1)));
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    // A record written before chunks named their heads is loaded as before.
    let older = doc_with(2);
    store
        .put_raw_chunk(&chunk_value(&old.to_string(), 0, &older.save(), &[]))
        .await
        .expect("raw");

    let loaded = store.load_except(&index).await.expect("loads");
    assert!(loaded.damaged.is_empty());
    let [kept] = &loaded.kept[..] else {
        panic!("one record kept: {:?}", loaded.kept);
    };
    assert_eq!(kept.id, record);
    assert_eq!(kept.heads, doc.get_heads());
    assert_eq!((kept.chunks, kept.next_seq), (2, 2));
    let back = Automerge::load(&kept.bytes).expect("the kept bytes load");
    assert_eq!(back.get_heads(), doc.get_heads());
    let [loaded_old] = &loaded.docs[..] else {
        panic!("the old record loaded: {:?}", loaded.docs);
    };
    assert_eq!(loaded_old.id, old);
    assert_eq!(loaded_old.doc.get_heads(), older.get_heads());
    // Whole loads (the index at start-up) still load.
    let all = store.load().await.expect("loads");
    assert!(all.kept.is_empty());
    assert_eq!(all.docs.len(), 3);
    store.close();
}

#[wasm_bindgen_test]
async fn writes_survive_a_reopen() {
    let name = "test-writes-survive";
    let store = fresh(name).await;
    let id = DocumentId::random();
    let mut ledger = Ledger::default();
    let mut doc = doc_with(3);
    let mut batch = Batch::default();
    batch.chunks.extend(ledger.chunk_for(id, &doc));
    edit(&mut doc, "name", "Lotte");
    batch.chunks.extend(ledger.chunk_for(id, &doc));
    batch.states.push((id, vec![1, 2, 3]));
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    store.close();

    let store = Store::open(name).await.expect("reopens");
    let loaded = store.load().await.expect("loads");
    assert!(loaded.damaged.is_empty());
    assert_eq!(loaded.docs.len(), 1);
    let back = &loaded.docs[0];
    assert_eq!(back.id, id);
    assert_eq!(back.chunks, 2);
    assert_eq!(back.doc.get_heads(), doc.get_heads());
    assert!(back.doc.get(ROOT, "name").expect("reads").is_some());
    assert_eq!(
        store.sync_states("ws://relay/sync").await.expect("states"),
        vec![(id, vec![1, 2, 3])]
    );
    assert!(
        store
            .sync_states("ws://other/sync")
            .await
            .expect("states")
            .is_empty()
    );
    store.close();
    Store::delete(name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn compaction_folds_chunks_into_one() {
    let name = "test-compaction";
    let store = fresh(name).await;
    let id = DocumentId::random();
    let mut ledger = Ledger::default();
    let mut doc = doc_with(1);
    let write = |ledger: &mut Ledger, doc: &Automerge| Batch {
        chunks: ledger.chunk_for(id, doc).into_iter().collect(),
        ..Batch::default()
    };
    // Edits only append; past COMPACT_AFTER the document is due for the idle time.
    for i in 0..(COMPACT_AFTER + 5) {
        edit(&mut doc, "n", &i.to_string());
        let batch = write(&mut ledger, &doc);
        assert!(
            matches!(batch.chunks[..], [ChunkWrite::Append { .. }]) || i == 0,
            "edit {i} appends"
        );
        store.write("r", &batch).await.expect("written");
    }
    assert_eq!(
        store.chunk_count(&id).await.expect("counts"),
        COMPACT_AFTER + 5
    );
    let due = ledger.take_due();
    assert_eq!(due, vec![id]);
    assert!(ledger.take_due().is_empty(), "listed once");
    let idle = Batch {
        chunks: vec![ledger.compact(id, &doc)],
        ..Batch::default()
    };
    store.write("r", &idle).await.expect("written");
    assert_eq!(store.chunk_count(&id).await.expect("counts"), 1);
    let loaded = store.load().await.expect("loads");
    assert_eq!(loaded.docs[0].doc.get_heads(), doc.get_heads());
    // Nothing to write when nothing changed.
    assert!(ledger.chunk_for(id, &doc).is_none());

    // Never idle: the write itself compacts at COMPACT_AT_THE_LATEST chunks.
    for i in 0..(COMPACT_AT_THE_LATEST + 5) {
        edit(&mut doc, "m", &i.to_string());
        let batch = write(&mut ledger, &doc);
        store.write("r", &batch).await.expect("written");
    }
    let count = store.chunk_count(&id).await.expect("counts");
    assert!(
        count <= COMPACT_AT_THE_LATEST,
        "compacted to {count} chunks"
    );
    assert_eq!(
        store.load().await.expect("loads").docs[0].doc.get_heads(),
        doc.get_heads()
    );
    store.close();
    Store::delete(name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_snapshot_counts_only_while_the_index_has_no_newer_chunk() {
    let name = "test-snapshot";
    let store = fresh(name).await;
    let (index, other) = (DocumentId::random(), DocumentId::random());
    assert_eq!(store.snapshot(&index).await.expect("reads"), None);
    let mut ledger = Ledger::default();
    let mut doc = doc_with(2);
    let snapshot = |ledger: &Ledger| Snapshot {
        index,
        seq: ledger.written_seq(&index).expect("written"),
        bytes: b"rows".to_vec(),
    };
    let first = Batch {
        chunks: ledger.chunk_for(index, &doc).into_iter().collect(),
        snapshot: Some(snapshot(&ledger)),
        ..Batch::default()
    };
    store.write("r", &first).await.expect("written");
    let read = store.snapshot(&index).await.expect("reads");
    assert_eq!(read, first.snapshot);
    assert_eq!(store.snapshot(&other).await.expect("reads"), None);

    // The index changes after the snapshot: the snapshot no longer counts.
    edit(&mut doc, "name", "Lotte");
    let later = Batch {
        chunks: ledger.chunk_for(index, &doc).into_iter().collect(),
        ..Batch::default()
    };
    store.write("r", &later).await.expect("written");
    assert_eq!(store.snapshot(&index).await.expect("reads"), None);

    // A compaction is a newer chunk too; a snapshot written with it counts again.
    let compacted = Batch {
        chunks: vec![ledger.compact(index, &doc)],
        snapshot: Some(snapshot(&ledger)),
        ..Batch::default()
    };
    store.write("r", &compacted).await.expect("written");
    assert_eq!(
        store.snapshot(&index).await.expect("reads"),
        compacted.snapshot
    );
    store.close();
    Store::delete(name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_corrupt_entry_damages_only_its_own_record() {
    let name = "test-corrupt";
    let store = fresh(name).await;
    let mut ledger = Ledger::default();
    let ids: Vec<DocumentId> = (0..4).map(|_| DocumentId::random()).collect();
    let (good, garbled, hurt, lost) = (ids[0], ids[1], ids[2], ids[3]);
    let docs: Vec<Automerge> = (0..3).map(|_| doc_with(2)).collect();
    let mut batch = Batch::default();
    for (id, doc) in [good, garbled, hurt].into_iter().zip(&docs) {
        batch.chunks.extend(ledger.chunk_for(id, doc));
    }
    store.write("r", &batch).await.expect("written");
    // `garbled` gets a later chunk of garbage bytes, `hurt` one whose bytes are not
    // bytes at all, `lost` has nothing readable, and one entry names no document.
    store
        .put_raw_chunk(&chunk_value(
            &garbled.to_string(),
            1,
            b"\x85\x6f\x4a\x83garbage",
            &[],
        ))
        .await
        .expect("raw");
    let not_bytes = object(&[
        ("doc", JsValue::from_str(&hurt.to_string())),
        ("seq", JsValue::from_f64(1.0)),
        ("bytes", JsValue::from_str("oops")),
    ]);
    store.put_raw_chunk(&not_bytes).await.expect("raw");
    store
        .put_raw_chunk(&chunk_value(&lost.to_string(), 0, b"not automerge", &[]))
        .await
        .expect("raw");
    let odd = object(&[
        ("doc", JsValue::from_str("zzz")),
        ("seq", JsValue::from_f64(0.0)),
    ]);
    store.put_raw_chunk(&odd).await.expect("raw");

    let loaded = store.load().await.expect("loading does not fail");
    let find = |id: DocumentId| loaded.docs.iter().find(|d| d.id == id);
    assert_eq!(
        find(good).map(|d| d.doc.get_heads()),
        Some(docs[0].get_heads())
    );
    assert_eq!(
        find(garbled).map(|d| d.doc.get_heads()),
        Some(docs[1].get_heads())
    );
    let hurt_back = find(hurt).expect("partly recovered");
    assert!(hurt_back.partly_damaged);
    assert_eq!(hurt_back.doc.get_heads(), docs[2].get_heads());
    assert_eq!(hurt_back.next_seq, 2, "new chunks go after the bad one");
    assert!(find(lost).is_none());
    assert!(loaded.damaged.iter().any(|d| d.id == Some(lost)));
    assert_eq!(loaded.damaged.len(), 2, "{:?}", loaded.damaged);
    store.close();
    Store::delete(name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn the_device_identity_is_kept() {
    let name = "test-device";
    let store = fresh(name).await;
    assert_eq!(store.identity().await.expect("reads"), None);
    let identity = Identity::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
    store.save_identity(&identity).await.expect("saves");
    store.close();
    let store = Store::open(name).await.expect("reopens");
    assert_eq!(store.identity().await.expect("reads"), Some(identity));
    store.close();
    Store::delete(name).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn the_member_list_is_kept_and_a_reset_erases_everything() {
    let name = "test-erase";
    let store = fresh(name).await;
    let identity = Identity::new("Anna", "kempen", "ws://relay/sync");
    store.save_identity(&identity).await.expect("identity");
    let members = TeamMembers {
        team: "kempen".into(),
        members: vec![paktum_shared::enrol::Member {
            name: "Anna".into(),
            role: "worker".into(),
        }],
    };
    store.save_members(&members).await.expect("members");
    let mut ledger = Ledger::default();
    let record = DocumentId::random();
    let mut batch = Batch::default();
    batch.chunks.extend(ledger.chunk_for(record, &doc_with(2)));
    batch.states.push((record, vec![1, 2, 3]));
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    assert_eq!(store.members().await.expect("read"), Some(members));

    store.erase().await.expect("erased");
    assert_eq!(store.identity().await.expect("read"), None);
    assert_eq!(store.members().await.expect("read"), None);
    assert_eq!(store.chunk_count(&record).await.expect("count"), 0);
    assert!(
        store
            .sync_states("ws://relay/sync")
            .await
            .expect("read")
            .is_empty()
    );
    store.close();
}

mod encryption;
