//! Youth contacts: one Automerge document per young person, with pathway status and
//! its history, consent, tags, referrals and the notes timeline.

use std::collections::BTreeMap;
use std::fmt;

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use crate::date::Day;
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record::{self, Concurrent, Editor, Kind, RecordDoc};
use crate::summary::Summary;
use crate::words::{shown, stored_enum};

stored_enum! {
    /// Where a young person is on the way to work or training.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Status unknown(s) => ModelError::UnknownStatus(shown(s));
    {
        New => "new",
        Engaged => "engaged",
        InGuidance => "in_guidance",
        InTraining => "in_training",
        InWork => "in_work",
        Closed => "closed",
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

stored_enum! {
    /// How the first contact came about.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Channel unknown(s) => ModelError::Invalid { field: "channel", value: shown(s) };
    {
        Street => "street",
        YouthCentre => "youth_centre",
        School => "school",
        PartnerReferral => "partner_referral",
        Event => "event",
        Online => "online",
        Other => "other",
    }
}

/// What a first meeting yields: a name to call the person and where/how you met.
/// `ContactDoc::create` keeps no stage (the stage reads from what the record holds);
/// `ContactDoc::create_at` starts the contact at a stage.
#[derive(Clone, Debug)]
pub struct NewContact {
    pub team: String,
    pub display_name: String,
    pub first_contact_on: Day,
    pub channel: Channel,
    pub place: Option<String>,
    /// Defaults to the editor.
    pub assigned_worker: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewNote {
    pub date: Option<Day>,
    pub place: Option<String>,
    pub text: String,
    pub tags: Vec<String>,
    pub follow_up: Option<Day>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Status,
    pub reason: Option<String>,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consent {
    pub given_on: Option<Day>,
    /// Who recorded it (the worker's name); absent on consents recorded before.
    pub given_by: Option<String>,
    /// The scope as stored: `team` or `pact` (see [`ConsentScope`]); older records
    /// hold free text, read as the team only.
    pub scope: Option<String>,
    pub withdrawn_on: Option<Day>,
}

impl Consent {
    pub fn is_active(&self) -> bool {
        self.given_on.is_some() && self.withdrawn_on.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: String,
    pub date: Option<Day>,
    pub author: String,
    pub place: Option<String>,
    pub text: String,
    pub tags: Vec<String>,
    pub follow_up: Option<Day>,
    pub done: bool,
    pub created_at: i64,
}

stored_enum! {
    /// Outcome of referring a young person to an employer's opening.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Outcome unknown(s) => ModelError::Invalid { field: "outcome", value: shown(s) };
    {
        Pending => "pending",
        Interview => "interview",
        Hired => "hired",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referral {
    pub id: String,
    pub employer_id: Option<DocumentId>,
    pub opening: String,
    pub date: Option<Day>,
    pub outcome: Outcome,
    pub by: String,
}

/// A value inside a contact's parts that two people may set concurrently ("changed by
/// both" beyond the one-line fields): a note's follow-up and done flag, the consent,
/// a referral's outcome, the stage of identification. Notes and referrals are named by
/// their id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactPart {
    /// Moved to different stages on two phones; keeping one moves the contact there
    /// again, clearing what that stage may not hold (`ContactDoc::move_to_stage`).
    Stage,
    NoteFollowUp(String),
    NoteDone(String),
    ConsentGivenOn,
    ConsentScope,
    ConsentWithdrawnOn,
    ReferralOutcome(String),
}

/// A contact read out of its document into plain values for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub id: DocumentId,
    pub team: String,
    pub display_name: String,
    /// How much the record says about who the young person is (see `stage`).
    pub stage: Stage,
    /// The stage as kept; `None` on a record from before stages.
    pub stage_kept: Option<Stage>,
    pub description: Option<String>,
    pub full_name: Option<String>,
    pub birth_year: Option<i64>,
    /// Known only when the young person gave it; `birth_year` is then its year.
    pub birth_date: Option<BirthDate>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub municipality: Option<String>,
    pub first_contact_on: Option<Day>,
    pub channel: Option<Channel>,
    pub first_place: Option<String>,
    pub assigned_worker: String,
    pub status: Status,
    pub status_history: Vec<StatusChange>,
    pub consent: Consent,
    pub tags: Vec<String>,
    /// Newest first.
    pub notes: Vec<Note>,
    pub referrals: Vec<Referral>,
    /// Hand-overs to another team, oldest first (`team` is where it is now).
    pub team_moves: Vec<TeamMove>,
    /// The ESF+ participant data, once the young person has become a participant.
    pub participant: Option<Participant>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Fields that two people set concurrently: every value, with who set it.
    pub conflicts: BTreeMap<ContactField, Vec<Concurrent>>,
    /// Values inside notes, consent and referrals that two people set concurrently.
    pub part_conflicts: BTreeMap<ContactPart, Vec<Concurrent>>,
}

impl Contact {
    /// The earliest open follow-up among the notes.
    pub fn next_follow_up(&self) -> Option<Day> {
        self.next_follow_up_by().map(|(day, _)| day)
    }

    /// The earliest open follow-up and who wrote it (on a tie, the first author by
    /// name, so every reader agrees).
    pub fn next_follow_up_by(&self) -> Option<(Day, String)> {
        crate::summary::earliest_open(
            self.notes
                .iter()
                .map(|n| (n.done, n.follow_up, n.author.as_str())),
        )
    }

    pub fn summary(&self) -> Summary {
        Summary {
            kind: Kind::Contact,
            name: stage::list_name(&self.display_name, self.stage, self.description.as_deref()),
            status: Some(self.status.as_str().to_string()),
            worker: self.assigned_worker.clone(),
            next_follow_up: self.next_follow_up(),
            follow_up_by: self.next_follow_up_by().map(|(_, by)| by),
            updated_at: self.updated_at,
        }
    }
}

/// A contact's document with the operations a worker can do on it.
#[derive(Clone, Debug)]
pub struct ContactDoc(RecordDoc);

record::typed_record!(ContactDoc, Kind::Contact);

impl ContactDoc {
    pub fn create(editor: &Editor, new: NewContact) -> Result<Self, ModelError> {
        Self::create_with_id(DocumentId::random(), editor, new)
    }

    /// A contact starting at `stage` with the values that stage asks (a description,
    /// a phone, …). Identified needs recorded consent, which a new contact does not
    /// have yet: refused.
    pub fn create_at(
        editor: &Editor,
        new: NewContact,
        stage: Stage,
        values: &[(ContactField, String)],
    ) -> Result<Self, ModelError> {
        stage::check_move(Stage::Anonymous, stage, false, false, values)?;
        let mut checked = Vec::with_capacity(values.len());
        for (field, value) in values {
            if matches!(
                field,
                ContactField::DisplayName
                    | ContactField::Team
                    | ContactField::Status
                    | ContactField::AssignedWorker
            ) {
                return Err(ModelError::Invalid {
                    field: "field",
                    value: field.key().into(),
                });
            }
            if let Some(v) = scalar_of(*field, Some(value))? {
                checked.push((field.key(), v));
            }
        }
        // Part of the creation change, so the record never exists without its stage.
        Self::create_with(DocumentId::random(), editor, new, |tx| {
            tx.put(ROOT, "stage", stage.as_str())?;
            for (key, v) in checked {
                tx.put(ROOT, key, v)?;
            }
            Ok(())
        })
    }

    pub fn create_with_id(
        id: DocumentId,
        editor: &Editor,
        new: NewContact,
    ) -> Result<Self, ModelError> {
        Self::create_with(id, editor, new, |_| Ok(()))
    }

    fn create_with(
        id: DocumentId,
        editor: &Editor,
        new: NewContact,
        more: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<(), ModelError>,
    ) -> Result<Self, ModelError> {
        let team = record::required("team", &new.team)?;
        let name = record::required("name", &new.display_name)?;
        let place = record::optional("place", new.place.as_deref())?;
        let worker = record::required(
            "assigned worker",
            new.assigned_worker.as_deref().unwrap_or(&editor.worker),
        )?;
        let by = editor.worker.clone();
        let doc = RecordDoc::create(id, Kind::Contact, editor, "created", |tx| {
            tx.put(ROOT, "team", team)?;
            tx.put(ROOT, "display_name", name)?;
            tx.put(ROOT, "assigned_worker", worker)?;
            let first = tx.put_object(ROOT, "first_contact", ObjType::Map)?;
            tx.put(&first, "date", new.first_contact_on.to_string())?;
            tx.put(&first, "channel", new.channel.as_str())?;
            record::put_opt(tx, &first, "place", place)?;
            tx.put(ROOT, "status", Status::New.as_str())?;
            let history = tx.put_object(ROOT, "status_history", ObjType::List)?;
            push_status(tx, &history, Status::New, None, &by, editor.now_ms)?;
            tx.put_object(ROOT, "consent", ObjType::Map)?;
            tx.put_object(ROOT, "tags", ObjType::Map)?;
            tx.put_object(ROOT, "notes", ObjType::Map)?;
            tx.put_object(ROOT, "referrals", ObjType::Map)?;
            more(tx)
        })?;
        Ok(Self(doc))
    }

    /// Sets one scalar field; `None` or an empty string clears an optional field.
    pub fn set_field(
        &mut self,
        editor: &Editor,
        field: ContactField,
        value: Option<&str>,
    ) -> Result<(), ModelError> {
        let key = field.key();
        match field {
            ContactField::Team => {
                let to = record::required(field.label(), value.unwrap_or(""))?;
                return self.move_to_team(editor, to);
            }
            ContactField::Status => {
                let status: Status = value.unwrap_or("").parse()?;
                return self.change_status(editor, status, None);
            }
            _ => {}
        }
        let value = scalar_of(field, value)?;
        // A contact kept at a stage holds only what the stage allows (a record from
        // before stages is edited as before until it is moved to one).
        // Read without the notes: a save of one field should not read them all.
        if value.is_some() && read::kept_stage(&self.0).is_some() {
            let stage = stage::stage_in(&self.0);
            if !stage.allows(field) {
                return Err(ModelError::NotAtStage {
                    field: field.label(),
                    stage: stage.as_str(),
                });
            }
        }
        if matches!(field, ContactField::BirthDate | ContactField::BirthYear) {
            return self.set_birth(editor, field, value);
        }
        self.0.change(editor, key, |tx| {
            match value {
                Some(v) => tx.put(ROOT, key, v)?,
                None => record::put_opt(tx, &ROOT, key, None)?,
            }
            Ok(())
        })
    }

    /// Moves the pathway status and records who did it and when in the history.
    pub fn change_status(
        &mut self,
        editor: &Editor,
        status: Status,
        reason: Option<&str>,
    ) -> Result<(), ModelError> {
        let reason = record::optional("reason", reason)?;
        if status == Status::Closed && reason.is_none() {
            return Err(ModelError::ReasonRequired);
        }
        let current = record::str_at(self.0.doc(), &ROOT, "status").and_then(|s| s.parse().ok());
        if current == Some(status) && self.0.conflicts(&ROOT, "status").is_empty() {
            return Err(ModelError::StatusUnchanged(status.as_str().into()));
        }
        let by = editor.worker.clone();
        self.0.change(editor, &format!("status: {status}"), |tx| {
            tx.put(ROOT, "status", status.as_str())?;
            let history = match record::obj_at_tx(tx, &ROOT, "status_history", ObjType::List) {
                Some(h) => h,
                None => tx.put_object(ROOT, "status_history", ObjType::List)?,
            };
            push_status(tx, &history, status, reason.as_deref(), &by, editor.now_ms)
        })
    }

    pub fn give_consent(
        &mut self,
        editor: &Editor,
        on: Day,
        scope: ConsentScope,
    ) -> Result<(), ModelError> {
        let by = editor.worker.clone();
        self.0.change(editor, "consent given", |tx| {
            let consent = record::map_at_tx(tx, &ROOT, "consent")?;
            tx.put(&consent, "given_on", on.to_string())?;
            tx.put(&consent, "given_by", by.as_str())?;
            tx.put(&consent, "scope", scope.as_str())?;
            record::put_opt(tx, &consent, "withdrawn_on", None)
        })
    }

    pub fn withdraw_consent(&mut self, editor: &Editor, on: Day) -> Result<(), ModelError> {
        self.0.change(editor, "consent withdrawn", |tx| {
            let consent = record::map_at_tx(tx, &ROOT, "consent")?;
            tx.put(&consent, "withdrawn_on", on.to_string())?;
            Ok(())
        })
    }

    pub fn set_tags(&mut self, editor: &Editor, tags: &[String]) -> Result<(), ModelError> {
        let tags = record::clean_tags(tags)?;
        self.0.change(editor, "tags", |tx| {
            record::put_tags(tx, &ROOT, "tags", &tags)
        })
    }

    /// Adds a note to the timeline and returns its id.
    pub fn add_note(&mut self, editor: &Editor, note: NewNote) -> Result<String, ModelError> {
        let text = record::limited("note", note.text.trim(), record::TEXT_MAX)?;
        if text.is_empty() {
            return Err(ModelError::Empty { field: "note" });
        }
        let place = record::optional("place", note.place.as_deref())?;
        let tags = record::clean_tags(&note.tags)?;
        let date = note.date.or_else(|| Day::from_unix_ms(editor.now_ms));
        let id = record::item_id();
        let author = editor.worker.clone();
        self.0.change(editor, "note added", |tx| {
            let notes = record::map_at_tx(tx, &ROOT, "notes")?;
            let n = tx.put_object(&notes, id.as_str(), ObjType::Map)?;
            tx.put(&n, "id", id.as_str())?;
            record::put_opt(tx, &n, "date", date.map(|d| d.to_string()))?;
            tx.put(&n, "author", author)?;
            record::put_opt(tx, &n, "place", place)?;
            record::put_text(tx, &n, "text", &text)?;
            record::put_tags(tx, &n, "tags", &tags)?;
            record::put_opt(tx, &n, "follow_up", note.follow_up.map(|d| d.to_string()))?;
            tx.put(&n, "done", false)?;
            tx.put(&n, "created_at", ScalarValue::Timestamp(editor.now_ms))?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Rewrites a note's text; concurrent edits to the same note merge per character.
    pub fn edit_note(
        &mut self,
        editor: &Editor,
        note_id: &str,
        text: &str,
    ) -> Result<(), ModelError> {
        let text = record::limited("note", text.trim(), record::TEXT_MAX)?;
        if text.is_empty() {
            return Err(ModelError::Empty { field: "note" });
        }
        let note = self.note_obj(note_id)?;
        self.0.change(editor, "note edited", |tx| {
            tx.put(&note, "removed", false)?;
            record::update_text(tx, &note, "text", &text)
        })
    }

    pub fn set_note_done(
        &mut self,
        editor: &Editor,
        note_id: &str,
        done: bool,
    ) -> Result<(), ModelError> {
        let note = self.note_obj(note_id)?;
        let what = if done {
            "follow-up done"
        } else {
            "follow-up reopened"
        };
        self.0.change(editor, what, |tx| {
            tx.put(&note, "removed", false)?;
            tx.put(&note, "done", done)?;
            Ok(())
        })
    }

    pub fn set_note_follow_up(
        &mut self,
        editor: &Editor,
        note_id: &str,
        on: Option<Day>,
    ) -> Result<(), ModelError> {
        let note = self.note_obj(note_id)?;
        self.0.change(editor, "follow-up date", |tx| {
            tx.put(&note, "removed", false)?;
            record::put_opt(tx, &note, "follow_up", on.map(|d| d.to_string()))
        })
    }

    pub fn add_referral(
        &mut self,
        editor: &Editor,
        employer_id: Option<DocumentId>,
        opening: &str,
        date: Day,
    ) -> Result<String, ModelError> {
        let opening = record::required("opening", opening)?;
        let id = record::item_id();
        let by = editor.worker.clone();
        self.0.change(editor, "referral added", |tx| {
            let referrals = record::map_at_tx(tx, &ROOT, "referrals")?;
            let r = tx.put_object(&referrals, id.as_str(), ObjType::Map)?;
            tx.put(&r, "id", id.as_str())?;
            record::put_opt(tx, &r, "employer_id", employer_id.map(|e| e.to_string()))?;
            tx.put(&r, "opening", opening)?;
            tx.put(&r, "date", date.to_string())?;
            tx.put(&r, "outcome", Outcome::Pending.as_str())?;
            tx.put(&r, "by", by)?;
            Ok(())
        })?;
        Ok(id)
    }

    pub fn set_referral_outcome(
        &mut self,
        editor: &Editor,
        referral_id: &str,
        outcome: Outcome,
    ) -> Result<(), ModelError> {
        let r = self.0.item("referrals", "referral", referral_id)?;
        self.0
            .change(editor, &format!("referral: {}", outcome.as_str()), |tx| {
                tx.put(&r, "removed", false)?;
                tx.put(&r, "outcome", outcome.as_str())?;
                Ok(())
            })
    }

    fn note_obj(&self, note_id: &str) -> Result<ObjId, ModelError> {
        self.0.item("notes", "note", note_id)
    }

    /// Reads the whole contact. Tolerates missing optional parts (another client may
    /// have written less); refuses only a record without the essentials.
    pub fn read(&self) -> Result<Contact, ModelError> {
        read_contact(&self.0)
    }
}

fn push_status(
    tx: &mut automerge::transaction::Transaction<'_>,
    history: &ObjId,
    status: Status,
    reason: Option<&str>,
    by: &str,
    at_ms: i64,
) -> Result<(), ModelError> {
    let len = tx.length(history);
    let entry = tx.insert_object(history, len, ObjType::Map)?;
    tx.put(&entry, "status", status.as_str())?;
    if let Some(reason) = reason {
        tx.put(&entry, "reason", reason)?;
    }
    tx.put(&entry, "by", by)?;
    tx.put(&entry, "at", ScalarValue::Timestamp(at_ms))?;
    Ok(())
}

/// A contact's index row, reading only what the row shows: the same as
/// `read_contact(record)?.summary()`, without reading every note's text (an edit
/// computes it, and a contact with many notes made that the slowest part of a save).
pub fn summary_of(record: &RecordDoc) -> Result<Summary, ModelError> {
    let (name, status) = read::name_and_status(record)?;
    let doc = record.doc();
    let next: Option<(Day, String)> =
        record::obj_at(doc, &ROOT, "notes", ObjType::Map).and_then(|m| {
            record::live_items(doc, &m)
                .into_iter()
                .filter(|(_, n)| !record::bool_at(doc, n, "done").unwrap_or(false))
                .filter_map(|(_, n)| {
                    let day = record::str_at(doc, &n, "follow_up")?.parse().ok()?;
                    Some((day, record::str_at(doc, &n, "author").unwrap_or_default()))
                })
                .min()
        });
    let (next_follow_up, follow_up_by) = next.map_or((None, None), |(d, by)| (Some(d), Some(by)));
    let description = record::opt_str_at(doc, &ROOT, "description");
    Ok(Summary {
        kind: Kind::Contact,
        name: stage::list_name(&name, stage::stage_in(record), description.as_deref()),
        status: Some(status.as_str().to_string()),
        worker: record::str_at(doc, &ROOT, "assigned_worker").unwrap_or_default(),
        next_follow_up,
        follow_up_by,
        updated_at: record.updated_at(),
    })
}

mod birth;
mod consent;
pub mod duplicates;
mod field;
mod items;
pub mod merge;
mod moves;
mod participant;
mod read;
mod stage;
pub use birth::BirthDate;
pub use consent::{CONSENT_GRACE_DAYS, ConsentCheck, ConsentScope, shares_beyond_team};
pub use field::ContactField;
use field::scalar_of;
pub use moves::TeamMove;
pub use participant::{
    Education, Entry, Gender, LabourStatus, Participant, ParticipantResult, ResultEvent,
};
pub use read::{read_contact, read_contact_for_figures, referrals_of};
pub use stage::{Stage, check_move};
#[cfg(test)]
mod tests;
