//! The share policy, pure: what a device's member may do with a document of a given
//! class, and how the relay classifies a document it holds. No SQLite here.

use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;

use super::{Identity, Role};

/// What the relay knows about a document when deciding access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocClass {
    /// A team's caseload index (it names every young person of the team).
    Index { team: String },
    /// A team's shared index: the records it shares beyond itself, by id and heads,
    /// written by the relay only (`caseload/shared.rs`).
    SharedIndex { team: String },
    /// A record with its `team` and `assigned_worker`; `shared`: it may leave the team
    /// (a contact with active consent of the pact's scope, or an employer).
    Record {
        team: String,
        assigned_worker: Option<String>,
        shared: bool,
    },
    /// Not on the relay yet (a device is creating it).
    New,
    /// On the relay but not a Paktum record of any team: nobody's to read.
    Foreign,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    Read,
    ReadWrite,
}

impl Identity {
    fn in_pact(&self, team: &str) -> bool {
        self.pact_teams.iter().any(|t| t == team)
    }

    /// The share policy. Workers: their team (or only their own caseload, if the team
    /// is set so). Coordinators and admins: write their own team; of the pact's other
    /// teams they read the shared index and the records it lists (consent of the pact's
    /// scope), never the team's own index (it names everyone).
    pub fn access(&self, class: &DocClass) -> Access {
        let own_team = |team: &str| team == self.team;
        match class {
            DocClass::New => Access::ReadWrite,
            DocClass::Foreign => Access::None,
            DocClass::Index { team } if own_team(team) => Access::ReadWrite,
            DocClass::Index { .. } => Access::None,
            DocClass::SharedIndex { team } => match self.role {
                Role::Coordinator | Role::Admin if self.in_pact(team) => Access::Read,
                _ => Access::None,
            },
            DocClass::Record {
                team,
                assigned_worker,
                shared,
            } => match self.role {
                Role::Worker if own_team(team) => {
                    if self.own_caseload_only
                        && assigned_worker.as_deref() != Some(self.worker.as_str())
                    {
                        Access::None
                    } else {
                        Access::ReadWrite
                    }
                }
                Role::Coordinator | Role::Admin if own_team(team) => Access::ReadWrite,
                Role::Coordinator | Role::Admin if *shared && self.in_pact(team) => Access::Read,
                _ => Access::None,
            },
        }
    }

    /// After a change by this device, may the document stay as it now is? (A worker
    /// may create records only for teams of the pact, and may hand one over.)
    pub fn may_leave_as(&self, class: &DocClass) -> bool {
        match class {
            DocClass::Record { team, .. } => self.in_pact(team),
            DocClass::Index { team } => own_or_pact(self, team),
            DocClass::SharedIndex { .. } => false,
            DocClass::New => true,
            DocClass::Foreign => false,
        }
    }
}

fn own_or_pact(id: &Identity, team: &str) -> bool {
    team == id.team || (id.role != Role::Worker && id.in_pact(team))
}

/// Classifies a document the relay holds (or does not) for the share policy.
pub fn classify(
    doc_id: &DocumentId,
    doc: Option<&automerge::Automerge>,
    teams: &[String],
) -> DocClass {
    if let Some(team) = teams
        .iter()
        .find(|t| CaseloadDoc::id_for_team(t) == *doc_id)
    {
        return DocClass::Index { team: team.clone() };
    }
    if let Some(team) = teams
        .iter()
        .find(|t| CaseloadDoc::shared_id_for_team(t) == *doc_id)
    {
        return DocClass::SharedIndex { team: team.clone() };
    }
    let Some(doc) = doc.filter(|d| !d.get_heads().is_empty()) else {
        return DocClass::New;
    };
    match paktum_shared::record::owner(doc) {
        Some(owner) => DocClass::Record {
            team: owner.team,
            assigned_worker: owner.assigned_worker,
            shared: paktum_shared::caseload::shares_beyond_team(doc),
        },
        None => DocClass::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(role: Role, team: &str, own: bool) -> Identity {
        Identity {
            device_id: 1,
            member_id: 1,
            worker: "Anna".into(),
            role,
            team: team.into(),
            pact: "p".into(),
            pact_teams: vec!["kempen".into(), "oudergem".into()],
            own_caseload_only: own,
        }
    }

    #[test]
    fn the_share_policy() {
        let rec = |team: &str, w: &str| DocClass::Record {
            team: team.into(),
            assigned_worker: Some(w.into()),
            shared: true,
        };
        let unshared = |team: &str| DocClass::Record {
            team: team.into(),
            assigned_worker: Some("Bram".into()),
            shared: false,
        };
        let shared_index = |team: &str| DocClass::SharedIndex { team: team.into() };
        let worker = identity(Role::Worker, "kempen", false);
        assert_eq!(worker.access(&rec("kempen", "Bram")), Access::ReadWrite);
        assert_eq!(worker.access(&rec("oudergem", "Bram")), Access::None);
        assert_eq!(worker.access(&rec("worms", "Bram")), Access::None);
        assert_eq!(
            worker.access(&DocClass::Index {
                team: "oudergem".into()
            }),
            Access::None
        );
        let own = identity(Role::Worker, "kempen", true);
        assert_eq!(own.access(&rec("kempen", "Bram")), Access::None);
        assert_eq!(own.access(&rec("kempen", "Anna")), Access::ReadWrite);
        let coordinator = identity(Role::Coordinator, "kempen", false);
        assert_eq!(coordinator.access(&rec("oudergem", "Bram")), Access::Read);
        assert_eq!(
            coordinator.access(&unshared("oudergem")),
            Access::None,
            "no consent to share beyond the team"
        );
        assert_eq!(coordinator.access(&unshared("kempen")), Access::ReadWrite);
        assert_eq!(worker.access(&unshared("kempen")), Access::ReadWrite);
        assert_eq!(
            coordinator.access(&DocClass::Index {
                team: "oudergem".into()
            }),
            Access::None,
            "another team's index names everyone"
        );
        assert_eq!(coordinator.access(&shared_index("oudergem")), Access::Read);
        assert_eq!(coordinator.access(&shared_index("worms")), Access::None);
        assert_eq!(worker.access(&shared_index("oudergem")), Access::None);
        assert!(!coordinator.may_leave_as(&shared_index("kempen")));
        assert_eq!(
            coordinator.access(&rec("worms", "Bram")),
            Access::None,
            "another pact"
        );
        assert_eq!(worker.access(&DocClass::Foreign), Access::None);
    }
}
