//! A young person's birth date (issue 15: identified means "full name, birth date").
//! Optional — a year alone is enough when the young person does not want to give the
//! date — and held only at the identified stage, like the birth year. The year follows
//! the date in the same change, so duplicates, the ESF+ age bands and the indicators
//! read the year as before, and a record with a year only stays as it is:
//! - a date sets its year; a year given with it must be the date's;
//! - a year set to another year than the date's removes the date (it can no longer be
//!   right), clearing the year clears the date, clearing the date keeps the year.

use std::fmt;

use automerge::transaction::Transactable;
use automerge::{ROOT, ScalarValue};
use chrono::{Datelike, NaiveDate};

use super::{ContactDoc, ContactField};
use crate::error::ModelError;
use crate::record::{self, Editor};

/// The birth year's range; a birth date's year must be in it too.
pub(super) const YEARS: (i64, i64) = (1950, 2030);
/// A birth date at most this many years back.
const MAX_AGE_YEARS: u32 = 100;
/// Today's date somewhere on earth is at most the date at UTC+14: a date typed on the
/// day it is in the pact's time zone is never "in the future" (`shared` has no zone).
const FURTHEST_ZONE_MS: i64 = 14 * 3_600_000;

/// A birth date, stored as `YYYY-MM-DD` in `birth_date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// A real calendar date (a stored one is read with this); whether it is a
    /// plausible birth date today is [`BirthDate::checked_on`]'s question.
    pub fn parse(value: &str) -> Result<BirthDate, ModelError> {
        crate::date::calendar_date(value).map(BirthDate)
    }

    /// `value` as a birth date typed at `now_ms`: a real calendar date, not after today
    /// (in any time zone), not more than 100 years back nor before the birth year's
    /// range.
    pub fn checked_on(value: &str, now_ms: i64) -> Result<BirthDate, ModelError> {
        let date = crate::date::calendar_date(value)?;
        let today =
            chrono::DateTime::from_timestamp_millis(now_ms.saturating_add(FURTHEST_ZONE_MS))
                .map(|t| t.date_naive())
                .ok_or(ModelError::BadDate {
                    value: now_ms.to_string(),
                })?;
        if date > today {
            return Err(ModelError::TooLate {
                field: "birth date",
                latest: today.to_string(),
            });
        }
        let range_start = NaiveDate::from_ymd_opt(YEARS.0 as i32, 1, 1);
        let earliest = today
            .checked_sub_months(chrono::Months::new(12 * MAX_AGE_YEARS))
            .into_iter()
            .chain(range_start)
            .max()
            .unwrap_or(today);
        if date < earliest {
            return Err(ModelError::TooEarly {
                field: "birth date",
                earliest: earliest.to_string(),
            });
        }
        Ok(BirthDate(date))
    }

    pub fn year(&self) -> i64 {
        i64::from(self.0.year())
    }

    /// 1–12.
    pub fn month(&self) -> u32 {
        self.0.month()
    }

    /// 1–31.
    pub fn day_of_month(&self) -> u32 {
        self.0.day()
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::date::write_iso(f, &self.0)
    }
}

/// What a change setting `values` (empty ones clear) writes to the birth date and year
/// when the contact holds `held` before it: `values` with the year a date brings, and a
/// date removed when the year written is not its year. Refused: a date that
/// [`BirthDate::checked_on`] refuses, a year given with a date of another year.
pub(super) fn with_birth_year(
    values: &[(ContactField, Option<ScalarValue>)],
    held: Option<BirthDate>,
    now_ms: i64,
) -> Result<Vec<(ContactField, Option<ScalarValue>)>, ModelError> {
    let typed = |field| values.iter().rev().find(|(f, _)| *f == field);
    let mut out: Vec<(ContactField, Option<ScalarValue>)> = values
        .iter()
        .filter(|(f, _)| !matches!(f, ContactField::BirthDate | ContactField::BirthYear))
        .cloned()
        .collect();
    let year_of = |v: &Option<ScalarValue>| match v {
        Some(ScalarValue::Int(y)) => Some(*y),
        _ => None,
    };
    match (
        typed(ContactField::BirthDate),
        typed(ContactField::BirthYear),
    ) {
        (Some((_, Some(ScalarValue::Str(date)))), year) => {
            let date = BirthDate::checked_on(date, now_ms)?;
            if let Some(y) = year
                .and_then(|(_, v)| year_of(v))
                .filter(|y| *y != date.year())
            {
                return Err(ModelError::BirthYearNotOfDate {
                    year: y,
                    date: date.to_string(),
                });
            }
            out.push((ContactField::BirthDate, Some(date.to_string().into())));
            out.push((ContactField::BirthYear, Some(ScalarValue::Int(date.year()))));
        }
        (date, Some((_, year))) => {
            // A year alone: the date held (or cleared now) stays only if it is its year.
            let date_left = match date {
                Some(_) => None,
                None => held,
            };
            if date.is_some() || date_left.is_some_and(|d| Some(d.year()) != year_of(year)) {
                out.push((ContactField::BirthDate, None));
            }
            out.push((ContactField::BirthYear, year.clone()));
        }
        (Some((_, _)), None) => out.push((ContactField::BirthDate, None)),
        (None, None) => {}
    }
    Ok(out)
}

impl ContactDoc {
    /// The birth date or year set (`None` clears; checked by `scalar_of`), with what
    /// follows for the other one (see the module), in one change. The stage check is
    /// the caller's.
    pub(super) fn set_birth(
        &mut self,
        editor: &Editor,
        field: ContactField,
        value: Option<ScalarValue>,
    ) -> Result<(), ModelError> {
        let held = birth_date_in(self.0.doc());
        let typed = [(field, value)];
        let writes = with_birth_year(&typed, held, editor.now_ms)?;
        self.0.change(editor, field.key(), |tx| {
            for (f, v) in &writes {
                match v {
                    Some(v) => tx.put(ROOT, f.key(), v.clone())?,
                    None => record::put_opt(tx, &ROOT, f.key(), None)?,
                }
            }
            Ok(())
        })
    }
}

/// The birth date a contact's document holds (none if unreadable).
pub(super) fn birth_date_in(doc: &automerge::Automerge) -> Option<BirthDate> {
    record::opt_str_at(doc, &ROOT, ContactField::BirthDate.key())
        .and_then(|d| BirthDate::parse(&d).ok())
}

#[cfg(test)]
mod tests;
