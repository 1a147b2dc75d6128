//! Convergence: replicas edit the same records concurrently, merge in every order,
//! and end equal with nothing lost.

use automerge::ActorId;
use paktum_shared::Editor;
use paktum_shared::contact::{Channel, ContactDoc, ContactField, NewContact, NewNote, Status};
use paktum_shared::record::RecordDoc;
use proptest::prelude::*;

const T0: i64 = 1_795_521_600_000;

fn editor(name: &str, offset: i64) -> Editor {
    Editor::new(ActorId::random(), name, T0 + offset)
}

fn contact(ed: &Editor) -> ContactDoc {
    ContactDoc::create(
        ed,
        NewContact {
            team: "kempen".into(),
            display_name: "Lotte".into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: Channel::YouthCentre,
            place: None,
            assigned_worker: None,
        },
    )
    .expect("contact")
}

fn fork(doc: &ContactDoc) -> ContactDoc {
    let id = doc.record().id();
    ContactDoc::from_record(RecordDoc::from_automerge(id, doc.record().doc().fork()).expect("fork"))
        .expect("contact")
}

fn merged(docs: &[&ContactDoc]) -> ContactDoc {
    let mut out = fork(docs[0]);
    for d in &docs[1..] {
        out.merge(d).expect("merge");
    }
    out
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 1 {
        return vec![vec![0]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn two_workers_offline_both_notes_both_statuses_phone_conflict_visible() {
    let anna = editor("Anna", 0);
    let bram = editor("Bram", 10);
    let base = contact(&anna);
    let mut a = fork(&base);
    let mut b = fork(&base);

    a.add_note(
        &anna,
        NewNote {
            text: "Met at the youth centre".into(),
            ..Default::default()
        },
    )
    .expect("note");
    a.set_field(&anna, ContactField::Phone, Some("+32 470 11 11 11"))
        .expect("phone");
    b.change_status(&bram, Status::Engaged, None)
        .expect("status");
    b.set_field(&bram, ContactField::Phone, Some("+32 470 22 22 22"))
        .expect("phone");
    b.add_note(
        &bram,
        NewNote {
            text: "Phoned, wants a welding course".into(),
            ..Default::default()
        },
    )
    .expect("note");

    let ab = merged(&[&a, &b]).read().expect("read");
    let ba = merged(&[&b, &a]).read().expect("read");
    assert_eq!(ab, ba, "merge order must not matter");
    assert_eq!(ab.notes.len(), 2, "both notes kept");
    assert_eq!(ab.status, Status::Engaged);
    assert_eq!(ab.status_history.len(), 2);
    let phones = ab
        .conflicts
        .get(&ContactField::Phone)
        .expect("phone conflict is visible");
    let mut seen: Vec<(String, String)> = phones
        .iter()
        .map(|c| (c.value.clone(), c.set_by.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("+32 470 11 11 11".to_string(), "Anna".to_string()),
            ("+32 470 22 22 22".to_string(), "Bram".to_string())
        ]
    );

    // Keeping one value resolves the conflict for everyone.
    let mut resolved = merged(&[&a, &b]);
    resolved
        .set_field(
            &bram.at(T0 + 100),
            ContactField::Phone,
            Some("+32 470 11 11 11"),
        )
        .expect("keep");
    let r = resolved.read().expect("read");
    assert!(r.conflicts.is_empty());
    assert_eq!(r.phone.as_deref(), Some("+32 470 11 11 11"));
}

#[test]
fn three_replicas_converge_in_every_merge_order() {
    let eds = [editor("Anna", 0), editor("Bram", 1), editor("Csilla", 2)];
    let base = contact(&eds[0]);
    let mut replicas: Vec<ContactDoc> = (0..3).map(|_| fork(&base)).collect();
    for (i, (r, ed)) in replicas.iter_mut().zip(&eds).enumerate() {
        r.add_note(
            ed,
            NewNote {
                text: format!("note by {}", ed.worker),
                ..Default::default()
            },
        )
        .expect("note");
        r.change_status(
            ed,
            [Status::Engaged, Status::InGuidance, Status::InTraining][i],
            None,
        )
        .expect("status");
        r.set_tags(ed, &[format!("tag{i}")]).expect("tags");
        r.set_field(ed, ContactField::Municipality, Some(&format!("town {i}")))
            .expect("town");
    }
    let results: Vec<_> = permutations(3)
        .into_iter()
        .map(|p| {
            let order: Vec<&ContactDoc> = p.iter().map(|&i| &replicas[i]).collect();
            let m = merged(&order);
            (m.record().heads().len(), m.read().expect("read"))
        })
        .collect();
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
    let c = &results[0].1;
    assert_eq!(c.notes.len(), 3);
    assert_eq!(
        c.status_history.len(),
        4,
        "created + three concurrent changes"
    );
    assert_eq!(c.tags.len(), 3, "concurrent tag additions all survive");
    assert_eq!(
        c.conflicts.get(&ContactField::Municipality).map(Vec::len),
        Some(3)
    );
    assert_eq!(
        c.conflicts.get(&ContactField::Status).map(Vec::len),
        Some(3)
    );
}

#[test]
fn concurrent_edits_of_one_note_merge_per_character() {
    let anna = editor("Anna", 0);
    let bram = editor("Bram", 1);
    let mut base = contact(&anna);
    let id = base
        .add_note(
            &anna,
            NewNote {
                text: "Met at the market".into(),
                ..Default::default()
            },
        )
        .expect("note");
    let mut a = fork(&base);
    let mut b = fork(&base);
    a.edit_note(&anna, &id, "Met at the market on Monday")
        .expect("edit");
    b.edit_note(&bram, &id, "Finally met at the market")
        .expect("edit");
    let text = merged(&[&a, &b]).read().expect("read").notes[0]
        .text
        .clone();
    assert_eq!(text, "Finally met at the market on Monday");
}

#[derive(Clone, Debug)]
enum Op {
    Note(u8),
    Status(u8),
    Phone(u8),
    Tag(u8),
    EditFirstNote(u8),
    /// Replica merges another replica's state.
    Merge(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Note),
        any::<u8>().prop_map(Op::Status),
        any::<u8>().prop_map(Op::Phone),
        any::<u8>().prop_map(Op::Tag),
        any::<u8>().prop_map(Op::EditFirstNote),
        any::<u8>().prop_map(Op::Merge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_edit_sequences_converge_and_lose_no_note(
        ops in proptest::collection::vec((0usize..3, op()), 1..40)
    ) {
        let eds = [editor("Anna", 0), editor("Bram", 1), editor("Csilla", 2)];
        let mut base = contact(&eds[0]);
        let first = base.add_note(&eds[0], NewNote { text: "start".into(), ..Default::default() }).expect("note");
        let mut replicas: Vec<ContactDoc> = (0..3).map(|_| fork(&base)).collect();
        let mut notes_added = 1;
        for (step, (who, op)) in ops.iter().enumerate() {
            let ed = eds[*who].at(T0 + step as i64);
            let r = &mut replicas[*who];
            match op {
                Op::Note(n) => {
                    r.add_note(&ed, NewNote { text: format!("note {n} by {}", ed.worker), ..Default::default() }).expect("note");
                    notes_added += 1;
                }
                Op::Status(s) => {
                    let _ = r.change_status(&ed, Status::ALL[(*s as usize) % 5], None);
                }
                Op::Phone(p) => r.set_field(&ed, ContactField::Phone, Some(&format!("+36 30 {p:03} 0000"))).expect("phone"),
                Op::Tag(t) => r.set_tags(&ed, &[format!("t{}", t % 4)]).expect("tags"),
                Op::EditFirstNote(n) => r.edit_note(&ed, &first, &format!("start {n}")).expect("edit"),
                Op::Merge(from) => {
                    let from = (*from as usize) % 3;
                    if from != *who {
                        let other = replicas[from].clone();
                        replicas[*who].merge(&other).expect("merge");
                    }
                }
            }
        }
        let final_states: Vec<_> = permutations(3)
            .into_iter()
            .map(|p| merged(&p.iter().map(|&i| &replicas[i]).collect::<Vec<_>>()).read().expect("read"))
            .collect();
        for s in &final_states[1..] {
            prop_assert_eq!(s, &final_states[0]);
        }
        prop_assert_eq!(final_states[0].notes.len(), notes_added);
    }
}
