//! Connections per device counted across every relay on one database
//! (`--max-connections-per-device`): each connection of a device holds one of the
//! device's `limit` slots, slot `n` being the PostgreSQL advisory lock
//! `(device id, SLOTS | n)`, taken at the session level on a database connection of
//! this relay's own. A lock belongs to the database session, so nothing has to expire
//! or be cleaned up: a relay killed with SIGKILL has its sockets closed by the kernel,
//! and PostgreSQL ends its session and frees its slots at once; a relay whose machine
//! vanishes (power, network) is found dead by TCP keepalive, set on that session to
//! 10 s idle then 3 probes 5 s apart, so its slots are free within about 25 s. The
//! session must reach PostgreSQL itself (or a pooler in session mode): a pooler in
//! transaction mode would hand the locks to other clients.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Statement};

use super::Database;
use crate::storage::{ConnectionSlots, HeldSlot, StorageError};

/// The second key of every slot lock: "pc" in the high half, the slot in the low.
const SLOTS: i32 = 0x7063_0000;
/// Slots a device may have at most (the low half of the key).
pub const MAX_SLOTS: usize = 0x1_0000;
/// Set on the slots' session: PostgreSQL ends it (and frees the slots) when this
/// relay's machine stops answering, about 10 + 3 × 5 s after it went quiet.
const KEEPALIVE: &str =
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3";

type Key = (i32, i32);

/// This relay's slots (see the module's text). The session is opened at the first
/// connection of a device.
pub struct Slots {
    database: Arc<Database>,
    session: Arc<Mutex<Session>>,
}

#[derive(Default)]
struct Session {
    open: Option<Open>,
    /// The slots this session holds, each with the ticket of the connection holding it.
    held: HashMap<Key, u64>,
    tickets: u64,
}

struct Open {
    client: Client,
    take: Statement,
    give_back: Statement,
}

impl Slots {
    pub fn new(database: Arc<Database>) -> Self {
        Self {
            database,
            session: Arc::default(),
        }
    }
}

impl ConnectionSlots for Slots {
    fn take(&self, device: i64, limit: usize) -> Result<Option<HeldSlot>, StorageError> {
        let device = i32::try_from(device)
            .map_err(|_| StorageError::Database(format!("device {device}: beyond slot locks")))?;
        let limit = limit.min(MAX_SLOTS);
        let (session, config) = (self.session.clone(), self.database.config().clone());
        let taken = self
            .database
            .wait(async move { take(&session, &config, device, limit).await })
            .map_err(|_| StorageError::WriterGone)?
            .map_err(StorageError::Database)?;
        Ok(taken.map(|(key, ticket)| {
            HeldSlot(Box::new(Held {
                database: self.database.clone(),
                session: self.session.clone(),
                key,
                ticket,
            }))
        }))
    }
}

async fn take(
    session: &Mutex<Session>,
    config: &tokio_postgres::Config,
    device: i32,
    limit: usize,
) -> Result<Option<(Key, u64)>, String> {
    let mut session = session.lock().await;
    let Session {
        open,
        held,
        tickets,
    } = &mut *session;
    // A session that ended under us may not know it yet: one more try on a new one.
    let mut tries = 2;
    'session: loop {
        tries -= 1;
        let o = match open {
            Some(o) if !o.client.is_closed() => o,
            _ => open.insert(reopen(config, held).await?),
        };
        // A lock this session holds would be granted again (they nest): skip those.
        for n in 0..limit {
            let key = (device, SLOTS | n as i32);
            if held.contains_key(&key) {
                continue;
            }
            match o.client.query_one(&o.take, &[&key.0, &key.1]).await {
                Ok(row) if row.get::<_, bool>(0) => {
                    *tickets += 1;
                    held.insert(key, *tickets);
                    return Ok(Some((key, *tickets)));
                }
                Ok(_) => {}
                Err(e) => {
                    *open = None;
                    if tries == 0 {
                        return Err(super::with_causes(&e));
                    }
                    continue 'session;
                }
            }
        }
        return Ok(None);
    }
}

/// A new session for the slots. One that was lost took its locks with it: they are
/// taken again; one another relay took meanwhile is this relay's no longer (its
/// connection goes on, over the limit, until it ends; logged).
async fn reopen(
    config: &tokio_postgres::Config,
    held: &mut HashMap<Key, u64>,
) -> Result<Open, String> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| super::with_causes(&e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let prepared = async {
        client.batch_execute(KEEPALIVE).await?;
        let take = client
            .prepare("SELECT pg_try_advisory_lock($1::int4, $2::int4)")
            .await?;
        let give_back = client
            .prepare("SELECT pg_advisory_unlock($1::int4, $2::int4)")
            .await?;
        Ok::<_, tokio_postgres::Error>((take, give_back))
    };
    let (take, give_back) = prepared.await.map_err(|e| super::with_causes(&e))?;
    let mut lost = 0;
    for key in held.keys().copied().collect::<Vec<_>>() {
        let again = client
            .query_one(&take, &[&key.0, &key.1])
            .await
            .map_err(|e| super::with_causes(&e))?;
        if !again.get::<_, bool>(0) {
            held.remove(&key);
            lost += 1;
        }
    }
    if lost > 0 {
        tracing::warn!(
            lost,
            "connection slots lost with the database session were taken by other relays"
        );
    }
    Ok(Open {
        client,
        take,
        give_back,
    })
}

/// One connection's slot, given back when dropped.
struct Held {
    database: Arc<Database>,
    session: Arc<Mutex<Session>>,
    key: Key,
    ticket: u64,
}

impl Drop for Held {
    fn drop(&mut self) {
        let (session, key, ticket) = (self.session.clone(), self.key, self.ticket);
        self.database.spawn(async move {
            let mut session = session.lock().await;
            if session.held.get(&key) != Some(&ticket) {
                return;
            }
            session.held.remove(&key);
            let Some(o) = session.open.as_ref() else {
                return;
            };
            if o.client
                .query_one(&o.give_back, &[&key.0, &key.1])
                .await
                .is_err()
            {
                // The session is gone, and its locks with it.
                session.open = None;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{PostgresStorage, Storage};

    fn slots(storage: &PostgresStorage) -> Arc<dyn ConnectionSlots> {
        storage.connection_slots().expect("slots")
    }

    /// Until a given-back slot is free (the release runs after the drop).
    fn take_within(slots: &dyn ConnectionSlots, device: i64, limit: usize) -> HeldSlot {
        let started = std::time::Instant::now();
        loop {
            if let Some(slot) = slots.take(device, limit).expect("take") {
                return slot;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[test]
    fn a_lost_session_takes_its_slots_again() {
        let Some(url) = paktum_tests::postgres::fresh_database() else {
            return;
        };
        let (a, b) = (
            PostgresStorage::connect(&url).expect("connect"),
            PostgresStorage::connect(&url).expect("connect"),
        );
        let (on_a, on_b) = (slots(&a), slots(&b));
        let held: Vec<_> = (0..2)
            .map(|_| on_a.take(5, 3).expect("take").expect("free"))
            .collect();
        assert!(on_a.take(6, 1).expect("take").is_some(), "per device");
        // A's session ends under it (a restarted server, a dropped connection).
        let ended = a
            .database()
            .wait(async move {
                let client = a_client(&url).await;
                client
                    .query_one(
                        "SELECT count(pg_terminate_backend(pid)) FROM (SELECT DISTINCT pid
                         FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
                         AND objid >= $1 AND database =
                         (SELECT oid FROM pg_database WHERE datname = current_database())) s",
                        &[&(SLOTS as u32)],
                    )
                    .await
                    .map(|r| r.get::<_, i64>(0))
            })
            .expect("runtime")
            .expect("terminate");
        assert_eq!(ended, 1, "one session held the slots");
        // Its next admission opens a session, takes the two back, then the third.
        let third = take_within(on_a.as_ref(), 5, 3);
        assert!(on_b.take(5, 3).expect("take").is_none(), "all three on A");
        drop(held);
        drop(third);
        take_within(on_b.as_ref(), 5, 1);
    }

    async fn a_client(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
        tokio::spawn(connection);
        client
    }
}
