//! Each pact's settings (issues 14, 15, 16): the device lock's quiet minutes and wrong
//! PINs, the inclusive-employer goal and the retention months. One row per pact, a
//! column left NULL is the default; the relay hands them to the pact's devices with
//! `/enrol` and `/pact/teams`.

use paktum_shared::enrol::PactSettings;

use super::Directory;
use super::sql::values;
use crate::auth::AuthError;

pub(super) const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS pact_settings (
        pact TEXT PRIMARY KEY, lock_minutes INTEGER, lock_failures INTEGER,
        inclusive_goal INTEGER, retention_months INTEGER);";

/// `value` if within `range`, else the sentence saying what is allowed.
fn check(name: &str, value: Option<u32>, (lo, hi): (u32, u32)) -> Result<(), AuthError> {
    match value {
        Some(v) if !(lo..=hi).contains(&v) => Err(AuthError::Invalid(format!(
            "{name} must be between {lo} and {hi} (was {v})"
        ))),
        _ => Ok(()),
    }
}

fn column(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

impl Directory {
    /// The settings of `pact` (all defaults when it has set none).
    pub fn pact_settings(&self, pact: &str) -> Result<PactSettings, AuthError> {
        let row = self.db.query_opt(
            "SELECT lock_minutes, lock_failures, inclusive_goal, retention_months
             FROM pact_settings WHERE pact = $1",
            values![pact],
        )?;
        let Some(row) = row else {
            return Ok(PactSettings::default());
        };
        Ok(PactSettings {
            lock_minutes: column(row.opt_int(0)?),
            lock_failures: column(row.opt_int(1)?),
            inclusive_goal: column(row.opt_int(2)?),
            retention_months: column(row.opt_int(3)?),
        })
    }

    /// Sets the values given in `changes` for `pact` (the others stay as they are; all
    /// back to the defaults first with `reset`) and returns the settings now in force.
    /// The pact must have a team; every value must be within its range.
    pub fn set_pact_settings(
        &self,
        pact: &str,
        changes: PactSettings,
        reset: bool,
        now: i64,
    ) -> Result<PactSettings, AuthError> {
        let pact = pact.trim();
        check(
            "--lock-minutes",
            changes.lock_minutes,
            PactSettings::LOCK_MINUTES,
        )?;
        check(
            "--lock-failures",
            changes.lock_failures,
            PactSettings::LOCK_FAILURES,
        )?;
        check(
            "--inclusive-goal",
            changes.inclusive_goal,
            PactSettings::INCLUSIVE_GOAL,
        )?;
        check(
            "--retention-months",
            changes.retention_months,
            PactSettings::RETENTION,
        )?;
        let known = self
            .db
            .query_opt("SELECT name FROM teams WHERE pact = $1", values![pact])?;
        if known.is_none() {
            return Err(AuthError::Invalid(format!(
                "no team belongs to pact {pact}; create a team in it first"
            )));
        }
        let int = |v: Option<u32>| v.map(i64::from);
        self.db.transaction(|tx| {
            if reset {
                tx.execute("DELETE FROM pact_settings WHERE pact = $1", values![pact])?;
            }
            tx.execute(
                "INSERT INTO pact_settings (pact) VALUES ($1) ON CONFLICT (pact) DO NOTHING",
                values![pact],
            )?;
            tx.execute(
                "UPDATE pact_settings SET
                   lock_minutes = COALESCE($2, lock_minutes),
                   lock_failures = COALESCE($3, lock_failures),
                   inclusive_goal = COALESCE($4, inclusive_goal),
                   retention_months = COALESCE($5, retention_months)
                 WHERE pact = $1",
                values![
                    pact,
                    int(changes.lock_minutes),
                    int(changes.lock_failures),
                    int(changes.inclusive_goal),
                    int(changes.retention_months),
                ],
            )?;
            Ok(())
        })?;
        let now_in_force = self.pact_settings(pact)?;
        self.audit(
            now,
            "pact_settings",
            None,
            &format!("pact {pact}: {now_in_force:?}"),
        );
        Ok(now_in_force)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::postgres;
    use super::*;

    #[test]
    fn pact_settings_are_kept_per_pact_and_default_when_unset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Directory::open(dir.path()).expect("open");
        pact_settings_in(&d);
    }

    #[test]
    fn pact_settings_are_kept_per_pact_and_default_when_unset_on_postgres() {
        if let Some(d) = postgres() {
            pact_settings_in(&d);
        }
    }

    fn pact_settings_in(d: &Directory) {
        d.create_team("kempen-pact", "kempen", false).expect("team");
        d.create_team("brussel-pact", "anderlecht", false)
            .expect("team");
        assert_eq!(
            d.pact_settings("kempen-pact").expect("read"),
            PactSettings::default()
        );
        let set = d
            .set_pact_settings(
                "kempen-pact",
                PactSettings {
                    lock_minutes: Some(2),
                    retention_months: Some(12),
                    ..PactSettings::default()
                },
                false,
                1,
            )
            .expect("set");
        assert_eq!(set.lock_minutes, Some(2));
        assert_eq!(set.retention_months, Some(12));
        assert_eq!(set.lock_failures, None);
        // A second change keeps what it does not name.
        let set = d
            .set_pact_settings(
                "kempen-pact",
                PactSettings {
                    inclusive_goal: Some(40),
                    ..PactSettings::default()
                },
                false,
                2,
            )
            .expect("set");
        assert_eq!(
            set,
            PactSettings {
                lock_minutes: Some(2),
                lock_failures: None,
                inclusive_goal: Some(40),
                retention_months: Some(12),
            }
        );
        assert_eq!(d.pact_settings("kempen-pact").expect("read"), set);
        // Another pact is not touched.
        assert_eq!(
            d.pact_settings("brussel-pact").expect("read"),
            PactSettings::default()
        );
        // Out of range or an unknown pact: refused, nothing changes.
        for wrong in [
            PactSettings {
                lock_minutes: Some(0),
                ..PactSettings::default()
            },
            PactSettings {
                lock_failures: Some(2),
                ..PactSettings::default()
            },
            PactSettings {
                inclusive_goal: Some(101),
                ..PactSettings::default()
            },
            PactSettings {
                retention_months: Some(0),
                ..PactSettings::default()
            },
        ] {
            let e = d
                .set_pact_settings("kempen-pact", wrong, false, 3)
                .expect_err("out of range");
            assert!(e.to_string().contains("must be between"), "{e}");
        }
        assert!(
            d.set_pact_settings("nowhere", PactSettings::default(), false, 3)
                .is_err()
        );
        assert_eq!(d.pact_settings("kempen-pact").expect("read"), set);
        // Reset: back to the defaults, then the one value given.
        let set = d
            .set_pact_settings(
                "kempen-pact",
                PactSettings {
                    lock_failures: Some(5),
                    ..PactSettings::default()
                },
                true,
                4,
            )
            .expect("reset");
        assert_eq!(
            set,
            PactSettings {
                lock_failures: Some(5),
                ..PactSettings::default()
            }
        );
    }
}
