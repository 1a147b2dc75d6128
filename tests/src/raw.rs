//! A bare protocol client for tests that must send what no device would: thousands of
//! requests at once, for documents nobody has.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub type Sender<S> = SplitSink<WebSocketStream<S>, WsMessage>;
pub type Receiver<S> = SplitStream<WebSocketStream<S>>;

/// Sends `join` as `sender` and waits for the relay's `peer`.
pub async fn join<S>(
    ws: WebSocketStream<S>,
    sender: &str,
) -> anyhow::Result<(Sender<S>, Receiver<S>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    let join = Message::Join {
        sender_id: sender.into(),
        supported_protocol_versions: vec!["1".into()],
        metadata: None,
    };
    tx.send(WsMessage::Binary(join.encode().into())).await?;
    match rx.next().await {
        Some(Ok(WsMessage::Binary(b)))
            if matches!(Message::decode(&b), Ok(Message::Peer { .. })) => {}
        other => anyhow::bail!("no peer message: {other:?}"),
    }
    Ok((tx, rx))
}

/// `n` requests from `sender` for documents nobody has, encoded (made beforehand, so
/// they can be sent faster than the relay answers).
pub fn unknown_requests(sender: &str, n: usize) -> Vec<Vec<u8>> {
    let empty = automerge::sync::SyncDoc::generate_sync_message(
        &automerge::Automerge::new(),
        &mut automerge::sync::State::new(),
    )
    .map(|m| m.encode())
    .unwrap_or_default();
    (0..n)
        .map(|_| {
            Message::Request {
                sender_id: sender.into(),
                target_id: "relay".into(),
                document_id: DocumentId::random(),
                data: empty.clone(),
            }
            .encode()
        })
        .collect()
}
