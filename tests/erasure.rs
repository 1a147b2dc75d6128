//! Erasure with the real relay (issue 15): a coordinator erases a contact; the
//! devices online delete it at once, a device offline the whole time deletes its copy
//! when it reconnects and cannot bring the record back; the receipt counts their
//! confirmations; the audit log says who erased which id when, without a name; and
//! the relay's data directory holds no byte of the name afterwards. In an "own caseload
//! only" team the workers' own indices, which held the record's row, are rewritten too.

use automerge::ReadDoc;
use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::ContactField;
use paktum_shared::erasure::{EraseRequest, ErasureReceipt};
use paktum_sync_server::auth::Role;
use paktum_tests::pact::{Pact, pact, pact_with};
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, http};

/// A name found nowhere else: random letters from the seed. Automerge stores strings
/// as UTF-8; where it compresses a column (DEFLATE, in whole-document saves) the
/// bytes would not be greppable, so the test first checks the name IS found in the
/// relay's files, and only then that it is gone.
fn unique_name(rng: &mut Seeded) -> String {
    let letters: String = (0..24)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect();
    format!("Zq{letters}")
}

/// How often `needle` occurs in the files of `dir` (the database, its WAL and shared
/// memory), as UTF-8 and as UTF-16LE.
fn occurrences(dir: &std::path::Path, needle: &str) -> anyhow::Result<Vec<(String, usize)>> {
    let utf16: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let count = [needle.as_bytes(), utf16.as_slice()]
            .iter()
            .map(|n| bytes.windows(n.len()).filter(|w| w == n).count())
            .sum();
        if count > 0 {
            hits.push((path.display().to_string(), count));
        }
    }
    Ok(hits)
}

/// Where the relay's store holds `needle` (UTF-8): its data directory's files on
/// SQLite; on PostgreSQL the rows of `chunks` and `sync_states`, read back (the
/// server's own files are not the test's to read).
async fn stored_occurrences(p: &Pact, needle: &str) -> anyhow::Result<Vec<(String, usize)>> {
    let Some(url) = &p.database else {
        return occurrences(p.dir.path(), needle);
    };
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let mut hits = Vec::new();
    for (table, column) in [("chunks", "data"), ("sync_states", "state")] {
        let rows = client
            .query(&format!("SELECT {column} FROM {table}"), &[])
            .await?;
        let count: usize = rows
            .iter()
            .map(|r| {
                let bytes: &[u8] = r.get(0);
                bytes
                    .windows(needle.len())
                    .filter(|w| *w == needle.as_bytes())
                    .count()
            })
            .sum();
        if count > 0 {
            hits.push((table.to_string(), count));
        }
    }
    Ok(hits)
}

async fn erase(p: &Pact, token: &str, doc: DocumentId) -> anyhow::Result<ErasureReceipt> {
    let body = serde_json::to_string(&EraseRequest {
        document: doc.to_string(),
    })?;
    let r = http::post_json(p.relay.addr, &format!("/erase?token={token}"), &body).await?;
    anyhow::ensure!(r.status == 200, "erase: {} {}", r.status, r.body);
    Ok(serde_json::from_str(&r.body)?)
}

async fn receipt(p: &Pact, token: &str, doc: DocumentId) -> anyhow::Result<ErasureReceipt> {
    let r = http::get(
        p.relay.addr,
        &format!("/erasure?token={token}&document={doc}"),
    )
    .await?;
    anyhow::ensure!(r.status == 200, "receipt: {} {}", r.status, r.body);
    Ok(serde_json::from_str(&r.body)?)
}

/// The device holds nothing of `id`: no document, no index row.
fn holds_nothing_of(device: &Device, id: &DocumentId) -> bool {
    device.replica().doc(id).is_none() && device.repo.entry(id).is_none()
}

#[tokio::test]
async fn an_erased_contact_leaves_every_device_and_the_relay_and_cannot_come_back()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(15);
    let name = unique_name(&mut rng);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut carla, carla_token) = p.device("kempen", "Carla", Role::Coordinator).await?;
    let (mut bram, _) = p.device("kempen", "Bram", Role::Worker).await?;
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = name.clone();
    let id = anna.create_contact(new).await?;
    anna.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::FullName, Some(&name))
    })
    .await?;
    let other = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 1))
        .await?;
    anna.sync().await?;
    for device in [&mut carla, &mut bram] {
        device
            .wait_for("the contacts", |r| {
                r.doc(&id).is_some() && r.doc(&other).is_some()
            })
            .await?;
        device.sync().await?;
    }
    assert_eq!(bram.contact(&id)?.display_name, name);
    // Bram goes offline for the rest of the story and keeps editing his copy.
    bram.go_offline();
    bram.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Geel"))
    })
    .await?;
    let before = occurrences(p.dir.path(), &name)?;
    assert!(
        !before.is_empty(),
        "the name must be in the relay's files before, or the test proves nothing"
    );

    // A worker may not erase; the coordinator may.
    let anna_token = p.enrol("kempen", "Anna2", Role::Worker).await?.token;
    let body = serde_json::to_string(&EraseRequest {
        document: id.to_string(),
    })?;
    let refused =
        http::post_json(p.relay.addr, &format!("/erase?token={anna_token}"), &body).await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let first = erase(&p, &carla_token, id).await?;
    assert_eq!(first.by_role, "coordinator");
    // Anna, Carla, Bram and Anna's second device: every device of the team.
    assert_eq!(first.devices, 4, "{first:?}");

    // Both online devices delete it at once and sync the rewritten index.
    for device in [&mut anna, &mut carla] {
        device
            .wait_for("the erasure", |r| r.doc(&id).is_none())
            .await?;
        device.sync().await?;
        assert!(holds_nothing_of(device, &id), "{}", device.team);
        assert_eq!(device.deleted, vec![id]);
        assert!(device.repo.entry(&other).is_some(), "the other row stays");
        assert!(device.contact(&other).is_ok());
    }
    let confirmed = receipt(&p, &carla_token, id).await?;
    assert_eq!(
        (confirmed.confirmed, confirmed.devices),
        (2, 4),
        "{confirmed:?}"
    );

    // Bram reconnects with his copy and his offline edit: told, he deletes it, and
    // the relay takes nothing of it back.
    bram.open().await?;
    bram.wait_for("the erasure", |r| r.doc(&id).is_none())
        .await?;
    bram.sync().await?;
    assert!(holds_nothing_of(&bram, &id));
    let bram_back = receipt(&p, &carla_token, id).await?;
    assert_eq!(bram_back.confirmed, 3, "{bram_back:?}");
    assert!(bram.repo.entry(&other).is_some());
    let mut fresh = Device::new("Mieke", "kempen", &p.relay.ws_url_with_token(&anna_token))?;
    fresh.connect().await?;
    assert!(
        fresh.fetch(id).await.is_err(),
        "the relay must not have it back"
    );
    assert!(fresh.repo.entry(&id).is_none(), "no index row either");
    assert!(fresh.contact(&other).is_ok());
    // Mieke's device (Anna2's token) held nothing of it, and says so too.
    let last = receipt(&p, &carla_token, id).await?;
    assert_eq!((last.confirmed, last.devices), (4, 4), "{last:?}");
    assert!(
        last.sentence
            .contains("by coordinator, confirmed by 4 of 4 devices of the team"),
        "{}",
        last.sentence
    );

    // The audit log: who (device, role) erased which id when; no name.
    let audit = p.directory.audit_log(1000)?;
    let erased: Vec<_> = audit.iter().filter(|e| e.event == "erased").collect();
    assert_eq!(erased.len(), 1, "{audit:?}");
    assert!(erased[0].detail.contains(&id.to_string()));
    assert!(erased[0].detail.contains("coordinator"));
    assert!(erased[0].device_id.is_some());
    assert!(audit.iter().all(|e| !e.detail.contains(&name)));

    // Nothing of the name in the relay's database, WAL or shared memory.
    let after = occurrences(p.dir.path(), &name)?;
    assert!(
        after.is_empty(),
        "found before: {before:?}, after: {after:?}"
    );
    p.relay.stop().await?;
    let stopped = occurrences(p.dir.path(), &name)?;
    assert!(stopped.is_empty(), "after stopping: {stopped:?}");
    Ok(())
}

/// Regression (the hole ARCHITECTURE.md named under "Erasure", item 6): a copy of the
/// index from before an erasure, whose history names the erased contact, reaching the
/// relay on a connection it does not tell — here a second connection of a device that
/// has already confirmed (another tab, a twin holding the same store) — used to merge
/// the old history back into the relay's index: the row and the name were stored and
/// sent to every device again. The relay must refuse that history, tell the
/// connection to replace its copy, and everyone must still converge.
#[tokio::test]
async fn an_index_copy_from_before_an_erasure_cannot_bring_the_erased_row_back()
-> anyhow::Result<()> {
    an_old_index_copy_is_refused(false, 1518).await
}

/// The same with a worker's own index ("own caseload only"), rewritten by the erasure
/// from its own genesis.
#[tokio::test]
async fn an_own_index_copy_from_before_an_erasure_cannot_bring_the_erased_row_back()
-> anyhow::Result<()> {
    an_old_index_copy_is_refused(true, 1519).await
}

async fn an_old_index_copy_is_refused(own_caseload: bool, seed: u64) -> anyhow::Result<()> {
    let own: &[&str] = if own_caseload { &["kempen"] } else { &[] };
    let p = pact_with(own, |_| {}).await?;
    let mut rng = Seeded::new(seed);
    let name = unique_name(&mut rng);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut carla, carla_token) = p.device("kempen", "Carla", Role::Coordinator).await?;
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = name.clone();
    new.assigned_worker = Some("Anna".into());
    let id = anna.create_contact(new).await?;
    let mut second = synthetic::contact(&mut rng, "kempen", 1);
    second.assigned_worker = Some("Anna".into());
    let other = anna.create_contact(second).await?;
    anna.sync().await?;
    carla
        .wait_for("the contacts", |r| {
            r.doc(&id).is_some() && r.doc(&other).is_some()
        })
        .await?;
    carla.sync().await?;
    // Anna's second connection, holding what her device holds now (the old index).
    let mut tab = Device::twin_of("Anna", &anna)?;
    let index = tab.index_id();
    assert_eq!(index, anna.index_id());
    assert_eq!(
        index == CaseloadDoc::worker_id_for("kempen", "Anna"),
        own_caseload
    );
    assert!(
        docs_naming(&tab, &name).contains(&index),
        "the old copy of the index must name it, or the test proves nothing"
    );
    let sqlite = p.database.is_none();
    assert!(!sqlite || !occurrences(p.dir.path(), &name)?.is_empty());

    erase(&p, &carla_token, id).await?;
    for device in [&mut anna, &mut carla] {
        device
            .wait_for("the erasure", |r| r.doc(&id).is_none())
            .await?;
        device.sync().await?;
        assert_eq!(docs_naming(device, &name), [], "{}", device.team);
    }
    // Anna's device has confirmed: the relay owes it nothing when the tab connects.
    assert!(
        p.directory
            .erasure_receipt(&id)?
            .is_some_and(|r| r.confirmed == 2),
        "both online devices confirmed"
    );
    tab.open().await?;
    tab.sync().await?;
    tab.wait_for("the rewritten index", |r| {
        r.doc(&index)
            .is_some_and(|d| CaseloadDoc::erased_of(d).contains(&id))
    })
    .await?;
    tab.sync().await?;
    // The relay's copy, as a fresh device receives it, has no row of the erased id,
    // and the relay's files hold no byte of the name.
    let enrolment = p.enrol("kempen", "Anna", Role::Worker).await?;
    let url = p.relay.ws_url_with_token(&enrolment.token);
    let mut fresh = Device::enrolled(&enrolment, &url)?;
    fresh.connect().await?;
    let index_doc = fresh.replica().doc(&index).expect("the index");
    assert_eq!(CaseloadDoc::entry_in(index_doc, &id), None);
    assert_eq!(CaseloadDoc::erased_of(index_doc), [id]);
    assert_eq!(docs_naming(&fresh, &name), [], "the relay's index names it");
    let after = occurrences(p.dir.path(), &name)?;
    assert!(
        after.is_empty(),
        "the relay stored the old history again: {after:?}"
    );

    // A normal edit after it reaches everyone: the devices still converge.
    anna.edit_contact(other, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Mol"))
    })
    .await?;
    anna.sync().await?;
    for device in [&mut carla, &mut tab, &mut fresh] {
        device
            .wait_for("Anna's edit", |r| {
                r.doc(&other)
                    .is_some_and(|d| d.save_nocompress().windows(3).any(|w| w == b"Mol"))
            })
            .await?;
        device.sync().await?;
    }
    anna.sync().await?;
    // Rows a device wrote again meanwhile (the tab's own, after replacing its copy)
    // reach the others too: every copy of the index ends with every change.
    let every: Vec<automerge::ChangeHash> = [&anna, &tab, &fresh]
        .iter()
        .filter_map(|d| d.replica().doc(&index).map(|d| d.get_heads()))
        .flatten()
        .collect();
    for device in [&mut anna, &mut tab, &mut fresh] {
        device
            .wait_for("every index change", |r| {
                r.doc(&index)
                    .is_some_and(|d| every.iter().all(|h| d.get_change_by_hash(h).is_some()))
            })
            .await?;
        device.sync().await?;
    }
    let heads = |d: &Device| {
        d.replica().doc(&index).map(|d| {
            let mut heads = d.get_heads();
            heads.sort();
            heads
        })
    };
    for device in [&anna, &tab, &fresh] {
        assert!(holds_nothing_of(device, &id), "{}", device.team);
        assert_eq!(
            docs_naming(device, &name),
            [],
            "a copy of the index names it"
        );
        assert!(device.repo.entry(&other).is_some());
        assert_eq!(heads(device), heads(&anna), "one index everywhere");
    }
    assert!(holds_nothing_of(&carla, &id));
    assert_eq!(docs_naming(&carla, &name), []);
    assert_eq!(fresh.contact(&other)?.municipality.as_deref(), Some("Mol"));
    let after = occurrences(p.dir.path(), &name)?;
    assert!(after.is_empty(), "found after the edit: {after:?}");
    p.relay.stop().await?;
    let stopped = occurrences(p.dir.path(), &name)?;
    assert!(stopped.is_empty(), "after stopping: {stopped:?}");
    Ok(())
}

/// The relay's copy of an index read before an erasure rewrote the store's (by the
/// admin CLI or another relay on the same database, not seen by this relay yet) must
/// not carry a change built on the old history into the store: here the rewrite is
/// carried out on the store directly, so the running relay never hears of it, and a
/// device edits the erased contact's name. The relay refuses to store the index change
/// (it is at an older generation), reads the stored index again and tells the device,
/// which replaces its copy and converges; no byte of the new name is stored.
#[tokio::test]
async fn a_relay_that_has_not_seen_an_erasure_cannot_store_on_the_old_index() -> anyhow::Result<()>
{
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(1520);
    let name = unique_name(&mut rng);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = name.clone();
    let id = anna.create_contact(new).await?;
    let other = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 1))
        .await?;
    anna.sync().await?;
    let index = anna.index_id();
    assert!(
        !stored_occurrences(&p, &name).await?.is_empty(),
        "the name must be found in the store before, or the test proves nothing"
    );

    // The rewrite, in the store only (as another process or relay would make it).
    let (dir, database) = (p.dir.path().to_path_buf(), p.database.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let storage: Box<dyn paktum_sync_server::Storage> = match database.as_deref() {
            Some(url) => Box::new(paktum_sync_server::PostgresStorage::connect(url)?),
            None => Box::new(paktum_sync_server::SqliteStorage::open(&dir)?),
        };
        paktum_sync_server::erasure::carry_out(
            storage.as_ref(),
            &id,
            "kempen",
            &[],
            1_795_600_000_000,
        )?;
        Ok(())
    })
    .await??;
    let renamed = unique_name(&mut rng);
    anna.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::DisplayName, Some(&renamed))
    })
    .await?;
    anna.sync().await?;
    let after = stored_occurrences(&p, &renamed).await?;
    assert!(after.is_empty(), "stored on the old index: {after:?}");
    // Told by the relay, Anna's device deletes the record and replaces its index.
    anna.wait_for("the erasure", |r| r.doc(&id).is_none())
        .await?;
    anna.sync().await?;
    anna.wait_for("the rewritten index", |r| {
        r.doc(&index)
            .is_some_and(|d| CaseloadDoc::erased_of(d).contains(&id))
    })
    .await?;
    anna.sync().await?;
    assert!(holds_nothing_of(&anna, &id));
    assert_eq!(docs_naming(&anna, &renamed), []);
    assert_eq!(docs_naming(&anna, &name), []);
    let after = occurrences(p.dir.path(), &renamed)?;
    assert!(after.is_empty(), "stored on the old index: {after:?}");

    // Still one index: an edit afterwards reaches a fresh device, which has no row of it.
    anna.edit_contact(other, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Mol"))
    })
    .await?;
    anna.sync().await?;
    let enrolment = p.enrol("kempen", "Anna", Role::Worker).await?;
    let url = p.relay.ws_url_with_token(&enrolment.token);
    let mut fresh = Device::enrolled(&enrolment, &url)?;
    fresh.connect().await?;
    assert_eq!(fresh.contact(&other)?.municipality.as_deref(), Some("Mol"));
    let index_doc = fresh.replica().doc(&index).expect("the index");
    assert_eq!(CaseloadDoc::entry_in(index_doc, &id), None);
    assert_eq!(docs_naming(&fresh, &renamed), []);
    assert_eq!(docs_naming(&fresh, &name), []);
    for text in [&name, &renamed] {
        let stored = stored_occurrences(&p, text).await?;
        assert!(stored.is_empty(), "{stored:?}");
    }
    p.relay.stop().await?;
    let stopped = occurrences(p.dir.path(), &renamed)?;
    assert!(stopped.is_empty(), "after stopping: {stopped:?}");
    Ok(())
}

/// Every document the device holds that has `text` in its saved bytes (the record, or
/// an index whose history still names it). Saved uncompressed: a whole document's
/// columns are DEFLATEd once large enough, which would hide the name.
fn docs_naming(device: &Device, text: &str) -> Vec<DocumentId> {
    let replica = device.replica();
    replica
        .doc_ids()
        .filter(|id| {
            replica.doc(id).is_some_and(|d| {
                d.save_nocompress()
                    .windows(text.len())
                    .any(|w| w == text.as_bytes())
            })
        })
        .copied()
        .collect()
}

#[tokio::test]
async fn an_erasure_in_an_own_caseload_team_rewrites_every_workers_index_and_reaches_their_devices()
-> anyhow::Result<()> {
    let p = pact_with(&["kempen"], |_| {}).await?;
    let mut rng = Seeded::new(1517);
    let name = unique_name(&mut rng);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut stale, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut bram, _) = p.device("kempen", "Bram", Role::Worker).await?;
    let (mut carla, carla_token) = p.device("kempen", "Carla", Role::Coordinator).await?;
    let annas_index = CaseloadDoc::worker_id_for("kempen", "Anna");
    assert_eq!(anna.index_id(), annas_index);
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = name.clone();
    new.assigned_worker = Some("Anna".into());
    let id = anna.create_contact(new).await?;
    anna.sync().await?;
    // Anna's second phone gets it, then stays offline until after the erasure.
    stale
        .wait_for("the contact", |r| r.doc(&id).is_some())
        .await?;
    stale.sync().await?;
    stale.go_offline();
    carla
        .wait_for("the contact", |r| r.doc(&id).is_some())
        .await?;
    carla.sync().await?;

    // Reassigned to Bram: it leaves Anna's phone, her index keeps a `moved` row (and
    // the name in its history), and it enters Bram's index.
    carla
        .edit_contact(id, |c, ed| {
            c.set_field(ed, ContactField::AssignedWorker, Some("Bram"))
        })
        .await?;
    carla.sync().await?;
    anna.wait_for("the reassigned contact to go", |r| r.doc(&id).is_none())
        .await?;
    bram.wait_for("the reassigned contact", |r| {
        r.heads(&id).is_some_and(|h| !h.is_empty())
    })
    .await?;
    bram.sync().await?;
    anna.sync().await?;
    assert_eq!(
        docs_naming(&anna, &name),
        [annas_index],
        "the name must be in Anna's index history before, or the test proves nothing"
    );
    assert!(docs_naming(&bram, &name).contains(&bram.index_id()));
    assert!(docs_naming(&stale, &name).contains(&annas_index));
    // The data directory's files are SQLite's; on PostgreSQL (`PAKTUM_TEST_BACKEND`)
    // the devices' side is tested alone.
    let sqlite = p.database.is_none();
    let before = occurrences(p.dir.path(), &name)?;
    assert!(
        !sqlite || !before.is_empty(),
        "the name must be in the relay's files before"
    );

    erase(&p, &carla_token, id).await?;
    // Both workers' phones online: the record and every index copy naming it go.
    for device in [&mut anna, &mut bram, &mut carla] {
        device
            .wait_for("the erasure", |r| r.doc(&id).is_none())
            .await?;
        device.sync().await?;
        let index = device.index_id();
        device
            .wait_for("the rewritten index", |r| {
                r.doc(&index)
                    .is_some_and(|d| CaseloadDoc::erased_of(d).contains(&id))
            })
            .await?;
        assert!(holds_nothing_of(device, &id), "{}", device.team);
        assert_eq!(docs_naming(device, &name), [], "{}", device.team);
    }
    // Anna's offline phone reconnects: told of the erasure with her own index, it
    // deletes the record and its index copy; the relay takes neither back.
    stale.open().await?;
    stale
        .wait_for("the erasure", |r| r.doc(&id).is_none())
        .await?;
    stale.sync().await?;
    stale
        .wait_for("the rewritten index", |r| {
            r.doc(&annas_index)
                .is_some_and(|d| CaseloadDoc::erased_of(d).contains(&id))
        })
        .await?;
    assert!(holds_nothing_of(&stale, &id));
    assert_eq!(docs_naming(&stale, &name), []);
    assert!(stale.fetch(id).await.is_err(), "refused");

    // Nothing of the name in the relay's files, running and stopped.
    let after = occurrences(p.dir.path(), &name)?;
    assert!(after.is_empty(), "before: {before:?}, after: {after:?}");
    p.relay.stop().await?;
    let stopped = occurrences(p.dir.path(), &name)?;
    assert!(stopped.is_empty(), "after stopping: {stopped:?}");
    Ok(())
}

#[tokio::test]
async fn a_contact_handed_to_another_team_leaves_the_old_teams_devices_and_index()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(16);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut bram, _) = p.device("kempen", "Bram", Role::Worker).await?;
    let (mut jef, _) = p.device("herentals", "Jef", Role::Worker).await?;
    let new = synthetic::contact(&mut rng, "kempen", 0);
    let name = new.display_name.clone();
    let id = anna.create_contact(new).await?;
    anna.sync().await?;
    bram.wait_for("the contact", |r| r.doc(&id).is_some())
        .await?;
    bram.sync().await?;
    bram.go_offline();
    assert!(jef.repo.entry(&id).is_none(), "not herentals' record yet");

    anna.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Team, Some("herentals"))
    })
    .await?;
    // Anna's device deletes its copy once the relay has the change.
    anna.wait_for("the handover", |r| r.doc(&id).is_none())
        .await?;
    anna.sync().await?;
    assert!(holds_nothing_of(&anna, &id));
    assert_eq!(anna.deleted, vec![id]);
    // It leaves kempen's index (a row without a name says it moved)…
    let kempen = anna.index()?;
    assert!(kempen.entry(&id).is_none());
    assert_eq!(CaseloadDoc::moved_of(kempen.doc()), vec![id]);
    // …and enters herentals', so Jef's device pulls it without asking.
    jef.wait_for("the record in herentals", |r| r.doc(&id).is_some())
        .await?;
    jef.sync().await?;
    assert_eq!(
        jef.repo.entry(&id).map(|e| e.summary.name.clone()),
        Some(name)
    );
    assert_eq!(jef.contact(&id)?.team, "herentals");
    // Bram, offline meanwhile, deletes his copy at his next sync.
    bram.open().await?;
    bram.sync().await?;
    bram.wait_for("the handover", |r| r.doc(&id).is_none())
        .await?;
    assert!(holds_nothing_of(&bram, &id));
    assert_eq!(bram.deleted, vec![id]);
    p.relay.stop().await
}

#[tokio::test]
async fn an_erasure_by_the_admin_cli_reaches_the_running_relay_and_its_devices()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(17);
    let name = unique_name(&mut rng);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let mut new = synthetic::contact(&mut rng, "kempen", 0);
    new.display_name = name.clone();
    let id = anna.create_contact(new).await?;
    anna.sync().await?;
    assert!(!occurrences(p.dir.path(), &name)?.is_empty());
    // What `paktum-sync-server admin erase --doc ID` runs, on the same data directory,
    // beside the running relay (another process in production).
    let (dir, database) = (p.dir.path().to_path_buf(), p.database.clone());
    let doc = id.to_string();
    tokio::task::spawn_blocking(move || {
        paktum_sync_server::admin::erase(&dir, database.as_deref(), &doc, "admin")
    })
    .await??;
    anna.wait_for("the erasure", |r| r.doc(&id).is_none())
        .await?;
    anna.sync().await?;
    assert!(holds_nothing_of(&anna, &id));
    let receipt = p.directory.erasure_receipt(&id)?.expect("erased");
    assert_eq!(
        (receipt.by_role.as_str(), receipt.confirmed, receipt.devices),
        ("admin", 1, 1)
    );
    let after = occurrences(p.dir.path(), &name)?;
    assert!(after.is_empty(), "{after:?}");
    p.relay.stop().await
}
