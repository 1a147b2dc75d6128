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
