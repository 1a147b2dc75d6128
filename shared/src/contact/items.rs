//! Mending a contact's timeline: a note's date, place, tags, follow-up and text
//! changed in one go, and a note or a referral removed by mistake and put back
//! (undo). Removal flags the item (`removed: true`) instead of deleting it, so a
//! colleague's concurrent edit of the same item keeps it (every edit writes
//! `removed: false`): a merge never loses what someone wrote.

use automerge::transaction::Transactable;

use super::{ContactDoc, ContactPart, NewNote, Outcome};
use crate::ModelError;
use crate::date::Day;
use crate::record::{self, Editor};

impl ContactDoc {
    /// Sets a note's text, date, place, tags and follow-up to the form's values,
    /// writing only what differs (so concurrent edits of other parts merge), as one
    /// change. An empty text is refused; the note stays as it was.
    pub fn update_note(
        &mut self,
        editor: &Editor,
        note_id: &str,
        values: NewNote,
    ) -> Result<(), ModelError> {
        let text = record::limited("note", values.text.trim(), record::TEXT_MAX)?;
        if text.is_empty() {
            return Err(ModelError::Empty { field: "note" });
        }
        let place = record::optional("place", values.place.as_deref())?;
        let tags = record::clean_tags(&values.tags)?;
        // Only this note is read (the form's values are compared with it), not the
        // whole contact; a note removed here is gone for the form too.
        let note = self.0.item("notes", "note", note_id)?;
        if record::is_removed(self.0.doc(), &note) {
            return Err(ModelError::NotFound {
                what: "note",
                id: note_id.into(),
            });
        }
        let before = super::read::note_at(self.0.doc(), note_id.to_string(), &note);
        self.0.change(editor, "note edited", |tx| {
            tx.put(&note, "removed", false)?;
            if before.text != text {
                record::update_text(tx, &note, "text", &text)?;
            }
            if before.date != values.date {
                record::put_opt(tx, &note, "date", values.date.map(|d| d.to_string()))?;
            }
            if before.place != place {
                record::put_opt(tx, &note, "place", place)?;
            }
            if before.tags != tags {
                record::put_tags(tx, &note, "tags", &tags)?;
            }
            if before.follow_up != values.follow_up {
                record::put_opt(
                    tx,
                    &note,
                    "follow_up",
                    values.follow_up.map(|d| d.to_string()),
                )?;
            }
            Ok(())
        })
    }

    /// Removes a note added by mistake (it leaves the timeline; the history keeps
    /// that it was there). [`ContactDoc::restore_note`] undoes it.
    pub fn remove_note(&mut self, editor: &Editor, note_id: &str) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "notes", "note", note_id, true)
    }

    pub fn restore_note(&mut self, editor: &Editor, note_id: &str) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "notes", "note", note_id, false)
    }

    /// Removes a referral added by mistake; [`ContactDoc::restore_referral`] undoes it.
    pub fn remove_referral(
        &mut self,
        editor: &Editor,
        referral_id: &str,
    ) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "referrals", "referral", referral_id, true)
    }

    pub fn restore_referral(
        &mut self,
        editor: &Editor,
        referral_id: &str,
    ) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "referrals", "referral", referral_id, false)
    }

    /// Settles a value two people set concurrently ("changed by both") by writing the
    /// one the worker keeps (`value` as [`crate::record::Concurrent::value`] shows it:
    /// a day, `true`/`false`, an outcome, a scope, a stage; empty clears a day). Writing it
    /// again supersedes both concurrent values, so the conflict ends on every device.
    pub fn keep_part(
        &mut self,
        editor: &Editor,
        part: &ContactPart,
        value: &str,
    ) -> Result<(), ModelError> {
        let day = |v: &str| -> Result<Option<Day>, ModelError> {
            match v.trim() {
                "" => Ok(None),
                d => d.parse().map(Some),
            }
        };
        match part {
            // Moving there again writes the stage over both values, and clears what it
            // may not hold: the other phone's step up may have added it.
            ContactPart::Stage => self.move_to_stage(editor, value.parse()?, &[]),
            ContactPart::NoteFollowUp(id) => self.set_note_follow_up(editor, id, day(value)?),
            ContactPart::NoteDone(id) => {
                let done = match value {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(ModelError::Invalid {
                            field: "done",
                            value: crate::words::shown(other),
                        });
                    }
                };
                self.set_note_done(editor, id, done)
            }
            ContactPart::ReferralOutcome(id) => {
                let outcome: Outcome = value.parse()?;
                self.set_referral_outcome(editor, id, outcome)
            }
            ContactPart::ConsentGivenOn | ContactPart::ConsentWithdrawnOn => {
                let (key, what) = if *part == ContactPart::ConsentGivenOn {
                    ("given_on", "consent given")
                } else {
                    ("withdrawn_on", "consent withdrawn")
                };
                let on = day(value)?;
                self.0.change(editor, what, |tx| {
                    let consent = record::map_at_tx(tx, &automerge::ROOT, "consent")?;
                    record::put_opt(tx, &consent, key, on.map(|d| d.to_string()))
                })
            }
            ContactPart::ConsentScope => {
                let scope = record::required("consent scope", value)?;
                self.0.change(editor, "consent given", |tx| {
                    let consent = record::map_at_tx(tx, &automerge::ROOT, "consent")?;
                    tx.put(&consent, "scope", scope)?;
                    Ok(())
                })
            }
        }
    }
}
