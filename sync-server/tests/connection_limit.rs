//! Connections per device across two relays on one PostgreSQL database (issue 17):
//! the limit counts a device's connections on every relay together, refuses the one
//! beyond it with the same error as one relay does, admits it again once another
//! closes, and frees the slots of a relay killed with SIGKILL. The relays are the
//! binary, as their own processes, so one can really be killed. Skipped out loud
//! without a PostgreSQL test server, failing under CI.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use paktum_shared::protocol::Message;
use paktum_shared::refusal::Code;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::launch::{Options, RelayProcess};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const TEAM: &str = "kempen";
const HOUR: i64 = 3_600_000;
/// `--max-connections-per-device`, the default.
const LIMIT: usize = 4;
/// A slot given back (a closed connection, a killed relay) is free again within this.
const FREED_WITHIN: Duration = Duration::from_secs(2);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn start_relay(dir: &Path, n: usize, url: &str) -> anyhow::Result<RelayProcess> {
    let data = dir.join(format!("relay-{n}"));
    std::fs::create_dir_all(&data)?;
    RelayProcess::start(
        Path::new(env!("CARGO_BIN_EXE_paktum-sync-server")),
        &data,
        Options {
            dist: Some(data.join("no-app")),
            log: Some(dir.join(format!("relay-{n}.log"))),
            env: vec![
                ("PAKTUM_DATABASE".into(), url.into()),
                ("NO_COLOR".into(), "1".into()),
            ],
            ..Options::default()
        },
    )
}

/// A sync connection after its `join`: held open, or refused with the relay's code.
async fn join(url: &str) -> anyhow::Result<Result<Socket, Option<Code>>> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let join = Message::Join {
        sender_id: format!("limit-{}", rand_suffix()),
        supported_protocol_versions: vec!["1".into()],
        metadata: None,
    };
    socket.send(WsMessage::Binary(join.encode().into())).await?;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no answer to join"))?;
        match frame {
            Some(Ok(WsMessage::Binary(bytes))) => {
                return Ok(match Message::decode(&bytes)? {
                    Message::Peer { .. } => Ok(socket),
                    Message::Error { code, .. } => Err(code),
                    other => anyhow::bail!("unexpected answer to join: {other:?}"),
                });
            }
            Some(Ok(WsMessage::Close(_))) | None => anyhow::bail!("closed without an answer"),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(_)) => {}
        }
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Joins until admitted; every refusal meanwhile must be the limit's. How long it took.
async fn admitted_within(url: &str, within: Duration) -> anyhow::Result<(Socket, Duration)> {
    let started = Instant::now();
    loop {
        match join(url).await? {
            Ok(socket) => return Ok((socket, started.elapsed())),
            Err(code) => {
                assert_eq!(code, Some(Code::TooManyConnections));
                anyhow::ensure!(started.elapsed() < within, "still refused after {within:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_device_are_counted_across_relays() -> anyhow::Result<()> {
    let Some(url) = paktum_tests::postgres::fresh_database() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let token = {
        let directory = Directory::connect(dir.path(), Some(&url))?;
        directory.create_team("kempen-pact", TEAM, false)?;
        let (_, code) = directory.invite(TEAM, "Anna", Role::Worker, HOUR, now_ms())?;
        directory.enrol(&code, "test phone", now_ms())?.0
    };
    let one = start_relay(dir.path(), 1, &url)?;
    let two = start_relay(dir.path(), 2, &url)?;
    let (on_one, on_two) = (one.ws_url_with_token(&token), two.ws_url_with_token(&token));

    // The device's share, all on relay one; the next, on relay two, is refused with
    // the error one relay gives.
    let mut held = Vec::new();
    for n in 0..LIMIT {
        match join(&on_one).await? {
            Ok(socket) => held.push(socket),
            Err(code) => anyhow::bail!("connection {n} refused on relay one: {code:?}"),
        }
    }
    let beyond = join(&on_two).await?;
    assert!(
        matches!(beyond, Err(Some(Code::TooManyConnections))),
        "connection {} on relay two: {:?}",
        LIMIT + 1,
        beyond.as_ref().map(|_| "admitted")
    );
    let here = join(&on_one).await?;
    assert!(matches!(here, Err(Some(Code::TooManyConnections))));

    // One closed on relay one: relay two admits one, and only one.
    let mut closing = held.pop().expect("held");
    closing.close(None).await?;
    while closing.next().await.is_some() {}
    let (moved, took) = admitted_within(&on_two, FREED_WITHIN).await?;
    eprintln!("a closed connection's slot was taken on the other relay after {took:?}");
    assert!(matches!(
        join(&on_two).await?,
        Err(Some(Code::TooManyConnections))
    ));

    // Relay one killed: its three slots are free at once (PostgreSQL ends its
    // session); relay two admits three more, then refuses again.
    one.kill()?;
    let killed = Instant::now();
    let mut after_kill = vec![moved];
    for _ in 1..LIMIT {
        after_kill.push(admitted_within(&on_two, FREED_WITHIN).await?.0);
    }
    eprintln!(
        "the killed relay's slots were free on the other after {:?}",
        killed.elapsed()
    );
    assert!(matches!(
        join(&on_two).await?,
        Err(Some(Code::TooManyConnections))
    ));
    drop(after_kill);
    drop(held);
    two.stop()?;
    Ok(())
}
