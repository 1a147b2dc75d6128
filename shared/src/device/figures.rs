//! The pact's records read for the coordinator's figures and table: every contact and
//! employer of every team this device follows, read without the notes' texts
//! (`read_contact_for_figures`), each kept with the heads it was read at, so a redraw
//! after one change reads one record again, not the pact.

use std::collections::{HashMap, HashSet};

use super::Repo;
use crate::DocumentId;
use crate::caseload::Summary;
use crate::contact::{Contact, ContactDoc, read_contact_for_figures};
use crate::employer::Employer;
use crate::record::Kind;

/// The records of the pact on this device, as plain values.
#[derive(Clone, Debug, Default)]
pub struct PactRecords {
    pub contacts: Vec<Contact>,
    pub employers: Vec<Employer>,
}

impl Repo {
    /// Every contact and employer the followed indices list and this device holds
    /// (a record still on its way is left out; `pact_progress` says how many). Sorted
    /// by id, so two reads of the same records compare equal.
    pub fn pact_records(&self) -> PactRecords {
        let mut out = PactRecords::default();
        for (_, entry) in self.pact_entries() {
            let id = entry.id;
            let Some(heads) = self.replica.heads(&id).filter(|h| !h.is_empty()) else {
                continue;
            };
            match entry.summary.kind {
                Kind::Contact => {
                    if let Some(c) = self.figure_contacts.with(&id, &heads, Contact::clone) {
                        out.contacts.push(c);
                    } else if let super::Loadable::Ready(c) = self.read(&id, |r| {
                        read_contact_for_figures(ContactDoc::from_record(r)?.record())
                    }) {
                        self.figure_contacts.put(id, heads, c.clone());
                        out.contacts.push(c);
                    }
                }
                Kind::Employer => {
                    if let Some(e) = self.figure_employers.with(&id, &heads, Employer::clone) {
                        out.employers.push(e);
                    } else if let super::Loadable::Ready(e) = self.employer(&id) {
                        self.figure_employers.put(id, heads, e.clone());
                        out.employers.push(e);
                    }
                }
                Kind::Caseload => {}
            }
        }
        out.contacts.sort_by_key(|c| c.id);
        out.employers.sort_by_key(|e| e.id);
        out
    }

    /// The kind, name and team of each of `ids` the followed indices list, for a
    /// drill-down. Another team's shared index carries no name (`caseload/shared.rs`):
    /// it is read from the record, which is on this device only while it is shared.
    pub fn pact_rows(
        &self,
        ids: &HashSet<DocumentId>,
    ) -> HashMap<DocumentId, (Kind, String, String)> {
        self.pact_entries()
            .filter(|(_, e)| ids.contains(&e.id))
            .filter_map(|(team, e)| {
                let name = if e.summary.name.is_empty() {
                    match self.read(&e.id, |r| Summary::of(&r)) {
                        super::Loadable::Ready(s) => s.name,
                        _ => return None,
                    }
                } else {
                    e.summary.name.clone()
                };
                Some((e.id, (e.summary.kind, name, team.to_string())))
            })
            .collect()
    }
}
