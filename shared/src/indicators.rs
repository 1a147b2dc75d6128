//! The pact's figures for coordinators and funders, computed from plain records
//! (read with `read_contact` / `read_employer`): per period and per team or
//! municipality, each figure with the record ids behind it (drill-down).
//!
//! Every row says what it counts ([`Basis`]): **entrants** (records that entered a
//! state in the period, each counted once however often), the **standing** caseload
//! (as at the last day of the period), **activity** (dated events in the period) or a
//! **cohort** (participants who left in the period). Period boundary: see `period`.
//!
//! Per team, an event counts for the team that held the contact on that day (its
//! `team_moves`; a move counts from the day it was made). Employers have no moves and
//! count for their team now. Per municipality, the record's municipality now.

pub mod chart;
mod esf;
mod export;
mod pathway;
mod period;
mod reach;
pub mod table;

use std::collections::BTreeMap;

use crate::contact::{
    Contact, Education, Gender, LabourStatus, Outcome, ParticipantResult, Stage, Status,
};
use crate::date::Day;
use crate::employer::Employer;
use crate::error::ModelError;
use crate::id::DocumentId;

pub use esf::AgeBand;
pub use export::{Csv, Label, Lines, indicators_csv, indicators_lines, table_csv, table_lines};
pub use period::{Period, Zone};

/// How records are split into groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// One group for the whole pact (key "").
    Pact,
    Team,
    /// Key "" for records without a municipality.
    Municipality,
}

/// What to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    pub period: Period,
    pub zone: Zone,
    pub group_by: GroupBy,
    /// The pact's goal for the share of committed employers, in percent (Kempen: 50).
    pub inclusive_goal_percent: u32,
}

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Basis {
    /// Records that entered in the period, each once.
    Entrants,
    /// The caseload as it stood on the period's last day.
    Standing,
    /// Events dated in the period (visits, openings, referrals).
    Activity,
    /// Participants whose leaving (or the six-month mark after it) falls in the period.
    Cohort,
}

/// One line of the indicator table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// New contacts: the first-contact day in the period.
    Reached,
    /// Of the contacts reached in the period, those at this stage of identification now
    /// (anonymous, pseudonymous, identified; a record keeps no history of its stage).
    ReachedAt(Stage),
    /// Contacts whose status changed to this one in the period.
    Entered(Status),
    /// Contacts closed in the period, by the reason of their last closing in it.
    ClosedFor(String),
    /// Contacts in this status on the period's last day (reached by then).
    Standing(Status),
    /// Employers with a visit dated in the period.
    EmployersVisited,
    /// Visits dated in the period (records: the employers).
    Visits,
    /// Openings noted at visits dated in the period (the sum of their counts).
    Openings,
    /// Referrals dated in the period (records: the contacts).
    Referrals,
    /// Referrals dated in the period by their outcome now.
    ReferralOutcome(Outcome),
    /// Employers on record on the period's last day.
    Employers,
    /// Of those, committed to inclusive hiring or purchasing by then.
    InclusiveEmployers,
    /// ESF+: participants who entered in the period.
    Participants,
    AgeAtEntry(AgeBand),
    LabourStatusAtEntry(LabourStatus),
    EducationAtEntry(Education),
    GenderAtEntry(Gender),
    /// ESF+: participants who left in the period.
    Leavers,
    /// Of the leavers, the result within 4 weeks of leaving.
    UponLeaving(ParticipantResult),
    /// Participants whose six-month mark after leaving falls in the period.
    SixMonthCohort,
    /// Of those, the result around the six-month mark (4 weeks either side).
    SixMonthsAfter(ParticipantResult),
}

impl Row {
    pub fn basis(&self) -> Basis {
        match self {
            Row::Reached
            | Row::ReachedAt(_)
            | Row::Entered(_)
            | Row::ClosedFor(_)
            | Row::Participants
            | Row::AgeAtEntry(_)
            | Row::LabourStatusAtEntry(_)
            | Row::EducationAtEntry(_)
            | Row::GenderAtEntry(_) => Basis::Entrants,
            Row::Standing(_) | Row::Employers | Row::InclusiveEmployers => Basis::Standing,
            Row::EmployersVisited
            | Row::Visits
            | Row::Openings
            | Row::Referrals
            | Row::ReferralOutcome(_) => Basis::Activity,
            Row::Leavers | Row::UponLeaving(_) | Row::SixMonthCohort | Row::SixMonthsAfter(_) => {
                Basis::Cohort
            }
        }
    }
}

/// A number and the records behind it (sorted, each once). For most rows the
/// number is how many records; for visits, openings and referrals it is how many
/// of those, while the records are the employers or contacts they belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figure {
    pub count: u64,
    pub records: Vec<DocumentId>,
}

impl Figure {
    /// Adds `amount` on behalf of record `id`. A record's additions mostly come one
    /// after another, so checking the last id keeps the list short; `compute_all`
    /// sorts and dedups at the end.
    fn add(&mut self, id: DocumentId, amount: u64) {
        if self.records.last() != Some(&id) {
            self.records.push(id);
        }
        self.count += amount;
    }
}

/// The figures of one group, row by row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Indicators {
    rows: BTreeMap<RowKey, (Row, Figure)>,
}

/// Orders rows as the table shows them: the `order` a row is declared in, then its detail.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey(u16, String);

impl Indicators {
    /// The figure of a row; an empty one when nothing counted.
    pub fn get(&self, row: &Row) -> Figure {
        self.rows
            .get(&key(row))
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    }

    /// Every row that has a figure, in table order (pathway, employers, ESF+).
    pub fn rows(&self) -> impl Iterator<Item = (&Row, &Figure)> {
        self.rows.values().map(|(r, f)| (r, f))
    }

    fn add(&mut self, row: Row, id: DocumentId, amount: u64) {
        self.rows
            .entry(key(&row))
            .or_insert_with(|| (row, Figure::default()))
            .1
            .add(id, amount);
    }
}

fn key(row: &Row) -> RowKey {
    let pos = |all: &[&str], s: &str| all.iter().position(|a| *a == s).unwrap_or(0) as u16;
    let status = |s: &Status| pos(&Status::ALL.map(Status::as_str), s.as_str());
    match row {
        Row::Reached => RowKey(0, String::new()),
        Row::ReachedAt(s) => RowKey(
            1 + pos(&Stage::ALL.map(Stage::as_str), s.as_str()),
            String::new(),
        ),
        Row::Entered(s) => RowKey(10 + status(s), String::new()),
        Row::ClosedFor(reason) => RowKey(20, reason.clone()),
        Row::Standing(s) => RowKey(30 + status(s), String::new()),
        Row::EmployersVisited => RowKey(40, String::new()),
        Row::Visits => RowKey(41, String::new()),
        Row::Openings => RowKey(42, String::new()),
        Row::Referrals => RowKey(43, String::new()),
        Row::ReferralOutcome(o) => RowKey(
            44 + pos(&Outcome::ALL.map(Outcome::as_str), o.as_str()),
            String::new(),
        ),
        Row::Employers => RowKey(50, String::new()),
        Row::InclusiveEmployers => RowKey(51, String::new()),
        Row::Participants => RowKey(60, String::new()),
        Row::AgeAtEntry(a) => RowKey(61 + *a as u16, String::new()),
        Row::LabourStatusAtEntry(l) => RowKey(
            70 + pos(&LabourStatus::ALL.map(LabourStatus::as_str), l.as_str()),
            String::new(),
        ),
        Row::EducationAtEntry(e) => RowKey(
            75 + pos(&Education::ALL.map(Education::as_str), e.as_str()),
            String::new(),
        ),
        Row::GenderAtEntry(g) => RowKey(
            80 + pos(&Gender::ALL.map(Gender::as_str), g.as_str()),
            String::new(),
        ),
        Row::Leavers => RowKey(90, String::new()),
        Row::UponLeaving(r) => RowKey(
            91 + pos(
                &ParticipantResult::ALL.map(ParticipantResult::as_str),
                r.as_str(),
            ),
            String::new(),
        ),
        Row::SixMonthCohort => RowKey(100, String::new()),
        Row::SixMonthsAfter(r) => RowKey(
            101 + pos(
                &ParticipantResult::ALL.map(ParticipantResult::as_str),
                r.as_str(),
            ),
            String::new(),
        ),
    }
}

/// The figures of a period, per group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub query: Query,
    /// The first day in and the first day after the period.
    pub start: Day,
    pub end: Day,
    pub groups: BTreeMap<String, Indicators>,
}

impl Report {
    /// The share of committed employers in a group, in tenths of a percent, and
    /// whether it reaches the goal; `None` without employers.
    pub fn inclusive_share(&self, group: &str) -> Option<(u64, bool)> {
        let g = self.groups.get(group)?;
        let all = g.get(&Row::Employers).count;
        let committed = g.get(&Row::InclusiveEmployers).count;
        (all > 0).then(|| {
            let per_mille = committed * 1000 / all;
            (
                per_mille,
                committed * 100 >= all * u64::from(self.query.inclusive_goal_percent),
            )
        })
    }
}

/// The period's bounds and the day of an instant in the pact's zone.
struct Frame {
    start: Day,
    end: Day,
    zone: Zone,
    group_by: GroupBy,
}

impl Frame {
    fn contains(&self, day: Day) -> bool {
        self.start <= day && day < self.end
    }

    fn day_of(&self, at_ms: i64) -> Option<Day> {
        self.zone.day_of(at_ms)
    }

    /// The last day of the period (the standing caseload's day).
    fn last_day(&self) -> Day {
        self.end.plus_days(-1).unwrap_or(self.start)
    }

    /// The group a contact's event on `day` counts for.
    fn contact_group<'c>(&self, c: &'c Contact, day: Day) -> &'c str {
        match self.group_by {
            GroupBy::Pact => "",
            GroupBy::Municipality => c.municipality.as_deref().unwrap_or_default(),
            GroupBy::Team => {
                let mut team = c.team_moves.first().map_or(&c.team, |m| &m.from);
                for m in &c.team_moves {
                    if self.day_of(m.at_ms).is_some_and(|moved| moved <= day) {
                        team = &m.to;
                    }
                }
                team
            }
        }
    }

    fn employer_group<'e>(&self, e: &'e Employer) -> &'e str {
        match self.group_by {
            GroupBy::Pact => "",
            GroupBy::Municipality => e.municipality.as_deref().unwrap_or_default(),
            GroupBy::Team => &e.team,
        }
    }
}

/// Collects the rows of every group.
#[derive(Default)]
struct Groups(BTreeMap<String, Indicators>);

impl Groups {
    fn add(&mut self, group: &str, row: Row, id: DocumentId, amount: u64) {
        match self.0.get_mut(group) {
            Some(figures) => figures.add(row, id, amount),
            None => self
                .0
                .entry(group.to_string())
                .or_default()
                .add(row, id, amount),
        }
    }
}

/// Computes every indicator of the query's period over the given records. The
/// records are visited once each; the cost grows with their number.
pub fn compute(
    query: Query,
    contacts: &[Contact],
    employers: &[Employer],
) -> Result<Report, ModelError> {
    let mut reports = compute_all(&[query], contacts, employers)?;
    reports.pop().ok_or(ModelError::Corrupt("no report".into()))
}

/// Several queries in one pass over the records (a record's data is read from
/// memory once for all of them, which at 10,000 contacts is most of the cost).
pub fn compute_all(
    queries: &[Query],
    contacts: &[Contact],
    employers: &[Employer],
) -> Result<Vec<Report>, ModelError> {
    let frames = queries
        .iter()
        .map(|q| {
            let (start, end) = q.period.bounds()?;
            Ok(Frame {
                start,
                end,
                zone: q.zone,
                group_by: q.group_by,
            })
        })
        .collect::<Result<Vec<Frame>, ModelError>>()?;
    let mut groups: Vec<Groups> = frames.iter().map(|_| Groups::default()).collect();
    for c in contacts {
        for (frame, groups) in frames.iter().zip(&mut groups) {
            pathway::contact(frame, c, groups);
            esf::contact(frame, c, groups);
            reach::referrals(frame, c, groups);
        }
    }
    for e in employers {
        for (frame, groups) in frames.iter().zip(&mut groups) {
            reach::employer(frame, e, groups);
        }
    }
    Ok(queries
        .iter()
        .zip(frames)
        .zip(groups)
        .map(|((query, frame), mut groups)| {
            for figures in groups.0.values_mut() {
                for (_, figure) in figures.rows.values_mut() {
                    figure.records.sort_unstable();
                    figure.records.dedup();
                }
            }
            Report {
                query: *query,
                start: frame.start,
                end: frame.end,
                groups: groups.0,
            }
        })
        .collect())
}

/// What the coordinator's dashboard shows: the period per group, the period for the
/// whole pact, and the whole pact month by month (the trend).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dashboard {
    pub report: Report,
    pub whole: Report,
    pub trend: Vec<(Period, Indicators)>,
}

static NOTHING: Indicators = Indicators {
    rows: BTreeMap::new(),
};

impl Dashboard {
    /// The whole pact's figures for the period.
    pub fn pact(&self) -> &Indicators {
        self.whole.groups.get("").unwrap_or(&NOTHING)
    }
}

/// Computes the dashboard in one pass over the records.
pub fn dashboard(
    query: Query,
    contacts: &[Contact],
    employers: &[Employer],
) -> Result<Dashboard, ModelError> {
    let pact = Query {
        group_by: GroupBy::Pact,
        ..query
    };
    let months = query.period.months()?;
    let mut queries = vec![query, pact];
    queries.extend(months.iter().map(|&period| Query { period, ..pact }));
    let mut reports = compute_all(&queries, contacts, employers)?.into_iter();
    let (Some(report), Some(whole)) = (reports.next(), reports.next()) else {
        return Err(ModelError::Corrupt("no report".into()));
    };
    let trend = months
        .into_iter()
        .zip(reports)
        .map(|(month, mut r)| (month, r.groups.remove("").unwrap_or_default()))
        .collect();
    Ok(Dashboard {
        report,
        whole,
        trend,
    })
}

#[cfg(test)]
mod tests;
