//! One WebSocket connection: the automerge-repo handshake, then messages in both
//! directions until either side leaves. Generic over a stream of frames and a sink of
//! bytes, so it is tested without sockets; `routes.rs` adapts axum's WebSocket.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use paktum_shared::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::Identity;
use crate::hub::document::Kind;
use crate::hub::{Hub, Outgoing};

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
    let (peer_id, storage_id) = match tokio::time::timeout(JOIN_TIMEOUT, incoming.next()).await {
        Err(_) => return "no join within 30 s".into(),
        Ok(None) | Ok(Some(Ok(Frame::Close))) => return "closed before join".into(),
        Ok(Some(Err(e))) => return format!("transport error before join: {e}"),
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
                    let reason = "unsupported protocol version";
                    send_error(&mut outgoing, &hub, reason).await;
                    return reason.into();
                }
                let storage_id = metadata
                    .filter(|m| !m.is_ephemeral)
                    .and_then(|m| m.storage_id);
                (sender_id, storage_id)
            }
            Ok(other) => {
                let reason = format!("expected join, got {}", other.type_name());
                send_error(&mut outgoing, &hub, &reason).await;
                return reason;
            }
            Err(e) => {
                let reason = format!("malformed join: {e}");
                send_error(&mut outgoing, &hub, &reason).await;
                return reason;
            }
        },
        Ok(Some(Ok(_))) => {
            send_error(&mut outgoing, &hub, "expected a binary join message").await;
            return "non-binary frame before join".into();
        }
    };

    let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
    let kick = CancellationToken::new();
    let conn = match hub.connect(peer_id.clone(), storage_id, tx, kick.clone(), identity) {
        Ok(conn) => conn,
        Err(reason) => {
            send_error(&mut outgoing, &hub, &reason).await;
            return reason;
        }
    };
    let mut bucket = Bucket::new(rate);
    let peer = Message::Peer {
        sender_id: hub.peer_id().to_string(),
        selected_protocol_version: PROTOCOL_VERSION.into(),
        target_id: peer_id,
        metadata: Some(PeerMetadata {
            storage_id: Some(hub.storage_id().to_string()),
            is_ephemeral: false,
        }),
    };
    let reason = if outgoing.send(peer.encode()).await.is_err() {
        "closed during handshake".to_string()
    } else {
        // Reading and writing run side by side: a client that is busy sending while
        // its own replies queue up is never deadlocked against the relay, and a client
        // that stops reading fills its queue and is closed by the hub (logged).
        let (reason, tell_client) = {
            let writing = async {
                while let Some(Outgoing::Message(m)) = rx.recv().await {
                    if outgoing.send(m.encode()).await.is_err() {
                        return ("write failed".to_string(), None);
                    }
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
                            let reason = "text frames are not part of the protocol";
                            return ("text frame".to_string(), Some(reason.to_string()));
                        }
                        Some(Ok(Frame::Binary(bytes))) => {
                            bucket.take().await;
                            if let Err(reason) = handle(&hub, conn, &bytes).await {
                                return (reason.clone(), Some(reason));
                            }
                        }
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => ("relay shutting down".to_string(), None),
                _ = kick.cancelled() => (
                    "closed by the hub (too slow, or device revoked)".to_string(),
                    Some("connection closed by the relay".to_string()),
                ),
                ended = writing => ended,
                ended = reading => ended,
            }
        };
        if let Some(message) = tell_client {
            send_error(&mut outgoing, &hub, &message).await;
        }
        reason
    };
    hub.disconnect(conn).await;
    let _ = outgoing.close().await;
    reason
}

/// Handles one message after the handshake; `Err` carries why to close.
async fn handle(hub: &Hub, conn: crate::hub::ConnId, bytes: &[u8]) -> Result<(), String> {
    let msg = Message::decode(bytes).map_err(|e| format!("malformed message: {e}"))?;
    match msg {
        Message::Sync {
            document_id, data, ..
        } => hub
            .receive(conn, document_id, &data, Kind::Sync)
            .await
            .map_err(|e| e.to_string()),
        Message::Request {
            document_id, data, ..
        } => hub
            .receive(conn, document_id, &data, Kind::Request)
            .await
            .map_err(|e| e.to_string()),
        Message::Leave { .. } => Err("client left".into()),
        Message::Join { .. } => Err("join sent twice".into()),
        // Ephemeral messages and heads gossip are optional in the protocol; the relay
        // keeps no presence and ignores them.
        Message::Ephemeral { .. }
        | Message::RemoteSubscriptionChange { .. }
        | Message::RemoteHeadsChanged { .. }
        | Message::DocUnavailable { .. } => Ok(()),
        Message::Peer { .. } => Err("peer message from a client".into()),
        Message::Error { .. } => Err("client reported an error".into()),
    }
}

async fn send_error<K: Sink<Vec<u8>> + Unpin>(outgoing: &mut K, _hub: &Hub, reason: &str) {
    // The client gets a generic reason; details stay in our log.
    let _ = outgoing
        .send(
            Message::Error {
                message: reason.chars().take(120).collect(),
            }
            .encode(),
        )
        .await;
}
