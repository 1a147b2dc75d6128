//! What a list row needs to show about a record: the plain value the caseload index
//! stores per record. Each record kind makes its own (`contact::summary_of`,
//! `employer::Employer::summary`); `caseload` dispatches on the kind.

use crate::date::Day;
use crate::record::Kind;

/// The earliest open follow-up among a record's items (each: done, its follow-up day,
/// who wrote it) and who wrote it; on a tie the first by name, so every reader agrees.
pub fn earliest_open<'a>(
    items: impl IntoIterator<Item = (bool, Option<Day>, &'a str)>,
) -> Option<(Day, String)> {
    items
        .into_iter()
        .filter(|(done, _, _)| !done)
        .filter_map(|(_, day, by)| Some((day?, by)))
        .min()
        .map(|(day, by)| (day, by.to_string()))
}

/// What a list row needs to show about a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub kind: Kind,
    pub name: String,
    pub status: Option<String>,
    pub worker: String,
    pub next_follow_up: Option<Day>,
    /// Who wrote that follow-up (a note's author, a visit's worker): "my day" shows a
    /// worker the follow-ups of records assigned to them and those they wrote.
    pub follow_up_by: Option<String>,
    pub updated_at: i64,
}
