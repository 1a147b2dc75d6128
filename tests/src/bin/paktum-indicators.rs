//! `paktum-indicators`: the coordinator's figures at scale, for `cargo xtask bench`.
//! Makes a seeded pact (contacts with notes, status histories, team moves, ESF+ data
//! and referrals; employers with visits), then measures, natively:
//!   - reading every record into plain values (`read_contact`, `read_employer`), and
//!     the contacts again for the figures (`read_contact_for_figures`) (`read_contact_for_figures`),
//!   - computing the dashboard (`indicators::dashboard`: the year per team plus the
//!     twelve months pact-wide), the work a coordinator's screen redoes after a change.
//!
//! Prints one JSON line (counts and milliseconds; never record contents).
//!
//!   paktum-indicators --contacts 10000 --employers 1000 --runs 5

use std::time::Instant;

use clap::Parser;
use paktum_shared::contact::{Contact, read_contact, read_contact_for_figures};
use paktum_shared::employer::{Employer, read_employer};
use paktum_shared::indicators::{self, GroupBy, Period, Query, Zone};
use paktum_shared::record::RecordDoc;
use paktum_shared::{DocumentId, Editor};
use paktum_tests::synthetic::{self, Seeded};
use serde_json::json;

/// 2026-01-01 00:00 UTC, in ms: the synthetic pact's records spread over 2026.
const YEAR_START_MS: i64 = 1_767_225_600_000;
const TEAMS: [&str; 4] = ["kempen", "herentals", "geel", "mol"];

#[derive(Parser)]
#[command(name = "paktum-indicators", about = "Coordinator figures at scale")]
struct Cli {
    #[arg(long, default_value_t = 1000)]
    contacts: usize,
    #[arg(long, default_value_t = 100)]
    employers: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many times the dashboard is computed (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let made = Instant::now();
    let records = generate(&cli)?;
    let generate_s = made.elapsed().as_secs_f64();

    let read = Instant::now();
    let mut contacts: Vec<Contact> = Vec::new();
    let mut employers: Vec<Employer> = Vec::new();
    for r in &records {
        match r.kind() {
            paktum_shared::record::Kind::Contact => contacts.push(read_contact(r)?),
            paktum_shared::record::Kind::Employer => employers.push(read_employer(r)?),
            _ => {}
        }
    }
    let read_ms = read.elapsed().as_secs_f64() * 1000.0;

    // What the indicators need: the notes left out but for open follow-ups.
    let lean = Instant::now();
    contacts.clear();
    for r in &records {
        if r.kind() == paktum_shared::record::Kind::Contact {
            contacts.push(read_contact_for_figures(r)?);
        }
    }
    let read_lean_ms = lean.elapsed().as_secs_f64() * 1000.0;

    let query = Query {
        period: Period::Year(2026),
        zone: Zone::CentralEurope,
        group_by: GroupBy::Team,
        inclusive_goal_percent: 50,
    };
    let mut times = Vec::new();
    let mut reached = 0;
    for _ in 0..cli.runs.max(1) {
        let t = Instant::now();
        let d = indicators::dashboard(query, &contacts, &employers)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        reached = d.pact().get(&indicators::Row::Reached).count;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "contacts": contacts.len(),
            "employers": employers.len(),
            "reached": reached,
            "generate_s": generate_s,
            "read_ms": read_ms,
            "read_for_figures_ms": read_lean_ms,
            "dashboard_ms": times[times.len() / 2],
            "runs": times.len(),
        })
    );
    Ok(())
}

fn generate(cli: &Cli) -> anyhow::Result<Vec<RecordDoc>> {
    let employer_ids: Vec<DocumentId> = (0..cli.employers)
        .map(|n| synthetic::record_id(cli.seed, TEAMS[n % TEAMS.len()], "employer", n))
        .collect();
    let mut records = Vec::new();
    for n in 0..cli.contacts {
        let team = TEAMS[n % TEAMS.len()];
        let mut rng = Seeded::new(cli.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
        // Spread over 2026 (31,500,000,000 ms is about 365 days).
        let at = YEAR_START_MS + (n as i64) * (31_500_000_000 / cli.contacts.max(1) as i64);
        let mut editor = Editor::new(synthetic::actor(cli.seed, team, 0), "Anna", at);
        editor.worker = synthetic::worker(&mut rng).to_string();
        let mut doc = synthetic::contact_record(&mut rng, cli.seed, &mut editor, team, n)?;
        synthetic::coordinator_extras(&mut rng, &mut editor, &mut doc, &TEAMS, &employer_ids)?;
        records.push(doc.into_record());
    }
    for (n, _) in employer_ids.iter().enumerate() {
        let team = TEAMS[n % TEAMS.len()];
        let mut rng = Seeded::new(!cli.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
        let at = YEAR_START_MS + (n as i64) * (31_500_000_000 / cli.employers.max(1) as i64);
        let mut editor = Editor::new(synthetic::actor(cli.seed, team, 1), "Jonas", at);
        let doc = synthetic::employer_record(&mut rng, cli.seed, &mut editor, team, n)?;
        records.push(doc.into_record());
    }
    Ok(records)
}
