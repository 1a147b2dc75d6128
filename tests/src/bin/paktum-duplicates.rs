//! `paktum-duplicates`: the duplicate finder (`contact::duplicates`) on a seeded
//! caseload, natively. Measures what `Repo::duplicates` does per call: preparing the
//! caseload (folding and splitting every name) and one probe, separately; the median
//! of `--runs` probes, each a contact of the caseload written another way (words
//! swapped, accents dropped, a phone in another form).
//!
//! Prints one JSON line (counts and milliseconds; never record contents).
//!
//!   paktum-duplicates --contacts 10000 --runs 21

use std::time::Instant;

use clap::Parser;
use paktum_shared::DocumentId;
use paktum_shared::contact::duplicates::{Caseload, Person};
use paktum_tests::synthetic::Seeded;
use serde_json::json;

const FIRST: [&str; 12] = [
    "Bence", "Réka", "Zsófia", "Lotte", "Noor", "Daan", "Inès", "Théo", "Chloé", "Jonas", "Lea",
    "Hannah",
];
const LAST: [&str; 12] = [
    "Kovács",
    "Szabó",
    "Tóth",
    "Peeters",
    "Janssens",
    "Dubois",
    "Lefèvre",
    "Müller",
    "Schäfer",
    "Groß",
    "Nagy",
    "Vermeulen",
];
const PLACES: [&str; 6] = ["Kőszeg", "Bük", "Kempen", "Oudergem", "Worms", "Göttingen"];

#[derive(Parser)]
#[command(name = "paktum-duplicates", about = "Duplicate finder at scale")]
struct Cli {
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 21)]
    runs: usize,
}

fn person(rng: &mut Seeded, n: usize) -> Person {
    let first = rng.pick(&FIRST);
    let last = rng.pick(&LAST);
    Person {
        id: Some(DocumentId::derived(
            "paktum-duplicates-bench",
            &n.to_string(),
        )),
        display_name: format!("{first} {last}{}", n % 97),
        full_name: (rng.below(2) == 0).then(|| format!("{last}{} {first} Maria", n % 97)),
        birth_year: Some(1995 + rng.below(15) as i64),
        phone: Some(format!("06 30 {:03} {:04}", n % 1000, rng.below(10_000))),
        municipality: Some(rng.pick(&PLACES).to_string()),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut rng = Seeded::new(cli.seed);
    let people: Vec<Person> = (0..cli.contacts).map(|n| person(&mut rng, n)).collect();
    let mut prepare_ms = Vec::new();
    let mut find_ms = Vec::new();
    let mut found = 0;
    for run in 0..cli.runs.max(1) {
        let t = Instant::now();
        let caseload = Caseload::new(&people);
        prepare_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let of = &people[rng.below(people.len())];
        let mut words: Vec<&str> = of.display_name.split(' ').collect();
        words.reverse();
        let probe = Person {
            id: None,
            display_name: paktum_shared::language::fold(&words.join(" ")),
            full_name: None,
            birth_year: of.birth_year,
            phone: of.phone.as_ref().map(|p| format!("+36{}", &p[1..])),
            municipality: of.municipality.clone(),
        };
        let t = Instant::now();
        let candidates = caseload.find(&probe, 10);
        find_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            candidates.first().map(|c| Some(c.id)) == Some(of.id),
            "run {run}: the contact itself must come first"
        );
        found += candidates.len();
    }
    println!(
        "{}",
        json!({
            "bench": "duplicates",
            "contacts": cli.contacts,
            "runs": cli.runs,
            "prepare_ms_median": median(prepare_ms),
            "find_ms_median": median(find_ms),
            "candidates_per_probe": found as f64 / cli.runs.max(1) as f64,
        })
    );
    Ok(())
}
