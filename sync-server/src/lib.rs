//! Paktum's relay. Layers, outside in: `routes` (HTTP, WebSocket upgrade, static
//! files) -> `session` (one connection's protocol) -> `hub` (documents, sync states,
//! fan-out) -> `storage` (SQLite or memory). I/O edges are injected: [`run`] takes the
//! listener, the storage and a shutdown token.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod config;
pub mod erasure;
pub mod error;
pub mod hub;
pub mod routes;
pub mod session;
pub mod storage;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;
pub use hub::Hub;
pub use storage::{MemoryStorage, PostgresStorage, SqliteStorage, Storage};

/// Serves until `shutdown` completes; then closes every sync connection (saving their
/// sync states) and returns.
pub async fn run(
    listener: TcpListener,
    config: &Config,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Read before anything else starts: a wrong path or key fails at once.
    let tls = match config.tls() {
        Some((cert, key)) => {
            Some(tls::CertFiles::load(cert, key).context("loading the TLS certificate")?)
        }
        None => None,
    };
    // The URL may hold a password: never in a message.
    let directory =
        Arc::new(auth::Directory::from_config(config).context("opening the directory")?);
    if config.insecure_open {
        tracing::warn!("running OPEN: no device tokens are checked; never use this with real data");
    }
    let limits = hub::Limits {
        open_documents: config.max_open_documents,
        connections_per_device: config.max_connections_per_device,
        documents_in_memory: config.max_documents_in_memory,
    };
    let audit =
        audit::AuditLog::start(directory.clone()).context("starting the audit log writer")?;
    let hub_directory = (!config.insecure_open).then(|| directory.clone());
    let hub_audit = (!config.insecure_open).then(|| audit.clone());
    let hub =
        Arc::new(Hub::new(storage, hub_directory, hub_audit, limits).context("opening the store")?);
    // Before serving: the shared and own indices hold every stored record they should
    // (a record stored before them would stay missing until it changed).
    let started = std::time::Instant::now();
    match hub.build_indices(false).await {
        Ok(built) if !built.skipped => tracing::info!(
            records = built.records,
            indices = built.indices_written,
            ms = started.elapsed().as_millis() as u64,
            "built the shared and own indices from the stored records"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not build the shared and own indices"),
    }
    let token = CancellationToken::new();
    let state = routes::AppState {
        hub: hub.clone(),
        max_message_bytes: config.max_message_bytes,
        shutdown: token.clone(),
        directory: directory.clone(),
        audit,
        open: config.insecure_open,
        rate: session::RateLimit {
            per_second: config.max_messages_per_second,
            burst: config.max_messages_per_second.saturating_mul(4),
        },
        enrolments: Arc::new(std::sync::Mutex::new(auth::throttle::EnrolThrottle::new(
            auth::throttle::Rules {
                free_failures: config.enrol_free_failures,
                ..auth::throttle::Rules::default()
            },
        ))),
        trust_forwarded_for: config.trust_forwarded_for,
    };
    tokio::spawn(watch_directory(hub.clone(), directory, token.clone()));
    if let Some(changes) = hub.storage().changes() {
        tokio::spawn(follow_other_relays(hub.clone(), changes, token.clone()));
    }
    if let Some(files) = &tls {
        tokio::spawn(files.clone().watch(
            std::time::Duration::from_secs(config.tls_reload_seconds),
            token.clone(),
        ));
    }
    let app =
        routes::router(state, &config.dist).layer(
            // Spans name the method and path only: the query carries device tokens,
            // which never go into a log.
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
                },
            ),
        );
    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let wait = async move { token.cancelled().await };
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // The peer address (`ConnectInfo`) is what enrolment limits count by.
    match tls {
        Some(files) => {
            let listener = tls::TlsListener::new(listener, files.acceptor()?)
                .context("reading the bound address")?;
            // `tap_io` only for axum's `ConnectInfo<SocketAddr>`, which it provides for
            // any tapped listener (TCP_NODELAY is set before the handshake).
            let listener = axum::serve::ListenerExt::tap_io(listener, |_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(wait)
                .await
                .context("serving")?;
        }
        None => {
            // Sync messages are small and answered at once: without TCP_NODELAY,
            // Nagle's algorithm meets the peer's delayed ACK and a reply can wait 40 ms.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(wait)
                .await
                .context("serving")?;
        }
    }
    // Upgraded WebSockets outlive axum's graceful shutdown; wait for their sessions to
    // save state, but not forever.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while hub.connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Documents re-read at once when other relays changed them: a reload waits on the
/// store (a round trip and a load), so one at a time would queue every other
/// document's news behind it.
const RELOADS_AT_ONCE: usize = 16;

/// Changes committed by other relays on the same database reach this relay's devices.
/// A document whose reload is queued but not started is not queued twice: that
/// reload reads the later change too (and so must not skip by the first one's heads).
async fn follow_other_relays(
    hub: Arc<Hub>,
    mut changes: tokio::sync::mpsc::Receiver<storage::Changed>,
    stop: CancellationToken,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(RELOADS_AT_ONCE));
    // Queued documents, and whether another change of it came meanwhile.
    let queued: Arc<std::sync::Mutex<std::collections::HashMap<paktum_shared::DocumentId, bool>>> =
        Arc::default();
    loop {
        let changed = tokio::select! {
            () = stop.cancelled() => return,
            changed = changes.recv() => match changed {
                Some(changed) => changed,
                None => return,
            },
        };
        {
            let mut queued = queued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(again) = queued.get_mut(&changed.doc) {
                *again = true;
                continue;
            }
            queued.insert(changed.doc, false);
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (hub, queued) = (hub.clone(), queued.clone());
        tokio::spawn(async move {
            let mut changed = changed;
            let again = queued
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&changed.doc)
                .unwrap_or(false);
            if again {
                changed.heads.clear();
            }
            let doc = changed.doc;
            if let Err(e) = hub.changed_elsewhere(changed).await {
                tracing::warn!(%doc, error = %e, "could not take in another relay's change");
            }
            drop(slot);
        });
    }
}

/// Revocations and new teams come from the admin CLI, another process, or (on
/// PostgreSQL) another relay: look for them twice a second, and at once when told
/// (`NOTIFY`), so a revoked device is cut off at once on every relay.
async fn watch_directory(hub: Arc<Hub>, directory: Arc<auth::Directory>, stop: CancellationToken) {
    let mut since = auth::now_ms();
    let mut erasures_seen = 0;
    // On PostgreSQL, other relays and the admin CLI say when they changed something.
    let mut told = directory.changes();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            Some(_) = async {
                match told.as_mut() {
                    Some(told) => told.recv().await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        let checked_at = auth::now_ms();
        let d = directory.clone();
        let revoked = tokio::task::spawn_blocking(move || d.revoked_since(since)).await;
        if let Ok(Ok(revoked)) = revoked {
            let hub = hub.clone();
            let _ = tokio::task::spawn_blocking(move || hub.refresh(&revoked)).await;
            since = checked_at - 1000;
        }
        // Erasures by the admin CLI (those by coordinators are already carried out).
        let d = directory.clone();
        let erasures = tokio::task::spawn_blocking(move || d.erasures_after(erasures_seen)).await;
        for erasure in erasures.into_iter().flatten().flatten() {
            erasures_seen = erasures_seen.max(erasure.seq);
            if let Err(e) = hub.apply_erasure(erasure).await {
                tracing::error!(error = %e, "an erasure could not be carried out; retried at the next start of the relay");
            }
        }
    }
}
