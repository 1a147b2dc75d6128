//! How the caseload list orders and counts its rows: by name (the caller's collation
//! order, kept), by pathway status (in the pathway's order, by name within one), or
//! by last change (newest first); and how many rows each status has.

use std::collections::BTreeMap;

use crate::caseload::Entry;
use crate::contact::Status;

/// The caseload's sort orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Name,
    Status,
    Changed,
}

impl SortBy {
    /// As it stands in the URL; anything else is by name.
    pub fn parse(s: &str) -> Self {
        match s {
            "status" => SortBy::Status,
            "changed" => SortBy::Changed,
            _ => SortBy::Name,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Name => "name",
            SortBy::Status => "status",
            SortBy::Changed => "changed",
        }
    }
}

/// Where a status stands on the pathway (an unknown one after the known ones).
fn pathway_rank(status: Option<&str>) -> usize {
    Status::ALL
        .iter()
        .position(|s| Some(s.as_str()) == status)
        .unwrap_or(Status::ALL.len())
}

/// Orders `rows`, given in name order, by `by`; stable, so rows that compare equal
/// stay in name order.
pub fn sort_rows(rows: &mut [&Entry], by: SortBy) {
    match by {
        SortBy::Name => {}
        SortBy::Status => rows.sort_by_key(|e| pathway_rank(e.summary.status.as_deref())),
        SortBy::Changed => rows.sort_by_key(|e| std::cmp::Reverse(e.summary.updated_at)),
    }
}

/// How many of `rows` have each status (by its stored word).
pub fn status_counts<'a>(rows: impl Iterator<Item = &'a Entry>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in rows {
        if let Some(status) = &e.summary.status {
            // A handful of statuses, thousands of rows: clone a key only once.
            match counts.get_mut(status) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(status.clone(), 1);
                }
            }
        }
    }
    counts
}

/// The workers a record can be assigned to: the team's members as the relay listed
/// them, or without a list (development mode) the workers the index names and this
/// device's worker; the present value `current` always (it may have left the team).
/// Sorted by code point and without repeats (the screen sorts for its language).
pub fn member_choices(
    members: Vec<String>,
    named: Vec<String>,
    me: String,
    current: &str,
) -> Vec<String> {
    let mut all = if members.is_empty() {
        let mut all = named;
        all.push(me);
        all
    } else {
        members
    };
    all.push(current.to_string());
    let mut all: Vec<String> = all
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocumentId;
    use crate::record::Kind;
    use crate::summary::Summary;

    fn row(name: &str, status: &str, updated_at: i64) -> Entry {
        Entry {
            id: DocumentId::random(),
            summary: Summary {
                kind: Kind::Contact,
                name: name.into(),
                status: Some(status.into()),
                worker: "Anna".into(),
                next_follow_up: None,
                follow_up_by: None,
                updated_at,
            },
            heads: vec![],
        }
    }

    fn names(rows: &[&Entry]) -> Vec<String> {
        rows.iter().map(|e| e.summary.name.clone()).collect()
    }

    #[test]
    fn sorted_by_status_along_the_pathway_then_by_name() {
        let all = [
            row("Ada", "in_work", 3),
            row("Bram", "new", 1),
            row("Cleo", "engaged", 5),
            row("Dirk", "new", 4),
            row("Eva", "???", 2),
        ];
        let mut rows: Vec<&Entry> = all.iter().collect();
        sort_rows(&mut rows, SortBy::Status);
        assert_eq!(names(&rows), ["Bram", "Dirk", "Cleo", "Ada", "Eva"]);
        sort_rows(&mut rows, SortBy::Changed);
        assert_eq!(names(&rows), ["Cleo", "Dirk", "Ada", "Eva", "Bram"]);
        let mut rows: Vec<&Entry> = all.iter().collect();
        sort_rows(&mut rows, SortBy::Name);
        assert_eq!(names(&rows), ["Ada", "Bram", "Cleo", "Dirk", "Eva"], "kept");
        assert_eq!(SortBy::parse(SortBy::Changed.as_str()), SortBy::Changed);
        assert_eq!(SortBy::parse("nonsense"), SortBy::Name);
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_relays_member_list_is_the_choice_and_the_present_value_stays() {
        let got = member_choices(
            strings(&["Bram", "Anna"]),
            strings(&["Typo Nmae"]),
            "Anna".into(),
            "Cleo",
        );
        assert_eq!(got, ["Anna", "Bram", "Cleo"], "members, and who it is now");
        let got = member_choices(vec![], strings(&["Bram", "Anna", " "]), "Dirk".into(), "");
        assert_eq!(
            got,
            ["Anna", "Bram", "Dirk"],
            "no directory: the names in the caseload, and me"
        );
        let got = member_choices(strings(&["Anna"]), vec![], "Anna".into(), " Anna ");
        assert_eq!(got, ["Anna"], "no repeats");
    }

    #[test]
    fn counts_per_status() {
        let all = [
            row("Ada", "new", 0),
            row("Bram", "new", 0),
            row("Cleo", "closed", 0),
        ];
        let counts = status_counts(all.iter());
        assert_eq!(counts.get("new"), Some(&2));
        assert_eq!(counts.get("closed"), Some(&1));
        assert_eq!(counts.get("engaged"), None);
    }
}
