//! The employer-side figures: visits, openings, the inclusive-hiring share, and the
//! referrals of young people to employers.

use super::{Frame, Groups, Row};
use crate::contact::Contact;
use crate::employer::Employer;

pub(super) fn employers(frame: &Frame, employers: &[Employer], groups: &mut Groups) {
    let last = frame.last_day();
    for e in employers {
        let group = frame.employer_group(e);
        let visits: Vec<_> = e
            .visits
            .iter()
            .filter(|v| v.date.is_some_and(|d| frame.contains(d)))
            .collect();
        if !visits.is_empty() {
            groups.add(group.clone(), Row::EmployersVisited, e.id, 1);
            groups.add(group.clone(), Row::Visits, e.id, visits.len() as u64);
            let openings: u64 = visits
                .iter()
                .flat_map(|v| &v.openings)
                .map(|o| u64::from(o.count))
                .sum();
            if openings > 0 {
                groups.add(group.clone(), Row::Openings, e.id, openings);
            }
        }
        // Standing: on record by the last day (a record another client wrote without
        // a creation time always); committed by then (a commitment without a date
        // counts whenever it is seen).
        if frame.day_of(e.created_at).is_none_or(|d| d <= last) {
            groups.add(group.clone(), Row::Employers, e.id, 1);
            if e.commitment.is_committed() && e.commitment_since.is_none_or(|s| s <= last) {
                groups.add(group, Row::InclusiveEmployers, e.id, 1);
            }
        }
    }
}

pub(super) fn referrals(frame: &Frame, contacts: &[Contact], groups: &mut Groups) {
    for c in contacts {
        let mut dated: Vec<_> = c
            .referrals
            .iter()
            .filter_map(|r| Some((r.date.filter(|d| frame.contains(*d))?, r.outcome)))
            .map(|(day, outcome)| (frame.contact_group(c, day), outcome))
            .collect();
        // Together per group, so each figure gets the contact's additions in a row.
        dated.sort_by(|a, b| a.0.cmp(&b.0));
        for (group, outcome) in dated {
            groups.add(group.clone(), Row::Referrals, c.id, 1);
            groups.add(group, Row::ReferralOutcome(outcome), c.id, 1);
        }
    }
}
