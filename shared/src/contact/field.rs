//! A contact's one-line fields: their document keys, the words an error names them by,
//! and how a typed value is checked before it is stored.

use automerge::ScalarValue;

use crate::error::ModelError;
use crate::record;

/// The scalar fields a worker edits one at a time (and that may conflict).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactField {
    DisplayName,
    /// What an anonymous contact looks like, where they are met ("tall, red cap,
    /// skate park").
    Description,
    FullName,
    BirthYear,
    /// `YYYY-MM-DD`; sets the birth year in the same change (`contact::birth`).
    BirthDate,
    Phone,
    Email,
    Municipality,
    AssignedWorker,
    Team,
    Status,
}

impl ContactField {
    pub const EDITABLE: [ContactField; 10] = [
        ContactField::DisplayName,
        ContactField::Description,
        ContactField::FullName,
        ContactField::BirthYear,
        ContactField::BirthDate,
        ContactField::Phone,
        ContactField::Email,
        ContactField::Municipality,
        ContactField::AssignedWorker,
        ContactField::Team,
    ];

    /// Every field, the status included (naming the one a change or an error is about).
    pub fn all() -> impl Iterator<Item = ContactField> {
        Self::EDITABLE.into_iter().chain([ContactField::Status])
    }

    /// The document key (see ARCHITECTURE.md, "Documents").
    pub fn key(self) -> &'static str {
        match self {
            ContactField::DisplayName => "display_name",
            ContactField::Description => "description",
            ContactField::FullName => "full_name",
            ContactField::BirthYear => "birth_year",
            ContactField::BirthDate => "birth_date",
            ContactField::Phone => "phone",
            ContactField::Email => "email",
            ContactField::Municipality => "municipality",
            ContactField::AssignedWorker => "assigned_worker",
            ContactField::Team => "team",
            ContactField::Status => "status",
        }
    }

    /// The words an error names the field by.
    pub(super) fn label(self) -> &'static str {
        match self {
            ContactField::DisplayName => "name",
            ContactField::Description => "description",
            ContactField::FullName => "full name",
            ContactField::BirthYear => "birth year",
            ContactField::BirthDate => "birth date",
            ContactField::Phone => "phone number",
            ContactField::Email => "email address",
            ContactField::Municipality => "municipality",
            ContactField::AssignedWorker => "assigned worker",
            ContactField::Team => "team",
            ContactField::Status => "status",
        }
    }
}

/// A one-line field's value as stored, checked; `None` clears it. Not for the team
/// and the status, which have operations of their own.
pub(super) fn scalar_of(
    field: ContactField,
    value: Option<&str>,
) -> Result<Option<ScalarValue>, ModelError> {
    Ok(match field {
        ContactField::DisplayName
        | ContactField::AssignedWorker
        | ContactField::Team
        | ContactField::Status => {
            Some(record::required(field.label(), value.unwrap_or(""))?.into())
        }
        ContactField::FullName | ContactField::Municipality | ContactField::Description => {
            record::optional(field.label(), value)?.map(Into::into)
        }
        ContactField::Phone => record::phone(value)?.map(Into::into),
        ContactField::Email => record::email(value)?.map(Into::into),
        // Whether it is plausible on the day it is written: `BirthDate::checked_on`.
        ContactField::BirthDate => match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(super::BirthDate::parse(v)?.to_string().into()),
        },
        ContactField::BirthYear => match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let range = super::birth::YEARS;
                let out_of_range = ModelError::OutOfRange {
                    field: "birth year",
                    min: range.0,
                    max: range.1,
                };
                let year: i64 = v.parse().map_err(|_| out_of_range.clone())?;
                if !(range.0..=range.1).contains(&year) {
                    return Err(out_of_range);
                }
                Some(ScalarValue::Int(year))
            }
        },
    })
}
