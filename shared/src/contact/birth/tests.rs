//! Tests of `birth`: what a birth date may be, the year it brings, and what a step
//! down or a year of its own does to it.

use automerge::ActorId;

use super::*;
use crate::contact::{Channel, ConsentScope, NewContact, Stage};
use crate::date::Day;

/// 2026-11-22 12:00 UTC.
const NOW: i64 = 1_795_348_800_000;

fn editor() -> Editor {
    Editor::new(ActorId::random(), "Anna", NOW)
}

fn values(v: &[(ContactField, &str)]) -> Vec<(ContactField, String)> {
    v.iter().map(|(f, s)| (*f, s.to_string())).collect()
}

/// A contact with consent, at the first-name stage.
fn named() -> ContactDoc {
    let ed = editor();
    let mut c = ContactDoc::create_at(
        &ed,
        NewContact {
            team: "kempen".into(),
            display_name: "Lotte".into(),
            first_contact_on: "2026-11-20".parse::<Day>().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        },
        Stage::Pseudonymous,
        &values(&[(ContactField::Phone, "0470 11 22 33")]),
    )
    .expect("created");
    c.give_consent(&ed, "2026-11-21".parse().expect("day"), ConsentScope::Team)
        .expect("consent");
    c
}

#[test]
fn a_birth_date_is_a_real_day_not_in_the_future_nor_a_century_back() {
    let ok = |s: &str| BirthDate::checked_on(s, NOW).map(|d| d.to_string());
    assert_eq!(ok("2008-02-29"), Ok("2008-02-29".into()), "a leap day");
    assert_eq!(ok(" 2008-05-14 "), Ok("2008-05-14".into()));
    for bad in [
        "2007-02-29",
        "2008-13-01",
        "14/05/2008",
        "2008-5-14",
        "",
        "yesterday",
    ] {
        assert!(
            matches!(ok(bad), Err(ModelError::BadDate { .. })),
            "{bad}: {:?}",
            ok(bad)
        );
    }
    // Today is possible wherever it is today (at 12:00 UTC it is already the 23rd at UTC+14).
    assert!(ok("2026-11-22").is_ok());
    assert!(ok("2026-11-23").is_ok());
    assert_eq!(
        ok("2026-11-24"),
        Err(ModelError::TooLate {
            field: "birth date",
            latest: "2026-11-23".into()
        })
    );
    // Before the birth year's range: refused, naming the earliest.
    assert_eq!(
        ok("1949-12-31"),
        Err(ModelError::TooEarly {
            field: "birth date",
            earliest: "1950-01-01".into()
        })
    );
    // Seen from 2070, a hundred years back is the limit.
    let later = NOW + 44 * 365 * 86_400_000;
    assert!(matches!(
        BirthDate::checked_on("1965-01-01", later),
        Err(ModelError::TooEarly { .. })
    ));
    assert!(BirthDate::checked_on("1975-01-01", later).is_ok());
}

#[test]
fn identifying_with_a_birth_date_sets_the_year_in_the_same_change() {
    let ed = editor();
    let mut c = named();
    let heads = c.record().doc().get_heads().len();
    c.move_to_stage(
        &ed,
        Stage::Identified,
        &values(&[
            (ContactField::FullName, "Lotte Peeters"),
            (ContactField::BirthDate, "2008-05-14"),
            (ContactField::BirthYear, ""),
        ]),
    )
    .expect("identified");
    assert_eq!(heads, c.record().doc().get_heads().len(), "one change");
    let read = c.read().expect("read");
    assert_eq!(
        read.birth_date.map(|d| d.to_string()).as_deref(),
        Some("2008-05-14")
    );
    assert_eq!(read.birth_year, Some(2008), "the year follows the date");
    assert_eq!(read.stage, Stage::Identified);
}

#[test]
fn a_bad_birth_date_or_a_year_of_another_year_stores_nothing() {
    let ed = editor();
    let mut c = named();
    for (date, year, error) in [
        ("2008-02-30", "", "BadDate"),
        ("2030-01-01", "", "TooLate"),
        ("1930-01-01", "", "TooEarly"),
        ("2008-05-14", "2007", "BirthYearNotOfDate"),
    ] {
        let refused = c
            .move_to_stage(
                &ed,
                Stage::Identified,
                &values(&[
                    (ContactField::FullName, "Lotte Peeters"),
                    (ContactField::BirthDate, date),
                    (ContactField::BirthYear, year),
                ]),
            )
            .expect_err(date);
        assert!(
            format!("{refused:?}").starts_with(error),
            "{date}: {refused:?}"
        );
        let read = c.read().expect("read");
        assert_eq!(
            (read.stage, read.full_name, read.birth_date, read.birth_year),
            (Stage::Pseudonymous, None, None, None),
            "{date}: nothing stored"
        );
    }
    // Not at the first-name stage, not even alone.
    assert_eq!(
        c.set_field(&ed, ContactField::BirthDate, Some("2008-05-14")),
        Err(ModelError::NotAtStage {
            field: "birth date",
            stage: "pseudonymous"
        })
    );
}

#[test]
fn the_year_and_the_date_stay_in_step_and_a_step_down_clears_both() {
    let ed = editor();
    let mut c = named();
    c.move_to_stage(
        &ed,
        Stage::Identified,
        &values(&[
            (ContactField::FullName, "Lotte Peeters"),
            (ContactField::BirthYear, "2008"),
        ]),
    )
    .expect("a year alone is enough");
    let read = c.read().expect("read");
    assert_eq!((read.birth_year, read.birth_date), (Some(2008), None));
    // Given later, the date brings its year; a wrong date is refused and changes nothing.
    assert!(
        c.set_field(&ed, ContactField::BirthDate, Some("2099-01-01"))
            .is_err()
    );
    c.set_field(&ed, ContactField::BirthDate, Some("2007-12-31"))
        .expect("date");
    let read = c.read().expect("read");
    assert_eq!(read.birth_year, Some(2007));
    // The same year keeps the date; another year removes it; clearing the date keeps
    // the year, clearing the year clears the date.
    c.set_field(&ed, ContactField::BirthYear, Some("2007"))
        .expect("same");
    assert!(c.read().expect("read").birth_date.is_some());
    c.set_field(&ed, ContactField::BirthYear, Some("2006"))
        .expect("other");
    let read = c.read().expect("read");
    assert_eq!((read.birth_year, read.birth_date), (Some(2006), None));
    c.set_field(&ed, ContactField::BirthDate, Some("2006-03-01"))
        .expect("date");
    c.set_field(&ed, ContactField::BirthDate, None)
        .expect("date cleared");
    let read = c.read().expect("read");
    assert_eq!((read.birth_year, read.birth_date), (Some(2006), None));
    c.set_field(&ed, ContactField::BirthDate, Some("2006-03-01"))
        .expect("date");
    c.set_field(&ed, ContactField::BirthYear, None)
        .expect("year cleared");
    let read = c.read().expect("read");
    assert_eq!((read.birth_year, read.birth_date), (None, None));

    // Back to the first name: the date leaves with the full name and the year.
    c.set_field(&ed, ContactField::BirthDate, Some("2006-03-01"))
        .expect("date");
    c.move_to_stage(&ed, Stage::Pseudonymous, &[])
        .expect("down");
    let read = c.read().expect("read");
    assert_eq!(
        (read.stage, read.full_name, read.birth_year, read.birth_date),
        (Stage::Pseudonymous, None, None, None)
    );
    assert!(
        crate::record::opt_str_at(c.record().doc(), &ROOT, "birth_date").is_none(),
        "the key is gone"
    );
}

#[test]
fn two_phones_setting_different_dates_are_changed_by_both_and_keeping_one_sets_its_year() {
    let ed = editor();
    let mut here = named();
    here.move_to_stage(
        &ed,
        Stage::Identified,
        &values(&[(ContactField::FullName, "Lotte Peeters")]),
    )
    .expect("identified");
    let mut there = ContactDoc::load(here.record().id(), &here.record().save()).expect("copy");
    here.set_field(&ed, ContactField::BirthDate, Some("2008-05-14"))
        .expect("here");
    let bram = Editor::new(ActorId::random(), "Bram", NOW + 1);
    there
        .set_field(&bram, ContactField::BirthDate, Some("2007-05-14"))
        .expect("there");
    here.merge(&there).expect("merged");
    let read = here.read().expect("read");
    assert!(
        read.conflicts.contains_key(&ContactField::BirthDate),
        "{:?}",
        read.conflicts
    );
    here.set_field(&ed, ContactField::BirthDate, Some("2007-05-14"))
        .expect("kept");
    let read = here.read().expect("read");
    assert!(read.conflicts.is_empty(), "{:?}", read.conflicts);
    assert_eq!(read.birth_year, Some(2007));
}
