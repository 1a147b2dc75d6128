//! `paktum-load many`: idle connections held open while active pairs of devices
//! exchange small changes; round trip p50/p99, and the CPU the load generator and the
//! server each spent while the pairs were active (they share the machine).

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use paktum_shared::DocumentId;
use paktum_shared::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{cpu_secs_of, latency_json, one_trip, own_cpu_secs, pair};

/// The soft limit on open files, from /proc (Linux).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many devices `many` runs: idle connections, active ones (in pairs), rounds.
pub(crate) struct Shape {
    pub(crate) idle: usize,
    pub(crate) active: usize,
    pub(crate) rounds: usize,
}

pub(crate) async fn many(
    url: &str,
    other: &str,
    team: &str,
    Shape {
        idle,
        active,
        rounds,
    }: Shape,
    limit: Duration,
    server_pid: Option<u32>,
) -> anyhow::Result<serde_json::Value> {
    let need = (idle + active + 64) as u64;
    if let Some(limit) = open_files_limit()
        && limit < need
    {
        bail!(
            "open-file limit {limit} is below the {need} this needs: raise it with `ulimit -n {need}`"
        );
    }
    let start = Instant::now();
    let mut idlers = tokio::task::JoinSet::new();
    for n in 0..idle {
        let Some(left) = limit.checked_sub(start.elapsed()) else {
            bail!("opening idle connections took longer than {limit:?}");
        };
        let (mut ws, _) = tokio::time::timeout(
            left,
            tokio_tungstenite::connect_async(if n % 2 == 0 { url } else { other }),
        )
        .await
        .map_err(|_| anyhow!("opening idle connections took longer than {limit:?}"))?
        .with_context(|| format!("opening idle connection {n}"))?;
        let join = Message::Join {
            sender_id: format!("idle-{n}-{}", DocumentId::random()),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: true,
            }),
        };
        ws.send(WsMessage::Binary(join.encode().into())).await?;
        let wait = limit
            .saturating_sub(start.elapsed())
            .min(Duration::from_secs(30));
        let answer = tokio::time::timeout(wait, ws.next())
            .await
            .map_err(|_| anyhow!("no answer to idle connection {n}'s join"))?;
        if !matches!(answer, Some(Ok(WsMessage::Binary(_)))) {
            bail!("idle connection {n} was refused");
        }
        // Reading answers the server's keep-alive pings, as an idle app would.
        idlers.spawn(async move { while ws.next().await.is_some() {} });
    }
    let idle_secs = start.elapsed().as_secs_f64();

    // The active phase is where the round trips are timed; the CPU both processes
    // spend in it says whether the load generator crowded the server.
    let active_start = Instant::now();
    let cpu_start = (own_cpu_secs(), server_pid.and_then(cpu_secs_of));
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..active / 2 {
        let (url, other) = (url.to_string(), other.to_string());
        let team = format!("{team}-{k}");
        tasks.spawn(async move {
            let (mut a, mut b, id) = pair(&url, &other, &team, limit).await?;
            let mut ms = Vec::with_capacity(rounds);
            for n in 0..rounds {
                ms.push(one_trip(&mut a, &mut b, id, n).await?.as_secs_f64() * 1000.0);
            }
            anyhow::Ok(ms)
        });
    }
    let mut ms = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while let Some(done) = tokio::time::timeout_at(deadline, tasks.join_next())
        .await
        .map_err(|_| anyhow!("active devices took longer than {limit:?}"))?
    {
        ms.extend(done.context("device task panicked")??);
    }
    let active_secs = active_start.elapsed().as_secs_f64();
    let client_cpu = own_cpu_secs() - cpu_start.0;
    let server_cpu = match (cpu_start.1, server_pid.and_then(cpu_secs_of)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    // An idle connection whose reader ended was closed by the server during the run.
    let mut closed = 0;
    while idlers.try_join_next().is_some() {
        closed += 1;
    }
    idlers.abort_all();
    let (p50, p99, n) = latency_json(ms);
    Ok(json!({
        "cmd": "many",
        "idle": idle,
        "active": active / 2 * 2,
        "samples": n,
        "idle_open_secs": idle_secs,
        "idle_closed_early": closed,
        "p50_ms": p50,
        "p99_ms": p99,
        "active_secs": active_secs,
        "client_cpu_secs": client_cpu,
        "server_cpu_secs": server_cpu,
    }))
}
