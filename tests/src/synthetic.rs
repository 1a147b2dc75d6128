//! Synthetic pact data from a seed: plausible first names from the pact languages,
//! never real people. Tests and benchmarks use it; so can demos.

use automerge::ActorId;
use paktum_shared::contact::{Channel, ContactDoc, NewContact, NewNote, Status};
use paktum_shared::employer::{Commitment, EmployerDoc, EmployerField, NewVisit, Opening};
use paktum_shared::{Day, DocumentId, Editor, ModelError};

const FIRST: [&str; 24] = [
    "Bence", "Réka", "Levente", "Zsófia", "Dominik", "Eszter", // Hungarian
    "Lotte", "Milan", "Noor", "Daan", "Fien", "Wout", // Dutch
    "Inès", "Théo", "Manon", "Yanis", "Chloé", "Rayan", // French
    "Jonas", "Lea", "Finn", "Mia", "Emil", "Hannah", // German
];
const PLACES: [&str; 6] = ["Kőszeg", "Bük", "Kempen", "Oudergem", "Worms", "Göttingen"];
const WORKERS: [&str; 8] = [
    "Anna", "Gergő", "Bram", "Sanne", "Camille", "Louis", "Katrin", "Tobias",
];
/// Sentence fragments for notes and visit reports: made up, about nobody.
const NOTE_PARTS: [&str; 12] = [
    "Met at the youth centre",
    "talked about training options",
    "wants to try a trial day",
    "CV drafted together",
    "follow-up call agreed",
    "interested in logistics",
    "asked about evening classes",
    "brought a friend along",
    "prefers contact by text message",
    "needs help with the bus pass",
    "will visit the open day",
    "motivated, keep in touch",
];
const TAGS: [&str; 6] = [
    "cv",
    "training",
    "transport",
    "language",
    "trial-day",
    "mentor",
];
const EMPLOYER_WORDS: [&str; 12] = [
    "Bakkerij",
    "Logistik",
    "Kertészet",
    "Atelier",
    "Metaalbouw",
    "Pflege",
    "Épicerie",
    "Gastro",
    "Bouw",
    "Szerviz",
    "Druckerei",
    "Garage",
];
const SECTORS: [&str; 6] = [
    "logistics",
    "care",
    "hospitality",
    "construction",
    "retail",
    "manufacturing",
];
const OPENINGS: [&str; 6] = [
    "warehouse assistant",
    "kitchen help",
    "apprentice mechanic",
    "care assistant",
    "shop assistant",
    "gardener",
];

/// A small, fast, deterministic generator (SplitMix64); not for secrets.
#[derive(Clone, Debug)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The `n`-th synthetic contact of a seed, for `team`.
pub fn contact(rng: &mut Seeded, team: &str, n: usize) -> NewContact {
    let name = format!("{} {}", rng.pick(&FIRST), n);
    let day = Day::new(2026, 1 + rng.below(11) as u32, 1 + rng.below(28) as u32)
        .unwrap_or(Day::new(2026, 1, 1).expect("valid"));
    NewContact {
        team: team.into(),
        display_name: name,
        first_contact_on: day,
        channel: Channel::ALL[rng.below(Channel::ALL.len())],
        place: Some(rng.pick(&PLACES).to_string()),
        assigned_worker: None,
    }
}

/// A deterministic document id for the `n`-th record of a kind in a team's seeded dataset.
pub fn record_id(seed: u64, team: &str, kind: &str, n: usize) -> DocumentId {
    DocumentId::derived(
        &format!("paktum-synthetic-{seed}-{team}"),
        &format!("{kind}-{n}"),
    )
}

/// A deterministic Automerge actor for a writer of a team's seeded dataset.
pub fn actor(seed: u64, team: &str, worker: usize) -> ActorId {
    let id = DocumentId::derived(
        &format!("paktum-synthetic-{seed}-{team}"),
        &format!("actor-{worker}"),
    );
    ActorId::from(id.as_bytes().as_slice())
}

/// A synthetic worker name (first names only).
pub fn worker(rng: &mut Seeded) -> &'static str {
    rng.pick(&WORKERS)
}

fn day(rng: &mut Seeded) -> Day {
    Day::new(2026, 1 + rng.below(11) as u32, 1 + rng.below(28) as u32)
        .unwrap_or(Day::new(2026, 1, 1).expect("valid"))
}

fn sentence(rng: &mut Seeded) -> String {
    let parts = 2 + rng.below(4);
    let mut text = String::new();
    for i in 0..parts {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(rng.pick(&NOTE_PARTS));
    }
    text.push('.');
    text
}

/// A note of a meeting, 2–5 made-up fragments long, sometimes with tags and a follow-up.
pub fn note(rng: &mut Seeded) -> NewNote {
    let tags = (0..rng.below(3))
        .map(|_| rng.pick(&TAGS).to_string())
        .collect();
    NewNote {
        date: Some(day(rng)),
        place: (rng.below(2) == 0).then(|| rng.pick(&PLACES).to_string()),
        text: sentence(rng),
        tags,
        follow_up: (rng.below(4) == 0).then(|| day(rng)),
    }
}

/// A plausible pathway: 0–4 steps forward from `new`, a reason when it closes.
pub fn status_path(rng: &mut Seeded) -> Vec<(Status, Option<&'static str>)> {
    let steps = rng.below(5);
    let mut path: Vec<(Status, Option<&'static str>)> = Status::ALL[1..=steps.min(4)]
        .iter()
        .map(|s| (*s, None))
        .collect();
    if steps == 4 && rng.below(3) == 0 {
        path.push((Status::Closed, Some("moved away")));
    }
    path
}

/// The `n`-th contact of a seeded dataset as a full record: created, then 5–20 notes
/// and a status history, each as its own change a few minutes after the previous one.
pub fn contact_record(
    rng: &mut Seeded,
    seed: u64,
    editor: &mut Editor,
    team: &str,
    n: usize,
) -> Result<ContactDoc, ModelError> {
    let mut doc = ContactDoc::create_with_id(
        record_id(seed, team, "contact", n),
        editor,
        contact(rng, team, n),
    )?;
    let notes = 5 + rng.below(16);
    let path = status_path(rng);
    for i in 0..notes {
        editor.now_ms += 300_000;
        doc.add_note(editor, note(rng))?;
        if let Some((status, reason)) = path.get(i).copied() {
            editor.now_ms += 60_000;
            doc.change_status(editor, status, reason)?;
        }
    }
    Ok(doc)
}

/// A visit report with 0–2 openings.
pub fn visit(rng: &mut Seeded) -> NewVisit {
    let openings = (0..rng.below(3))
        .map(|_| Opening {
            title: rng.pick(&OPENINGS).to_string(),
            count: 1 + rng.below(4) as u32,
            requirements: None,
        })
        .collect();
    NewVisit {
        date: day(rng),
        purpose: "introduction".into(),
        text: sentence(rng),
        openings,
        follow_up: (rng.below(3) == 0).then(|| day(rng)),
    }
}

/// The `n`-th employer of a seeded dataset: sector, town, commitment and 1–6 visits.
pub fn employer_record(
    rng: &mut Seeded,
    seed: u64,
    editor: &mut Editor,
    team: &str,
    n: usize,
) -> Result<EmployerDoc, ModelError> {
    let name = format!("{} {} {}", rng.pick(&EMPLOYER_WORDS), rng.pick(&PLACES), n);
    let mut doc =
        EmployerDoc::create_with_id(record_id(seed, team, "employer", n), editor, team, &name)?;
    editor.now_ms += 60_000;
    doc.set_field(editor, EmployerField::Sector, Some(rng.pick(&SECTORS)))?;
    editor.now_ms += 60_000;
    doc.set_field(editor, EmployerField::Municipality, Some(rng.pick(&PLACES)))?;
    if rng.below(3) == 0 {
        editor.now_ms += 60_000;
        doc.set_commitment(editor, Commitment::Interested, Some(day(rng)))?;
    }
    for _ in 0..1 + rng.below(6) {
        editor.now_ms += 3_600_000;
        doc.add_visit(editor, visit(rng))?;
    }
    Ok(doc)
}

/// What a coordinator's figures need beyond `contact_record`, for the indicator
/// bench: for some contacts a team move, ESF+ participation (consent, entry, a
/// leaving date and results) and 0–2 referrals to the given employers.
pub fn coordinator_extras(
    rng: &mut Seeded,
    editor: &mut Editor,
    doc: &mut ContactDoc,
    teams: &[&str],
    employers: &[DocumentId],
) -> Result<(), ModelError> {
    use paktum_shared::contact::{
        ContactField, Education, Entry, Gender, LabourStatus, ParticipantResult,
    };
    let start = Day::from_unix_ms(editor.now_ms).unwrap_or(Day::new(2026, 1, 1)?);
    let after = |days: usize| start.plus_days(days as i64).unwrap_or(start);
    editor.now_ms += 60_000;
    doc.set_field(
        editor,
        ContactField::BirthYear,
        Some(&(1994 + rng.below(16)).to_string()),
    )?;
    if rng.below(10) == 0 {
        editor.now_ms += 60_000;
        doc.set_field(editor, ContactField::Team, Some(rng.pick(teams)))?;
    }
    if rng.below(2) == 0 {
        editor.now_ms += 60_000;
        doc.give_consent(editor, start, paktum_shared::contact::ConsentScope::Pact)?;
        doc.set_participant_entry(
            editor,
            Entry {
                entry_on: after(rng.below(20)),
                labour_status: LabourStatus::ALL[rng.below(LabourStatus::ALL.len())],
                education: Education::ALL[rng.below(Education::ALL.len())],
                gender: Gender::ALL[rng.below(Gender::ALL.len())],
            },
        )?;
        if rng.below(2) == 0 {
            let left = after(30 + rng.below(120));
            doc.set_participant_left(editor, Some(left))?;
            for _ in 0..rng.below(3) {
                let on = left.plus_days(rng.below(200) as i64).unwrap_or(left);
                let result = ParticipantResult::ALL[rng.below(ParticipantResult::ALL.len())];
                doc.add_participant_result(editor, result, on)?;
            }
        }
    }
    for _ in 0..rng.below(3) {
        if employers.is_empty() {
            break;
        }
        let to = employers[rng.below(employers.len())];
        let id = doc.add_referral(editor, Some(to), rng.pick(&OPENINGS), after(rng.below(60)))?;
        let outcome = paktum_shared::contact::Outcome::ALL
            [rng.below(paktum_shared::contact::Outcome::ALL.len())];
        if outcome != paktum_shared::contact::Outcome::Pending {
            doc.set_referral_outcome(editor, &id, outcome)?;
        }
    }
    Ok(())
}
