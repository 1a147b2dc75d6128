//! Tests of `contact`.

use super::*;
use automerge::ActorId;

fn editor() -> Editor {
    Editor::new(ActorId::random(), "Anna", 1_795_521_600_000)
}

fn new_contact() -> NewContact {
    NewContact {
        team: "kempen".into(),
        display_name: "Lotte".into(),
        first_contact_on: "2026-11-20".parse().expect("day"),
        channel: Channel::Street,
        place: Some("market square".into()),
        assigned_worker: None,
    }
}

#[test]
fn the_quick_index_row_equals_the_one_read_from_the_whole_contact() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    let quick = |c: &ContactDoc| summary_of(c.record()).expect("quick");
    assert_eq!(quick(&c), c.read().expect("read").summary());
    let day = |d: &str| Some(d.parse::<Day>().expect("day"));
    let mut ids = Vec::new();
    for (text, follow_up) in [
        ("first", day("2026-12-03")),
        ("second", day("2026-12-01")),
        ("third", None),
    ] {
        let note = NewNote {
            text: text.into(),
            follow_up,
            ..Default::default()
        };
        ids.push(c.add_note(&ed, note).expect("note"));
        assert_eq!(quick(&c), c.read().expect("read").summary());
    }
    assert_eq!(quick(&c).next_follow_up, day("2026-12-01"));
    c.set_note_done(&ed, &ids[1], true).expect("done");
    assert_eq!(
        quick(&c).next_follow_up,
        day("2026-12-03"),
        "done ones count not"
    );
    c.change_status(&ed, Status::Engaged, None).expect("status");
    c.set_field(&ed, ContactField::DisplayName, Some("Lotte P."))
        .expect("renamed");
    assert_eq!(quick(&c), c.read().expect("read").summary());
    assert_eq!(quick(&c).status.as_deref(), Some("engaged"));
}

#[test]
fn a_street_meeting_needs_only_a_name_and_where() {
    let c = ContactDoc::create(&editor(), new_contact()).expect("created");
    let read = c.read().expect("read");
    assert_eq!(read.display_name, "Lotte");
    assert_eq!(read.assigned_worker, "Anna");
    assert_eq!(read.status, Status::New);
    assert_eq!(read.status_history.len(), 1);
    assert_eq!(read.channel, Some(Channel::Street));
    assert_eq!(read.first_place.as_deref(), Some("market square"));
}

#[test]
fn an_empty_name_is_refused() {
    let err = ContactDoc::create(
        &editor(),
        NewContact {
            display_name: "  ".into(),
            ..new_contact()
        },
    )
    .expect_err("empty name");
    assert_eq!(err.to_string(), "name must not be empty");
}

#[test]
fn fields_are_validated_and_nothing_is_written_on_error() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    let heads = c.record().heads();
    assert!(
        c.set_field(&ed, ContactField::BirthYear, Some("1890"))
            .is_err()
    );
    assert!(
        c.set_field(&ed, ContactField::Phone, Some("no phone"))
            .is_err()
    );
    assert!(
        c.set_field(&ed, ContactField::Status, Some("famous"))
            .is_err()
    );
    assert_eq!(c.record().heads(), heads, "refused edits leave no change");
    c.set_field(&ed, ContactField::Phone, Some("+32 470 12 34 56"))
        .expect("phone");
    c.set_field(&ed, ContactField::BirthYear, Some("2007"))
        .expect("year");
    let read = c.read().expect("read");
    assert_eq!(read.phone.as_deref(), Some("+32 470 12 34 56"));
    assert_eq!(read.birth_year, Some(2007));
    c.set_field(&ed, ContactField::Phone, None).expect("clear");
    assert_eq!(c.read().expect("read").phone, None);
}

#[test]
fn status_changes_are_recorded_with_who_and_when() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    c.change_status(&ed.at(ed.now_ms + 1000), Status::Engaged, None)
        .expect("engaged");
    assert_eq!(
        c.change_status(&ed, Status::Closed, None),
        Err(ModelError::ReasonRequired)
    );
    assert!(matches!(
        c.change_status(&ed, Status::Engaged, None),
        Err(ModelError::StatusUnchanged(_))
    ));
    c.change_status(&ed, Status::Closed, Some("moved abroad"))
        .expect("closed");
    let read = c.read().expect("read");
    assert_eq!(read.status, Status::Closed);
    let statuses: Vec<_> = read.status_history.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [Status::New, Status::Engaged, Status::Closed]);
    assert_eq!(
        read.status_history[2].reason.as_deref(),
        Some("moved abroad")
    );
    assert_eq!(read.status_history[1].by, "Anna");
    let history = c.record().history();
    assert!(
        history
            .iter()
            .any(|h| h.what == "status: engaged" && h.by == "Anna")
    );
}

#[test]
fn notes_are_newest_first_and_follow_ups_are_tracked() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    assert!(
        c.add_note(
            &ed,
            NewNote {
                text: "   ".into(),
                ..Default::default()
            }
        )
        .is_err()
    );
    let first = c
        .add_note(
            &ed,
            NewNote {
                date: Some("2026-11-20".parse().expect("day")),
                text: "Met at the market".into(),
                follow_up: Some("2026-11-27".parse().expect("day")),
                tags: vec!["CV".into(), "cv".into()],
                ..Default::default()
            },
        )
        .expect("note");
    c.add_note(
        &ed,
        NewNote {
            date: Some("2026-11-22".parse().expect("day")),
            text: "Called back".into(),
            ..Default::default()
        },
    )
    .expect("note");
    let read = c.read().expect("read");
    assert_eq!(read.notes[0].text, "Called back");
    assert_eq!(read.notes[1].tags, ["cv"]);
    assert_eq!(
        read.next_follow_up().map(|d| d.to_string()).as_deref(),
        Some("2026-11-27")
    );
    c.set_note_done(&ed, &first, true).expect("done");
    assert_eq!(c.read().expect("read").next_follow_up(), None);
    c.edit_note(&ed, &first, "Met at the market, interested in welding")
        .expect("edit");
    assert!(
        c.read()
            .expect("read")
            .notes
            .iter()
            .any(|n| n.text.contains("welding"))
    );
    assert!(matches!(
        c.edit_note(&ed, "nope", "x"),
        Err(ModelError::NotFound { .. })
    ));
}

#[test]
fn only_an_active_consent_with_the_pact_scope_shares_beyond_the_team() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    let shared = |c: &ContactDoc| {
        let by_doc = shares_beyond_team(c.record().doc());
        assert_eq!(by_doc, c.read().expect("read").consent.shares_beyond_team());
        by_doc
    };
    assert!(!shared(&c), "no consent");
    c.give_consent(&ed, "2026-11-20".parse().expect("day"), ConsentScope::Team)
        .expect("team");
    assert!(!shared(&c), "the team only");
    let read = c.read().expect("read").consent;
    assert_eq!(read.given_by.as_deref(), Some("Anna"));
    assert_eq!(read.reach(), ConsentScope::Team);
    c.give_consent(&ed, "2026-11-21".parse().expect("day"), ConsentScope::Pact)
        .expect("pact");
    assert!(shared(&c));
    c.withdraw_consent(&ed, "2026-11-22".parse().expect("day"))
        .expect("withdrawn");
    assert!(!shared(&c), "withdrawn");
    c.give_consent(&ed, "2026-11-23".parse().expect("day"), ConsentScope::Pact)
        .expect("given again");
    assert!(shared(&c), "given again: the withdrawal is cleared");
    // A free-text scope from before scopes were typed reads as the team only.
    c.keep_part(&ed, &ContactPart::ConsentScope, "pact partners")
        .expect("old text");
    assert!(!shared(&c));
    assert_eq!(c.read().expect("read").consent.reach(), ConsentScope::Team);
}

#[test]
fn consent_and_referrals() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    c.give_consent(&ed, "2026-11-20".parse().expect("day"), ConsentScope::Pact)
        .expect("consent");
    assert!(c.read().expect("read").consent.is_active());
    c.withdraw_consent(&ed, "2026-11-21".parse().expect("day"))
        .expect("withdraw");
    assert!(!c.read().expect("read").consent.is_active());
    let employer = DocumentId::random();
    let r = c
        .add_referral(
            &ed,
            Some(employer),
            "Kitchen help",
            "2026-11-22".parse().expect("day"),
        )
        .expect("ref");
    c.set_referral_outcome(&ed, &r, Outcome::Hired)
        .expect("outcome");
    let read = c.read().expect("read");
    assert_eq!(read.referrals[0].outcome, Outcome::Hired);
    assert_eq!(read.referrals[0].employer_id, Some(employer));
}

#[test]
fn a_record_survives_save_and_load() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    c.add_note(
        &ed,
        NewNote {
            text: "hello".into(),
            ..Default::default()
        },
    )
    .expect("note");
    let bytes = c.record().save();
    let loaded = ContactDoc::load(c.record().id(), &bytes).expect("loads");
    assert_eq!(loaded.read(), c.read());
    assert!(
        crate::employer::EmployerDoc::load(c.record().id(), &bytes).is_err(),
        "wrong kind"
    );
}

/// Two devices holding the same contact, with a note written on the first.
fn two_devices_with_a_note() -> (ContactDoc, ContactDoc, String, Editor, Editor) {
    let anna = editor();
    let bram = Editor::new(ActorId::random(), "Bram", 1_795_521_700_000);
    let mut a = ContactDoc::create(&anna, new_contact()).expect("created");
    let id = a
        .add_note(
            &anna,
            NewNote {
                text: "Met at the market".into(),
                follow_up: Some("2026-12-03".parse().expect("day")),
                ..Default::default()
            },
        )
        .expect("note");
    let b = ContactDoc::load(a.record().id(), &a.record().save()).expect("copied");
    (a, b, id, anna, bram)
}

#[test]
fn a_note_is_mended_in_one_change_and_an_empty_text_changes_nothing() {
    let (mut c, _, id, ed, _) = two_devices_with_a_note();
    let ed = ed.at(ed.now_ms + 60_000);
    let yesterday: Day = "2026-11-23".parse().expect("day");
    c.update_note(
        &ed,
        &id,
        NewNote {
            text: "Met at the market with his sister".into(),
            date: Some(yesterday),
            place: Some("Grote Markt".into()),
            tags: vec!["family".into()],
            follow_up: None,
        },
    )
    .expect("mended");
    let note = c.read().expect("read").notes.remove(0);
    assert_eq!(note.text, "Met at the market with his sister");
    assert_eq!(note.date, Some(yesterday));
    assert_eq!(note.place.as_deref(), Some("Grote Markt"));
    assert_eq!(note.tags, ["family"]);
    assert_eq!(note.follow_up, None, "the follow-up cleared");
    assert_eq!(summary_of(c.record()).expect("row").next_follow_up, None);
    let history = c.record().history();
    assert_eq!(history.last().map(|h| h.what.as_str()), Some("note edited"));

    let before = c.record().heads();
    let refused = c.update_note(
        &ed,
        &id,
        NewNote {
            text: "  ".into(),
            ..Default::default()
        },
    );
    assert!(matches!(refused, Err(ModelError::Empty { field: "note" })));
    assert_eq!(c.record().heads(), before, "nothing written");
    assert!(matches!(
        c.update_note(
            &ed,
            "no-such-note",
            NewNote {
                text: "x".into(),
                ..Default::default()
            }
        ),
        Err(ModelError::NotFound { what: "note", .. })
    ));
}

#[test]
fn a_removed_note_leaves_the_timeline_and_comes_back_on_undo() {
    let (mut c, _, id, ed, _) = two_devices_with_a_note();
    c.remove_note(&ed.at(ed.now_ms + 60_000), &id)
        .expect("removed");
    let read = c.read().expect("read");
    assert!(read.notes.is_empty());
    assert_eq!(read.next_follow_up(), None, "its follow-up goes with it");
    assert_eq!(summary_of(c.record()).expect("row").next_follow_up, None);
    c.restore_note(&ed.at(ed.now_ms + 120_000), &id)
        .expect("restored");
    let read = c.read().expect("read");
    assert_eq!(read.notes.len(), 1);
    assert_eq!(read.notes[0].text, "Met at the market");
    let whats: Vec<String> = c.record().history().into_iter().map(|h| h.what).collect();
    assert!(
        whats.ends_with(&["note removed".into(), "note restored".into()]),
        "{whats:?}"
    );
}

#[test]
fn a_note_edited_on_one_phone_while_removed_on_another_is_kept_with_the_edit() {
    for order in [false, true] {
        let (mut a, mut b, id, anna, bram) = two_devices_with_a_note();
        a.remove_note(&anna, &id).expect("removed offline");
        b.edit_note(&bram, &id, "Met at the market; he starts Monday")
            .expect("edited offline");
        if order {
            a.merge(&b).expect("merged");
            b.merge(&a).expect("merged");
        } else {
            b.merge(&a).expect("merged");
            a.merge(&b).expect("merged");
        }
        for c in [&a, &b] {
            let notes = c.read().expect("read").notes;
            assert_eq!(notes.len(), 1, "the edit wins over the removal");
            assert_eq!(notes[0].text, "Met at the market; he starts Monday");
        }
    }
}

#[test]
fn a_removal_nobody_contradicts_holds_after_a_merge() {
    let (mut a, mut b, id, anna, bram) = two_devices_with_a_note();
    a.remove_note(&anna, &id).expect("removed");
    b.change_status(&bram, Status::Engaged, None)
        .expect("other work");
    b.merge(&a).expect("merged");
    let read = b.read().expect("read");
    assert!(read.notes.is_empty());
    assert_eq!(read.status, Status::Engaged);
}

#[test]
fn a_referral_made_by_mistake_is_removed_and_restored() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    let day: Day = "2026-11-24".parse().expect("day");
    let id = c
        .add_referral(&ed, None, "Warehouse assistant", day)
        .expect("referral");
    c.remove_referral(&ed, &id).expect("removed");
    assert!(c.read().expect("read").referrals.is_empty());
    c.restore_referral(&ed, &id).expect("restored");
    assert_eq!(c.read().expect("read").referrals.len(), 1);
    assert!(matches!(
        c.remove_referral(&ed, "nope"),
        Err(ModelError::NotFound {
            what: "referral",
            ..
        })
    ));
}

/// Two copies of one contact with a note and a referral, as two phones hold it.
fn two_phones() -> (ContactDoc, ContactDoc, Editor, Editor, String, String) {
    let anna = editor();
    let mut here = ContactDoc::create(&anna, new_contact()).expect("created");
    let note = here
        .add_note(
            &anna,
            NewNote {
                text: "call about the course".into(),
                follow_up: Some("2026-12-03".parse().expect("day")),
                ..Default::default()
            },
        )
        .expect("note");
    let referral = here
        .add_referral(
            &anna,
            None,
            "Apprentice baker",
            "2026-11-25".parse().expect("day"),
        )
        .expect("referral");
    // Recorded before scopes were typed: free text (as `keep_part` still writes it).
    here.keep_part(&anna, &ContactPart::ConsentScope, "referrals")
        .expect("consent");
    let there = ContactDoc::load(here.record().id(), &here.record().save()).expect("copy");
    let mia = Editor::new(ActorId::random(), "Mia", 1_795_521_700_000);
    (here, there, anna, mia, note, referral)
}

fn values(c: &ContactDoc, part: &ContactPart) -> Vec<String> {
    let mut v: Vec<String> = c
        .read()
        .expect("read")
        .part_conflicts
        .get(part)
        .map(|vs| {
            vs.iter()
                .map(|c| format!("{}:{}", c.set_by, c.value))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_notes_follow_up_and_done_flag_set_on_two_phones_are_changed_by_both() {
    let (mut here, mut there, anna, mia, note, _) = two_phones();
    let day = |d: &str| Some(d.parse::<Day>().expect("day"));
    here.set_note_follow_up(&anna, &note, day("2026-12-05"))
        .expect("here");
    there
        .set_note_follow_up(&mia, &note, day("2026-12-10"))
        .expect("there");
    // Both mark it done; Mia then reopens it, not having seen Anna's "done".
    // (Putting the value a field already has writes nothing, so a reopen with no
    // "done" before it would not conflict.)
    here.set_note_done(&anna, &note, true).expect("done here");
    there.set_note_done(&mia, &note, true).expect("done there");
    there
        .set_note_done(&mia, &note, false)
        .expect("reopened there");
    here.merge(&there).expect("merged");
    let follow = ContactPart::NoteFollowUp(note.clone());
    let done = ContactPart::NoteDone(note.clone());
    assert_eq!(
        values(&here, &follow),
        ["Anna:2026-12-05", "Mia:2026-12-10"]
    );
    assert_eq!(values(&here, &done), ["Anna:true", "Mia:false"]);

    here.keep_part(&anna, &follow, "2026-12-10").expect("kept");
    here.keep_part(&anna, &done, "false").expect("kept");
    let read = here.read().expect("read");
    assert!(read.part_conflicts.is_empty(), "{:?}", read.part_conflicts);
    assert_eq!(read.notes[0].follow_up, day("2026-12-10"));
    assert!(!read.notes[0].done);
    assert!(here.keep_part(&anna, &done, "maybe").is_err());
}

#[test]
fn consent_and_a_referrals_outcome_set_on_two_phones_are_changed_by_both() {
    let (mut here, mut there, anna, mia, _, referral) = two_phones();
    here.give_consent(
        &anna,
        "2026-11-21".parse().expect("day"),
        ConsentScope::Team,
    )
    .expect("here");
    there
        .give_consent(&mia, "2026-11-22".parse().expect("day"), ConsentScope::Pact)
        .expect("there");
    here.set_referral_outcome(&anna, &referral, Outcome::Hired)
        .expect("here");
    there
        .set_referral_outcome(&mia, &referral, Outcome::Rejected)
        .expect("there");
    here.merge(&there).expect("merged");
    assert_eq!(
        values(&here, &ContactPart::ConsentScope),
        ["Anna:team", "Mia:pact"]
    );
    // Two phones disagreeing on the scope share nothing beyond the team until one is kept.
    assert!(!shares_beyond_team(here.record().doc()));
    assert_eq!(
        values(&here, &ContactPart::ConsentGivenOn),
        ["Anna:2026-11-21", "Mia:2026-11-22"]
    );
    let outcome = ContactPart::ReferralOutcome(referral.clone());
    assert_eq!(values(&here, &outcome), ["Anna:hired", "Mia:rejected"]);
    assert!(here.keep_part(&anna, &outcome, "perhaps").is_err());
    here.keep_part(&anna, &outcome, "rejected").expect("kept");
    here.keep_part(&anna, &ContactPart::ConsentScope, "pact")
        .expect("kept");
    here.keep_part(&anna, &ContactPart::ConsentGivenOn, "2026-11-22")
        .expect("kept");
    let read = here.read().expect("read");
    assert!(read.part_conflicts.is_empty(), "{:?}", read.part_conflicts);
    assert_eq!(read.referrals[0].outcome, Outcome::Rejected);
    assert_eq!(read.consent.reach(), ConsentScope::Pact);
    assert!(shares_beyond_team(here.record().doc()));
    // The kept value reached the other phone as one more change: no conflict there either.
    there.merge(&here).expect("back");
    assert!(there.read().expect("read").part_conflicts.is_empty());
}

#[test]
fn the_same_outcome_set_on_two_phones_is_no_conflict() {
    let (mut here, mut there, anna, mia, _, referral) = two_phones();
    here.set_referral_outcome(&anna, &referral, Outcome::Interview)
        .expect("here");
    there
        .set_referral_outcome(&mia, &referral, Outcome::Interview)
        .expect("there");
    here.merge(&there).expect("merged");
    assert!(here.read().expect("read").part_conflicts.is_empty());
}
