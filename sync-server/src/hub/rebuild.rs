//! The start-up pass over the stored records (issue 15). The relay keeps the shared
//! indices and the workers' own indices at every change of a record, so a record
//! stored before them (a relay upgraded, a team set to "own caseload only" later) is
//! missing from them until it changes: an employer or a contact with consent of the
//! pact's scope stays invisible to the pact's other coordinators. At start, before the
//! relay serves anyone, it reads every stored record once and writes what the indices
//! lack, one change per index (rows already right are not written again). A marker in
//! the store (`meta` key [`KEY`]: the rules' version and the own-caseload teams) says
//! the pass is done for these rules, so a start with nothing missing costs one read.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use paktum_shared::DocumentId;
use paktum_shared::caseload::{CaseloadDoc, Summary, shares_beyond_team};
use paktum_shared::record::{Kind, RecordDoc};

use super::{Hub, lock};
use crate::auth::{DocClass, classify};
use crate::error::Error;

/// The store's marker of the last pass.
pub const KEY: &str = "indices_built";
/// Bumped when what the pass writes changes, so every relay runs it once more.
const VERSION: &str = "1";
/// Records read per blocking task.
const BATCH: usize = 256;

/// What a pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Nothing was read: the marker says the indices are complete.
    pub skipped: bool,
    /// Records read.
    pub records: usize,
    /// Indices that got a change.
    pub indices_written: usize,
}

/// A record's row in a worker's own index.
type OwnRow = (DocumentId, Summary, Vec<ChangeHash>);

/// What the stored records say the indices should hold.
#[derive(Default)]
struct Rows {
    /// Per team: the records its shared index lists.
    shared: BTreeMap<String, Vec<(DocumentId, Kind, Vec<ChangeHash>)>>,
    /// Per team: its records that must not be listed there.
    unshared: BTreeMap<String, Vec<DocumentId>>,
    /// Per (team, worker) of an own-caseload-only team: the worker's rows.
    own: BTreeMap<(String, String), Vec<OwnRow>>,
    records: usize,
}

impl Rows {
    fn take_in(&mut self, id: DocumentId, bytes: &[u8], teams: &[String], own: &[String]) {
        let Ok(doc) = paktum_shared::untrusted::load(bytes) else {
            return;
        };
        let DocClass::Record {
            team,
            assigned_worker,
            ..
        } = classify(&id, Some(&doc), teams)
        else {
            return;
        };
        let shared = shares_beyond_team(&doc);
        let Ok(record) = RecordDoc::from_automerge(id, doc) else {
            return;
        };
        // An index of a team the directory does not name reads as a team's document.
        if record.kind() == Kind::Caseload {
            return;
        }
        self.records += 1;
        let heads = record.heads();
        if shared {
            let row = (id, record.kind(), heads.clone());
            self.shared.entry(team.clone()).or_default().push(row);
        } else {
            self.unshared.entry(team.clone()).or_default().push(id);
        }
        if let Some(worker) = assigned_worker.filter(|w| !w.is_empty())
            && own.contains(&team)
            && let Ok(summary) = Summary::of(&record)
        {
            let rows = self.own.entry((team, worker)).or_default();
            rows.push((id, summary, heads));
        }
    }
}

impl Hub {
    /// Builds what the shared indices and the workers' own indices lack from the
    /// stored records (see the module's text); `force` runs it whatever the marker
    /// says. Call before serving: a device's change meanwhile could be overtaken.
    pub async fn build_indices(&self, force: bool) -> Result<Rebuilt, Error> {
        let mut own = lock(&self.own_teams).clone();
        own.sort();
        let marker = format!("{VERSION}:{}", own.join("\n"));
        let done = self.blocking(|s| s.meta(KEY)).await?;
        if !force && done.as_deref() == Some(marker.as_str()) {
            return Ok(Rebuilt {
                skipped: true,
                ..Rebuilt::default()
            });
        }
        let ids = self.blocking(|s| s.document_ids()).await?;
        let teams = lock(&self.teams).clone();
        let mut rows = Rows::default();
        for batch in ids.chunks(BATCH) {
            let (batch, teams, own) = (batch.to_vec(), teams.clone(), own.clone());
            rows = self
                .blocking(move |s| {
                    for id in batch {
                        if let Some(stored) = s.load(&id)? {
                            rows.take_in(id, &stored.bytes, &teams, &own);
                        }
                    }
                    Ok(rows)
                })
                .await?;
        }
        let mut written = 0;
        let mut teams: Vec<String> = rows.shared.keys().cloned().collect();
        teams.extend(rows.unshared.keys().cloned());
        teams.sort();
        teams.dedup();
        for team in teams {
            let listed = rows.shared.remove(&team).unwrap_or_default();
            let unlisted = rows.unshared.remove(&team).unwrap_or_default();
            let genesis = || CaseloadDoc::new_shared(&team);
            let class = DocClass::SharedIndex { team: team.clone() };
            let index_id = CaseloadDoc::shared_id_for_team(&team);
            let wrote = self
                .edit_index(index_id, class, genesis, |index, editor| {
                    let mut wrote =
                        !listed.is_empty() && index.list_shared_rows(editor, listed.clone())?;
                    for id in &unlisted {
                        wrote |= index.unlist_shared(editor, id)?;
                    }
                    Ok(wrote)
                })
                .await?;
            written += usize::from(wrote);
        }
        for ((team, worker), own_rows) in std::mem::take(&mut rows.own) {
            let genesis = || CaseloadDoc::new_for_worker(&team, &worker);
            let index_id = CaseloadDoc::worker_id_for(&team, &worker);
            let class = DocClass::WorkerIndex {
                team: team.clone(),
                worker: worker.clone(),
            };
            let own_rows: Vec<_> = own_rows
                .into_iter()
                .map(|(id, summary, heads)| (id, summary, Some(heads)))
                .collect();
            let wrote = self
                .edit_index(index_id, class, genesis, |index, editor| {
                    index.upsert(editor, &own_rows)
                })
                .await?;
            written += usize::from(wrote);
        }
        self.blocking(move |s| s.set_meta(KEY, &marker)).await?;
        Ok(Rebuilt {
            skipped: false,
            records: rows.records,
            indices_written: written,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use automerge::ActorId;
    use paktum_shared::Editor;
    use paktum_shared::contact::{Channel, ConsentScope, ContactDoc, NewContact};
    use paktum_shared::employer::EmployerDoc;

    use super::*;
    use crate::hub::Limits;
    use crate::storage::{MemoryStorage, Storage};

    fn contact(ed: &Editor, name: &str) -> ContactDoc {
        let new = NewContact {
            team: "kempen".into(),
            display_name: name.into(),
            first_contact_on: "2026-11-01".parse().expect("day"),
            channel: Channel::School,
            place: None,
            assigned_worker: None,
        };
        ContactDoc::create(ed, new).expect("contact")
    }

    #[tokio::test]
    async fn a_pass_lists_the_shared_records_once_and_then_only_reads_its_marker() {
        let storage = Arc::new(MemoryStorage::new());
        let ed = Editor::new(ActorId::random(), "Anna", 10);
        let mut shared = contact(&ed, "Zephyrine");
        let day = "2026-11-02".parse().expect("day");
        shared
            .give_consent(&ed, day, ConsentScope::Pact)
            .expect("consent");
        let kept = contact(&ed, "Quillon");
        let employer = EmployerDoc::create(&ed, "kempen", "Bakery").expect("employer");
        for record in [shared.record(), kept.record(), employer.record()] {
            storage
                .append(&record.id(), &record.doc().save())
                .expect("stored");
        }
        let hub = Hub::new(storage.clone(), None, None, Limits::default()).expect("hub");
        let built = hub.build_indices(false).await.expect("built");
        assert_eq!(
            (built.skipped, built.records, built.indices_written),
            (false, 3, 1)
        );
        let index_id = CaseloadDoc::shared_id_for_team("kempen");
        let stored = storage
            .load(&index_id)
            .expect("load")
            .expect("the shared index");
        let index = CaseloadDoc::load(&stored.bytes).expect("an index");
        let mut listed: Vec<DocumentId> = index.entries().iter().map(|e| e.id).collect();
        listed.sort();
        let mut both = vec![shared.record().id(), employer.record().id()];
        both.sort();
        assert_eq!(listed, both);
        assert!(
            hub.build_indices(false).await.expect("again").skipped,
            "the marker says it is done"
        );
        let forced = hub.build_indices(true).await.expect("forced");
        assert_eq!(
            (forced.records, forced.indices_written),
            (3, 0),
            "nothing missing"
        );
    }

    /// The erased table wins: a pass run after an erasure (forced, as after an upgrade)
    /// lists the other records again but not the erased one, and keeps its tombstone.
    #[tokio::test]
    async fn a_pass_after_an_erasure_does_not_bring_the_row_back_into_a_workers_index() {
        let storage = Arc::new(MemoryStorage::new());
        let ed = Editor::new(ActorId::random(), "Anna", 10);
        let (gone_name, kept_name) = ("Zephyrine Qoldavik", "Quillon Marchetti");
        let mut ids = Vec::new();
        for name in [gone_name, kept_name] {
            let mut new = contact(&ed, name);
            new.set_field(
                &ed,
                paktum_shared::contact::ContactField::AssignedWorker,
                Some("Anna"),
            )
            .expect("assigned");
            storage
                .append(&new.record().id(), &new.record().doc().save())
                .expect("stored");
            ids.push(new.record().id());
        }
        let (gone, kept) = (ids[0], ids[1]);
        let hub = Hub::new(storage.clone(), None, None, Limits::default()).expect("hub");
        *lock(&hub.own_teams) = vec!["kempen".into()];
        hub.build_indices(false).await.expect("built");
        let own_id = CaseloadDoc::worker_id_for("kempen", "Anna");
        let own = || {
            let stored = storage.load(&own_id).expect("load").expect("Anna's index");
            (
                CaseloadDoc::load(&stored.bytes).expect("an index"),
                stored.bytes,
            )
        };
        let mut both = vec![gone, kept];
        both.sort();
        let mut listed: Vec<_> = own().0.entries().iter().map(|e| e.id).collect();
        listed.sort();
        assert_eq!(listed, both, "the pass lists both in Anna's index");

        let erasure = crate::auth::Erasure {
            seq: 1,
            doc: gone,
            team: "kempen".into(),
        };
        hub.apply_erasure(erasure).await.expect("erased");
        let names =
            |bytes: &[u8], name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
        assert!(!names(&own().1, gone_name), "rewritten without history");
        let forced = hub.build_indices(true).await.expect("forced");
        assert_eq!(forced.records, 1, "the erased record is not read");
        let (index, bytes) = own();
        assert_eq!(
            index.entries().iter().map(|e| e.id).collect::<Vec<_>>(),
            [kept]
        );
        assert_eq!(CaseloadDoc::erased_of(index.doc()), [gone]);
        assert!(!names(&bytes, gone_name));
        assert!(names(&bytes, kept_name));
    }
}
