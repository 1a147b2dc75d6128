//! Synthetic pact data from a seed: plausible first names from the pact languages,
//! never real people. Tests and benchmarks use it; so can demos.

use paktum_shared::Day;
use paktum_shared::contact::{Channel, NewContact};

const FIRST: [&str; 24] = [
    "Bence", "Réka", "Levente", "Zsófia", "Dominik", "Eszter", // Hungarian
    "Lotte", "Milan", "Noor", "Daan", "Fien", "Wout", // Dutch
    "Inès", "Théo", "Manon", "Yanis", "Chloé", "Rayan", // French
    "Jonas", "Lea", "Finn", "Mia", "Emil", "Hannah", // German
];
const PLACES: [&str; 6] = ["Kőszeg", "Bük", "Kempen", "Oudergem", "Worms", "Göttingen"];

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
