//! An erased document leaves the replica: content, sync state and its place in the
//! session go; the relay is told once it is gone.

use super::Replica;
use crate::DocumentId;
use crate::protocol::Message;

impl Replica {
    /// Forgets everything of an erased document: content, sync state, its place in
    /// this session (counted as done, so the session's plan still completes).
    pub fn erase(&mut self, id: &DocumentId) {
        self.docs.remove(id);
        self.touched.insert(*id);
        self.states.remove(id);
        self.pending.remove(id);
        self.active.remove(id);
        self.unavailable.remove(id);
        self.changed.remove(id);
        self.states_changed.remove(id);
        if self.queued.remove(id) {
            self.queue.retain(|d| d != id);
            self.progress.done += 1;
        }
        if self.in_progress.remove(id) {
            self.progress.done += 1;
        }
    }

    /// Syncs a document again from the start of this session's plan (the index after
    /// it was replaced); nothing while offline.
    pub fn restart(&mut self, id: DocumentId) -> Vec<Message> {
        if self.remote.is_none() {
            return Vec::new();
        }
        self.progress.total += 1;
        self.states_changed.insert(id);
        self.start(id).into_iter().collect()
    }

    /// Tells the relay this device deleted an erased document (while connected).
    pub fn confirm_erasure(&self, id: DocumentId) -> Option<Message> {
        Some(Message::ErasureConfirmed {
            sender_id: self.peer_id.clone(),
            target_id: self.remote.clone()?,
            document_id: id,
        })
    }
}
