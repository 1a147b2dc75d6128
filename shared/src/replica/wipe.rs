//! A device the pact withdrew with a wipe (`admin revoke --wipe`): on `paktum-wipe`
//! it hands in every change the relay has not confirmed, then says it is ready; on
//! `paktum-wiped` it knows why and that what it handed in is kept, and its owner (the
//! app, a test device) erases everything local.

use automerge::{ChangeHash, ReadDoc};

use super::Replica;
use crate::DocumentId;
use crate::protocol::Message;
use crate::refusal::Code;

/// The relay's last word to a withdrawn device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    /// Documents the relay kept from what this device handed in.
    pub kept: u64,
    /// The relay's English sentence, shown only for a code this build does not know.
    pub message: String,
    pub code: Option<Code>,
}

impl Withdrawal {
    /// Whether the handed-in changes are kept apart for the coordinator (not merged).
    pub fn quarantined(&self) -> bool {
        self.code == Some(Code::WithdrawnQuarantined)
    }
}

impl Replica {
    /// Set once the relay has wiped this device: erase everything local now.
    pub fn withdrawn(&self) -> Option<&Withdrawal> {
        self.withdrawn.as_ref()
    }

    /// The answer to `paktum-wipe`: one `paktum-unsynced` per document with changes
    /// the relay has not confirmed (records and the index; the changes after the
    /// heads it confirmed, or the whole document when it confirmed none), then
    /// `paktum-wipe-ready`. Only reads: the device keeps everything until `paktum-wiped`.
    pub(super) fn hand_in(&self) -> Vec<Message> {
        let target = self.remote.clone().unwrap_or_else(|| "relay".into());
        let mut ids: Vec<DocumentId> = self.pending.iter().copied().collect();
        ids.sort();
        let mut out: Vec<Message> = ids
            .into_iter()
            .filter_map(|id| {
                let doc = self.doc(&id)?;
                let confirmed: Vec<ChangeHash> = self.confirmed_heads(&id);
                // A lookup in the change graph, not a rebuilt change per hash.
                let data = if doc.get_missing_deps(&confirmed).is_empty() {
                    doc.save_after(&confirmed)
                } else {
                    doc.save()
                };
                (!data.is_empty()).then(|| Message::Unsynced {
                    sender_id: self.peer_id.clone(),
                    target_id: target.clone(),
                    document_id: id,
                    data,
                })
            })
            .collect();
        out.push(Message::WipeReady {
            sender_id: self.peer_id.clone(),
            target_id: target,
        });
        out
    }
}
