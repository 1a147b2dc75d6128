//! The device lock's rules: when the app locks, how long a wrong PIN makes the worker
//! wait, when the device gives up and erases what the relay already has, and what a
//! PIN must be. Time comes in as an argument (milliseconds); the app keeps the clock.

/// The lock's settings (the pact's, once the relay sends them; these defaults until).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LockPolicy {
    /// Locks after this long without a touch or a key, or this long in the background.
    pub inactivity_ms: f64,
    /// After this many wrong PINs in a row the device erases what the relay has.
    pub max_failures: u32,
}

/// The shortest PIN or passphrase accepted, in characters.
pub const MIN_PIN_CHARS: usize = 6;

/// How long each wait may grow to.
const LONGEST_WAIT_MS: f64 = 10.0 * 60_000.0;

impl Default for LockPolicy {
    fn default() -> Self {
        Self {
            inactivity_ms: 5.0 * 60_000.0,
            max_failures: 10,
        }
    }
}

impl LockPolicy {
    /// The policy a pact's settings ask for (out-of-range values are the defaults).
    pub fn of(settings: &crate::enrol::PactSettings) -> Self {
        let s = settings.sane();
        Self {
            inactivity_ms: f64::from(s.lock_minutes()) * 60_000.0,
            max_failures: s.lock_failures(),
        }
    }

    /// Whether the app should lock now, quiet since `last_active_ms`.
    pub fn is_due(&self, last_active_ms: f64, now_ms: f64) -> bool {
        now_ms - last_active_ms >= self.inactivity_ms
    }

    /// How long after the `failures`-th wrong PIN in a row the next try is taken: two
    /// tries free (a typo), then 1 s, doubling, at most 10 minutes.
    pub fn wait_ms(&self, failures: u32) -> f64 {
        if failures < 3 {
            return 0.0;
        }
        (1000.0 * 2f64.powi(failures.min(30) as i32 - 3)).min(LONGEST_WAIT_MS)
    }

    /// When the next try is taken after `failures` wrong PINs, the last at
    /// `failed_at_ms` (kept on the device, so a reload does not restart the wait); a
    /// last time not known (0) or in the future (a clock set back) counts from now.
    pub fn next_try_at(&self, failures: u32, failed_at_ms: f64, now_ms: f64) -> f64 {
        let from = if failed_at_ms > 0.0 && failed_at_ms <= now_ms {
            failed_at_ms
        } else {
            now_ms
        };
        from + self.wait_ms(failures)
    }

    /// Whether `failures` wrong PINs mean erasing what the relay already holds.
    pub fn is_exhausted(&self, failures: u32) -> bool {
        failures >= self.max_failures
    }
}

/// Whether `pin` may be a PIN: at least [`MIN_PIN_CHARS`] characters, not all blank.
pub fn is_acceptable_pin(pin: &str) -> bool {
    pin.trim().chars().count() >= MIN_PIN_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_two_free_tries_and_stop_growing_at_ten_minutes() {
        let policy = LockPolicy::default();
        let waits: Vec<f64> = (1..=9).map(|n| policy.wait_ms(n)).collect();
        assert_eq!(
            waits,
            [
                0.0, 0.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 32000.0, 64000.0
            ]
        );
        assert_eq!(policy.wait_ms(40), LONGEST_WAIT_MS);
    }

    #[test]
    fn a_reload_does_not_restart_the_wait_of_the_last_wrong_pin() {
        let policy = LockPolicy::default();
        // The 5th wrong PIN (4 s wait) was typed 3 s before the reload: 1 s is left.
        assert_eq!(policy.next_try_at(5, 10_000.0, 13_000.0), 14_000.0);
        // Not kept (an older device) or in the future (clock set back): from now.
        assert_eq!(policy.next_try_at(5, 0.0, 13_000.0), 17_000.0);
        assert_eq!(policy.next_try_at(5, 20_000.0, 13_000.0), 17_000.0);
        assert_eq!(policy.next_try_at(2, 10_000.0, 13_000.0), 10_000.0);
    }

    #[test]
    fn the_tenth_wrong_pin_exhausts_the_default_policy() {
        let policy = LockPolicy::default();
        assert!(!policy.is_exhausted(9));
        assert!(policy.is_exhausted(10));
    }

    #[test]
    fn it_locks_after_five_quiet_minutes() {
        let policy = LockPolicy::default();
        assert!(!policy.is_due(1_000.0, 1_000.0 + 299_999.0));
        assert!(policy.is_due(1_000.0, 1_000.0 + 300_000.0));
    }

    #[test]
    fn the_pacts_settings_make_the_policy_and_nonsense_is_the_default() {
        use crate::enrol::PactSettings;
        assert_eq!(
            LockPolicy::of(&PactSettings::default()),
            LockPolicy::default()
        );
        let policy = LockPolicy::of(&PactSettings {
            lock_minutes: Some(2),
            lock_failures: Some(5),
            ..PactSettings::default()
        });
        assert!(policy.is_due(0.0, 120_000.0));
        assert!(!policy.is_due(0.0, 119_999.0));
        assert!(policy.is_exhausted(5));
        let nonsense = LockPolicy::of(&PactSettings {
            lock_minutes: Some(0),
            lock_failures: Some(0),
            ..PactSettings::default()
        });
        assert_eq!(nonsense, LockPolicy::default());
    }

    #[test]
    fn a_pin_has_six_characters_at_least() {
        assert!(!is_acceptable_pin("12345"));
        assert!(!is_acceptable_pin("      "));
        assert!(is_acceptable_pin("123456"));
        assert!(is_acceptable_pin("öäü ßéè"));
    }
}
