//! The relay's configuration: flags and environment, parsed once in `main`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "paktum-sync-server",
    version,
    about = "Paktum relay: syncs field devices and serves the app"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PAKTUM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the embedded SQLite store (created if missing).
    #[arg(long, env = "PAKTUM_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The built app to serve (Trunk's output).
    #[arg(long, env = "PAKTUM_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Largest WebSocket message accepted; larger ones close the connection.
    #[arg(long, env = "PAKTUM_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    #[arg(long, env = "PAKTUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// Defaults for tests: loopback on any free port, the given data directory.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            dist: PathBuf::from("dist"),
            max_message_bytes: 16 * 1024 * 1024,
            log_format: LogFormat::Text,
        }
    }
}
