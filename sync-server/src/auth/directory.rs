//! The directory: teams, members, one-time enrolment codes, devices and the
//! audit log, in SQLite or PostgreSQL (one logic, `sql`'s door). Tokens and codes are
//! stored only as SHA-256 hashes.

use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::{AuthError, Identity, Role};
use crate::storage::postgres::Database;
use sql::{Db, values};

mod erasure;
mod settings;
pub(crate) mod sql;
mod throttle;
mod wipe;

/// Connections one relay's directory opens at most (PostgreSQL).
const POOL_SIZE: usize = 4;

pub use erasure::{Erasure, Receipt};
pub use wipe::{Quarantined, RevokeMode, WipeOrder};

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A code people can read aloud or type: 10 letters/digits without look-alikes.
fn random_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let chars: String = (0..10)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn normalise_code(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if clean.len() == 10 {
        format!("{}-{}", &clean[..5], &clean[5..])
    } else {
        clean
    }
}

/// One line of the audit log.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: i64,
    pub event: String,
    pub device_id: Option<i64>,
    pub detail: String,
}

/// A device listed for admins.
#[derive(Clone, Debug)]
pub struct DeviceRow {
    pub device_id: i64,
    pub worker: String,
    pub role: Role,
    pub team: String,
    pub enrolled_at: i64,
    pub revoked_at: Option<i64>,
    pub label: String,
}

pub struct Directory {
    db: Db,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directory")
    }
}

/// The SQLite schema; PostgreSQL's is `migrations/postgres/0003_directory.sql`.
const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS teams (
        name TEXT PRIMARY KEY, pact TEXT NOT NULL, own_caseload_only INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS members (
        id INTEGER PRIMARY KEY, team TEXT NOT NULL REFERENCES teams(name),
        name TEXT NOT NULL, role TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS codes (
        hash BLOB PRIMARY KEY, member_id INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        used_at INTEGER);
    CREATE TABLE IF NOT EXISTS devices (
        id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL, token_hash BLOB NOT NULL UNIQUE,
        label TEXT NOT NULL, enrolled_at INTEGER NOT NULL, revoked_at INTEGER);
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL,
        device_id INTEGER, detail TEXT NOT NULL);";

/// Sorted by bytes, whatever the database's collation.
fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

impl Directory {
    /// The directory in the relay's SQLite file in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, AuthError> {
        let conn =
            crate::storage::sqlite::connect(data_dir).map_err(|e| AuthError::Db(e.to_string()))?;
        conn.execute_batch(TABLES)?;
        conn.execute_batch(erasure::TABLES)?;
        conn.execute_batch(wipe::TABLES)?;
        conn.execute_batch(settings::TABLES)?;
        wipe::migrate(&conn)?;
        Ok(Self {
            db: Db::Sqlite(Mutex::new(conn)),
        })
    }

    /// The directory in PostgreSQL (its tables come with the migrations).
    pub fn postgres(database: Arc<Database>) -> Self {
        Self {
            db: Db::Postgres(database),
        }
    }

    /// The directory the configuration names: PostgreSQL with `--database`, else the
    /// SQLite file in the data directory.
    pub fn from_config(config: &crate::Config) -> Result<Self, AuthError> {
        Self::connect(&config.data_dir, config.database.as_deref())
    }

    /// PostgreSQL at `database` if given, else the SQLite file in `data_dir`.
    pub fn connect(data_dir: &Path, database: Option<&str>) -> Result<Self, AuthError> {
        match database {
            Some(url) => Ok(Self::postgres(Arc::new(
                Database::connect(url, POOL_SIZE).map_err(AuthError::Db)?,
            ))),
            None => Self::open(data_dir),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Wakes a relay when another process changed the directory (PostgreSQL's
    /// `NOTIFY`); `None` on SQLite, where the relay only polls.
    pub fn changes(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        self.db.changes()
    }

    pub fn create_team(
        &self,
        pact: &str,
        team: &str,
        own_caseload_only: bool,
    ) -> Result<(), AuthError> {
        let (pact, team) = (pact.trim(), team.trim());
        if pact.is_empty() || team.is_empty() {
            return Err(AuthError::Invalid("pact and team need names".into()));
        }
        let existing = self
            .db
            .query_opt("SELECT pact FROM teams WHERE name = $1", values![team])?;
        if let Some(row) = existing
            && row.text(0)? != pact
        {
            return Err(AuthError::Invalid(format!(
                "team {team} already belongs to another pact"
            )));
        }
        self.db.execute(
            "INSERT INTO teams (name, pact, own_caseload_only) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET own_caseload_only = excluded.own_caseload_only",
            values![team, pact, own_caseload_only],
        )?;
        Ok(())
    }

    /// Adds a member and returns a one-time enrolment code valid for `ttl_ms`.
    pub fn invite(
        &self,
        team: &str,
        name: &str,
        role: Role,
        ttl_ms: i64,
        now: i64,
    ) -> Result<(i64, String), AuthError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuthError::Invalid("a member needs a name".into()));
        }
        let code = random_code();
        self.db.transaction(|tx| {
            let known = tx.query("SELECT name FROM teams WHERE name = $1", values![team])?;
            if known.is_empty() {
                return Err(AuthError::Invalid(format!(
                    "no team named {team}; create it first"
                )));
            }
            let member = tx.query(
                "INSERT INTO members (team, name, role) VALUES ($1, $2, $3) RETURNING id",
                values![team, name, role.as_str()],
            )?;
            let member = member
                .first()
                .ok_or_else(|| AuthError::Db("no member id".into()))?
                .int(0)?;
            tx.execute(
                "INSERT INTO codes (hash, member_id, expires_at) VALUES ($1, $2, $3)",
                values![hash(&code), member, now + ttl_ms],
            )?;
            Ok((member, code))
        })
    }

    /// Exchanges a code for a device token (shown once, stored hashed).
    pub fn enrol(
        &self,
        code: &str,
        label: &str,
        now: i64,
    ) -> Result<(String, Identity), AuthError> {
        let code = normalise_code(code);
        let row = self.db.query_opt(
            "SELECT member_id, expires_at, used_at FROM codes WHERE hash = $1",
            values![hash(&code)],
        )?;
        let refuse = |e: AuthError| {
            self.audit(now, "enrol_refused", None, e.to_string().as_str());
            Err(e)
        };
        let Some(row) = row else {
            return refuse(AuthError::UnknownCode);
        };
        let (member, expires_at, used_at) = (row.int(0)?, row.int(1)?, row.opt_int(2)?);
        if used_at.is_some() {
            return refuse(AuthError::UsedCode);
        }
        if expires_at < now {
            return refuse(AuthError::ExpiredCode);
        }
        let token = random_hex(32);
        let label: String = label.chars().filter(|c| !c.is_control()).take(80).collect();
        let claimed = self.db.transaction(|tx| {
            // Claim the code atomically: two devices racing with one code, one wins.
            let claimed = tx.execute(
                "UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL",
                values![now, hash(&code)],
            )?;
            if claimed == 1 {
                tx.execute(
                    "INSERT INTO devices (member_id, token_hash, label, enrolled_at) VALUES ($1, $2, $3, $4)",
                    values![member, hash(&token), label, now],
                )?;
            }
            Ok(claimed == 1)
        })?;
        if !claimed {
            return refuse(AuthError::UsedCode);
        }
        let identity = self.authenticate(&token)?;
        self.audit(
            now,
            "enrolled",
            Some(identity.device_id),
            &format!("member {member}"),
        );
        Ok((token, identity))
    }

    pub fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let row = self.db.query_opt(
            "SELECT d.id, d.revoked_at, m.id, m.name, m.role, t.name, t.pact, t.own_caseload_only
             FROM devices d JOIN members m ON m.id = d.member_id JOIN teams t ON t.name = m.team
             WHERE d.token_hash = $1",
            values![hash(token)],
        )?;
        let Some(row) = row else {
            return Err(AuthError::Unknown);
        };
        if row.opt_int(1)?.is_some() {
            return Err(AuthError::Revoked);
        }
        let pact = row.text(6)?;
        let pact_teams = self
            .db
            .query(
                "SELECT name FROM teams WHERE pact = $1",
                values![pact.as_str()],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Identity {
            device_id: row.int(0)?,
            member_id: row.int(2)?,
            worker: row.text(3)?,
            role: Role::parse(&row.text(4)?).unwrap_or(Role::Worker),
            team: row.text(5)?,
            pact,
            pact_teams: sorted(pact_teams),
            own_caseload_only: row.bool(7)?,
        })
    }

    /// The members of `team` (name and role), sorted by name; a name invited twice
    /// (two devices of one person) once.
    pub fn members(&self, team: &str) -> Result<Vec<(String, String)>, AuthError> {
        let rows = self.db.query(
            "SELECT name, MIN(role) FROM members WHERE team = $1 GROUP BY name",
            values![team],
        )?;
        let members = rows
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<Vec<_>, AuthError>>()?;
        Ok(sorted(members))
    }

    pub fn revoke(&self, device_id: i64, now: i64) -> Result<bool, AuthError> {
        let n = self.db.execute(
            "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            values![now, device_id],
        )?;
        if n == 1 {
            self.audit(now, "revoked", Some(device_id), "by admin");
            self.db.notify();
        }
        Ok(n == 1)
    }

    /// Revokes every device of a member and issues a fresh code (e.g. a lost phone).
    pub fn rotate(&self, member_id: i64, ttl_ms: i64, now: i64) -> Result<String, AuthError> {
        let known = self
            .db
            .query_opt("SELECT id FROM members WHERE id = $1", values![member_id])?;
        if known.is_none() {
            return Err(AuthError::Invalid(format!("no member {member_id}")));
        }
        let devices = self.db.query(
            "SELECT id FROM devices WHERE member_id = $1 AND revoked_at IS NULL",
            values![member_id],
        )?;
        for d in devices {
            self.revoke(d.int(0)?, now)?;
        }
        let code = random_code();
        self.db.execute(
            "INSERT INTO codes (hash, member_id, expires_at) VALUES ($1, $2, $3)",
            values![hash(&code), member_id, now + ttl_ms],
        )?;
        self.audit(now, "rotated", None, &format!("member {member_id}"));
        Ok(code)
    }

    /// Devices revoked after `since` (ms), for disconnecting them at once.
    pub fn revoked_since(&self, since: i64) -> Result<Vec<i64>, AuthError> {
        self.db
            .query(
                "SELECT id FROM devices WHERE revoked_at >= $1",
                values![since],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect()
    }

    pub fn devices(&self) -> Result<Vec<DeviceRow>, AuthError> {
        self.db
            .query(
                "SELECT d.id, m.name, m.role, m.team, d.enrolled_at, d.revoked_at, d.label
                 FROM devices d JOIN members m ON m.id = d.member_id ORDER BY d.id",
                vec![],
            )?
            .iter()
            .map(|r| {
                Ok(DeviceRow {
                    device_id: r.int(0)?,
                    worker: r.text(1)?,
                    role: Role::parse(&r.text(2)?).unwrap_or(Role::Worker),
                    team: r.text(3)?,
                    enrolled_at: r.int(4)?,
                    revoked_at: r.opt_int(5)?,
                    label: r.text(6)?,
                })
            })
            .collect()
    }

    /// Every team name, for recognising index documents.
    pub fn teams(&self) -> Result<Vec<String>, AuthError> {
        self.db
            .query("SELECT name FROM teams", vec![])?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    /// The teams set to "own caseload only" (the relay keeps their workers' own indices).
    pub fn own_caseload_teams(&self) -> Result<Vec<String>, AuthError> {
        self.db
            .query("SELECT name FROM teams WHERE own_caseload_only", vec![])?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    /// Appends to the audit log; failures are logged, never fatal.
    pub fn audit(&self, now: i64, event: &str, device_id: Option<i64>, detail: &str) {
        let result = self.db.execute(
            "INSERT INTO audit (at, event, device_id, detail) VALUES ($1, $2, $3, $4)",
            values![now, event, device_id, detail],
        );
        if let Err(e) = result {
            tracing::error!(error = %e, event, "could not write the audit log");
        }
    }

    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, AuthError> {
        self.db
            .query(
                "SELECT at, event, device_id, detail FROM audit ORDER BY seq DESC LIMIT $1",
                values![limit as i64],
            )?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.int(0)?,
                    event: r.text(1)?,
                    device_id: r.opt_int(2)?,
                    detail: r.text(3)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use paktum_shared::DocumentId;

    use super::*;

    const HOUR: i64 = 3_600_000;

    fn directory() -> (tempfile::TempDir, Directory) {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Directory::open(dir.path()).expect("open");
        (dir, d)
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let (_dir, d) = directory();
        codes_are_single_use_and_expire_in(&d);
    }

    #[test]
    fn codes_are_single_use_and_expire_on_postgres() {
        if let Some(d) = postgres() {
            codes_are_single_use_and_expire_in(&d);
        }
    }

    /// A fresh database on the test server, or `None` (said) without one.
    pub(super) fn postgres() -> Option<Directory> {
        let url = paktum_tests::postgres::fresh_database()?;
        Some(Directory::postgres(Arc::new(
            Database::connect(&url, 2).expect("connect"),
        )))
    }

    fn codes_are_single_use_and_expire_in(d: &Directory) {
        d.create_team("kempen-pact", "kempen", false).expect("team");
        let (_, code) = d
            .invite("kempen", "Anna", Role::Worker, HOUR, 0)
            .expect("invite");
        let (token, id) = d
            .enrol(&code.to_lowercase().replace('-', " "), "phone", 10)
            .expect("enrol");
        assert_eq!((id.worker.as_str(), id.team.as_str()), ("Anna", "kempen"));
        assert_eq!(token.len(), 64, "256-bit token");
        assert_eq!(
            d.enrol(&code, "phone", 20).map(|_| ()),
            Err(AuthError::UsedCode)
        );
        let (_, late) = d
            .invite("kempen", "Bram", Role::Worker, HOUR, 0)
            .expect("invite");
        assert_eq!(
            d.enrol(&late, "phone", 2 * HOUR).map(|_| ()),
            Err(AuthError::ExpiredCode)
        );
        assert_eq!(
            d.enrol("NOPE0-NOPE0", "phone", 0).map(|_| ()),
            Err(AuthError::UnknownCode)
        );
        assert_eq!(
            d.authenticate(&token).map(|i| i.device_id),
            Ok(id.device_id)
        );
        assert!(d.revoke(id.device_id, 30).expect("revoke"));
        assert_eq!(d.authenticate(&token), Err(AuthError::Revoked));
        assert_eq!(d.authenticate("forged"), Err(AuthError::Unknown));
        let events: Vec<String> = d
            .audit_log(10)
            .expect("audit")
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert!(
            events.contains(&"enrolled".to_string()) && events.contains(&"revoked".to_string())
        );
        assert_eq!(events.iter().filter(|e| *e == "enrol_refused").count(), 3);
    }

    #[test]
    fn members_rotation_and_erasures() {
        let (_dir, d) = directory();
        members_rotation_and_erasures_in(&d);
    }

    #[test]
    fn members_rotation_and_erasures_on_postgres() {
        if let Some(d) = postgres() {
            members_rotation_and_erasures_in(&d);
        }
    }

    fn members_rotation_and_erasures_in(d: &Directory) {
        d.create_team("pact", "zuid", true).expect("team");
        d.create_team("pact", "noord", false).expect("team");
        assert!(d.create_team("other", "zuid", false).is_err());
        let enrol = |team: &str, name: &str, role: Role| {
            let (member, code) = d.invite(team, name, role, HOUR, 0).expect("invite");
            let (token, id) = d.enrol(&code, "phone", 1).expect("enrol");
            (member, token, id)
        };
        let (anna, anna_token, anna_id) = enrol("zuid", "Anna", Role::Worker);
        let (_, _, bram_id) = enrol("zuid", "Bram", Role::Worker);
        let (_, _, cleo_id) = enrol("noord", "Cleo", Role::Coordinator);
        let (_, _, _dirk_id) = enrol("noord", "Dirk", Role::Worker);
        assert!(anna_id.own_caseload_only);
        assert_eq!(anna_id.pact_teams, vec!["noord", "zuid"]);
        assert_eq!(
            d.members("zuid").expect("members"),
            vec![
                ("Anna".to_string(), "worker".to_string()),
                ("Bram".into(), "worker".into())
            ]
        );
        assert!(d.invite("nowhere", "X", Role::Worker, HOUR, 0).is_err());
        assert_eq!(sorted(d.teams().expect("teams")), vec!["noord", "zuid"]);

        // A lost phone: its devices revoked, a fresh code works.
        let code = d.rotate(anna, HOUR, 100).expect("rotate");
        assert!(d.rotate(9_999, HOUR, 100).is_err());
        assert_eq!(d.authenticate(&anna_token), Err(AuthError::Revoked));
        assert_eq!(
            d.revoked_since(100).expect("revoked"),
            vec![anna_id.device_id]
        );
        assert!(d.revoked_since(101).expect("revoked").is_empty());
        let (_, anna2) = d.enrol(&code, "new phone", 200).expect("enrol again");
        let rows = d.devices().expect("devices");
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].revoked_at, Some(100));
        assert_eq!(rows[4].label, "new phone");

        // An erasure of a record of zuid: zuid's devices and the pact's coordinator owe it.
        let doc = DocumentId::from_slice(&[7; 16]).expect("id");
        assert!(
            d.record_erasure(
                &doc,
                "zuid",
                Role::Coordinator,
                Some(cleo_id.device_id),
                300
            )
            .expect("erase")
        );
        assert!(
            !d.record_erasure(&doc, "zuid", Role::Coordinator, None, 301)
                .expect("again")
        );
        let mut owing = d.devices_owing(&doc).expect("owing");
        owing.sort();
        assert_eq!(
            owing,
            vec![bram_id.device_id, cleo_id.device_id, anna2.device_id]
        );
        let erasures = d.erasures_after(0).expect("after");
        assert_eq!((erasures.len(), erasures[0].doc), (1, doc));
        assert!(d.erasures_after(erasures[0].seq).expect("after").is_empty());
        assert_eq!(
            d.unconfirmed_erasures(bram_id.device_id)
                .expect("unconfirmed")[0]
                .team,
            "zuid"
        );
        assert!(
            d.confirm_erasure(&doc, bram_id.device_id, 400)
                .expect("confirm")
        );
        assert!(
            !d.confirm_erasure(&doc, bram_id.device_id, 401)
                .expect("twice")
        );
        assert!(
            d.unconfirmed_erasures(bram_id.device_id)
                .expect("unconfirmed")
                .is_empty()
        );
        let receipt = d.erasure_receipt(&doc).expect("receipt").expect("erased");
        assert_eq!((receipt.confirmed, receipt.devices), (1, 3));
        assert_eq!(receipt.by_role, "coordinator");
        assert_eq!(
            d.erasure_receipt(&DocumentId::from_slice(&[8; 16]).expect("id"))
                .expect("receipt"),
            None
        );
        let events: Vec<String> = d
            .audit_log(100)
            .expect("audit")
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert_eq!(events.iter().filter(|e| *e == "erased").count(), 1);
        assert_eq!(events.first().map(String::as_str), Some("erased"));
    }

    #[test]
    fn tokens_are_stored_hashed() {
        let (dir, d) = directory();
        d.create_team("p", "t", false).expect("team");
        let (_, code) = d
            .invite("t", "Anna", Role::Worker, HOUR, 0)
            .expect("invite");
        let (token, _) = d.enrol(&code, "phone", 1).expect("enrol");
        drop(d);
        let raw = std::fs::read(dir.path().join("paktum.sqlite3")).expect("db");
        let wal = std::fs::read(dir.path().join("paktum.sqlite3-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "token in plain text on disk"
            );
            assert!(
                !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
                "code in plain text on disk"
            );
        }
    }
}
