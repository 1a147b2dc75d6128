//! Reading a contact's document into plain values for the screens.

use automerge::{ObjType, ROOT, ReadDoc};

use super::*;

/// Reads the record without taking ownership (list summaries, the index).
pub fn read_contact(record: &RecordDoc) -> Result<Contact, ModelError> {
    read_with(record, true)
}

/// Reads what the indicators and the coordinator's table need: everything but the
/// notes, of which only the open follow-ups are kept (date, author, follow-up; no
/// text, place or tags), so `next_follow_up()` still holds. The notes are most of
/// the cost of reading a contact.
pub fn read_contact_for_figures(record: &RecordDoc) -> Result<Contact, ModelError> {
    read_with(record, false)
}

fn read_with(record: &RecordDoc, whole_notes: bool) -> Result<Contact, ModelError> {
    let (display_name, status) = name_and_status(record)?;
    let doc = record.doc();
    let first = record::obj_at(doc, &ROOT, "first_contact", ObjType::Map);
    let first_str = |key: &str| first.as_ref().and_then(|f| record::opt_str_at(doc, f, key));

    let status_history = record::obj_at(doc, &ROOT, "status_history", ObjType::List)
        .map(|list| {
            doc.list_range(&list, ..)
                .filter_map(|item| {
                    let entry = item.id();
                    Some(StatusChange {
                        status: record::str_at(doc, &entry, "status")?.parse().ok()?,
                        reason: record::opt_str_at(doc, &entry, "reason"),
                        by: record::str_at(doc, &entry, "by").unwrap_or_default(),
                        at_ms: record::i64_at(doc, &entry, "at").unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();

    let consent = record::obj_at(doc, &ROOT, "consent", ObjType::Map)
        .map(|c| Consent {
            given_on: record::str_at(doc, &c, "given_on").and_then(|d| d.parse().ok()),
            given_by: record::opt_str_at(doc, &c, "given_by"),
            scope: record::opt_str_at(doc, &c, "scope"),
            withdrawn_on: record::str_at(doc, &c, "withdrawn_on").and_then(|d| d.parse().ok()),
        })
        .unwrap_or_default();

    let mut notes: Vec<Note> = record::obj_at(doc, &ROOT, "notes", ObjType::Map)
        .map(|m| {
            record::live_items(doc, &m)
                .into_iter()
                .filter_map(|(id, n)| {
                    if whole_notes {
                        return Some(note_at(doc, id, &n));
                    }
                    if record::bool_at(doc, &n, "done").unwrap_or(false) {
                        return None;
                    }
                    let follow_up = record::str_at(doc, &n, "follow_up")?.parse().ok()?;
                    Some(Note {
                        id,
                        date: None,
                        author: record::str_at(doc, &n, "author").unwrap_or_default(),
                        place: None,
                        text: String::new(),
                        tags: Vec::new(),
                        follow_up: Some(follow_up),
                        done: false,
                        created_at: 0,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    notes.sort_by(|a, b| (b.date, b.created_at, &b.id).cmp(&(a.date, a.created_at, &a.id)));

    let referrals = referrals_of(doc);

    let conflicts = record.root_conflicts(ContactField::all(), ContactField::key);
    let part_conflicts = part_conflicts(record);

    let stage_kept = kept_stage(record);
    let mut contact = Contact {
        id: record.id(),
        team: record::str_at(doc, &ROOT, "team").unwrap_or_default(),
        display_name,
        stage: Stage::Anonymous,
        stage_kept,
        description: record::opt_str_at(doc, &ROOT, "description"),
        full_name: record::opt_str_at(doc, &ROOT, "full_name"),
        birth_year: record::i64_at(doc, &ROOT, "birth_year"),
        birth_date: super::birth::birth_date_in(doc),
        phone: record::opt_str_at(doc, &ROOT, "phone"),
        email: record::opt_str_at(doc, &ROOT, "email"),
        municipality: record::opt_str_at(doc, &ROOT, "municipality"),
        first_contact_on: first_str("date").and_then(|d| d.parse().ok()),
        channel: first_str("channel").and_then(|c| c.parse().ok()),
        first_place: first_str("place"),
        assigned_worker: record::str_at(doc, &ROOT, "assigned_worker").unwrap_or_default(),
        status,
        status_history,
        consent,
        tags: record::set_keys(doc, &ROOT, "tags"),
        notes,
        referrals,
        team_moves: super::moves::moves_of(record),
        participant: super::participant::participant_of(record),
        created_at: record.created_at(),
        updated_at: record.updated_at(),
        conflicts,
        part_conflicts,
    };
    contact.stage = super::stage::stage_of(stage_kept, &contact.filled());
    Ok(contact)
}

/// The stage a contact's document keeps; `None` on a record from before stages (or a
/// value this version does not know, read as what the record holds).
pub(super) fn kept_stage(record: &RecordDoc) -> Option<Stage> {
    record::str_at(record.doc(), &ROOT, "stage").and_then(|s| s.parse().ok())
}

/// The stage, and the values inside a contact's notes, consent and referrals, that hold
/// concurrent values (removed notes and referrals are left out: nobody sees them).
fn part_conflicts(record: &RecordDoc) -> BTreeMap<ContactPart, Vec<Concurrent>> {
    let doc = record.doc();
    let mut found = BTreeMap::new();
    let mut look = |part: ContactPart, obj: &automerge::ObjId, key: &str| {
        let values = record.conflicts(obj, key);
        if !values.is_empty() {
            found.insert(part, values);
        }
    };
    look(ContactPart::Stage, &ROOT, "stage");
    if let Some(notes) = record::obj_at(doc, &ROOT, "notes", ObjType::Map) {
        for (id, n) in record::live_items(doc, &notes) {
            look(ContactPart::NoteFollowUp(id.clone()), &n, "follow_up");
            look(ContactPart::NoteDone(id), &n, "done");
        }
    }
    if let Some(consent) = record::obj_at(doc, &ROOT, "consent", ObjType::Map) {
        look(ContactPart::ConsentGivenOn, &consent, "given_on");
        look(ContactPart::ConsentScope, &consent, "scope");
        look(ContactPart::ConsentWithdrawnOn, &consent, "withdrawn_on");
    }
    if let Some(referrals) = record::obj_at(doc, &ROOT, "referrals", ObjType::Map) {
        for (id, r) in record::live_items(doc, &referrals) {
            look(ContactPart::ReferralOutcome(id), &r, "outcome");
        }
    }
    found
}

/// A contact's kind check, name and status: what every reader of a contact needs first.
pub(super) fn name_and_status(record: &RecordDoc) -> Result<(String, Status), ModelError> {
    if record.kind() != Kind::Contact {
        return Err(ModelError::WrongKind {
            expected: Kind::Contact.as_str(),
            found: record.kind().as_str().into(),
        });
    }
    let doc = record.doc();
    let name = record::str_at(doc, &ROOT, "display_name")
        .ok_or_else(|| ModelError::Corrupt("contact has no name".into()))?;
    let status = record::str_at(doc, &ROOT, "status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(Status::New);
    Ok((name, status))
}

/// One note, read from its object.
pub(super) fn note_at(doc: &automerge::Automerge, id: String, n: &automerge::ObjId) -> Note {
    Note {
        id,
        date: record::str_at(doc, n, "date").and_then(|d| d.parse().ok()),
        author: record::str_at(doc, n, "author").unwrap_or_default(),
        place: record::opt_str_at(doc, n, "place"),
        text: record::str_at(doc, n, "text").unwrap_or_default(),
        tags: record::set_keys(doc, n, "tags"),
        follow_up: record::str_at(doc, n, "follow_up").and_then(|d| d.parse().ok()),
        done: record::bool_at(doc, n, "done").unwrap_or(false),
        created_at: record::i64_at(doc, n, "created_at").unwrap_or(0),
    }
}

/// The referrals of a contact's document that are not removed, in no particular
/// order (read from the document itself: the employer page reads every contact's).
pub fn referrals_of(doc: &automerge::Automerge) -> Vec<Referral> {
    record::obj_at(doc, &ROOT, "referrals", ObjType::Map)
        .map(|m| {
            record::live_items(doc, &m)
                .into_iter()
                .map(|(id, r)| Referral {
                    id,
                    employer_id: record::str_at(doc, &r, "employer_id")
                        .and_then(|e| e.parse().ok()),
                    opening: record::str_at(doc, &r, "opening").unwrap_or_default(),
                    date: record::str_at(doc, &r, "date").and_then(|d| d.parse().ok()),
                    outcome: record::str_at(doc, &r, "outcome")
                        .and_then(|o| o.parse().ok())
                        .unwrap_or(Outcome::Pending),
                    by: record::str_at(doc, &r, "by").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}
