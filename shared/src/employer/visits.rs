//! Mending a visit: its date, openings and follow-up date changed in one go (the
//! form's values, writing only what differs), or only its follow-up date. Like every
//! edit of an item, it writes `removed: false`, so a colleague's concurrent removal
//! does not lose what was written here. The openings are one list: when they differ
//! they are written as a new list, so two phones editing them at once keep one
//! phone's list whole rather than a mix.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ScalarValue};

use super::{EmployerDoc, Opening};
use crate::date::Day;
use crate::error::ModelError;
use crate::record::{self, Editor};

/// What the visit edit form sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitEdit {
    pub date: Day,
    pub openings: Vec<Opening>,
    pub follow_up: Option<Day>,
}

/// Openings as stored: a title each, 1 to 1,000 places, requirements trimmed.
pub(super) fn clean_openings(openings: &[Opening]) -> Result<Vec<Opening>, ModelError> {
    openings
        .iter()
        .map(|o| {
            let title = record::required("opening title", &o.title)?;
            if !(1..=1000).contains(&o.count) {
                return Err(ModelError::OutOfRange {
                    field: "number of openings",
                    min: 1,
                    max: 1000,
                });
            }
            let requirements = record::optional("requirements", o.requirements.as_deref())?;
            Ok(Opening {
                title,
                count: o.count,
                requirements,
            })
        })
        .collect()
}

/// Writes `openings` as a new list under the visit.
pub(super) fn put_openings(
    tx: &mut Transaction<'_>,
    visit: &ObjId,
    openings: Vec<Opening>,
) -> Result<(), ModelError> {
    let list = tx.put_object(visit, "openings", ObjType::List)?;
    for (i, o) in openings.into_iter().enumerate() {
        let item = tx.insert_object(&list, i, ObjType::Map)?;
        tx.put(&item, "title", o.title)?;
        tx.put(&item, "count", ScalarValue::Int(i64::from(o.count)))?;
        record::put_opt(tx, &item, "requirements", o.requirements)?;
    }
    Ok(())
}

impl EmployerDoc {
    /// Sets a visit's date, openings and follow-up date to the form's values, as one
    /// change. A visit removed meanwhile is not found.
    pub fn update_visit(
        &mut self,
        editor: &Editor,
        visit_id: &str,
        values: VisitEdit,
    ) -> Result<(), ModelError> {
        let openings = clean_openings(&values.openings)?;
        let before = self
            .read()?
            .visits
            .into_iter()
            .find(|v| v.id == visit_id)
            .ok_or_else(|| ModelError::NotFound {
                what: "visit",
                id: visit_id.into(),
            })?;
        let visit = self.0.item("visits", "visit", visit_id)?;
        self.0.change(editor, "visit edited", |tx| {
            tx.put(&visit, "removed", false)?;
            if before.date != Some(values.date) {
                tx.put(&visit, "date", values.date.to_string())?;
            }
            if before.openings != openings {
                put_openings(tx, &visit, openings)?;
            }
            if before.follow_up != values.follow_up {
                record::put_opt(
                    tx,
                    &visit,
                    "follow_up",
                    values.follow_up.map(|d| d.to_string()),
                )?;
            }
            Ok(())
        })
    }

    /// Moves (or clears, with `None`) a visit's follow-up date.
    pub fn set_visit_follow_up(
        &mut self,
        editor: &Editor,
        visit_id: &str,
        on: Option<Day>,
    ) -> Result<(), ModelError> {
        let visit = self.0.item("visits", "visit", visit_id)?;
        self.0.change(editor, "follow-up date", |tx| {
            tx.put(&visit, "removed", false)?;
            record::put_opt(tx, &visit, "follow_up", on.map(|d| d.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::employer::NewVisit;
    use automerge::ActorId;

    fn editor(who: &str) -> Editor {
        Editor::new(ActorId::random(), who, 1_795_521_600_000)
    }

    fn day(s: &str) -> Day {
        s.parse().expect("day")
    }

    fn opening(title: &str, count: u32) -> Opening {
        Opening {
            title: title.into(),
            count,
            requirements: None,
        }
    }

    fn with_visit(ed: &Editor) -> (EmployerDoc, String) {
        let mut e = EmployerDoc::create(ed, "worms", "Garage Weber").expect("created");
        let id = e
            .add_visit(
                ed,
                NewVisit {
                    date: day("2026-11-20"),
                    purpose: "first visit".into(),
                    text: String::new(),
                    openings: vec![opening("Apprentice mechanic", 1)],
                    follow_up: Some(day("2026-12-01")),
                },
            )
            .expect("visit");
        (e, id)
    }

    #[test]
    fn a_visit_edit_changes_date_openings_and_follow_up() {
        let ed = editor("Jonas");
        let (mut e, id) = with_visit(&ed);
        let openings = vec![opening("Apprentice mechanic", 2), opening("Tyre fitter", 1)];
        e.update_visit(
            &ed,
            &id,
            VisitEdit {
                date: day("2026-11-21"),
                openings: openings.clone(),
                follow_up: None,
            },
        )
        .expect("edited");
        let v = e.read().expect("read").visits.remove(0);
        assert_eq!(v.date, Some(day("2026-11-21")));
        assert_eq!(v.openings, openings);
        assert_eq!(v.follow_up, None);
        assert_eq!(
            v.purpose, "first visit",
            "what the form does not hold stays"
        );
        let bad = VisitEdit {
            date: day("2026-11-21"),
            openings: vec![opening("  ", 1)],
            follow_up: None,
        };
        assert!(
            e.update_visit(&ed, &id, bad).is_err(),
            "an opening needs a title"
        );
        assert!(
            e.update_visit(
                &ed,
                "nope",
                VisitEdit {
                    date: day("2026-11-21"),
                    openings: vec![],
                    follow_up: None,
                }
            )
            .is_err()
        );
    }

    #[test]
    fn a_follow_up_date_is_moved_and_a_concurrent_removal_keeps_the_visit() {
        let anna = editor("Anna");
        let (mut here, id) = with_visit(&anna);
        let mut there = EmployerDoc::load(here.record().id(), &here.record().save()).expect("copy");
        there.remove_visit(&editor("Mia"), &id).expect("removed");
        here.set_visit_follow_up(&anna, &id, Some(day("2026-12-08")))
            .expect("moved");
        here.merge(&there).expect("merged");
        let read = here.read().expect("read");
        assert_eq!(read.visits.len(), 1, "the edit keeps the visit");
        assert_eq!(read.visits[0].follow_up, Some(day("2026-12-08")));
    }
}
