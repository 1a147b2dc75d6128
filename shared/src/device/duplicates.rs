//! Likely duplicates among this team's contacts on the device, and merging one into
//! another (issue 15; the rules are `contact::duplicates` and `contact::merge`). What
//! the finder reads of each contact is kept per heads, like the search text, so a
//! keystroke in the new-contact form reads no record again.

use std::cell::RefCell;

use automerge::ROOT;

use super::read::ReadAt;
use super::{Repo, Role, Step};
use crate::DocumentId;
use crate::contact::duplicates::{Candidate, Caseload, Person};
use crate::contact::merge::{Merge, MergedFrom, merged_from};
use crate::error::ModelError;
use crate::record::{Kind, i64_at, opt_str_at, str_at};

/// What the finder keeps: each contact's fields per heads, and the caseload prepared
/// at the last revision (typing in the new-contact form changes nothing else, so each
/// keystroke is one pass over the prepared caseload).
#[derive(Default)]
pub(super) struct People {
    read: ReadAt<Person>,
    caseload: RefCell<Option<(u64, Caseload)>>,
}

impl People {
    pub(super) fn forget(&self, id: &DocumentId) {
        self.read.forget(id);
        self.caseload.borrow_mut().take();
    }
}

impl Repo {
    /// The likely duplicates of `probe` among this team's contacts on the device
    /// (`probe.id`, when set, left out), best first, at most `limit`.
    pub fn duplicates(&self, probe: &Person, limit: usize) -> Vec<Candidate> {
        let mut kept = self.people.caseload.borrow_mut();
        if kept.as_ref().is_none_or(|(at, _)| *at != self.revision) {
            *kept = Some((self.revision, Caseload::new(&self.people())));
        }
        kept.as_ref()
            .map(|(_, caseload)| caseload.find(probe, limit))
            .unwrap_or_default()
    }

    /// The likely duplicates of a contact on the device.
    pub fn duplicates_of(&self, id: &DocumentId, limit: usize) -> Vec<Candidate> {
        match self.person(id) {
            Some(probe) => self.duplicates(&probe, limit),
            None => Vec::new(),
        }
    }

    /// Whether this device may merge contacts: a merge ends in erasing the other
    /// contact, which the relay allows coordinators and admins only (`POST /erase`).
    pub fn may_merge(&self) -> bool {
        self.identity.role != Role::Worker
    }

    /// Merges contact `from` (B) into `into` (A): one change to A, written and sent as
    /// any edit. B is left as it is; the caller erases it next (`POST /erase`), once
    /// this step is on disk. Refused if either is not this team's contact here.
    pub fn merge_contacts(
        &mut self,
        into: DocumentId,
        from: DocumentId,
        now_ms: i64,
    ) -> Result<(Merge, Step), ModelError> {
        if !self.entries.contains_key(&from) {
            return Err(ModelError::NotFound {
                what: "record",
                id: from.to_string(),
            });
        }
        if let Some(team) = self.read_only_team(&from) {
            return Err(ModelError::ReadOnly { team });
        }
        let other = match self.contact(&from) {
            super::Loadable::Ready(c) => c,
            super::Loadable::Damaged(reason) => return Err(ModelError::Corrupt(reason)),
            super::Loadable::NotHere => {
                return Err(ModelError::NotFound {
                    what: "record",
                    id: from.to_string(),
                });
            }
        };
        self.edit_contact(into, now_ms, |a, ed| a.merge_from(ed, &other))
    }

    /// The contacts merged into contact `id`, from its merge entries.
    pub fn merged_into(&self, id: &DocumentId) -> Vec<MergedFrom> {
        self.replica.doc(id).map(merged_from).unwrap_or_default()
    }

    /// Every contact of this team's index that is on the device, as the finder reads it.
    fn people(&self) -> Vec<Person> {
        let mut ids: Vec<DocumentId> = self
            .entries
            .values()
            .filter(|e| e.summary.kind == Kind::Contact)
            .map(|e| e.id)
            .collect();
        ids.sort();
        ids.iter().filter_map(|id| self.person(id)).collect()
    }

    /// What the finder reads of contact `id`, kept per heads.
    fn person(&self, id: &DocumentId) -> Option<Person> {
        let heads = self.replica.heads(id)?;
        if let Some(p) = self.people.read.with(id, &heads, Person::clone) {
            return Some(p);
        }
        let doc = self.replica.doc(id)?;
        let person = Person {
            id: Some(*id),
            display_name: str_at(doc, &ROOT, "display_name")?,
            full_name: opt_str_at(doc, &ROOT, "full_name"),
            birth_year: i64_at(doc, &ROOT, "birth_year"),
            phone: opt_str_at(doc, &ROOT, "phone"),
            municipality: opt_str_at(doc, &ROOT, "municipality"),
        };
        self.people.read.put(*id, heads, person.clone());
        Some(person)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::duplicates::Reason;
    use crate::contact::{Channel, ContactField, NewContact};
    use crate::device::{Identity, Loaded};

    const NOW: i64 = 1_795_521_600_000;

    fn contact(name: &str) -> NewContact {
        NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        }
    }

    fn repo(role: Role) -> Repo {
        let mut me = Identity::new("Carla", "kempen", "ws://127.0.0.1:8080/sync");
        me.role = role;
        Repo::new(me, Loaded::default(), vec![]).0
    }

    #[test]
    fn an_edit_is_seen_by_the_next_search_and_a_merge_needs_a_coordinator() {
        let mut repo = repo(Role::Coordinator);
        let (a, _) = repo.create_contact(contact("Réka Szabó"), NOW).expect("a");
        let (b, _) = repo.create_contact(contact("Nickname"), NOW).expect("b");
        assert!(repo.duplicates_of(&a, 5).is_empty());
        // B's phone and full name written later: the prepared caseload is read again.
        repo.edit_contact(b, NOW + 1, |c, ed| {
            c.set_field(ed, ContactField::FullName, Some("szabo reka"))
        })
        .expect("named");
        let found = repo.duplicates_of(&a, 5);
        assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b]);
        assert!(repo.may_merge());
        assert!(!super::tests::repo(Role::Worker).may_merge());
        let (merge, step) = repo.merge_contacts(a, b, NOW + 2).expect("merged");
        assert!(!merge.already);
        assert!(!step.batch.chunks.is_empty(), "A's change is written");
        assert_eq!(repo.merged_into(&a).len(), 1);
        // Merging again (an erasure that failed, retried) writes nothing new.
        let (again, _) = repo.merge_contacts(a, b, NOW + 3).expect("again");
        assert!(again.already);
        assert_eq!(repo.merged_into(&a).len(), 1);
        // Another team's or an unknown record is not merged.
        let stranger = DocumentId::random();
        assert!(repo.merge_contacts(a, stranger, NOW + 3).is_err());
    }

    fn ready(repo: &Repo, id: &DocumentId) -> crate::contact::Contact {
        match repo.contact(id) {
            super::super::Loadable::Ready(c) => c,
            _ => panic!("contact {id} not readable"),
        }
    }

    #[test]
    fn identifying_a_contact_suggests_the_duplicates_of_what_is_typed_but_not_itself() {
        use crate::contact::Stage;
        let mut repo = repo(Role::Worker);
        let (a, _) = repo
            .create_contact_at(
                contact("Réka Szabó"),
                Stage::Pseudonymous,
                &[(ContactField::Phone, "+36 30 123 4567".into())],
                NOW,
            )
            .expect("a");
        let (b, _) = repo
            .create_contact_at(contact("Red cap"), Stage::Anonymous, &[], NOW)
            .expect("b");
        assert!(repo.duplicates_of(&b, 5).is_empty(), "nothing alike yet");
        let b_now = ready(&repo, &b);
        let found = |repo: &Repo, values: &[(ContactField, String)]| {
            repo.duplicates(&Person::after_step(&b_now, values), 5)
        };
        // The step to a first name: the phone as typed, another way of writing A's.
        let step = |name: &str, phone: &str| {
            vec![
                (ContactField::DisplayName, name.to_string()),
                (ContactField::Phone, phone.to_string()),
                (ContactField::Email, String::new()),
            ]
        };
        let by_phone = found(&repo, &step("Red cap", "06 30 123 4567"));
        assert_eq!(by_phone.len(), 1, "{by_phone:?}");
        assert_eq!(
            (by_phone[0].id, by_phone[0].reasons.clone()),
            (a, vec![Reason::SamePhone])
        );
        // The name typed over the nickname counts too; an empty name keeps the nickname,
        // which is B's own and never suggests B itself.
        let by_name = found(&repo, &step("Szabo Reka", ""));
        assert_eq!(by_name[0].reasons, vec![Reason::SameName]);
        assert!(found(&repo, &step("", "")).is_empty());
        assert!(found(&repo, &step("Red cap", "")).iter().all(|c| c.id != b));

        // The identify step: A identified with a birth year; B's full name and year as
        // typed, a year half typed counting as none.
        repo.edit_contact(a, NOW + 1, |c, ed| {
            c.give_consent(
                ed,
                "2026-11-20".parse().expect("day"),
                crate::contact::ConsentScope::Team,
            )?;
            c.move_to_stage(
                ed,
                Stage::Identified,
                &[
                    (ContactField::FullName, "Szabó Réka Anna".into()),
                    (ContactField::BirthYear, "2008".into()),
                ],
            )
        })
        .expect("a identified");
        let identify = |full: &str, year: &str| {
            vec![
                (ContactField::FullName, full.to_string()),
                (ContactField::BirthYear, year.to_string()),
            ]
        };
        let similar = found(&repo, &identify("Reka Anna Szabo", "20"));
        assert_eq!(similar[0].reasons, vec![Reason::SameName], "{similar:?}");
        let same_year = found(&repo, &identify("Reka Anna Szabo", "2008"));
        assert_eq!(
            same_year[0].reasons,
            vec![Reason::SameName, Reason::SameBirthYear]
        );
        // Another year counts against: a common name born another year is no match alone.
        assert!(found(&repo, &identify("Reka Anna Szabo", "1999")).is_empty());
        // A birth date typed brings its year, a date half typed none.
        let dated = |date: &str| {
            vec![
                (ContactField::FullName, "Reka Anna Szabo".to_string()),
                (ContactField::BirthDate, date.to_string()),
                (ContactField::BirthYear, String::new()),
            ]
        };
        assert_eq!(
            found(&repo, &dated("2008-05-14"))[0].reasons,
            vec![Reason::SameName, Reason::SameBirthYear]
        );
        assert!(found(&repo, &dated("1999-05-14")).is_empty());
        assert_eq!(
            found(&repo, &dated("2008-05"))[0].reasons,
            vec![Reason::SameName]
        );
    }
}
