//! Who may sync what. [`directory`] is the SQLite side (teams, members, enrolment
//! codes, devices, audit log; tokens and codes stored only as SHA-256 hashes);
//! [`policy`] is the share policy, a pure decision per document
//! ([`Identity::access`]) the hub asks before anything is exchanged.

pub mod directory;
pub mod policy;
pub mod throttle;

use thiserror::Error;

pub use directory::{
    AuditEntry, DeviceRow, Directory, Erasure, Quarantined, Receipt, RevokeMode, WipeOrder,
};
pub use policy::{Access, DocClass, classify};

/// One `Role` for relay and devices: the directory stores `Role::as_str`.
pub use paktum_shared::device::Role;

/// An authenticated device and what its member may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub device_id: i64,
    pub member_id: i64,
    pub worker: String,
    pub role: Role,
    pub team: String,
    pub pact: String,
    /// Teams of the same pact (coordinators read them all).
    pub pact_teams: Vec<String>,
    /// The team syncs only each worker's own caseload.
    pub own_caseload_only: bool,
}

impl Identity {
    /// The teams this member may read: the pact's for a coordinator or an admin, the
    /// own team for a worker (who learns no other team's name).
    pub fn readable_teams(&self) -> Vec<String> {
        match self.role {
            Role::Worker => vec![self.team.clone()],
            Role::Coordinator | Role::Admin => self.pact_teams.clone(),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no device token")]
    Missing,
    #[error("unknown device token")]
    Unknown,
    #[error("this device was revoked")]
    Revoked,
    #[error("this enrolment code is not known; check it or ask for a new one")]
    UnknownCode,
    #[error("this enrolment code was already used; ask your coordinator for a new one")]
    UsedCode,
    #[error("this enrolment code has expired; ask your coordinator for a new one")]
    ExpiredCode,
    #[error("{0}")]
    Invalid(String),
    #[error("directory error: {0}")]
    Db(String),
}

impl From<rusqlite::Error> for AuthError {
    fn from(e: rusqlite::Error) -> Self {
        AuthError::Db(e.to_string())
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
