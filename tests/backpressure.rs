//! A client that asks for far more than it reads (the stock automerge-repo client asks
//! for every document of a team at once, then takes its answers as fast as Automerge
//! lets it) is slowed down by the relay, not closed: the relay stops reading from it
//! while half its queue of replies waits, and every request is answered in the end.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use paktum_shared::protocol::Message;
use paktum_sync_server::auth::Role;
use paktum_tests::pact::pact;
use paktum_tests::raw;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// More answers than the kernel's socket buffers and the relay's queue (4,096
/// messages) hold together, so a relay that went on reading would overflow the queue.
const REQUESTS: usize = 50_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_asking_far_faster_than_it_reads_is_slowed_down_not_closed() -> anyhow::Result<()>
{
    // Only the queue is under test here, not the rate limit.
    let p = pact(|c| c.max_messages_per_second = 10_000_000).await?;
    let token = p.enrol("kempen", "Eager", Role::Worker).await?.token;
    // A small receive buffer: the relay's writes block early, as they do for a phone
    // whose page is busy.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(p.relay.addr).await?;
    let (ws, _) =
        tokio_tungstenite::client_async(p.relay.ws_url_with_token(&token), stream).await?;
    let (mut tx, mut rx) = raw::join(ws, "eager").await?;
    // Made beforehand, so the client asks faster than the relay answers.
    let requests = raw::unknown_requests("eager", REQUESTS);
    let mut sending = tokio::spawn(async move {
        for bytes in requests {
            tx.send(WsMessage::Binary(bytes.into())).await?;
        }
        anyhow::Ok(tx)
    });
    // Reads nothing until every request is sent or for 10 s: a relay that goes on
    // reading overflows the queue meanwhile and closes; one that stops reading holds
    // the rest of the requests back.
    let early = tokio::time::timeout(Duration::from_secs(10), &mut sending)
        .await
        .ok();
    let mut answered = 0;
    while answered < REQUESTS {
        match tokio::time::timeout(Duration::from_secs(60), rx.next()).await {
            Ok(Some(Ok(WsMessage::Binary(b)))) => match Message::decode(&b)? {
                Message::DocUnavailable { .. } => answered += 1,
                other => anyhow::bail!("unexpected {}", other.type_name()),
            },
            Ok(Some(Ok(_))) => {}
            other => anyhow::bail!(
                "the relay ended the connection after {answered} of {REQUESTS} answers: {other:?}"
            ),
        }
    }
    let mut tx = match early {
        Some(sent) => sent??,
        None => sending.await??,
    };
    tx.close().await?;
    p.relay.stop().await
}
