//! The bundle floor: one exported function that reaches everything a syncing device
//! needs from automerge and `paktum-shared` (typed records, the caseload index,
//! load, save, incremental save, merge, the replica's sync), and nothing else: no
//! Leptos, no IndexedDB, no network. `cargo xtask bench` builds it like the app and
//! reports its compressed size, the part of the app's bundle no UI work can remove.

use automerge::ActorId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{self, Channel, ContactDoc, NewContact, NewNote};
use paktum_shared::employer::EmployerDoc;
use paktum_shared::protocol::Message;
use paktum_shared::replica::Replica;
use paktum_shared::{Day, DocumentId, Editor};
use wasm_bindgen::prelude::*;

/// Runs the device's automerge paths on `bytes` (any input) so none is left out of
/// the build; returns their output so none is optimised away.
#[wasm_bindgen]
pub fn exercise(bytes: &[u8], now_ms: f64) -> Vec<u8> {
    let editor = Editor::new(ActorId::random(), "worker", now_ms as i64);
    let mut out = Vec::new();
    let mut replica = Replica::new("floor", None);
    out.extend(replica.connect().encode());
    if let Ok(message) = Message::decode(bytes)
        && let Ok(answers) = replica.receive(message)
    {
        answers.iter().for_each(|m| out.extend(m.encode()));
    }
    replica.follow_index(DocumentId::random());
    replica
        .want(DocumentId::random())
        .iter()
        .for_each(|m| out.extend(m.encode()));
    let day = std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<Day>().ok())
        .or_else(|| Day::from_unix_ms(now_ms as i64));
    let new = day.map(|first_contact_on| NewContact {
        team: "team".into(),
        display_name: "name".into(),
        first_contact_on,
        channel: Channel::Street,
        place: None,
        assigned_worker: None,
    });
    if let Some(Ok(mut c)) = new.map(|new| ContactDoc::create(&editor, new)) {
        let note = NewNote {
            text: "note".into(),
            ..Default::default()
        };
        let _ = c.add_note(&editor, note);
        if let Ok(other) = ContactDoc::load(DocumentId::random(), bytes) {
            let _ = c.merge(&other);
        }
        if let Ok(read) = c.read() {
            out.extend(read.status.as_str().as_bytes());
        }
        let index = CaseloadDoc::load(bytes).or_else(|_| CaseloadDoc::new("team"));
        if let (Ok(summary), Ok(mut index)) = (contact::summary_of(c.record()), index) {
            let _ = index.upsert(&editor, &[(DocumentId::random(), summary, None)]);
            out.extend(index.entries().len().to_le_bytes());
            out.extend(index.save());
        }
        out.extend(c.record().save_after(&[]));
    }
    if let Ok(e) = EmployerDoc::create(&editor, "team", "employer") {
        let _ = e.read();
        out.extend(e.record().save());
    }
    out
}
