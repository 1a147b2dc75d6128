//! Merging a duplicate contact B into contact A (issue 15): A's document stays and
//! takes in, as one change ("merged"), what B holds, so that B's document can then be
//! erased as any record is (`POST /erase`; see ARCHITECTURE.md, "Erasure").
//!
//! What A takes:
//! - B's notes and referrals, each under its own item id (random on creation), with
//!   author, dates, follow-ups and done flags as they were: both timelines stay whole.
//!   An item A already holds under that id is left alone, so merging twice (or on two
//!   phones at once) adds nothing twice.
//! - B's tags (a set: the union).
//! - Each one-line field A lacks (full name, birth year, phone, email, municipality).
//!   A field both hold with different values keeps **A's** value; B's is kept in the
//!   merge entry (below), never dropped and never written over A's silently.
//! - Consent: A's stays when A has one. When A has none and B has, B's is taken, but
//!   never wider than the team: B's consent to share with the pact's partners was
//!   given for B's record, and taking it would share A's notes beyond the team without
//!   anyone deciding so. The outcome says so, and the worker records it again.
//! - A merge entry under `merged_from[B's id]`: B's name, who merged and when, B's
//!   first contact, status and status history, consent, and the values A kept over
//!   B's. A's own status and history are A's; B's pathway is in the entry.
//!
//! - B's ESF+ participant data (entry facts, leaving day, results) when A has none and
//!   A's consent is active after the merge (participant data needs it); B's entry facts
//!   are also kept in the merge entry, so when A has its own they are not lost.
//!
//! Not taken: the history of B's changes (it lives in B's document, which is erased;
//! the entry and the copied items keep what the worker sees).

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

use super::{Consent, ConsentScope, Contact, ContactDoc, ContactField, Participant, StatusChange};
use crate::date::Day;
use crate::error::ModelError;
use crate::record::{self, Editor};

/// What happened to B's consent in a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentMerge {
    /// A's consent stays (B's, if any, is in the merge entry).
    KeptOwn,
    /// Neither had one.
    NoneGiven,
    /// A had none; B's is taken as it was (the team only).
    Taken,
    /// A had none; B's is taken for the team only, though B's shared with the pact:
    /// the worker asks again and records the wider scope if it still stands.
    TakenForTeamOnly,
}

/// What a merge did, for the confirmation the worker reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merge {
    pub notes: usize,
    pub referrals: usize,
    /// Fields A lacked and took from B.
    pub filled: Vec<ContactField>,
    /// Fields both held with different values: A's kept, B's in the merge entry.
    pub kept_apart: Vec<ContactField>,
    pub consent: ConsentMerge,
    /// B's ESF+ participant data was taken into A (A had none, consent active).
    pub participant: bool,
    /// B was merged into A before: nothing new was written.
    pub already: bool,
}

/// A contact merged into this one, as its merge entry keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedFrom {
    /// B's document id (erased once the merge is through).
    pub id: String,
    pub name: String,
    pub by: String,
    pub at_ms: i64,
    pub first_contact_on: Option<Day>,
    pub status: Option<String>,
    pub status_history: Vec<StatusChange>,
    pub consent: Consent,
    /// B's values of fields A kept its own of (field key, B's value).
    pub kept_apart: Vec<(String, String)>,
}

/// The one-line fields a merge fills or keeps apart, with B's value as text.
fn fields(c: &Contact) -> [(ContactField, Option<String>); 7] {
    [
        (ContactField::FullName, c.full_name.clone()),
        (ContactField::BirthYear, c.birth_year.map(|y| y.to_string())),
        (ContactField::BirthDate, c.birth_date.map(|d| d.to_string())),
        (ContactField::Phone, c.phone.clone()),
        (ContactField::Email, c.email.clone()),
        (ContactField::Municipality, c.municipality.clone()),
        (
            ContactField::DisplayName,
            Some(c.display_name.clone()).filter(|n| !n.is_empty()),
        ),
    ]
}

impl ContactDoc {
    /// Takes B (`other`, read whole with its notes) into this contact as one change;
    /// see the module for what is taken and what is kept apart.
    pub fn merge_from(&mut self, editor: &Editor, other: &Contact) -> Result<Merge, ModelError> {
        let me = self.read()?;
        if me.id == other.id {
            return Err(ModelError::Invalid {
                field: "merge",
                value: "a contact into itself".into(),
            });
        }
        let b_id = other.id.to_string();
        let mut merge = Merge {
            notes: 0,
            referrals: 0,
            filled: Vec::new(),
            kept_apart: Vec::new(),
            consent: ConsentMerge::KeptOwn,
            participant: false,
            already: !merged_from(self.0.doc()).iter().all(|m| m.id != b_id),
        };
        if merge.already {
            return Ok(merge);
        }
        let mine = fields(&me);
        let mut fill = Vec::new();
        let mut apart = Vec::new();
        for ((field, a), (_, b)) in mine.into_iter().zip(fields(other)) {
            match (a, b) {
                (None, Some(b)) => fill.push((field, b)),
                (Some(a), Some(b)) if a != b => apart.push((field, b)),
                _ => {}
            }
        }
        // B's birth date only if it agrees with A's year (the date sets the year).
        if let Some(i) = fill.iter().position(|(f, v)| {
            *f == ContactField::BirthDate
                && me.birth_year.is_some()
                && me.birth_year != v.get(..4).and_then(|y| y.parse().ok())
        }) {
            apart.push(fill.remove(i));
        }
        merge.filled = fill.iter().map(|(f, _)| *f).collect();
        merge.kept_apart = apart.iter().map(|(f, _)| *f).collect();
        merge.consent = match (me.consent.given_on.is_some(), other.consent.given_on) {
            (true, _) => ConsentMerge::KeptOwn,
            (false, None) => ConsentMerge::NoneGiven,
            (false, Some(_)) if other.consent.reach() == ConsentScope::Pact => {
                ConsentMerge::TakenForTeamOnly
            }
            (false, Some(_)) => ConsentMerge::Taken,
        };
        let consent_after = match merge.consent {
            ConsentMerge::Taken | ConsentMerge::TakenForTeamOnly => other.consent.is_active(),
            ConsentMerge::KeptOwn | ConsentMerge::NoneGiven => me.consent.is_active(),
        };
        let participant = other
            .participant
            .as_ref()
            .filter(|_| me.participant.is_none() && consent_after);
        merge.participant = participant.is_some();
        let by = editor.worker.clone();
        self.0.change(editor, "merged", |tx| {
            if let Some(p) = participant {
                write_participant(tx, p)?;
            }
            for (field, value) in &fill {
                match field {
                    ContactField::BirthYear => match value.parse::<i64>() {
                        Ok(y) => tx.put(ROOT, field.key(), ScalarValue::Int(y))?,
                        Err(_) => continue,
                    },
                    _ => tx.put(ROOT, field.key(), value.as_str())?,
                }
            }
            if matches!(
                merge.consent,
                ConsentMerge::Taken | ConsentMerge::TakenForTeamOnly
            ) {
                let consent = record::map_at_tx(tx, &ROOT, "consent")?;
                let c = &other.consent;
                record::put_opt(tx, &consent, "given_on", c.given_on.map(|d| d.to_string()))?;
                record::put_opt(tx, &consent, "given_by", c.given_by.clone())?;
                tx.put(&consent, "scope", ConsentScope::Team.as_str())?;
                record::put_opt(
                    tx,
                    &consent,
                    "withdrawn_on",
                    c.withdrawn_on.map(|d| d.to_string()),
                )?;
            }
            let tags = record::map_at_tx(tx, &ROOT, "tags")?;
            for tag in &other.tags {
                tx.put(&tags, tag.as_str(), true)?;
            }
            let notes = record::map_at_tx(tx, &ROOT, "notes")?;
            for n in &other.notes {
                if tx.get(&notes, n.id.as_str())?.is_some() {
                    continue;
                }
                let o = tx.put_object(&notes, n.id.as_str(), ObjType::Map)?;
                tx.put(&o, "id", n.id.as_str())?;
                record::put_opt(tx, &o, "date", n.date.map(|d| d.to_string()))?;
                tx.put(&o, "author", n.author.as_str())?;
                record::put_opt(tx, &o, "place", n.place.clone())?;
                record::put_text(tx, &o, "text", &n.text)?;
                record::put_tags(tx, &o, "tags", &n.tags)?;
                record::put_opt(tx, &o, "follow_up", n.follow_up.map(|d| d.to_string()))?;
                tx.put(&o, "done", n.done)?;
                tx.put(&o, "created_at", ScalarValue::Timestamp(n.created_at))?;
                merge.notes += 1;
            }
            let referrals = record::map_at_tx(tx, &ROOT, "referrals")?;
            for r in &other.referrals {
                if tx.get(&referrals, r.id.as_str())?.is_some() {
                    continue;
                }
                let o = tx.put_object(&referrals, r.id.as_str(), ObjType::Map)?;
                tx.put(&o, "id", r.id.as_str())?;
                record::put_opt(tx, &o, "employer_id", r.employer_id.map(|e| e.to_string()))?;
                tx.put(&o, "opening", r.opening.as_str())?;
                record::put_opt(tx, &o, "date", r.date.map(|d| d.to_string()))?;
                tx.put(&o, "outcome", r.outcome.as_str())?;
                tx.put(&o, "by", r.by.as_str())?;
                merge.referrals += 1;
            }
            let entries = record::map_at_tx(tx, &ROOT, "merged_from")?;
            let e = tx.put_object(&entries, b_id.as_str(), ObjType::Map)?;
            write_entry(tx, &e, other, &by, editor.now_ms, &apart)
        })?;
        Ok(merge)
    }
}

/// B's participant data written into A, results under their own ids.
fn write_participant(tx: &mut Transaction<'_>, p: &Participant) -> Result<(), ModelError> {
    let map = record::map_at_tx(tx, &ROOT, "participant")?;
    write_entry_facts(tx, &map, p)?;
    let results = record::map_at_tx(tx, &ROOT, "participant_results")?;
    for r in &p.results {
        if tx.get(&results, r.id.as_str())?.is_some() {
            continue;
        }
        let o = tx.put_object(&results, r.id.as_str(), ObjType::Map)?;
        tx.put(&o, "id", r.id.as_str())?;
        tx.put(&o, "result", r.result.as_str())?;
        tx.put(&o, "on", r.on.to_string())?;
        tx.put(&o, "by", r.by.as_str())?;
        tx.put(&o, "at", ScalarValue::Timestamp(r.at_ms))?;
    }
    Ok(())
}

fn write_entry_facts(
    tx: &mut Transaction<'_>,
    map: &ObjId,
    p: &Participant,
) -> Result<(), ModelError> {
    tx.put(map, "entry_on", p.entry.entry_on.to_string())?;
    tx.put(map, "labour_status", p.entry.labour_status.as_str())?;
    tx.put(map, "education", p.entry.education.as_str())?;
    tx.put(map, "gender", p.entry.gender.as_str())?;
    record::put_opt(tx, map, "left_on", p.left_on.map(|d| d.to_string()))
}

fn write_entry(
    tx: &mut Transaction<'_>,
    e: &ObjId,
    b: &Contact,
    by: &str,
    at_ms: i64,
    apart: &[(ContactField, String)],
) -> Result<(), ModelError> {
    tx.put(e, "id", b.id.to_string())?;
    tx.put(e, "name", b.display_name.as_str())?;
    tx.put(e, "by", by)?;
    tx.put(e, "at", ScalarValue::Timestamp(at_ms))?;
    record::put_opt(
        tx,
        e,
        "first_contact",
        b.first_contact_on.map(|d| d.to_string()),
    )?;
    tx.put(e, "status", b.status.as_str())?;
    let history = tx.put_object(e, "status_history", ObjType::List)?;
    for (i, s) in b.status_history.iter().enumerate() {
        let h = tx.insert_object(&history, i, ObjType::Map)?;
        tx.put(&h, "status", s.status.as_str())?;
        record::put_opt(tx, &h, "reason", s.reason.clone())?;
        tx.put(&h, "by", s.by.as_str())?;
        tx.put(&h, "at", ScalarValue::Timestamp(s.at_ms))?;
    }
    let consent = tx.put_object(e, "consent", ObjType::Map)?;
    let c = &b.consent;
    record::put_opt(tx, &consent, "given_on", c.given_on.map(|d| d.to_string()))?;
    record::put_opt(tx, &consent, "given_by", c.given_by.clone())?;
    record::put_opt(tx, &consent, "scope", c.scope.clone())?;
    record::put_opt(
        tx,
        &consent,
        "withdrawn_on",
        c.withdrawn_on.map(|d| d.to_string()),
    )?;
    if let Some(p) = &b.participant {
        let map = tx.put_object(e, "participant", ObjType::Map)?;
        write_entry_facts(tx, &map, p)?;
    }
    let kept = tx.put_object(e, "kept_apart", ObjType::Map)?;
    for (field, value) in apart {
        tx.put(&kept, field.key(), value.as_str())?;
    }
    Ok(())
}

/// The contacts merged into this record, oldest merge first.
pub fn merged_from(doc: &Automerge) -> Vec<MergedFrom> {
    let Some(entries) = record::obj_at(doc, &ROOT, "merged_from", ObjType::Map) else {
        return Vec::new();
    };
    let mut out: Vec<MergedFrom> = record::child_maps(doc, &entries)
        .into_iter()
        .map(|(id, e)| {
            let status_history = record::obj_at(doc, &e, "status_history", ObjType::List)
                .map(|list| {
                    doc.list_range(&list, ..)
                        .filter_map(|item| {
                            let h = item.id();
                            Some(StatusChange {
                                status: record::str_at(doc, &h, "status")?.parse().ok()?,
                                reason: record::opt_str_at(doc, &h, "reason"),
                                by: record::str_at(doc, &h, "by").unwrap_or_default(),
                                at_ms: record::i64_at(doc, &h, "at").unwrap_or(0),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let consent = record::obj_at(doc, &e, "consent", ObjType::Map)
                .map(|c| Consent {
                    given_on: record::str_at(doc, &c, "given_on").and_then(|d| d.parse().ok()),
                    given_by: record::opt_str_at(doc, &c, "given_by"),
                    scope: record::opt_str_at(doc, &c, "scope"),
                    withdrawn_on: record::str_at(doc, &c, "withdrawn_on")
                        .and_then(|d| d.parse().ok()),
                })
                .unwrap_or_default();
            let kept_apart = record::obj_at(doc, &e, "kept_apart", ObjType::Map)
                .map(|k| {
                    doc.keys(&k)
                        .filter_map(|key| {
                            let value = record::str_at(doc, &k, &key)?;
                            Some((key, value))
                        })
                        .collect()
                })
                .unwrap_or_default();
            MergedFrom {
                id,
                name: record::str_at(doc, &e, "name").unwrap_or_default(),
                by: record::str_at(doc, &e, "by").unwrap_or_default(),
                at_ms: record::i64_at(doc, &e, "at").unwrap_or(0),
                first_contact_on: record::str_at(doc, &e, "first_contact")
                    .and_then(|d| d.parse().ok()),
                status: record::opt_str_at(doc, &e, "status"),
                status_history,
                consent,
                kept_apart,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.at_ms, &a.id).cmp(&(b.at_ms, &b.id)));
    out
}

#[cfg(test)]
#[path = "merge/tests.rs"]
mod tests;
