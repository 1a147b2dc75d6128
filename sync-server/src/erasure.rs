//! What erasing a document does to the relay's store, the same for the admin CLI and
//! a coordinator's request: the record's chunks and sync states are deleted, its id
//! is refused from then on, and its team's index is rewritten without history (the
//! erased row a tombstone), its old chunks and sync states deleted. SQLite overwrites
//! the deleted content with zeros and the WAL is truncated (`storage::sqlite`).

use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::date::Day;

use crate::auth::{DocClass, classify};
use crate::storage::{Storage, StorageError};

/// The team of a stored record; `None` when the store has no such record (an index,
/// an unknown id, or one already erased).
pub fn team_of(storage: &dyn Storage, doc: &DocumentId) -> Result<Option<String>, StorageError> {
    let Some(stored) = storage.load(doc)? else {
        return Ok(None);
    };
    let Ok(loaded) = paktum_shared::untrusted::load(&stored.bytes) else {
        return Ok(None);
    };
    Ok(match classify(doc, Some(&loaded), &[]) {
        DocClass::Record { team, .. } => Some(team),
        _ => None,
    })
}

/// Carries out the erasure of `doc`, a record of `team`, in the store. Idempotent: a
/// second run rewrites the index again (from what is stored), deletes nothing more.
pub fn carry_out(
    storage: &dyn Storage,
    doc: &DocumentId,
    team: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let index_id = CaseloadDoc::id_for_team(team);
    let old = storage
        .load(&index_id)?
        .and_then(|stored| paktum_shared::untrusted::load(&stored.bytes).ok());
    let day = Day::from_unix_ms(now_ms)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let index = CaseloadDoc::rewritten(team, old.as_ref(), *doc, &day, now_ms)
        .map_err(|e| StorageError::Write(format!("rewriting the index: {e}")))?;
    storage.erase(doc, Some((index_id, index.save())))
}
