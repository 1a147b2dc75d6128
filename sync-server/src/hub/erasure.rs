//! Erasure in the running relay: the erased record, its team's index and the own
//! indices of its team's workers leave memory, the store erases them
//! (`crate::erasure::carry_out`, under all these documents' locks so nothing is
//! persisted meanwhile), every device that may hold the record is told
//! (`paktum-erased`, with the index it follows) now or when it next connects, and its
//! messages for that rewritten index are held back until it confirms. Erased ids are
//! refused from every device from then on. A copy of a rewritten index's old history
//! that reaches the relay anyway (a connection never told: a second connection of a
//! device that already confirmed, or one whose message came between the rewrite and
//! the telling) is refused by the index's `retired` hashes (`Applied::Retired` in
//! `hub.rs`): the stored index is put back in memory and that connection is told.

use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::protocol::Message;

use super::document::Document;
use super::{ConnId, Hub, Kind, Outgoing, lock};
use crate::auth::{Access, DocClass, Erasure, Identity, Receipt, Role, now_ms};
use crate::error::Error;

/// The index a device follows for `team` and was rewritten by an erasure there: a
/// worker's own index in an "own caseload only" team, else the team's index.
pub fn index_told(identity: Option<&Identity>, team: &str) -> DocumentId {
    match identity {
        Some(i) if i.own_only() && i.team == team => CaseloadDoc::worker_id_for(team, &i.worker),
        _ => CaseloadDoc::id_for_team(team),
    }
}

impl Hub {
    /// Carries out an erasure recorded in the directory (by the admin CLI or
    /// [`Hub::erase_as`]). Skipped when this relay knows it and the store holds
    /// nothing of it (carried out already); done again otherwise (e.g. after a crash
    /// between recording and carrying out).
    pub async fn apply_erasure(&self, erasure: Erasure) -> Result<(), Error> {
        let doc = erasure.doc;
        if lock(&self.erased)
            .get(&doc)
            .is_some_and(|team| *team == erasure.team)
            && self.blocking(move |s| s.load(&doc)).await?.is_none()
        {
            return Ok(());
        }
        lock(&self.erased).insert(erasure.doc, erasure.team.clone());
        let (doc, team) = (erasure.doc, erasure.team.clone());
        let index = CaseloadDoc::id_for_team(&team);
        let record_slot = self.slot(doc);
        let mut record = record_slot.lock().await;
        // Under the record's lock: no change of it can list it in another index now.
        let t = team.clone();
        let workers = self
            .blocking(move |s| crate::erasure::worker_indices(s, &t))
            .await?;
        let index_slot = self.slot(index);
        let mut rewritten = index_slot.lock().await;
        let own_slots: Vec<_> = workers.iter().map(|(id, _)| self.slot(*id)).collect();
        let mut own = Vec::with_capacity(own_slots.len());
        for slot in &own_slots {
            own.push(slot.lock().await);
        }
        // Dropped with their sync states: nobody resumes the old history.
        *record = None;
        *rewritten = None;
        for guard in &mut own {
            **guard = None;
        }
        let mut gone: Vec<DocumentId> = vec![doc, index];
        gone.extend(workers.iter().map(|(id, _)| *id));
        {
            let mut unloaded = lock(&self.unloaded);
            for id in &gone {
                unloaded.remove(id);
            }
        }
        for peer in lock(&self.peers).values_mut() {
            for id in &gone {
                peer.docs.remove(id);
            }
            peer.waiting.retain(|d| *d != doc);
        }
        let names: Vec<String> = workers.into_iter().map(|(_, w)| w).collect();
        let t = team.clone();
        let carried = self
            .blocking(move |s| crate::erasure::carry_out(s, &doc, &t, &names, now_ms()))
            .await;
        drop(own);
        drop(rewritten);
        drop(record);
        lock(&self.docs).remove(&doc);
        carried?;
        tracing::info!(doc = %doc, "document erased");
        // Its shared-index row (an id and heads) goes too: no device looks for it again.
        self.unlist_shared(&erasure.team, doc).await?;
        // Devices online now are told at once; the others when they connect.
        let owing = match self.directory.clone() {
            Some(d) => tokio::task::spawn_blocking(move || d.devices_owing(&doc))
                .await
                .map_err(|e| Error::Internal(e.to_string()))?
                .map_err(Error::Directory)?,
            None => Vec::new(),
        };
        let conns: Vec<(ConnId, DocumentId)> = lock(&self.peers)
            .iter()
            .filter_map(|(c, p)| {
                let identity = p.identity.as_ref()?;
                owing
                    .contains(&identity.device_id)
                    .then(|| (*c, index_told(Some(identity), &team)))
            })
            .collect();
        for (conn, index) in conns {
            self.tell_erased(conn, doc, Some(index));
        }
        Ok(())
    }

    /// Puts the stored copy of a document back in memory in place of what `slot` holds
    /// (a copy that took in what must not stay), keeping the other connections' sync
    /// states; `conn` resumes from scratch. Returns the erased records it lists.
    pub(super) async fn put_back_stored(
        &self,
        doc_id: DocumentId,
        conn: ConnId,
        slot: &mut Option<Document>,
    ) -> Result<Vec<DocumentId>, Error> {
        let others = slot.take().map(|e| e.syncs).unwrap_or_default();
        let (doc, exists, chunks, generation) = self.load(doc_id).await?;
        let mut stored = Document::loaded(doc_id, doc, exists, chunks);
        stored.generation = generation;
        stored.syncs = others;
        stored.syncs.remove(&conn);
        let erased = CaseloadDoc::erased_of(&stored.doc);
        *slot = Some(stored);
        Ok(erased)
    }

    /// After refusing what a connection sent for an index rewritten by an erasure (its
    /// old history, or a change this relay made on a copy read before the rewrite): it
    /// is told, as a device is told of the erasure, and replaces its copy; until it
    /// confirms, its messages for the index wait.
    pub(super) fn refuse_old_index(
        &self,
        conn: ConnId,
        doc_id: DocumentId,
        identity: Option<&Identity>,
        erased: &[DocumentId],
    ) {
        self.forget(conn, doc_id);
        let device = identity.map(|i| i.device_id);
        self.audit("retired_history_refused", device, &doc_id.to_string());
        tracing::warn!(doc = %doc_id, conn, "refused an index history an erasure retired");
        if let Some(erased) = erased.first() {
            self.tell_erased(conn, *erased, Some(doc_id));
        }
    }

    /// Tells a connection a document was erased. With `index` (its team's index was
    /// rewritten) the connection's messages for that index wait for its confirmation.
    pub fn tell_erased(&self, conn: ConnId, doc: DocumentId, index: Option<DocumentId>) {
        let target = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return;
            };
            if let Some(index) = index {
                peer.unconfirmed.insert(doc);
                peer.held_back.insert(index);
                peer.docs.remove(&index);
            }
            peer.peer_id.clone()
        };
        self.send(
            conn,
            Outgoing::Message(Message::Erased {
                sender_id: self.peer_id.clone(),
                target_id: target,
                document_id: doc,
                index_id: index,
            }),
        );
    }

    /// A device deleted an erased document: counted for the receipt, and once it has
    /// confirmed every erasure it was told of, its index messages flow again.
    pub async fn confirm_erasure(&self, conn: ConnId, doc: DocumentId) -> Result<(), Error> {
        let device = {
            let mut peers = lock(&self.peers);
            let Some(peer) = peers.get_mut(&conn) else {
                return Ok(());
            };
            peer.unconfirmed.remove(&doc);
            if peer.unconfirmed.is_empty() {
                peer.held_back.clear();
            }
            peer.identity.as_ref().map(|i| i.device_id)
        };
        if let (Some(device), Some(directory)) = (device, self.directory.clone()) {
            tokio::task::spawn_blocking(move || directory.confirm_erasure(&doc, device, now_ms()))
                .await
                .map_err(|e| Error::Internal(e.to_string()))?
                .map_err(Error::Directory)?;
        }
        Ok(())
    }

    /// An erased document is answered as unknown (and audited); a device of its pact
    /// is also told to delete its copy. True if `doc_id` is erased.
    pub(super) fn refuse_if_erased(
        &self,
        conn: ConnId,
        peer_id: &str,
        doc_id: DocumentId,
        identity: Option<&Identity>,
        kind: Kind,
    ) -> bool {
        let Some(team) = lock(&self.erased).get(&doc_id).cloned() else {
            return false;
        };
        self.forget(conn, doc_id);
        self.audit(
            "erased_refused",
            identity.map(|i| i.device_id),
            &doc_id.to_string(),
        );
        self.answer_unknown(conn, peer_id.to_string(), doc_id, kind);
        if identity.is_none_or(|i| i.pact_teams.contains(&team)) {
            self.tell_erased(conn, doc_id, None);
        }
        true
    }

    /// A coordinator's (or admin's) erasure of a record of their own team.
    pub async fn erase_as(&self, identity: &Identity, doc: DocumentId) -> Result<Receipt, Error> {
        let directory = self
            .directory
            .clone()
            .ok_or(Error::NoErasure("the relay runs open"))?;
        if !matches!(identity.role, Role::Coordinator | Role::Admin) {
            return Err(Error::NoErasure("only coordinators and admins erase"));
        }
        let team = self
            .blocking(move |s| crate::erasure::team_of(s, &doc))
            .await?;
        let class = team.clone().map(|team| DocClass::Record {
            team,
            assigned_worker: None,
            shared: false,
        });
        let (Some(team), Some(class)) = (team, class) else {
            return Err(Error::NoErasure("no such record"));
        };
        if identity.access(&class) != Access::ReadWrite {
            return Err(Error::NoErasure("a record of another team"));
        }
        let (role, device, t) = (identity.role, identity.device_id, team.clone());
        let d = directory.clone();
        tokio::task::spawn_blocking(move || {
            d.record_erasure(&doc, &t, role, Some(device), now_ms())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(Error::Directory)?;
        self.apply_erasure(Erasure { seq: 0, doc, team }).await?;
        tokio::task::spawn_blocking(move || directory.erasure_receipt(&doc))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(Error::Directory)?
            .ok_or(Error::NoErasure("no such record"))
    }
}
