//! The other teams of the pact, for a coordinator's device: their shared indices (the
//! records each team may share beyond itself, `caseload/shared.rs`) followed read-only
//! beside the team's own index, each row kept with its team, the progress of
//! fetching them, and whether this device may edit a record (its own team only: the
//! relay's share policy refuses the rest, so the screens should not offer it).

use std::collections::HashMap;

use automerge::ChangeHash;

use super::Repo;
use crate::DocumentId;
use crate::caseload::{CaseloadDoc, Entry, Refreshed, UNSHARED};

/// The indices of the pact's other teams and their rows (empty on a worker's device).
#[derive(Debug, Default)]
pub(super) struct OtherTeams {
    /// Each other team with its index document id, in the relay's order.
    teams: Vec<(String, DocumentId)>,
    /// The rows of each team's index, by team.
    rows: HashMap<String, HashMap<DocumentId, Entry>>,
    /// The heads each team's rows were read at (the next read takes in the rest).
    read_at: HashMap<String, Option<Vec<ChangeHash>>>,
    /// The team's own index on a device that may no longer hold it (own caseload only).
    withdrawn: Option<DocumentId>,
}

impl OtherTeams {
    /// The other teams a device follows beside its own (the identity's followed teams);
    /// on an own-caseload-only worker's device, the team's index is withdrawn too.
    pub(super) fn of(identity: &super::Identity) -> Self {
        let withdrawn = identity
            .own_only()
            .then(|| CaseloadDoc::id_for_team(&identity.team));
        let teams = identity
            .followed_teams()
            .into_iter()
            .filter(|t| *t != identity.team)
            .map(|t| {
                // Another team's shared index, never its own: that one names every
                // young person of the team, and the relay refuses it to other teams.
                let id = CaseloadDoc::shared_id_for_team(&t);
                (t, id)
            })
            .collect();
        Self {
            teams,
            withdrawn,
            rows: HashMap::new(),
            read_at: HashMap::new(),
        }
    }

    pub(super) fn index_ids(&self) -> impl Iterator<Item = DocumentId> + '_ {
        self.teams.iter().map(|(_, id)| *id)
    }

    /// Another team's own index, which a coordinator's device followed before the
    /// shared indices: it names every young person of that team, so a device that
    /// still has one deletes it.
    fn is_withdrawn_index(&self, id: &DocumentId) -> bool {
        self.withdrawn == Some(*id)
            || self
                .teams
                .iter()
                .any(|(team, _)| CaseloadDoc::id_for_team(team) == *id)
    }

    /// Takes such indices out of what the store loaded; the step deletes them.
    pub(super) fn drop_withdrawn_indices(&self, loaded: &mut super::Loaded) -> super::Step {
        let mut step = super::Step::default();
        let (gone, docs) = std::mem::take(&mut loaded.docs)
            .into_iter()
            .partition(|d| self.is_withdrawn_index(&d.id));
        loaded.docs = docs;
        step.batch
            .erase
            .extend(gone.iter().map(|d: &super::StoredDoc| d.id));
        let (gone, kept) = std::mem::take(&mut loaded.kept)
            .into_iter()
            .partition(|d| self.is_withdrawn_index(&d.id));
        loaded.kept = kept;
        step.batch
            .erase
            .extend(gone.iter().map(|d: &super::KeptDoc| d.id));
        step
    }

    pub(super) fn team_of_index(&self, id: &DocumentId) -> Option<&str> {
        self.teams
            .iter()
            .find(|(_, index)| index == id)
            .map(|(t, _)| t.as_str())
    }
}

/// How far a device is in fetching what it follows: the teams' indices, then the
/// records they list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PactProgress {
    /// Teams followed (1 on a worker's device).
    pub teams: usize,
    /// Of those, the teams whose index this device holds.
    pub indices_known: usize,
    /// Records listed in the indices held.
    pub records_listed: usize,
    /// Of those, the records on this device.
    pub records_here: usize,
}

impl Repo {
    /// [`Repo::adopt`] without refusing another team's record: the change a modified
    /// client could send, for tests showing that the relay refuses it too.
    #[cfg(feature = "testing")]
    pub fn forge(
        &mut self,
        record: crate::record::RecordDoc,
        now_ms: i64,
    ) -> Result<super::Step, crate::ModelError> {
        let editor = self.editor(now_ms);
        self.commit(record.id(), record, &editor)
    }

    /// The teams this device follows: its own first, then the pact's others.
    pub fn teams(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.identity.team.as_str())
            .chain(self.others.teams.iter().map(|(t, _)| t.as_str()))
    }

    /// Every row of every index followed, with its team: the pact's merged caseload on
    /// a coordinator's device, the team's caseload on a worker's.
    pub fn pact_entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        let own = self.identity.team.as_str();
        self.entries.values().map(move |e| (own, e)).chain(
            self.others
                .teams
                .iter()
                .filter_map(|(team, _)| Some((team.as_str(), self.others.rows.get(team)?)))
                .flat_map(|(team, rows)| rows.values().map(move |e| (team, e))),
        )
    }

    /// The team whose index lists `id` (the own team's index first).
    pub fn team_of(&self, id: &DocumentId) -> Option<&str> {
        if self.entries.contains_key(id) {
            return Some(self.identity.team.as_str());
        }
        self.others
            .teams
            .iter()
            .find(|(team, _)| {
                self.others
                    .rows
                    .get(team)
                    .is_some_and(|r| r.contains_key(id))
            })
            .map(|(team, _)| team.as_str())
    }

    /// Whether this device may change record `id`: only a record its own team's index
    /// lists (the relay lets every role write its own team only).
    pub fn can_edit(&self, id: &DocumentId) -> bool {
        self.team_of(id)
            .is_some_and(|team| self.identity.may_edit_team(team))
    }

    /// The team of record `id` when this device may only read it (another team's):
    /// the team of the index listing it, else the record's own. `None` when the device
    /// may change it, or when it is not here.
    pub fn read_only_team(&self, id: &DocumentId) -> Option<String> {
        self.read_only_of(id, || match self.record(id) {
            super::Loadable::Ready(record) => record.team(),
            _ => None,
        })
    }

    /// [`Repo::read_only_team`] with the record's own team given by `record_team`.
    pub(super) fn read_only_of(
        &self,
        id: &DocumentId,
        record_team: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        let team = match self.team_of(id) {
            Some(team) => team.to_string(),
            None => record_team()?,
        };
        (!self.identity.may_edit_team(&team)).then_some(team)
    }

    /// The indices known and the records fetched, for a progress line.
    pub fn pact_progress(&self) -> PactProgress {
        let (teams, indices_known) = self.replica.indices_known();
        let mut records_listed = 0;
        let mut records_here = 0;
        for (_, entry) in self.pact_entries() {
            records_listed += 1;
            if self
                .replica
                .heads(&entry.id)
                .is_some_and(|heads| !heads.is_empty())
            {
                records_here += 1;
            }
        }
        PactProgress {
            teams,
            indices_known,
            records_listed,
            records_here,
        }
    }

    /// Re-reads another team's shared index when it changed, and forgets the records
    /// of that team it no longer shares (consent withdrawn, or handed to another team);
    /// `false` when `id` is no other team's index.
    pub(super) fn reread_other_index(&mut self, id: &DocumentId, step: &mut super::Step) -> bool {
        let Some(team) = self.others.team_of_index(id).map(str::to_string) else {
            return false;
        };
        let rows = self.others.rows.entry(team.clone()).or_default();
        let heads = self.others.read_at.entry(team).or_default();
        let refreshed = match self.replica.doc(id) {
            Some(doc) => CaseloadDoc::refresh_rows(doc, rows, heads),
            None => Err(crate::ModelError::Corrupt("no index".into())),
        };
        let unshared = match (&refreshed, self.replica.doc(id)) {
            (Ok(Refreshed::All), Some(doc)) => CaseloadDoc::unshared_of(doc),
            (Ok(Refreshed::Rows(ids)), Some(doc)) => ids
                .iter()
                .filter(|row| CaseloadDoc::row_kind(doc, row).as_deref() == Some(UNSHARED))
                .copied()
                .collect(),
            _ => Vec::new(),
        };
        match refreshed {
            Ok(Refreshed::Nothing) => {}
            Ok(_) => self.entries_version += 1,
            Err(_) => {
                rows.clear();
                *heads = None;
                self.entries_version += 1;
            }
        }
        // Held here, and listed by no index this device follows (a record handed to
        // this device's own team, or to a third team that shares it, stays).
        let gone: Vec<DocumentId> = unshared
            .into_iter()
            .filter(|r| self.replica.heads(r).is_some() && self.team_of(r).is_none())
            .collect();
        step.extend(self.forget_unshared(gone));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Identity, Loadable, Loaded, Repo};
    use crate::contact::{Channel, ContactField, NewContact};
    use crate::testing::Relay;

    const NOW: i64 = 1_795_521_600_000;
    const PACT: [&str; 2] = ["kempen", "herentals"];

    fn identity(worker: &str, team: &str, role: &str) -> Identity {
        Identity::new(worker, team, "ws://127.0.0.1:8080/sync")
            .with_pact(role, PACT.map(String::from).to_vec())
    }

    fn contact(team: &str, name: &str) -> NewContact {
        NewContact {
            team: team.into(),
            display_name: name.into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        }
    }

    /// A session until quiet; the progress seen after each message, in order.
    fn session(relay: &mut Relay, repo: &mut Repo) -> Vec<super::PactProgress> {
        let mut seen = Vec::new();
        let connect = repo.connect();
        relay.exchange(vec![connect], |reply| {
            let step = repo.receive(reply, NOW).expect("takes the relay's message");
            seen.push(repo.pact_progress());
            step.send
        });
        assert!(repo.is_up_to_date(), "{:?}", repo.progress());
        seen
    }

    /// Gives (`true`) or withdraws the consent to share a contact with the pact.
    fn share(repo: &mut Repo, id: crate::DocumentId, pact: bool) {
        let on = "2026-11-21".parse().expect("day");
        repo.edit_contact(id, NOW, |c, ed| {
            if pact {
                c.give_consent(ed, on, crate::contact::ConsentScope::Pact)
            } else {
                c.withdraw_consent(ed, on)
            }
        })
        .expect("consent");
    }

    fn worker_with(relay: &mut Relay, team: &str, names: &[&str]) -> Vec<crate::DocumentId> {
        let (mut repo, _) = Repo::new(identity("W", team, "worker"), Loaded::default(), vec![]);
        let ids = names
            .iter()
            .map(|n| {
                let id = repo
                    .create_contact(contact(team, n), NOW)
                    .expect("created")
                    .0;
                share(&mut repo, id, true);
                id
            })
            .collect();
        session(relay, &mut repo);
        ids
    }

    #[test]
    fn a_coordinators_device_fetches_every_teams_index_then_the_records() {
        let mut relay = Relay::default();
        let kempen = worker_with(&mut relay, "kempen", &["Lotte", "Bram", "Mila"]);
        let herentals = worker_with(&mut relay, "herentals", &["Jef", "Noor"]);

        let (mut kim, _) = Repo::new(
            identity("Kim", "herentals", "coordinator"),
            Loaded::default(),
            vec![],
        );
        assert_eq!(kim.teams().collect::<Vec<_>>(), ["herentals", "kempen"]);
        let before = kim.pact_progress();
        assert_eq!(
            (before.teams, before.indices_known),
            (2, 1),
            "own genesis only"
        );
        let seen = session(&mut relay, &mut kim);
        let last = *seen.last().expect("messages came");
        assert_eq!(
            (
                last.teams,
                last.indices_known,
                last.records_listed,
                last.records_here
            ),
            (2, 2, 5, 5)
        );
        // Indices first, then records: a moment with both indices and not all records.
        assert!(
            seen.iter()
                .any(|p| p.indices_known == 2 && p.records_here < p.records_listed),
            "{seen:?}"
        );
        for (ids, team) in [(&kempen, "kempen"), (&herentals, "herentals")] {
            for id in ids {
                assert_eq!(kim.team_of(id), Some(team));
                assert!(matches!(kim.contact(id), Loadable::Ready(_)));
                assert_eq!(kim.can_edit(id), team == "herentals", "own team only");
            }
        }
        let all = kim.pact_entries().map(|(_, e)| e.id).collect();
        let mut rows: Vec<(String, String)> = kim
            .pact_rows(&all)
            .into_values()
            .map(|(_, name, team)| (team, name))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [
                ("herentals".to_string(), "Jef".to_string()),
                ("herentals".to_string(), "Noor".to_string()),
                ("kempen".to_string(), "Bram".to_string()),
                ("kempen".to_string(), "Lotte".to_string()),
                ("kempen".to_string(), "Mila".to_string()),
            ]
        );
        assert_eq!(kim.entries().count(), 2, "the own list is the own team's");
    }

    #[test]
    fn another_teams_contact_reaches_a_coordinator_only_while_shared_and_leaves_on_withdrawal() {
        let mut relay = Relay::default();
        let (mut anna, _) = Repo::new(
            identity("Anna", "kempen", "worker"),
            Loaded::default(),
            vec![],
        );
        let lotte = anna
            .create_contact(contact("kempen", "Lotte"), NOW)
            .expect("created")
            .0;
        let bram = anna
            .create_contact(contact("kempen", "Bram"), NOW)
            .expect("created")
            .0;
        share(&mut anna, lotte, true);
        session(&mut relay, &mut anna);
        let (mut kim, _) = Repo::new(
            identity("Kim", "herentals", "coordinator"),
            Loaded::default(),
            vec![],
        );
        session(&mut relay, &mut kim);
        assert!(matches!(kim.contact(&lotte), Loadable::Ready(_)));
        assert!(
            matches!(kim.contact(&bram), Loadable::NotHere),
            "the team's only"
        );
        assert_eq!(kim.team_of(&bram), None, "not even listed");
        assert_eq!(kim.pact_entries().count(), 1);

        share(&mut anna, lotte, false);
        session(&mut relay, &mut anna);
        let mut erased = Vec::new();
        relay.exchange(vec![kim.connect()], |reply| {
            let step = kim.receive(reply, NOW).expect("takes the relay's message");
            erased.extend(step.batch.erase.iter().copied());
            step.send
        });
        assert_eq!(erased, [lotte], "deleted from the device's store");
        assert!(kim.replica.heads(&lotte).is_none());
        assert!(matches!(kim.contact(&lotte), Loadable::NotHere));
        assert_eq!(kim.pact_entries().count(), 0);
        assert!(
            kim.pact_records().contacts.is_empty(),
            "nothing read of it stays for the figures"
        );
        // The team's own worker keeps it, consent or not.
        assert!(matches!(anna.contact(&lotte), Loadable::Ready(_)));
        // Given again: it comes back.
        share(&mut anna, lotte, true);
        session(&mut relay, &mut anna);
        session(&mut relay, &mut kim);
        assert!(matches!(kim.contact(&lotte), Loadable::Ready(_)));
    }

    #[test]
    fn the_pact_records_hold_every_teams_contacts_and_follow_a_change() {
        let mut relay = Relay::default();
        worker_with(&mut relay, "kempen", &["Lotte", "Bram"]);
        let (mut wim, _) = Repo::new(
            identity("Wim", "herentals", "worker"),
            Loaded::default(),
            vec![],
        );
        let (jef, _) = wim
            .create_contact(contact("herentals", "Jef"), NOW)
            .expect("created");
        session(&mut relay, &mut wim);
        let (mut kim, _) = Repo::new(
            identity("Kim", "herentals", "coordinator"),
            Loaded::default(),
            vec![],
        );
        session(&mut relay, &mut kim);
        let names = |kim: &Repo| -> Vec<(String, String)> {
            let mut all: Vec<_> = kim
                .pact_records()
                .contacts
                .into_iter()
                .map(|c| (c.display_name, c.status.as_str().to_string()))
                .collect();
            all.sort();
            all
        };
        let pair = |n: &str, s: &str| (n.to_string(), s.to_string());
        assert_eq!(
            names(&kim),
            [
                pair("Bram", "new"),
                pair("Jef", "new"),
                pair("Lotte", "new")
            ]
        );
        wim.edit_contact(jef, NOW + 1, |doc, ed| {
            doc.change_status(ed, crate::contact::Status::Engaged, None)
        })
        .expect("status");
        session(&mut relay, &mut wim);
        session(&mut relay, &mut kim);
        assert_eq!(
            names(&kim),
            [
                pair("Bram", "new"),
                pair("Jef", "engaged"),
                pair("Lotte", "new")
            ],
            "read again at its new heads"
        );
        assert!(kim.pact_records().employers.is_empty());
    }

    #[test]
    fn a_coordinators_device_restarted_from_its_store_lists_every_team_again() {
        let mut relay = Relay::default();
        worker_with(&mut relay, "kempen", &["Lotte", "Bram"]);
        worker_with(&mut relay, "herentals", &["Jef"]);
        let kim = || identity("Kim", "herentals", "coordinator");
        let (mut first, _) = Repo::new(kim(), Loaded::default(), vec![]);
        session(&mut relay, &mut first);
        // The store gives the own index loaded and everything else kept as bytes.
        let mut loaded = Loaded::default();
        for id in first.replica.doc_ids() {
            let doc = first.replica.doc(id).expect("held");
            if *id == first.index_id {
                loaded.docs.push(super::super::StoredDoc {
                    id: *id,
                    doc: doc.clone(),
                    chunks: 1,
                    next_seq: 1,
                    partly_damaged: false,
                });
            } else {
                loaded.kept.push(super::super::KeptDoc {
                    id: *id,
                    bytes: doc.clone().save(),
                    heads: doc.get_heads(),
                    chunks: 1,
                    next_seq: 1,
                });
            }
        }
        let (again, _) = Repo::new(kim(), loaded, vec![]);
        assert_eq!(again.pact_progress(), first.pact_progress());
        assert_eq!(again.pact_entries().count(), 3);
    }

    /// Kempen's team index, as a device kept it from before.
    fn kempens_index_kept() -> (crate::caseload::CaseloadDoc, Loaded) {
        let old = crate::caseload::CaseloadDoc::new("kempen").expect("index");
        let loaded = Loaded {
            kept: vec![super::super::KeptDoc {
                id: old.id(),
                bytes: old.save(),
                heads: old.doc().get_heads(),
                chunks: 1,
                next_seq: 1,
            }],
            ..Loaded::default()
        };
        (old, loaded)
    }

    #[test]
    fn a_coordinators_device_deletes_another_teams_index_kept_from_before() {
        let (old, loaded) = kempens_index_kept();
        let (kim, step) = Repo::new(identity("Kim", "herentals", "coordinator"), loaded, vec![]);
        assert_eq!(step.batch.erase, [old.id()]);
        assert!(kim.replica.heads(&old.id()).is_none());
    }

    #[test]
    fn an_own_caseload_workers_device_deletes_its_teams_index_kept_from_before() {
        let (old, loaded) = kempens_index_kept();
        let anna = identity("Anna", "kempen", "worker").with_own_caseload(true);
        let (anna, step) = Repo::new(anna, loaded, vec![]);
        assert!(step.batch.erase.contains(&old.id()), "it names everyone");
        assert!(anna.replica.heads(&old.id()).is_none());
        assert_eq!(
            anna.index_id(),
            crate::caseload::CaseloadDoc::worker_id_for("kempen", "Anna")
        );
    }

    #[test]
    fn a_workers_device_follows_only_its_own_team() {
        let mut relay = Relay::default();
        let kempen = worker_with(&mut relay, "kempen", &["Lotte"]);
        let herentals = worker_with(&mut relay, "herentals", &["Jef"]);
        let (mut anna, _) = Repo::new(
            identity("Anna", "kempen", "worker"),
            Loaded::default(),
            vec![],
        );
        session(&mut relay, &mut anna);
        let p = anna.pact_progress();
        assert_eq!(
            (p.teams, p.indices_known, p.records_listed, p.records_here),
            (1, 1, 1, 1)
        );
        assert!(anna.can_edit(&kempen[0]));
        assert_eq!(anna.team_of(&herentals[0]), None);
        assert!(matches!(anna.contact(&herentals[0]), Loadable::NotHere));
        assert!(!anna.can_edit(&herentals[0]));
    }

    #[test]
    fn a_coordinators_edit_of_another_teams_record_is_refused_and_nothing_is_pending() {
        let mut relay = Relay::default();
        let kempen = worker_with(&mut relay, "kempen", &["Lotte"]);
        let herentals = worker_with(&mut relay, "herentals", &["Jef"]);
        let (mut kim, _) = Repo::new(
            identity("Kim", "herentals", "coordinator"),
            Loaded::default(),
            vec![],
        );
        session(&mut relay, &mut kim);
        assert_eq!(kim.pending_count(), 0);
        let heads = kim.replica.heads(&kempen[0]);
        let revision = kim.revision();
        let refused = kim.edit_contact(kempen[0], NOW, |c, ed| {
            c.set_field(ed, ContactField::Municipality, Some("Geel"))
        });
        assert!(
            matches!(&refused, Err(crate::ModelError::ReadOnly { team }) if team == "kempen"),
            "{refused:?}"
        );
        assert_eq!(kim.pending_count(), 0, "nothing left to send");
        assert!(!kim.is_pending(&kempen[0]));
        assert_eq!(
            kim.replica.heads(&kempen[0]),
            heads,
            "the record is unchanged"
        );
        assert_eq!(kim.revision(), revision);
        assert!(
            kim.entry(&kempen[0]).is_none(),
            "not listed in its own index"
        );
        assert_eq!(kim.team_of(&kempen[0]), Some("kempen"));
        assert_eq!(kim.read_only_team(&kempen[0]).as_deref(), Some("kempen"));
        assert_eq!(kim.read_only_team(&herentals[0]), None);

        // The own team's record: edited as ever, pending until the relay has it.
        kim.edit_contact(herentals[0], NOW, |c, ed| {
            c.set_field(ed, ContactField::Municipality, Some("Herentals"))
        })
        .expect("own team's record");
        assert!(kim.is_pending(&herentals[0]));
        session(&mut relay, &mut kim);
        assert_eq!(kim.pending_count(), 0, "the relay took it");
    }

    #[test]
    fn a_coordinator_cannot_adopt_a_copy_of_another_teams_record() {
        let mut relay = Relay::default();
        let kempen = worker_with(&mut relay, "kempen", &["Lotte"]);
        let (mut kim, _) = Repo::new(
            identity("Kim", "herentals", "coordinator"),
            Loaded::default(),
            vec![],
        );
        session(&mut relay, &mut kim);
        let Loadable::Ready(copy) = kim.record(&kempen[0]) else {
            panic!("the other team's record is on the coordinator's device");
        };
        let heads = kim.replica.heads(&kempen[0]);
        let refused = kim.adopt(copy, NOW);
        assert!(
            matches!(&refused, Err(crate::ModelError::ReadOnly { team }) if team == "kempen"),
            "{refused:?}"
        );
        assert_eq!(kim.pending_count(), 0, "nothing left to send");
        assert_eq!(kim.replica.heads(&kempen[0]), heads);
    }
}
