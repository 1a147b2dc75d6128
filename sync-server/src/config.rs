//! The relay's configuration: flags and environment, parsed once in `main`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

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
    /// Keep documents and sync states in PostgreSQL at this URL
    /// (`postgres://user:password@host:port/database`) instead of the embedded SQLite.
    /// The directory (teams, members, devices, audit) goes there too.
    #[arg(long, env = "PAKTUM_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// The built app to serve (Trunk's output).
    #[arg(long, env = "PAKTUM_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Largest WebSocket message accepted; larger ones close the connection.
    #[arg(long, env = "PAKTUM_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
    #[arg(long, env = "PAKTUM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Messages per second the relay takes from one connection (bursts up to 4x);
    /// beyond it the relay reads that connection more slowly.
    #[arg(long, env = "PAKTUM_MAX_MESSAGES_PER_SECOND", default_value_t = 5000)]
    pub max_messages_per_second: u32,
    /// Documents one connection may sync in one session.
    #[arg(long, env = "PAKTUM_MAX_OPEN_DOCUMENTS", default_value_t = 50_000)]
    pub max_open_documents: usize,
    /// Connections one device may hold at once (with `--database`, on all the relays
    /// sharing that database together).
    #[arg(long, env = "PAKTUM_MAX_CONNECTIONS_PER_DEVICE", default_value_t = 4)]
    pub max_connections_per_device: usize,
    /// Documents kept in memory once synced (more are reloaded from the store on use).
    #[arg(long, env = "PAKTUM_MAX_DOCUMENTS_IN_MEMORY", default_value_t = 256)]
    pub max_documents_in_memory: usize,
    /// DEVELOPMENT ONLY: accept devices without a token and let every device sync
    /// every document. Never use with real data.
    #[arg(long, env = "PAKTUM_INSECURE_OPEN")]
    pub insecure_open: bool,
    /// Failed enrolments free per client address (and per code prefix) before each
    /// further failure blocks it for a doubling delay (30 s, 1 min, … 15 min); with
    /// `--database`, counted on all the relays sharing that database together.
    #[arg(long, env = "PAKTUM_ENROL_FREE_FAILURES", default_value_t = 5)]
    pub enrol_free_failures: u32,
    /// Behind a reverse proxy: take the client address for enrolment limits from
    /// the last `X-Forwarded-For` entry (the one the proxy added). Off by default:
    /// without a proxy that header is the client's to forge.
    #[arg(long, env = "PAKTUM_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Serve HTTPS (and WSS) with this certificate chain (PEM, leaf first, e.g. a
    /// `fullchain.pem`); needs `--tls-key`. Read again when it changes.
    #[arg(
        long,
        env = "PAKTUM_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "PAKTUM_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,
    /// How often to look whether the certificate or key files changed (a renewal);
    /// new connections then get the new certificate, open ones keep theirs.
    #[arg(long, env = "PAKTUM_TLS_RELOAD_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub tls_reload_seconds: u64,
    #[command(subcommand)]
    pub admin: Option<AdminCommand>,
}

/// `paktum-sync-server admin …`: manage teams, members and devices in the store.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Clone, Subcommand)]
pub enum Admin {
    /// Create a team in a pact (or change whether it syncs only own caseloads).
    CreateTeam {
        #[arg(long)]
        pact: String,
        #[arg(long)]
        team: String,
        /// Workers sync only the contacts assigned to them.
        #[arg(long)]
        own_caseload_only: bool,
    },
    /// Set a pact's settings (each left out stays as it is) and print those in force;
    /// the pact's devices get them at their next start or enrolment.
    PactSettings {
        #[arg(long)]
        pact: String,
        /// The device locks after this many quiet minutes (1-60; default 5).
        #[arg(long)]
        lock_minutes: Option<u32>,
        /// Wrong PINs in a row before the device erases what the relay has (3-20;
        /// default 10).
        #[arg(long)]
        lock_failures: Option<u32>,
        /// The inclusive-employer goal in percent (1-100; default 50).
        #[arg(long)]
        inclusive_goal: Option<u32>,
        /// Months without a change before a record is listed for erasure (6-120;
        /// default 24).
        #[arg(long)]
        retention_months: Option<u32>,
        /// Back to the defaults first (then the values given, if any).
        #[arg(long)]
        reset: bool,
    },
    /// Add a member and print a one-time enrolment code.
    Invite {
        #[arg(long)]
        team: String,
        #[arg(long)]
        name: String,
        /// worker, coordinator or admin
        #[arg(long, default_value = "worker")]
        role: String,
        /// Hours until the code expires.
        #[arg(long, default_value_t = 72)]
        expires_in_hours: i64,
        /// Public address of the relay, for the enrolment link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// List enrolled devices.
    Devices,
    /// Revoke a device: it is disconnected at once and cannot reconnect. With
    /// `--wipe` its next connection hands in what it has not synced and then erases
    /// everything on it; with `--quarantine` too, what it hands in is kept apart for
    /// the coordinator (`admin quarantine list`) instead of merged.
    Revoke {
        /// The device (`admin devices`); also accepted as `--device`.
        #[arg(required_unless_present = "device")]
        device_id: Option<i64>,
        #[arg(long, conflicts_with = "device_id")]
        device: Option<i64>,
        /// Have the device erase its local data when it next reaches the relay.
        #[arg(long)]
        wipe: bool,
        /// Keep its unsynced changes in the quarantine, not merged (needs `--wipe`).
        #[arg(long, requires = "wipe")]
        quarantine: bool,
    },
    /// What withdrawn devices handed in, kept apart from the documents.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// Revoke all of a member's devices and print a fresh enrolment code.
    Rotate {
        member_id: i64,
        #[arg(long, default_value_t = 72)]
        expires_in_hours: i64,
    },
    /// Write a consistent copy of the store to FILE while the relay runs (restore:
    /// stop the relay, copy FILE to DATA_DIR/paktum.sqlite3, start it).
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Erase a record for good (GDPR Art. 17): its stored chunks and sync states, its
    /// row in its team's index (left as a tombstone without personal data); its id is
    /// refused from every device from then on, and devices delete their copies.
    Erase {
        /// The record's document id.
        #[arg(long)]
        doc: String,
        /// The role of whoever asked for the erasure (recorded, no name).
        #[arg(long, default_value = "admin")]
        by: String,
    },
    /// Print an erasure's receipt: when, by which role, how many devices confirmed.
    EraseReceipt { doc: String },
    /// Copy a SQLite data directory (documents, sync states, erasures and the
    /// directory) into an empty PostgreSQL database, then check the copy: document
    /// count and every document's heads, row counts of the directory. Stop the relay
    /// on the SQLite store first.
    Migrate {
        /// The SQLite data directory to copy from.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The PostgreSQL database to copy to (`postgres://…`), empty.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Show the audit log, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// The log filter's directives: `RUST_LOG` when set (else `info`, without tower_http's
/// request lines), with Automerge's own spans turned off unless `RUST_LOG` names
/// automerge. At `info` those spans record their arguments with `Debug`, among them a
/// document's whole change graph, on every load and every received change: 10 ms of
/// formatting per change of a 10,000-row index, most of the relay's time on a
/// reconnect (tests/log_filter.rs).
pub fn log_directives(rust_log: Option<&str>) -> String {
    let base = rust_log
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("info,tower_http=warn");
    if base.contains("automerge") {
        base.to_string()
    } else {
        format!("{base},automerge=warn")
    }
}

impl Config {
    /// The certificate and key files when the relay serves HTTPS itself.
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }

    /// Defaults for tests: loopback on any free port, the given data directory.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database: None,
            dist: PathBuf::from("dist"),
            max_message_bytes: 16 * 1024 * 1024,
            log_format: LogFormat::Text,
            max_messages_per_second: 5000,
            max_open_documents: 50_000,
            max_connections_per_device: 4,
            max_documents_in_memory: 256,
            insecure_open: false,
            enrol_free_failures: 5,
            trust_forwarded_for: false,
            tls_cert: None,
            tls_key: None,
            tls_reload_seconds: 60,
            admin: None,
        }
    }
}

/// `admin quarantine …`
#[derive(Debug, Clone, Subcommand)]
pub enum QuarantineCommand {
    /// One line per hand-in: its number, the document id, the device, when, and its
    /// size. Never the content.
    List,
}
