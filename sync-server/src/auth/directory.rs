//! The directory in SQLite: teams, members, one-time enrolment codes, devices and the
//! audit log. Tokens and codes are stored only as SHA-256 hashes.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{AuthError, Identity, Role};

mod erasure;
mod wipe;

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
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Directory")
    }
}

impl Directory {
    pub fn open(data_dir: &Path) -> Result<Self, AuthError> {
        let conn =
            crate::storage::sqlite::connect(data_dir).map_err(|e| AuthError::Db(e.to_string()))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS teams (
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
                 device_id INTEGER, detail TEXT NOT NULL);",
        )?;
        conn.execute_batch(erasure::TABLES)?;
        conn.execute_batch(wipe::TABLES)?;
        wipe::migrate(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let existing: Option<String> = self
            .conn()
            .query_row(
                "SELECT pact FROM teams WHERE name = ?1",
                params![team],
                |r| r.get(0),
            )
            .optional()?;
        if existing.is_some_and(|p| p != pact) {
            return Err(AuthError::Invalid(format!(
                "team {team} already belongs to another pact"
            )));
        }
        self.conn().execute(
            "INSERT INTO teams (name, pact, own_caseload_only) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET own_caseload_only = excluded.own_caseload_only",
            params![team, pact, own_caseload_only],
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
        let conn = self.conn();
        let known: Option<String> = conn
            .query_row(
                "SELECT name FROM teams WHERE name = ?1",
                params![team],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Err(AuthError::Invalid(format!(
                "no team named {team}; create it first"
            )));
        }
        conn.execute(
            "INSERT INTO members (team, name, role) VALUES (?1, ?2, ?3)",
            params![team, name, role.as_str()],
        )?;
        let member = conn.last_insert_rowid();
        let code = random_code();
        conn.execute(
            "INSERT INTO codes (hash, member_id, expires_at) VALUES (?1, ?2, ?3)",
            params![hash(&code), member, now + ttl_ms],
        )?;
        Ok((member, code))
    }

    /// Exchanges a code for a device token (shown once, stored hashed).
    pub fn enrol(
        &self,
        code: &str,
        label: &str,
        now: i64,
    ) -> Result<(String, Identity), AuthError> {
        let code = normalise_code(code);
        let row: Option<(i64, i64, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT member_id, expires_at, used_at FROM codes WHERE hash = ?1",
                params![hash(&code)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let refuse = |e: AuthError| {
            self.audit(now, "enrol_refused", None, e.to_string().as_str());
            Err(e)
        };
        let Some((member, expires_at, used_at)) = row else {
            return refuse(AuthError::UnknownCode);
        };
        if used_at.is_some() {
            return refuse(AuthError::UsedCode);
        }
        if expires_at < now {
            return refuse(AuthError::ExpiredCode);
        }
        let token = random_hex(32);
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            // Claim the code atomically: two devices racing with one code, one wins.
            let claimed = tx.execute(
                "UPDATE codes SET used_at = ?1 WHERE hash = ?2 AND used_at IS NULL",
                params![now, hash(&code)],
            )?;
            if claimed != 1 {
                drop(tx);
                drop(conn);
                return refuse(AuthError::UsedCode);
            }
            let label: String = label.chars().filter(|c| !c.is_control()).take(80).collect();
            tx.execute(
                "INSERT INTO devices (member_id, token_hash, label, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
                params![member, hash(&token), label, now],
            )?;
            tx.commit()?;
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
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT d.id, d.revoked_at, m.id, m.name, m.role, t.name, t.pact, t.own_caseload_only
                 FROM devices d JOIN members m ON m.id = d.member_id JOIN teams t ON t.name = m.team
                 WHERE d.token_hash = ?1",
                params![hash(token)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, bool>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((device_id, revoked, member_id, worker, role, team, pact, own)) = row else {
            return Err(AuthError::Unknown);
        };
        if revoked.is_some() {
            return Err(AuthError::Revoked);
        }
        let mut stmt =
            conn.prepare_cached("SELECT name FROM teams WHERE pact = ?1 ORDER BY name")?;
        let pact_teams = stmt
            .query_map(params![pact], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Identity {
            device_id,
            member_id,
            worker,
            role: Role::parse(&role).unwrap_or(Role::Worker),
            team,
            pact,
            pact_teams,
            own_caseload_only: own,
        })
    }

    /// The members of `team` (name and role), sorted by name; a name invited twice
    /// (two devices of one person) once.
    pub fn members(&self, team: &str) -> Result<Vec<(String, String)>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT name, MIN(role) FROM members WHERE team = ?1 GROUP BY name ORDER BY name",
        )?;
        let rows = stmt
            .query_map(params![team], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<(String, String)>, _>>()?;
        Ok(rows)
    }

    pub fn revoke(&self, device_id: i64, now: i64) -> Result<bool, AuthError> {
        let n = self.conn().execute(
            "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![now, device_id],
        )?;
        if n == 1 {
            self.audit(now, "revoked", Some(device_id), "by admin");
        }
        Ok(n == 1)
    }

    /// Revokes every device of a member and issues a fresh code (e.g. a lost phone).
    pub fn rotate(&self, member_id: i64, ttl_ms: i64, now: i64) -> Result<String, AuthError> {
        let devices: Vec<i64> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare("SELECT id FROM devices WHERE member_id = ?1 AND revoked_at IS NULL")?;
            stmt.query_map(params![member_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for d in devices {
            self.revoke(d, now)?;
        }
        let code = random_code();
        let n = self.conn().execute(
            "INSERT INTO codes (hash, member_id, expires_at) SELECT ?1, id, ?2 FROM members WHERE id = ?3",
            params![hash(&code), now + ttl_ms, member_id],
        )?;
        if n != 1 {
            return Err(AuthError::Invalid(format!("no member {member_id}")));
        }
        self.audit(now, "rotated", None, &format!("member {member_id}"));
        Ok(code)
    }

    /// Devices revoked after `since` (ms), for disconnecting them at once.
    pub fn revoked_since(&self, since: i64) -> Result<Vec<i64>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT id FROM devices WHERE revoked_at >= ?1")?;
        Ok(stmt
            .query_map(params![since], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    pub fn devices(&self) -> Result<Vec<DeviceRow>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT d.id, m.name, m.role, m.team, d.enrolled_at, d.revoked_at, d.label
             FROM devices d JOIN members m ON m.id = d.member_id ORDER BY d.id",
        )?;
        Ok(stmt
            .query_map([], |r| {
                Ok(DeviceRow {
                    device_id: r.get(0)?,
                    worker: r.get(1)?,
                    role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Worker),
                    team: r.get(3)?,
                    enrolled_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                    label: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    /// Every team name, for recognising index documents.
    pub fn teams(&self) -> Result<Vec<String>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT name FROM teams")?;
        Ok(stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    /// Appends to the audit log; failures are logged, never fatal.
    pub fn audit(&self, now: i64, event: &str, device_id: Option<i64>, detail: &str) {
        let result = self.conn().execute(
            "INSERT INTO audit (at, event, device_id, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now, event, device_id, detail],
        );
        if let Err(e) = result {
            tracing::error!(error = %e, event, "could not write the audit log");
        }
    }

    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT at, event, device_id, detail FROM audit ORDER BY seq DESC LIMIT ?1")?;
        Ok(stmt
            .query_map(params![limit as i64], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    event: r.get(1)?,
                    device_id: r.get(2)?,
                    detail: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
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
