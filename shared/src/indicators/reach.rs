//! The employer-side figures: visits, openings, the inclusive-hiring share, and the
//! referrals of young people to employers.

use super::{Frame, Groups, Row};
use crate::contact::Contact;
use crate::employer::Employer;

pub(super) fn employer(frame: &Frame, e: &Employer, groups: &mut Groups) {
    let group = frame.employer_group(e);
    let mut visits = 0;
    let mut openings: u64 = 0;
    for v in e
        .visits
        .iter()
        .filter(|v| v.date.is_some_and(|d| frame.contains(d)))
    {
        visits += 1;
        openings += v.openings.iter().map(|o| u64::from(o.count)).sum::<u64>();
    }
    if visits > 0 {
        groups.add(group, Row::EmployersVisited, e.id, 1);
        groups.add(group, Row::Visits, e.id, visits);
        if openings > 0 {
            groups.add(group, Row::Openings, e.id, openings);
        }
    }
    // Standing: on record by the last day (a record another client wrote without a
    // creation time always); committed by then (a commitment without a date counts
    // whenever it is seen).
    let last = frame.last_day();
    if frame.day_of(e.created_at).is_none_or(|d| d <= last) {
        groups.add(group, Row::Employers, e.id, 1);
        if e.commitment.is_committed() && e.commitment_since.is_none_or(|s| s <= last) {
            groups.add(group, Row::InclusiveEmployers, e.id, 1);
        }
    }
}

pub(super) fn referrals(frame: &Frame, c: &Contact, groups: &mut Groups) {
    for r in &c.referrals {
        let Some(day) = r.date.filter(|d| frame.contains(*d)) else {
            continue;
        };
        let group = frame.contact_group(c, day);
        groups.add(group, Row::Referrals, c.id, 1);
        groups.add(group, Row::ReferralOutcome(r.outcome), c.id, 1);
    }
}
