//! One relay's door to PostgreSQL: a connection pool on a small runtime of its own,
//! and the schema migrations (`migrations/postgres/*.sql`), applied at connection
//! under an advisory lock so relays starting together apply each one once. The
//! storage and the directory each hold one.

use std::future::Future;

use deadpool_postgres::{Manager, Pool, Runtime};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

/// Schema versions in order; a database records the ones applied in
/// `schema_migrations`. Never edit one that has shipped: add the next.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_documents.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_erased.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_directory.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_wipe.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_pact_settings.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_enrol_throttle.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_generations.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/postgres/0008_append.sql"),
    ),
];

/// How long a dropped listening connection waits before connecting again.
const RECONNECT: std::time::Duration = std::time::Duration::from_secs(2);

/// Any 64-bit number unique to Paktum's migrations.
const MIGRATION_LOCK: i64 = 0x7061_6b74_756d_0001;

/// A pool and the runtime its connections live on.
pub struct Database {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
    config: tokio_postgres::Config,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration may hold a password: never in a message.
        f.write_str("Database")
    }
}

impl Database {
    /// Connects to `url` (`postgres://user:password@host:port/database`) with at most
    /// `pool_size` connections and applies the migrations this database lacks.
    pub fn connect(url: &str, pool_size: usize) -> Result<Self, String> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let pool = Pool::builder(Manager::new(config.clone(), NoTls))
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| e.to_string())?;
        let database = Self {
            pool,
            runtime: Some(runtime),
            config,
        };
        let pool = database.pool.clone();
        database.wait(async move { migrate(&pool).await.map_err(|e| e.to_string()) })??;
        Ok(database)
    }

    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }

    /// The parsed URL, for connections outside the pool (LISTEN).
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// Runs `work` on this database's runtime and waits for it. Waiting on a channel
    /// rather than `block_on` keeps this safe to call from inside another runtime.
    pub fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, String> {
        let gone = || "the PostgreSQL runtime has stopped".to_string();
        let runtime = self.runtime.as_ref().ok_or_else(gone)?;
        let (done, result) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = done.send(work.await);
        });
        result.recv().map_err(|_| gone())
    }

    /// The payloads of `NOTIFY`s on `channel`, on a connection of its own (made again
    /// when it drops; callers poll for what is missed meanwhile), until the receiver
    /// is dropped.
    pub fn listen(&self, channel: &'static str) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(4096);
        self.spawn(listen(self.config.clone(), channel, tx));
        rx
    }

    /// Spawns `work` on this database's runtime without waiting.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(work);
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // Dropping a runtime may not block inside another runtime's task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn listen(config: tokio_postgres::Config, channel: &str, tx: mpsc::Sender<String>) {
    while !tx.is_closed() {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (messages_tx, mut messages) = mpsc::unbounded_channel();
                // The connection delivers notifications only while it is polled.
                let driver = tokio::spawn(async move {
                    let mut stream =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(Ok(message)) = stream.next().await {
                        if messages_tx.send(message).is_err() {
                            break;
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {channel}")).await {
                    tracing::warn!(error = %e, channel, "could not listen for notifications");
                } else {
                    while let Some(message) = messages.recv().await {
                        if let AsyncMessage::Notification(n) = message
                            && tx.send(n.payload().to_string()).await.is_err()
                        {
                            break;
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => {
                tracing::warn!(error = %e, channel, "could not connect to listen for notifications")
            }
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

async fn migrate(pool: &Pool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    for (version, sql) in MIGRATIONS {
        let applied = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?;
        if applied.is_none() {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
            tracing::info!(version, "applied PostgreSQL migration");
        }
    }
    tx.commit().await?;
    Ok(())
}
