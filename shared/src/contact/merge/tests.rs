use automerge::ActorId;

use super::*;
use crate::contact::{Channel, NewContact, NewNote, Status};

const NOW: i64 = 1_795_521_600_000;

fn editor(worker: &str, at: i64) -> Editor {
    Editor::new(ActorId::random(), worker, at)
}

fn contact(ed: &Editor, name: &str, on: &str) -> ContactDoc {
    ContactDoc::create(
        ed,
        NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: on.parse().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        },
    )
    .expect("created")
}

fn note(c: &mut ContactDoc, ed: &Editor, text: &str) -> String {
    c.add_note(
        ed,
        NewNote {
            text: text.into(),
            follow_up: Some("2026-12-10".parse().expect("day")),
            ..Default::default()
        },
    )
    .expect("note")
}

/// A: "Anna Kovács", phone, a note; B: "Kovacs Anna", another phone, a birth year,
/// a municipality, two notes (one done), a referral, engaged, consent to share with
/// the pact.
fn pair() -> (ContactDoc, ContactDoc, Editor) {
    let anna = editor("Anna", NOW);
    let bram = editor("Bram", NOW + 1000);
    let mut a = contact(&anna, "Anna Kovács", "2026-11-20");
    a.set_field(&anna, ContactField::Phone, Some("06 30 123 4567"))
        .expect("phone");
    note(&mut a, &anna, "met at the skate park");
    let mut b = contact(&bram, "Kovacs Anna", "2026-10-02");
    b.set_field(&bram, ContactField::Phone, Some("+36 30 765 4321"))
        .expect("phone");
    b.set_field(&bram, ContactField::BirthYear, Some("2007"))
        .expect("year");
    b.set_field(&bram, ContactField::Municipality, Some("Kőszeg"))
        .expect("town");
    b.set_tags(&bram, &["sport".into()]).expect("tags");
    note(&mut b, &bram, "came to the youth centre");
    let done = note(&mut b, &bram, "called her mother");
    b.set_note_done(&bram, &done, true).expect("done");
    b.add_referral(
        &bram,
        None,
        "kitchen help",
        "2026-10-20".parse().expect("day"),
    )
    .expect("referral");
    b.change_status(&bram, Status::Engaged, None)
        .expect("status");
    b.give_consent(
        &bram,
        "2026-10-02".parse().expect("day"),
        ConsentScope::Pact,
    )
    .expect("consent");
    (a, b, editor("Carla", NOW + 2000))
}

#[test]
fn a_merge_keeps_both_timelines_and_never_overwrites_a() {
    let (mut a, b, carla) = pair();
    let b_read = b.read().expect("b");
    let merge = a.merge_from(&carla, &b_read).expect("merged");
    assert_eq!((merge.notes, merge.referrals), (2, 1));
    assert_eq!(
        merge.filled,
        vec![ContactField::BirthYear, ContactField::Municipality]
    );
    assert_eq!(
        merge.kept_apart,
        vec![ContactField::Phone, ContactField::DisplayName]
    );
    assert_eq!(merge.consent, ConsentMerge::TakenForTeamOnly);
    assert!(!merge.already);

    let merged = a.read().expect("a");
    assert_eq!(merged.display_name, "Anna Kovács");
    assert_eq!(merged.phone.as_deref(), Some("06 30 123 4567"), "A's kept");
    assert_eq!(merged.birth_year, Some(2007));
    assert_eq!(merged.municipality.as_deref(), Some("Kőszeg"));
    assert_eq!(merged.tags, vec!["sport".to_string()]);
    assert_eq!(merged.notes.len(), 3);
    for n in &b_read.notes {
        let copy = merged.notes.iter().find(|m| m.id == n.id).expect("copied");
        assert_eq!(copy, n, "note copied as it was");
    }
    assert_eq!(merged.referrals, b_read.referrals);
    assert_eq!(merged.status, Status::New, "A's status stays");
    // B's consent shared with the pact: A takes it for the team only.
    assert!(merged.consent.is_active());
    assert!(!merged.consent.shares_beyond_team());
    assert!(!crate::contact::shares_beyond_team(a.record().doc()));

    let entries = merged_from(a.record().doc());
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.id, b_read.id.to_string());
    assert_eq!(e.name, "Kovacs Anna");
    assert_eq!(e.by, "Carla");
    assert_eq!(e.status.as_deref(), Some("engaged"));
    assert_eq!(e.status_history, b_read.status_history);
    assert_eq!(e.consent, b_read.consent);
    assert_eq!(e.first_contact_on, b_read.first_contact_on);
    assert_eq!(
        e.kept_apart,
        vec![
            ("display_name".to_string(), "Kovacs Anna".to_string()),
            ("phone".to_string(), "+36 30 765 4321".to_string()),
        ]
    );
    // The history names the change.
    let history = a.record().history();
    assert!(history.iter().any(|h| h.what == "merged"), "{history:?}");
}

#[test]
fn a_consent_of_a_stays_and_the_team_scope_of_b_is_taken_as_it_is() {
    let (mut a, mut b, carla) = pair();
    let on = "2026-11-21".parse().expect("day");
    a.give_consent(&carla, on, ConsentScope::Team)
        .expect("consent");
    let merge = a
        .clone()
        .merge_from(&carla, &b.read().expect("b"))
        .expect("merged");
    assert_eq!(merge.consent, ConsentMerge::KeptOwn);
    let mut fresh = contact(&carla, "Anna K.", "2026-11-22");
    b.give_consent(&carla, on, ConsentScope::Team)
        .expect("team");
    let merge = fresh
        .merge_from(&carla, &b.read().expect("b"))
        .expect("merged");
    assert_eq!(merge.consent, ConsentMerge::Taken);
    assert_eq!(fresh.read().expect("read").consent.given_on, Some(on));
}

#[test]
fn merging_twice_or_on_two_phones_at_once_adds_nothing_twice() {
    let (a, b, carla) = pair();
    let b_read = b.read().expect("b");
    let mut one = a.clone();
    let mut two = a.clone();
    one.merge_from(&carla, &b_read).expect("one");
    let again = one.merge_from(&carla, &b_read).expect("again");
    assert!(again.already);
    two.merge_from(&editor("Dirk", NOW + 3000), &b_read)
        .expect("two");
    one.merge(&two).expect("sync");
    let read = one.read().expect("read");
    assert_eq!(read.notes.len(), 3, "{:?}", read.notes);
    assert_eq!(read.referrals.len(), 1);
    assert_eq!(merged_from(one.record().doc()).len(), 1);
}

#[test]
fn a_contact_is_not_merged_into_itself() {
    let (mut a, _, carla) = pair();
    let me = a.read().expect("a");
    assert!(a.merge_from(&carla, &me).is_err());
    assert_eq!(a.read().expect("a").notes.len(), 1);
}

#[test]
fn the_participant_data_of_b_is_taken_only_with_consent_and_always_kept_in_the_entry() {
    use crate::contact::{Education, Entry, Gender, LabourStatus, ParticipantResult};
    let (a, mut b, carla) = pair();
    let day = |s: &str| s.parse::<Day>().expect("day");
    b.set_participant_entry(
        &carla,
        Entry {
            entry_on: day("2026-10-05"),
            labour_status: LabourStatus::Unemployed,
            education: Education::Isced3To4,
            gender: Gender::Woman,
        },
    )
    .expect("entry");
    b.set_participant_left(&carla, Some(day("2026-11-01")))
        .expect("left");
    b.add_participant_result(&carla, ParticipantResult::Employed, day("2026-11-10"))
        .expect("result");
    let b_read = b.read().expect("b");
    // A takes B's consent (for the team), so it may hold the participant data.
    let mut taken = a.clone();
    let merge = taken.merge_from(&carla, &b_read).expect("merged");
    assert!(merge.participant);
    assert_eq!(taken.read().expect("a").participant, b_read.participant);
    // A's consent withdrawn: B's data is not written into A, but the entry keeps the facts.
    let mut withdrawn = a.clone();
    withdrawn
        .give_consent(&carla, day("2026-11-20"), ConsentScope::Team)
        .expect("given");
    withdrawn
        .withdraw_consent(&carla, day("2026-11-25"))
        .expect("withdrawn");
    let merge = withdrawn.merge_from(&carla, &b_read).expect("merged");
    assert!(!merge.participant);
    assert_eq!(withdrawn.read().expect("a").participant, None);
    let doc = withdrawn.record().doc();
    let entries = record::obj_at(doc, &ROOT, "merged_from", ObjType::Map).expect("entries");
    let (_, entry) = record::child_maps(doc, &entries).remove(0);
    let facts = record::obj_at(doc, &entry, "participant", ObjType::Map).expect("kept");
    assert_eq!(
        record::str_at(doc, &facts, "entry_on").as_deref(),
        Some("2026-10-05")
    );
}

#[test]
fn a_birth_date_of_b_is_taken_with_its_year_or_kept_apart_when_a_has_another_year() {
    let anna = editor("Anna", NOW);
    let bram = editor("Bram", NOW + 1000);
    // Records from before stages: edited field by field as before.
    let mut b = contact(&bram, "Kovacs Anna", "2026-10-02");
    b.set_field(&bram, ContactField::BirthDate, Some("2007-03-01"))
        .expect("date");
    let b = b.read().expect("b");
    let mut a = contact(&anna, "Anna Kovács", "2026-11-20");
    let merge = a.merge_from(&anna, &b).expect("merged");
    assert_eq!(
        merge.filled,
        vec![ContactField::BirthYear, ContactField::BirthDate]
    );
    let read = a.read().expect("a");
    assert_eq!(
        (read.birth_year, read.birth_date.map(|d| d.to_string())),
        (Some(2007), Some("2007-03-01".to_string()))
    );
    // A born another year: neither B's year nor its date is taken.
    let mut other = contact(&anna, "Anna Kovács", "2026-11-20");
    other
        .set_field(&anna, ContactField::BirthYear, Some("2006"))
        .expect("year");
    let merge = other.merge_from(&anna, &b).expect("merged");
    assert!(merge.filled.is_empty(), "{:?}", merge.filled);
    for field in [ContactField::BirthYear, ContactField::BirthDate] {
        assert!(merge.kept_apart.contains(&field), "{:?}", merge.kept_apart);
    }
    let read = other.read().expect("other");
    assert_eq!((read.birth_year, read.birth_date), (Some(2006), None));
}
