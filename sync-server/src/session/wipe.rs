//! The one kind of session a withdrawn device still gets (`admin revoke --wipe`): the
//! handshake, then `paktum-wipe`; the device hands in what the relay has not
//! confirmed (`paktum-unsynced` …, `paktum-wipe-ready`), the relay keeps it — in the
//! quarantine, or merged through the hub's ordinary path with the device's own access
//! — and answers `paktum-wiped` with why, after which the device erases everything.
//! Nothing of any document is ever sent to it: its requests and syncs are ignored.

use std::sync::Arc;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use paktum_shared::DocumentId;
use paktum_shared::protocol::Message;
use paktum_shared::refusal::Code;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Frame, JOIN_TIMEOUT, QUEUE, join, peer};
use crate::auth::{WipeOrder, now_ms};
use crate::hub::document::Kind;
use crate::hub::{ConnId, Hub, Kick, Outgoing};

/// Documents and bytes a withdrawn device may hand in: well above a caseload, well
/// below what would hurt the relay.
const MAX_DOCUMENTS: usize = 20_000;
const MAX_BYTES: usize = 256 << 20;

/// Why the device is wiped, for people; the app words the code instead.
fn sentence(quarantine: bool) -> &'static str {
    if quarantine {
        "this device was withdrawn by the pact and its data erased; changes not yet sent \
         are kept apart for the coordinator"
    } else {
        "this device was withdrawn by the pact and its data erased; changes not yet sent \
         were handed to the relay first"
    }
}

/// Runs a withdrawn device's session to its end. Returns why it ended (for the log).
pub async fn withdraw<S, K, E>(
    hub: Arc<Hub>,
    order: WipeOrder,
    mut incoming: S,
    mut outgoing: K,
    shutdown: CancellationToken,
) -> String
where
    S: Stream<Item = Result<Frame, E>> + Unpin,
    K: Sink<Vec<u8>> + Unpin,
    E: std::fmt::Display,
{
    let (peer_id, _storage) = match join(&mut incoming, &mut outgoing).await {
        Ok(joined) => joined,
        Err(reason) => return reason,
    };
    let device = order.identity.device_id;
    let wipe = Message::Wipe {
        sender_id: hub.peer_id().to_string(),
        target_id: peer_id.clone(),
        quarantine: order.quarantine,
    };
    if outgoing
        .send(peer(&hub, peer_id.clone()).encode())
        .await
        .is_err()
        || outgoing.send(wipe.encode()).await.is_err()
    {
        return "closed during handshake".into();
    }
    // A plain wipe merges through the hub as any sync would, with the device's own
    // access; the connection has no storage id (no sync state is kept for it) and the
    // hub's replies are dropped, never sent to the device.
    let merging = if order.quarantine || order.done {
        None
    } else {
        let (tx, mut rx) = mpsc::channel::<Outgoing>(QUEUE);
        match hub.connect(
            peer_id.clone(),
            None,
            tx,
            Kick::default(),
            Some(order.identity.clone()),
        ) {
            Ok(conn) => {
                tokio::spawn(async move { while rx.recv().await.is_some() {} });
                Some(conn)
            }
            Err(e) => return format!("could not merge a withdrawn device's changes: {e}"),
        }
    };
    let mut handed_in: Vec<(DocumentId, Vec<u8>)> = Vec::new();
    let (mut merged, mut bytes) = (0u64, 0usize);
    let ended = loop {
        let frame = tokio::select! {
            _ = shutdown.cancelled() => break Err("relay shutting down".to_string()),
            frame = tokio::time::timeout(JOIN_TIMEOUT, incoming.next()) => frame,
        };
        let bytes_in = match frame {
            Err(_) => break Err("withdrawn device went quiet".into()),
            Ok(None) | Ok(Some(Ok(Frame::Close))) => break Err("client closed".into()),
            Ok(Some(Err(e))) => break Err(format!("transport error: {e}")),
            Ok(Some(Ok(Frame::Binary(b)))) => b,
            Ok(Some(Ok(_))) => continue,
        };
        match Message::decode(&bytes_in) {
            Ok(Message::Unsynced {
                document_id, data, ..
            }) if !order.done => {
                bytes += data.len();
                if handed_in.len() + merged as usize >= MAX_DOCUMENTS || bytes > MAX_BYTES {
                    tracing::warn!(device, "a withdrawn device handed in more than it may");
                    continue;
                }
                match merging {
                    Some(conn) => merged += u64::from(merge(&hub, conn, document_id, data).await),
                    None => handed_in.push((document_id, data)),
                }
            }
            Ok(Message::WipeReady { .. }) => break Ok(()),
            Ok(Message::Leave { .. }) => break Err("client left".into()),
            // Requests, syncs, a second hand-in: nothing reaches a withdrawn device.
            Ok(_) => {}
            Err(e) => break Err(format!("malformed message: {e}")),
        }
    };
    if let Some(conn) = merging {
        hub.disconnect(conn).await;
    }
    if let Err(reason) = ended {
        // Nothing is recorded: the device keeps everything and hands it in next time.
        return reason;
    }
    let Some(directory) = hub.directory().cloned() else {
        return "no directory".into();
    };
    let count = handed_in.len();
    let now = now_ms();
    let finished = tokio::task::spawn_blocking(move || {
        if order.quarantine {
            directory.finish_wipe(device, &handed_in, now)
        } else {
            directory.mark_wiped(device, now).map(|()| 0)
        }
    })
    .await;
    let kept = match finished {
        Ok(Ok(quarantined)) => quarantined + merged,
        Ok(Err(e)) => return format!("could not record the wipe: {e}"),
        Err(e) => return format!("wipe task: {e}"),
    };
    if !order.done {
        let detail = if order.quarantine {
            format!("{kept} of {count} documents handed in quarantined")
        } else {
            format!("{kept} documents handed in merged")
        };
        hub.audit("wiped", Some(device), &detail);
    }
    let wiped = Message::Wiped {
        sender_id: hub.peer_id().to_string(),
        target_id: peer_id,
        kept,
        message: sentence(order.quarantine).into(),
        code: Some(if order.quarantine {
            Code::WithdrawnQuarantined
        } else {
            Code::Withdrawn
        }),
    };
    let _ = outgoing.send(wiped.encode()).await;
    // The device closes once it has read the wipe; closing first, with its messages
    // still unread here, would reset the connection and lose the wipe on the way.
    let _ = tokio::time::timeout(JOIN_TIMEOUT, async {
        while let Some(Ok(frame)) = incoming.next().await {
            if matches!(frame, Frame::Close) {
                break;
            }
        }
    })
    .await;
    let _ = outgoing.close().await;
    "withdrawn device wiped".into()
}

/// Merges a handed-in document's changes as an ordinary sync message carrying them
/// would: the hub checks access, persists before anything else and forwards them.
async fn merge(hub: &Hub, conn: ConnId, doc: DocumentId, changes: Vec<u8>) -> bool {
    let message = automerge::sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    match hub.receive(conn, doc, &message.encode(), Kind::Sync).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(%doc, error = %e, "a withdrawn device's change was not merged");
            false
        }
    }
}
