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
fn consent_and_referrals() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact()).expect("created");
    c.give_consent(&ed, "2026-11-20".parse().expect("day"), "pact partners")
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
