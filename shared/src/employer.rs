//! Employers: one Automerge document per employer, with its contact person, its
//! inclusive-hiring commitment and the visits outreach workers made.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue};

use crate::date::Day;
use crate::error::ModelError;
use crate::id::DocumentId;
use crate::record::{self, Concurrent, Editor, Kind, RecordDoc};
use crate::summary::Summary;
use crate::words::{shown, stored_enum};

stored_enum! {
    /// How far an employer has committed to hiring people with a distance to the labour market.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Commitment unknown(s) => ModelError::Invalid { field: "commitment", value: shown(s) };
    {
        None => "none",
        Interested => "interested",
        /// Commits to inclusive hiring in its own workforce.
        AsEmployer => "committed_employer",
        /// Commits to inclusive purchasing (buys from social-economy firms).
        AsClient => "committed_client",
    }
}

impl Commitment {
    /// Counts towards the pact's "share of inclusive employers".
    pub fn is_committed(self) -> bool {
        matches!(self, Commitment::AsEmployer | Commitment::AsClient)
    }
}

stored_enum! {
    /// Employee head-count band (EU SME definition).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum SizeBand unknown(s) => ModelError::Invalid { field: "size band", value: shown(s) };
    {
        Micro => "1-9",
        Small => "10-49",
        Medium => "50-249",
        Large => "250+",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EmployerField {
    Name,
    Sector,
    Municipality,
    ContactName,
    ContactPhone,
    ContactEmail,
    SizeBand,
}

impl EmployerField {
    pub const ALL: [EmployerField; 7] = [
        EmployerField::Name,
        EmployerField::Sector,
        EmployerField::Municipality,
        EmployerField::ContactName,
        EmployerField::ContactPhone,
        EmployerField::ContactEmail,
        EmployerField::SizeBand,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EmployerField::Name => "name",
            EmployerField::Sector => "sector",
            EmployerField::Municipality => "municipality",
            EmployerField::ContactName => "contact_name",
            EmployerField::ContactPhone => "contact_phone",
            EmployerField::ContactEmail => "contact_email",
            EmployerField::SizeBand => "size_band",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    pub title: String,
    pub count: u32,
    pub requirements: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewVisit {
    pub date: Day,
    pub purpose: String,
    pub text: String,
    pub openings: Vec<Opening>,
    pub follow_up: Option<Day>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    pub id: String,
    pub date: Option<Day>,
    pub worker: String,
    pub purpose: String,
    pub text: String,
    pub openings: Vec<Opening>,
    pub follow_up: Option<Day>,
    /// The follow-up was dealt with.
    pub done: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employer {
    pub id: DocumentId,
    pub team: String,
    pub name: String,
    pub sector: Option<String>,
    pub municipality: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub size_band: Option<SizeBand>,
    pub commitment: Commitment,
    pub commitment_since: Option<Day>,
    /// Newest first.
    pub visits: Vec<Visit>,
    pub created_at: i64,
    pub updated_at: i64,
    pub conflicts: BTreeMap<EmployerField, Vec<Concurrent>>,
    /// The commitment levels two people set concurrently (empty when there is one).
    pub commitment_conflict: Vec<Concurrent>,
}

impl Employer {
    /// The earliest follow-up not yet done.
    pub fn next_follow_up(&self) -> Option<Day> {
        self.next_follow_up_by().map(|(day, _)| day)
    }

    /// The earliest open follow-up and the worker of its visit (on a tie, the first
    /// by name).
    pub fn next_follow_up_by(&self) -> Option<(Day, String)> {
        crate::summary::earliest_open(
            self.visits
                .iter()
                .map(|v| (v.done, v.follow_up, v.worker.as_str())),
        )
    }

    pub fn open_positions(&self) -> u32 {
        self.visits
            .iter()
            .flat_map(|v| &v.openings)
            .map(|o| o.count)
            .sum()
    }

    pub fn summary(&self) -> Summary {
        Summary {
            kind: Kind::Employer,
            name: self.name.clone(),
            status: Some(self.commitment.as_str().to_string()),
            worker: self
                .visits
                .first()
                .map(|v| v.worker.clone())
                .unwrap_or_default(),
            next_follow_up: self.next_follow_up(),
            follow_up_by: self.next_follow_up_by().map(|(_, by)| by),
            updated_at: self.updated_at,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EmployerDoc(RecordDoc);

record::typed_record!(EmployerDoc, Kind::Employer);

impl EmployerDoc {
    pub fn create(editor: &Editor, team: &str, name: &str) -> Result<Self, ModelError> {
        Self::create_with_id(DocumentId::random(), editor, team, name)
    }

    pub fn create_with_id(
        id: DocumentId,
        editor: &Editor,
        team: &str,
        name: &str,
    ) -> Result<Self, ModelError> {
        let team = record::required("team", team)?;
        let name = record::required("employer name", name)?;
        let doc = RecordDoc::create(id, Kind::Employer, editor, "created", |tx| {
            tx.put(ROOT, "team", team)?;
            tx.put(ROOT, "name", name)?;
            let inclusive = tx.put_object(ROOT, "inclusive", ObjType::Map)?;
            tx.put(&inclusive, "level", Commitment::None.as_str())?;
            tx.put_object(ROOT, "visits", ObjType::Map)?;
            Ok(())
        })?;
        Ok(Self(doc))
    }

    pub fn set_field(
        &mut self,
        editor: &Editor,
        field: EmployerField,
        value: Option<&str>,
    ) -> Result<(), ModelError> {
        let value = match field {
            EmployerField::Name => Some(record::required("employer name", value.unwrap_or(""))?),
            EmployerField::Sector | EmployerField::Municipality | EmployerField::ContactName => {
                record::optional(field.key(), value)?
            }
            EmployerField::ContactPhone => record::phone(value)?,
            EmployerField::ContactEmail => record::email(value)?,
            EmployerField::SizeBand => match value.filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(v.trim().parse::<SizeBand>()?.as_str().to_string()),
                None => None,
            },
        };
        self.0.change(editor, field.key(), |tx| {
            record::put_opt(tx, &ROOT, field.key(), value)
        })
    }

    pub fn set_commitment(
        &mut self,
        editor: &Editor,
        level: Commitment,
        since: Option<Day>,
    ) -> Result<(), ModelError> {
        self.0
            .change(editor, &format!("commitment: {}", level.as_str()), |tx| {
                let inclusive = record::map_at_tx(tx, &ROOT, "inclusive")?;
                tx.put(&inclusive, "level", level.as_str())?;
                record::put_opt(tx, &inclusive, "since", since.map(|d| d.to_string()))
            })
    }

    pub fn add_visit(&mut self, editor: &Editor, visit: NewVisit) -> Result<String, ModelError> {
        let purpose = record::required("purpose", &visit.purpose)?;
        let text = record::limited("visit report", visit.text.trim(), record::TEXT_MAX)?;
        let openings = visits::clean_openings(&visit.openings)?;
        let id = record::item_id();
        let worker = editor.worker.clone();
        self.0.change(editor, "visit added", |tx| {
            let visits = record::map_at_tx(tx, &ROOT, "visits")?;
            let v = tx.put_object(&visits, id.as_str(), ObjType::Map)?;
            tx.put(&v, "id", id.as_str())?;
            tx.put(&v, "date", visit.date.to_string())?;
            tx.put(&v, "worker", worker)?;
            tx.put(&v, "purpose", purpose)?;
            record::put_text(tx, &v, "text", &text)?;
            visits::put_openings(tx, &v, openings)?;
            record::put_opt(tx, &v, "follow_up", visit.follow_up.map(|d| d.to_string()))?;
            tx.put(&v, "created_at", ScalarValue::Timestamp(editor.now_ms))?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Marks a visit's follow-up done, or reopens it.
    pub fn set_visit_done(
        &mut self,
        editor: &Editor,
        visit_id: &str,
        done: bool,
    ) -> Result<(), ModelError> {
        let visit = self.0.item("visits", "visit", visit_id)?;
        let what = if done {
            "follow-up done"
        } else {
            "follow-up reopened"
        };
        self.0.change(editor, what, |tx| {
            tx.put(&visit, "removed", false)?;
            tx.put(&visit, "done", done)?;
            Ok(())
        })
    }

    /// Removes a visit added by mistake (flagged, so a concurrent edit keeps it; see
    /// `contact::items`); [`EmployerDoc::restore_visit`] undoes it.
    pub fn remove_visit(&mut self, editor: &Editor, visit_id: &str) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "visits", "visit", visit_id, true)
    }

    pub fn restore_visit(&mut self, editor: &Editor, visit_id: &str) -> Result<(), ModelError> {
        self.0
            .set_item_removed(editor, "visits", "visit", visit_id, false)
    }

    pub fn read(&self) -> Result<Employer, ModelError> {
        read_employer(&self.0)
    }
}

/// Reads the record without taking ownership (list summaries, the index).
pub fn read_employer(record: &RecordDoc) -> Result<Employer, ModelError> {
    if record.kind() != Kind::Employer {
        return Err(ModelError::WrongKind {
            expected: Kind::Employer.as_str(),
            found: record.kind().as_str().into(),
        });
    }
    let doc = record.doc();
    let name = record::str_at(doc, &ROOT, "name")
        .ok_or_else(|| ModelError::Corrupt("employer has no name".into()))?;
    let inclusive = record::obj_at(doc, &ROOT, "inclusive", ObjType::Map);
    let commitment = inclusive
        .as_ref()
        .and_then(|i| record::str_at(doc, i, "level"))
        .and_then(|l| l.parse().ok())
        .unwrap_or(Commitment::None);
    let commitment_since = inclusive
        .as_ref()
        .and_then(|i| record::str_at(doc, i, "since"))
        .and_then(|d| d.parse().ok());
    let mut visits: Vec<Visit> = record::obj_at(doc, &ROOT, "visits", ObjType::Map)
        .map(|m| {
            record::live_items(doc, &m)
                .into_iter()
                .map(|(id, v)| Visit {
                    id,
                    date: record::str_at(doc, &v, "date").and_then(|d| d.parse().ok()),
                    worker: record::str_at(doc, &v, "worker").unwrap_or_default(),
                    purpose: record::str_at(doc, &v, "purpose").unwrap_or_default(),
                    text: record::str_at(doc, &v, "text").unwrap_or_default(),
                    openings: record::obj_at(doc, &v, "openings", ObjType::List)
                        .map(|list| {
                            doc.list_range(&list, ..)
                                .map(|item| {
                                    let o = item.id();
                                    Opening {
                                        title: record::str_at(doc, &o, "title").unwrap_or_default(),
                                        count: record::i64_at(doc, &o, "count")
                                            .and_then(|c| u32::try_from(c).ok())
                                            .unwrap_or(0),
                                        requirements: record::opt_str_at(doc, &o, "requirements"),
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    follow_up: record::str_at(doc, &v, "follow_up").and_then(|d| d.parse().ok()),
                    done: record::bool_at(doc, &v, "done").unwrap_or(false),
                    created_at: record::i64_at(doc, &v, "created_at").unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    visits.sort_by(|a, b| (b.date, b.created_at, &b.id).cmp(&(a.date, a.created_at, &a.id)));
    let conflicts = record.root_conflicts(EmployerField::ALL, EmployerField::key);
    let commitment_conflict = inclusive
        .as_ref()
        .map(|i| record.conflicts(i, "level"))
        .unwrap_or_default();
    Ok(Employer {
        id: record.id(),
        team: record::str_at(doc, &ROOT, "team").unwrap_or_default(),
        name,
        sector: record::opt_str_at(doc, &ROOT, "sector"),
        municipality: record::opt_str_at(doc, &ROOT, "municipality"),
        contact_name: record::opt_str_at(doc, &ROOT, "contact_name"),
        contact_phone: record::opt_str_at(doc, &ROOT, "contact_phone"),
        contact_email: record::opt_str_at(doc, &ROOT, "contact_email"),
        size_band: record::str_at(doc, &ROOT, "size_band").and_then(|s| s.parse().ok()),
        commitment,
        commitment_since,
        visits,
        created_at: record.created_at(),
        updated_at: record.updated_at(),
        conflicts,
        commitment_conflict,
    })
}

mod visits;
pub use visits::VisitEdit;

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;

    fn editor() -> Editor {
        Editor::new(ActorId::random(), "Jonas", 1_795_521_600_000)
    }

    #[test]
    fn visits_with_openings_and_commitment() {
        let ed = editor();
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        e.set_field(&ed, EmployerField::SizeBand, Some("10-49"))
            .expect("size");
        assert!(
            e.set_field(&ed, EmployerField::SizeBand, Some("huge"))
                .is_err()
        );
        e.set_commitment(
            &ed,
            Commitment::AsEmployer,
            Some("2026-11-01".parse().expect("day")),
        )
        .expect("commit");
        e.add_visit(
            &ed,
            NewVisit {
                date: "2026-11-20".parse().expect("day"),
                purpose: "first visit".into(),
                text: "Owner open to apprentices".into(),
                openings: vec![Opening {
                    title: "Apprentice baker".into(),
                    count: 2,
                    requirements: None,
                }],
                follow_up: Some("2026-12-01".parse().expect("day")),
            },
        )
        .expect("visit");
        let bad = e.add_visit(
            &ed,
            NewVisit {
                date: "2026-11-21".parse().expect("day"),
                purpose: "x".into(),
                text: String::new(),
                openings: vec![Opening {
                    title: "Driver".into(),
                    count: 0,
                    requirements: None,
                }],
                follow_up: None,
            },
        );
        assert!(bad.is_err());
        let read = e.read().expect("read");
        assert_eq!(read.size_band, Some(SizeBand::Small));
        assert!(read.commitment.is_committed());
        assert_eq!(read.visits.len(), 1);
        assert_eq!(read.open_positions(), 2);
        assert_eq!(
            read.summary()
                .next_follow_up
                .map(|d| d.to_string())
                .as_deref(),
            Some("2026-12-01")
        );
    }

    #[test]
    fn a_commitment_changed_on_two_phones_is_changed_by_both_until_one_is_kept() {
        let ed = editor();
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        let since = Some("2026-11-01".parse::<Day>().expect("day"));
        e.set_commitment(&ed, Commitment::Interested, since)
            .expect("interested");
        let read = e.read().expect("read");
        assert_eq!(read.commitment, Commitment::Interested);
        assert_eq!(read.commitment_since, since);
        assert!(read.commitment_conflict.is_empty());

        let mut theirs = EmployerDoc::load(e.record().id(), &e.record().save()).expect("copy");
        let colleague = Editor::new(ActorId::random(), "Mia", 1_795_521_700_000);
        e.set_commitment(&ed, Commitment::AsEmployer, since)
            .expect("here");
        theirs
            .set_commitment(&colleague, Commitment::AsClient, since)
            .expect("there");
        e.merge(&theirs).expect("merged");
        let mut levels: Vec<String> = e
            .read()
            .expect("read")
            .commitment_conflict
            .into_iter()
            .map(|c| format!("{} by {}", c.value, c.set_by))
            .collect();
        levels.sort();
        assert_eq!(
            levels,
            ["committed_client by Mia", "committed_employer by Jonas"]
        );
        e.set_commitment(&ed, Commitment::AsClient, since)
            .expect("kept");
        let read = e.read().expect("read");
        assert!(read.commitment_conflict.is_empty());
        assert_eq!(read.commitment, Commitment::AsClient);
    }

    #[test]
    fn the_same_level_set_on_two_phones_is_no_conflict() {
        let ed = editor();
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        let mut theirs = EmployerDoc::load(e.record().id(), &e.record().save()).expect("copy");
        let colleague = Editor::new(ActorId::random(), "Mia", 1_795_521_700_000);
        e.set_commitment(&ed, Commitment::Interested, None)
            .expect("here");
        theirs
            .set_commitment(&colleague, Commitment::Interested, None)
            .expect("there");
        e.merge(&theirs).expect("merged");
        assert!(e.read().expect("read").commitment_conflict.is_empty());
    }

    #[test]
    fn a_visit_records_several_openings() {
        let ed = editor();
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        let opening = |title: &str, count, requirements: Option<&str>| Opening {
            title: title.into(),
            count,
            requirements: requirements.map(Into::into),
        };
        let openings = vec![
            opening("Apprentice baker", 2, Some("early mornings")),
            opening("Shop assistant", 1, None),
            opening("Driver", 3, Some("licence B")),
        ];
        e.add_visit(
            &ed,
            NewVisit {
                date: "2026-11-20".parse().expect("day"),
                purpose: "first visit".into(),
                text: String::new(),
                openings: openings.clone(),
                follow_up: None,
            },
        )
        .expect("visit");
        let read = e.read().expect("read");
        assert_eq!(read.visits[0].openings, openings, "in the order given");
        assert_eq!(read.open_positions(), 6);
        let blank_title = e.add_visit(
            &ed,
            NewVisit {
                date: "2026-11-21".parse().expect("day"),
                purpose: "second".into(),
                text: String::new(),
                openings: vec![opening("Cook", 1, None), opening(" ", 1, None)],
                follow_up: None,
            },
        );
        assert!(blank_title.is_err(), "every opening needs a title");
        assert_eq!(
            e.read().expect("read").visits.len(),
            1,
            "nothing half-saved"
        );
    }

    #[test]
    fn an_employer_needs_a_name() {
        assert_eq!(
            EmployerDoc::create(&editor(), "worms", "")
                .expect_err("empty")
                .to_string(),
            "employer name must not be empty"
        );
    }

    #[test]
    fn a_visit_follow_up_is_done_and_reopened_and_a_mistaken_visit_removed() {
        let ed = editor();
        let mut e = EmployerDoc::create(&ed, "worms", "Bäckerei Schmitt").expect("created");
        let day = |d: &str| d.parse::<Day>().expect("day");
        let visit = |follow_up| NewVisit {
            date: day("2026-11-20"),
            purpose: "first visit".into(),
            text: String::new(),
            openings: vec![],
            follow_up,
        };
        let early = e
            .add_visit(&ed, visit(Some(day("2026-12-01"))))
            .expect("visit");
        let late = e
            .add_visit(&ed, visit(Some(day("2026-12-08"))))
            .expect("visit");
        assert_eq!(
            e.read().expect("read").next_follow_up(),
            Some(day("2026-12-01"))
        );
        e.set_visit_done(&ed, &early, true).expect("done");
        let read = e.read().expect("read");
        assert_eq!(
            read.next_follow_up(),
            Some(day("2026-12-08")),
            "done ones count not"
        );
        assert!(read.visits.iter().any(|v| v.id == early && v.done));
        e.set_visit_done(&ed, &early, false).expect("reopened");
        assert_eq!(
            e.read().expect("read").next_follow_up(),
            Some(day("2026-12-01"))
        );

        // Removed on this phone while a colleague marks it done on theirs: kept.
        let mut theirs = EmployerDoc::load(e.record().id(), &e.record().save()).expect("copy");
        let colleague = Editor::new(ActorId::random(), "Mia", 1_795_521_700_000);
        e.remove_visit(&ed, &late).expect("removed");
        assert_eq!(e.read().expect("read").visits.len(), 1);
        theirs
            .set_visit_done(&colleague, &late, true)
            .expect("done there");
        e.merge(&theirs).expect("merged");
        let read = e.read().expect("read");
        assert_eq!(read.visits.len(), 2, "the concurrent edit keeps the visit");
        e.remove_visit(&ed, &late).expect("removed again");
        e.restore_visit(&ed, &late).expect("undone");
        assert_eq!(e.read().expect("read").visits.len(), 2);
    }
}
