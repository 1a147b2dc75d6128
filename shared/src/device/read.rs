//! Reading a record for the screens: the document as a record, a contact (the last one
//! read kept with its heads), an employer, a history.

use super::{Loadable, Repo};
use crate::contact::{Contact, ContactDoc};
use crate::employer::{Employer, EmployerDoc};
use crate::record::{HistoryEntry, Kind};
use crate::{DocumentId, ModelError, RecordDoc};

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
        if let (Some(heads), Some((read_at, contact))) = (&heads, &*self.last_contact.borrow())
            && contact.id == *id
            && read_at == heads
        {
            return Loadable::Ready(contact.clone());
        }
        let read = self.read(id, |r| ContactDoc::from_record(r)?.read());
        if let (Loadable::Ready(contact), Some(heads)) = (&read, heads) {
            *self.last_contact.borrow_mut() = Some((heads, contact.clone()));
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
