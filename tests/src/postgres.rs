//! PostgreSQL for tests: a fresh, empty database on the server named by
//! `PAKTUM_TEST_POSTGRES` (`postgres://USER@HOST:PORT`, no database; `cargo xtask
//! test` and `cargo xtask with-postgres` start a throwaway cluster and set it).
//! Without it the caller's PostgreSQL case is skipped out loud, except under CI (`CI`
//! set), where that fails.

use std::sync::atomic::{AtomicUsize, Ordering};

static MADE: AtomicUsize = AtomicUsize::new(0);

/// The URL of a new database, or `None` (said on stderr) when no server is set
/// outside CI. Works from inside or outside a tokio runtime.
pub fn fresh_database() -> Option<String> {
    let Ok(base) = std::env::var("PAKTUM_TEST_POSTGRES") else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        assert!(
            !ci,
            "PAKTUM_TEST_POSTGRES is not set under CI: the PostgreSQL tests cannot be skipped"
        );
        eprintln!(
            "SKIPPED: a PostgreSQL case (set PAKTUM_TEST_POSTGRES=postgres://USER@HOST:PORT, or run it under `cargo xtask with-postgres`)"
        );
        return None;
    };
    let base = base.trim_end_matches('/').to_string();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "paktum_test_{}_{}_{nanos}",
        std::process::id(),
        MADE.fetch_add(1, Ordering::Relaxed)
    );
    let admin = format!("{base}/postgres");
    let create = format!("CREATE DATABASE {name}");
    // Its own thread and runtime, so a caller inside a runtime can call this too.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .expect("connecting to the PostgreSQL test server");
            tokio::spawn(connection);
            client
                .batch_execute(&create)
                .await
                .expect("creating a test database");
        });
    })
    .join()
    .expect("creating a test database");
    Some(format!("{base}/{name}"))
}
