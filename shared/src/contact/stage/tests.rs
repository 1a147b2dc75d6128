//! Tests of `stage`: what each stage holds, moving up and down, old records.

use automerge::ActorId;
use proptest::prelude::*;

use super::*;
use crate::contact::{Channel, ConsentScope, NewContact};
use crate::date::Day;

fn editor() -> Editor {
    Editor::new(ActorId::random(), "Anna", 1_795_521_600_000)
}

fn day(s: &str) -> Day {
    s.parse().expect("a test day")
}

fn new_contact(name: &str) -> NewContact {
    NewContact {
        team: "kempen".into(),
        display_name: name.into(),
        first_contact_on: day("2026-11-20"),
        channel: Channel::Street,
        place: Some("skate park".into()),
        assigned_worker: None,
    }
}

fn values(v: &[(ContactField, &str)]) -> Vec<(ContactField, String)> {
    v.iter().map(|(f, s)| (*f, s.to_string())).collect()
}

fn anonymous() -> ContactDoc {
    ContactDoc::create_at(
        &editor(),
        new_contact("Red cap"),
        Stage::Anonymous,
        &values(&[(ContactField::Description, "tall, red cap, skate park")]),
    )
    .expect("created")
}

#[test]
fn an_anonymous_contact_keeps_a_nickname_and_a_description_and_refuses_a_phone() {
    let ed = editor();
    let mut c = anonymous();
    let read = c.read().expect("read");
    assert_eq!(read.stage, Stage::Anonymous);
    assert_eq!(read.stage_kept, Some(Stage::Anonymous));
    assert_eq!(
        read.description.as_deref(),
        Some("tall, red cap, skate park")
    );
    assert_eq!(
        read.summary().name,
        "Red cap · tall, red cap, skate park",
        "the list says who it is"
    );
    assert_eq!(
        crate::contact::summary_of(c.record()).expect("row"),
        read.summary()
    );
    for field in [
        ContactField::Phone,
        ContactField::Email,
        ContactField::FullName,
        ContactField::BirthYear,
    ] {
        let value = if field == ContactField::BirthYear {
            "2008"
        } else if field == ContactField::Email {
            "a@b.be"
        } else if field == ContactField::Phone {
            "0470 11 22 33"
        } else {
            "Lotte Peeters"
        };
        assert_eq!(
            c.set_field(&ed, field, Some(value)),
            Err(ModelError::NotAtStage {
                field: field.label(),
                stage: "anonymous"
            }),
            "{field:?}"
        );
    }
    // Clearing is always allowed, and the other fields are as before.
    c.set_field(&ed, ContactField::Phone, None).expect("clear");
    c.set_field(&ed, ContactField::Municipality, Some("Geel"))
        .expect("municipality");
    c.set_field(&ed, ContactField::Description, Some("red cap, skateboard"))
        .expect("description");
    assert_eq!(c.read().expect("read").phone, None);
}

#[test]
fn a_new_contact_cannot_start_identified_nor_hold_more_than_its_stage() {
    let refused = ContactDoc::create_at(&editor(), new_contact("Lotte"), Stage::Identified, &[]);
    assert_eq!(refused.err(), Some(ModelError::IdentifyNeedsConsent));
    let refused = ContactDoc::create_at(
        &editor(),
        new_contact("Lotte"),
        Stage::Anonymous,
        &values(&[(ContactField::Phone, "0470 11 22 33")]),
    );
    assert_eq!(
        refused.err(),
        Some(ModelError::NotAtStage {
            field: "phone number",
            stage: "anonymous"
        })
    );
    let c = ContactDoc::create_at(
        &editor(),
        new_contact("Lotte"),
        Stage::Pseudonymous,
        &values(&[
            (ContactField::Phone, "0470 11 22 33"),
            (ContactField::Email, ""),
        ]),
    )
    .expect("pseudonymous");
    let read = c.read().expect("read");
    assert_eq!(read.stage, Stage::Pseudonymous);
    assert_eq!(read.phone.as_deref(), Some("0470 11 22 33"));
    assert_eq!(read.email, None);
    assert_eq!(read.summary().name, "Lotte");
}

#[test]
fn identifying_needs_recorded_consent_and_a_full_name() {
    let ed = editor();
    let mut c = anonymous();
    c.move_to_stage(
        &ed,
        Stage::Pseudonymous,
        &values(&[
            (ContactField::DisplayName, "Lotte"),
            (ContactField::Phone, "0470 11 22 33"),
        ]),
    )
    .expect("pseudonymous");
    let identity = values(&[
        (ContactField::FullName, "Lotte Peeters"),
        (ContactField::BirthYear, "2008"),
    ]);
    assert_eq!(
        c.move_to_stage(&ed, Stage::Identified, &identity),
        Err(ModelError::IdentifyNeedsConsent)
    );
    assert_eq!(
        c.read().expect("read").identify_refusal(),
        Some(ModelError::IdentifyNeedsConsent)
    );
    assert_eq!(c.read().expect("read").full_name, None, "nothing written");
    c.give_consent(&ed, day("2026-11-21"), ConsentScope::Team)
        .expect("consent");
    assert_eq!(
        c.move_to_stage(
            &ed,
            Stage::Identified,
            &values(&[(ContactField::BirthYear, "2008")])
        ),
        Err(ModelError::Empty { field: "full name" })
    );
    assert_eq!(
        c.move_to_stage(
            &ed,
            Stage::Identified,
            &values(&[
                (ContactField::FullName, "Lotte Peeters"),
                (ContactField::BirthYear, "1890")
            ])
        ),
        Err(ModelError::OutOfRange {
            field: "birth year",
            min: 1950,
            max: 2030
        }),
        "a bad value leaves nothing behind"
    );
    assert_eq!(c.read().expect("read").stage, Stage::Pseudonymous);
    c.move_to_stage(&ed, Stage::Identified, &identity)
        .expect("identified");
    let read = c.read().expect("read");
    assert_eq!(read.stage, Stage::Identified);
    assert_eq!(read.full_name.as_deref(), Some("Lotte Peeters"));
    assert_eq!(read.birth_year, Some(2008));
    assert_eq!(read.display_name, "Lotte");
    assert_eq!(read.summary().name, "Lotte", "no description once named");
    // Identified, the fields are edited one by one as before.
    c.set_field(&ed, ContactField::FullName, Some("Lotte Peeters-Janssens"))
        .expect("edited");
}

#[test]
fn moving_down_clears_what_the_lower_stage_may_not_hold() {
    let ed = editor();
    let mut c = anonymous();
    c.give_consent(&ed, day("2026-11-21"), ConsentScope::Team)
        .expect("consent");
    c.move_to_stage(
        &ed,
        Stage::Identified,
        &values(&[
            (ContactField::Phone, "0470 11 22 33"),
            (ContactField::FullName, "Lotte Peeters"),
            (ContactField::BirthYear, "2008"),
        ]),
    )
    .expect("two steps in one");
    c.withdraw_consent(&ed, day("2026-12-01"))
        .expect("withdrawn");
    c.move_to_stage(&ed, Stage::Pseudonymous, &[])
        .expect("down");
    let read = c.read().expect("read");
    assert_eq!(read.stage, Stage::Pseudonymous);
    assert_eq!((read.full_name, read.birth_year), (None, None));
    assert_eq!(read.phone.as_deref(), Some("0470 11 22 33"), "kept");
    c.move_to_stage(&ed, Stage::Anonymous, &[]).expect("down");
    let read = c.read().expect("read");
    assert_eq!((read.stage, read.phone), (Stage::Anonymous, None));
    assert_eq!(
        read.description.as_deref(),
        Some("tall, red cap, skate park")
    );
    // Up again needs the consent again.
    assert_eq!(
        c.move_to_stage(
            &ed,
            Stage::Identified,
            &values(&[(ContactField::FullName, "Lotte Peeters")])
        ),
        Err(ModelError::IdentifyNeedsConsent)
    );
}

#[test]
fn a_record_from_before_stages_reads_its_stage_from_what_it_holds() {
    let ed = editor();
    let mut c = ContactDoc::create(&ed, new_contact("Lotte")).expect("created");
    let read = c.read().expect("read");
    assert_eq!((read.stage, read.stage_kept), (Stage::Pseudonymous, None));
    c.set_field(&ed, ContactField::Phone, Some("0470 11 22 33"))
        .expect("phone");
    assert_eq!(c.read().expect("read").stage, Stage::Pseudonymous);
    // Edited as before: the stage follows what it holds.
    c.set_field(&ed, ContactField::BirthYear, Some("2008"))
        .expect("birth year");
    assert_eq!(c.read().expect("read").stage, Stage::Identified);
    c.set_field(&ed, ContactField::BirthYear, None)
        .expect("clear");
    c.set_field(&ed, ContactField::FullName, Some("Lotte Peeters"))
        .expect("full name");
    assert_eq!(c.read().expect("read").stage, Stage::Identified);
    // A stage this version does not know reads as what the record holds.
    c.0.change(&ed, "stage: later", |tx| {
        tx.put(ROOT, "stage", "verified")?;
        Ok(())
    })
    .expect("written");
    let read = c.read().expect("read");
    assert_eq!((read.stage, read.stage_kept), (Stage::Identified, None));
}

#[test]
fn a_step_down_merged_with_an_edit_made_meanwhile_reads_as_what_it_holds() {
    let ed = editor();
    let mut a = ContactDoc::create_at(
        &ed,
        new_contact("Lotte"),
        Stage::Pseudonymous,
        &values(&[(ContactField::Phone, "0470 11 22 33")]),
    )
    .expect("created");
    let mut b = ContactDoc::load(a.record().id(), &a.record().save()).expect("copy");
    a.move_to_stage(&ed, Stage::Anonymous, &[]).expect("down");
    let bram = Editor::new(ActorId::random(), "Bram", 1_795_521_700_000);
    b.set_field(&bram, ContactField::Email, Some("lotte@example.org"))
        .expect("email");
    a.merge(&b).expect("merged");
    let read = a.read().expect("read");
    assert_eq!(read.stage_kept, Some(Stage::Anonymous));
    assert_eq!(read.email.as_deref(), Some("lotte@example.org"));
    assert_eq!(read.stage, Stage::Pseudonymous, "raised to what it holds");
}

#[test]
fn the_rule_is_a_pure_function() {
    let v = |f: ContactField| vec![(f, "x".to_string())];
    assert!(
        check_move(
            Stage::Anonymous,
            Stage::Anonymous,
            false,
            false,
            &v(ContactField::Description)
        )
        .is_ok()
    );
    assert!(
        check_move(
            Stage::Anonymous,
            Stage::Pseudonymous,
            false,
            false,
            &v(ContactField::Phone)
        )
        .is_ok()
    );
    assert!(check_move(Stage::Pseudonymous, Stage::Identified, true, true, &[]).is_ok());
    assert_eq!(
        check_move(Stage::Pseudonymous, Stage::Identified, false, true, &[]),
        Err(ModelError::IdentifyNeedsConsent)
    );
    // Already identified: a step that stays there needs no new consent.
    assert!(
        check_move(
            Stage::Identified,
            Stage::Identified,
            false,
            true,
            &v(ContactField::FullName)
        )
        .is_ok()
    );
    assert_eq!(
        Stage::holding([ContactField::DisplayName]),
        Stage::Anonymous
    );
    assert_eq!(
        Stage::holding([ContactField::DisplayName, ContactField::Email]),
        Stage::Pseudonymous
    );
    assert_eq!(Stage::holding([ContactField::BirthYear]), Stage::Identified);
    assert_eq!(Stage::Anonymous.next(), Some(Stage::Pseudonymous));
    assert_eq!(Stage::Identified.next(), None);
    for stage in Stage::ALL {
        for field in stage.asks() {
            assert!(stage.allows(*field), "{stage:?} asks what it allows");
        }
    }
}

/// One worker's operation on a contact, for the property test.
#[derive(Clone, Debug)]
enum Op {
    Set(ContactField, bool),
    Move(Stage, Vec<ContactField>),
    Consent(bool),
}

fn field() -> impl Strategy<Value = ContactField> {
    prop::sample::select(vec![
        ContactField::Description,
        ContactField::Phone,
        ContactField::Email,
        ContactField::FullName,
        ContactField::BirthYear,
        ContactField::BirthDate,
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (field(), any::<bool>()).prop_map(|(f, fill)| Op::Set(f, fill)),
        (
            prop::sample::select(Stage::ALL.to_vec()),
            prop::collection::vec(field(), 0..4)
        )
            .prop_map(|(s, fs)| Op::Move(s, fs)),
        any::<bool>().prop_map(Op::Consent),
    ]
}

fn sample(f: ContactField) -> &'static str {
    match f {
        ContactField::Phone => "0470 11 22 33",
        ContactField::Email => "x@example.org",
        ContactField::BirthYear => "2008",
        // Another year than the sample year: setting that year removes the date.
        ContactField::BirthDate => "2007-05-14",
        ContactField::FullName => "Lotte Peeters",
        _ => "red cap",
    }
}

proptest! {
    /// Whatever a worker does, one device never holds more than the kept stage allows,
    /// and a contact reaches identified only with consent active at that moment.
    #[test]
    fn a_contact_never_holds_more_than_its_stage(
        start in prop::sample::select(vec![Stage::Anonymous, Stage::Pseudonymous]),
        ops in prop::collection::vec(op(), 0..24),
    ) {
        let ed = editor();
        let mut c = ContactDoc::create_at(&ed, new_contact("Red cap"), start, &[]).expect("created");
        let mut consent = false;
        for op in ops {
            let before = c.read().expect("read").stage;
            let result = match &op {
                Op::Set(f, fill) => c.set_field(&ed, *f, fill.then(|| sample(*f))),
                Op::Move(to, fs) => {
                    let v: Vec<(ContactField, String)> =
                        fs.iter().map(|f| (*f, sample(*f).to_string())).collect();
                    c.move_to_stage(&ed, *to, &v)
                }
                Op::Consent(true) => c.give_consent(&ed, day("2026-11-21"), ConsentScope::Team),
                Op::Consent(false) => c.withdraw_consent(&ed, day("2026-11-22")),
            };
            if let Op::Consent(give) = op {
                consent = give;
            }
            let read = c.read().expect("read");
            prop_assert_eq!(Some(read.stage), read.stage_kept, "{:?} -> {:?}", op, result);
            prop_assert_eq!(stage_in(c.record()), read.stage, "the quick read agrees");
            for f in read.filled() {
                prop_assert!(read.stage.allows(f));
            }
            if let Some(date) = read.birth_date {
                prop_assert_eq!(read.birth_year, Some(date.year()), "the year follows the date");
            }
            if read.stage == Stage::Identified && before < Stage::Identified {
                prop_assert!(consent, "identified without consent");
                prop_assert!(read.full_name.is_some());
            }
            if result.is_err() {
                prop_assert_eq!(read.stage, before, "a refusal changes nothing");
            }
        }
    }
}

#[test]
fn keeping_one_of_two_stages_set_on_two_phones_keeps_the_fields_its_rule_allows() {
    use crate::contact::ContactPart;
    let ed = editor();
    let mut here = ContactDoc::create_at(
        &ed,
        new_contact("Lotte"),
        Stage::Pseudonymous,
        &values(&[(ContactField::Phone, "0470 11 22 33")]),
    )
    .expect("created");
    here.give_consent(&ed, day("2026-11-21"), ConsentScope::Team)
        .expect("consent");
    let mut there = ContactDoc::load(here.record().id(), &here.record().save()).expect("copy");
    here.move_to_stage(
        &ed,
        Stage::Identified,
        &values(&[(ContactField::FullName, "Lotte Peeters")]),
    )
    .expect("identified here");
    let bram = Editor::new(ActorId::random(), "Bram", 1_795_521_700_000);
    there
        .move_to_stage(&bram, Stage::Anonymous, &[])
        .expect("anonymous there");
    here.merge(&there).expect("merged");
    let mut other = here.clone();
    assert!(
        here.read()
            .expect("read")
            .part_conflicts
            .contains_key(&ContactPart::Stage)
    );

    // Identified kept: the full name stays, the phone Bram's step removed stays away.
    here.keep_part(&ed, &ContactPart::Stage, "identified")
        .expect("kept identified");
    let read = here.read().expect("read");
    assert!(read.part_conflicts.is_empty(), "{:?}", read.part_conflicts);
    assert_eq!(
        (read.stage, read.stage_kept),
        (Stage::Identified, Some(Stage::Identified))
    );
    assert_eq!(
        (read.full_name.as_deref(), read.phone),
        (Some("Lotte Peeters"), None)
    );

    // A stage this version does not know is refused, and changes nothing.
    assert!(
        other
            .keep_part(&ed, &ContactPart::Stage, "verified")
            .is_err()
    );
    assert!(
        other
            .read()
            .expect("read")
            .part_conflicts
            .contains_key(&ContactPart::Stage)
    );
    // Pseudonymous kept: the full name Anna's step added is not a value it may hold.
    other
        .keep_part(&bram, &ContactPart::Stage, "pseudonymous")
        .expect("kept pseudonymous");
    let read = other.read().expect("read");
    assert!(read.part_conflicts.is_empty(), "{:?}", read.part_conflicts);
    assert_eq!((read.stage, read.full_name), (Stage::Pseudonymous, None));
}
