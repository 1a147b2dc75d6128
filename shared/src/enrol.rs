//! `POST /enrol`: what a device sends to exchange a one-time code for a device token,
//! and what the relay answers. Wire types only (JSON through serde), no I/O; the relay,
//! the app and the tests all use these, so they cannot drift.

use serde::{Deserialize, Serialize};

/// The body of `POST /enrol`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The code as the person typed it (the relay ignores case, spaces and dashes).
    pub code: String,
    /// What the device calls itself in the admin's device list.
    #[serde(default)]
    pub label: String,
}

/// The relay's answer when the code was good: the token, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub token: String,
    #[serde(default)]
    pub device_id: i64,
    #[serde(default)]
    pub worker: String,
    /// `worker`, `coordinator` or `admin`.
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub pact: String,
    /// The teams this member may read: every team of the pact for a coordinator or
    /// an admin, the own team for a worker (an older relay sends none).
    #[serde(default)]
    pub teams: Vec<String>,
    /// The pact's settings (an older relay sends none: the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<PactSettings>,
    /// The team syncs only each worker's own caseload: a worker's device then follows
    /// its own index (`CaseloadDoc::worker_id_for`), never the team's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_caseload_only: bool,
}

/// `GET /pact/teams?token=…`: what a device's member may do and read now (the pact
/// may have gained a team since enrolment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PactTeams {
    /// `worker`, `coordinator` or `admin`.
    pub role: String,
    pub team: String,
    /// As [`Enrolment::teams`].
    pub teams: Vec<String>,
    /// As [`Enrolment::settings`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<PactSettings>,
    /// As [`Enrolment::own_caseload_only`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own_caseload_only: bool,
}

/// What a pact decided for its devices; each value left out is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PactSettings {
    /// The device locks after this many quiet minutes (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_minutes: Option<u32>,
    /// Wrong PINs in a row before the device erases what the relay has (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_failures: Option<u32>,
    /// The inclusive-employer goal, in percent (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusive_goal: Option<u32>,
    /// Months without a change before a record is listed for erasure (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_months: Option<u32>,
}

impl PactSettings {
    pub const DEFAULT_LOCK_MINUTES: u32 = 5;
    pub const DEFAULT_LOCK_FAILURES: u32 = 10;
    pub const DEFAULT_INCLUSIVE_GOAL: u32 = 50;
    pub const DEFAULT_RETENTION_MONTHS: u32 = crate::indicators::table::RETENTION_MONTHS;

    /// The ranges an admin may set (inclusive).
    pub const LOCK_MINUTES: (u32, u32) = (1, 60);
    pub const LOCK_FAILURES: (u32, u32) = (3, 20);
    pub const INCLUSIVE_GOAL: (u32, u32) = (1, 100);
    /// At least 6 months (never a singular "month" in the catalogues), at most 10 years.
    pub const RETENTION: (u32, u32) = (6, 120);

    pub fn lock_minutes(&self) -> u32 {
        self.lock_minutes.unwrap_or(Self::DEFAULT_LOCK_MINUTES)
    }
    pub fn lock_failures(&self) -> u32 {
        self.lock_failures.unwrap_or(Self::DEFAULT_LOCK_FAILURES)
    }
    pub fn inclusive_goal(&self) -> u32 {
        self.inclusive_goal.unwrap_or(Self::DEFAULT_INCLUSIVE_GOAL)
    }
    pub fn retention_months(&self) -> u32 {
        self.retention_months
            .unwrap_or(Self::DEFAULT_RETENTION_MONTHS)
    }

    /// The settings with every value out of its range (an old or a wrong relay) taken
    /// as the default, so a device never locks every second or never erases.
    pub fn sane(self) -> Self {
        let within = |v: Option<u32>, (lo, hi): (u32, u32)| v.filter(|v| (lo..=hi).contains(v));
        Self {
            lock_minutes: within(self.lock_minutes, Self::LOCK_MINUTES),
            lock_failures: within(self.lock_failures, Self::LOCK_FAILURES),
            inclusive_goal: within(self.inclusive_goal, Self::INCLUSIVE_GOAL),
            retention_months: within(self.retention_months, Self::RETENTION),
        }
    }
}

/// The relay's answer to any request it refuses (a sentence and a code).
pub use crate::refusal::Refusal;

/// `GET /team/members` with the device token (`Authorization: Bearer …`): the members
/// of the device's own team, so a contact is assigned to a member, not a typed name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembers {
    pub team: String,
    /// Sorted by name.
    pub members: Vec<Member>,
}

/// One member of a team, as the relay's directory knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// `worker`, `coordinator` or `admin`.
    #[serde(default)]
    pub role: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_relays_answer_without_settings_is_read_as_the_defaults() {
        let teams: PactTeams =
            serde_json::from_str(r#"{"role":"worker","team":"kempen","teams":["kempen"]}"#)
                .expect("old answer");
        assert_eq!(teams.settings, None);
        let settings: PactSettings =
            serde_json::from_str(r#"{"lock_minutes":2}"#).expect("partial settings");
        assert_eq!(
            (settings.lock_minutes(), settings.retention_months()),
            (2, 24)
        );
    }
}
