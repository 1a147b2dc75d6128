//! The real relay, started in-process on `127.0.0.1:0` for a test.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use paktum_sync_server::{Config, PostgresStorage, SqliteStorage, Storage, run};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug)]
pub struct TestRelay {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestRelay {
    /// Starts an open relay (no device tokens; for tests of sync itself) on SQLite in
    /// `data_dir`, serving `dist` if given. Access-control tests use [`Self::start_with`]
    /// (on PostgreSQL when the configuration names a database).
    pub async fn start(data_dir: &Path, dist: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = Config::for_tests(data_dir.to_path_buf());
        config.insecure_open = true;
        if let Some(dist) = dist {
            config.dist = dist.to_path_buf();
        }
        Self::start_with(config).await
    }

    pub async fn start_with(config: Config) -> anyhow::Result<Self> {
        let storage: Arc<dyn Storage> = match &config.database {
            Some(url) => Arc::new(PostgresStorage::connect(url).context("opening store")?),
            None => Arc::new(SqliteStorage::open(&config.data_dir).context("opening store")?),
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .context("binding")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run(listener, &config, storage, async move {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// The sync URL carrying a device token, as the app and JS clients send it.
    pub fn ws_url_with_token(&self, token: &str) -> String {
        format!("ws://{}/sync?token={token}", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop: waits until sessions have saved their state.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.context("relay task panicked")??;
        }
        Ok(())
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
