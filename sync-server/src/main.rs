//! `paktum-sync-server`: starts the relay with its embedded SQLite store.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use paktum_sync_server::config::{Admin, AdminCommand, LogFormat, log_directives};
use paktum_sync_server::{Config, PostgresStorage, SqliteStorage, Storage, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::try_new(log_directives(rust_log.as_deref()))
        .unwrap_or_else(|_| EnvFilter::new(log_directives(None)));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
    }
    if let Some(AdminCommand::Admin(Admin::Backup { .. })) = &config.admin
        && config.database.is_some()
    {
        anyhow::bail!(
            "documents are in PostgreSQL: back them up with pg_dump (admin backup copies the embedded SQLite store only)"
        );
    }
    if let Some(AdminCommand::Admin(Admin::Backup { to, force })) = &config.admin {
        return paktum_sync_server::admin::backup(&config.data_dir, to, *force);
    }
    if let Some(AdminCommand::Admin(Admin::Migrate { from, to })) = &config.admin {
        return paktum_sync_server::admin::migrate::run(from, to);
    }
    if let Some(AdminCommand::Admin(Admin::Erase { doc, by })) = &config.admin {
        return paktum_sync_server::admin::erase(
            &config.data_dir,
            config.database.as_deref(),
            doc,
            by,
        );
    }
    if let Some(AdminCommand::Admin(command)) = &config.admin {
        let directory = paktum_sync_server::auth::Directory::from_config(&config)
            .context("opening the directory")?;
        return paktum_sync_server::admin::run(&directory, command);
    }
    let storage: Arc<dyn Storage> = match &config.database {
        None => Arc::new(
            SqliteStorage::open(&config.data_dir)
                .with_context(|| format!("opening the store in {}", config.data_dir.display()))?,
        ),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            // The URL may hold a password: never in a message.
            Arc::new(PostgresStorage::connect(url).context("opening the PostgreSQL store")?)
        }
        Some(_) => anyhow::bail!("--database takes a postgres:// URL"),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (is another Paktum already running?)",
                config.listen
            )
        })?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), dist = %config.dist.display(), "Paktum relay listening");
    let (http, ws) = match config.tls() {
        Some(_) => ("https", "wss"),
        None => ("http", "ws"),
    };
    println!(
        "Paktum is running at {http}://{addr}/ (sync at {ws}://{addr}/sync). Press Ctrl-C to stop."
    );
    run(listener, &config, storage, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
