//! "My day": the follow-ups a worker should see, from the index rows alone (no record
//! is read, so it stays instant at 10,000 records): overdue first (oldest first), then
//! today's, then the next seven days'.

use crate::caseload::Entry;
use crate::date::Day;
use crate::record::Kind;
use crate::{DocumentId, ModelError};

use super::{Repo, Step};

/// How many days ahead "coming up" looks.
pub const AHEAD_DAYS: i64 = 7;

/// When a follow-up is due, seen from today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    /// This many days late (at least 1).
    Overdue(i64),
    Today,
    /// In this many days (1 to [`AHEAD_DAYS`]).
    Soon(i64),
}

/// Whose follow-ups to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose<'a> {
    /// Records assigned to this worker, and follow-ups this worker wrote.
    Mine(&'a str),
    /// The whole team's.
    Team,
}

impl Whose<'_> {
    fn includes(&self, entry: &Entry) -> bool {
        match self {
            Whose::Team => true,
            Whose::Mine(worker) => {
                entry.summary.worker == *worker
                    || entry.summary.follow_up_by.as_deref() == Some(*worker)
            }
        }
    }
}

/// When `day` is due seen from `today`, if it falls in my day's window.
pub fn due(day: Day, today: Day) -> Option<Due> {
    let days = today.days_until(&day);
    match days {
        ..0 => Some(Due::Overdue(-days)),
        0 => Some(Due::Today),
        1..=AHEAD_DAYS => Some(Due::Soon(days)),
        _ => None,
    }
}

/// The rows of `entries` with a follow-up in my day's window, in the order a
/// worker works them: most overdue first, then today, then soonest; by name within a
/// day.
pub fn follow_ups<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    whose: Whose<'_>,
    today: Day,
) -> Vec<(Due, Entry)> {
    let mut rows: Vec<(Due, Entry)> = entries
        .filter(|e| whose.includes(e))
        .filter_map(|e| Some((due(e.summary.next_follow_up?, today)?, e.clone())))
        .collect();
    // By the day itself: the most overdue is the earliest day.
    rows.sort_by(|(_, x), (_, y)| {
        let key = |e: &Entry| (e.summary.next_follow_up, e.summary.name.clone(), e.id);
        key(x).cmp(&key(y))
    });
    rows
}

impl Repo {
    /// My day's follow-ups from the team's index (see [`follow_ups`]).
    pub fn follow_ups(&self, whose: Whose<'_>, today: Day) -> Vec<(Due, Entry)> {
        follow_ups(self.entries(), whose, today)
    }

    /// Marks done the follow-up my day shows for record `id` (its earliest open one: a
    /// contact's note, an employer's visit), like "mark done" on the record's page.
    pub fn finish_follow_up(&mut self, id: DocumentId, now_ms: i64) -> Result<Step, ModelError> {
        let not_open = || ModelError::NotFound {
            what: "follow-up",
            id: id.to_string(),
        };
        let kind = self.entry(&id).map(|e| e.summary.kind);
        let done = |items: Vec<(String, bool, Option<Day>, String)>| {
            let (day, by) = crate::summary::earliest_open(
                items.iter().map(|(_, d, f, b)| (*d, *f, b.as_str())),
            )?;
            items
                .iter()
                .filter(|(_, d, f, b)| !d && *f == Some(day) && *b == by)
                .map(|(item, ..)| item.clone())
                .min()
        };
        match kind {
            Some(Kind::Employer) => self
                .edit_employer(id, now_ms, |doc, editor| {
                    let items = doc
                        .read()?
                        .visits
                        .into_iter()
                        .map(|v| (v.id, v.done, v.follow_up, v.worker))
                        .collect();
                    let visit = done(items).ok_or_else(not_open)?;
                    doc.set_visit_done(editor, &visit, true)
                })
                .map(|((), step)| step),
            Some(Kind::Contact) => self
                .edit_contact(id, now_ms, |doc, editor| {
                    let items = doc
                        .read()?
                        .notes
                        .into_iter()
                        .map(|n| (n.id, n.done, n.follow_up, n.author))
                        .collect();
                    let note = done(items).ok_or_else(not_open)?;
                    doc.set_note_done(editor, &note, true)
                })
                .map(|((), step)| step),
            _ => Err(not_open()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocumentId;
    use crate::record::Kind;
    use crate::summary::Summary;

    fn day(d: &str) -> Day {
        d.parse().expect("day")
    }

    fn row(name: &str, worker: &str, follow_up: Option<(&str, &str)>) -> Entry {
        Entry {
            id: DocumentId::random(),
            summary: Summary {
                kind: Kind::Contact,
                name: name.into(),
                status: Some("engaged".into()),
                worker: worker.into(),
                next_follow_up: follow_up.map(|(d, _)| day(d)),
                follow_up_by: follow_up.map(|(_, by)| by.into()),
                updated_at: 0,
            },
            heads: vec![],
        }
    }

    #[test]
    fn overdue_first_then_today_then_the_coming_week() {
        let today = day("2026-12-02");
        let rows = [
            row("Soon", "Anna", Some(("2026-12-05", "Anna"))),
            row("Today", "Anna", Some(("2026-12-02", "Anna"))),
            row("Late", "Anna", Some(("2026-11-29", "Anna"))),
            row("Later", "Anna", Some(("2026-11-30", "Anna"))),
            row("Too far", "Anna", Some(("2026-12-10", "Anna"))),
            row("None", "Anna", None),
        ];
        let got: Vec<(Due, String)> = follow_ups(rows.iter(), Whose::Team, today)
            .into_iter()
            .map(|(d, e)| (d, e.summary.name))
            .collect();
        assert_eq!(
            got,
            [
                (Due::Overdue(3), "Late".to_string()),
                (Due::Overdue(2), "Later".into()),
                (Due::Today, "Today".into()),
                (Due::Soon(3), "Soon".into()),
            ]
        );
        assert_eq!(due(day("2026-12-09"), today), Some(Due::Soon(7)));
        assert_eq!(due(day("2026-12-10"), today), None);
    }

    #[test]
    fn mine_are_the_records_assigned_to_me_and_the_follow_ups_i_wrote() {
        let today = day("2026-12-02");
        let rows = [
            row("Assigned to me", "Anna", Some(("2026-12-02", "Bram"))),
            row("I wrote it", "Bram", Some(("2026-12-02", "Anna"))),
            row("A colleague's", "Bram", Some(("2026-12-02", "Bram"))),
        ];
        let names = |whose| -> Vec<String> {
            follow_ups(rows.iter(), whose, today)
                .into_iter()
                .map(|(_, e)| e.summary.name)
                .collect()
        };
        assert_eq!(names(Whose::Mine("Anna")), ["Assigned to me", "I wrote it"]);
        assert_eq!(names(Whose::Team).len(), 3);
        assert_eq!(
            names(Whose::Mine("Bram")),
            ["A colleague's", "Assigned to me", "I wrote it"],
            "Bram's own two, and the one Bram wrote on Anna's record"
        );
    }
}
