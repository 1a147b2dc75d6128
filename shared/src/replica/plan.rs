//! Which records a session syncs, read from the indices followed: only the rows changed
//! since the last plan, the records that plan found behind, and the records touched.

use std::collections::BTreeSet;

use automerge::ChangeHash;

use super::{Replica, Slot};
use crate::DocumentId;
use crate::caseload::{CaseloadDoc, Changed, Entry};
use crate::protocol::Message;

/// What a plan read of one index: its heads then, and the records it listed ahead of
/// (or missing from) this device. The next plan reads only the rows changed since,
/// those records again and the records touched, so a change among 10,000 rows costs
/// the rows it wrote; no other row can have fallen behind (a record's copy only
/// gains changes unless it is replaced or dropped, which touches it).
#[derive(Debug, Default)]
pub(super) struct IndexPlan {
    heads: Option<Vec<ChangeHash>>,
    behind: BTreeSet<DocumentId>,
}

impl Replica {
    /// Records to sync: those the index shows ahead of (or missing from) this device,
    /// and those with local changes the relay has not confirmed. Each index is read
    /// only where it changed since the last plan ([`CaseloadDoc::changed_since`], the
    /// same answer the device core's rows use), plus the records that plan found
    /// behind and the records touched since; the first plan reads every row.
    pub(super) fn plan_from_index(&mut self) -> Vec<Message> {
        let touched = std::mem::take(&mut self.touched);
        let mut wanted: Vec<DocumentId> = Vec::new();
        for index in &self.indices {
            let Some(doc) = self.docs.get(index).map(Slot::doc) else {
                continue;
            };
            if CaseloadDoc::check(doc).is_err() {
                continue;
            }
            let plan = self.plans.entry(*index).or_default();
            let rows: Vec<Entry> = match CaseloadDoc::changed_since(doc, plan.heads.as_deref()) {
                Changed::All => CaseloadDoc::entries_of(doc).unwrap_or_default(),
                Changed::Rows(mut ids) => {
                    ids.extend(plan.behind.iter().copied());
                    ids.extend(touched.iter().copied());
                    ids.iter()
                        .filter_map(|id| CaseloadDoc::entry_in(doc, id))
                        .collect()
                }
            };
            let docs = &self.docs;
            plan.behind = rows
                .into_iter()
                .filter(|entry| match docs.get(&entry.id) {
                    None => true,
                    Some(slot) => entry.is_ahead_of(|h| slot.has(h)),
                })
                .map(|entry| entry.id)
                .collect();
            plan.heads = Some(doc.get_heads());
            wanted.extend(plan.behind.iter().copied());
        }
        let mut local: Vec<DocumentId> = self
            .pending
            .iter()
            .filter(|id| !self.is_index(id))
            .copied()
            .collect();
        local.sort();
        wanted.extend(local);
        for id in wanted {
            self.enqueue(id);
        }
        self.fill_window()
    }
}
