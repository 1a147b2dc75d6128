//! Paktum's relay. Layers, outside in: `routes` (HTTP, WebSocket upgrade, static
//! files) -> `session` (one connection's protocol) -> `hub` (documents, sync states,
//! fan-out) -> `storage` (SQLite or memory). I/O edges are injected: [`run`] takes the
//! listener, the storage and a shutdown token.

pub mod config;
pub mod hub;
pub mod routes;
pub mod session;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use hub::Hub;
pub use storage::{MemoryStorage, SqliteStorage, Storage};

/// Serves until `shutdown` completes; then closes every sync connection (saving their
/// sync states) and returns.
pub async fn run(
    listener: TcpListener,
    config: &Config,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let hub = Arc::new(Hub::new(storage).context("opening the store")?);
    let token = CancellationToken::new();
    let state = routes::AppState {
        hub: hub.clone(),
        max_message_bytes: config.max_message_bytes,
        shutdown: token.clone(),
    };
    let app =
        routes::router(state, &config.dist).layer(tower_http::trace::TraceLayer::new_for_http());
    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let wait = token.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { wait.cancelled().await })
        .await
        .context("serving")?;
    // Upgraded WebSockets outlive axum's graceful shutdown; wait for their sessions to
    // save state, but not forever.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while hub.connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}
