//! Consent that was never recorded (issue 15): a contact with no consent 14 days after
//! the first meeting is flagged to the worker. Pure: "today" is an argument.

use super::{Consent, Contact};
use crate::date::Day;

/// Days a worker has to record consent after the first meeting.
pub const CONSENT_GRACE_DAYS: i64 = 14;

/// Where a contact stands on consent, for the contact page's notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentCheck {
    /// Given and not withdrawn.
    Given,
    /// Given, then withdrawn: a recorded decision, not flagged as missing (sharing
    /// beyond the team stops; the relay enforces it).
    Withdrawn,
    /// None recorded yet, still within the grace period.
    Pending,
    /// None recorded and the grace period is over: flagged to the worker.
    Overdue {
        /// Days since the first meeting.
        days: i64,
    },
}

impl ConsentCheck {
    /// The check for a consent and the day the contact was first met, on `today`. A
    /// contact with no known first day is judged from `created_on` (the day its record
    /// was made).
    pub fn of(
        consent: &Consent,
        first_on: Option<Day>,
        created_on: Option<Day>,
        today: Day,
    ) -> Self {
        if consent.given_on.is_some() {
            return if consent.withdrawn_on.is_some() {
                ConsentCheck::Withdrawn
            } else {
                ConsentCheck::Given
            };
        }
        match first_on.or(created_on) {
            Some(first) => {
                let days = first.days_until(&today);
                if days >= CONSENT_GRACE_DAYS {
                    ConsentCheck::Overdue { days }
                } else {
                    ConsentCheck::Pending
                }
            }
            // No day at all (a record from before the first day was kept): nothing to
            // count from; not flagged rather than flagged for ever.
            None => ConsentCheck::Pending,
        }
    }

    /// Whether the worker should be told consent is missing.
    pub fn is_flagged(self) -> bool {
        matches!(self, ConsentCheck::Overdue { .. })
    }
}

impl Contact {
    /// This contact's consent check on `today`.
    pub fn consent_check(&self, today: Day) -> ConsentCheck {
        ConsentCheck::of(
            &self.consent,
            self.first_contact_on,
            Day::from_unix_ms(self.created_at),
            today,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().expect("a test day")
    }

    fn none() -> Consent {
        Consent::default()
    }

    #[test]
    fn no_consent_is_flagged_from_the_fourteenth_day() {
        let first = Some(day("2026-01-25"));
        // 13 days later: still pending; 14: flagged (across a month's end).
        assert_eq!(
            ConsentCheck::of(&none(), first, None, day("2026-02-07")),
            ConsentCheck::Pending
        );
        assert_eq!(
            ConsentCheck::of(&none(), first, None, day("2026-02-08")),
            ConsentCheck::Overdue { days: 14 }
        );
        assert!(ConsentCheck::of(&none(), first, None, day("2026-03-01")).is_flagged());
        // Across a leap day: 2028-02-20 + 14 days = 2028-03-05.
        let leap = Some(day("2028-02-20"));
        assert!(!ConsentCheck::of(&none(), leap, None, day("2028-03-04")).is_flagged());
        assert!(ConsentCheck::of(&none(), leap, None, day("2028-03-05")).is_flagged());
    }

    #[test]
    fn given_consent_is_not_flagged_and_withdrawn_is_told_apart() {
        let first = Some(day("2026-01-01"));
        let today = day("2026-06-01");
        let given = Consent {
            given_on: Some(day("2026-01-03")),
            scope: Some("team".into()),
            withdrawn_on: None,
        };
        assert_eq!(
            ConsentCheck::of(&given, first, None, today),
            ConsentCheck::Given
        );
        let withdrawn = Consent {
            withdrawn_on: Some(day("2026-02-01")),
            ..given
        };
        assert_eq!(
            ConsentCheck::of(&withdrawn, first, None, today),
            ConsentCheck::Withdrawn
        );
        assert!(!ConsentCheck::of(&withdrawn, first, None, today).is_flagged());
    }

    #[test]
    fn the_record_day_counts_when_the_first_day_is_unknown() {
        let created = Some(day("2026-03-01"));
        assert!(ConsentCheck::of(&none(), None, created, day("2026-03-15")).is_flagged());
        assert!(!ConsentCheck::of(&none(), None, created, day("2026-03-14")).is_flagged());
        // The first meeting wins over the record's day.
        assert!(
            !ConsentCheck::of(&none(), Some(day("2026-03-10")), created, day("2026-03-15"))
                .is_flagged()
        );
        assert_eq!(
            ConsentCheck::of(&none(), None, None, day("2026-03-15")),
            ConsentCheck::Pending
        );
    }
}
