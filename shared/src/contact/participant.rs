//! The ESF+ participant data of a contact: optional, written only once the young
//! person has agreed (active consent) to take part in the funded programme. Entry
//! facts (date, labour-market status, education, gender) are kept as they were at
//! entry; results after leaving are dated events, so the indicators can apply the
//! ESF+ windows ("upon leaving": within 4 weeks; "6 months after leaving").

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ScalarValue};

use super::{Contact, ContactDoc};
use crate::date::Day;
use crate::error::ModelError;
use crate::record::{self, Editor, RecordDoc};
use crate::words::{shown, stored_enum};

stored_enum! {
    /// Labour-market status at entry (ESF+ common output indicators).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum LabourStatus unknown(s) => ModelError::Invalid { field: "labour-market status", value: shown(s) };
    {
        Unemployed => "unemployed",
        /// Unemployed for more than 6 months (under 25) or 12 months (25 and over).
        LongTermUnemployed => "long_term_unemployed",
        Inactive => "inactive",
        Employed => "employed",
    }
}

stored_enum! {
    /// Highest education completed at entry, in ISCED 2011 bands.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Education unknown(s) => ModelError::Invalid { field: "education level", value: shown(s) };
    {
        Isced0To2 => "isced_0_2",
        Isced3To4 => "isced_3_4",
        Isced5To8 => "isced_5_8",
    }
}

stored_enum! {
    /// Gender as the participant states it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Gender unknown(s) => ModelError::Invalid { field: "gender", value: shown(s) };
    {
        Woman => "woman",
        Man => "man",
        NonBinary => "non_binary",
    }
}

stored_enum! {
    /// A participant's situation after leaving (ESF+ common result indicators).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum ParticipantResult unknown(s) => ModelError::Invalid { field: "result", value: shown(s) };
    {
        InEducation => "in_education_or_training",
        Qualification => "gained_qualification",
        Employed => "in_employment",
        JobSearching => "job_searching",
    }
}

/// What is asked when a young person becomes a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub entry_on: Day,
    pub labour_status: LabourStatus,
    pub education: Education,
    pub gender: Gender,
}

/// A result seen on a day after leaving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultEvent {
    pub id: String,
    pub result: ParticipantResult,
    pub on: Day,
    pub by: String,
    /// When it was written (orders two results of one day).
    pub at_ms: i64,
}

/// A contact's participant data, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub entry: Entry,
    pub left_on: Option<Day>,
    /// Oldest first (by day, then when written).
    pub results: Vec<ResultEvent>,
}

impl Contact {
    /// Whether the young person can become a participant: consent given, not withdrawn.
    pub fn may_participate(&self) -> bool {
        self.consent.is_active()
    }
}

impl ContactDoc {
    /// Makes the young person a participant, or corrects the entry facts. Refused
    /// without active consent, and an entry after a recorded leaving date.
    pub fn set_participant_entry(
        &mut self,
        editor: &Editor,
        entry: Entry,
    ) -> Result<(), ModelError> {
        let contact = self.read()?;
        if !contact.may_participate() {
            return Err(ModelError::ConsentRequired);
        }
        if let Some(left) = contact.participant.as_ref().and_then(|p| p.left_on)
            && left < entry.entry_on
        {
            return Err(ModelError::TooEarly {
                field: "leaving date",
                earliest: entry.entry_on.to_string(),
            });
        }
        self.0.change(editor, "participant entry", |tx| {
            let p = record::map_at_tx(tx, &ROOT, "participant")?;
            tx.put(&p, "entry_on", entry.entry_on.to_string())?;
            tx.put(&p, "labour_status", entry.labour_status.as_str())?;
            tx.put(&p, "education", entry.education.as_str())?;
            tx.put(&p, "gender", entry.gender.as_str())?;
            Ok(())
        })
    }

    /// Records (or clears, with `None`) the day the participant left the programme.
    pub fn set_participant_left(
        &mut self,
        editor: &Editor,
        on: Option<Day>,
    ) -> Result<(), ModelError> {
        let participant = self.read()?.participant.ok_or(ModelError::NotParticipant)?;
        if let Some(on) = on {
            if on < participant.entry.entry_on {
                return Err(ModelError::TooEarly {
                    field: "leaving date",
                    earliest: participant.entry.entry_on.to_string(),
                });
            }
            if let Some(first) = participant.results.first()
                && first.on < on
            {
                return Err(ModelError::TooEarly {
                    field: "result",
                    earliest: on.to_string(),
                });
            }
        }
        self.0.change(editor, "participant left", |tx| {
            let p = record::map_at_tx(tx, &ROOT, "participant")?;
            record::put_opt(tx, &p, "left_on", on.map(|d| d.to_string()))
        })
    }

    /// Records a result seen on `on` (on or after leaving); returns its id.
    pub fn add_participant_result(
        &mut self,
        editor: &Editor,
        result: ParticipantResult,
        on: Day,
    ) -> Result<String, ModelError> {
        let participant = self.read()?.participant.ok_or(ModelError::NotParticipant)?;
        let left = participant.left_on.ok_or(ModelError::Empty {
            field: "leaving date",
        })?;
        if on < left {
            return Err(ModelError::TooEarly {
                field: "result",
                earliest: left.to_string(),
            });
        }
        let id = record::item_id();
        let by = editor.worker.clone();
        self.0
            .change(editor, &format!("result: {}", result.as_str()), |tx| {
                let results = record::map_at_tx(tx, &ROOT, "participant_results")?;
                let r = tx.put_object(&results, id.as_str(), ObjType::Map)?;
                tx.put(&r, "id", id.as_str())?;
                tx.put(&r, "result", result.as_str())?;
                tx.put(&r, "on", on.to_string())?;
                tx.put(&r, "by", by)?;
                tx.put(&r, "at", ScalarValue::Timestamp(editor.now_ms))?;
                Ok(())
            })?;
        Ok(id)
    }

    /// Removes a result entered by mistake; [`ContactDoc::restore_participant_result`] undoes it.
    pub fn remove_participant_result(
        &mut self,
        editor: &Editor,
        id: &str,
    ) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "participant_results", "result", id, true)
    }

    pub fn restore_participant_result(
        &mut self,
        editor: &Editor,
        id: &str,
    ) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "participant_results", "result", id, false)
    }
}

/// The participant data of a record; `None` when it has no complete entry (a
/// participant map written by another client with a missing or unknown entry field
/// counts as no participant rather than a guess).
pub(super) fn participant_of(record: &RecordDoc) -> Option<Participant> {
    let doc = record.doc();
    let p = record::obj_at(doc, &ROOT, "participant", ObjType::Map)?;
    let parse = |key: &str| record::str_at(doc, &p, key);
    let entry = Entry {
        entry_on: parse("entry_on")?.parse().ok()?,
        labour_status: parse("labour_status")?.parse().ok()?,
        education: parse("education")?.parse().ok()?,
        gender: parse("gender")?.parse().ok()?,
    };
    let mut results: Vec<ResultEvent> =
        record::obj_at(doc, &ROOT, "participant_results", ObjType::Map)
            .map(|m| {
                record::live_items(doc, &m)
                    .into_iter()
                    .filter_map(|(id, r)| {
                        Some(ResultEvent {
                            result: record::str_at(doc, &r, "result")?.parse().ok()?,
                            on: record::str_at(doc, &r, "on")?.parse().ok()?,
                            by: record::str_at(doc, &r, "by").unwrap_or_default(),
                            at_ms: record::i64_at(doc, &r, "at").unwrap_or(0),
                            id,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
    results.sort_by(|a, b| (a.on, a.at_ms, &a.id).cmp(&(b.on, b.at_ms, &b.id)));
    Some(Participant {
        entry,
        left_on: parse("left_on").and_then(|d| d.parse().ok()),
        results,
    })
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::contact::{Channel, ContactField, NewContact};

    fn day(s: &str) -> Day {
        s.parse().expect("day")
    }

    fn contact(ed: &Editor) -> ContactDoc {
        ContactDoc::create(
            ed,
            NewContact {
                team: "kempen".into(),
                display_name: "Noor".into(),
                first_contact_on: day("2026-02-03"),
                channel: Channel::School,
                place: None,
                assigned_worker: None,
            },
        )
        .expect("created")
    }

    fn entry(on: &str) -> Entry {
        Entry {
            entry_on: day(on),
            labour_status: LabourStatus::LongTermUnemployed,
            education: Education::Isced0To2,
            gender: Gender::NonBinary,
        }
    }

    #[test]
    fn participant_data_needs_active_consent() {
        let ed = Editor::new(ActorId::random(), "Bram", 1_795_521_600_000);
        let mut c = contact(&ed);
        let heads = c.record().heads();
        assert_eq!(
            c.set_participant_entry(&ed, entry("2026-03-01")),
            Err(ModelError::ConsentRequired)
        );
        assert_eq!(c.record().heads(), heads, "nothing written");
        assert_eq!(c.read().expect("read").participant, None);
        c.give_consent(&ed, day("2026-02-20"), crate::contact::ConsentScope::Team)
            .expect("consent");
        c.set_participant_entry(&ed, entry("2026-03-01"))
            .expect("entered");
        let p = c.read().expect("read").participant.expect("participant");
        assert_eq!(p.entry, entry("2026-03-01"));
        assert_eq!(p.left_on, None);
        c.withdraw_consent(&ed, day("2026-04-01"))
            .expect("withdrawn");
        assert_eq!(
            c.set_participant_entry(&ed, entry("2026-03-02")),
            Err(ModelError::ConsentRequired),
            "no new participant data after withdrawal"
        );
    }

    #[test]
    fn leaving_and_results_keep_their_order_in_time() {
        let ed = Editor::new(ActorId::random(), "Bram", 1_795_521_600_000);
        let mut c = contact(&ed);
        c.give_consent(&ed, day("2026-02-20"), crate::contact::ConsentScope::Team)
            .expect("consent");
        assert_eq!(
            c.set_participant_left(&ed, Some(day("2026-06-01"))),
            Err(ModelError::NotParticipant)
        );
        c.set_participant_entry(&ed, entry("2026-03-01"))
            .expect("entered");
        assert_eq!(
            c.add_participant_result(&ed, ParticipantResult::Employed, day("2026-06-03")),
            Err(ModelError::Empty {
                field: "leaving date"
            }),
            "a result needs a leaving date"
        );
        assert!(matches!(
            c.set_participant_left(&ed, Some(day("2026-02-28"))),
            Err(ModelError::TooEarly {
                field: "leaving date",
                ..
            })
        ));
        c.set_participant_left(&ed, Some(day("2026-06-01")))
            .expect("left");
        assert!(matches!(
            c.add_participant_result(&ed, ParticipantResult::Employed, day("2026-05-31")),
            Err(ModelError::TooEarly {
                field: "result",
                ..
            })
        ));
        let later = ed.at(ed.now_ms + 1);
        let searching = c
            .add_participant_result(&ed, ParticipantResult::JobSearching, day("2026-06-10"))
            .expect("result");
        let employed = c
            .add_participant_result(&later, ParticipantResult::Employed, day("2026-06-10"))
            .expect("result");
        c.add_participant_result(&ed, ParticipantResult::Qualification, day("2026-06-02"))
            .expect("result");
        let p = c.read().expect("read").participant.expect("participant");
        assert_eq!(p.left_on, Some(day("2026-06-01")));
        let order: Vec<_> = p.results.iter().map(|r| r.result).collect();
        assert_eq!(
            order,
            [
                ParticipantResult::Qualification,
                ParticipantResult::JobSearching,
                ParticipantResult::Employed
            ],
            "by day, then by when written"
        );
        assert_eq!(p.results[1].id, searching);
        assert!(matches!(
            c.set_participant_left(&ed, Some(day("2026-06-05"))),
            Err(ModelError::TooEarly {
                field: "result",
                ..
            })
        ));
        assert!(matches!(
            c.set_participant_entry(&ed, entry("2026-07-01")),
            Err(ModelError::TooEarly {
                field: "leaving date",
                ..
            })
        ));
        c.remove_participant_result(&ed, &employed)
            .expect("removed");
        let p = c.read().expect("read").participant.expect("participant");
        assert_eq!(p.results.len(), 2);
        c.restore_participant_result(&ed, &employed)
            .expect("restored");
        assert_eq!(
            c.read()
                .expect("read")
                .participant
                .expect("p")
                .results
                .len(),
            3
        );
    }

    #[test]
    fn an_incomplete_or_odd_participant_map_reads_as_no_participant() {
        let ed = Editor::new(ActorId::random(), "Bram", 1_795_521_600_000);
        let mut c = contact(&ed);
        c.give_consent(&ed, day("2026-02-20"), crate::contact::ConsentScope::Team)
            .expect("consent");
        c.set_participant_entry(&ed, entry("2026-03-01"))
            .expect("entered");
        c.0.change(&ed, "odd", |tx| {
            let p = record::map_at_tx(tx, &ROOT, "participant")?;
            tx.put(&p, "gender", "unknown-value")?;
            Ok(())
        })
        .expect("written");
        assert_eq!(c.read().expect("read").participant, None);
    }

    #[test]
    fn a_team_move_is_kept_with_who_and_when() {
        let ed = Editor::new(ActorId::random(), "Bram", 1_795_521_600_000);
        let mut c = contact(&ed);
        c.set_field(&ed.at(ed.now_ms + 5), ContactField::Team, Some("herentals"))
            .expect("moved");
        c.set_field(&ed, ContactField::Team, Some("herentals"))
            .expect("same team");
        let read = c.read().expect("read");
        assert_eq!(read.team, "herentals");
        assert_eq!(
            read.team_moves,
            [crate::contact::TeamMove {
                from: "kempen".into(),
                to: "herentals".into(),
                by: "Bram".into(),
                at_ms: ed.now_ms + 5,
            }],
            "setting the same team again is no move"
        );
    }
}
