//! The contract every [`Storage`] backend keeps, one suite run against each: SQLite
//! always, PostgreSQL on the server named by `PAKTUM_TEST_POSTGRES`, a fresh
//! database per test (`paktum_tests::postgres`: without a server the PostgreSQL cases
//! say so and pass, except under CI, where they fail).

use std::sync::Arc;
use std::thread;

use paktum_shared::DocumentId;

use super::{PostgresStorage, SqliteStorage, Storage};

/// Opens the store under test; called again, it reopens the same store.
type Open<'a> = &'a dyn Fn() -> Arc<dyn Storage>;

/// Three Automerge changes in a row, the same on every call: the chunks a relay
/// stores (compaction on PostgreSQL reads them, to merge what another relay appended).
fn changes() -> [Vec<u8>; 3] {
    static CHANGES: std::sync::OnceLock<[Vec<u8>; 3]> = std::sync::OnceLock::new();
    CHANGES
        .get_or_init(|| {
            let mut doc = automerge::AutoCommit::new();
            let mut out = Vec::new();
            for n in 0..3i64 {
                let heads = doc.get_heads();
                automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "n", n)
                    .expect("put");
                out.push(doc.save_after(&heads));
            }
            [out[0].clone(), out[1].clone(), out[2].clone()]
        })
        .clone()
}

/// The whole document after the first `n` changes.
fn snapshot(n: usize) -> Vec<u8> {
    let mut doc = automerge::Automerge::new();
    for change in &changes()[..n] {
        paktum_shared::untrusted::load_incremental(&mut doc, change).expect("load");
    }
    doc.save()
}

fn chunks_survive_reopening_and_compaction_replaces_them(open: Open<'_>) {
    let [one, two, three] = changes();
    let doc = DocumentId::random();
    let id = {
        let s = open();
        s.append(&doc, &one).expect("append");
        s.append(&doc, &two).expect("append");
        s.save_sync_states("device", &[(doc, vec![1, 2])])
            .expect("states");
        s.storage_id().expect("storage id")
    };
    let s = open();
    assert_eq!(s.storage_id().expect("storage id"), id, "the id is kept");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!((stored.bytes, stored.chunks), ([one, two].concat(), 2));
    let both = snapshot(2);
    s.compact(&doc, &both).expect("compact");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!((stored.bytes, stored.chunks), (both.clone(), 1));
    s.append(&doc, &three).expect("append after compaction");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!((stored.bytes, stored.chunks), ([both, three].concat(), 2));
    assert_eq!(
        s.load_sync_state("device", &doc).expect("state"),
        Some(vec![1, 2])
    );
    s.save_sync_states("device", &[(doc, vec![3])])
        .expect("states");
    assert_eq!(
        s.load_sync_state("device", &doc).expect("state"),
        Some(vec![3])
    );
    assert_eq!(s.load_sync_state("other", &doc).expect("state"), None);
    assert_eq!(
        s.load(&DocumentId::random())
            .expect("load")
            .map(|s| s.chunks),
        None
    );
    assert_eq!(s.document_count().expect("count"), 1);
}

fn an_erased_document_is_gone_and_its_id_refused(open: Open<'_>) {
    let s = open();
    let [one, two, _] = changes();
    let (doc, index, own) = (
        DocumentId::random(),
        DocumentId::random(),
        DocumentId::random(),
    );
    for id in [doc, index, own] {
        s.append(&id, &one).expect("append");
    }
    s.save_sync_states(
        "device",
        &[(doc, vec![1]), (index, vec![2]), (own, vec![3])],
    )
    .expect("states");
    // The team's index and a worker's own index are both replaced.
    s.erase(&doc, vec![(index, two.clone()), (own, two.clone())])
        .expect("erase");
    assert_eq!(s.load(&doc).expect("load").map(|s| s.chunks), None);
    for id in [doc, index, own] {
        assert_eq!(s.load_sync_state("device", &id).expect("state"), None);
    }
    for id in [index, own] {
        let stored = s.load(&id).expect("load").expect("index");
        assert_eq!((stored.bytes, stored.chunks), (two.clone(), 1));
    }
    s.append(&doc, &one).expect("append refused quietly");
    s.compact(&doc, &snapshot(1))
        .expect("compact refused quietly");
    assert_eq!(s.load(&doc).expect("load").map(|s| s.chunks), None);
    assert_eq!(s.erased().expect("erased"), vec![doc]);
}

/// An index rewritten by an erasure takes writes only from a writer that read it at
/// its new generation: a relay still holding the old history cannot store on top of
/// the rewrite. The generation survives reopening.
fn an_index_is_written_only_at_the_generation_its_writer_read(open: Open<'_>) {
    let [one, two, three] = changes();
    let (doc, index) = (DocumentId::random(), DocumentId::random());
    {
        let s = open();
        s.append(&index, &one).expect("append");
        assert_eq!(s.load(&index).expect("load").expect("index").generation, 0);
        assert!(s.append_at(&index, &two, 0).expect("append"), "current");
        s.erase(&doc, vec![(index, snapshot(1))]).expect("erase");
        let stored = s.load(&index).expect("load").expect("index");
        assert_eq!((stored.generation, stored.chunks), (1, 1));
        assert!(!s.append_at(&index, &three, 0).expect("append"), "stale");
        assert!(
            !s.compact_at(&index, &snapshot(3), 0).expect("compact"),
            "stale"
        );
        let stored = s.load(&index).expect("load").expect("index");
        assert_eq!(
            (stored.bytes, stored.chunks),
            (snapshot(1), 1),
            "nothing written"
        );
    }
    let s = open();
    assert_eq!(s.load(&index).expect("load").expect("index").generation, 1);
    assert!(s.append_at(&index, &two, 1).expect("append"));
    assert!(s.compact_at(&index, &snapshot(2), 1).expect("compact"));
    let stored = s.load(&index).expect("load").expect("index");
    let loaded = paktum_shared::untrusted::load(&stored.bytes).expect("loads");
    let expected = paktum_shared::untrusted::load(&snapshot(2)).expect("loads");
    assert_eq!(loaded.get_heads(), expected.get_heads());
}

/// Writes at the old generation racing an erasure's rewrite: each lands before the
/// rewrite (and is replaced by it) or is refused after it; none survives it.
fn no_write_at_an_old_generation_survives_a_rewrite(open: Open<'_>) {
    let s = open();
    let (doc, index) = (DocumentId::random(), DocumentId::random());
    s.append(&index, &[0, 0]).expect("append");
    let (started, wait) = std::sync::mpsc::channel();
    let writer = {
        let s = s.clone();
        thread::spawn(move || {
            for n in 0..100_000u32 {
                if !s.append_at(&index, &n.to_le_bytes(), 0).expect("append") {
                    return n;
                }
                if n == 20 {
                    started.send(()).expect("started");
                }
            }
            panic!("the rewrite never took effect");
        })
    };
    wait.recv().expect("appending");
    s.erase(&doc, vec![(index, vec![7, 7, 7])]).expect("erase");
    let refused_at = writer.join().expect("writer");
    assert!(refused_at > 20);
    let stored = s.load(&index).expect("load").expect("index");
    assert_eq!((stored.bytes, stored.chunks), (vec![7, 7, 7], 1));
}

/// Appends of a record racing its erasure: each lands before the erasure (and is
/// deleted by it) or finds the id erased; none survives it.
fn no_append_survives_an_erasure(open: Open<'_>) {
    let s = open();
    let doc = DocumentId::random();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started, wait) = std::sync::mpsc::channel();
    let writers: Vec<_> = (0..4u8)
        .map(|w| {
            let (s, stop, started) = (s.clone(), stop.clone(), started.clone());
            thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    s.append(&doc, &[&[w][..], &n.to_le_bytes()].concat())
                        .expect("append");
                    n += 1;
                    if n == 20 {
                        let _ = started.send(());
                    }
                }
            })
        })
        .collect();
    wait.recv().expect("appending");
    s.erase(&doc, vec![]).expect("erase");
    // Appends go on a while after the erasure, as a device's would.
    thread::sleep(std::time::Duration::from_millis(100));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().expect("writer");
    }
    assert!(
        s.load(&doc).expect("load").is_none(),
        "a chunk survived the erasure"
    );
    assert!(!s.document_ids().expect("ids").contains(&doc));
}

fn ids_and_meta_values_are_kept(open: Open<'_>) {
    let [one, ..] = changes();
    let (a, b) = (DocumentId::random(), DocumentId::random());
    {
        let s = open();
        assert!(s.document_ids().expect("ids").is_empty());
        assert_eq!(s.meta("indices").expect("meta"), None);
        s.append(&a, &one).expect("append");
        s.append(&a, &one).expect("append");
        s.append(&b, &one).expect("append");
        s.set_meta("indices", "1").expect("set");
        s.set_meta("indices", "2").expect("set again");
    }
    let s = open();
    let mut ids = s.document_ids().expect("ids");
    ids.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(ids, both, "each once");
    assert_eq!(s.meta("indices").expect("meta").as_deref(), Some("2"));
    assert!(s.meta("storage_id").expect("meta").is_some());
}

fn concurrent_appends_are_all_kept(open: Open<'_>) {
    let s = open();
    let doc = DocumentId::random();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            thread::spawn(move || {
                for j in 0..25 {
                    s.append(&doc, &[i, j]).expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!(stored.chunks, 200);
    // Each writer's chunks stay in the order it wrote them.
    for i in 0..8u8 {
        let mine: Vec<u8> = stored
            .bytes
            .chunks(2)
            .filter(|c| c[0] == i)
            .map(|c| c[1])
            .collect();
        assert_eq!(mine, (0..25).collect::<Vec<u8>>());
    }
}

mod sqlite {
    use super::*;

    fn with_store(test: fn(Open<'_>)) {
        let dir = tempfile::tempdir().expect("tempdir");
        test(&|| Arc::new(SqliteStorage::open(dir.path()).expect("open")));
    }

    #[test]
    fn chunks_survive_reopening_and_compaction_replaces_them() {
        with_store(super::chunks_survive_reopening_and_compaction_replaces_them);
    }

    #[test]
    fn concurrent_appends_are_all_kept() {
        with_store(super::concurrent_appends_are_all_kept);
    }

    #[test]
    fn an_erased_document_is_gone_and_its_id_refused() {
        with_store(super::an_erased_document_is_gone_and_its_id_refused);
    }

    #[test]
    fn an_index_is_written_only_at_the_generation_its_writer_read() {
        with_store(super::an_index_is_written_only_at_the_generation_its_writer_read);
    }

    #[test]
    fn no_write_at_an_old_generation_survives_a_rewrite() {
        with_store(super::no_write_at_an_old_generation_survives_a_rewrite);
    }

    #[test]
    fn no_append_survives_an_erasure() {
        with_store(super::no_append_survives_an_erasure);
    }

    #[test]
    fn ids_and_meta_values_are_kept() {
        with_store(super::ids_and_meta_values_are_kept);
    }
}

mod postgres {
    use super::*;

    fn with_store(test: fn(Open<'_>)) {
        let Some(url) = paktum_tests::postgres::fresh_database() else {
            return;
        };
        test(&|| Arc::new(PostgresStorage::connect(&url).expect("connect")));
    }

    #[test]
    fn chunks_survive_reopening_and_compaction_replaces_them() {
        with_store(super::chunks_survive_reopening_and_compaction_replaces_them);
    }

    #[test]
    fn concurrent_appends_are_all_kept() {
        with_store(super::concurrent_appends_are_all_kept);
    }

    #[test]
    fn an_erased_document_is_gone_and_its_id_refused() {
        with_store(super::an_erased_document_is_gone_and_its_id_refused);
    }

    #[test]
    fn an_index_is_written_only_at_the_generation_its_writer_read() {
        with_store(super::an_index_is_written_only_at_the_generation_its_writer_read);
    }

    #[test]
    fn no_write_at_an_old_generation_survives_a_rewrite() {
        with_store(super::no_write_at_an_old_generation_survives_a_rewrite);
    }

    #[test]
    fn no_append_survives_an_erasure() {
        with_store(super::no_append_survives_an_erasure);
    }

    #[test]
    fn ids_and_meta_values_are_kept() {
        with_store(super::ids_and_meta_values_are_kept);
    }

    /// Two relays on one database: one compacts from its copy while the other has
    /// appended a change it has not seen; the change stays.
    #[test]
    fn a_compaction_keeps_a_chunk_another_relay_appended() {
        let Some(url) = paktum_tests::postgres::fresh_database() else {
            return;
        };
        let (a, b) = (
            PostgresStorage::connect(&url).expect("connect"),
            PostgresStorage::connect(&url).expect("connect"),
        );
        let [one, two, three] = changes();
        let doc = DocumentId::random();
        a.append(&doc, &one).expect("append");
        a.append(&doc, &two).expect("append");
        b.append(&doc, &three).expect("append elsewhere");
        a.compact(&doc, &snapshot(2)).expect("compact");
        let stored = b.load(&doc).expect("load").expect("present");
        let loaded = paktum_shared::untrusted::load(&stored.bytes).expect("loads");
        let all = paktum_shared::untrusted::load(&snapshot(3)).expect("loads");
        assert_eq!(
            loaded.get_heads(),
            all.get_heads(),
            "the third change stays"
        );
        assert_eq!(stored.chunks, 1);
    }

    #[test]
    fn two_relays_starting_together_apply_the_migrations_once_and_share_one_storage_id() {
        let Some(url) = paktum_tests::postgres::fresh_database() else {
            return;
        };
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                thread::spawn(move || {
                    PostgresStorage::connect(&url)
                        .expect("connect")
                        .storage_id()
                        .expect("id")
                })
            })
            .collect();
        let ids: Vec<String> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    }
}
