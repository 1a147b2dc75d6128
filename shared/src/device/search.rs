//! Finding a record by what a worker remembers of it: a contact's display name,
//! description (an anonymous contact's "red cap"), full name, phone or municipality (an employer's name or municipality), ignoring case and
//! accents ("koszeg" finds Kőszeg) and, for phone numbers, spaces and dashes. And when
//! the relay was first seen holding a record's latest change ("on the relay since").
//! Both are kept in the index snapshot ([`Repo::reads`]), so a reload neither reads
//! every record again for the first search nor forgets when the relay confirmed them.

use automerge::ROOT;

use super::Repo;
use super::snapshot::RecordReads;
use crate::DocumentId;
use crate::caseload::Entry;
use crate::language::fold;
use crate::record::{Kind, opt_str_at};

/// The fields a search looks in, per kind (the name first).
fn searched(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Contact => &[
            "display_name",
            "description",
            "full_name",
            "phone",
            "municipality",
        ],
        Kind::Employer => &["name", "municipality"],
        _ => &[],
    }
}

/// Only the digits of `text`, when it looks like a phone number (digits, spaces, `+`,
/// `-`, `/`, `.`, parentheses) and has at least two digits.
fn phone_digits(text: &str) -> Option<String> {
    let phone_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-/.()".contains(c));
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (phone_like && digits.len() >= 2).then_some(digits)
}

/// What a search for `folded_query` (already [`fold`]ed) finds in `haystack` (the
/// folded fields, one a line, then the phone's digits).
pub fn found(folded_query: &str, haystack: &str) -> bool {
    let query = folded_query.trim();
    if query.is_empty() {
        return true;
    }
    if haystack.contains(query) {
        return true;
    }
    phone_digits(query).is_some_and(|digits| haystack.contains(&digits))
}

impl Repo {
    /// Whether a search for `folded_query` finds the record of `entry`: by the name in
    /// the index row, or by the record's other fields as last read for searching
    /// ([`Repo::read_for_search`]); never loads a record itself, so a keystroke costs
    /// no more than a pass over the rows. A record whose fields were not read yet (or
    /// changed since) is found by its name only.
    pub fn finds(&self, entry: &Entry, folded_query: &str) -> bool {
        if folded_query.trim().is_empty() || found(folded_query, &fold(&entry.summary.name)) {
            return true;
        }
        self.replica.heads(&entry.id).is_some_and(|heads| {
            self.search
                .with(&entry.id, &heads, |text| found(folded_query, text))
                .unwrap_or(false)
        })
    }

    /// Reads the searched fields of up to `budget` records whose fields are not read
    /// yet (or changed since), loading them if they were kept unloaded; returns how
    /// many it read and how many such records are left. Reading takes milliseconds per record in the
    /// browser, so the app calls this in slices off the keystroke path.
    pub fn read_for_search(&self, budget: usize) -> (usize, usize) {
        let mut left = 0;
        let mut read = 0;
        for entry in self.entries.values() {
            if searched(entry.summary.kind).is_empty() {
                continue;
            }
            let Some(heads) = self.replica.heads(&entry.id) else {
                continue;
            };
            if self.search.is_fresh(&entry.id, &heads) {
                continue;
            }
            if read < budget {
                let text = self.search_text(&entry.id, entry.summary.kind);
                self.search.put(entry.id, heads, text);
                self.reads_changed.set(true);
                read += 1;
            } else {
                left += 1;
            }
        }
        (read, left)
    }

    fn search_text(&self, id: &DocumentId, kind: Kind) -> String {
        let Some(doc) = self.replica.doc(id) else {
            return String::new();
        };
        let mut text = String::new();
        for key in searched(kind) {
            if let Some(value) = opt_str_at(doc, &ROOT, key) {
                text.push_str(&fold(&value));
                text.push('\n');
                if *key == "phone"
                    && let Some(digits) = phone_digits(&value)
                {
                    text.push_str(&digits);
                    text.push('\n');
                }
            }
        }
        text
    }

    /// When the relay was first seen holding the latest change of `id` (milliseconds),
    /// in this session or one before; `None` while a change waits for it, or when the
    /// relay was not seen with this version yet.
    pub fn on_relay_since(&self, id: &DocumentId) -> Option<i64> {
        if self.replica.is_pending(id) {
            return None;
        }
        let heads = self.replica.heads(id)?;
        self.on_relay.with(id, &heads, |ms| *ms)
    }

    /// What was read of the team's records, for the snapshot: at each record's heads
    /// (or, for a record not back from disk yet, at the heads it was read at).
    pub(super) fn reads(&self) -> impl Iterator<Item = RecordReads> + '_ {
        self.entries.keys().filter_map(|id| {
            let heads = self
                .replica
                .heads(id)
                .or_else(|| self.search.heads(id))
                .or_else(|| self.on_relay.heads(id))?;
            let on_relay = self.on_relay.with(id, &heads, |ms| *ms);
            let search = self.search.with(id, &heads, String::clone);
            (on_relay.is_some() || search.is_some()).then_some(RecordReads {
                id: *id,
                heads,
                on_relay,
                search,
            })
        })
    }

    /// After a message from the relay: records whose content came from the relay hold
    /// only what it has, from now; records whose sync state moved and that wait for
    /// nothing got their last change confirmed now, unless that was seen before.
    pub(super) fn note_on_relay(
        &mut self,
        arrived: &[DocumentId],
        acknowledged: &[DocumentId],
        now_ms: i64,
    ) {
        let held = |id: &DocumentId| {
            (*id != self.index_id && !self.replica.is_pending(id))
                .then(|| self.replica.heads(id))
                .flatten()
        };
        for id in arrived {
            if let Some(heads) = held(id) {
                self.on_relay.put(*id, heads, now_ms);
                self.reads_changed.set(true);
            }
        }
        for id in acknowledged {
            if let Some(heads) = held(id)
                && !self.on_relay.is_fresh(id, &heads)
            {
                self.on_relay.put(*id, heads, now_ms);
                self.reads_changed.set(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn haystack(fields: &[&str]) -> String {
        fields.iter().map(|f| fold(f) + "\n").collect()
    }

    #[test]
    fn a_search_ignores_case_and_accents_in_every_field() {
        let text =
            haystack(&["Anna K.", "Kovács Anna", "+36 30 123 4567", "Kőszeg"]) + "36301234567\n";
        for query in ["koszeg", "KŐSZEG", "kovacs", "anna k", "30 123", "301234"] {
            assert!(found(&fold(query), &text), "{query}");
        }
        for query in ["kassa", "999", "csepreg"] {
            assert!(!found(&fold(query), &text), "{query}");
        }
        assert!(found("", &text), "an empty search finds everything");
    }

    #[test]
    fn folding_covers_the_pacts_letters() {
        for (typed, stored) in [
            ("koszeg", "Kőszeg"),
            ("strasse", "Straße"),
            ("STRASSE", "STRAẞE"),
            ("tunde", "Tünde"),
            ("uveg", "Űveg"),
            ("ecole", "École"),
            ("francois", "François"),
            ("ijssel", "Ĳssel"),
            ("ijssel", "IJssel"),
            ("noel", "Noël"),
        ] {
            assert!(
                found(&fold(typed), &fold(stored)),
                "{typed} should find {stored}"
            );
        }
        assert!(!found(&fold("kossuth"), &fold("Kőszeg")));
    }

    #[test]
    fn digits_only_for_phone_like_queries() {
        assert_eq!(phone_digits("0470 12-34"), Some("04701234".into()));
        assert_eq!(phone_digits("Anna 12"), None);
        assert_eq!(phone_digits("7"), None);
    }
}
