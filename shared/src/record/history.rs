//! A record's history: who changed what and when, and for each change the values it
//! changed, from and to, read from the Automerge change log (nothing extra is stored).

use automerge::{ObjId, Prop, ReadDoc, Value};
use automerge::{PatchAction, ROOT};

use super::{RecordDoc, display_value, parse_message};

/// One change in a record's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub hash: String,
    pub by: String,
    pub what: String,
    pub at_ms: i64,
    /// The one-line values this change set or cleared (not texts, not the bookkeeping
    /// keys), in document order.
    pub changed: Vec<FieldChange>,
}

/// A value a change set: where (`path`, the map keys from the root, e.g.
/// `["phone"]`, `["notes", "<id>", "follow_up"]`, `["inclusive", "level"]`), what
/// it was just before that change on the writer's device, and what it became
/// (`None`: absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub path: Vec<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FieldChange {
    /// The key the value sits under (the last part of the path).
    pub fn key(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or_default()
    }
}

/// Keys every change writes or that only the app's bookkeeping reads.
const BOOKKEEPING: [&str; 4] = ["updated_at", "created_at", "id", "removed"];

impl RecordDoc {
    /// Who changed what and when, oldest first, each with the values it changed.
    pub fn history(&self) -> Vec<HistoryEntry> {
        let mut entries: Vec<HistoryEntry> = self
            .doc
            .get_changes_meta(&[])
            .into_iter()
            .map(|meta| {
                let (by, what) = parse_message(meta.message.as_deref());
                // The first change creates the record: every value is new, none changed.
                let changed = if meta.deps.is_empty() {
                    Vec::new()
                } else {
                    self.changed_by(&meta.deps, meta.hash)
                };
                HistoryEntry {
                    hash: meta.hash.to_string(),
                    by,
                    what,
                    at_ms: meta.timestamp,
                    changed,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then_with(|| a.hash.cmp(&b.hash)));
        entries
    }

    /// The one-line values change `hash` (with parents `deps`) set or removed.
    fn changed_by(
        &self,
        deps: &[automerge::ChangeHash],
        hash: automerge::ChangeHash,
    ) -> Vec<FieldChange> {
        let doc = &self.doc;
        let before = |obj: &ObjId, key: &str| -> Option<String> {
            match doc.get_at(obj, key, deps) {
                Ok(Some((value @ Value::Scalar(_), _))) => Some(display_value(&value)),
                _ => None,
            }
        };
        doc.diff(deps, &[hash])
            .into_iter()
            .filter_map(|patch| {
                let (key, after) = match patch.action {
                    PatchAction::PutMap {
                        key,
                        value: (value @ Value::Scalar(_), _),
                        ..
                    } => (key, Some(display_value(&value))),
                    PatchAction::DeleteMap { key } => (key, None),
                    _ => return None,
                };
                if BOOKKEEPING.contains(&key.as_str()) {
                    return None;
                }
                let before = before(&patch.obj, &key);
                if before == after {
                    return None;
                }
                let mut path: Vec<String> = patch
                    .path
                    .iter()
                    .filter_map(|(_, prop)| match prop {
                        Prop::Map(k) => Some(k.clone()),
                        Prop::Seq(_) => None,
                    })
                    .collect();
                // A value inside a list (a status history entry) is part of adding
                // that entry, not a field that changed.
                if patch.path.iter().any(|(_, p)| matches!(p, Prop::Seq(_))) {
                    return None;
                }
                if patch.obj != ROOT && path.is_empty() {
                    return None;
                }
                path.push(key);
                Some(FieldChange {
                    path,
                    before,
                    after,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::contact::{Channel, ContactDoc, ContactField, NewContact, NewNote};
    use crate::employer::{Commitment, EmployerDoc};
    use crate::record::Editor;
    use automerge::ActorId;

    use super::FieldChange;

    const T0: i64 = 1_795_521_600_000;

    fn change(path: &[&str], before: Option<&str>, after: Option<&str>) -> FieldChange {
        FieldChange {
            path: path.iter().map(|p| p.to_string()).collect(),
            before: before.map(Into::into),
            after: after.map(Into::into),
        }
    }

    #[test]
    fn the_history_says_what_a_field_was_changed_from_and_to() {
        let ed = Editor::new(ActorId::random(), "Anna", T0);
        let mut c = ContactDoc::create(
            &ed,
            NewContact {
                team: "kempen".into(),
                display_name: "Lotte".into(),
                first_contact_on: "2026-11-20".parse().expect("day"),
                channel: Channel::Street,
                place: None,
                assigned_worker: None,
            },
        )
        .expect("created");
        c.set_field(
            &ed.at(T0 + 1),
            ContactField::Phone,
            Some("+32 470 11 22 33"),
        )
        .expect("phone");
        c.set_field(
            &ed.at(T0 + 2),
            ContactField::Phone,
            Some("+32 470 99 88 77"),
        )
        .expect("phone again");
        c.set_field(&ed.at(T0 + 3), ContactField::Phone, None)
            .expect("cleared");
        let note = c
            .add_note(
                &ed.at(T0 + 4),
                NewNote {
                    text: "met at the market".into(),
                    ..Default::default()
                },
            )
            .expect("note");
        c.set_note_follow_up(
            &ed.at(T0 + 5),
            &note,
            Some("2026-12-09".parse().expect("day")),
        )
        .expect("follow-up");
        c.set_note_done(&ed.at(T0 + 6), &note, true).expect("done");
        let history = c.record().history();
        let of = |what: &str| -> Vec<Vec<FieldChange>> {
            history
                .iter()
                .filter(|h| h.what == what)
                .map(|h| h.changed.clone())
                .collect()
        };
        assert!(history[0].changed.is_empty(), "creating changes nothing");
        assert_eq!(
            of("phone"),
            vec![
                vec![change(&["phone"], None, Some("+32 470 11 22 33"))],
                vec![change(
                    &["phone"],
                    Some("+32 470 11 22 33"),
                    Some("+32 470 99 88 77")
                )],
                vec![change(&["phone"], Some("+32 470 99 88 77"), None)],
            ]
        );
        assert_eq!(
            of("follow-up date"),
            vec![vec![change(
                &["notes", &note, "follow_up"],
                None,
                Some("2026-12-09")
            )]]
        );
        assert_eq!(
            of("follow-up done"),
            vec![vec![change(
                &["notes", &note, "done"],
                Some("false"),
                Some("true")
            )]]
        );
    }

    #[test]
    fn a_commitment_change_names_the_level_before_and_after() {
        let ed = Editor::new(ActorId::random(), "Jonas", T0);
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        e.set_commitment(&ed.at(T0 + 1), Commitment::Interested, None)
            .expect("interested");
        let history = e.record().history();
        let last = history.last().expect("entry");
        assert_eq!(
            last.changed,
            vec![change(
                &["inclusive", "level"],
                Some("none"),
                Some("interested")
            )]
        );
    }
}
