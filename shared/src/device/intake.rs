//! A new contact started at a stage of identification (issue 15): anonymous with a
//! nickname and a description, or pseudonymous with a phone (see `contact::Stage`).

use super::{Repo, Step};
use crate::contact::{ContactDoc, ContactField, NewContact, Stage};
use crate::{DocumentId, ModelError};

impl Repo {
    /// Creates a contact at `stage` with the values that stage asks; refused as a whole
    /// when a value is not the stage's (nothing becomes pending).
    pub fn create_contact_at(
        &mut self,
        new: NewContact,
        stage: Stage,
        values: &[(ContactField, String)],
        now_ms: i64,
    ) -> Result<(DocumentId, Step), ModelError> {
        let editor = self.editor(now_ms);
        let doc = ContactDoc::create_at(&editor, new, stage, values)?;
        let id = doc.record().id();
        let step = self.commit(id, doc.into_record(), &editor)?;
        Ok((id, step))
    }
}
