//! Likely duplicates of a contact in the caseload (issue 15): the same young person
//! met twice and entered twice. Pure and cheap: the caseload is prepared once
//! ([`Caseload::new`], names folded and split into words), then each probe is a pass
//! over it without allocation per candidate.
//!
//! What counts, and why each is shown to the worker as a [`Reason`]:
//! - the **name**, display name or full name, compared as folded words in any order
//!   (case, accents and `ß`/`ss` ignored: "Kovács Anna" is "anna kovacs"). All words
//!   equal: the same name; as many words, each equal or one typo away (a letter
//!   changed, added, dropped or two swapped, in words of 4 letters or more): a similar
//!   name; all words of one name among the other's ("Anna" in "Anna Kovács"): part of
//!   the name;
//! - the **phone**, compared as its national number ([`national_number`]);
//! - the **birth year** (a different year, both known, counts against);
//! - the **municipality**, folded.
//!
//! A candidate needs a name match or the same phone; the score only ranks.

use crate::DocumentId;
use crate::language::fold;

/// What the finder looks at of one contact (read from its document, or typed in the
/// new-contact form for a contact not yet saved).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    pub id: Option<DocumentId>,
    pub display_name: String,
    pub full_name: Option<String>,
    pub birth_year: Option<i64>,
    pub phone: Option<String>,
    pub municipality: Option<String>,
}

impl Person {
    pub fn of(c: &super::Contact) -> Person {
        Person {
            id: Some(c.id),
            display_name: c.display_name.clone(),
            full_name: c.full_name.clone(),
            birth_year: c.birth_year,
            phone: c.phone.clone(),
            municipality: c.municipality.clone(),
        }
    }

    /// What the finder reads of contact `c` once a step to the next stage writes
    /// `values`, as far as they are typed: the identify step asks for duplicates
    /// before the worker confirms it. As `ContactDoc::move_to_stage` writes them, an
    /// empty value clears the field but the display name, which stays; a birth year
    /// the model would refuse ("20", half typed) is no year, a birth date sets the year. The contact itself stays out of what is found.
    pub fn after_step(c: &super::Contact, values: &[(super::ContactField, String)]) -> Person {
        use super::ContactField as F;
        let mut person = Person::of(c);
        let mut dated = None;
        for (field, value) in values {
            let typed = Some(value.trim()).filter(|v| !v.is_empty());
            match field {
                F::DisplayName => {
                    if let Some(v) = typed {
                        person.display_name = v.to_string();
                    }
                }
                F::FullName => person.full_name = typed.map(str::to_string),
                F::BirthYear => {
                    person.birth_year = match super::scalar_of(F::BirthYear, typed) {
                        Ok(Some(automerge::ScalarValue::Int(year))) => Some(year),
                        _ => None,
                    }
                }
                // A real date typed brings its year, as `move_to_stage` writes it.
                F::BirthDate => {
                    if let Some(date) = typed.and_then(|d| super::BirthDate::parse(d).ok()) {
                        dated = Some(date.year());
                    }
                }
                F::Phone => person.phone = typed.map(str::to_string),
                F::Municipality => person.municipality = typed.map(str::to_string),
                _ => {}
            }
        }
        if dated.is_some() {
            person.birth_year = dated;
        }
        person
    }
}

/// Why a candidate is suggested, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    SamePhone,
    SameName,
    SimilarName,
    PartOfName,
    SameBirthYear,
    SameMunicipality,
}

impl Reason {
    fn points(self) -> u32 {
        match self {
            Reason::SamePhone => 50,
            Reason::SameName => 60,
            Reason::SimilarName => 45,
            Reason::PartOfName => 25,
            Reason::SameBirthYear => 20,
            Reason::SameMunicipality => 10,
        }
    }
}

/// A likely duplicate: the score ranks (higher first), the reasons say why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: DocumentId,
    pub score: u32,
    /// In [`Reason`]'s order.
    pub reasons: Vec<Reason>,
}

/// Below this a candidate is not worth a worker's attention (a first name alone).
pub const MIN_SCORE: u32 = 35;
/// A different birth year, both known, takes this off.
const OTHER_YEAR: u32 = 30;

/// A name as sorted folded words.
type Words = Vec<String>;

#[derive(Clone, Debug)]
struct Prepared {
    id: Option<DocumentId>,
    names: Vec<Words>,
    birth_year: Option<i64>,
    phone: Option<String>,
    municipality: Option<String>,
}

fn words(name: &str) -> Words {
    let mut out: Words = fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    out.sort();
    out
}

fn prepare(p: &Person) -> Prepared {
    let mut names: Vec<Words> = std::iter::once(p.display_name.as_str())
        .chain(p.full_name.as_deref())
        .map(words)
        .filter(|w| !w.is_empty())
        .collect();
    names.dedup();
    Prepared {
        id: p.id,
        names,
        birth_year: p.birth_year,
        phone: p.phone.as_deref().and_then(national_number),
        municipality: p
            .municipality
            .as_deref()
            .map(|m| words(m).join(" "))
            .filter(|m| !m.is_empty()),
    }
}

/// A phone number as its national significant number, so the ways one number is
/// written compare equal: only digits count; `+` or `00` starts an international
/// number, whose country code is dropped when it is one of the pact's neighbours
/// (Hungary 36, Belgium 32, the Netherlands 31, France 33, Germany 49, Austria 43,
/// Luxembourg 352); a national number drops its trunk prefix, Hungary's `06` (11
/// digits) or a single `0` elsewhere. "+36 30 123 4567", "06 30 123 4567" and
/// "0036301234567" are all `301234567`; "0470 12 34 56" and "+32 470 12 34 56" are
/// `470123456`. Fewer than 7 digits left is no number.
pub fn national_number(text: &str) -> Option<String> {
    let t = text.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let international = t.starts_with('+') || digits.starts_with("00");
    let national = if international {
        let rest = digits.strip_prefix("00").unwrap_or(&digits);
        ["352", "36", "32", "31", "33", "49", "43"]
            .iter()
            .find_map(|cc| rest.strip_prefix(cc))
            .unwrap_or(rest)
            .to_string()
    } else if digits.len() == 11 && digits.starts_with("06") {
        digits[2..].to_string()
    } else {
        digits.strip_prefix('0').unwrap_or(&digits).to_string()
    };
    (national.len() >= 7).then_some(national)
}

/// Whether two words differ by at most one edit: a letter changed, added or
/// dropped, or two neighbours swapped.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let first = short.iter().zip(long.iter()).position(|(x, y)| x != y);
    let Some(i) = first else {
        return true;
    };
    if short.len() == long.len() {
        // Changed at i, or i and i+1 swapped.
        short[i + 1..] == long[i + 1..]
            || (i + 1 < short.len()
                && short[i] == long[i + 1]
                && short[i + 1] == long[i]
                && short[i + 2..] == long[i + 2..])
    } else {
        short[i..] == long[i + 1..]
    }
}

fn similar_word(a: &str, b: &str) -> bool {
    a == b || (a.chars().count() >= 4 && b.chars().count() >= 4 && within_one_edit(a, b))
}

/// How two names (sorted folded words) match, the strongest way.
fn name_match(a: &Words, b: &Words) -> Option<Reason> {
    if a == b {
        return Some(Reason::SameName);
    }
    if a.len() == b.len() && similar_words(a, b) {
        return Some(Reason::SimilarName);
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    (short.iter().all(|w| long.contains(w))).then_some(Reason::PartOfName)
}

/// Each word of `a` pairs with its own word of `b`, equal or one typo away (greedy,
/// exact pairs first: names have two or three words).
fn similar_words(a: &Words, b: &Words) -> bool {
    let mut used = vec![false; b.len()];
    let mut rest = Vec::new();
    for w in a {
        match (0..b.len()).find(|&j| !used[j] && b[j] == *w) {
            Some(j) => used[j] = true,
            None => rest.push(w),
        }
    }
    rest.into_iter().all(|w| {
        (0..b.len())
            .find(|&j| !used[j] && similar_word(w, &b[j]))
            .map(|j| used[j] = true)
            .is_some()
    })
}

fn compare(probe: &Prepared, other: &Prepared) -> Option<Candidate> {
    let id = other.id?;
    if probe.id == Some(id) {
        return None;
    }
    let mut reasons = Vec::with_capacity(4);
    let name = probe
        .names
        .iter()
        .flat_map(|a| other.names.iter().filter_map(move |b| name_match(a, b)))
        .min();
    let phone = probe.phone.is_some() && probe.phone == other.phone;
    if name.is_none() && !phone {
        return None;
    }
    if phone {
        reasons.push(Reason::SamePhone);
    }
    reasons.extend(name);
    let mut malus = 0;
    match (probe.birth_year, other.birth_year) {
        (Some(a), Some(b)) if a == b => reasons.push(Reason::SameBirthYear),
        (Some(_), Some(_)) => malus = OTHER_YEAR,
        _ => {}
    }
    if probe.municipality.is_some() && probe.municipality == other.municipality {
        reasons.push(Reason::SameMunicipality);
    }
    let score = reasons
        .iter()
        .map(|r| r.points())
        .sum::<u32>()
        .saturating_sub(malus);
    (score >= MIN_SCORE).then_some(Candidate { id, score, reasons })
}

/// The contacts a device holds, prepared for finding duplicates.
#[derive(Clone, Debug, Default)]
pub struct Caseload {
    people: Vec<Prepared>,
}

impl Caseload {
    pub fn new<'a>(people: impl IntoIterator<Item = &'a Person>) -> Caseload {
        Caseload {
            people: people.into_iter().map(prepare).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The likely duplicates of `probe` (itself left out), best first (on equal
    /// scores by id, so every device shows the same order), at most `limit`.
    pub fn find(&self, probe: &Person, limit: usize) -> Vec<Candidate> {
        let probe = prepare(probe);
        if probe.names.is_empty() && probe.phone.is_none() {
            return Vec::new();
        }
        let mut found: Vec<Candidate> = self
            .people
            .iter()
            .filter_map(|other| compare(&probe, other))
            .collect();
        found.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
        found.truncate(limit);
        found
    }
}

#[cfg(test)]
#[path = "duplicates/tests.rs"]
mod tests;
