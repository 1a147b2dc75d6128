//! The ESF+ view of one contact, counted the way the ESF+ common indicators are:
//! a participant once, at entry (its age, labour-market status, education and
//! gender then); results of the leavers "upon leaving" (4 weeks) and around six
//! months after leaving.

use super::{Frame, Groups, Row};
use crate::contact::{Contact, ParticipantResult, ResultEvent};
use crate::date::Day;

/// Age at entry, from the birth year alone: the age reached in the year of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeBand {
    Under18,
    From18To29,
    From30,
    Unknown,
}

impl AgeBand {
    pub const ALL: [AgeBand; 4] = [
        AgeBand::Under18,
        AgeBand::From18To29,
        AgeBand::From30,
        AgeBand::Unknown,
    ];

    pub fn at(birth_year: Option<i64>, day: Day) -> AgeBand {
        match birth_year.map(|y| i64::from(day.year()) - y) {
            None => AgeBand::Unknown,
            Some(age) if age < 18 => AgeBand::Under18,
            Some(age) if age <= 29 => AgeBand::From18To29,
            Some(_) => AgeBand::From30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under18 => "under_18",
            AgeBand::From18To29 => "18_29",
            AgeBand::From30 => "30_plus",
            AgeBand::Unknown => "unknown",
        }
    }
}

/// The window of "upon leaving": the leaving day and the 4 weeks after it.
const UPON_LEAVING_DAYS: i64 = 28;
/// The half-width of the window around the six-month mark.
const SIX_MONTH_WINDOW_DAYS: i64 = 28;

pub(super) fn contact(frame: &Frame, c: &Contact, groups: &mut Groups) {
    let Some(p) = &c.participant else {
        return;
    };
    let entry = &p.entry;
    if frame.contains(entry.entry_on) {
        let group = frame.contact_group(c, entry.entry_on);
        for row in [
            Row::Participants,
            Row::AgeAtEntry(AgeBand::at(c.birth_year, entry.entry_on)),
            Row::LabourStatusAtEntry(entry.labour_status),
            Row::EducationAtEntry(entry.education),
            Row::GenderAtEntry(entry.gender),
        ] {
            groups.add(group, row, c.id, 1);
        }
    }
    let Some(left) = p.left_on else {
        return;
    };
    if frame.contains(left) {
        let group = frame.contact_group(c, left);
        groups.add(group, Row::Leavers, c.id, 1);
        let until = left.plus_days(UPON_LEAVING_DAYS);
        for result in results_in(&p.results, Some(left), until) {
            groups.add(group, Row::UponLeaving(result), c.id, 1);
        }
    }
    if let Some(mark) = left.plus_months(6).filter(|m| frame.contains(*m)) {
        let group = frame.contact_group(c, mark);
        groups.add(group, Row::SixMonthCohort, c.id, 1);
        let from = mark.plus_days(-SIX_MONTH_WINDOW_DAYS);
        let until = mark.plus_days(SIX_MONTH_WINDOW_DAYS);
        for result in results_in(&p.results, from, until) {
            groups.add(group, Row::SixMonthsAfter(result), c.id, 1);
        }
    }
}

/// The results that count from events dated `from..=until` (oldest first): being in
/// education or training and a qualification whenever seen; of employed and
/// job-searching, which exclude each other, the later event.
pub(super) fn results_in(
    events: &[ResultEvent],
    from: Option<Day>,
    until: Option<Day>,
) -> Vec<ParticipantResult> {
    let (Some(from), Some(until)) = (from, until) else {
        return Vec::new();
    };
    let mut out: Vec<ParticipantResult> = Vec::new();
    let mut work: Option<ParticipantResult> = None;
    for e in events.iter().filter(|e| from <= e.on && e.on <= until) {
        match e.result {
            ParticipantResult::Employed | ParticipantResult::JobSearching => work = Some(e.result),
            other if !out.contains(&other) => out.push(other),
            _ => {}
        }
    }
    out.extend(work);
    out.sort();
    out
}
