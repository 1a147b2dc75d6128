//! The errors of the record model, worded so a worker can read them.

use thiserror::Error;

/// Why an operation on a record was refused, or why bytes could not be read as a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long (at most {max} characters)")]
    TooLong { field: &'static str, max: usize },
    #[error("“{value}” is not a date; write it as YYYY-MM-DD")]
    BadDate { value: String },
    #[error("{value} is outside the possible range ({min}–{max})")]
    DateOutOfRange { value: String, min: i32, max: i32 },
    #[error("{field} must be between {min} and {max}")]
    OutOfRange {
        field: &'static str,
        min: i64,
        max: i64,
    },
    #[error("“{value}” is not a valid {field}")]
    Invalid { field: &'static str, value: String },
    #[error("unknown status “{0}”")]
    UnknownStatus(String),
    #[error("closing a case needs a reason")]
    ReasonRequired,
    #[error("the status is already “{0}”")]
    StatusUnchanged(String),
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("this is not a valid document id")]
    BadDocumentId,
    #[error("this record is damaged and cannot be read ({0})")]
    Corrupt(String),
    #[error("this document is a {found}, not a {expected}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("ESF+ participant data needs the young person's consent first")]
    ConsentRequired,
    /// A value the contact's stage may not hold (a phone on an anonymous contact, a
    /// full name before the contact is identified).
    #[error(
        "a contact at stage {stage} does not keep the {field}; move it to the next stage first"
    )]
    NotAtStage {
        field: &'static str,
        stage: &'static str,
    },
    #[error("identifying a young person needs their recorded consent first")]
    IdentifyNeedsConsent,
    #[error("the leaving date and results need the participant's entry first")]
    NotParticipant,
    #[error("{field} cannot be before {earliest}")]
    TooEarly {
        field: &'static str,
        earliest: String,
    },
    #[error("{field} cannot be after {latest}")]
    TooLate { field: &'static str, latest: String },
    /// A birth year given with a birth date of another year (the date sets the year).
    #[error("the birth year {year} is not the year of the birth date {date}")]
    BirthYearNotOfDate { year: i64, date: String },
    #[error("this record was written by a newer version of Paktum (schema {0}); please update")]
    NewerSchema(u64),
    /// Another team's record on a coordinator's device: the relay would refuse the
    /// change and it would stay pending for good, so the device refuses it first.
    #[error("this record belongs to team {team}; this device may only read it")]
    ReadOnly { team: String },
}

impl From<automerge::AutomergeError> for ModelError {
    fn from(e: automerge::AutomergeError) -> Self {
        ModelError::Corrupt(e.to_string())
    }
}
