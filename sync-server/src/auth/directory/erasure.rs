//! Erasures in the directory: who erased which document when (by role and device,
//! never a name), which devices had to delete it, and which confirmed they did.
//! What an erasure deletes is done by `crate::erasure`; these rows hold no record data.

use paktum_shared::DocumentId;
use rusqlite::{Connection, OptionalExtension, params};

use super::Directory;
use crate::auth::{AuthError, Role};

pub(super) const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS erasures (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id BLOB NOT NULL UNIQUE,
        team TEXT NOT NULL, at INTEGER NOT NULL, by_role TEXT NOT NULL, by_device INTEGER);
    CREATE TABLE IF NOT EXISTS erasure_devices (
        doc_id BLOB NOT NULL, device_id INTEGER NOT NULL, confirmed_at INTEGER,
        PRIMARY KEY (doc_id, device_id));";

/// One erasure, as the receipt tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub doc: DocumentId,
    pub team: String,
    pub at: i64,
    pub by_role: String,
    /// Devices that confirmed they deleted it.
    pub confirmed: u64,
    /// Devices that could hold it when it was erased (the team's, and the pact's
    /// coordinators' and admins').
    pub devices: u64,
}

impl Receipt {
    /// "erased on DATE, by ROLE, confirmed by N of M devices of the team".
    pub fn sentence(&self) -> String {
        let day = paktum_shared::date::Day::from_unix_ms(self.at)
            .map(|d| d.to_string())
            .unwrap_or_default();
        format!(
            "{} erased on {day}, by {}, confirmed by {} of {} devices of the team",
            self.doc, self.by_role, self.confirmed, self.devices
        )
    }
}

impl From<&Receipt> for paktum_shared::erasure::ErasureReceipt {
    fn from(r: &Receipt) -> Self {
        Self {
            document: r.doc.to_string(),
            erased_on: paktum_shared::date::Day::from_unix_ms(r.at)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            by_role: r.by_role.clone(),
            confirmed: r.confirmed,
            devices: r.devices,
            sentence: r.sentence(),
        }
    }
}

/// An erasure the relay must carry out (or has): the document and its team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    pub seq: i64,
    pub doc: DocumentId,
    pub team: String,
}

fn doc_of(bytes: Vec<u8>) -> rusqlite::Result<DocumentId> {
    DocumentId::from_slice(&bytes).ok_or(rusqlite::Error::InvalidQuery)
}

impl Directory {
    /// Records an erasure of `doc` (a record of `team`) by a member of `role` (from
    /// `device`, or the admin CLI), the devices that must delete it, and the audit
    /// line. False if it was erased before (nothing changes).
    pub fn record_erasure(
        &self,
        doc: &DocumentId,
        team: &str,
        role: Role,
        device: Option<i64>,
        now: i64,
    ) -> Result<bool, AuthError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = doc.as_bytes().as_slice();
        let new = tx.execute(
            "INSERT OR IGNORE INTO erasures (doc_id, team, at, by_role, by_device)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, team, now, role.as_str(), device],
        )? == 1;
        // What a wiped device handed in of the record goes with it.
        tx.execute("DELETE FROM quarantine WHERE doc_id = ?1", params![id])?;
        if new {
            tx.execute(
                "INSERT OR IGNORE INTO erasure_devices (doc_id, device_id)
                 SELECT ?1, d.id FROM devices d
                 JOIN members m ON m.id = d.member_id JOIN teams t ON t.name = m.team
                 WHERE d.revoked_at IS NULL AND (m.team = ?2 OR (m.role IN ('coordinator', 'admin')
                   AND t.pact = (SELECT pact FROM teams WHERE name = ?2)))",
                params![id, team],
            )?;
            tx.execute(
                "INSERT INTO audit (at, event, device_id, detail) VALUES (?1, 'erased', ?2, ?3)",
                params![
                    now,
                    device,
                    format!("document {doc} of team {team} by {}", role.as_str())
                ],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    /// Erasures recorded after `seq`, oldest first (the relay carries them out).
    pub fn erasures_after(&self, seq: i64) -> Result<Vec<Erasure>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT seq, doc_id, team FROM erasures WHERE seq > ?1 ORDER BY seq")?;
        let rows = stmt.query_map(params![seq], |r| {
            Ok(Erasure {
                seq: r.get(0)?,
                doc: doc_of(r.get(1)?)?,
                team: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The erasures a device has not confirmed yet, with their teams.
    pub fn unconfirmed_erasures(&self, device: i64) -> Result<Vec<Erasure>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT e.seq, e.doc_id, e.team FROM erasure_devices p
             JOIN erasures e ON e.doc_id = p.doc_id
             WHERE p.device_id = ?1 AND p.confirmed_at IS NULL ORDER BY e.seq",
        )?;
        let rows = stmt.query_map(params![device], |r| {
            Ok(Erasure {
                seq: r.get(0)?,
                doc: doc_of(r.get(1)?)?,
                team: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The devices that still owe a confirmation for `doc`.
    pub fn devices_owing(&self, doc: &DocumentId) -> Result<Vec<i64>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT device_id FROM erasure_devices WHERE doc_id = ?1 AND confirmed_at IS NULL",
        )?;
        let rows = stmt.query_map(params![doc.as_bytes().as_slice()], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A device says it deleted an erased document. False if it owed no confirmation.
    pub fn confirm_erasure(
        &self,
        doc: &DocumentId,
        device: i64,
        now: i64,
    ) -> Result<bool, AuthError> {
        Ok(self.conn().execute(
            "UPDATE erasure_devices SET confirmed_at = ?3
             WHERE doc_id = ?1 AND device_id = ?2 AND confirmed_at IS NULL",
            params![doc.as_bytes().as_slice(), device, now],
        )? == 1)
    }

    /// The receipt of an erasure, if `doc` was erased.
    pub fn erasure_receipt(&self, doc: &DocumentId) -> Result<Option<Receipt>, AuthError> {
        receipt(&self.conn(), doc)
    }
}

fn receipt(conn: &Connection, doc: &DocumentId) -> Result<Option<Receipt>, AuthError> {
    let id = doc.as_bytes().as_slice();
    Ok(conn
        .query_row(
            "SELECT team, at, by_role,
                (SELECT COUNT(*) FROM erasure_devices WHERE doc_id = ?1 AND confirmed_at IS NOT NULL),
                (SELECT COUNT(*) FROM erasure_devices WHERE doc_id = ?1)
             FROM erasures WHERE doc_id = ?1",
            params![id],
            |r| {
                Ok(Receipt {
                    doc: *doc,
                    team: r.get(0)?,
                    at: r.get(1)?,
                    by_role: r.get(2)?,
                    confirmed: r.get::<_, i64>(3)? as u64,
                    devices: r.get::<_, i64>(4)? as u64,
                })
            },
        )
        .optional()?)
}
