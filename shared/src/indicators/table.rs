//! The coordinator's merged caseload table: which contacts a filter keeps, the
//! filter as a URL query (so it lives in the address bar), and the review queue
//! (records a coordinator should look at).

use super::{AgeBand, Zone};
use crate::contact::{Contact, Stage, Status};
use crate::date::Day;

/// The table's filter; an empty list means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub teams: Vec<String>,
    pub workers: Vec<String>,
    pub statuses: Vec<Status>,
    /// How far the contact is identified (anonymous, first name known, identified).
    pub stages: Vec<Stage>,
    pub municipalities: Vec<String>,
    /// Age now, from the birth year.
    pub age_bands: Vec<AgeBand>,
    /// `Some(true)`: only with active consent; `Some(false)`: only without.
    pub consent: Option<bool>,
    /// Only contacts with a follow-up before today that is not done.
    pub overdue: bool,
    /// Only contacts with no change for at least this many months.
    pub inactive_months: Option<u32>,
}

impl Filter {
    pub fn matches(&self, c: &Contact, today: Day, zone: Zone) -> bool {
        let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        any(&self.teams, &c.team)
            && any(&self.workers, &c.assigned_worker)
            && (self.statuses.is_empty() || self.statuses.contains(&c.status))
            && (self.stages.is_empty() || self.stages.contains(&c.stage))
            && any(
                &self.municipalities,
                c.municipality.as_deref().unwrap_or_default(),
            )
            && (self.age_bands.is_empty()
                || self.age_bands.contains(&AgeBand::at(c.birth_year, today)))
            && self
                .consent
                .is_none_or(|wanted| c.consent.is_active() == wanted)
            && (!self.overdue || overdue(c, today))
            && self
                .inactive_months
                .is_none_or(|months| inactive_for(c, months, today, zone))
    }

    /// The filter as a URL query (`team=kempen&status=in_work&overdue=1`), values
    /// percent-encoded, in a fixed order.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        pairs.extend(self.teams.iter().map(|t| ("team", t.clone())));
        pairs.extend(self.workers.iter().map(|w| ("worker", w.clone())));
        pairs.extend(self.statuses.iter().map(|s| ("status", s.as_str().into())));
        pairs.extend(self.stages.iter().map(|s| ("stage", s.as_str().into())));
        pairs.extend(
            self.municipalities
                .iter()
                .map(|m| ("municipality", m.clone())),
        );
        pairs.extend(self.age_bands.iter().map(|a| ("age", a.as_str().into())));
        if let Some(c) = self.consent {
            pairs.push(("consent", if c { "yes" } else { "no" }.into()));
        }
        if self.overdue {
            pairs.push(("overdue", "1".into()));
        }
        if let Some(m) = self.inactive_months {
            pairs.push(("inactive", m.to_string()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Reads a URL query (with or without the leading `?`); unknown keys and values
    /// that do not parse are left out, never an error (a link may be old or edited).
    pub fn from_query(query: &str) -> Filter {
        let mut f = Filter::default();
        for pair in query.trim_start_matches('?').split('&') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let Some(value) = decode(value) else {
                continue;
            };
            match key {
                "team" => f.teams.push(value),
                "worker" => f.workers.push(value),
                "status" => f.statuses.extend(value.parse::<Status>().ok()),
                "stage" => f.stages.extend(value.parse::<Stage>().ok()),
                "municipality" => f.municipalities.push(value),
                "age" => f
                    .age_bands
                    .extend(AgeBand::ALL.into_iter().find(|a| a.as_str() == value)),
                "consent" => {
                    f.consent = matches!(value.as_str(), "yes" | "no").then(|| value == "yes")
                }
                "overdue" => f.overdue = value == "1",
                "inactive" => f.inactive_months = value.parse().ok().filter(|m| *m > 0),
                _ => {}
            }
        }
        f
    }
}

/// Percent-encodes all but unreserved characters (RFC 3986), UTF-8.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent-encoding (and `+` as a space, as forms send it); `None` for
/// broken escapes or bytes that are not UTF-8.
fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A follow-up before today that is not done.
fn overdue(c: &Contact, today: Day) -> bool {
    c.next_follow_up().is_some_and(|d| d < today)
}

/// No change to the record for at least `months` months (its last change's day plus
/// `months` is today or earlier).
fn inactive_for(c: &Contact, months: u32, today: Day, zone: Zone) -> bool {
    zone.day_of(c.updated_at)
        .and_then(|d| d.plus_months(months))
        .is_some_and(|d| d <= today)
}

/// Why a record is in the review queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Concern {
    /// Two people changed a field at once ("changed by both").
    ChangedByBoth,
    /// Met 14 days ago or more, and no active consent.
    NoConsentAfter14Days,
    OverdueFollowUp,
    /// No change for 3 months; closed cases are left out.
    NoActivityFor3Months,
    /// Closed or not, no change for the pact's retention months: kept longer than the pact
    /// keeps records, listed for the coordinator to erase (never erased silently).
    PastRetention,
}

impl Concern {
    pub const ALL: [Concern; 5] = [
        Concern::ChangedByBoth,
        Concern::NoConsentAfter14Days,
        Concern::OverdueFollowUp,
        Concern::NoActivityFor3Months,
        Concern::PastRetention,
    ];
}

/// How long a record with no change is kept before it is listed for erasure (GDPR
/// Art. 5(1)(e)) when the pact has not set its own (`PactSettings::retention_months`).
pub const RETENTION_MONTHS: u32 = 24;

/// The concerns about one contact, in the order above, records kept for
/// `retention_months`; empty when there are none.
pub fn review(c: &Contact, today: Day, zone: Zone, retention_months: u32) -> Vec<Concern> {
    let mut out = Vec::new();
    if !c.conflicts.is_empty() {
        out.push(Concern::ChangedByBoth);
    }
    let met = c.first_contact_on.or_else(|| zone.day_of(c.created_at));
    if !c.consent.is_active() && met.is_some_and(|d| d.days_until(&today) >= 14) {
        out.push(Concern::NoConsentAfter14Days);
    }
    if overdue(c, today) {
        out.push(Concern::OverdueFollowUp);
    }
    if c.status != Status::Closed && inactive_for(c, 3, today, zone) {
        out.push(Concern::NoActivityFor3Months);
    }
    if past_retention(c, today, zone, retention_months) {
        out.push(Concern::PastRetention);
    }
    out
}

/// Whether a contact has had no change for `retention_months` (closed or not).
pub fn past_retention(c: &Contact, today: Day, zone: Zone, retention_months: u32) -> bool {
    inactive_for(c, retention_months, today, zone)
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::contact::{Channel, ContactDoc, ContactField, NewContact, NewNote, read_contact};
    use crate::record::Editor;

    fn day(s: &str) -> Day {
        s.parse().expect("day")
    }

    /// 2026-01-10 12:00 UTC.
    const JAN10: i64 = 1_768_046_400_000;
    const DAY_MS: i64 = 86_400_000;

    fn contact(team: &str, name: &str, edit: impl FnOnce(&mut ContactDoc, &Editor)) -> Contact {
        let ed = Editor::new(ActorId::random(), "Anna", JAN10);
        let mut doc = ContactDoc::create(
            &ed,
            NewContact {
                team: team.into(),
                display_name: name.into(),
                first_contact_on: day("2026-01-10"),
                channel: Channel::Online,
                place: None,
                assigned_worker: None,
            },
        )
        .expect("created");
        edit(&mut doc, &ed);
        read_contact(doc.record()).expect("read")
    }

    #[test]
    fn filters_keep_what_they_say_and_survive_the_url() {
        let lotte = contact("kempen", "Lotte", |doc, ed| {
            doc.set_field(ed, ContactField::BirthYear, Some("2010"))
                .expect("year");
            doc.set_field(ed, ContactField::Municipality, Some("Sint-Job-in-'t-Goor"))
                .expect("municipality");
            doc.give_consent(ed, day("2026-01-10"), crate::contact::ConsentScope::Pact)
                .expect("consent");
            doc.add_note(
                ed,
                NewNote {
                    text: "call".into(),
                    follow_up: Some(day("2026-01-20")),
                    ..Default::default()
                },
            )
            .expect("note");
        });
        let milan = contact("geel", "Milan", |doc, ed| {
            doc.change_status(&ed.at(JAN10 + DAY_MS), Status::Engaged, None)
                .expect("status");
        });
        let today = day("2026-01-25");
        let zone = Zone::CentralEurope;
        let kept = |f: &Filter| -> Vec<&str> {
            [&lotte, &milan]
                .into_iter()
                .filter(|c| f.matches(c, today, zone))
                .map(|c| c.display_name.as_str())
                .collect()
        };
        assert_eq!(kept(&Filter::default()), ["Lotte", "Milan"]);
        let f = Filter {
            municipalities: vec!["Sint-Job-in-'t-Goor".into()],
            age_bands: vec![AgeBand::Under18],
            consent: Some(true),
            overdue: true,
            ..Filter::default()
        };
        assert_eq!(kept(&f), ["Lotte"]);
        let back = Filter::from_query(&format!("?{}", f.to_query()));
        assert_eq!(back, f);
        assert_eq!(
            f.to_query(),
            "municipality=Sint-Job-in-%27t-Goor&age=under_18&consent=yes&overdue=1"
        );
        let g =
            Filter::from_query("team=geel&status=engaged&status=famous&consent=maybe&x=1&team=%ZZ");
        assert_eq!(
            g,
            Filter {
                teams: vec!["geel".into()],
                statuses: vec![Status::Engaged],
                ..Filter::default()
            },
            "unknown values and broken escapes are left out"
        );
        assert_eq!(kept(&g), ["Milan"]);
        let old = Filter {
            inactive_months: Some(1),
            ..Filter::default()
        };
        assert_eq!(kept(&old), Vec::<&str>::new());
        assert!(
            old.matches(&milan, day("2026-02-11"), zone),
            "engaged 11 Jan"
        );
        assert!(!old.matches(&milan, day("2026-02-10"), zone));
    }

    #[test]
    fn the_stage_filter_keeps_that_stage_and_survives_the_url() {
        let ed = Editor::new(ActorId::random(), "Anna", JAN10);
        let new = |name: &str| NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: day("2026-01-10"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        };
        let cap = ContactDoc::create_at(
            &ed,
            new("Red cap"),
            Stage::Anonymous,
            &[(
                ContactField::Description,
                "tall, red cap, skate park".into(),
            )],
        )
        .expect("anonymous");
        let sam = ContactDoc::create_at(
            &ed,
            new("Sam"),
            Stage::Pseudonymous,
            &[(ContactField::Phone, "0470 00 00 00".into())],
        )
        .expect("first name known");
        let lotte = contact("kempen", "Lotte", |doc, ed| {
            doc.set_field(ed, ContactField::BirthYear, Some("2010"))
                .expect("year");
        });
        let all = [
            read_contact(cap.record()).expect("read"),
            read_contact(sam.record()).expect("read"),
            lotte,
        ];
        let today = day("2026-01-25");
        let kept = |f: &Filter| -> Vec<&str> {
            all.iter()
                .filter(|c| f.matches(c, today, Zone::CentralEurope))
                .map(|c| c.display_name.as_str())
                .collect()
        };
        let only = |stages: Vec<Stage>| Filter {
            stages,
            ..Filter::default()
        };
        assert_eq!(kept(&only(vec![Stage::Anonymous])), ["Red cap"]);
        assert_eq!(kept(&only(vec![Stage::Pseudonymous])), ["Sam"]);
        assert_eq!(
            kept(&only(vec![Stage::Identified])),
            ["Lotte"],
            "a record from before stages reads its stage from what it holds"
        );
        assert_eq!(
            kept(&only(vec![Stage::Anonymous, Stage::Identified])),
            ["Red cap", "Lotte"]
        );
        let f = Filter {
            statuses: vec![Status::New],
            stages: vec![Stage::Pseudonymous],
            consent: Some(false),
            ..Filter::default()
        };
        assert_eq!(f.to_query(), "status=new&stage=pseudonymous&consent=no");
        assert_eq!(Filter::from_query(&format!("?{}", f.to_query())), f);
        assert_eq!(kept(&f), ["Sam"]);
        assert_eq!(
            Filter::from_query("stage=identified&stage=famous"),
            only(vec![Stage::Identified]),
            "an unknown stage is left out"
        );
    }

    #[test]
    fn the_review_queue_names_each_concern() {
        let zone = Zone::CentralEurope;
        let quiet = contact("kempen", "Noor", |_, _| {});
        assert_eq!(
            review(&quiet, day("2026-01-23"), zone, RETENTION_MONTHS),
            []
        );
        assert_eq!(
            review(&quiet, day("2026-01-24"), zone, RETENTION_MONTHS),
            [Concern::NoConsentAfter14Days],
            "met on 10 January"
        );
        assert_eq!(
            review(&quiet, day("2026-04-10"), zone, RETENTION_MONTHS),
            [Concern::NoConsentAfter14Days, Concern::NoActivityFor3Months]
        );
        let closed = contact("kempen", "Daan", |doc, ed| {
            doc.give_consent(ed, day("2026-01-10"), crate::contact::ConsentScope::Pact)
                .expect("consent");
            doc.change_status(ed, Status::Closed, Some("moved"))
                .expect("closed");
            doc.add_note(
                ed,
                NewNote {
                    text: "ring back".into(),
                    follow_up: Some(day("2026-01-12")),
                    ..Default::default()
                },
            )
            .expect("note");
        });
        assert_eq!(
            review(&closed, day("2026-04-10"), zone, RETENTION_MONTHS),
            [Concern::OverdueFollowUp]
        );
        // Changed last on 10 January 2026: kept until 9 January 2028, listed from the
        // 10th, closed or not.
        assert_eq!(
            review(&closed, day("2028-01-09"), zone, RETENTION_MONTHS),
            [Concern::OverdueFollowUp]
        );
        assert_eq!(
            review(&closed, day("2028-01-10"), zone, RETENTION_MONTHS),
            [Concern::OverdueFollowUp, Concern::PastRetention]
        );
        assert!(
            review(&quiet, day("2028-01-10"), zone, RETENTION_MONTHS)
                .contains(&Concern::PastRetention)
        );
        // A pact that keeps records 12 months lists it a year earlier.
        assert_eq!(
            review(&closed, day("2027-01-09"), zone, 12),
            [Concern::OverdueFollowUp]
        );
        assert_eq!(
            review(&closed, day("2027-01-10"), zone, 12),
            [Concern::OverdueFollowUp, Concern::PastRetention]
        );
        assert!(!past_retention(&closed, day("2028-01-10"), zone, 36));
        let mut both = closed.clone();
        both.conflicts.insert(ContactField::Phone, Vec::new());
        assert_eq!(
            review(&both, day("2026-01-11"), zone, RETENTION_MONTHS),
            [Concern::ChangedByBoth]
        );
    }
}
