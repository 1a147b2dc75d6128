//! `paktum-load`: a load generator whose devices run the app's device core
//! (`paktum_shared::device`) over real WebSockets, the same for Paktum's relay and
//! the JS reference server.
//! Each subcommand prints one JSON line (counts, seconds, bytes; never record contents).
//!
//!   paktum-load seed --url ws://127.0.0.1:P/sync --team T --contacts N --employers M --seed S
//!   paktum-load upload|pull|roundtrip|reconnect|many …   (see `--help`; used by `cargo xtask bench`)

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use automerge::ReadDoc;
use clap::{Args, Parser, Subcommand};
use paktum_shared::contact::NewNote;
use paktum_shared::record::RecordDoc;
use paktum_shared::{DocumentId, Editor};
use paktum_tests::Device;
use paktum_tests::synthetic::{self, Seeded};
use serde_json::json;

#[path = "paktum-load/many.rs"]
mod many;
use many::{Shape, many};

/// How long any one measurement may take before the load generator gives up.
const LIMIT: Duration = Duration::from_secs(600);
/// Start of the synthetic working day (2026-11-24 08:00 UTC), in ms.
const DAY_START_MS: i64 = 1_795_507_200_000;

#[derive(Parser)]
#[command(
    name = "paktum-load",
    about = "Synthetic pact load over the automerge-repo protocol"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Dataset {
    /// The relay's sync endpoint, e.g. ws://127.0.0.1:8080/sync
    #[arg(long)]
    url: String,
    /// Team whose caseload index lists the records.
    #[arg(long, default_value = "bench")]
    team: String,
    #[arg(long, default_value_t = 1000)]
    contacts: usize,
    #[arg(long, default_value_t = 0)]
    employers: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep generated records here and reuse them (generating 10,000 takes a minute);
    /// also gives every server of a bench run the very same bytes.
    #[arg(long)]
    cache: Option<std::path::PathBuf>,
    /// Stop uploading after this many seconds and report what was confirmed by then.
    #[arg(long, default_value_t = 600)]
    limit_secs: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Upload a deterministic dataset with one device and list it in the team's index.
    Seed(Dataset),
    /// Upload throughput: N devices at once, each its share of the dataset into team
    /// `<team>-<k>` (one device: `<team>`).
    Upload {
        #[command(flatten)]
        data: Dataset,
        #[arg(long, default_value_t = 4)]
        devices: usize,
    },
    /// Fresh devices pull whole caseloads: one device per team (`<team>`, or with
    /// `--teams K` the teams `<team>-0..K` that `upload --devices K` filled), at once.
    Pull {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "bench")]
        team: String,
        #[arg(long, default_value_t = 1)]
        teams: usize,
        /// Records the teams hold in all (fails if fewer arrive).
        #[arg(long)]
        expect: usize,
    },
    /// Round trip of one small change from one device to another (p50/p99).
    Roundtrip {
        #[arg(long)]
        url: String,
        /// The reader's relay, when it is another one on the same database (default:
        /// `--url`).
        #[arg(long)]
        reader_url: Option<String>,
        #[arg(long, default_value = "roundtrip")]
        team: String,
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Reconnect after a day's work: a device holding the dataset's contacts
    /// reconnects after `changed` edits on the device and `changed` by another device
    /// on the relay (`--limit-secs` bounds loading the records).
    Reconnect {
        #[command(flatten)]
        data: Dataset,
        #[arg(long, default_value_t = 5)]
        changed: usize,
        /// Days to repeat (different records each); the figures are medians.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// The server's process id: its CPU during each reconnect is reported beside
        /// this process's own, so the time can be split between relay and device.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Many devices: idle connections held open while active pairs of devices
    /// exchange changes; round trip p50/p99.
    Many {
        #[arg(long)]
        url: String,
        /// Another relay on the same database: idle connections alternate between the
        /// two, and each active pair writes on `--url` and reads on this one.
        #[arg(long)]
        other_url: Option<String>,
        #[arg(long, default_value = "many")]
        team: String,
        #[arg(long, default_value_t = 1000)]
        idle: usize,
        /// Active devices (in pairs: one writes, the other waits for it).
        #[arg(long, default_value_t = 100)]
        active: usize,
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Seconds each phase (opening the idle connections, the active pairs) may
        /// take before the run fails; a server that stops answering fails this soon.
        #[arg(long, default_value_t = 120)]
        limit_secs: u64,
        /// The server's process id: its CPU during the active phase is reported
        /// beside this process's own (they share the machine).
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let out = match cli.command {
        Command::Seed(data) => upload(&data, 1, "seed").await?,
        Command::Upload { data, devices } => upload(&data, devices.max(1), "upload").await?,
        Command::Pull {
            url,
            team,
            teams,
            expect,
        } => pull(&url, &team, teams.max(1), expect).await?,
        Command::Roundtrip {
            url,
            reader_url,
            team,
            samples,
        } => roundtrip(&url, reader_url.as_deref().unwrap_or(&url), &team, samples).await?,
        Command::Reconnect {
            data,
            changed,
            rounds,
            server_pid,
        } => reconnect(&data, changed, rounds.max(1), server_pid).await?,
        Command::Many {
            url,
            other_url,
            team,
            idle,
            active,
            rounds,
            limit_secs,
            server_pid,
        } => {
            let limit = Duration::from_secs(limit_secs);
            let shape = Shape {
                idle,
                active,
                rounds,
            };
            let other = other_url.unwrap_or_else(|| url.clone());
            many(&url, &other, &team, shape, limit, server_pid).await?
        }
    };
    println!("{out}");
    Ok(())
}

/// Connects, sends what was entered offline and waits until the relay has confirmed
/// every record and the index.
async fn import(device: &mut Device) -> anyhow::Result<()> {
    device.open().await?;
    device.settle().await?;
    let index_id = device.index_id();
    device
        .wait_for("the relay to confirm every record and the index", |r| {
            !r.is_pending(&index_id) && r.pending_count() == 0
        })
        .await
}

/// A device with long waits, for big datasets.
fn load_device(worker: &str, team: &str, url: &str) -> anyhow::Result<Device> {
    let mut device = Device::new(worker, team, url)?;
    device.wait = LIMIT;
    Ok(device)
}

/// The records of device `k` of `devices`: contacts then employers, deterministic.
fn records_for(data: &Dataset, k: usize, devices: usize) -> anyhow::Result<Vec<RecordDoc>> {
    let Some(dir) = &data.cache else {
        return generate(data, k, devices);
    };
    let path = dir.join(format!(
        "records-v1-s{}-{}-c{}-e{}-{k}of{devices}.bin",
        data.seed, data.team, data.contacts, data.employers
    ));
    if let Ok(bytes) = std::fs::read(&path) {
        return read_records(&bytes).with_context(|| format!("reading {}", path.display()));
    }
    let records = generate(data, k, devices)?;
    let mut bytes = Vec::new();
    for r in &records {
        let saved = r.save();
        let id = r.id().to_string();
        bytes.push(u8::try_from(id.len())?);
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(&u32::try_from(saved.len())?.to_le_bytes());
        bytes.extend_from_slice(&saved);
    }
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(records)
}

/// Records as `records_for` caches them: (id length, id, u32 LE length, saved bytes)*.
fn read_records(mut bytes: &[u8]) -> anyhow::Result<Vec<RecordDoc>> {
    let mut records = Vec::new();
    while !bytes.is_empty() {
        let (&id_len, rest) = bytes.split_first().ok_or_else(|| anyhow!("truncated"))?;
        let (id, rest) = rest
            .split_at_checked(usize::from(id_len))
            .ok_or_else(|| anyhow!("truncated"))?;
        let (len, rest) = rest
            .split_at_checked(4)
            .ok_or_else(|| anyhow!("truncated"))?;
        let len = u32::from_le_bytes(len.try_into()?) as usize;
        let (saved, rest) = rest
            .split_at_checked(len)
            .ok_or_else(|| anyhow!("truncated"))?;
        let id: DocumentId = std::str::from_utf8(id)?.parse()?;
        records.push(RecordDoc::load(id, saved)?);
        bytes = rest;
    }
    Ok(records)
}

fn generate(data: &Dataset, k: usize, devices: usize) -> anyhow::Result<Vec<RecordDoc>> {
    let team = team_of(&data.team, k, devices);
    let mut editor = Editor::new(
        synthetic::actor(data.seed, &team, k),
        "Anna",
        DAY_START_MS + k as i64,
    );
    let mut records = Vec::new();
    for n in (k..data.contacts).step_by(devices) {
        let mut rng = Seeded::new(data.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
        editor.worker = synthetic::worker(&mut rng).to_string();
        let doc = synthetic::contact_record(&mut rng, data.seed, &mut editor, &team, n)?;
        records.push(doc.into_record());
    }
    for n in (k..data.employers).step_by(devices) {
        let mut rng = Seeded::new(!data.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
        editor.worker = synthetic::worker(&mut rng).to_string();
        let doc = synthetic::employer_record(&mut rng, data.seed, &mut editor, &team, n)?;
        records.push(doc.into_record());
    }
    Ok(records)
}

fn team_of(team: &str, k: usize, devices: usize) -> String {
    if devices == 1 {
        team.to_string()
    } else {
        format!("{team}-{k}")
    }
}

async fn upload(data: &Dataset, devices: usize, cmd: &str) -> anyhow::Result<serde_json::Value> {
    let generated = Instant::now();
    // Generating is the slow part of a big run; one thread per device's share.
    let shares = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..devices)
            .map(|k| scope.spawn(move || records_for(data, k, devices)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow!("generating records panicked"))?
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let gen_secs = generated.elapsed().as_secs_f64();
    let docs: usize = shares.iter().map(Vec::len).sum();
    let bytes: usize = shares.iter().flatten().map(|r| r.doc().save().len()).sum();

    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(data.limit_secs);
    let mut tasks = tokio::task::JoinSet::new();
    for (k, records) in shares.into_iter().enumerate() {
        let team = team_of(&data.team, k, devices);
        let url = data.url.clone();
        tasks.spawn(async move {
            let mut device = load_device("Anna", &team, &url)?;
            let n = records.len();
            // Entered offline, one record and its index row per change as the app
            // does: the index gets a realistic history (Automerge sends a whole
            // document when the missing changes are over a third of its history), and
            // nothing is sent while the device is busy (the reference's keep-alive
            // drops a device that stops reading for seconds).
            device.adopt(records).await?;
            let done = tokio::time::timeout_at(deadline, import(&mut device)).await;
            match done {
                Ok(Ok(())) => anyhow::Ok((device.traffic, n, true)),
                // Dropped by the server (the reference's keep-alive drops a device that
                // is busy for long): count what it confirmed until then, as when out
                // of time.
                Ok(Err(e)) => {
                    eprintln!("upload of team {team} ended early: {e}");
                    let confirmed = device.replica().progress().done.saturating_sub(1);
                    anyhow::Ok((device.traffic, confirmed.min(n), false))
                }
                // Out of time: count what the relay confirmed (progress counts the index too).
                Err(_) => {
                    let confirmed = device.replica().progress().done.saturating_sub(1);
                    anyhow::Ok((device.traffic, confirmed.min(n), false))
                }
            }
        });
    }
    let mut sent_bytes = 0;
    let mut received_bytes = 0;
    let mut messages = 0;
    let mut confirmed = 0;
    let mut complete = true;
    while let Some(done) = tokio::time::timeout(LIMIT, tasks.join_next())
        .await
        .map_err(|_| anyhow!("upload took longer than {LIMIT:?}"))?
    {
        let (traffic, n, finished) = done.context("upload task panicked")??;
        sent_bytes += traffic.sent_bytes;
        received_bytes += traffic.received_bytes;
        messages += traffic.sent_messages + traffic.received_messages;
        confirmed += n;
        complete &= finished;
    }
    let secs = start.elapsed().as_secs_f64();
    let docs_per_s = confirmed as f64 / secs;
    let docs = if complete { docs } else { confirmed };
    Ok(json!({
        "cmd": cmd,
        "complete": complete,
        "planned": data.contacts + data.employers,
        "devices": devices,
        "contacts": data.contacts,
        "employers": data.employers,
        "docs": docs,
        "doc_bytes": bytes,
        "gen_secs": gen_secs,
        "secs": secs,
        "docs_per_s": docs_per_s,
        "sent_bytes": sent_bytes,
        "received_bytes": received_bytes,
        "messages": messages,
    }))
}

async fn pull(
    url: &str,
    team: &str,
    teams: usize,
    expect: usize,
) -> anyhow::Result<serde_json::Value> {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..teams {
        let team = team_of(team, k, teams);
        let url = url.to_string();
        tasks.spawn(async move {
            let mut device = load_device("Bram", &team, &url)?;
            device.open().await?;
            device.settle().await?;
            anyhow::Ok((device.replica().len().saturating_sub(1), device.traffic))
        });
    }
    let (mut docs, mut received_bytes, mut messages) = (0, 0, 0);
    while let Some(done) = tokio::time::timeout(LIMIT, tasks.join_next())
        .await
        .map_err(|_| anyhow!("pull took longer than {LIMIT:?}"))?
    {
        let (n, traffic) = done.context("pull task panicked")??;
        docs += n;
        received_bytes += traffic.received_bytes;
        messages += traffic.sent_messages + traffic.received_messages;
    }
    let secs = start.elapsed().as_secs_f64();
    if docs < expect {
        bail!("pulled {docs} records, expected {expect}");
    }
    Ok(json!({
        "cmd": "pull",
        "devices": teams,
        "docs": docs,
        "secs": secs,
        "docs_per_s": docs as f64 / secs,
        "received_bytes": received_bytes,
        "messages": messages,
    }))
}

fn small_note(n: usize) -> NewNote {
    NewNote {
        text: format!("quick call {n}"),
        ..NewNote::default()
    }
}

/// A writer and a reader of one shared contact, both connected and in sync; each
/// waits at most `limit` for the relay.
async fn pair(
    url: &str,
    reader_url: &str,
    team: &str,
    limit: Duration,
) -> anyhow::Result<(Device, Device, DocumentId)> {
    let mut a = load_device("Anna", team, url)?;
    a.wait = limit;
    a.open().await?;
    a.settle().await?;
    let id = a
        .create_contact(synthetic::contact(&mut Seeded::new(7), team, 0))
        .await?;
    let index = a.index_id();
    a.wait_for("the relay to confirm the contact", |r| {
        !r.is_pending(&id) && !r.is_pending(&index)
    })
    .await?;
    let mut b = load_device("Bram", team, reader_url)?;
    b.wait = limit;
    b.open().await?;
    b.settle().await?;
    if b.replica().heads(&id).is_none() {
        bail!("the reader did not get the writer's contact");
    }
    Ok((a, b, id))
}

/// One small change from `a` (a note, saved as the app saves it: record and index
/// row), timed until `b` holds it; then `a` takes the ack.
async fn one_trip(
    a: &mut Device,
    b: &mut Device,
    id: DocumentId,
    n: usize,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    a.edit_contact(id, |c, ed| c.add_note(ed, small_note(n)))
        .await?;
    let want = a
        .replica()
        .heads(&id)
        .ok_or_else(|| anyhow!("writer lost its contact"))?;
    b.wait_for("the other device's change", |r| {
        r.heads(&id).is_some_and(|heads| heads == want)
    })
    .await?;
    let took = start.elapsed();
    let index = a.index_id();
    a.wait_for("the relay's ack", |r| {
        !r.is_pending(&id) && !r.is_pending(&index)
    })
    .await?;
    Ok(took)
}

fn percentile(sorted_ms: &[f64], p: usize) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    sorted_ms[(sorted_ms.len() * p / 100).min(sorted_ms.len() - 1)]
}

fn latency_json(mut ms: Vec<f64>) -> (f64, f64, usize) {
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 50), percentile(&ms, 99), ms.len())
}

async fn roundtrip(
    url: &str,
    reader_url: &str,
    team: &str,
    samples: usize,
) -> anyhow::Result<serde_json::Value> {
    let (mut a, mut b, id) = pair(url, reader_url, team, LIMIT).await?;
    let deadline = Instant::now() + LIMIT;
    let mut ms = Vec::with_capacity(samples);
    for n in 0..samples {
        if Instant::now() > deadline {
            bail!("round trips took longer than {LIMIT:?}");
        }
        ms.push(one_trip(&mut a, &mut b, id, n).await?.as_secs_f64() * 1000.0);
    }
    let (p50, p99, n) = latency_json(ms);
    Ok(json!({"cmd": "roundtrip", "samples": n, "p50_ms": p50, "p99_ms": p99}))
}

async fn reconnect(
    data: &Dataset,
    changed: usize,
    rounds: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<serde_json::Value> {
    let (url, team, records) = (data.url.as_str(), data.team.as_str(), data.contacts);
    let recs = records_for(data, 0, 1)?;
    let ids: Vec<DocumentId> = recs.iter().map(RecordDoc::id).collect();
    if ids.len() < 2 * changed * rounds {
        bail!("need at least {} records", 2 * changed * rounds);
    }
    let mut a = load_device("Anna", team, url)?;
    a.adopt(recs).await?;
    let limit = Duration::from_secs(data.limit_secs);
    tokio::time::timeout(limit, import(&mut a))
        .await
        .map_err(|_| {
            anyhow!(
                "loading {records} records took longer than {limit:?} ({} confirmed)",
                a.replica().progress().done.saturating_sub(1)
            )
        })??;
    a.go_offline();

    // Another device of the team with the same records (as if it had synced them).
    let mut b = Device::twin_of("Bram", &a)?;

    let (mut secs, mut bytes, mut messages, mut sent, mut received) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut client_cpu, mut core, mut server_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let theirs_ids = &ids[2 * changed * round..2 * changed * round + changed];
        let ours_ids = &ids[2 * changed * round + changed..2 * changed * (round + 1)];
        // Another device changes records on the relay…
        b.open().await?;
        b.settle().await?;
        for (n, id) in theirs_ids.iter().enumerate() {
            b.edit_contact(*id, |c, ed| c.add_note(ed, small_note(n)))
                .await?;
        }
        b.settle().await?;
        let index = b.index_id();
        b.wait_for("the relay's acks", |r| {
            !r.is_pending(&index) && theirs_ids.iter().all(|id| !r.is_pending(id))
        })
        .await?;
        let theirs: Vec<_> = theirs_ids
            .iter()
            .map(|id| b.replica().heads(id).unwrap_or_default())
            .collect();
        b.go_offline();

        // …while this one does the day's work offline, then reconnects.
        for (n, id) in ours_ids.iter().enumerate() {
            a.edit_contact(*id, |c, ed| c.add_note(ed, small_note(n)))
                .await?;
        }
        a.traffic = Default::default();
        let start = Instant::now();
        let cpu_before = own_cpu_secs();
        let server_before = server_pid.and_then(cpu_secs_of);
        a.connect().await?;
        secs.push(start.elapsed().as_secs_f64());
        client_cpu.push(own_cpu_secs() - cpu_before);
        if let (Some(before), Some(after)) = (server_before, server_pid.and_then(cpu_secs_of)) {
            server_cpu.push(after - before);
        }
        for (id, heads) in theirs_ids.iter().zip(&theirs) {
            let doc = a
                .replica()
                .doc(id)
                .ok_or_else(|| anyhow!("record missing after reconnect"))?;
            if heads.iter().any(|h| doc.get_change_by_hash(h).is_none()) {
                bail!("the other device's change did not arrive on reconnect");
            }
        }
        let t = a.traffic;
        core.push(t.core_time.as_secs_f64());
        bytes.push((t.sent_bytes + t.received_bytes) as f64);
        messages.push((t.sent_messages + t.received_messages) as f64);
        sent.push(t.sent_bytes as f64);
        received.push(t.received_bytes as f64);
        a.go_offline();
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    Ok(json!({
        "cmd": "reconnect",
        "records": records,
        "changed_here": changed,
        "changed_there": changed,
        "rounds": rounds,
        "secs_each": secs.clone(),
        "secs": med(secs),
        "client_cpu_secs": med(client_cpu),
        "server_cpu_secs": med(server_cpu),
        "device_core_secs": med(core),
        "bytes": med(bytes),
        "messages": med(messages),
        "sent_bytes": med(sent),
        "received_bytes": med(received),
    }))
}

/// CPU seconds this process has used (user + system), from /proc (Linux); 0 elsewhere.
fn own_cpu_secs() -> f64 {
    cpu_secs("self").unwrap_or(0.0)
}

/// CPU seconds process `pid` has used (user + system), if /proc shows it.
fn cpu_secs_of(pid: u32) -> Option<f64> {
    cpu_secs(&pid.to_string())
}

fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    // Linux reports in USER_HZ, which is 100 on every mainstream configuration.
    Some(ticks / 100.0)
}
