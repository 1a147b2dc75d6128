//! Withdrawing a device with a wipe (`admin revoke --wipe [--quarantine]`): the
//! revocation's mode, the one session a wiped device still gets, and the quarantine,
//! where what such a device handed in waits for the coordinator, apart from the
//! documents. The quarantine holds record changes (personal data): an erasure deletes
//! its rows with the record's (`record_erasure`), and its listing shows ids only.

use paktum_shared::DocumentId;
use rusqlite::Connection;

use super::Directory;
use super::sql::values;
use crate::auth::{AuthError, Identity, Role};

pub(super) const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS quarantine (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id BLOB NOT NULL, device_id INTEGER NOT NULL,
        at INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS quarantine_doc ON quarantine (doc_id);";

/// Adds the revocation's mode and the wipe's time to a SQLite directory made before
/// them (PostgreSQL: `migrations/postgres/0004_wipe.sql`).
pub(super) fn migrate(conn: &Connection) -> Result<(), AuthError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('devices')")?;
    let columns = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for (column, ty) in [("revoke_mode", "TEXT"), ("wiped_at", "INTEGER")] {
        if !columns.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE devices ADD COLUMN {column} {ty}"))?;
        }
    }
    Ok(())
}

/// What a revocation does to the device when it next reaches the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeMode {
    /// Refused from then on (401); whatever it holds stays on it.
    Plain,
    /// It hands in its unsynced changes, which are merged, then erases everything.
    Wipe,
    /// It hands in its unsynced changes, which go to the quarantine for the
    /// coordinator, not into the documents, then erases everything.
    WipeQuarantine,
}

impl RevokeMode {
    fn stored(self) -> Option<&'static str> {
        match self {
            RevokeMode::Plain => None,
            RevokeMode::Wipe => Some("wipe"),
            RevokeMode::WipeQuarantine => Some("wipe-quarantine"),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            RevokeMode::Plain => "revoked",
            RevokeMode::Wipe => "revoked, to be wiped",
            RevokeMode::WipeQuarantine => "revoked, to be wiped, unsynced changes quarantined",
        }
    }
}

/// A withdrawn device that presented its token: who it was, and what to do.
#[derive(Clone, Debug)]
pub struct WipeOrder {
    pub identity: Identity,
    pub quarantine: bool,
    /// Already wiped once: it gets the wipe again, but hands nothing in any more.
    pub done: bool,
}

/// One quarantined hand-in, as `admin quarantine list` shows it (no content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub seq: i64,
    pub doc: DocumentId,
    pub device_id: i64,
    pub at: i64,
    pub bytes: usize,
}

impl Directory {
    /// Revokes a device with `mode`. A device revoked before may still be given a
    /// wipe (until it was wiped). False: no such device, or already wiped.
    pub fn revoke_with(
        &self,
        device_id: i64,
        mode: RevokeMode,
        now: i64,
    ) -> Result<bool, AuthError> {
        let n = self.db().execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1), revoke_mode = CAST($2 AS TEXT)
             WHERE id = $3 AND wiped_at IS NULL
               AND (revoked_at IS NULL OR CAST($2 AS TEXT) IS NOT NULL)",
            values![now, mode.stored(), device_id],
        )?;
        if n == 1 {
            self.audit(
                now,
                "revoked",
                Some(device_id),
                &format!("by admin: {}", mode.describe()),
            );
            self.db().notify();
        }
        Ok(n == 1)
    }

    /// The wipe a revoked device's token is owed, if its revocation asked for one.
    pub fn wipe_order(&self, token: &str) -> Result<Option<WipeOrder>, AuthError> {
        let Some(r) = self.db().query_opt(
            "SELECT d.id, d.revoke_mode, d.wiped_at, m.id, m.name, m.role, t.name, t.pact,
                    t.own_caseload_only
             FROM devices d JOIN members m ON m.id = d.member_id JOIN teams t ON t.name = m.team
             WHERE d.token_hash = $1 AND d.revoked_at IS NOT NULL AND d.revoke_mode IS NOT NULL",
            values![super::hash(token)],
        )?
        else {
            return Ok(None);
        };
        let pact = r.text(7)?;
        let pact_teams = self
            .db()
            .query(
                "SELECT name FROM teams WHERE pact = $1 ORDER BY name",
                values![pact.as_str()],
            )?
            .iter()
            .map(|t| t.text(0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(WipeOrder {
            identity: Identity {
                device_id: r.int(0)?,
                member_id: r.int(3)?,
                worker: r.text(4)?,
                role: Role::parse(&r.text(5)?).unwrap_or(Role::Worker),
                team: r.text(6)?,
                pact,
                pact_teams,
                own_caseload_only: r.bool(8)?,
            },
            quarantine: r.text(1)? == "wipe-quarantine",
            done: r.opt_int(2)?.is_some(),
        }))
    }

    /// Ends a wipe: puts what the device handed in into the quarantine (the first
    /// time only, and never for an erased document) and marks the device wiped, in
    /// one transaction. Returns how many documents were quarantined.
    pub fn finish_wipe(
        &self,
        device_id: i64,
        handed_in: &[(DocumentId, Vec<u8>)],
        now: i64,
    ) -> Result<u64, AuthError> {
        self.db().transaction(|tx| {
            let first = match tx
                .query(
                    "SELECT wiped_at FROM devices WHERE id = $1",
                    values![device_id],
                )?
                .first()
            {
                Some(row) => row.opt_int(0)?.is_none(),
                None => false,
            };
            let mut kept = 0;
            if first {
                for (doc, data) in handed_in {
                    let id = doc.as_bytes().to_vec();
                    let erased = !tx
                        .query(
                            "SELECT 1 FROM erasures WHERE doc_id = $1",
                            values![id.clone()],
                        )?
                        .is_empty();
                    if !erased {
                        kept += tx.execute(
                            "INSERT INTO quarantine (doc_id, device_id, at, data)
                             VALUES ($1, $2, $3, $4)",
                            values![id, device_id, now, data.clone()],
                        )?;
                    }
                }
                tx.execute(
                    "UPDATE devices SET wiped_at = $1 WHERE id = $2",
                    values![now, device_id],
                )?;
            }
            Ok(kept)
        })
    }

    /// Marks a device wiped whose hand-in was merged (plain `--wipe`).
    pub fn mark_wiped(&self, device_id: i64, now: i64) -> Result<(), AuthError> {
        self.db().execute(
            "UPDATE devices SET wiped_at = COALESCE(wiped_at, $1) WHERE id = $2",
            values![now, device_id],
        )?;
        Ok(())
    }

    /// The quarantine, oldest first: ids, device, time and size; never the content.
    pub fn quarantine(&self) -> Result<Vec<Quarantined>, AuthError> {
        let rows = self.db().query(
            "SELECT seq, doc_id, device_id, at, CAST(length(data) AS BIGINT)
             FROM quarantine ORDER BY seq",
            vec![],
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let Some(doc) = DocumentId::from_slice(&r.blob(1)?) else {
                continue;
            };
            out.push(Quarantined {
                seq: r.int(0)?,
                doc,
                device_id: r.int(2)?,
                at: r.int(3)?,
                bytes: usize::try_from(r.int(4)?).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The bytes of one quarantined hand-in (for the coordinator's tools and tests).
    pub fn quarantined_data(&self, seq: i64) -> Result<Option<Vec<u8>>, AuthError> {
        self.db()
            .query_opt("SELECT data FROM quarantine WHERE seq = $1", values![seq])?
            .map(|r| r.blob(0))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    /// Anna's phone enrolled in team kempen: its token and device id.
    fn enrolled(d: &Directory) -> (String, i64) {
        d.create_team("p", "kempen", false).expect("team");
        let (_, code) = d
            .invite("kempen", "Anna", Role::Worker, HOUR, 0)
            .expect("invite");
        let (token, id) = d.enrol(&code, "phone", 1).expect("enrol");
        (token, id.device_id)
    }

    #[test]
    fn a_wipe_is_owed_once_handed_in_once_and_an_erasure_empties_its_quarantine() {
        let dir = tempfile::tempdir().expect("tempdir");
        wipe_in(&Directory::open(dir.path()).expect("open"));
    }

    #[test]
    fn a_wipe_is_owed_once_handed_in_once_and_an_erasure_empties_its_quarantine_on_postgres() {
        if let Some(d) = super::super::tests::postgres() {
            wipe_in(&d);
        }
    }

    fn wipe_in(d: &Directory) {
        let (token, device) = enrolled(d);
        assert!(
            d.wipe_order(&token).expect("reads").is_none(),
            "not revoked"
        );
        assert!(
            d.revoke_with(device, RevokeMode::Plain, 10)
                .expect("revoke")
        );
        assert!(
            d.wipe_order(&token).expect("reads").is_none(),
            "a plain revocation wipes nothing"
        );
        // A revoked device may still be given a wipe, until it was wiped.
        assert!(
            d.revoke_with(device, RevokeMode::WipeQuarantine, 20)
                .expect("revoke")
        );
        let order = d.wipe_order(&token).expect("reads").expect("owed");
        assert!(order.quarantine && !order.done);
        assert_eq!(order.identity.device_id, device);

        let (kept, erased) = (DocumentId::random(), DocumentId::random());
        d.record_erasure(&erased, "kempen", Role::Admin, None, 25)
            .expect("erased");
        let handed = [(kept, vec![1, 2, 3]), (erased, vec![4])];
        assert_eq!(
            d.finish_wipe(device, &handed, 30).expect("wiped"),
            1,
            "never an erased id"
        );
        assert_eq!(
            d.finish_wipe(device, &handed, 40).expect("again"),
            0,
            "once"
        );
        let listed = d.quarantine().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (
                listed[0].doc,
                listed[0].device_id,
                listed[0].at,
                listed[0].bytes
            ),
            (kept, device, 30, 3)
        );
        assert!(
            d.wipe_order(&token)
                .expect("reads")
                .expect("still told")
                .done
        );
        assert!(
            !d.revoke_with(device, RevokeMode::Wipe, 50).expect("revoke"),
            "already wiped"
        );

        d.record_erasure(&kept, "kempen", Role::Admin, None, 60)
            .expect("erased");
        assert!(
            d.quarantine().expect("list").is_empty(),
            "the erasure takes the quarantine too"
        );
    }
}
