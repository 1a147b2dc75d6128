//! Calendar days (no time zone): meeting dates, follow-ups, consent dates.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::error::ModelError;

/// The earliest and latest day Paktum accepts; anything outside is a typing error.
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2100;

/// A calendar day, stored in documents as `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Day(NaiveDate);

impl Day {
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, ModelError> {
        let date =
            NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| ModelError::BadDate {
                value: format!("{year:04}-{month:02}-{day:02}"),
            })?;
        Self::checked(date)
    }

    fn checked(date: NaiveDate) -> Result<Self, ModelError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
            return Err(ModelError::DateOutOfRange {
                value: date.to_string(),
                min: MIN_YEAR,
                max: MAX_YEAR,
            });
        }
        Ok(Self(date))
    }

    /// The day a timestamp (milliseconds since the Unix epoch, UTC) falls on.
    pub fn from_unix_ms(ms: i64) -> Option<Self> {
        chrono::DateTime::from_timestamp_millis(ms).and_then(|t| Self::checked(t.date_naive()).ok())
    }

    pub fn year(&self) -> i32 {
        self.0.year()
    }

    /// 1–12.
    pub fn month(&self) -> u32 {
        self.0.month()
    }

    /// 1–31.
    pub fn day_of_month(&self) -> u32 {
        self.0.day()
    }

    /// How many days from this day to `later` (negative when `later` is earlier).
    pub fn days_until(&self, later: &Day) -> i64 {
        later.0.signed_duration_since(self.0).num_days()
    }

    /// This day plus a number of calendar months; the 31st of a month becomes the
    /// last day of a shorter one (31 August + 6 months = 28 or 29 February).
    pub fn plus_months(&self, months: u32) -> Option<Self> {
        self.0
            .checked_add_months(chrono::Months::new(months))
            .and_then(|d| Self::checked(d).ok())
    }

    /// This day plus (or minus) a number of days.
    pub fn plus_days(&self, days: i64) -> Option<Self> {
        self.0
            .checked_add_signed(chrono::TimeDelta::try_days(days)?)
            .and_then(|d| Self::checked(d).ok())
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_iso(f, &self.0)
    }
}

/// `YYYY-MM-DD`, written by hand rather than with chrono's strftime: its format and
/// parse machinery was ~21 KB of the app's wasm for this one fixed layout.
pub(crate) fn write_iso(f: &mut fmt::Formatter<'_>, date: &NaiveDate) -> fmt::Result {
    write!(
        f,
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month(),
        date.day()
    )
}

impl FromStr for Day {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::checked(calendar_date(s)?)
    }
}

/// `YYYY-MM-DD` as a real calendar date (the 30th of February is not), whatever its
/// year: `Day` adds its range, a birth date its own (`contact::BirthDate`).
pub(crate) fn calendar_date(s: &str) -> Result<NaiveDate, ModelError> {
    let s = s.trim();
    let bad = || ModelError::BadDate {
        value: s.chars().take(40).collect(),
    };
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_iso_days() {
        let day: Day = "2026-03-09".parse().expect("valid day");
        assert_eq!(day.to_string(), "2026-03-09");
        assert_eq!(day, Day::new(2026, 3, 9).expect("valid"));
    }

    #[test]
    fn refuses_impossible_days() {
        assert!(matches!(
            "2026-02-30".parse::<Day>(),
            Err(ModelError::BadDate { .. })
        ));
        assert!(matches!(
            "yesterday".parse::<Day>(),
            Err(ModelError::BadDate { .. })
        ));
        for odd in [
            "2026-3-099",
            "2026/03/09",
            "+026-03-09",
            "2026-03-9x",
            "20260-3-09",
        ] {
            assert!(
                matches!(odd.parse::<Day>(), Err(ModelError::BadDate { .. })),
                "{odd}"
            );
        }
        assert!(matches!(
            "1850-01-01".parse::<Day>(),
            Err(ModelError::DateOutOfRange { .. })
        ));
        assert!(matches!(
            "2999-01-01".parse::<Day>(),
            Err(ModelError::DateOutOfRange { .. })
        ));
    }

    #[test]
    fn days_from_timestamps() {
        // 2026-11-24T12:00:00Z
        let day = Day::from_unix_ms(1_795_521_600_000).expect("in range");
        assert_eq!(day.to_string(), "2026-11-24");
        assert_eq!(
            day.plus_days(7).expect("in range").to_string(),
            "2026-12-01"
        );
        let end_of_august = Day::new(2026, 8, 31).expect("valid");
        assert_eq!(
            end_of_august.plus_months(6).expect("in range").to_string(),
            "2027-02-28"
        );
        assert_eq!(
            day.plus_months(2).expect("in range").to_string(),
            "2027-01-24"
        );
    }
}
