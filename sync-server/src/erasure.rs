//! What erasing a document does to the relay's store, the same for the admin CLI and
//! a coordinator's request: the record's chunks and sync states are deleted, its id
//! is refused from then on, and its team's index is rewritten without history (the
//! erased row a tombstone), and so are the own indices of the team's workers (an
//! "own caseload only" team), their old chunks and sync states deleted. SQLite overwrites
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

/// The own indices of `team`'s workers held in the store, with each one's worker:
/// every one may list an erased record of the team (its row, a `moved` row, or a row
/// in its history), so every one is rewritten. Reads every stored document once (an
/// index's id cannot say whose it is without its worker's name); erasures are rare.
pub fn worker_indices(
    storage: &dyn Storage,
    team: &str,
) -> Result<Vec<(DocumentId, String)>, StorageError> {
    let mut found = Vec::new();
    for id in storage.document_ids()? {
        let Some(stored) = storage.load(&id)? else {
            continue;
        };
        let Ok(doc) = paktum_shared::untrusted::load(&stored.bytes) else {
            continue;
        };
        if let Some((of, worker)) = CaseloadDoc::worker_index_of(&id, &doc)
            && of == team
        {
            found.push((id, worker));
        }
    }
    found.sort();
    Ok(found)
}

/// Carries out the erasure of `doc`, a record of `team`, in the store: its team's
/// index and the own indices of `workers` (see [`worker_indices`]) are rewritten in
/// the same transaction. Idempotent: a second run does not rewrite an index already
/// rewritten for `doc` (it stores it again only if it holds a retired history or
/// changes without their dependencies, see [`Again`]), and deletes nothing more.
pub fn carry_out(
    storage: &dyn Storage,
    doc: &DocumentId,
    team: &str,
    workers: &[String],
    now_ms: i64,
) -> Result<(), StorageError> {
    let day = Day::from_unix_ms(now_ms)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let stored = |id: &DocumentId| -> Result<Option<automerge::Automerge>, StorageError> {
        Ok(storage
            .load(id)?
            .and_then(|stored| paktum_shared::untrusted::load(&stored.bytes).ok()))
    };
    let failed =
        |e: paktum_shared::ModelError| StorageError::Write(format!("rewriting an index: {e}"));
    let index_id = CaseloadDoc::id_for_team(team);
    let old = stored(&index_id)?;
    let mut indices = Vec::new();
    match done_before(old.as_ref(), doc) {
        Again::Rewrite => indices.push((
            index_id,
            CaseloadDoc::rewritten(team, old.as_ref(), *doc, &day, now_ms)
                .map_err(failed)?
                .save(),
        )),
        Again::Purge(bytes) => indices.push((index_id, bytes)),
        Again::Nothing => {}
    }
    for worker in workers {
        let id = CaseloadDoc::worker_id_for(team, worker);
        let old = stored(&id)?;
        match done_before(old.as_ref(), doc) {
            Again::Rewrite => indices.push((
                id,
                CaseloadDoc::rewritten_for_worker(team, worker, old.as_ref(), *doc, &day, now_ms)
                    .map_err(failed)?
                    .save(),
            )),
            Again::Purge(bytes) => indices.push((id, bytes)),
            Again::Nothing => {}
        }
    }
    storage.erase(doc, indices)
}

/// What a run of an erasure does to one stored index.
enum Again {
    /// Not rewritten for this erasure yet: rewrite it.
    Rewrite,
    /// Rewritten already (by the CLI, or another relay on the same database), but it
    /// holds more than that rewrite's history (what a relay that had not seen the
    /// erasure stored before the store refused it): store it again without.
    Purge(Vec<u8>),
    /// Rewritten already and clean: left as it is, its generation too, so that the
    /// relays' copies read since stay current.
    Nothing,
}

/// Never a second rewrite of an index already rewritten for this erasure: it would
/// retire the history devices already told of the erasure have synced and built on.
fn done_before(old: Option<&automerge::Automerge>, doc: &DocumentId) -> Again {
    let Some(old) = old else {
        return Again::Rewrite;
    };
    if !CaseloadDoc::is_rewritten(old) || !CaseloadDoc::erased_of(old).contains(doc) {
        return Again::Rewrite;
    }
    match CaseloadDoc::without_retired(old) {
        Some(clean) => Again::Purge(clean.save()),
        // Changes stored without their dependencies (built on a history the store no
        // longer has) load as pending; a save leaves them out.
        None if !automerge::ReadDoc::get_missing_deps(old, &[]).is_empty() => {
            Again::Purge(old.save())
        }
        None => Again::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use paktum_shared::Editor;

    use super::*;
    use crate::storage::MemoryStorage;

    /// Carried out again (the running relay after the CLI, or a second relay on the
    /// database): an index already rewritten for this erasure is not rewritten again
    /// (devices told already build on it), but what a relay that had not seen the
    /// erasure stored on top of it — a change on the old history, or the old history
    /// merged whole into a compaction — leaves the store.
    #[test]
    fn carried_out_again_the_rewrite_stays_and_a_stale_relays_writes_go() {
        use automerge::ReadDoc;
        let storage = MemoryStorage::new();
        let ed = || Editor::new(ActorId::random(), "Anna", 1);
        let gone = DocumentId::random();
        let row = paktum_shared::testing::contact_row;
        let id = CaseloadDoc::id_for_team("kempen");
        let mut old = CaseloadDoc::new("kempen").expect("index");
        old.upsert(&ed(), &[(gone, row("Qzxwvkjyrtpl"), None)])
            .expect("row");
        storage.append(&id, &old.save()).expect("stored");
        carry_out(&storage, &gone, "kempen", &[], 1_764_633_600_000).expect("erased");
        let load = || {
            let bytes = storage.load(&id).expect("load").expect("index").bytes;
            paktum_shared::untrusted::load(&bytes).expect("doc")
        };
        let mut first = CaseloadDoc::from_automerge(load()).expect("index");
        // A device told of it writes a row on the rewrite.
        first
            .upsert(&ed(), &[(DocumentId::random(), row("Mieke"), None)])
            .expect("row");
        let kept_heads = first.doc().get_heads();
        let rewrite = load().get_heads();
        storage
            .append(&id, &first.doc_mut().save_after(&rewrite))
            .expect("appended");
        // A relay still holding the old copy appends a change made on it, then
        // compacts it whole into the store.
        let mut stale = old.clone();
        stale
            .upsert(&ed(), &[(gone, row("Qzxwvkjyrtpl Bis"), None)])
            .expect("row");
        storage
            .append(&id, &stale.doc_mut().save_after(&old.doc().get_heads()))
            .expect("appended");
        storage.append(&id, &stale.save()).expect("appended");
        let names = |doc: &automerge::Automerge| {
            doc.save_nocompress()
                .windows(12)
                .any(|w| w == b"Qzxwvkjyrtpl")
        };
        assert!(names(&load()), "the stale copy is in the store");

        carry_out(&storage, &gone, "kempen", &[], 1_764_633_700_000).expect("again");
        let after = load();
        assert!(!names(&after));
        let bytes = storage.load(&id).expect("load").expect("index").bytes;
        assert!(!bytes.windows(12).any(|w| w == b"Qzxwvkjyrtpl"));
        let mut heads = after.get_heads();
        heads.sort();
        let mut expected = kept_heads;
        expected.sort();
        assert_eq!(heads, expected, "the first rewrite and the row on it stay");
        assert!(
            rewrite
                .iter()
                .all(|h| after.get_change_by_hash(h).is_some())
        );
    }

    /// The CLI's path: every worker's own index of the team is found and rewritten
    /// (one that had the row, one that had it moved away); another team's is not.
    #[test]
    fn every_own_index_of_the_team_is_rewritten_and_no_other() {
        let storage = MemoryStorage::new();
        let ed = Editor::new(ActorId::random(), "relay", 1);
        let gone = DocumentId::random();
        let row = paktum_shared::testing::contact_row("Qzxwvkjyrtpl");
        let mut stored = Vec::new();
        for (team, worker, moved) in [
            ("kempen", "Anna", true),
            ("kempen", "Bram", false),
            ("herentals", "Jef", false),
        ] {
            let mut own = CaseloadDoc::new_for_worker(team, worker).expect("index");
            own.upsert(&ed, &[(gone, row.clone(), None)]).expect("row");
            if moved {
                own.mark_moved(&ed, &gone).expect("moved");
            }
            let id = CaseloadDoc::worker_id_for(team, worker);
            storage.append(&id, &own.save()).expect("stored");
            stored.push(id);
        }
        let found = worker_indices(&storage, "kempen").expect("scan");
        let mut expected = vec![
            (stored[0], "Anna".to_string()),
            (stored[1], "Bram".to_string()),
        ];
        expected.sort();
        assert_eq!(found, expected);
        let workers: Vec<String> = found.into_iter().map(|(_, w)| w).collect();
        carry_out(&storage, &gone, "kempen", &workers, 1_764_633_600_000).expect("erased");
        let names = |id: &DocumentId| {
            let bytes = storage.load(id).expect("load").expect("index").bytes;
            bytes.windows(12).any(|w| w == b"Qzxwvkjyrtpl")
        };
        assert!(
            !names(&stored[0]) && !names(&stored[1]),
            "kempen's are rewritten"
        );
        assert!(names(&stored[2]), "herentals' index is not kempen's");
        let anna = storage.load(&stored[0]).expect("load").expect("index");
        let anna = paktum_shared::untrusted::load(&anna.bytes).expect("doc");
        assert_eq!(CaseloadDoc::erased_of(&anna), [gone]);
        assert_eq!(
            CaseloadDoc::worker_index_of(&stored[0], &anna),
            Some(("kempen".into(), "Anna".into()))
        );
    }
}
