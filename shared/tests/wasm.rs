//! The shared model in a real browser (headless Chromium via wasm-bindgen-test):
//! what the app relies on must work on wasm32, where clocks and randomness differ.
#![cfg(target_arch = "wasm32")]

use automerge::ActorId;
use paktum_shared::caseload::{CaseloadDoc, Summary};
use paktum_shared::contact::{Channel, ContactDoc, ContactField, NewContact, NewNote, Status};
use paktum_shared::protocol::Message;
use paktum_shared::{DocumentId, Editor};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn editor(name: &str) -> Editor {
    Editor::new(ActorId::random(), name, js_sys::Date::now() as i64)
}

fn new_contact() -> NewContact {
    NewContact {
        team: "worms".into(),
        display_name: "Finn".into(),
        first_contact_on: "2026-11-24".parse().expect("day"),
        channel: Channel::School,
        place: None,
        assigned_worker: None,
    }
}

#[wasm_bindgen_test]
fn records_are_created_edited_saved_and_loaded_in_the_browser() {
    let ed = editor("Mia");
    let mut c = ContactDoc::create(&ed, new_contact()).expect("create");
    c.add_note(
        &ed,
        NewNote {
            text: "Erstes Gespräch".into(),
            ..Default::default()
        },
    )
    .expect("note");
    c.change_status(&ed, Status::Engaged, None).expect("status");
    let loaded = ContactDoc::load(c.record().id(), &c.record().save()).expect("load");
    let read = loaded.read().expect("read");
    assert_eq!(read.notes[0].text, "Erstes Gespräch");
    assert_eq!(read.status_history.len(), 2);
    assert_ne!(
        DocumentId::random(),
        DocumentId::random(),
        "randomness works in the browser"
    );
}

#[wasm_bindgen_test]
fn concurrent_edits_merge_in_the_browser() {
    let (a_ed, b_ed) = (editor("Mia"), editor("Emil"));
    let base = ContactDoc::create(&a_ed, new_contact()).expect("create");
    let (mut a, mut b) = (base.clone(), base);
    a.set_field(&a_ed, ContactField::Phone, Some("+49 6241 1111"))
        .expect("phone");
    b.set_field(&b_ed, ContactField::Phone, Some("+49 6241 2222"))
        .expect("phone");
    a.merge(&b).expect("merge");
    assert_eq!(
        a.read()
            .expect("read")
            .conflicts
            .get(&ContactField::Phone)
            .map(Vec::len),
        Some(2)
    );
}

#[wasm_bindgen_test]
fn index_and_protocol_work_in_the_browser() {
    let ed = editor("Mia");
    let c = ContactDoc::create(&ed, new_contact()).expect("create");
    let mut index = CaseloadDoc::new("worms").expect("index");
    let summary = Summary::of(c.record()).expect("summary");
    index
        .upsert(&ed, &[(c.record().id(), summary, Some(c.record().heads()))])
        .expect("upsert");
    assert_eq!(index.len(), 1);
    let msg = Message::Sync {
        sender_id: "a".into(),
        target_id: "b".into(),
        document_id: index.id(),
        data: vec![1, 2, 3],
    };
    assert_eq!(Message::decode(&msg.encode()), Ok(msg));
}
