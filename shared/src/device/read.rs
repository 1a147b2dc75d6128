//! Reading a record for the screens: the document as a record, a contact (the last one
//! read kept with its heads), an employer, a history; and [`ReadAt`], what the core
//! keeps of records it read, each with the heads it was read at.

use std::cell::RefCell;
use std::collections::HashMap;

use automerge::ChangeHash;

use super::{Loadable, Repo};
use crate::contact::{Contact, ContactDoc};
use crate::employer::{Employer, EmployerDoc};
use crate::record::{HistoryEntry, Kind};
use crate::{DocumentId, ModelError, RecordDoc};

/// Values read from records, each kept with the heads it was read at, so a screen that
/// redraws on every change reads again only the records whose heads moved (the contact
/// page, the employer page's referrals, the search). An erased record is forgotten.
pub(super) struct ReadAt<T>(RefCell<HashMap<DocumentId, (Vec<ChangeHash>, T)>>);

impl<T> Default for ReadAt<T> {
    fn default() -> Self {
        Self(RefCell::new(HashMap::new()))
    }
}

impl<T> ReadAt<T> {
    /// `f` of the value of `id` read at `heads`; `None` if it was not (or at others).
    pub(super) fn with<R>(
        &self,
        id: &DocumentId,
        heads: &[ChangeHash],
        f: impl FnOnce(&T) -> R,
    ) -> Option<R> {
        match self.0.borrow().get(id) {
            Some((at, value)) if at.as_slice() == heads => Some(f(value)),
            _ => None,
        }
    }

    /// The heads the value of `id` was read at, if there is one.
    pub(super) fn heads(&self, id: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.0.borrow().get(id).map(|(heads, _)| heads.clone())
    }

    /// Whether the value of `id` was read at `heads`.
    pub(super) fn is_fresh(&self, id: &DocumentId, heads: &[ChangeHash]) -> bool {
        self.with(id, heads, |_| ()).is_some()
    }

    /// Keeps the value of `id` read at `heads`.
    pub(super) fn put(&self, id: DocumentId, heads: Vec<ChangeHash>, value: T) {
        self.0.borrow_mut().insert(id, (heads, value));
    }

    /// Keeps the value of `id` read at `heads`, and nothing else (the last one read).
    pub(super) fn put_alone(&self, id: DocumentId, heads: Vec<ChangeHash>, value: T) {
        let mut kept = self.0.borrow_mut();
        kept.clear();
        kept.insert(id, (heads, value));
    }

    pub(super) fn forget(&self, id: &DocumentId) {
        self.0.borrow_mut().remove(id);
    }
}

impl Repo {
    pub(super) fn record(&self, id: &DocumentId) -> Loadable<RecordDoc> {
        match self.replica.doc(id) {
            None => match self.damaged.iter().find(|(d, _)| d.as_ref() == Some(id)) {
                Some((_, reason)) => Loadable::Damaged(reason.clone()),
                None => Loadable::NotHere,
            },
            Some(doc) if doc.get_heads().is_empty() => Loadable::NotHere,
            Some(doc) => match RecordDoc::from_automerge(*id, doc.clone()) {
                Ok(record) => Loadable::Ready(record),
                Err(e) => Loadable::Damaged(e.to_string()),
            },
        }
    }

    pub fn contact(&self, id: &DocumentId) -> Loadable<Contact> {
        let heads = self.replica.heads(id);
        if let Some(contact) = heads
            .as_ref()
            .and_then(|heads| self.last_contact.with(id, heads, Contact::clone))
        {
            return Loadable::Ready(contact);
        }
        let read = self.read(id, |r| ContactDoc::from_record(r)?.read());
        if let (Loadable::Ready(contact), Some(heads)) = (&read, heads) {
            self.last_contact.put_alone(*id, heads, contact.clone());
        }
        read
    }

    pub fn employer(&self, id: &DocumentId) -> Loadable<Employer> {
        self.read(id, |r| EmployerDoc::from_record(r)?.read())
    }

    pub fn history(&self, id: &DocumentId) -> Loadable<(Kind, Vec<HistoryEntry>)> {
        self.read(id, |r| Ok((r.kind(), r.history())))
    }

    pub(super) fn read<T>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(RecordDoc) -> Result<T, ModelError>,
    ) -> Loadable<T> {
        match self.record(id) {
            Loadable::Ready(record) => match f(record) {
                Ok(v) => Loadable::Ready(v),
                Err(e) => Loadable::Damaged(e.to_string()),
            },
            Loadable::NotHere => Loadable::NotHere,
            Loadable::Damaged(reason) => Loadable::Damaged(reason),
        }
    }
}
