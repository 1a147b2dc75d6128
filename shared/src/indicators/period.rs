//! The periods figures are counted over, and the time zone that turns a change's
//! instant into the pact's calendar day.
//!
//! Boundary (every indicator): a period is the local days `[start, end)`: the start
//! day included, the end day excluded (a month is its 1st up to the next month's
//! 1st). Instants (status changes, team moves, record creation) are placed on the
//! day they fall on in the pact's time zone; days a worker typed (first contact,
//! visits, referrals, the ESF+ dates) are taken as written.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::date::Day;
use crate::error::ModelError;

/// A reporting period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month {
        year: i32,
        month: u32,
    },
    /// `quarter` 1–4.
    Quarter {
        year: i32,
        quarter: u32,
    },
    Year(i32),
    /// From `start` (included) to `end` (excluded).
    Range {
        start: Day,
        end: Day,
    },
}

impl Period {
    /// The first day in and the first day after the period.
    pub fn bounds(&self) -> Result<(Day, Day), ModelError> {
        let month_start = |year: i32, month: u32| Day::new(year, month, 1);
        let (start, end) = match *self {
            Period::Month { year, month } => {
                let start = month_start(year, month)?;
                (start, next_month(start)?)
            }
            Period::Quarter { year, quarter } => {
                if !(1..=4).contains(&quarter) {
                    return Err(ModelError::OutOfRange {
                        field: "quarter",
                        min: 1,
                        max: 4,
                    });
                }
                let start = month_start(year, 3 * quarter - 2)?;
                (start, plus_months(start, 3)?)
            }
            Period::Year(year) => (month_start(year, 1)?, month_start(year + 1, 1)?),
            Period::Range { start, end } => (start, end),
        };
        if end <= start {
            return Err(ModelError::TooEarly {
                field: "end of the period",
                earliest: start.plus_days(1).unwrap_or(start).to_string(),
            });
        }
        Ok((start, end))
    }

    /// The calendar months the period touches, in order (a monthly trend).
    pub fn months(&self) -> Result<Vec<Period>, ModelError> {
        let (start, end) = self.bounds()?;
        let mut out = Vec::new();
        let mut month = Day::new(start.year(), start.month(), 1)?;
        while month < end {
            out.push(Period::Month {
                year: month.year(),
                month: month.month(),
            });
            month = next_month(month)?;
        }
        Ok(out)
    }
}

fn plus_months(day: Day, months: u32) -> Result<Day, ModelError> {
    day.plus_months(months).ok_or(ModelError::DateOutOfRange {
        value: day.to_string(),
        min: 1990,
        max: 2100,
    })
}

fn next_month(day: Day) -> Result<Day, ModelError> {
    plus_months(day, 1)
}

/// The pact's time zone. Belgium, Germany and Hungary all keep Central European
/// Time with the EU summer-time rule, written out here so `shared` needs no time
/// zone database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Zone {
    Utc,
    /// UTC+1; UTC+2 from the last Sunday of March 01:00 UTC to the last Sunday of
    /// October 01:00 UTC.
    #[default]
    CentralEurope,
}

const HOUR_MS: i64 = 3_600_000;

impl Zone {
    /// The local day an instant (ms since the Unix epoch) falls on.
    pub fn day_of(self, at_ms: i64) -> Option<Day> {
        Day::from_unix_ms(at_ms.checked_add(self.offset_ms(at_ms))?)
    }

    /// The offset from UTC at an instant.
    pub fn offset_ms(self, at_ms: i64) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::CentralEurope => {
                let Some(utc) = chrono::DateTime::from_timestamp_millis(at_ms) else {
                    return HOUR_MS;
                };
                let year = utc.year();
                let switch = |month: u32| {
                    last_sunday(year, month)
                        .and_then(|d| d.and_hms_opt(1, 0, 0))
                        .map(|t| t.and_utc().timestamp_millis())
                };
                match (switch(3), switch(10)) {
                    (Some(from), Some(until)) if (from..until).contains(&at_ms) => 2 * HOUR_MS,
                    _ => HOUR_MS,
                }
            }
        }
    }
}

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - chrono::TimeDelta::days(i64::from(back));
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Some(sunday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().expect("day")
    }

    #[test]
    fn periods_are_half_open_ranges_of_days() {
        let b = |p: Period| {
            let (s, e) = p.bounds().expect("bounds");
            (s.to_string(), e.to_string())
        };
        assert_eq!(
            b(Period::Month {
                year: 2026,
                month: 12
            }),
            ("2026-12-01".into(), "2027-01-01".into())
        );
        assert_eq!(
            b(Period::Quarter {
                year: 2026,
                quarter: 1
            }),
            ("2026-01-01".into(), "2026-04-01".into())
        );
        assert_eq!(
            b(Period::Quarter {
                year: 2026,
                quarter: 4
            }),
            ("2026-10-01".into(), "2027-01-01".into())
        );
        assert_eq!(
            b(Period::Year(2026)),
            ("2026-01-01".into(), "2027-01-01".into())
        );
        assert!(
            Period::Quarter {
                year: 2026,
                quarter: 5
            }
            .bounds()
            .is_err()
        );
        assert!(
            Period::Month {
                year: 2026,
                month: 13
            }
            .bounds()
            .is_err()
        );
        let empty = Period::Range {
            start: day("2026-03-01"),
            end: day("2026-03-01"),
        };
        assert!(empty.bounds().is_err());
        let months = Period::Range {
            start: day("2026-01-15"),
            end: day("2026-03-02"),
        }
        .months()
        .expect("months");
        assert_eq!(
            months,
            [
                Period::Month {
                    year: 2026,
                    month: 1
                },
                Period::Month {
                    year: 2026,
                    month: 2
                },
                Period::Month {
                    year: 2026,
                    month: 3
                }
            ]
        );
    }

    #[test]
    fn central_european_days_follow_summer_time() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let utc = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
                .expect("time")
                .and_utc()
                .timestamp_millis()
        };
        let cet = Zone::CentralEurope;
        assert_eq!(cet.day_of(utc("2026-01-31 22:59")), Some(day("2026-01-31")));
        assert_eq!(cet.day_of(utc("2026-01-31 23:00")), Some(day("2026-02-01")));
        assert_eq!(cet.day_of(utc("2026-06-30 21:59")), Some(day("2026-06-30")));
        assert_eq!(cet.day_of(utc("2026-06-30 22:00")), Some(day("2026-07-01")));
        assert_eq!(cet.offset_ms(utc("2026-03-29 00:59")), HOUR_MS);
        assert_eq!(cet.offset_ms(utc("2026-03-29 01:00")), 2 * HOUR_MS);
        assert_eq!(cet.offset_ms(utc("2026-10-25 00:59")), 2 * HOUR_MS);
        assert_eq!(cet.offset_ms(utc("2026-10-25 01:00")), HOUR_MS);
        assert_eq!(
            Zone::Utc.day_of(utc("2026-06-30 22:00")),
            Some(day("2026-06-30"))
        );
    }
}
