//! Consent (issue 15): its scope, which decides whether the relay lets the record leave
//! its team, and a contact with no consent 14 days after the first meeting, flagged to
//! the worker. Pure: "today" is an argument.

use automerge::{Automerge, ObjType, ROOT, ScalarValue, Value};

use super::{Consent, Contact};
use crate::date::Day;
use crate::record;

/// Who may hold a contact's record, as the young person agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentScope {
    /// Stored by the team only (the default, and how older free-text scopes read).
    Team,
    /// Also shared with the partner organisations of the pact: their coordinators'
    /// devices receive the record.
    Pact,
}

impl ConsentScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentScope::Team => "team",
            ConsentScope::Pact => "pact",
        }
    }

    /// A stored scope. Only the exact word `pact` shares beyond the team: a free text
    /// written before scopes were typed ("pact partners", "referrals", …) cannot be
    /// shown to be a consent to share, so it reads as the team only; the worker records
    /// the consent again to share it.
    pub fn parse(stored: &str) -> ConsentScope {
        if stored == ConsentScope::Pact.as_str() {
            ConsentScope::Pact
        } else {
            ConsentScope::Team
        }
    }
}

impl Consent {
    /// The scope this consent gives (the team only when none is stored).
    pub fn reach(&self) -> ConsentScope {
        self.scope
            .as_deref()
            .map_or(ConsentScope::Team, ConsentScope::parse)
    }

    /// Whether the record may leave its team: consent given, not withdrawn, pact scope.
    pub fn shares_beyond_team(&self) -> bool {
        self.is_active() && self.reach() == ConsentScope::Pact
    }
}

/// [`Consent::shares_beyond_team`] read straight from a contact's document, for the
/// relay's share policy. Concurrent values count against sharing: any `withdrawn_on`
/// withholds it, and every value of `given_on` and `scope` must give it (one phone
/// recording "team only" while another records "pact" shares nothing until a person
/// keeps one of them).
pub fn shares_beyond_team(doc: &Automerge) -> bool {
    let Some(consent) = record::obj_at(doc, &ROOT, "consent", ObjType::Map) else {
        return false;
    };
    let strings = |key: &str| -> Vec<Option<String>> {
        record::all_values(doc, &consent, key)
            .into_iter()
            .map(|v| match v {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                Value::Object(_) => None,
            })
            .collect()
    };
    let given = strings("given_on");
    let scope = strings("scope");
    let withdrawn = strings("withdrawn_on");
    !given.is_empty()
        && given
            .iter()
            .all(|d| d.as_deref().is_some_and(|d| d.parse::<Day>().is_ok()))
        && !scope.is_empty()
        && scope
            .iter()
            .all(|s| s.as_deref().map(ConsentScope::parse) == Some(ConsentScope::Pact))
        && withdrawn
            .iter()
            .all(|w| w.as_deref().is_none_or(str::is_empty))
}

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
            given_by: Some("Anna".into()),
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
