//! Indicator arithmetic on a fixed dataset, the expected figures worked out by hand
//! (see the comments at each record). Records are made and read the way the app
//! does: `ContactDoc` / `EmployerDoc` operations at given times, then the readers.

use automerge::ActorId;

use super::*;
use crate::contact::{
    Channel, ContactDoc, ContactField, Entry, NewContact, ParticipantResult as R, read_contact,
    read_contact_for_figures,
};
use crate::employer::{Commitment, EmployerDoc, EmployerField, NewVisit, Opening, read_employer};
use crate::record::Editor;

fn day(s: &str) -> Day {
    s.parse().expect("day")
}

/// Milliseconds of a UTC time written "YYYY-MM-DD HH:MM".
fn utc(s: &str) -> i64 {
    let (d, t) = s.split_once(' ').expect("day and time");
    let d = day(d);
    let (h, m) = t.split_once(':').expect("hh:mm");
    chrono::NaiveDate::from_ymd_opt(d.year(), d.month(), d.day_of_month())
        .and_then(|d| d.and_hms_opt(h.parse().expect("h"), m.parse().expect("m"), 0))
        .expect("time")
        .and_utc()
        .timestamp_millis()
}

struct World {
    contacts: Vec<Contact>,
    employers: Vec<Employer>,
    ids: BTreeMap<&'static str, DocumentId>,
}

fn ed(at: &str) -> Editor {
    Editor::new(ActorId::from(&[7u8; 16][..]), "Sanne", utc(at))
}

fn contact(team: &str, name: &str, first: &str, created: &str) -> ContactDoc {
    ContactDoc::create(
        &ed(created),
        NewContact {
            team: team.into(),
            display_name: name.into(),
            first_contact_on: day(first),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        },
    )
    .expect("created")
}

fn status(c: &mut ContactDoc, at: &str, s: Status, reason: Option<&str>) {
    c.change_status(&ed(at), s, reason).expect("status");
}

fn participant(c: &mut ContactDoc, born: &str, entry: Entry) {
    c.set_field(&ed("2025-01-01 08:00"), ContactField::BirthYear, Some(born))
        .expect("birth year");
    c.give_consent(
        &ed("2025-01-01 08:00"),
        day("2025-01-01"),
        crate::contact::ConsentScope::Team,
    )
    .expect("consent");
    c.set_participant_entry(&ed("2025-01-01 08:00"), entry)
        .expect("entry");
}

fn entry(on: &str, l: LabourStatus, e: Education, g: Gender) -> Entry {
    Entry {
        entry_on: day(on),
        labour_status: l,
        education: e,
        gender: g,
    }
}

fn result(c: &mut ContactDoc, r: R, on: &str, written: &str) {
    c.add_participant_result(&ed(written), r, day(on))
        .expect("result");
}

fn visit(e: &mut EmployerDoc, on: &str, openings: &[u32]) {
    e.add_visit(
        &ed("2026-01-01 08:00"),
        NewVisit {
            date: day(on),
            purpose: "introduction".into(),
            text: "visit".into(),
            openings: openings
                .iter()
                .map(|n| Opening {
                    title: "kitchen help".into(),
                    count: *n,
                    requirements: None,
                })
                .collect(),
            follow_up: None,
        },
    )
    .expect("visit");
}

fn world() -> World {
    // Employers. X (kempen): known before 2026, committed as an employer since 1 Feb;
    // visits 10 Jan (2 + 1 openings), 31 Mar (1), 15 Dec 2025 (outside Q1).
    let mut x = EmployerDoc::create(&ed("2025-12-01 09:00"), "kempen", "X").expect("x");
    x.set_commitment(
        &ed("2026-02-01 09:00"),
        Commitment::AsEmployer,
        Some(day("2026-02-01")),
    )
    .expect("commitment");
    visit(&mut x, "2026-01-10", &[2, 1]);
    visit(&mut x, "2026-03-31", &[1]);
    visit(&mut x, "2025-12-15", &[5]);
    // Y (kempen): committed as a client only from 2 April (after Q1); visit 1 April.
    let mut y = EmployerDoc::create(&ed("2026-01-02 09:00"), "kempen", "Y").expect("y");
    y.set_commitment(
        &ed("2026-04-02 09:00"),
        Commitment::AsClient,
        Some(day("2026-04-02")),
    )
    .expect("commitment");
    visit(&mut y, "2026-04-01", &[3]);
    // Z (herentals): interested only; one visit without openings.
    let mut z = EmployerDoc::create(&ed("2026-02-01 09:00"), "herentals", "Z").expect("z");
    z.set_commitment(&ed("2026-02-01 09:00"), Commitment::Interested, None)
        .expect("commitment");
    visit(&mut z, "2026-02-02", &[]);
    // W (kempen): made after Q1, so not on record at its end.
    let mut w = EmployerDoc::create(&ed("2026-04-05 09:00"), "kempen", "W").expect("w");
    w.set_commitment(&ed("2026-04-05 09:00"), Commitment::AsEmployer, None)
        .expect("commitment");
    w.set_field(
        &ed("2026-04-05 09:00"),
        EmployerField::Municipality,
        Some("Geel"),
    )
    .expect("municipality");

    // A (kempen): reached 5 Jan; engaged, in guidance, in work at 28 Feb 23:30 UTC
    // (= 1 March 00:30 in Belgium), back to in guidance on 20 March.
    let mut a = contact("kempen", "A", "2026-01-05", "2026-01-05 10:00");
    status(&mut a, "2026-01-10 10:00", Status::Engaged, None);
    status(&mut a, "2026-02-01 10:00", Status::InGuidance, None);
    status(&mut a, "2026-02-28 23:30", Status::InWork, None);
    status(&mut a, "2026-03-20 10:00", Status::InGuidance, None);
    // Notes: one with an open follow-up, one whose follow-up is done, one without.
    for (text, follow_up, done) in [
        ("back to guidance", Some("2026-04-01"), false),
        ("called", Some("2026-03-21"), true),
        ("met", None, false),
    ] {
        let id = a
            .add_note(
                &ed("2026-03-20 10:05"),
                crate::contact::NewNote {
                    text: text.into(),
                    follow_up: follow_up.map(day),
                    ..Default::default()
                },
            )
            .expect("note");
        if done {
            a.set_note_done(&ed("2026-03-21 10:00"), &id, true)
                .expect("done");
        }
    }
    // Participant from 6 Jan (17 in 2026), left 25 March: job-searching on 26 March,
    // employed 10 April (within 4 weeks: employed wins), a qualification 30 April
    // (after the 4 weeks).
    participant(
        &mut a,
        "2009",
        entry(
            "2026-01-06",
            LabourStatus::Unemployed,
            Education::Isced0To2,
            Gender::Woman,
        ),
    );
    a.set_participant_left(&ed("2026-03-25 10:00"), Some(day("2026-03-25")))
        .expect("left");
    result(&mut a, R::JobSearching, "2026-03-26", "2026-03-26 10:00");
    result(&mut a, R::Employed, "2026-04-10", "2026-04-10 10:00");
    result(&mut a, R::Qualification, "2026-04-30", "2026-04-30 10:00");

    // B (kempen): reached in 2025; closed 15 Jan, reopened (engaged) 10 Feb, closed
    // again 5 March for another reason.
    let mut b = contact("kempen", "B", "2025-12-20", "2025-12-20 10:00");
    status(&mut b, "2025-12-21 10:00", Status::Engaged, None);
    status(
        &mut b,
        "2026-01-15 10:00",
        Status::Closed,
        Some("moved away"),
    );
    status(&mut b, "2026-02-10 10:00", Status::Engaged, None);
    status(
        &mut b,
        "2026-03-05 10:00",
        Status::Closed,
        Some("found work alone"),
    );
    // Participant June–September 2025: the six-month mark is 15 March 2026, its window
    // 15 Feb – 12 April: employed 1 Feb is outside; job-searching 1 March and in
    // education 20 March are inside.
    participant(
        &mut b,
        "2004",
        entry(
            "2025-06-02",
            LabourStatus::Inactive,
            Education::Isced3To4,
            Gender::Man,
        ),
    );
    b.set_participant_left(&ed("2025-09-15 10:00"), Some(day("2025-09-15")))
        .expect("left");
    result(&mut b, R::Employed, "2026-02-01", "2026-02-01 10:00");
    result(&mut b, R::JobSearching, "2026-03-01", "2026-03-01 10:00");
    result(&mut b, R::InEducation, "2026-03-20", "2026-03-20 10:00");

    // C: reached by kempen 20 Jan, engaged 1 Feb, handed to herentals 15 Feb, in
    // training 10 March. Participant from 20 Feb (herentals), born 1995.
    let mut c = contact("kempen", "C", "2026-01-20", "2026-01-20 10:00");
    status(&mut c, "2026-02-01 10:00", Status::Engaged, None);
    c.set_field(
        &ed("2026-02-15 12:00"),
        ContactField::Team,
        Some("herentals"),
    )
    .expect("moved");
    status(&mut c, "2026-03-10 10:00", Status::InTraining, None);
    participant(
        &mut c,
        "1995",
        entry(
            "2026-02-20",
            LabourStatus::LongTermUnemployed,
            Education::Isced3To4,
            Gender::Man,
        ),
    );

    // D (kempen): made 31 March 22:00 UTC and engaged 22:30 UTC, i.e. 1 April in
    // Belgium (summer time): outside Q1 there, inside it in UTC. Reached 1 April.
    let mut d = contact("kempen", "D", "2026-04-01", "2026-03-31 22:00");
    status(&mut d, "2026-03-31 22:30", Status::Engaged, None);
    participant(
        &mut d,
        "2008",
        entry(
            "2026-04-01",
            LabourStatus::Employed,
            Education::Isced0To2,
            Gender::Woman,
        ),
    );

    // E (herentals): reached on the first day of Q1; participant on its last day.
    let mut e = contact("herentals", "E", "2026-01-01", "2026-01-01 09:00");
    participant(
        &mut e,
        "2000",
        entry(
            "2026-03-31",
            LabourStatus::Inactive,
            Education::Isced5To8,
            Gender::NonBinary,
        ),
    );

    // Referrals: A to Y 15 Jan (rejected) and to X 2 March (hired); C to X 10 Feb
    // (kempen then; interview) and 15 March (herentals by then; pending); B in 2025.
    let refer = |c: &mut ContactDoc, to: &EmployerDoc, on: &str, o: Option<Outcome>| {
        let id = c
            .add_referral(
                &ed("2026-01-01 08:00"),
                Some(to.record().id()),
                "job",
                day(on),
            )
            .expect("referral");
        if let Some(o) = o {
            c.set_referral_outcome(&ed("2026-01-01 08:00"), &id, o)
                .expect("outcome");
        }
    };
    refer(&mut a, &y, "2026-01-15", Some(Outcome::Rejected));
    refer(&mut a, &x, "2026-03-02", Some(Outcome::Hired));
    refer(&mut c, &x, "2026-02-10", Some(Outcome::Interview));
    refer(&mut c, &x, "2026-03-15", None);
    refer(&mut b, &x, "2025-12-30", Some(Outcome::Hired));

    for (doc, place) in [
        (&mut a, "Kasterlee"),
        (&mut b, "Geel"),
        (&mut c, "Herentals"),
    ] {
        doc.set_field(
            &ed("2026-01-01 08:00"),
            ContactField::Municipality,
            Some(place),
        )
        .expect("municipality");
    }

    let mut ids = BTreeMap::new();
    let contacts: Vec<Contact> = [("A", &a), ("B", &b), ("C", &c), ("D", &d), ("E", &e)]
        .into_iter()
        .map(|(name, doc)| {
            ids.insert(name, doc.record().id());
            let whole = read_contact(doc.record()).expect("read");
            let lean = read_contact_for_figures(doc.record()).expect("read");
            assert_eq!(whole.notes.len(), if name == "A" { 3 } else { 0 });
            let open_follow_ups = whole
                .notes
                .iter()
                .filter(|n| !n.done && n.follow_up.is_some())
                .map(|n| crate::contact::Note {
                    id: n.id.clone(),
                    date: None,
                    author: n.author.clone(),
                    place: None,
                    text: String::new(),
                    tags: Vec::new(),
                    follow_up: n.follow_up,
                    done: false,
                    created_at: 0,
                })
                .collect();
            assert_eq!(
                lean,
                Contact {
                    notes: open_follow_ups,
                    ..whole
                },
                "all but the notes, of which the open follow-ups"
            );
            assert_eq!(lean.notes.len(), usize::from(name == "A"));
            lean
        })
        .collect();
    let employers: Vec<Employer> = [("X", &x), ("Y", &y), ("Z", &z), ("W", &w)]
        .into_iter()
        .map(|(name, doc)| {
            ids.insert(name, doc.record().id());
            read_employer(doc.record()).expect("read")
        })
        .collect();
    World {
        contacts,
        employers,
        ids,
    }
}

fn report(w: &World, period: Period, zone: Zone, group_by: GroupBy) -> Report {
    compute(
        Query {
            period,
            zone,
            group_by,
            inclusive_goal_percent: 50,
        },
        &w.contacts,
        &w.employers,
    )
    .expect("computed")
}

const Q1: Period = Period::Quarter {
    year: 2026,
    quarter: 1,
};

/// Asserts a figure's number and the records behind it, by their names.
fn check(w: &World, r: &Report, group: &str, row: Row, count: u64, names: &[&str]) {
    let figure = r.groups.get(group).map(|g| g.get(&row)).unwrap_or_default();
    let mut expected: Vec<DocumentId> = names.iter().map(|n| w.ids[n]).collect();
    expected.sort();
    assert_eq!(
        (figure.count, figure.records),
        (count, expected),
        "{group} {row:?}"
    );
}

#[test]
fn pathway_per_team_in_a_quarter() {
    let w = world();
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Team);
    assert_eq!(r.groups.keys().collect::<Vec<_>>(), ["herentals", "kempen"]);
    // Reached: A and C (by kempen, before C moved); B was reached in 2025, D on
    // 1 April (the end is excluded); E on 1 January (the start is included).
    check(&w, &r, "kempen", Row::Reached, 2, &["A", "C"]);
    check(&w, &r, "herentals", Row::Reached, 1, &["E"]);
    // B's reopening counts as entering "engaged"; A entered guidance twice: once.
    check(
        &w,
        &r,
        "kempen",
        Row::Entered(Status::Engaged),
        3,
        &["A", "B", "C"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::Entered(Status::InGuidance),
        1,
        &["A"],
    );
    check(&w, &r, "kempen", Row::Entered(Status::InWork), 1, &["A"]);
    check(&w, &r, "kempen", Row::Entered(Status::InTraining), 0, &[]);
    check(
        &w,
        &r,
        "herentals",
        Row::Entered(Status::InTraining),
        1,
        &["C"],
    );
    // Closed twice in the quarter: counted once, under the last closing's reason.
    check(&w, &r, "kempen", Row::Entered(Status::Closed), 1, &["B"]);
    check(
        &w,
        &r,
        "kempen",
        Row::ClosedFor("found work alone".into()),
        1,
        &["B"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::ClosedFor("moved away".into()),
        0,
        &[],
    );
    // Standing on 31 March: A back in guidance, B closed; C in training with its new
    // team; E still new; D not yet there.
    check(
        &w,
        &r,
        "kempen",
        Row::Standing(Status::InGuidance),
        1,
        &["A"],
    );
    check(&w, &r, "kempen", Row::Standing(Status::InWork), 0, &[]);
    check(&w, &r, "kempen", Row::Standing(Status::Closed), 1, &["B"]);
    check(&w, &r, "kempen", Row::Standing(Status::Engaged), 0, &[]);
    check(
        &w,
        &r,
        "herentals",
        Row::Standing(Status::InTraining),
        1,
        &["C"],
    );
    check(&w, &r, "herentals", Row::Standing(Status::New), 1, &["E"]);
}

#[test]
fn an_instant_near_midnight_falls_on_the_pacts_day() {
    let w = world();
    // D was engaged on 31 March 22:30 UTC: 1 April in Belgium, 31 March in UTC.
    let utc = report(&w, Q1, Zone::Utc, GroupBy::Team);
    check(
        &w,
        &utc,
        "kempen",
        Row::Entered(Status::Engaged),
        4,
        &["A", "B", "C", "D"],
    );
    check(
        &w,
        &utc,
        "kempen",
        Row::Standing(Status::Engaged),
        1,
        &["D"],
    );
    // A went into work on 28 February 23:30 UTC: March in Belgium, February in UTC.
    let month = |m| Period::Month {
        year: 2026,
        month: m,
    };
    let cet_feb = report(&w, month(2), Zone::CentralEurope, GroupBy::Pact);
    let cet_mar = report(&w, month(3), Zone::CentralEurope, GroupBy::Pact);
    let utc_feb = report(&w, month(2), Zone::Utc, GroupBy::Pact);
    check(&w, &cet_feb, "", Row::Entered(Status::InWork), 0, &[]);
    check(&w, &cet_mar, "", Row::Entered(Status::InWork), 1, &["A"]);
    check(&w, &utc_feb, "", Row::Entered(Status::InWork), 1, &["A"]);
    // In March A both entered work and went back to guidance; standing at its end:
    // in guidance.
    check(
        &w,
        &cet_mar,
        "",
        Row::Entered(Status::InGuidance),
        1,
        &["A"],
    );
    check(
        &w,
        &cet_mar,
        "",
        Row::Standing(Status::InGuidance),
        1,
        &["A"],
    );
    check(
        &w,
        &cet_feb,
        "",
        Row::Standing(Status::InGuidance),
        1,
        &["A"],
    );
    // A custom range: 20 January (included) to 1 February (excluded).
    let range = report(
        &w,
        Period::Range {
            start: day("2026-01-20"),
            end: day("2026-02-01"),
        },
        Zone::CentralEurope,
        GroupBy::Pact,
    );
    check(&w, &range, "", Row::Reached, 1, &["C"]);
    check(&w, &range, "", Row::Entered(Status::Engaged), 0, &[]);
}

#[test]
fn employers_openings_referrals_and_the_inclusive_share() {
    let w = world();
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Team);
    check(&w, &r, "kempen", Row::EmployersVisited, 1, &["X"]);
    check(&w, &r, "kempen", Row::Visits, 2, &["X"]);
    check(&w, &r, "kempen", Row::Openings, 4, &["X"]);
    check(&w, &r, "herentals", Row::EmployersVisited, 1, &["Z"]);
    check(&w, &r, "herentals", Row::Openings, 0, &[]);
    // On record on 31 March: X and Y in kempen (W came later), Z in herentals.
    check(&w, &r, "kempen", Row::Employers, 2, &["X", "Y"]);
    check(&w, &r, "kempen", Row::InclusiveEmployers, 1, &["X"]);
    check(&w, &r, "herentals", Row::InclusiveEmployers, 0, &[]);
    assert_eq!(
        r.inclusive_share("kempen"),
        Some((500, true)),
        "1 of 2 meets 50 %"
    );
    assert_eq!(r.inclusive_share("herentals"), Some((0, false)));
    // Referrals by the contact's team on the referral's day: C's first was kempen's.
    check(&w, &r, "kempen", Row::Referrals, 3, &["A", "C"]);
    check(
        &w,
        &r,
        "kempen",
        Row::ReferralOutcome(Outcome::Hired),
        1,
        &["A"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::ReferralOutcome(Outcome::Rejected),
        1,
        &["A"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::ReferralOutcome(Outcome::Interview),
        1,
        &["C"],
    );
    check(&w, &r, "herentals", Row::Referrals, 1, &["C"]);
    check(
        &w,
        &r,
        "herentals",
        Row::ReferralOutcome(Outcome::Pending),
        1,
        &["C"],
    );
    // In April Y's commitment counts, and W is on record (committed, no date).
    let april = report(
        &w,
        Period::Month {
            year: 2026,
            month: 4,
        },
        Zone::CentralEurope,
        GroupBy::Pact,
    );
    check(
        &w,
        &april,
        "",
        Row::InclusiveEmployers,
        2 + 1,
        &["X", "Y", "W"],
    );
    check(&w, &april, "", Row::Employers, 4, &["X", "Y", "Z", "W"]);
    assert_eq!(april.inclusive_share(""), Some((750, true)));
    // Per municipality: W in Geel; the others have none ("").
    let by_place = report(
        &w,
        Period::Year(2026),
        Zone::CentralEurope,
        GroupBy::Municipality,
    );
    check(&w, &by_place, "Geel", Row::Employers, 1, &["W"]);
    check(&w, &by_place, "", Row::Employers, 3, &["X", "Y", "Z"]);
    check(&w, &by_place, "Kasterlee", Row::Reached, 1, &["A"]);
}

#[test]
fn esf_participants_at_entry_and_results_after_leaving() {
    let w = world();
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Team);
    // Entrants: A (kempen); C (herentals by 20 Feb) and E (31 March, the last day).
    // D entered 1 April, B in 2025.
    check(&w, &r, "kempen", Row::Participants, 1, &["A"]);
    check(&w, &r, "herentals", Row::Participants, 2, &["C", "E"]);
    check(
        &w,
        &r,
        "kempen",
        Row::AgeAtEntry(AgeBand::Under18),
        1,
        &["A"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::AgeAtEntry(AgeBand::From30),
        1,
        &["C"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::AgeAtEntry(AgeBand::From18To29),
        1,
        &["E"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::LabourStatusAtEntry(LabourStatus::Unemployed),
        1,
        &["A"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::LabourStatusAtEntry(LabourStatus::LongTermUnemployed),
        1,
        &["C"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::LabourStatusAtEntry(LabourStatus::Inactive),
        1,
        &["E"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::EducationAtEntry(Education::Isced5To8),
        1,
        &["E"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::GenderAtEntry(Gender::Woman),
        1,
        &["A"],
    );
    check(
        &w,
        &r,
        "herentals",
        Row::GenderAtEntry(Gender::NonBinary),
        1,
        &["E"],
    );
    // A left in Q1: job-searching then employed within 4 weeks: employed only; the
    // qualification came after the 4 weeks.
    check(&w, &r, "kempen", Row::Leavers, 1, &["A"]);
    check(&w, &r, "kempen", Row::UponLeaving(R::Employed), 1, &["A"]);
    check(&w, &r, "kempen", Row::UponLeaving(R::JobSearching), 0, &[]);
    check(&w, &r, "kempen", Row::UponLeaving(R::Qualification), 0, &[]);
    // B's six-month mark (15 March) is in Q1: job-searching (the later of the two
    // work events in the window; employment on 1 Feb is outside) and in education.
    check(&w, &r, "kempen", Row::SixMonthCohort, 1, &["B"]);
    check(
        &w,
        &r,
        "kempen",
        Row::SixMonthsAfter(R::JobSearching),
        1,
        &["B"],
    );
    check(
        &w,
        &r,
        "kempen",
        Row::SixMonthsAfter(R::InEducation),
        1,
        &["B"],
    );
    check(&w, &r, "kempen", Row::SixMonthsAfter(R::Employed), 0, &[]);
    // Q2: D enters (1 April); A's results are not counted again.
    let q2 = report(
        &w,
        Period::Quarter {
            year: 2026,
            quarter: 2,
        },
        Zone::CentralEurope,
        GroupBy::Pact,
    );
    check(&w, &q2, "", Row::Participants, 1, &["D"]);
    check(&w, &q2, "", Row::Leavers, 0, &[]);
    check(&w, &q2, "", Row::UponLeaving(R::Employed), 0, &[]);
}

#[test]
fn the_later_of_employed_and_job_searching_wins_within_the_window() {
    let ev = |r: R, on: &str, at: i64| crate::contact::ResultEvent {
        id: format!("{at}"),
        result: r,
        on: day(on),
        by: "Sanne".into(),
        at_ms: at,
    };
    let left = Some(day("2026-03-01"));
    let until = day("2026-03-01").plus_days(28);
    let events = [
        ev(R::Employed, "2026-03-02", 1),
        ev(R::Qualification, "2026-03-03", 2),
        ev(R::JobSearching, "2026-03-29", 3),
        ev(R::Employed, "2026-03-30", 4),
    ];
    assert_eq!(
        esf::results_in(&events, left, until),
        [R::Qualification, R::JobSearching],
        "29 March is the last day of the 4 weeks; 30 March is outside"
    );
    assert_eq!(esf::results_in(&events[..1], left, until), [R::Employed]);
    assert_eq!(esf::results_in(&events, left, None), []);
}

#[test]
fn every_row_says_what_it_counts_and_rows_come_in_table_order() {
    let w = world();
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Pact);
    let rows: Vec<&Row> = r.groups[""].rows().map(|(row, _)| row).collect();
    let first = |target: &Row| rows.iter().position(|r| *r == target).expect("row present");
    assert!(first(&Row::Reached) < first(&Row::Entered(Status::Engaged)));
    assert!(first(&Row::Entered(Status::Engaged)) < first(&Row::Entered(Status::InWork)));
    assert!(first(&Row::Entered(Status::Closed)) < first(&Row::Standing(Status::New)));
    assert!(first(&Row::Openings) < first(&Row::Participants));
    assert_eq!(Row::Reached.basis(), Basis::Entrants);
    assert_eq!(Row::Standing(Status::New).basis(), Basis::Standing);
    assert_eq!(Row::InclusiveEmployers.basis(), Basis::Standing);
    assert_eq!(Row::Openings.basis(), Basis::Activity);
    assert_eq!(Row::UponLeaving(R::Employed).basis(), Basis::Cohort);
}

/// A stand-in for the app's catalogue: plain English, numbers as digits.
fn words(label: Label<'_>) -> String {
    match label {
        Label::Title => "Indicators".into(),
        Label::Period => "Period".into(),
        Label::GroupedBy => "Grouped by".into(),
        Label::GroupBy(g) => format!("{g:?}"),
        Label::Group(_, "") => "whole pact".into(),
        Label::Group(_, g) => g.into(),
        Label::Row(row) => format!("{row:?}"),
        Label::Basis(b) => format!("{b:?}"),
        Label::InclusiveShare => "Inclusive share".into(),
        Label::InclusiveGoal => "Goal".into(),
        Label::ColumnGroup => "Group".into(),
        Label::ColumnIndicator => "Indicator".into(),
        Label::ColumnBasis => "Counts".into(),
        Label::ColumnValue => "Value".into(),
        Label::ColumnRecords => "Records".into(),
        Label::Day(d) => d.to_string(),
        Label::Count(n) => n.to_string(),
        Label::PerMille(n) => format!("{},{} %", n / 10, n % 10),
    }
}

/// Splits a CSV written by `Csv` back into cells (quotes, doubled quotes, CRLF).
fn parse_csv(text: &str, sep: char) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').expect("byte-order mark");
    let mut rows = Vec::new();
    let (mut row, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, c) if c == sep => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(cell.is_empty() && row.is_empty(), "ends with a line end");
    rows
}

#[test]
fn the_indicator_csv_states_period_and_filters_and_matches_the_figures() {
    let w = world();
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Team);
    let filters = [("Team".to_string(), "kempen; herentals".to_string())];
    let text = indicators_csv(&r, &filters, ';', &words);
    let rows = parse_csv(&text, ';');
    assert_eq!(rows[0], ["Indicators"]);
    assert_eq!(
        rows[1],
        ["Period", "2026-01-01", "2026-03-31"],
        "last day shown"
    );
    assert_eq!(rows[2], ["Grouped by", "Team"]);
    assert_eq!(
        rows[3],
        ["Team", "kempen; herentals"],
        "a cell with ; is quoted"
    );
    assert_eq!(rows[4], [""]);
    assert_eq!(
        rows[5],
        ["Group", "Indicator", "Counts", "Value", "Records"]
    );
    let line = |group: &str, indicator: &str| {
        rows.iter()
            .find(|r| r[0] == group && r[1] == indicator)
            .unwrap_or_else(|| panic!("{group} {indicator}"))
            .clone()
    };
    let ids = |names: &[&str]| {
        let mut ids: Vec<DocumentId> = names.iter().map(|n| w.ids[n]).collect();
        ids.sort();
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("kempen", "Reached"),
        ["kempen", "Reached", "Entrants", "2", &ids(&["A", "C"])]
    );
    assert_eq!(
        line("herentals", "Standing(InTraining)"),
        [
            "herentals",
            "Standing(InTraining)",
            "Standing",
            "1",
            &ids(&["C"])
        ]
    );
    assert_eq!(
        line("kempen", "Openings"),
        ["kempen", "Openings", "Activity", "4", &ids(&["X"])]
    );
    assert_eq!(
        line("kempen", "Inclusive share"),
        [
            "kempen",
            "Inclusive share",
            "Standing",
            "50,0 %",
            &ids(&["X"])
        ]
    );
    assert_eq!(line("kempen", "Goal")[3], "50,0 %");
    // Every figure of the report is one line, and nothing else is.
    let figures: usize = r.groups.values().map(|g| g.rows().count()).sum();
    assert_eq!(
        rows.len(),
        6 + figures + 2 * 2,
        "plus share and goal per group"
    );
}

#[test]
fn csv_cells_are_quoted_and_never_run_as_formulas() {
    let header = [("Filter".to_string(), "status = in work".to_string())];
    let columns = ["Name".to_string(), "Note".to_string()];
    let rows = vec![
        vec![
            "=HYPERLINK(\"x\")".to_string(),
            "said \"hi\", left".to_string(),
        ],
        vec!["-1+2".to_string(), "two\nlines".to_string()],
        vec!["@SUM(A1)".to_string(), "plain".to_string()],
    ];
    let text = table_csv(&header, &columns, &rows, ',');
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
    let back = parse_csv(&text, ',');
    assert_eq!(back[0], ["Filter", "status = in work"]);
    assert_eq!(back[2], ["Name", "Note"]);
    assert_eq!(back[3], ["'=HYPERLINK(\"x\")", "said \"hi\", left"]);
    assert_eq!(back[4], ["'-1+2", "two\nlines"]);
    assert_eq!(back[5], ["'@SUM(A1)", "plain"]);
    assert_eq!(back.len(), 6);
}

#[test]
fn the_dashboard_has_the_pact_and_a_month_by_month_trend() {
    let w = world();
    let query = Query {
        period: Q1,
        zone: Zone::CentralEurope,
        group_by: GroupBy::Team,
        inclusive_goal_percent: 50,
    };
    let d = dashboard(query, &w.contacts, &w.employers).expect("dashboard");
    assert_eq!(d.report, report(&w, Q1, Zone::CentralEurope, GroupBy::Team));
    check(&w, &d.whole, "", Row::Reached, 3, &["A", "C", "E"]);
    let months: Vec<_> = d.trend.iter().map(|(p, _)| *p).collect();
    assert_eq!(months, Q1.months().expect("months"));
    // New contacts per month: E, A, C in January; none in February or March.
    let reached: Vec<u64> = d
        .trend
        .iter()
        .map(|(_, f)| f.get(&Row::Reached).count)
        .collect();
    assert_eq!(reached, [3, 0, 0]);
    let in_work: Vec<u64> = d
        .trend
        .iter()
        .map(|(_, f)| f.get(&Row::Entered(Status::InWork)).count)
        .collect();
    assert_eq!(in_work, [0, 0, 1], "A, on 1 March in Belgium");
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    /// One contact's life in 2026: first-contact day, then (day offset, what) steps,
    /// each a status change or a move to another team.
    type Life = (u32, Vec<(u32, u8)>);

    const TEAMS: [&str; 3] = ["kempen", "herentals", "geel"];

    fn make(lives: &[Life]) -> Vec<Contact> {
        let jan1 = utc("2026-01-01 09:00");
        lives
            .iter()
            .enumerate()
            .map(|(n, (first, steps))| {
                let first_day = day("2026-01-01").plus_days(i64::from(*first)).expect("day");
                let at = jan1 + i64::from(*first) * 86_400_000;
                let editor = Editor::new(ActorId::from(&[9u8; 16][..]), "Sanne", at);
                let mut doc = ContactDoc::create(
                    &editor,
                    NewContact {
                        team: TEAMS[n % 3].into(),
                        display_name: format!("P{n}"),
                        first_contact_on: first_day,
                        channel: Channel::Event,
                        place: None,
                        assigned_worker: None,
                    },
                )
                .expect("created");
                let mut t = at;
                for (gap, what) in steps {
                    t += i64::from(*gap) * 3_600_000;
                    let ed = editor.at(t);
                    let what = usize::from(*what);
                    if what < Status::ALL.len() {
                        // Unchanged statuses are refused; that is part of the model.
                        let _ = doc.change_status(&ed, Status::ALL[what], Some("done"));
                    } else {
                        doc.set_field(&ed, ContactField::Team, Some(TEAMS[what % 3]))
                            .expect("moved");
                    }
                }
                read_contact(doc.record()).expect("read")
            })
            .collect()
    }

    /// A row's records per group, leaving out groups where it is empty.
    fn records(r: &Report, row: &Row) -> Vec<BTreeSet<DocumentId>> {
        r.groups
            .values()
            .map(|g| g.get(row).records.into_iter().collect::<BTreeSet<_>>())
            .filter(|s| !s.is_empty())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Per team, a once-per-contact figure splits the pact's records without
        /// overlap; an entrants figure covers them (a contact can enter a step
        /// in two teams); months add up to the year; the year's standing is December's.
        #[test]
        fn team_figures_add_up_to_the_pact_and_months_to_the_year(
            lives in proptest::collection::vec(
                (0u32..300, proptest::collection::vec((1u32..2000, 0u8..9), 0..7)),
                1..16,
            )
        ) {
            let contacts = make(&lives);
            let q = |period, group_by| compute(
                Query { period, zone: Zone::CentralEurope, group_by, inclusive_goal_percent: 50 },
                &contacts,
                &[],
            ).expect("computed");
            let mut reached_by_month = 0;
            for month in 1..=12 {
                let period = Period::Month { year: 2026, month };
                let teams = q(period, GroupBy::Team);
                let pact = q(period, GroupBy::Pact);
                let pact_set = |row: &Row| -> BTreeSet<DocumentId> {
                    pact.groups.get("").map(|g| g.get(row).records.into_iter().collect()).unwrap_or_default()
                };
                let mut once = vec![Row::Reached];
                once.extend(crate::contact::Stage::ALL.map(Row::ReachedAt));
                once.extend(Status::ALL.map(Row::Standing));
                for row in &once {
                    let parts = records(&teams, row);
                    let total: usize = parts.iter().map(BTreeSet::len).sum();
                    let union: BTreeSet<DocumentId> = parts.into_iter().flatten().collect();
                    prop_assert_eq!(total, union.len(), "{:?} overlaps", row);
                    prop_assert_eq!(&union, &pact_set(row), "{:?}", row);
                }
                for status in Status::ALL {
                    let row = Row::Entered(status);
                    let union: BTreeSet<DocumentId> = records(&teams, &row).into_iter().flatten().collect();
                    prop_assert_eq!(&union, &pact_set(&row), "{:?}", row);
                }
                reached_by_month += pact.groups.get("").map_or(0, |g| g.get(&Row::Reached).count);
                if month == 12 {
                    let year = q(Period::Year(2026), GroupBy::Team);
                    for status in Status::ALL {
                        prop_assert_eq!(records(&year, &Row::Standing(status)), records(&teams, &Row::Standing(status)));
                    }
                }
            }
            let year = q(Period::Year(2026), GroupBy::Pact);
            prop_assert_eq!(reached_by_month, year.groups[""].get(&Row::Reached).count);
            prop_assert_eq!(reached_by_month, contacts.len() as u64, "all first contacts are in 2026");
        }
    }
}

/// Issue 15: the youth reached in a period, by how far each is identified now; the
/// stages add up to the reached, and the CSV has a line per stage.
#[test]
fn youth_reached_are_counted_by_stage_of_identification() {
    use crate::contact::{ConsentScope, Stage};
    let at = "2026-02-02 10:00";
    let new = |name: &str, first: &str| NewContact {
        team: "kempen".into(),
        display_name: name.into(),
        first_contact_on: day(first),
        channel: Channel::Street,
        place: None,
        assigned_worker: None,
    };
    let staged = |name: &str, first: &str, stage: Stage, values: &[(ContactField, &str)]| {
        let values: Vec<(ContactField, String)> =
            values.iter().map(|(f, v)| (*f, v.to_string())).collect();
        ContactDoc::create_at(&ed(at), new(name, first), stage, &values).expect("created")
    };
    let identified = |name: &str, first: &str| {
        let mut c = staged(name, first, Stage::Anonymous, &[]);
        c.give_consent(&ed(at), day("2026-02-02"), ConsentScope::Team)
            .expect("consent");
        c.move_to_stage(
            &ed(at),
            Stage::Identified,
            &[(ContactField::FullName, format!("{name} Peeters"))],
        )
        .expect("identified");
        c
    };
    let docs = [
        (
            "A",
            staged(
                "A",
                "2026-01-10",
                Stage::Anonymous,
                &[(ContactField::Description, "red cap")],
            ),
        ),
        ("B", staged("B", "2026-02-01", Stage::Anonymous, &[])),
        (
            "C",
            staged(
                "C",
                "2026-03-01",
                Stage::Pseudonymous,
                &[(ContactField::Phone, "0470 11 22 33")],
            ),
        ),
        // From before stages: a name only reads as pseudonymous.
        (
            "D",
            ContactDoc::create(&ed(at), new("D", "2026-03-02")).expect("created"),
        ),
        ("E", identified("E", "2026-03-31")),
        // Reached before the quarter: in no row of it.
        ("F", identified("F", "2025-12-31")),
    ];
    let mut ids = BTreeMap::new();
    let contacts: Vec<Contact> = docs
        .iter()
        .map(|(name, doc)| {
            ids.insert(*name, doc.record().id());
            read_contact_for_figures(doc.record()).expect("read")
        })
        .collect();
    let w = World {
        contacts,
        employers: Vec::new(),
        ids,
    };
    let r = report(&w, Q1, Zone::CentralEurope, GroupBy::Pact);
    check(&w, &r, "", Row::Reached, 5, &["A", "B", "C", "D", "E"]);
    check(&w, &r, "", Row::ReachedAt(Stage::Anonymous), 2, &["A", "B"]);
    check(
        &w,
        &r,
        "",
        Row::ReachedAt(Stage::Pseudonymous),
        2,
        &["C", "D"],
    );
    check(&w, &r, "", Row::ReachedAt(Stage::Identified), 1, &["E"]);
    let by_stage: u64 = Stage::ALL
        .into_iter()
        .map(|s| r.groups[""].get(&Row::ReachedAt(s)).count)
        .sum();
    assert_eq!(by_stage, r.groups[""].get(&Row::Reached).count);
    assert_eq!(Row::ReachedAt(Stage::Identified).basis(), Basis::Entrants);
    // In table order, right after the reached and before the steps entered.
    let rows: Vec<&Row> = r.groups[""].rows().map(|(row, _)| row).collect();
    assert_eq!(
        &rows[..4],
        [
            &Row::Reached,
            &Row::ReachedAt(Stage::Anonymous),
            &Row::ReachedAt(Stage::Pseudonymous),
            &Row::ReachedAt(Stage::Identified)
        ]
    );
    let csv = parse_csv(&indicators_csv(&r, &[], ';', &words), ';');
    let line = |indicator: &str| {
        csv.iter()
            .find(|l| l.get(1).map(String::as_str) == Some(indicator))
            .map(|l| l[3].clone())
    };
    assert_eq!(line("ReachedAt(Anonymous)").as_deref(), Some("2"));
    assert_eq!(line("ReachedAt(Pseudonymous)").as_deref(), Some("2"));
    assert_eq!(line("ReachedAt(Identified)").as_deref(), Some("1"));
}
