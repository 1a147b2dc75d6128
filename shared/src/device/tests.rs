//! The device core's rules, natively: edits, the index, the ledger, the snapshot,
//! and sessions with an in-memory relay.

use super::*;
use crate::caseload::CaseloadDoc;
use crate::contact::{Channel, ContactField, NewNote};
use crate::testing::Relay;

/// Changes in these tests are stamped at one moment; their order is their sequence.
const NOW: i64 = 1_795_521_600_000;

fn device(worker: &str) -> Identity {
    Identity::new(worker, "kempen", "ws://127.0.0.1:8080/sync")
}

/// A new device of the team with nothing stored.
fn fresh(worker: &str) -> Repo {
    Repo::new(device(worker), Loaded::default(), vec![]).0
}

fn note(text: &str) -> NewNote {
    NewNote {
        text: text.into(),
        ..Default::default()
    }
}

fn add_note(repo: &mut Repo, id: DocumentId, now_ms: i64, note: NewNote) {
    repo.edit_contact(id, now_ms, |c, ed| c.add_note(ed, note).map(|_| ()))
        .expect("note");
}

fn new_contact(name: &str) -> NewContact {
    NewContact {
        team: "kempen".into(),
        display_name: name.into(),
        first_contact_on: "2026-11-20".parse().expect("day"),
        channel: Channel::Street,
        place: Some("Market square".into()),
        assigned_worker: None,
    }
}

#[test]
fn an_edit_updates_the_index_and_leaves_chunks_to_write() {
    let (mut repo, start) = Repo::new(device("Anna"), Loaded::default(), vec![]);
    assert_eq!(start.batch.chunks.len(), 1, "the index genesis is written");
    let (id, step) = repo
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    assert_eq!(step.batch.chunks.len(), 2, "record and index");
    assert!(step.send.is_empty(), "not connected: nothing to send");
    let entry = repo.entry(&id).expect("indexed");
    assert_eq!(entry.summary.name, "Lotte");
    assert!(repo.is_pending(&id));
    let (_, step) = repo
        .edit_contact(id, NOW, |c, ed| {
            c.add_note(
                ed,
                NewNote {
                    text: "Met at the market".into(),
                    ..Default::default()
                },
            )?;
            c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
        })
        .expect("edited");
    assert_eq!(
        step.batch.chunks.len(),
        2,
        "the record, and its index row's new date"
    );
    let Loadable::Ready(contact) = repo.contact(&id) else {
        panic!("readable")
    };
    assert_eq!(contact.notes.len(), 1);
    assert_eq!(contact.phone.as_deref(), Some("0470 11 22 33"));
}

/// What the store would load for the repo's index document now.
fn stored_index(repo: &Repo) -> Loaded {
    let doc = repo.replica.doc(&repo.index_id).expect("index").clone();
    Loaded {
        docs: vec![StoredDoc {
            id: repo.index_id,
            doc,
            chunks: 1,
            next_seq: 1,
            partly_damaged: false,
        }],
        kept: vec![],
        damaged: vec![],
    }
}

fn names(repo: &Repo) -> Vec<String> {
    let mut names: Vec<String> = repo.entries().map(|e| e.summary.name.clone()).collect();
    names.sort();
    names
}

#[test]
fn a_current_snapshot_shows_the_rows_before_the_index_is_loaded() {
    let mut anna = fresh("Anna");
    anna.create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    anna.create_contact(new_contact("Bram"), NOW)
        .expect("created");
    let tidy = anna.tidy().expect("a snapshot to store");
    let snapshot = tidy.batch.snapshot.expect("snapshot");
    assert!(
        anna.tidy().is_none(),
        "stored once while the index is unchanged"
    );

    let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
    assert!(!again.is_index_open());
    assert_eq!(names(&again), ["Bram", "Lotte"]);
    let version = again.entries_version;
    again.open_index(stored_index(&anna), vec![]);
    assert!(again.is_index_open());
    assert_eq!(again.entries_version, version, "rows kept, not re-read");
    let mut rows: Vec<&Entry> = again.entries().collect();
    rows.sort_by_key(|e| e.id);
    let mut expected =
        CaseloadDoc::from_automerge(anna.replica.doc(&anna.index_id).expect("index").clone())
            .expect("index")
            .entries();
    expected.sort_by_key(|e| e.id);
    assert_eq!(rows, expected.iter().collect::<Vec<_>>());
}

/// The index snapshot the next idle moment would store.
fn snapshot_of(repo: &mut Repo) -> Snapshot {
    repo.tidy()
        .and_then(|s| s.batch.snapshot)
        .expect("snapshot")
}

#[test]
fn a_stale_snapshot_gives_way_to_the_index() {
    let mut anna = fresh("Anna");
    let (lotte, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let snapshot = snapshot_of(&mut anna);
    anna.create_contact(new_contact("Bram"), NOW)
        .expect("created");
    anna.edit_contact(lotte, NOW, |c, ed| {
        c.set_field(ed, ContactField::DisplayName, Some("Lotte P."))
    })
    .expect("renamed");

    let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
    assert_eq!(names(&again), ["Lotte"]);
    again.open_index(stored_index(&anna), vec![]);
    assert_eq!(names(&again), ["Bram", "Lotte P."], "the index's rows");
    assert!(
        again.tidy().and_then(|s| s.batch.snapshot).is_some(),
        "and a new snapshot is due"
    );
}

#[test]
fn a_corrupt_or_foreign_snapshot_is_no_snapshot() {
    let mut anna = fresh("Anna");
    anna.create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let snapshot = snapshot_of(&mut anna);
    let mut garbled = snapshot.clone();
    garbled.bytes.truncate(garbled.bytes.len() / 2);
    assert!(Repo::from_snapshot(device("Anna"), &garbled).is_none());
    let other_team = Identity::new("Anna", "elsewhere", "ws://127.0.0.1:8080/sync");
    assert!(Repo::from_snapshot(other_team, &snapshot).is_none());
}

#[test]
fn with_no_index_on_disk_after_a_snapshot_the_index_starts_over() {
    let mut anna = fresh("Anna");
    anna.create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let snapshot = snapshot_of(&mut anna);
    let mut again = Repo::from_snapshot(device("Anna"), &snapshot).expect("decodes");
    let start = again.open_index(Loaded::default(), vec![]);
    assert_eq!(start.batch.chunks.len(), 1, "the genesis is written");
    assert!(names(&again).is_empty(), "no rows the index does not have");
}

#[test]
fn a_contact_read_again_after_an_edit_shows_the_edit() {
    let mut repo = fresh("Anna");
    let (id, _) = repo
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let (other, _) = repo
        .create_contact(new_contact("Bram"), NOW)
        .expect("created");
    let read = |repo: &Repo, id| match repo.contact(&id) {
        Loadable::Ready(c) => c,
        other => panic!("readable: {other:?}"),
    };
    assert_eq!(read(&repo, id), read(&repo, id), "read twice, the same");
    repo.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    assert_eq!(read(&repo, id).phone.as_deref(), Some("0470 11 22 33"));
    assert_eq!(read(&repo, other).display_name, "Bram", "another contact");
    assert_eq!(read(&repo, id).display_name, "Lotte");
}

#[test]
fn a_refused_edit_changes_nothing() {
    let mut repo = fresh("Anna");
    let (id, _) = repo
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let before = repo.revision();
    let Err(err) = repo.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("call me"))
    }) else {
        panic!("refused")
    };
    assert!(err.to_string().contains("phone number"), "{err}");
    assert_eq!(repo.revision(), before);
    assert!(matches!(
        repo.contact(&DocumentId::random()),
        Loadable::NotHere
    ));
}

/// One session with the relay: connect, exchange until quiet, disconnect. Returns
/// what the device would have written.
fn session(relay: &mut Relay, repo: &mut Repo) -> (Batch, Progress) {
    let written = exchange(relay, repo, NOW);
    assert!(
        repo.is_up_to_date(),
        "nothing left to sync for {}: {:?} pending {} connected {}",
        repo.identity.worker,
        repo.progress(),
        repo.replica.pending_count(),
        repo.is_connected()
    );
    let progress = repo.progress();
    repo.disconnect();
    (written, progress)
}

/// Connects and exchanges with the relay until quiet, its messages arriving at
/// `now_ms`; returns what the device would have written.
fn exchange(relay: &mut Relay, repo: &mut Repo, now_ms: i64) -> Batch {
    let mut written = Batch::default();
    let connect = repo.connect();
    relay.exchange(vec![connect], |reply| {
        let step = repo
            .receive(reply, now_ms)
            .expect("the device takes the relay's message");
        written.extend(step.batch);
        step.send
    });
    written
}

/// The chunks written for one document, loaded as the store would.
fn load_written(batch: &Batch, id: DocumentId) -> Automerge {
    let bytes: Vec<u8> = batch
        .chunks
        .iter()
        .filter(|c| c.parts().0 == id)
        .flat_map(|c| c.parts().2.to_vec())
        .collect();
    Automerge::load(&bytes).expect("the written chunks load")
}

#[test]
fn a_record_arriving_whole_is_stored_as_the_relay_sent_it_and_loads_back() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    for text in ["First meeting", "Second meeting"] {
        add_note(&mut anna, id, NOW, note(text));
    }
    session(&mut relay, &mut anna);

    let mut bram = fresh("Bram");
    let (written, _) = session(&mut relay, &mut bram);
    let held = bram.replica.doc(&id).expect("arrived").clone();
    let ours: Vec<&ChunkWrite> = written
        .chunks
        .iter()
        .filter(|c| c.parts().0 == id)
        .collect();
    assert!(
        matches!(ours[..], [ChunkWrite::Replace { seq: 0, .. }]),
        "one chunk: {ours:?}"
    );
    assert_eq!(load_written(&written, id).get_heads(), held.get_heads());

    // Later changes to a record it has are appended as usual.
    anna.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("phone");
    session(&mut relay, &mut anna);
    let (later, _) = session(&mut relay, &mut bram);
    let mut both = written.clone();
    both.extend(later.clone());
    assert!(
        later
            .chunks
            .iter()
            .any(|c| matches!(c, ChunkWrite::Append { doc, .. } if *doc == id)),
        "appended"
    );
    assert_eq!(
        load_written(&both, id).get_heads(),
        bram.replica.doc(&id).expect("held").get_heads()
    );

    // Bram's app starts again: the record comes back kept unloaded, with the heads
    // its newest chunk names, and reads, edits and syncs as a loaded one.
    let ours: Vec<&ChunkWrite> = both.chunks.iter().filter(|c| c.parts().0 == id).collect();
    let newest = ours.last().expect("written");
    let kept = KeptDoc {
        id,
        bytes: ours.iter().flat_map(|c| c.parts().2.to_vec()).collect(),
        heads: newest.heads().to_vec(),
        chunks: ours.len() as u32,
        next_seq: newest.parts().1 + 1,
    };
    let states: Vec<(DocumentId, Vec<u8>)> = both.states.clone();
    let index = bram.replica.doc(&bram.index_id).expect("index").clone();
    let (mut again, _) = Repo::new(
        device("Bram"),
        Loaded {
            docs: vec![StoredDoc {
                id: bram.index_id,
                doc: index,
                chunks: 1,
                next_seq: 1,
                partly_damaged: false,
            }],
            kept: vec![],
            damaged: vec![],
        },
        vec![],
    );
    let _ = again.add_loaded(
        Loaded {
            kept: vec![kept],
            ..Loaded::default()
        },
        states,
    );
    assert!(
        again.replica.kept_bytes(&id).is_some(),
        "not loaded at start"
    );
    assert!(!again.is_pending(&id), "the relay holds it");
    let Loadable::Ready(contact) = again.contact(&id) else {
        panic!("reads");
    };
    assert_eq!(contact.phone.as_deref(), Some("0470 11 22 33"));
    let (_, step) = again
        .edit_contact(id, NOW, |c, ed| {
            c.set_field(ed, ContactField::Phone, Some("0470 99"))
        })
        .expect("edits");
    assert!(
        step.batch.chunks.iter().any(|c| matches!(
            c,
            ChunkWrite::Append { doc, seq, .. } if *doc == id && *seq == newest.parts().1 + 1
        )),
        "appended after the kept chunks: {:?}",
        step.batch.chunks
    );
    assert!(again.is_pending(&id));
}

#[test]
fn a_fresh_device_receives_the_caseload_and_concurrent_edits_show_as_conflicts() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    add_note(&mut anna, id, NOW, note("First meeting"));
    session(&mut relay, &mut anna);
    assert_eq!(anna.pending_count(), 0);

    let mut bram = fresh("Bram");
    let (written, progress) = session(&mut relay, &mut bram);
    assert_eq!(progress.done, progress.total, "progress reached its total");
    assert_eq!(progress.total, 2, "the index and the record");
    assert!(
        written.chunks.iter().any(|c| c.parts().0 == id),
        "the record is written to disk"
    );
    assert!(
        written.states.iter().any(|(d, _)| *d == id),
        "and its sync state"
    );
    let Loadable::Ready(lotte) = bram.contact(&id) else {
        panic!("Lotte arrived")
    };
    assert_eq!(lotte.notes.len(), 1);
    assert_eq!(
        bram.entry(&id).map(|e| e.summary.name.clone()),
        Some("Lotte".into())
    );

    // Both change the phone number offline; after syncing both see both values.
    anna.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 00 00 01"))
    })
    .expect("phone");
    bram.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 00 00 02"))
    })
    .expect("phone");
    bram.edit_contact(id, NOW, |c, ed| {
        c.change_status(ed, crate::contact::Status::Engaged, None)
    })
    .expect("status");
    session(&mut relay, &mut anna);
    session(&mut relay, &mut bram);
    session(&mut relay, &mut anna);
    for repo in [&anna, &bram] {
        let Loadable::Ready(c) = repo.contact(&id) else {
            panic!("readable")
        };
        let mut values: Vec<String> = c.conflicts[&ContactField::Phone]
            .iter()
            .map(|v| v.value.clone())
            .collect();
        values.sort();
        assert_eq!(values, ["0470 00 00 01", "0470 00 00 02"]);
        assert_eq!(c.status, crate::contact::Status::Engaged);
        assert_eq!(
            repo.entry(&id)
                .and_then(|e| e.summary.status.clone())
                .as_deref(),
            Some("engaged")
        );
    }
}

#[test]
fn an_edit_is_pending_until_the_relay_confirms_it() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    assert!(anna.is_pending(&id));
    assert_eq!(
        anna.pending_count(),
        1,
        "the record; the index is bookkeeping"
    );
    assert!(!anna.is_up_to_date());
    let (written, _) = session(&mut relay, &mut anna);
    assert!(!anna.is_pending(&id), "confirmed by the relay");
    assert_eq!(anna.pending_count(), 0);
    assert!(
        written.states.iter().any(|(d, _)| *d == id),
        "the confirming sync state goes to disk"
    );
    // Offline again: the next edit waits for the next session.
    anna.edit_contact(id, NOW + 1, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    assert!(anna.is_pending(&id));
    assert!(!anna.is_up_to_date());
    session(&mut relay, &mut anna);
    assert!(!anna.is_pending(&id));
}

#[test]
fn changes_carry_the_clock_and_the_worker_they_were_made_with() {
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    anna.edit_contact(id, NOW + 60_000, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    let Loadable::Ready((_, history)) = anna.history(&id) else {
        panic!("history")
    };
    let last = history.last().expect("a change");
    assert_eq!(last.by, "Anna");
    assert_eq!(last.at_ms, NOW + 60_000);
    assert_eq!(
        anna.entry(&id).map(|e| e.summary.updated_at),
        Some(NOW + 60_000),
        "the index row says when"
    );
}

#[test]
fn a_record_of_another_team_is_never_listed_in_this_teams_index() {
    let mut relay = Relay::default();
    let mut elsewhere = Repo::new(
        Identity::new("Jef", "herentals", "ws://127.0.0.1:8080/sync"),
        Loaded::default(),
        vec![],
    )
    .0;
    let mut theirs = new_contact("Mila");
    theirs.team = "herentals".into();
    let (id, _) = elsewhere.create_contact(theirs, NOW).expect("created");
    session(&mut relay, &mut elsewhere);

    let mut anna = fresh("Anna");
    let connect = anna.connect();
    relay.exchange(vec![connect], |reply| {
        anna.receive(reply, NOW).expect("takes").send
    });
    let asked = anna.want(id);
    assert!(!asked.is_empty(), "a request goes out");
    relay.exchange(asked, |reply| anna.receive(reply, NOW).expect("takes").send);
    assert!(
        matches!(anna.contact(&id), Loadable::Ready(_)),
        "fetched and readable"
    );
    assert!(
        anna.entry(&id).is_none(),
        "but not listed in kempen's index"
    );
}

#[test]
fn my_day_lists_the_follow_ups_a_colleague_wrote_on_my_record_for_both_of_us() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    session(&mut relay, &mut anna);
    let mut bram = fresh("Bram");
    session(&mut relay, &mut bram);
    let today: crate::Day = "2026-11-24".parse().expect("day");
    add_note(
        &mut bram,
        id,
        NOW + 1,
        NewNote {
            follow_up: Some(today),
            ..note("Call back about the training")
        },
    );
    let row = bram.entry(&id).expect("listed").summary.clone();
    assert_eq!(row.worker, "Anna", "assigned to Anna");
    assert_eq!(row.follow_up_by.as_deref(), Some("Bram"), "written by Bram");
    session(&mut relay, &mut bram);
    session(&mut relay, &mut anna);
    for (repo, me) in [(&anna, "Anna"), (&bram, "Bram")] {
        let mine = repo.follow_ups(Whose::Mine(me), today);
        assert_eq!(mine.len(), 1, "{me} sees it");
        assert_eq!(mine[0].0, Due::Today);
    }
    assert!(anna.follow_ups(Whose::Mine("Cleo"), today).is_empty());
}

#[test]
fn the_employer_page_lists_the_referrals_made_to_it_and_their_outcomes() {
    let mut anna = fresh("Anna");
    let (bakery, _) = anna.create_employer("Bakery", NOW).expect("employer");
    let (garage, _) = anna.create_employer("Garage", NOW).expect("employer");
    let day = |d: &str| d.parse::<crate::Day>().expect("day");
    let mut refer = |name: &str, to: DocumentId, opening: &str, on: &str| {
        let (id, _) = anna
            .create_contact(new_contact(name), NOW)
            .expect("contact");
        let (rid, _) = anna
            .edit_contact(id, NOW, |c, ed| {
                c.add_referral(ed, Some(to), opening, day(on))
            })
            .expect("referral");
        (id, rid)
    };
    let (lotte, lotte_ref) = refer("Lotte", bakery, "Apprentice baker", "2026-11-20");
    refer("Sem", garage, "Mechanic", "2026-11-21");
    let (_, noor_ref) = refer("Noor", bakery, "Shop assistant", "2026-11-22");
    anna.edit_contact(lotte, NOW, |c, ed| {
        c.set_referral_outcome(ed, &lotte_ref, crate::contact::Outcome::Hired)
    })
    .expect("hired");
    let to_bakery = anna.referrals_to(&bakery);
    let shown: Vec<(String, String, &str)> = to_bakery
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                r.referral.opening.clone(),
                r.referral.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("Noor".to_string(), "Shop assistant".to_string(), "pending"),
            ("Lotte".to_string(), "Apprentice baker".to_string(), "hired"),
        ]
    );
    // A referral removed by mistake is not listed.
    let noor = to_bakery[0].contact;
    anna.edit_contact(noor, NOW, |c, ed| c.remove_referral(ed, &noor_ref))
        .expect("removed");
    assert_eq!(anna.referrals_to(&bakery).len(), 1);
}

#[test]
fn what_waits_for_the_relay_counts_changes_and_records() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    for text in ["first", "second", "third"] {
        add_note(&mut anna, id, NOW, note(text));
    }
    assert_eq!(anna.pending_changes(), (4, 1), "4 changes in 1 record");
    session(&mut relay, &mut anna);
    assert_eq!(anna.pending_changes(), (0, 0));
    anna.edit_contact(id, NOW + 1, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    let (_, _) = anna.create_employer("Bakery", NOW).expect("employer");
    assert_eq!(anna.pending_changes(), (2, 2), "only what the relay lacks");
}

#[test]
fn a_contact_is_found_by_full_name_phone_or_municipality_ignoring_case_and_accents() {
    let mut repo = fresh("Anna");
    let (id, _) = repo
        .create_contact(new_contact("Zsófi"), NOW)
        .expect("created");
    let (other, _) = repo
        .create_contact(new_contact("Bram"), NOW)
        .expect("created");
    repo.edit_contact(id, NOW, |c, ed| {
        c.set_field(ed, ContactField::FullName, Some("Kovács Zsófia"))?;
        c.set_field(ed, ContactField::Phone, Some("+36 30 123 4567"))?;
        c.set_field(ed, ContactField::Municipality, Some("Kőszeg"))
    })
    .expect("edited");
    assert_eq!(repo.read_for_search(1), (1, 1), "one read, one left");
    assert_eq!(repo.read_for_search(10), (1, 0));
    assert_eq!(repo.read_for_search(10), (0, 0), "nothing left to read");
    let found = |repo: &Repo, q: &str| -> Vec<String> {
        let q = crate::language::fold(q);
        let mut names: Vec<String> = repo
            .entries()
            .filter(|e| repo.finds(e, &q))
            .map(|e| e.summary.name.clone())
            .collect();
        names.sort();
        names
    };
    for q in ["zsofi", "KOVACS", "koszeg", "30 123 45", "301234567"] {
        assert_eq!(found(&repo, q), ["Zsófi"], "{q}");
    }
    assert_eq!(found(&repo, "bram"), ["Bram"]);
    assert!(found(&repo, "csepreg").is_empty());
    // A changed field is searched as it is now, not as it was first read.
    repo.edit_contact(id, NOW + 1, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Csepreg"))
    })
    .expect("moved");
    assert!(
        found(&repo, "csepreg").is_empty(),
        "not read since it changed"
    );
    assert_eq!(repo.read_for_search(10), (1, 0));
    assert_eq!(found(&repo, "csepreg"), ["Zsófi"]);
    assert!(found(&repo, "koszeg").is_empty());
    assert!(repo.entry(&other).is_some());
}

/// [`session`] with the relay's messages arriving at `now_ms`.
fn session_at(relay: &mut Relay, repo: &mut Repo, now_ms: i64) {
    exchange(relay, repo, now_ms);
    repo.disconnect();
}

#[test]
fn a_record_is_on_the_relay_since_the_relay_confirmed_its_latest_change() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    assert_eq!(anna.on_relay_since(&id), None, "not yet on the relay");
    session_at(&mut relay, &mut anna, NOW + 1_000);
    assert_eq!(anna.on_relay_since(&id), Some(NOW + 1_000));
    anna.edit_contact(id, NOW + 2_000, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    assert_eq!(anna.on_relay_since(&id), None, "the new change waits");
    session_at(&mut relay, &mut anna, NOW + 3_000);
    assert_eq!(anna.on_relay_since(&id), Some(NOW + 3_000));
    // A second device has the record from the relay: there since it arrived.
    let mut bram = fresh("Bram");
    session_at(&mut relay, &mut bram, NOW + 4_000);
    assert_eq!(bram.on_relay_since(&id), Some(NOW + 4_000));
}

#[test]
fn my_day_marks_an_employer_follow_up_done_like_a_note() {
    let mut repo = fresh("Anna");
    let today: crate::Day = "2026-11-24".parse().expect("day");
    let (employer, _) = repo
        .create_employer("Bakkerij Peeters", NOW)
        .expect("created");
    repo.edit_employer(employer, NOW, |e, ed| {
        for follow_up in ["2026-11-23", "2026-11-26"] {
            e.add_visit(
                ed,
                crate::employer::NewVisit {
                    date: today,
                    purpose: "intro".into(),
                    text: String::new(),
                    openings: vec![],
                    follow_up: Some(follow_up.parse().expect("day")),
                },
            )?;
        }
        Ok(())
    })
    .expect("visits");
    let (contact, _) = repo
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    add_note(
        &mut repo,
        contact,
        NOW,
        NewNote {
            follow_up: Some(today),
            ..note("Call back")
        },
    );
    let due = |repo: &Repo| -> Vec<(Due, String)> {
        repo.follow_ups(Whose::Mine("Anna"), today)
            .into_iter()
            .map(|(d, e)| (d, e.summary.name))
            .collect()
    };
    assert_eq!(
        due(&repo),
        [
            (Due::Overdue(1), "Bakkerij Peeters".to_string()),
            (Due::Today, "Lotte".into())
        ]
    );
    repo.finish_follow_up(employer, NOW + 1).expect("done");
    assert_eq!(
        due(&repo),
        [
            (Due::Today, "Lotte".to_string()),
            (Due::Soon(2), "Bakkerij Peeters".into())
        ],
        "the overdue visit is done; the next one shows"
    );
    repo.finish_follow_up(contact, NOW + 2).expect("done");
    repo.finish_follow_up(employer, NOW + 3).expect("done");
    assert!(due(&repo).is_empty());
    assert!(
        matches!(
            repo.finish_follow_up(contact, NOW + 4),
            Err(ModelError::NotFound { .. })
        ),
        "nothing left to mark"
    );
}

/// `repo` started again from `snapshot`, with the index and the records `ids` as they
/// are now in `repo` (each as its one chunk, with its sync state), as after a reload.
fn reloaded(repo: &Repo, snapshot: &Snapshot, ids: &[DocumentId]) -> Repo {
    let mut again = Repo::from_snapshot(device("Anna"), snapshot).expect("decodes");
    let states: Vec<(DocumentId, Vec<u8>)> = std::iter::once(repo.index_id)
        .chain(ids.iter().copied())
        .filter_map(|id| Some((id, repo.replica.sync_state(&id)?)))
        .collect();
    again.open_index(stored_index(repo), states.clone());
    let docs = ids
        .iter()
        .map(|id| StoredDoc {
            id: *id,
            doc: repo.replica.doc(id).expect("held").clone(),
            chunks: 1,
            next_seq: 1,
            partly_damaged: false,
        })
        .collect();
    again.add_loaded(
        Loaded {
            docs,
            kept: vec![],
            damaged: vec![],
        },
        states,
    );
    again
}

#[test]
fn on_the_relay_since_is_kept_across_a_reload() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (lotte, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    let (bram, _) = anna
        .create_contact(new_contact("Bram"), NOW)
        .expect("created");
    session_at(&mut relay, &mut anna, NOW + 1_000);
    assert_eq!(anna.on_relay_since(&lotte), Some(NOW + 1_000));
    anna.edit_contact(bram, NOW + 2_000, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");

    let snapshot = snapshot_of(&mut anna);
    let mut again = reloaded(&anna, &snapshot, &[lotte, bram]);
    assert_eq!(again.on_relay_since(&lotte), Some(NOW + 1_000), "kept");
    assert_eq!(again.on_relay_since(&bram), None, "its change still waits");
    // A later session leaves the time as it was: the relay had this version before.
    session_at(&mut relay, &mut again, NOW + 5_000);
    assert_eq!(again.on_relay_since(&lotte), Some(NOW + 1_000));
    assert_eq!(again.on_relay_since(&bram), Some(NOW + 5_000));
}

#[test]
fn a_kept_time_is_not_shown_for_a_version_the_relay_was_not_seen_with() {
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (lotte, _) = anna
        .create_contact(new_contact("Lotte"), NOW)
        .expect("created");
    session_at(&mut relay, &mut anna, NOW + 1_000);
    let snapshot = snapshot_of(&mut anna);
    // Changed after the snapshot and confirmed, but the snapshot was not written again.
    anna.edit_contact(lotte, NOW + 2_000, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("0470 11 22 33"))
    })
    .expect("edited");
    session_at(&mut relay, &mut anna, NOW + 3_000);
    let again = reloaded(&anna, &snapshot, &[lotte]);
    assert!(!again.is_pending(&lotte));
    assert_eq!(again.on_relay_since(&lotte), None, "not NOW + 1_000");
}

#[test]
fn the_search_text_is_kept_across_a_reload_and_only_changed_records_are_read_again() {
    let mut anna = fresh("Anna");
    let (zsofi, _) = anna
        .create_contact(new_contact("Zsófi"), NOW)
        .expect("created");
    let (bram, _) = anna
        .create_contact(new_contact("Bram"), NOW)
        .expect("created");
    anna.edit_contact(zsofi, NOW, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Kőszeg"))
    })
    .expect("edited");
    assert_eq!(anna.read_for_search(10), (2, 0));
    let snapshot = snapshot_of(&mut anna);
    assert!(
        anna.tidy().is_none(),
        "written once while nothing new was read"
    );
    let found = |repo: &Repo, q: &str| -> Vec<String> {
        let q = crate::language::fold(q);
        repo.entries()
            .filter(|e| repo.finds(e, &q))
            .map(|e| e.summary.name.clone())
            .collect()
    };
    let again = reloaded(&anna, &snapshot, &[zsofi, bram]);
    assert_eq!(again.read_for_search(10), (0, 0), "nothing to read");
    assert_eq!(found(&again, "koszeg"), ["Zsófi"]);
    // A record changed since is read again (and found as it is now).
    anna.edit_contact(bram, NOW + 1, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Csepreg"))
    })
    .expect("edited");
    let again = reloaded(&anna, &snapshot, &[zsofi, bram]);
    assert_eq!(again.read_for_search(10), (1, 0), "only Bram");
    assert_eq!(found(&again, "csepreg"), ["Bram"]);
}

#[test]
fn an_anonymous_contact_is_listed_and_found_by_its_description() {
    use crate::contact::Stage;
    let mut repo = fresh("Anna");
    let description = "tall, red cap, skate park by the station, always with a grey dog";
    let (id, step) = repo
        .create_contact_at(
            new_contact("Red cap"),
            Stage::Anonymous,
            &[(ContactField::Description, description.to_string())],
            NOW,
        )
        .expect("created");
    assert_eq!(step.batch.chunks.len(), 2, "record and index");
    assert!(repo.is_pending(&id));
    let name = repo.entry(&id).expect("indexed").summary.name.clone();
    assert_eq!(
        name, "Red cap · tall, red cap, skate park by the station, always with a grey…",
        "the row says 60 characters of the description"
    );
    // A value the stage may not hold is refused before anything becomes pending.
    let refused = repo.create_contact_at(
        new_contact("Lotte"),
        Stage::Anonymous,
        &[(ContactField::Phone, "0470 11 22 33".to_string())],
        NOW,
    );
    assert!(matches!(refused, Err(ModelError::NotAtStage { .. })));
    assert_eq!(repo.entries().count(), 1);
    assert_eq!(repo.read_for_search(10), (1, 0));
    let q = crate::language::fold("GREY DOG");
    let found: Vec<DocumentId> = repo
        .entries()
        .filter(|e| repo.finds(e, &q))
        .map(|e| e.id)
        .collect();
    assert_eq!(found, [id], "found by the end of its description too");
}

#[test]
fn a_stage_changed_on_two_phones_offline_is_changed_by_both_until_one_is_kept() {
    use crate::contact::{ConsentScope, ContactPart, Stage};
    let mut relay = Relay::default();
    let mut anna = fresh("Anna");
    let (id, _) = anna
        .create_contact_at(
            new_contact("Lotte"),
            Stage::Pseudonymous,
            &[(ContactField::Phone, "0470 11 22 33".into())],
            NOW,
        )
        .expect("created");
    anna.edit_contact(id, NOW, |c, ed| {
        c.give_consent(ed, "2026-11-21".parse().expect("day"), ConsentScope::Team)
    })
    .expect("consent");
    session(&mut relay, &mut anna);
    let mut bram = fresh("Bram");
    session(&mut relay, &mut bram);

    // Offline: Anna identifies Lotte, Bram steps her back to anonymous.
    anna.edit_contact(id, NOW + 1, |c, ed| {
        c.move_to_stage(
            ed,
            Stage::Identified,
            &[
                (ContactField::FullName, "Lotte Peeters".into()),
                (ContactField::BirthYear, "2008".into()),
            ],
        )
    })
    .expect("identified");
    bram.edit_contact(id, NOW + 2, |c, ed| {
        c.move_to_stage(ed, Stage::Anonymous, &[])
    })
    .expect("anonymous");
    session(&mut relay, &mut anna);
    session(&mut relay, &mut bram);
    session(&mut relay, &mut anna);

    let read = |repo: &Repo| match repo.contact(&id) {
        Loadable::Ready(c) => c,
        _ => panic!("the contact is on {}", repo.identity.worker),
    };
    for repo in [&anna, &bram] {
        let c = read(repo);
        let mut both: Vec<String> = c.part_conflicts[&ContactPart::Stage]
            .iter()
            .map(|v| format!("{}:{}", v.set_by, v.value))
            .collect();
        both.sort();
        assert_eq!(
            both,
            ["Anna:identified", "Bram:anonymous"],
            "on {}",
            repo.identity.worker
        );
        // Until one is kept it reads as what it holds: Anna's full name, no phone (Bram's).
        assert_eq!(c.stage, Stage::Identified);
        assert_eq!(
            (c.full_name.as_deref(), c.phone.as_deref()),
            (Some("Lotte Peeters"), None)
        );
    }

    // Bram keeps anonymous: what Anna's step added goes with it, on both phones.
    bram.edit_contact(id, NOW + 3, |c, ed| {
        c.keep_part(ed, &ContactPart::Stage, "anonymous")
    })
    .expect("kept");
    session(&mut relay, &mut bram);
    session(&mut relay, &mut anna);
    for repo in [&anna, &bram] {
        let c = read(repo);
        assert!(c.part_conflicts.is_empty(), "{:?}", c.part_conflicts);
        assert_eq!(
            (c.stage, c.stage_kept),
            (Stage::Anonymous, Some(Stage::Anonymous))
        );
        assert_eq!((c.full_name, c.birth_year, c.phone), (None, None, None));
        assert_eq!(
            repo.entry(&id).map(|e| e.summary.name.clone()).as_deref(),
            Some("Lotte")
        );
    }
}
