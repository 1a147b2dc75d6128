//! `admin migrate --from DIR --to postgres://…`: copies a SQLite data directory into
//! an empty PostgreSQL database — documents (each as one snapshot), sync states, the
//! relay's storage id (so devices' sync states stay valid), erased ids and the
//! directory's tables with their ids — then checks the copy: the document count,
//! every document's heads, and each directory table's row count.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use paktum_shared::DocumentId;

use crate::auth::Directory;
use crate::auth::directory::sql::Value;
use crate::storage::{PostgresStorage, SqliteStorage, Storage};

/// The directory's tables in the order their references need, with their columns,
/// and the identity column whose sequence must continue after the copied ids.
const TABLES: &[(&str, &str, Option<&str>)] = &[
    ("teams", "name, pact, own_caseload_only", None),
    ("members", "id, team, name, role", Some("id")),
    ("codes", "hash, member_id, expires_at, used_at", None),
    (
        "devices",
        "id, member_id, token_hash, label, enrolled_at, revoked_at, revoke_mode, wiped_at",
        Some("id"),
    ),
    ("audit", "seq, at, event, device_id, detail", Some("seq")),
    (
        "erasures",
        "seq, doc_id, team, at, by_role, by_device",
        Some("seq"),
    ),
    ("erasure_devices", "doc_id, device_id, confirmed_at", None),
    (
        "quarantine",
        "seq, doc_id, device_id, at, data",
        Some("seq"),
    ),
    (
        "pact_settings",
        "pact, lock_minutes, lock_failures, inclusive_goal, retention_months",
        None,
    ),
];

/// Progress is printed every this many documents.
const EVERY: usize = 1_000;

pub fn run(from: &Path, to: &str) -> Result<()> {
    let file = from.join(crate::storage::sqlite::FILE);
    if !file.exists() {
        bail!("there is no store at {}", file.display());
    }
    let source = SqliteStorage::open(from).context("opening the SQLite store")?;
    let source_directory = Directory::open(from).context("opening the SQLite directory")?;
    // The URL may hold a password: never in a message.
    let target = PostgresStorage::connect(to).context("opening the PostgreSQL database")?;
    let target_directory = Directory::postgres(target.database());
    ensure!(
        target.document_count()? == 0 && target_directory.teams()?.is_empty(),
        "the PostgreSQL database already holds documents or teams; migrate into an empty one"
    );

    let (ids, states, storage_id) = read_ids(from)?;
    println!("copying {} documents", ids.len());
    let mut heads = BTreeMap::new();
    for (n, id) in ids.iter().enumerate() {
        let stored = source
            .load(id)?
            .with_context(|| format!("document {id} vanished during the copy"))?;
        let doc = paktum_shared::untrusted::load(&stored.bytes)
            .map_err(|e| anyhow::anyhow!("document {id} does not load: {e}"))?;
        target.compact(id, &doc.save())?;
        heads.insert(*id, doc.get_heads());
        if (n + 1) % EVERY == 0 {
            println!("  {} of {} documents", n + 1, ids.len());
        }
    }
    for (storage, states) in &states {
        target.save_sync_states(storage, states)?;
    }
    println!(
        "copied {} sync states",
        states.values().map(Vec::len).sum::<usize>()
    );
    let erased = source.erased()?;
    for id in &erased {
        target.erase(id, Vec::new())?;
    }
    if let Some(id) = storage_id {
        let pool = target.database().pool();
        target
            .database()
            .wait(async move {
                let client = pool.get().await.map_err(|e| e.to_string())?;
                client
                    .execute(
                        "UPDATE meta SET value = $1 WHERE key = 'storage_id'",
                        &[&id],
                    )
                    .await
                    .map_err(|e| e.to_string())
            })
            .map_err(anyhow::Error::msg)?
            .map_err(anyhow::Error::msg)?;
    }
    let rows = copy_directory(&source_directory, &target_directory)?;

    // The check, from what PostgreSQL now holds.
    println!("checking the copy");
    ensure!(
        target.document_count()? == ids.len() as u64,
        "{} documents in PostgreSQL, {} in SQLite",
        target.document_count()?,
        ids.len()
    );
    for (n, (id, expected)) in heads.iter().enumerate() {
        let stored = target
            .load(id)?
            .with_context(|| format!("document {id} is missing from the copy"))?;
        let doc = paktum_shared::untrusted::load(&stored.bytes)
            .map_err(|e| anyhow::anyhow!("the copy of {id} does not load: {e}"))?;
        ensure!(
            doc.get_heads() == *expected,
            "the copy of {id} has other heads"
        );
        if (n + 1) % EVERY == 0 {
            println!("  {} of {} documents checked", n + 1, ids.len());
        }
    }
    ensure!(target.erased()?.len() == erased.len(), "erased ids differ");
    for (table, count) in &rows {
        let copied = count_rows(&target_directory, table)?;
        ensure!(
            copied == *count,
            "{table}: {copied} rows in PostgreSQL, {count} in SQLite"
        );
    }
    println!(
        "migrated and checked: {} documents (heads equal), {} erased ids, directory {}",
        ids.len(),
        erased.len(),
        rows.iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

type States = BTreeMap<String, Vec<(DocumentId, Vec<u8>)>>;

/// Every document id with chunks, the sync states by peer, the relay's storage id.
fn read_ids(from: &Path) -> Result<(Vec<DocumentId>, States, Option<String>)> {
    let conn = crate::storage::sqlite::connect(from)?;
    let mut stmt = conn.prepare("SELECT DISTINCT doc_id FROM chunks ORDER BY doc_id")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))?
        .filter_map(|r| r.ok().and_then(|b| DocumentId::from_slice(&b)))
        .collect();
    let mut states = States::new();
    let mut stmt = conn.prepare("SELECT storage_id, doc_id, state FROM sync_states")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    for row in rows {
        let (storage, doc, state) = row?;
        if let Some(doc) = DocumentId::from_slice(&doc) {
            states.entry(storage).or_default().push((doc, state));
        }
    }
    let storage_id = conn
        .query_row("SELECT value FROM meta WHERE key = 'storage_id'", [], |r| {
            r.get(0)
        })
        .ok();
    Ok((ids, states, storage_id))
}

/// Copies every directory table in one transaction; the rows copied per table.
fn copy_directory(from: &Directory, to: &Directory) -> Result<Vec<(&'static str, u64)>> {
    let mut counts = Vec::new();
    to.db().transaction(|tx| {
        for (table, columns, identity) in TABLES {
            let rows = from
                .db()
                .query(&format!("SELECT {columns} FROM {table}"), vec![])?;
            let marks: Vec<String> = (1..=columns.split(',').count())
                .map(|i| format!("${i}"))
                .collect();
            let insert = format!(
                "INSERT INTO {table} ({columns}) VALUES ({})",
                marks.join(", ")
            );
            for row in &rows {
                tx.execute(&insert, row.0.clone())?;
            }
            if let Some(column) = identity {
                // New rows continue after the copied ids.
                tx.query(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                                (SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}), false)"
                    ),
                    vec![],
                )?;
            }
            println!("copied {} rows of {table}", rows.len());
            counts.push((*table, rows.len() as u64));
        }
        Ok(())
    })?;
    Ok(counts)
}

fn count_rows(directory: &Directory, table: &str) -> Result<u64> {
    let rows = directory.db().query(
        &format!("SELECT COUNT(*) FROM {table}"),
        Vec::<Value>::new(),
    )?;
    Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0) as u64)
}
