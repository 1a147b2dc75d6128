//! One WebSocket connection: the automerge-repo handshake, then messages in both
//! directions until either side leaves. Generic over a stream of frames and a sink of
//! bytes, so it is tested without sockets; `routes.rs` adapts axum's WebSocket.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use paktum_shared::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::auth::Identity;
use crate::error::Error;
use crate::hub::document::Kind;
use crate::hub::{Hub, Kick, Outgoing};

mod wipe;

pub use wipe::withdraw;

/// Messages per second the relay takes from one connection, with a burst allowance.
/// Beyond it the relay reads more slowly (the client's sends wait on TCP), so a device
/// importing thousands of records is slowed, never cut off.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 5000,
            burst: 20_000,
        }
    }
}

/// A token bucket: cheap, and fair to a device that catches up after a day offline.
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    at: tokio::time::Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            at: tokio::time::Instant::now(),
        }
    }

    /// Takes a token, first waiting until one has refilled if none is left.
    async fn take(&mut self) {
        let now = tokio::time::Instant::now();
        let per_second = f64::from(self.limit.per_second.max(1));
        let refill = now.duration_since(self.at).as_secs_f64() * per_second;
        self.tokens = (self.tokens + refill).min(f64::from(self.limit.burst.max(1)));
        self.at = now;
        if self.tokens < 1.0 {
            let wait = (1.0 - self.tokens) / per_second;
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
            self.at = tokio::time::Instant::now();
            self.tokens = 1.0;
        }
        self.tokens -= 1.0;
    }
}

/// What arrives on a connection, transport details stripped.
#[derive(Debug)]
pub enum Frame {
    Binary(Vec<u8>),
    Text,
    Close,
    /// Pings and pongs: the transport answers them.
    Control,
}

/// How long a client may take to send `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages queued for one connection before it counts as too slow.
const QUEUE: usize = 4096;
/// Free room in a connection's queue below which the relay reads nothing more from it
/// until the client has taken its replies: a client that asks for thousands of
/// documents at once (the stock automerge-repo client does) is slowed down, not closed.
/// What others' changes add to the queue still closes a client that stops reading.
const ROOM: usize = QUEUE / 2;

/// Runs a connection to its end. Returns why it ended (for the log).
pub async fn run<S, K, E>(
    hub: Arc<Hub>,
    identity: Option<Identity>,
    rate: RateLimit,
    mut incoming: S,
    mut outgoing: K,
    shutdown: CancellationToken,
) -> String
where
    S: Stream<Item = Result<Frame, E>> + Unpin,
    K: Sink<Vec<u8>> + Unpin,
    E: std::fmt::Display,
{
    let (peer_id, storage_id) = match join(&mut incoming, &mut outgoing).await {
        Ok(joined) => joined,
        Err(reason) => return reason,
    };
    let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
    // Weak: the connection ends when the hub drops its sender.
    let room = tx.downgrade();
    let drained = Notify::new();
    let kick = Kick::default();
    // Kept for the erasures it is told of: which index it follows.
    let told = identity.clone();
    // Relays sharing a database count a device's connections together.
    let slot = match hub.take_slot(identity.as_ref()).await {
        Ok(slot) => slot,
        Err(e) => return refuse(&mut outgoing, e).await,
    };
    let conn = match hub.connect(peer_id.clone(), storage_id, tx, kick.clone(), identity) {
        Ok(conn) => conn,
        Err(e) => {
            return refuse(&mut outgoing, e).await;
        }
    };
    let mut bucket = Bucket::new(rate);
    let reason = if outgoing.send(peer(&hub, peer_id).encode()).await.is_err() {
        "closed during handshake".to_string()
    } else {
        tell_erasures(&hub, conn, told.as_ref()).await;
        // Reading and writing run side by side: a client that is busy sending while
        // its own replies queue up is never deadlocked against the relay. Once its
        // replies fill half its queue, it is read no further until they drain
        // ([`ROOM`]); a client that stops reading while others' changes fill its
        // queue is closed by the hub (logged).
        let (reason, tell_client) = {
            let writing = async {
                while let Some(Outgoing::Message(m)) = rx.recv().await {
                    if outgoing.send(m.encode()).await.is_err() {
                        return ("write failed".to_string(), None);
                    }
                    drained.notify_one();
                }
                ("hub dropped connection".to_string(), None)
            };
            let reading = async {
                loop {
                    match incoming.next().await {
                        None | Some(Ok(Frame::Close)) => {
                            return ("client closed".to_string(), None);
                        }
                        Some(Err(e)) => return (format!("transport error: {e}"), None),
                        Some(Ok(Frame::Control)) => {}
                        Some(Ok(Frame::Text)) => {
                            let e = Error::Protocol("text frames are not part of the protocol");
                            return (e.to_string(), Some(e));
                        }
                        Some(Ok(Frame::Binary(bytes))) => {
                            bucket.take().await;
                            while room.upgrade().is_some_and(|tx| tx.capacity() < ROOM) {
                                drained.notified().await;
                            }
                            if let Err(e) = handle(&hub, conn, &bytes).await {
                                return (e.to_string(), Some(e));
                            }
                        }
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => ("relay shutting down".to_string(), None),
                e = kick.kicked() => (format!("closed by the hub: {e}"), Some(e)),
                ended = writing => ended,
                ended = reading => ended,
            }
        };
        if let Some(e) = tell_client {
            send_error(&mut outgoing, &e).await;
        }
        reason
    };
    hub.disconnect(conn).await;
    drop(slot);
    let _ = outgoing.close().await;
    reason
}

/// The answer to `join`.
fn peer(hub: &Hub, peer_id: String) -> Message {
    Message::Peer {
        sender_id: hub.peer_id().to_string(),
        selected_protocol_version: PROTOCOL_VERSION.into(),
        target_id: peer_id,
        metadata: Some(PeerMetadata {
            storage_id: Some(hub.storage_id().to_string()),
            is_ephemeral: false,
        }),
    }
}

/// Waits for the client's `join`: its peer id and storage id, or why the connection
/// ends (the client was told).
async fn join<S, K, E>(
    incoming: &mut S,
    outgoing: &mut K,
) -> Result<(String, Option<String>), String>
where
    S: Stream<Item = Result<Frame, E>> + Unpin,
    K: Sink<Vec<u8>> + Unpin,
    E: std::fmt::Display,
{
    let refused = match tokio::time::timeout(JOIN_TIMEOUT, incoming.next()).await {
        Err(_) => return Err("no join within 30 s".into()),
        Ok(None) | Ok(Some(Ok(Frame::Close))) => return Err("closed before join".into()),
        Ok(Some(Err(e))) => return Err(format!("transport error before join: {e}")),
        Ok(Some(Ok(Frame::Binary(bytes)))) => match Message::decode(&bytes) {
            Ok(Message::Join {
                sender_id,
                supported_protocol_versions,
                metadata,
            }) => {
                if !supported_protocol_versions
                    .iter()
                    .any(|v| v == PROTOCOL_VERSION)
                {
                    Error::UnsupportedVersion
                } else {
                    let storage_id = metadata
                        .filter(|m| !m.is_ephemeral)
                        .and_then(|m| m.storage_id);
                    return Ok((sender_id, storage_id));
                }
            }
            Ok(other) => {
                tracing::debug!(got = other.type_name(), "expected join");
                Error::Protocol("expected a join message first")
            }
            Err(e) => Error::Malformed(format!("join: {e}")),
        },
        Ok(Some(Ok(_))) => Error::Protocol("expected a binary join message"),
    };
    Err(refuse(outgoing, refused).await)
}

/// Right after the handshake, before anything else reaches it: the erasures this
/// device has not confirmed (it was offline, or did not get to confirm), each with its
/// index it follows there (its team's, or its own in an "own caseload only" team),
/// which was rewritten.
async fn tell_erasures(hub: &Hub, conn: crate::hub::ConnId, identity: Option<&Identity>) {
    let device = identity.map(|i| i.device_id);
    let (Some(device), Some(directory)) = (device, hub.directory().cloned()) else {
        return;
    };
    match tokio::task::spawn_blocking(move || directory.unconfirmed_erasures(device)).await {
        Ok(Ok(erasures)) => {
            for e in erasures {
                let index = crate::hub::index_told(identity, &e.team);
                hub.tell_erased(conn, e.doc, Some(index));
            }
        }
        _ => tracing::warn!(conn, "could not read the erasures this device owes"),
    }
}

/// Handles one message after the handshake; `Err` carries why to close.
async fn handle(hub: &Hub, conn: crate::hub::ConnId, bytes: &[u8]) -> Result<(), Error> {
    let msg = Message::decode(bytes).map_err(|e| Error::Malformed(e.to_string()))?;
    match msg {
        Message::Sync {
            document_id, data, ..
        } => hub.receive(conn, document_id, &data, Kind::Sync).await,
        Message::Request {
            document_id, data, ..
        } => hub.receive(conn, document_id, &data, Kind::Request).await,
        Message::Leave { .. } => Err(Error::Protocol("client left")),
        Message::Join { .. } => Err(Error::Protocol("join sent twice")),
        // Ephemeral messages and heads gossip are optional in the protocol; the relay
        // keeps no presence and ignores them.
        Message::Ephemeral { .. }
        | Message::RemoteSubscriptionChange { .. }
        | Message::RemoteHeadsChanged { .. }
        | Message::DocUnavailable { .. } => Ok(()),
        Message::ErasureConfirmed { document_id, .. } => {
            hub.confirm_erasure(conn, document_id).await
        }
        Message::Erased { .. } => Err(Error::Protocol("erasure notice from a client")),
        Message::Wipe { .. } | Message::Wiped { .. } => {
            Err(Error::Protocol("wipe notice from a client"))
        }
        Message::Unsynced { .. } | Message::WipeReady { .. } => {
            Err(Error::Protocol("hand-in from a device not withdrawn"))
        }
        Message::Peer { .. } => Err(Error::Protocol("peer message from a client")),
        Message::Error { .. } => Err(Error::Protocol("client reported an error")),
    }
}

/// Tells the client why it is closed (the generic reason) and returns the detail
/// for the log.
async fn refuse<K: Sink<Vec<u8>> + Unpin>(outgoing: &mut K, e: Error) -> String {
    send_error(outgoing, &e).await;
    e.to_string()
}

/// Sends an `error` message: the generic reason and its code, never the detail.
async fn send_error<K: Sink<Vec<u8>> + Unpin>(outgoing: &mut K, e: &Error) {
    let _ = outgoing
        .send(
            Message::Error {
                message: e.public().chars().take(120).collect(),
                code: Some(e.code()),
            }
            .encode(),
        )
        .await;
}

#[cfg(test)]
mod tests {
    //! The session over in-memory channels (tokio-rs/axum `examples/testing-websockets`
    //! shape): no socket, the real hub on in-memory storage.

    use super::*;
    use crate::hub::Limits;
    use crate::storage::MemoryStorage;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use paktum_shared::DocumentId;
    use paktum_shared::refusal::Code;
    use tokio::task::JoinHandle;

    struct Client {
        to_relay: mpsc::Sender<Frame>,
        from_relay: mpsc::Receiver<Vec<u8>>,
        ended: JoinHandle<String>,
    }

    fn connect() -> Client {
        let hub = Arc::new(
            Hub::new(
                Arc::new(MemoryStorage::new()),
                None,
                None,
                Limits::default(),
            )
            .expect("hub"),
        );
        let (to_relay, frames) = mpsc::channel::<Frame>(16);
        let (replies, from_relay) = mpsc::channel::<Vec<u8>>(16);
        let incoming = Box::pin(futures_util::stream::unfold(frames, |mut rx| async move {
            rx.recv()
                .await
                .map(|f| (Ok::<_, std::convert::Infallible>(f), rx))
        }));
        let outgoing = Box::pin(futures_util::sink::unfold(
            replies,
            |tx, bytes: Vec<u8>| async move {
                tx.send(bytes).await.map_err(|_| "client gone")?;
                Ok::<_, &str>(tx)
            },
        ));
        let ended = tokio::spawn(run(
            hub,
            None,
            RateLimit::default(),
            incoming,
            outgoing,
            CancellationToken::new(),
        ));
        Client {
            to_relay,
            from_relay,
            ended,
        }
    }

    impl Client {
        async fn send(&self, message: Message) {
            self.to_relay
                .send(Frame::Binary(message.encode()))
                .await
                .expect("relay reads");
        }

        async fn next(&mut self) -> Message {
            let bytes = self.from_relay.recv().await.expect("relay answers");
            Message::decode(&bytes).expect("relay speaks the protocol")
        }

        async fn join(&mut self, versions: &[&str]) -> Message {
            self.send(Message::Join {
                sender_id: "device".into(),
                supported_protocol_versions: versions.iter().map(|v| v.to_string()).collect(),
                metadata: Some(PeerMetadata {
                    storage_id: Some("device-storage".into()),
                    is_ephemeral: false,
                }),
            })
            .await;
            self.next().await
        }
    }

    #[tokio::test]
    async fn the_handshake_answers_join_with_peer() {
        let mut client = connect();
        match client.join(&[PROTOCOL_VERSION]).await {
            Message::Peer {
                target_id,
                selected_protocol_version,
                metadata,
                ..
            } => {
                assert_eq!(target_id, "device");
                assert_eq!(selected_protocol_version, PROTOCOL_VERSION);
                assert!(metadata.and_then(|m| m.storage_id).is_some());
            }
            other => panic!("expected peer, got {}", other.type_name()),
        }
        client.to_relay.send(Frame::Close).await.expect("close");
        assert_eq!(client.ended.await.expect("session"), "client closed");
    }

    #[tokio::test]
    async fn a_sync_exchange_takes_a_new_document_and_acknowledges_it() {
        let mut client = connect();
        client.join(&[PROTOCOL_VERSION]).await;
        let id = DocumentId::random();
        let mut doc = automerge::Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "team", "kempen").expect("put");
        tx.commit();
        let mut state = automerge::sync::State::new();
        let mut acknowledged = false;
        for _ in 0..4 {
            let Some(msg) = doc.generate_sync_message(&mut state) else {
                break;
            };
            client
                .send(Message::Sync {
                    sender_id: "device".into(),
                    target_id: "relay".into(),
                    document_id: id,
                    data: msg.encode(),
                })
                .await;
            match client.next().await {
                Message::Sync {
                    document_id, data, ..
                } => {
                    assert_eq!(document_id, id);
                    let reply = automerge::sync::Message::decode(&data).expect("decode");
                    acknowledged = reply.heads == doc.get_heads();
                    doc.receive_sync_message(&mut state, reply).expect("apply");
                }
                other => panic!("expected sync, got {}", other.type_name()),
            }
            if acknowledged {
                break;
            }
        }
        assert!(acknowledged, "the relay confirms it holds the change");
    }

    #[tokio::test]
    async fn a_malformed_message_is_refused_with_a_generic_reason() {
        let mut client = connect();
        client.join(&[PROTOCOL_VERSION]).await;
        client
            .to_relay
            .send(Frame::Binary(vec![0xa1, 0x64, 0x74, 0x79]))
            .await
            .expect("send");
        match client.next().await {
            Message::Error { message, code } => {
                assert_eq!(message, "malformed message");
                assert_eq!(code, Some(Code::Malformed));
            }
            other => panic!("expected error, got {}", other.type_name()),
        }
        let logged = client.ended.await.expect("session");
        assert!(
            logged.starts_with("malformed message: ") && logged.len() > "malformed message: ".len(),
            "the log gets the detail: {logged}"
        );
    }

    #[tokio::test]
    async fn an_unsupported_protocol_version_is_refused() {
        let mut client = connect();
        match client.join(&["0"]).await {
            Message::Error { message, code } => {
                assert_eq!(message, "unsupported protocol version");
                assert_eq!(code, Some(Code::ProtocolVersion));
            }
            other => panic!("expected error, got {}", other.type_name()),
        }
        assert!(client.ended.await.expect("session").contains("unsupported"));
    }
}
