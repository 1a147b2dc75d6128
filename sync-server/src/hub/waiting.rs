//! Connections waiting for documents nobody has yet: a `request` for an unknown
//! document is answered `doc-unavailable` and leaves only its id here (a bounded
//! list per connection), so the document's creation still reaches the asker.

use std::collections::HashMap;
use std::sync::Arc;

use paktum_shared::DocumentId;

use super::{ConnId, Hub, Slot, lock};

/// Documents one connection asked for while nobody had them, remembered (by id only)
/// so their creation reaches it; older wishes are dropped.
pub const WAITING: usize = 256;

pub(super) fn unwait(
    waiting: &mut HashMap<DocumentId, Vec<ConnId>>,
    doc: DocumentId,
    conn: ConnId,
) {
    if let Some(conns) = waiting.get_mut(&doc) {
        conns.retain(|c| *c != conn);
        if conns.is_empty() {
            waiting.remove(&doc);
        }
    }
}

impl Hub {
    /// Notes that `conn` asked for a document nobody has. Bounded per connection
    /// ([`WAITING`]): beyond it the oldest wish is dropped (the device asks again).
    pub(super) fn wait_for_creation(&self, conn: ConnId, doc: DocumentId) {
        let dropped = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return;
            };
            peer.waiting.push_back(doc);
            (peer.waiting.len() > WAITING)
                .then(|| peer.waiting.pop_front())
                .flatten()
        };
        let mut waiting = lock(&self.waiting);
        waiting.entry(doc).or_default().push(conn);
        if let Some(old) = dropped {
            unwait(&mut waiting, old, conn);
        }
    }

    /// The connections waiting for a document that was just created.
    pub(super) fn created(&self, doc: DocumentId) -> Vec<ConnId> {
        let conns = lock(&self.waiting).remove(&doc).unwrap_or_default();
        let mut peers = lock(&self.peers);
        for conn in &conns {
            if let Some(peer) = peers.get_mut(conn) {
                peer.waiting.retain(|d| *d != doc);
            }
        }
        conns
    }

    /// Counts a document as synced by `conn`, within its limit; false if it may not.
    pub(super) fn track(&self, conn: ConnId, doc: DocumentId) -> bool {
        let mut peers = lock(&self.peers);
        let Some(peer) = peers.get_mut(&conn) else {
            return false;
        };
        if !peer.docs.contains(&doc) && peer.docs.len() >= self.limits.open_documents {
            return false;
        }
        peer.docs.insert(doc);
        true
    }

    /// Drops a document's slot when nobody syncs it, holds it or waits for its lock.
    pub(super) fn drop_if_idle(&self, doc: DocumentId, slot: Slot) {
        let mut docs = lock(&self.docs);
        // The map's reference and ours: nobody else is between lookup and lock.
        if Arc::strong_count(&slot) == 2
            && slot
                .try_lock()
                .is_ok_and(|g| g.as_ref().is_none_or(|e| e.syncs.is_empty() && !e.exists))
        {
            docs.remove(&doc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::document::Kind;
    use crate::hub::{Limits, Outgoing};
    use crate::storage::{MemoryStorage, Storage};
    use automerge::Automerge;
    use automerge::sync::{self, SyncDoc};
    use automerge::transaction::Transactable;
    use paktum_shared::protocol::Message;
    use tokio::sync::mpsc;

    fn hub_with_two_connections() -> (Hub, [(ConnId, mpsc::Receiver<Outgoing>); 2]) {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let hub = Hub::new(storage, None, None, Limits::default()).expect("hub");
        let open = || {
            let (tx, rx) = mpsc::channel(1024);
            let conn = hub
                .connect("peer".into(), None, tx, crate::hub::Kick::default(), None)
                .expect("connect");
            (conn, rx)
        };
        let conns = [open(), open()];
        (hub, conns)
    }

    fn empty_request() -> Vec<u8> {
        Automerge::new()
            .generate_sync_message(&mut sync::State::new())
            .expect("msg")
            .encode()
    }

    #[tokio::test]
    async fn an_unknown_document_holds_nothing_once_answered_yet_its_creation_arrives() {
        let (hub, [(asker, mut asked), (maker, mut made)]) = hub_with_two_connections();
        let id = DocumentId::random();
        hub.receive(asker, id, &empty_request(), Kind::Request)
            .await
            .expect("receive");
        assert!(matches!(
            asked.try_recv(),
            Ok(Outgoing::Message(Message::DocUnavailable { .. }))
        ));
        assert_eq!((hub.documents_in_memory(), hub.sync_states()), (0, 0));

        // Another connection creates it: the one that asked hears of it.
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "n", 1).expect("put");
        tx.commit();
        let mut state = sync::State::new();
        for _ in 0..3 {
            if let Some(msg) = doc.generate_sync_message(&mut state) {
                hub.receive(maker, id, &msg.encode(), Kind::Sync)
                    .await
                    .expect("receive");
            }
            while let Ok(Outgoing::Message(Message::Sync { data, .. })) = made.try_recv() {
                let msg = sync::Message::decode(&data).expect("decode");
                doc.receive_sync_message(&mut state, msg).expect("apply");
            }
        }
        assert!(
            matches!(asked.try_recv(), Ok(Outgoing::Message(Message::Sync { document_id, .. })) if document_id == id),
            "the creation reaches the connection that asked"
        );
    }

    #[tokio::test]
    async fn a_connection_waits_for_a_bounded_number_of_unknown_documents() {
        let (hub, [(asker, mut asked), _]) = hub_with_two_connections();
        for _ in 0..WAITING * 3 {
            hub.receive(asker, DocumentId::random(), &empty_request(), Kind::Request)
                .await
                .expect("receive");
            while asked.try_recv().is_ok() {}
        }
        assert_eq!(lock(&hub.waiting).len(), WAITING);
        hub.disconnect(asker).await;
        assert_eq!(lock(&hub.waiting).len(), 0);
    }
}
