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
    /// A worker's own index in a team set to "own caseload only" (`caseload/worker.rs`):
    /// that worker's rows only, written by their devices and by the relay.
    WorkerIndex { team: String, worker: String },
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

impl DocClass {
    /// One of the indices (a team's, its shared one, a worker's own): an erasure may
    /// rewrite it, so the relay writes it only at the generation it read.
    pub fn is_index(&self) -> bool {
        matches!(
            self,
            DocClass::Index { .. } | DocClass::SharedIndex { .. } | DocClass::WorkerIndex { .. }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    Read,
    ReadWrite,
}

impl Identity {
    /// A worker of a team set to "own caseload only" (a coordinator sees the whole team).
    pub fn own_only(&self) -> bool {
        self.own_caseload_only && self.role == Role::Worker
    }

    fn in_pact(&self, team: &str) -> bool {
        self.pact_teams.iter().any(|t| t == team)
    }

    /// The share policy. Workers: their team (or, if the team is set so, only their own
    /// caseload and their own index, never the team's, which names everyone). Coordinators and admins: write their own team; of the pact's other
    /// teams they read the shared index and the records it lists (consent of the pact's
    /// scope), never the team's own index (it names everyone).
    pub fn access(&self, class: &DocClass) -> Access {
        let own_team = |team: &str| team == self.team;
        match class {
            DocClass::New => Access::ReadWrite,
            DocClass::Foreign => Access::None,
            DocClass::Index { .. } if self.own_only() => Access::None,
            DocClass::Index { team } if own_team(team) => Access::ReadWrite,
            DocClass::Index { .. } => Access::None,
            DocClass::WorkerIndex { team, worker } => {
                if self.role == Role::Worker && own_team(team) && *worker == self.worker {
                    Access::ReadWrite
                } else {
                    Access::None
                }
            }
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
                    if self.own_only() && assigned_worker.as_deref() != Some(self.worker.as_str()) {
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
            DocClass::WorkerIndex { team, worker } => *team == self.team && *worker == self.worker,
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
    if let Some((team, worker)) = CaseloadDoc::worker_index_of(doc_id, doc) {
        return DocClass::WorkerIndex { team, worker };
    }
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

    #[test]
    fn an_own_caseload_worker_syncs_its_own_index_never_the_teams() {
        let worker_index = |team: &str, w: &str| DocClass::WorkerIndex {
            team: team.into(),
            worker: w.into(),
        };
        let team_index = DocClass::Index {
            team: "kempen".into(),
        };
        let own = identity(Role::Worker, "kempen", true);
        assert_eq!(own.access(&team_index), Access::None, "it names everyone");
        assert_eq!(
            own.access(&worker_index("kempen", "Anna")),
            Access::ReadWrite
        );
        assert_eq!(own.access(&worker_index("kempen", "Bram")), Access::None);
        assert_eq!(own.access(&worker_index("oudergem", "Anna")), Access::None);
        assert!(own.may_leave_as(&worker_index("kempen", "Anna")));
        assert!(!own.may_leave_as(&worker_index("kempen", "Bram")));
        // The team's setting does not narrow a coordinator.
        let coordinator = identity(Role::Coordinator, "kempen", true);
        assert_eq!(coordinator.access(&team_index), Access::ReadWrite);
        assert_eq!(
            coordinator.access(&worker_index("kempen", "Anna")),
            Access::None,
            "nobody else reads a worker's own index"
        );
        let whole = identity(Role::Worker, "kempen", false);
        assert_eq!(whole.access(&team_index), Access::ReadWrite);
    }

    #[test]
    fn a_workers_index_is_classified_by_its_content_and_id() {
        let index = CaseloadDoc::new_for_worker("kempen", "Anna").expect("index");
        let id = CaseloadDoc::worker_id_for("kempen", "Anna");
        assert_eq!(
            classify(&id, Some(index.doc()), &[]),
            DocClass::WorkerIndex {
                team: "kempen".into(),
                worker: "Anna".into()
            }
        );
        let elsewhere = CaseloadDoc::worker_id_for("kempen", "Bram");
        assert!(!matches!(
            classify(&elsewhere, Some(index.doc()), &[]),
            DocClass::WorkerIndex { .. }
        ));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const TEAMS: [&str; 3] = ["kempen", "oudergem", "worms"];
        const WORKERS: [&str; 2] = ["Anna", "Bram"];

        fn any_class() -> impl Strategy<Value = DocClass> {
            let team = (0..3usize).prop_map(|t| TEAMS[t].to_string());
            let worker = (0..2usize).prop_map(|w| WORKERS[w].to_string());
            prop_oneof![
                team.clone().prop_map(|team| DocClass::Index { team }),
                team.clone().prop_map(|team| DocClass::SharedIndex { team }),
                (team.clone(), worker.clone())
                    .prop_map(|(team, worker)| DocClass::WorkerIndex { team, worker }),
                (team, proptest::option::of(worker), any::<bool>()).prop_map(
                    |(team, assigned_worker, shared)| DocClass::Record {
                        team,
                        assigned_worker,
                        shared
                    }
                ),
                Just(DocClass::New),
                Just(DocClass::Foreign),
            ]
        }

        fn any_identity() -> impl Strategy<Value = Identity> {
            (0..3usize, 0..3usize, 0..2usize, any::<bool>()).prop_map(|(r, t, w, own)| {
                let role = [Role::Worker, Role::Coordinator, Role::Admin][r];
                let mut id = identity(role, TEAMS[t], own);
                id.worker = WORKERS[w].into();
                id
            })
        }

        proptest! {
            /// What a worker of an own-caseload-only team may see: never the team's
            /// index or another worker's index or record, nothing of another team.
            #[test]
            fn an_own_caseload_worker_sees_only_its_own(
                who in any_identity(),
                class in any_class(),
            ) {
                let access = who.access(&class);
                if who.own_only() && access != Access::None {
                    match &class {
                        DocClass::WorkerIndex { team, worker } => {
                            prop_assert!(*team == who.team && *worker == who.worker);
                        }
                        DocClass::Record { team, assigned_worker, .. } => {
                            prop_assert_eq!(team, &who.team);
                            prop_assert_eq!(assigned_worker.as_deref(), Some(who.worker.as_str()));
                        }
                        DocClass::New => {}
                        other => prop_assert!(false, "{other:?} given to {who:?}"),
                    }
                }
                // Nobody but its worker reads a worker's own index.
                if let DocClass::WorkerIndex { team, worker } = &class {
                    let theirs = who.role == Role::Worker && *team == who.team
                        && *worker == who.worker;
                    prop_assert_eq!(access != Access::None, theirs);
                }
                // Nobody writes what it may not read, and nothing outside its pact.
                if access == Access::ReadWrite {
                    let team = match &class {
                        DocClass::Index { team } | DocClass::SharedIndex { team }
                        | DocClass::WorkerIndex { team, .. } | DocClass::Record { team, .. } => {
                            Some(team)
                        }
                        DocClass::New | DocClass::Foreign => None,
                    };
                    prop_assert!(team.is_none_or(|t| *t == who.team));
                }
            }
        }
    }
}
