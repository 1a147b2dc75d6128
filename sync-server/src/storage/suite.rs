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

fn chunks_survive_reopening_and_compaction_replaces_them(open: Open<'_>) {
    let doc = DocumentId::random();
    let id = {
        let s = open();
        s.append(&doc, b"one").expect("append");
        s.append(&doc, b"two").expect("append");
        s.save_sync_states("device", &[(doc, vec![1, 2])])
            .expect("states");
        s.storage_id().expect("storage id")
    };
    let s = open();
    assert_eq!(s.storage_id().expect("storage id"), id, "the id is kept");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!(
        (stored.bytes.as_slice(), stored.chunks),
        (&b"onetwo"[..], 2)
    );
    s.compact(&doc, b"both").expect("compact");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!((stored.bytes.as_slice(), stored.chunks), (&b"both"[..], 1));
    s.append(&doc, b"+three").expect("append after compaction");
    let stored = s.load(&doc).expect("load").expect("present");
    assert_eq!(
        (stored.bytes.as_slice(), stored.chunks),
        (&b"both+three"[..], 2)
    );
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
