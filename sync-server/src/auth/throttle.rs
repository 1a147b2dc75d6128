//! Slowing down enrolment guesses: failures counted per client address and per code
//! prefix, pure (time comes in as an argument), with bounded memory.
//!
//! Rule, for each key: the first `free_failures` failed enrolments cost nothing; each
//! failure from then on blocks the key for a delay that doubles (`first_delay`,
//! `2 × first_delay`, … up to `max_delay`). Beyond the free failures only one attempt
//! per key is in flight at a time, so a burst of parallel requests cannot slip past
//! the count. A key is forgotten after `forget_after` without failures or blocks.
//! Successful enrolments neither count nor reset.
//!
//! A blocked address is blocked for everyone there, even for a correct code: the
//! relay cannot tell the person from the guesser behind one address, and a correct
//! code must not become a way to learn that a guess was right. The answer says how
//! long to wait.
//!
//! The prefix key covers a code partly known (seen over a shoulder, half a link)
//! being completed from many addresses. IPv6 addresses count per /64, the block one
//! host usually gets.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

/// Characters of a (normalised) code that form its prefix key.
pub const PREFIX_LEN: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub free_failures: u32,
    pub first_delay_ms: u64,
    pub max_delay_ms: u64,
    pub forget_after_ms: u64,
    /// Keys remembered per kind; beyond it the least recently active idle ones are
    /// dropped.
    pub capacity: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_delay_ms: 30_000,
            max_delay_ms: 15 * 60_000,
            forget_after_ms: 10 * 60_000,
            capacity: 10_000,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    failures: u32,
    in_flight: u32,
    blocked_until: u64,
    last_active: u64,
}

impl Entry {
    fn forgettable(&self, now: u64, rules: &Rules) -> bool {
        self.in_flight == 0
            && now >= self.blocked_until
            && now.saturating_sub(self.last_active.max(self.blocked_until)) >= rules.forget_after_ms
    }
}

/// Failure counts for one kind of key.
#[derive(Debug)]
pub struct Throttle<K> {
    rules: Rules,
    entries: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            entries: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Milliseconds `key` must wait before an attempt, or `None` if it may go now.
    pub fn wait(&self, key: &K, now: u64) -> Option<u64> {
        let e = self.entries.get(key)?;
        if e.forgettable(now, &self.rules) {
            return None;
        }
        if now < e.blocked_until {
            return Some(e.blocked_until - now);
        }
        // Past the free failures: one attempt at a time.
        (e.in_flight > 0 && e.failures + e.in_flight >= self.rules.free_failures).then_some(1000)
    }

    /// Takes in what other relays counted for `key`: the larger of each.
    fn learn(&mut self, key: &K, counted: Counted, now: u64) {
        let e = self.entry(key, now);
        e.failures = e.failures.max(counted.failures);
        e.blocked_until = e.blocked_until.max(counted.blocked_until);
        e.last_active = e.last_active.max(counted.last_active);
    }

    fn counted(&self, key: &K) -> Option<Counted> {
        self.entries.get(key).map(|e| Counted {
            failures: e.failures,
            blocked_until: e.blocked_until,
            last_active: e.last_active,
        })
    }

    /// Counts an attempt as under way (call only after [`Self::wait`] said `None`).
    fn begin(&mut self, key: &K, now: u64) {
        let e = self.entry(key, now);
        e.in_flight += 1;
        e.last_active = now;
    }

    /// Ends an attempt; on a failure returns the block it started, in ms, if any.
    fn end(&mut self, key: &K, failed: bool, now: u64) -> Option<u64> {
        let rules = self.rules;
        let e = self.entry(key, now);
        e.in_flight = e.in_flight.saturating_sub(1);
        e.last_active = now;
        if !failed {
            return None;
        }
        e.failures = e.failures.saturating_add(1);
        let excess = e.failures.checked_sub(rules.free_failures)?;
        let delay = rules
            .first_delay_ms
            .saturating_mul(1u64 << excess.min(32))
            .min(rules.max_delay_ms);
        e.blocked_until = e.blocked_until.max(now + delay);
        Some(delay)
    }

    /// The entry for `key`, made room for if new: first by forgetting what may be
    /// forgotten, then by dropping the least recently active idle key.
    fn entry(&mut self, key: &K, now: u64) -> &mut Entry {
        if !self.entries.contains_key(key) && self.entries.len() >= self.rules.capacity {
            let rules = self.rules;
            self.entries.retain(|_, e| !e.forgettable(now, &rules));
            if self.entries.len() >= rules.capacity {
                // Drop an eighth at once, so a flood of new keys costs one sort per
                // capacity/8 keys, not a scan per key.
                let mut idle: Vec<(u64, K)> = self
                    .entries
                    .iter()
                    .filter(|(_, e)| e.in_flight == 0)
                    .map(|(k, e)| (e.last_active, k.clone()))
                    .collect();
                let n = (rules.capacity / 8).clamp(1, idle.len().max(1));
                if idle.len() > n {
                    idle.select_nth_unstable_by_key(n, |(at, _)| *at);
                }
                for (_, k) in idle.into_iter().take(n) {
                    self.entries.remove(&k);
                }
            }
        }
        let rules = self.rules;
        let e = self.entries.entry(key.clone()).or_default();
        if e.forgettable(now, &rules) {
            *e = Entry::default();
        }
        e
    }
}

/// Why an attempt must wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limited {
    Address,
    Prefix,
}

/// What the relays on one database counted for one key (PostgreSQL's
/// `enrol_throttle`, `auth/directory/throttle.rs`): each relay learns it before an
/// attempt and writes its own failures back, so N relays allow no more guesses than
/// one. Attempts in flight stay per relay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub failures: u32,
    pub blocked_until: u64,
    pub last_active: u64,
}

/// An enrolment attempt under way: hand it back to [`EnrolThrottle::end`].
#[derive(Debug)]
pub struct Attempt {
    address: IpAddr,
    prefix: Option<String>,
}

/// A block that a failure just started: what the audit log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockStarted {
    pub by: Limited,
    pub for_ms: u64,
}

/// The two throttles `/enrol` goes through.
#[derive(Debug)]
pub struct EnrolThrottle {
    addresses: Throttle<IpAddr>,
    prefixes: Throttle<String>,
}

impl EnrolThrottle {
    pub fn new(rules: Rules) -> Self {
        Self {
            addresses: Throttle::new(rules),
            prefixes: Throttle::new(rules),
        }
    }

    /// Starts an attempt, or says how long (in whole seconds, at least 1) to wait and why.
    pub fn begin(
        &mut self,
        address: IpAddr,
        code: &str,
        now: u64,
    ) -> Result<Attempt, (u64, Limited)> {
        let attempt = Attempt {
            address: address_key(address),
            prefix: prefix_key(code),
        };
        let by_address = self.addresses.wait(&attempt.address, now);
        let by_prefix = attempt
            .prefix
            .as_ref()
            .and_then(|p| self.prefixes.wait(p, now));
        let wait = match (by_address, by_prefix) {
            (Some(a), Some(p)) if p > a => Some((p, Limited::Prefix)),
            (Some(a), _) => Some((a, Limited::Address)),
            (None, Some(p)) => Some((p, Limited::Prefix)),
            (None, None) => None,
        };
        if let Some((ms, by)) = wait {
            return Err((ms.div_ceil(1000).max(1), by));
        }
        self.addresses.begin(&attempt.address, now);
        if let Some(p) = &attempt.prefix {
            self.prefixes.begin(p, now);
        }
        Ok(attempt)
    }

    /// Ends an attempt; a failure may start blocks (returned for the audit log).
    pub fn end(&mut self, attempt: Attempt, failed: bool, now: u64) -> Vec<BlockStarted> {
        let mut started = Vec::new();
        if let Some(ms) = self.addresses.end(&attempt.address, failed, now) {
            started.push(BlockStarted {
                by: Limited::Address,
                for_ms: ms,
            });
        }
        if let Some(p) = &attempt.prefix
            && let Some(ms) = self.prefixes.end(p, failed, now)
        {
            started.push(BlockStarted {
                by: Limited::Prefix,
                for_ms: ms,
            });
        }
        started
    }

    /// The keys an attempt from `address` with `code` counts under, as text.
    pub fn keys(address: IpAddr, code: &str) -> Vec<(Limited, String)> {
        let mut keys = vec![(Limited::Address, address_key(address).to_string())];
        keys.extend(prefix_key(code).map(|p| (Limited::Prefix, p)));
        keys
    }

    /// Takes in what other relays counted for these keys (before [`Self::begin`]).
    pub fn learn(&mut self, address: IpAddr, code: &str, counted: &[(Limited, Counted)], now: u64) {
        for (by, counted) in counted {
            match by {
                Limited::Address => self.addresses.learn(&address_key(address), *counted, now),
                Limited::Prefix => {
                    if let Some(p) = prefix_key(code) {
                        self.prefixes.learn(&p, *counted, now);
                    }
                }
            }
        }
    }

    /// What this relay counts for these keys now (after a failure, for the others).
    pub fn counted(&self, address: IpAddr, code: &str) -> Vec<(Limited, String, Counted)> {
        Self::keys(address, code)
            .into_iter()
            .filter_map(|(by, key)| {
                let counted = match by {
                    Limited::Address => self.addresses.counted(&address_key(address)),
                    Limited::Prefix => self.prefixes.counted(&key),
                };
                counted.map(|c| (by, key, c))
            })
            .collect()
    }

    /// How long a key with neither failures nor blocks is remembered.
    pub fn forget_after_ms(&self) -> u64 {
        self.addresses.rules.forget_after_ms
    }

    /// Keys remembered (addresses, prefixes).
    pub fn tracked(&self) -> (usize, usize) {
        (self.addresses.len(), self.prefixes.len())
    }
}

/// IPv4 as is (also when mapped into IPv6); IPv6 by its /64.
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The first [`PREFIX_LEN`] letters and digits of a code, upper-cased as the
/// directory reads codes; none for input too short to be a code.
fn prefix_key(code: &str) -> Option<String> {
    let prefix: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(PREFIX_LEN)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (prefix.len() == PREFIX_LEN).then_some(prefix)
}

#[cfg(test)]
mod tests;
