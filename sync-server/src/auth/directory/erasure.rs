//! Erasures in the directory: who erased which document when (by role and device,
//! never a name), which devices had to delete it, and which confirmed they did.
//! What an erasure deletes is done by `crate::erasure`; these rows hold no record data.

use paktum_shared::DocumentId;

use super::Directory;
use super::sql::{Row, values};
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

fn erasure_of(row: &Row) -> Result<Erasure, AuthError> {
    Ok(Erasure {
        seq: row.int(0)?,
        doc: DocumentId::from_slice(&row.blob(1)?)
            .ok_or_else(|| AuthError::Db("a stored document id is malformed".into()))?,
        team: row.text(2)?,
    })
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
        let id = doc.as_bytes().to_vec();
        let new = self.db().transaction(|tx| {
            let new = tx.execute(
                "INSERT INTO erasures (doc_id, team, at, by_role, by_device)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                values![id.clone(), team, now, role.as_str(), device],
            )? == 1;
            // What a wiped device handed in of the record goes with it.
            tx.execute(
                "DELETE FROM quarantine WHERE doc_id = $1",
                values![id.clone()],
            )?;
            if !new {
                return Ok(false);
            }
            let owing = tx.query(
                "SELECT d.id FROM devices d
                 JOIN members m ON m.id = d.member_id JOIN teams t ON t.name = m.team
                 WHERE d.revoked_at IS NULL AND (m.team = $1 OR (m.role IN ('coordinator', 'admin')
                   AND t.pact = (SELECT pact FROM teams WHERE name = $1)))",
                values![team],
            )?;
            for d in owing {
                tx.execute(
                    "INSERT INTO erasure_devices (doc_id, device_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    values![id.clone(), d.int(0)?],
                )?;
            }
            tx.execute(
                "INSERT INTO audit (at, event, device_id, detail) VALUES ($1, 'erased', $2, $3)",
                values![
                    now,
                    device,
                    format!("document {doc} of team {team} by {}", role.as_str())
                ],
            )?;
            Ok(true)
        })?;
        if new {
            self.db().notify();
        }
        Ok(new)
    }

    /// Erasures recorded after `seq`, oldest first (the relay carries them out).
    pub fn erasures_after(&self, seq: i64) -> Result<Vec<Erasure>, AuthError> {
        self.db()
            .query(
                "SELECT seq, doc_id, team FROM erasures WHERE seq > $1 ORDER BY seq",
                values![seq],
            )?
            .iter()
            .map(erasure_of)
            .collect()
    }

    /// The erasures a device has not confirmed yet, with their teams.
    pub fn unconfirmed_erasures(&self, device: i64) -> Result<Vec<Erasure>, AuthError> {
        self.db()
            .query(
                "SELECT e.seq, e.doc_id, e.team FROM erasure_devices p
                 JOIN erasures e ON e.doc_id = p.doc_id
                 WHERE p.device_id = $1 AND p.confirmed_at IS NULL ORDER BY e.seq",
                values![device],
            )?
            .iter()
            .map(erasure_of)
            .collect()
    }

    /// The devices that still owe a confirmation for `doc`.
    pub fn devices_owing(&self, doc: &DocumentId) -> Result<Vec<i64>, AuthError> {
        self.db()
            .query(
                "SELECT device_id FROM erasure_devices WHERE doc_id = $1 AND confirmed_at IS NULL",
                values![doc.as_bytes().to_vec()],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect()
    }

    /// A device says it deleted an erased document. False if it owed no confirmation.
    pub fn confirm_erasure(
        &self,
        doc: &DocumentId,
        device: i64,
        now: i64,
    ) -> Result<bool, AuthError> {
        Ok(self.db().execute(
            "UPDATE erasure_devices SET confirmed_at = $1
             WHERE doc_id = $2 AND device_id = $3 AND confirmed_at IS NULL",
            values![now, doc.as_bytes().to_vec(), device],
        )? == 1)
    }

    /// The receipt of an erasure, if `doc` was erased.
    pub fn erasure_receipt(&self, doc: &DocumentId) -> Result<Option<Receipt>, AuthError> {
        let row = self.db().query_opt(
            "SELECT team, at, by_role,
                (SELECT COUNT(*) FROM erasure_devices WHERE doc_id = $1 AND confirmed_at IS NOT NULL),
                (SELECT COUNT(*) FROM erasure_devices WHERE doc_id = $1)
             FROM erasures WHERE doc_id = $1",
            values![doc.as_bytes().to_vec()],
        )?;
        row.map(|r| {
            Ok(Receipt {
                doc: *doc,
                team: r.text(0)?,
                at: r.int(1)?,
                by_role: r.text(2)?,
                confirmed: r.int(3)? as u64,
                devices: r.int(4)? as u64,
            })
        })
        .transpose()
    }
}
