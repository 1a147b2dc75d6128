//! Progressive identification (issue 15): a contact starts **anonymous** (a nickname
//! and a short description), becomes **pseudonymous** (a first name or nickname, a
//! phone or email) and **identified** (full name, birth date or only the year) once consent is
//! recorded. A contact holds only what its stage allows: the model refuses an
//! identifying value on a contact whose stage does not allow it, and moving down
//! clears what the lower stage may not hold, in the same change.
//!
//! A record from before stages (no `stage` key) reads its stage from what it holds and
//! is edited as before until a worker moves it to a stage; the stage is then kept.

use automerge::ROOT;
use automerge::transaction::Transactable;

use super::{Contact, ContactDoc, ContactField};
use crate::error::ModelError;
use crate::record::{self, Editor};
use crate::words::{shown, stored_enum};

stored_enum! {
    /// How much a contact's record says about who the young person is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Stage unknown(s) => ModelError::Invalid { field: "stage", value: shown(s) };
    {
        /// A nickname and a description ("tall, red cap, skate park").
        Anonymous => "anonymous",
        /// A first name or nickname, a phone or email.
        Pseudonymous => "pseudonymous",
        /// Full name and birth date (or only the year), with recorded consent.
        Identified => "identified",
    }
}

impl Stage {
    /// Whether a contact at this stage may hold a value in `field`.
    pub fn allows(self, field: ContactField) -> bool {
        match field {
            ContactField::Phone | ContactField::Email => self >= Stage::Pseudonymous,
            ContactField::FullName | ContactField::BirthYear | ContactField::BirthDate => {
                self >= Stage::Identified
            }
            _ => true,
        }
    }

    /// What a worker is asked at this stage, beyond what every contact has: the
    /// fields the new-contact form and the identify step show.
    pub fn asks(self) -> &'static [ContactField] {
        match self {
            Stage::Anonymous => &[ContactField::DisplayName, ContactField::Description],
            Stage::Pseudonymous => &[
                ContactField::DisplayName,
                ContactField::Phone,
                ContactField::Email,
            ],
            Stage::Identified => &[
                ContactField::FullName,
                ContactField::BirthDate,
                ContactField::BirthYear,
            ],
        }
    }

    /// The stage above this one.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Anonymous => Some(Stage::Pseudonymous),
            Stage::Pseudonymous => Some(Stage::Identified),
            Stage::Identified => None,
        }
    }

    /// The lowest stage that may hold the fields that have a value.
    pub fn holding(filled: impl IntoIterator<Item = ContactField>) -> Stage {
        filled
            .into_iter()
            .filter_map(|f| Stage::ALL.into_iter().find(|s| s.allows(f)))
            .fold(Stage::Anonymous, Stage::max)
    }
}

/// The rule for a move from `from` to `to` setting `values` (empty values clear):
/// every value set must be allowed at `to`; moving up to identified needs active
/// consent and a full name (given now or already held). Pure, so the app asks it
/// before offering the step and the model before writing it.
pub fn check_move(
    from: Stage,
    to: Stage,
    consent_active: bool,
    holds_full_name: bool,
    values: &[(ContactField, String)],
) -> Result<(), ModelError> {
    for (field, value) in values {
        if !value.trim().is_empty() && !to.allows(*field) {
            return Err(ModelError::NotAtStage {
                field: field.label(),
                stage: to.as_str(),
            });
        }
    }
    if to == Stage::Identified && from < Stage::Identified {
        if !consent_active {
            return Err(ModelError::IdentifyNeedsConsent);
        }
        let named = values
            .iter()
            .find(|(f, _)| *f == ContactField::FullName)
            .map_or(holds_full_name, |(_, v)| !v.trim().is_empty());
        if !named {
            return Err(ModelError::Empty { field: "full name" });
        }
    }
    Ok(())
}

impl Contact {
    /// The fields of this contact that hold a value.
    pub fn filled(&self) -> Vec<ContactField> {
        let mut filled = vec![ContactField::DisplayName];
        for (field, held) in [
            (ContactField::Description, self.description.is_some()),
            (ContactField::Phone, self.phone.is_some()),
            (ContactField::Email, self.email.is_some()),
            (ContactField::FullName, self.full_name.is_some()),
            (ContactField::BirthYear, self.birth_year.is_some()),
            (ContactField::BirthDate, self.birth_date.is_some()),
        ] {
            if held {
                filled.push(field);
            }
        }
        filled
    }

    /// Why identifying this contact is not possible now, if it is not.
    pub fn identify_refusal(&self) -> Option<ModelError> {
        (!self.consent.is_active()).then_some(ModelError::IdentifyNeedsConsent)
    }
}

/// The stage a contact reads as: the one kept, raised to what it holds (two phones
/// may merge a step down with an edit made meanwhile). A record from before stages
/// reads as what it holds, and a display name alone as pseudonymous: such a record
/// kept a name, not a nickname chosen to stay anonymous.
pub(super) fn stage_of(kept: Option<Stage>, filled: &[ContactField]) -> Stage {
    let held = Stage::holding(filled.iter().copied());
    match kept {
        Some(kept) => kept.max(held),
        None => held.max(Stage::Pseudonymous),
    }
}

/// The name a list row shows: an anonymous contact's nickname with its description
/// (at most 60 characters of it), so the worker knows who "Red cap" is; otherwise the
/// display name.
pub fn list_name(display_name: &str, stage: Stage, description: Option<&str>) -> String {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) if stage == Stage::Anonymous => {
            let mut short: String = d.chars().take(60).collect();
            if short.len() < d.len() {
                short.push('…');
            }
            format!("{display_name} · {short}")
        }
        _ => display_name.to_string(),
    }
}

/// The stage of a contact's document, read without reading the whole contact (the
/// index row's quick path).
pub(super) fn stage_in(record: &crate::record::RecordDoc) -> Stage {
    let doc = record.doc();
    let filled: Vec<ContactField> = [
        ContactField::DisplayName,
        ContactField::Description,
        ContactField::Phone,
        ContactField::Email,
        ContactField::FullName,
        ContactField::BirthYear,
        ContactField::BirthDate,
    ]
    .into_iter()
    .filter(|f| {
        *f == ContactField::DisplayName
            || record::opt_str_at(doc, &ROOT, f.key()).is_some()
            || record::i64_at(doc, &ROOT, f.key()).is_some()
    })
    .collect();
    stage_of(super::read::kept_stage(record), &filled)
}

impl ContactDoc {
    /// Moves the contact to `to`, setting `values` in the same change. Up to identified
    /// only with active consent and a full name; down clears every field the lower
    /// stage may not hold (data minimisation: the values leave the record's present
    /// state; its history keeps them until the record is erased).
    pub fn move_to_stage(
        &mut self,
        editor: &Editor,
        to: Stage,
        values: &[(ContactField, String)],
    ) -> Result<(), ModelError> {
        let contact = self.read()?;
        check_move(
            contact.stage,
            to,
            contact.consent.is_active(),
            contact.full_name.is_some(),
            values,
        )?;
        let cleared: Vec<ContactField> = contact
            .filled()
            .into_iter()
            .filter(|f| !to.allows(*f))
            .collect();
        // Validate every value before the change, so a bad one leaves nothing behind;
        // a birth date brings its year (`contact::birth`).
        let mut checked = Vec::with_capacity(values.len());
        for (field, value) in values {
            checked.push((*field, super::scalar_of(*field, Some(value))?));
        }
        let held = contact
            .birth_date
            .filter(|_| to.allows(ContactField::BirthDate));
        let checked = super::birth::with_birth_year(&checked, held, editor.now_ms)?;
        self.0
            .change(editor, &format!("stage: {}", to.as_str()), |tx| {
                tx.put(ROOT, "stage", to.as_str())?;
                for field in &cleared {
                    record::put_opt(tx, &ROOT, field.key(), None)?;
                }
                for (field, value) in &checked {
                    match value {
                        Some(v) => tx.put(ROOT, field.key(), v.clone())?,
                        None if *field == ContactField::DisplayName => {}
                        None => record::put_opt(tx, &ROOT, field.key(), None)?,
                    }
                }
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests;
