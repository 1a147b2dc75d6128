//! Failed enrolments counted by every relay on one PostgreSQL database
//! (`enrol_throttle`, `migrations/postgres/0006_enrol_throttle.sql`): a relay reads
//! the counts of an attempt's keys before it and writes its own after a failure
//! (`auth::throttle::Counted`). On SQLite one relay counts in memory: nothing here.

use super::Directory;
use super::sql::{Db, values};
use crate::auth::AuthError;
use crate::auth::throttle::{Counted, Limited};

fn kind(by: Limited) -> &'static str {
    match by {
        Limited::Address => "address",
        Limited::Prefix => "prefix",
    }
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Directory {
    /// Whether relays share the enrolment counts (PostgreSQL).
    pub fn shares_enrol_counts(&self) -> bool {
        matches!(self.db(), Db::Postgres(_))
    }

    /// What the relays counted for `keys` (none on SQLite).
    pub fn enrol_counts(
        &self,
        keys: &[(Limited, String)],
    ) -> Result<Vec<(Limited, Counted)>, AuthError> {
        if !self.shares_enrol_counts() {
            return Ok(Vec::new());
        }
        let mut counted = Vec::new();
        for (by, key) in keys {
            let row = self.db().query_opt(
                "SELECT failures, blocked_until, last_active FROM enrol_throttle
                 WHERE kind = $1 AND key = $2",
                values![kind(*by), key.as_str()],
            )?;
            if let Some(row) = row {
                counted.push((
                    *by,
                    Counted {
                        failures: u32::try_from(row.int(0)?).unwrap_or(u32::MAX),
                        blocked_until: u64::try_from(row.int(1)?).unwrap_or(0),
                        last_active: u64::try_from(row.int(2)?).unwrap_or(0),
                    },
                ));
            }
        }
        Ok(counted)
    }

    /// Writes a failure this relay counted: one more failure for each key (or its own
    /// count, if larger; a count past `forget_ms` starts again), the later block, and
    /// forgets the rows nobody needs any more. Nothing on SQLite.
    pub fn enrol_failed(
        &self,
        counted: &[(Limited, String, Counted)],
        now: u64,
        forget_ms: u64,
    ) -> Result<(), AuthError> {
        if !self.shares_enrol_counts() {
            return Ok(());
        }
        let (now, forget) = (int(now), int(forget_ms));
        self.db().transaction(|tx| {
            for (by, key, c) in counted {
                tx.execute(
                    "INSERT INTO enrol_throttle (kind, key, failures, blocked_until, last_active)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (kind, key) DO UPDATE SET
                       failures = CASE
                         WHEN GREATEST(enrol_throttle.last_active, enrol_throttle.blocked_until) + $6 <= $5
                         THEN excluded.failures
                         ELSE GREATEST(enrol_throttle.failures + 1, excluded.failures) END,
                       blocked_until = GREATEST(enrol_throttle.blocked_until, excluded.blocked_until),
                       last_active = GREATEST(enrol_throttle.last_active, excluded.last_active)",
                    values![
                        kind(*by),
                        key.as_str(),
                        i64::from(c.failures),
                        int(c.blocked_until),
                        now,
                        forget
                    ],
                )?;
            }
            tx.execute(
                "DELETE FROM enrol_throttle WHERE GREATEST(last_active, blocked_until) + $1 <= $2",
                values![forget, now],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_add_up_across_relays_and_a_stale_count_starts_again() {
        let Some(d) = crate::auth::directory::tests::postgres() else {
            return;
        };
        let key = vec![(Limited::Address, "192.0.2.1".to_string())];
        let failure = |failures, blocked_until| {
            vec![(
                Limited::Address,
                "192.0.2.1".to_string(),
                Counted {
                    failures,
                    blocked_until,
                    last_active: 0,
                },
            )]
        };
        const FORGET: u64 = 600_000;
        d.enrol_failed(&failure(1, 0), 1_000, FORGET)
            .expect("write");
        // Another relay that had not heard of it counts its own first failure: two.
        d.enrol_failed(&failure(1, 0), 2_000, FORGET)
            .expect("write");
        d.enrol_failed(&failure(3, 40_000), 3_000, FORGET)
            .expect("write");
        let counted = d.enrol_counts(&key).expect("read");
        assert_eq!(
            counted,
            vec![(
                Limited::Address,
                Counted {
                    failures: 3,
                    blocked_until: 40_000,
                    last_active: 3_000
                }
            )]
        );
        // Past the forget time the count starts again…
        d.enrol_failed(&failure(1, 0), 40_000 + FORGET, FORGET)
            .expect("write");
        assert_eq!(d.enrol_counts(&key).expect("read")[0].1.failures, 1);
        // …and a row nobody needs is deleted with the next failure.
        let other = vec![(Limited::Prefix, "ABCD".to_string(), Counted::default())];
        d.enrol_failed(&other, 40_000 + 2 * FORGET, FORGET)
            .expect("write");
        assert!(d.enrol_counts(&key).expect("read").is_empty());
    }
}
