//! Encryption at rest: with a PIN, nothing of a record, a sync state, the snapshot,
//! the member list or the identity is stored in the clear; the PIN unlocks it all.

use super::*;
use wasm_bindgen_test::console_log;

/// A synthetic name from a seed, not found anywhere by chance.
fn name_from(seed: u64) -> String {
    let syllables = ["ka", "lo", "mi", "ru", "se", "ta", "vo", "ze"];
    let mut x = seed | 1;
    let mut name = String::from("Q");
    for _ in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        name.push_str(syllables[(x % 8) as usize]);
    }
    name
}

fn holds(contents: &[Vec<u8>], needle: &str) -> bool {
    let needle = needle.as_bytes();
    contents
        .iter()
        .any(|c| c.windows(needle.len()).any(|w| w == needle))
}

/// A device with the name in every place the store keeps: a record, a sync state,
/// the snapshot, the member list, the identity.
async fn device_with(store: &Store, name: &str) -> (DocumentId, Automerge) {
    let identity = Identity::new(name, "kempen", "ws://relay/sync");
    store.save_identity(&identity).await.expect("identity");
    let members = TeamMembers {
        team: "kempen".into(),
        members: vec![paktum_shared::enrol::Member {
            name: name.into(),
            role: "worker".into(),
        }],
    };
    store.save_members(&members).await.expect("members");
    let record = DocumentId::random();
    let mut doc = doc_with(2);
    edit(&mut doc, "name", name);
    let mut ledger = Ledger::default();
    let batch = Batch {
        chunks: ledger.chunk_for(record, &doc).into_iter().collect(),
        states: vec![(record, format!("state of {name}").into_bytes())],
        snapshot: Some(Snapshot {
            index: record,
            seq: 0,
            bytes: format!("rows: {name}").into_bytes(),
        }),
        ..Batch::default()
    };
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    (record, doc)
}

#[wasm_bindgen_test]
async fn with_a_pin_no_stored_value_holds_a_name_and_the_pin_brings_everything_back() {
    let db = "test-encrypted";
    let store = fresh(db).await;
    let name = name_from(0x5eed_0001);
    let (record, doc) = device_with(&store, &name).await;
    // Without a PIN the name is there in the clear: the search below can find it.
    assert!(holds(&store.raw_contents().await.expect("raw"), &name));

    let started = js_sys::Date::now();
    store.set_pin("246810").await.expect("PIN set");
    console_log!(
        "set_pin (600,000 PBKDF2 iterations + re-encryption): {} ms",
        js_sys::Date::now() - started
    );
    let contents = store.raw_contents().await.expect("raw");
    assert!(!holds(&contents, &name), "the name is stored in the clear");
    assert!(
        !holds(&contents, "state of"),
        "a sync state is stored in the clear"
    );
    assert!(
        !holds(&contents, "rows:"),
        "the snapshot is stored in the clear"
    );
    assert!(!store.cipher().expect("unlocked").is_extractable());

    // Written after the PIN: encrypted too.
    let later = name_from(0x5eed_0002);
    let mut doc2 = doc.clone();
    edit(&mut doc2, "name", &later);
    let mut ledger = Ledger::default();
    ledger.chunk_for(record, &doc);
    let batch = Batch {
        chunks: ledger.chunk_for(record, &doc2).into_iter().collect(),
        ..Batch::default()
    };
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    let members = TeamMembers {
        team: "kempen".into(),
        members: vec![paktum_shared::enrol::Member {
            name: later.clone(),
            role: "worker".into(),
        }],
    };
    store.save_members(&members).await.expect("members");
    assert!(!holds(&store.raw_contents().await.expect("raw"), &later));
    assert_eq!(store.members().await.expect("reads"), Some(members));
    store.close();

    // Opened again: locked; nothing reads or writes without the PIN.
    let store = Store::open(db).await.expect("reopens");
    assert!(store.is_locked());
    assert_eq!(store.identity().await, Err(StoreError::Locked));
    assert!(matches!(store.load().await, Err(StoreError::Locked)));
    assert_eq!(
        store.write("ws://relay/sync", &batch).await,
        Err(StoreError::Locked)
    );
    assert_eq!(
        store.unlock("135790").await,
        Err(UnlockError::WrongPin { failures: 1 })
    );
    assert!(store.is_locked());
    store.close();
    // The count of wrong PINs survives a reload.
    let store = Store::open(db).await.expect("reopens");
    assert_eq!(store.failures(), 1);
    let started = js_sys::Date::now();
    store.unlock("246810").await.expect("the right PIN unlocks");
    console_log!(
        "unlock (600,000 PBKDF2 iterations): {} ms",
        js_sys::Date::now() - started
    );
    assert_eq!(store.failures(), 0);

    assert_eq!(
        store.identity().await.expect("reads").map(|i| i.worker),
        Some(name.clone())
    );
    assert_eq!(
        store
            .members()
            .await
            .expect("reads")
            .map(|m| m.members[0].name.clone()),
        Some(later.clone())
    );
    let loaded = store.load().await.expect("loads");
    assert!(loaded.damaged.is_empty(), "{:?}", loaded.damaged);
    assert_eq!(loaded.docs[0].doc.get_heads(), doc2.get_heads());
    let kept = store
        .load_except(&DocumentId::random())
        .await
        .expect("loads");
    assert_eq!(kept.kept[0].heads, doc2.get_heads());
    assert_eq!(
        store.sync_states("ws://relay/sync").await.expect("states"),
        vec![(record, format!("state of {name}").into_bytes())]
    );
    assert_eq!(
        store
            .sync_state("ws://relay/sync", &record)
            .await
            .expect("state"),
        vec![(record, format!("state of {name}").into_bytes())]
    );
    // The snapshot counts while the record's newest chunk is 0; chunk 1 came after.
    assert_eq!(store.snapshot(&record).await.expect("reads"), None);

    // Locked again: the key is gone from memory.
    store.lock();
    assert!(store.cipher().is_none());
    assert_eq!(store.members().await, Err(StoreError::Locked));
    store.close();
    Store::delete(db).await.expect("deleted");
}

#[wasm_bindgen_test]
async fn a_value_sealed_with_one_key_does_not_open_with_another_nor_when_changed() {
    let (a, _) = Cipher::create("111111").await.expect("key a");
    let (b, wrapped_b) = Cipher::create("222222").await.expect("key b");
    let sealed = a.seal(b"Qkalomi").await.expect("sealed");
    assert_eq!(a.open(&sealed).await.expect("opens"), b"Qkalomi");
    assert!(!holds(std::slice::from_ref(&sealed), "Qkalomi"));
    assert_eq!(b.open(&sealed).await, Err(CryptoError));
    let mut changed = sealed.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    assert_eq!(a.open(&changed).await, Err(CryptoError));
    // The same plain text twice: two different sealed values (a fresh IV each time).
    assert_ne!(a.seal(b"Qkalomi").await.expect("sealed"), sealed);
    // The wrapped key: the wrong PIN fails, the right one gives a key that opens b's.
    assert_eq!(wrapped_b.iterations, PBKDF2_ITERATIONS);
    assert!(Cipher::unlock("111111", &wrapped_b).await.is_err());
    let again = Cipher::unlock("222222", &wrapped_b).await.expect("unwraps");
    let by_b = b.seal(b"x").await.expect("sealed");
    assert_eq!(again.open(&by_b).await.expect("opens"), b"x");
}

#[wasm_bindgen_test]
async fn too_many_wrong_pins_erase_what_the_relay_has_and_keep_the_unsynced_encrypted() {
    let db = "test-erase-synced";
    let store = fresh(db).await;
    let name = name_from(0x5eed_0003);
    let (synced, _) = device_with(&store, &name).await;
    let unsynced = DocumentId::random();
    let mut doc = doc_with(1);
    edit(&mut doc, "name", &name_from(0x5eed_0004));
    let mut ledger = Ledger::default();
    let batch = Batch {
        chunks: ledger.chunk_for(unsynced, &doc).into_iter().collect(),
        states: vec![(unsynced, vec![7])],
        ..Batch::default()
    };
    store
        .write("ws://relay/sync", &batch)
        .await
        .expect("written");
    store.set_pin("246810").await.expect("PIN set");
    store.save_unsynced(&[unsynced]).await.expect("listed");
    store.lock();

    assert_eq!(store.erase_synced().await.expect("erased"), 1);
    assert!(store.is_wiped());
    assert_eq!(store.chunk_count(&synced).await.expect("count"), 0);
    assert_eq!(store.chunk_count(&unsynced).await.expect("count"), 1);
    assert!(!holds(
        &store.raw_contents().await.expect("raw"),
        &name_from(0x5eed_0004)
    ));

    // The PIN still opens what was kept: the unsynced record and its sync state; the
    // snapshot and the member list are gone.
    store.unlock("246810").await.expect("unlocks");
    assert!(!store.is_wiped());
    let loaded = store.load().await.expect("loads");
    assert_eq!(loaded.docs.len(), 1);
    assert_eq!(loaded.docs[0].id, unsynced);
    assert_eq!(loaded.docs[0].doc.get_heads(), doc.get_heads());
    assert_eq!(
        store.sync_states("ws://relay/sync").await.expect("states"),
        vec![(unsynced, vec![7])]
    );
    assert_eq!(store.members().await.expect("reads"), None);
    assert!(store.identity().await.expect("reads").is_some());
    store.close();
    Store::delete(db).await.expect("deleted");
}

/// A thousand records written and read back, with and without a PIN: the same
/// records come back; the times are logged (`--nocapture`) as a first measure of what
/// the encryption costs a start-up (the browser bench has no row for it yet).
#[wasm_bindgen_test]
async fn a_thousand_records_read_back_the_same_with_a_pin() {
    const N: usize = 1_000;
    let mut ledger = Ledger::default();
    let mut batch = Batch::default();
    let mut heads = Vec::new();
    for i in 0..N {
        let id = DocumentId::random();
        let mut doc = doc_with(3);
        edit(&mut doc, "name", &name_from(i as u64 + 7));
        batch.chunks.extend(ledger.chunk_for(id, &doc));
        batch.states.push((id, vec![i as u8; 40]));
        heads.push((id, doc.get_heads()));
    }
    heads.sort();
    let mut times = Vec::new();
    for pin in [None, Some("246810")] {
        let db = if pin.is_some() {
            "test-thousand-pin"
        } else {
            "test-thousand"
        };
        let store = fresh(db).await;
        if let Some(pin) = pin {
            store.set_pin(pin).await.expect("PIN set");
        }
        let started = js_sys::Date::now();
        store.write("r", &batch).await.expect("written");
        let written = js_sys::Date::now() - started;
        let started = js_sys::Date::now();
        let loaded = store
            .load_except(&DocumentId::random())
            .await
            .expect("loads");
        let states = store.sync_states("r").await.expect("states");
        let read = js_sys::Date::now() - started;
        let mut back: Vec<_> = loaded
            .kept
            .iter()
            .map(|k| (k.id, k.heads.clone()))
            .collect();
        back.sort();
        assert_eq!(back, heads);
        assert_eq!(states.len(), N);
        times.push((written, read));
        store.close();
        Store::delete(db).await.expect("deleted");
    }
    console_log!(
        "{N} records, plain: write {} ms, read {} ms; with a PIN: write {} ms, read {} ms",
        times[0].0,
        times[0].1,
        times[1].0,
        times[1].1
    );
}

/// Changing the PIN wraps the same data key again: no stored value is encrypted again
/// (only the lock record's salt and wrapped key change), a wrong current PIN counts
/// with its time kept on disk (a reload does not restart the wait), and afterwards
/// only the new PIN opens the data.
#[wasm_bindgen_test]
async fn a_changed_pin_wraps_the_key_again_and_encrypts_nothing_again() {
    let db = "test-change-pin";
    let store = fresh(db).await;
    let name = name_from(0x5eed_0005);
    let (_, doc) = device_with(&store, &name).await;
    store.set_pin("246810").await.expect("PIN set");
    let before = store.raw_contents().await.expect("raw");

    let wrong = store.change_pin("000000", "135791").await;
    assert!(matches!(wrong, Err(UnlockError::WrongPin { failures: 1 })));
    let failed_at = store.failed_at();
    assert!(failed_at > 0.0, "the time of the wrong PIN is kept");
    store.close();
    let store = Store::open(db).await.expect("reopens");
    assert_eq!((store.failures(), store.failed_at()), (1, failed_at));
    store.unlock("246810").await.expect("unlocks");

    store.change_pin("246810", "135791").await.expect("changed");
    assert_eq!(store.failures(), 0);
    let after = store.raw_contents().await.expect("raw");
    let changed = after.iter().filter(|v| !before.contains(v)).count();
    assert_eq!(changed, 2, "only the salt and the wrapped key change");
    assert!(!holds(&after, &name));

    store.lock();
    assert!(matches!(
        store.unlock("246810").await,
        Err(UnlockError::WrongPin { .. })
    ));
    store.unlock("135791").await.expect("the new PIN opens");
    let loaded = store.load().await.expect("loads");
    assert_eq!(loaded.docs[0].doc.get_heads(), doc.get_heads());
    store.close();
    Store::delete(db).await.expect("deleted");
}
