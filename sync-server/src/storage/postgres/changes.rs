//! Several relays on one database: each tells the others which document it wrote
//! (PostgreSQL `NOTIFY` on [`CHANNEL`], carrying the document id, its heads and the
//! chunk's `seq`), and hears theirs on a `LISTEN` connection of its own. A
//! notification can be lost (a relay killed between its commit and its `NOTIFY`, a
//! dropped listening connection), so a poll every [`POLL`] looks for chunks nobody
//! announced and reports their documents without heads. No relay keeps state another
//! needs: this only tells a relay to re-read what is already committed.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use automerge::ChangeHash;
use paktum_shared::DocumentId;
use tokio::sync::mpsc;

use super::Database;
use crate::storage::Changed;

pub const CHANNEL: &str = "paktum_changes";
/// How often the fallback poll looks for chunks nobody announced.
pub const POLL: Duration = Duration::from_secs(2);
/// Chunks behind the newest seen that the poll looks at again: a transaction that
/// took its `seq` earlier may commit later.
const LOOKBACK: i64 = 1_000;
/// Heads beyond which a notification says none (its payload is limited to 8,000 bytes).
const MAX_HEADS: usize = 32;

/// What one relay knows of the chunks: those it wrote or heard of, so the poll
/// reports only the others.
#[derive(Debug, Default)]
pub struct Seen {
    seqs: BTreeSet<i64>,
    /// The last chunk this relay wrote, per document, for its announcement.
    written: HashMap<DocumentId, i64>,
}

pub type Shared = Arc<Mutex<Seen>>;

fn lock(seen: &Shared) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Notes a chunk this relay wrote.
pub fn wrote(seen: &Shared, doc: &DocumentId, seq: i64) {
    let mut seen = lock(seen);
    seen.seqs.insert(seq);
    seen.written.insert(*doc, seq);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `relay:doc:seq:head,head…`
fn payload(relay: &str, doc: &DocumentId, seq: i64, heads: &[ChangeHash]) -> String {
    let heads: Vec<String> = if heads.len() > MAX_HEADS {
        Vec::new()
    } else {
        heads.iter().map(|h| hex(&h.0)).collect()
    };
    format!("{relay}:{}:{seq}:{}", hex(doc.as_bytes()), heads.join(","))
}

fn parse(text: &str) -> Option<(String, i64, Changed)> {
    let mut parts = text.split(':');
    let relay = parts.next()?.to_string();
    let doc = DocumentId::from_slice(&unhex(parts.next()?)?)?;
    let seq = parts.next()?.parse().ok()?;
    let heads = parts
        .next()?
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| ChangeHash::try_from(unhex(h)?.as_slice()).ok())
        .collect::<Option<Vec<_>>>()?;
    Some((relay, seq, Changed { doc, heads }))
}

/// Sends this relay's announcement of `doc`'s last written chunk, without waiting.
pub fn announce(
    database: &Database,
    relay: &str,
    seen: &Shared,
    doc: &DocumentId,
    heads: &[ChangeHash],
) {
    let Some(seq) = lock(seen).written.remove(doc) else {
        return;
    };
    let text = payload(relay, doc, seq, heads);
    let pool = database.pool();
    database.spawn(async move {
        let sent = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            client
                .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &text])
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(e) = sent.await {
            // The other relays' poll finds the chunk.
            tracing::warn!(error = %e, "could not announce a change to the other relays");
        }
    });
}

/// Starts listening and polling; changes of other relays arrive on the receiver
/// until it is dropped.
pub fn subscribe(database: &Database, relay: String, seen: Shared) -> mpsc::Receiver<Changed> {
    let (tx, rx) = mpsc::channel(4096);
    let mut payloads = database.listen(CHANNEL);
    let heard = tx.clone();
    database.spawn(poll(database.pool(), seen.clone(), tx));
    database.spawn(async move {
        while let Some(payload) = payloads.recv().await {
            let Some((from, seq, changed)) = parse(&payload) else {
                continue;
            };
            if !lock(&seen).seqs.insert(seq) || from == relay {
                continue;
            }
            if heard.send(changed).await.is_err() {
                break;
            }
        }
    });
    rx
}

async fn poll(pool: deadpool_postgres::Pool, seen: Shared, tx: mpsc::Sender<Changed>) {
    let mut newest: Option<i64> = None;
    while !tx.is_closed() {
        let found = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            match newest {
                None => client
                    .query_one("SELECT COALESCE(MAX(seq), 0) FROM chunks", &[])
                    .await
                    .map(|r| vec![(r.get::<_, i64>(0), None)])
                    .map_err(|e| e.to_string()),
                Some(newest) => client
                    .query(
                        "SELECT seq, doc_id FROM chunks WHERE seq > $1 ORDER BY seq LIMIT 10000",
                        &[&(newest - LOOKBACK)],
                    )
                    .await
                    .map(|rows| {
                        rows.iter()
                            .map(|r| {
                                (
                                    r.get::<_, i64>(0),
                                    DocumentId::from_slice(r.get::<_, &[u8]>(1)),
                                )
                            })
                            .collect()
                    })
                    .map_err(|e| e.to_string()),
            }
        };
        match found.await {
            Ok(rows) => {
                let mut unannounced = Vec::new();
                {
                    let mut seen = lock(&seen);
                    for (seq, doc) in rows {
                        newest = Some(newest.unwrap_or(0).max(seq));
                        if let Some(doc) = doc
                            && seen.seqs.insert(seq)
                            && !unannounced.contains(&doc)
                        {
                            unannounced.push(doc);
                        }
                    }
                    if let Some(newest) = newest {
                        seen.seqs = seen.seqs.split_off(&(newest - LOOKBACK));
                    }
                }
                for doc in unannounced {
                    if tx
                        .send(Changed {
                            doc,
                            heads: Vec::new(),
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not poll for the other relays' changes"),
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_reads_back() {
        let doc = DocumentId::from_slice(&[3; 16]).expect("id");
        let heads = vec![ChangeHash([1; 32]), ChangeHash([2; 32])];
        let text = payload("r1", &doc, 42, &heads);
        assert_eq!(
            parse(&text),
            Some(("r1".into(), 42, Changed { doc, heads }))
        );
        assert_eq!(
            parse(&payload("r1", &doc, 7, &[])).map(|(_, _, c)| c.heads),
            Some(vec![])
        );
        assert_eq!(parse("r1:zz:1:"), None);
    }
}
