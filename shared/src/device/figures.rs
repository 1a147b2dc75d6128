//! The pact's records read for the coordinator's figures and table: every contact and
//! employer of every team this device follows, read without the notes' texts
//! (`read_contact_for_figures`), each kept with the heads it was read at, so a redraw
//! after one change reads one record again, not the pact.

use super::Repo;
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
}
