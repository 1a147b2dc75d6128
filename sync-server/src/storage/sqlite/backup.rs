//! A consistent copy of the relay's database while it runs: SQLite's online backup
//! in one step, which reads one snapshot (in WAL mode a reader never blocks the
//! relay's writers), written to a temporary file beside the target and renamed
//! over it only once complete, checked and on disk.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::connect;
use crate::storage::StorageError;

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub documents: u64,
    pub devices: u64,
    pub bytes: u64,
}

/// Copies `data_dir`'s database to `to` (replacing it if it exists: the caller
/// decides whether that is allowed). Readers of `to` see the old file or the
/// complete new one, never a part.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Copied, StorageError> {
    let source = connect(data_dir)?;
    let temp = temporary(to);
    let result = copy(&source, &temp).and_then(|copied| {
        std::fs::rename(&temp, to).map_err(|e| io("renaming the copy into place", e))?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself is durable only once the directory is synced.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io("syncing the target directory", e))?;
        }
        Ok(copied)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn copy(source: &Connection, temp: &Path) -> Result<Copied, StorageError> {
    // A leftover of an interrupted backup is ours to replace.
    match std::fs::remove_file(temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("removing an old temporary copy", e)),
    }
    let mut dest = Connection::open(temp)?;
    {
        let backup = Backup::new(source, &mut dest)?;
        // -1: every page in one step, from one read snapshot of the source.
        let mut attempts = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                _ if attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => {
                    return Err(StorageError::Write(format!(
                        "backup did not finish: {other:?}"
                    )));
                }
            }
        }
    }
    // One self-contained file: no -wal beside it to forget when copying it around.
    dest.pragma_update(None, "journal_mode", "DELETE")?;
    let check: String = dest.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StorageError::Write(format!(
            "the copy failed its integrity check: {check}"
        )));
    }
    let documents: i64 = dest.query_row("SELECT COUNT(DISTINCT doc_id) FROM chunks", [], |r| {
        r.get(0)
    })?;
    let devices: i64 = dest
        .query_row(
            "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    dest.close().map_err(|(_, e)| e)?;
    let file = std::fs::File::open(temp).map_err(|e| io("opening the copy", e))?;
    file.sync_all().map_err(|e| io("syncing the copy", e))?;
    let bytes = file
        .metadata()
        .map_err(|e| io("reading the copy's size", e))?
        .len();
    Ok(Copied {
        documents: u64::try_from(documents).unwrap_or(0),
        devices: u64::try_from(devices).unwrap_or(0),
        bytes,
    })
}

/// `.NAME.partial` beside the target: same file system, so the rename is atomic.
fn temporary(to: &Path) -> PathBuf {
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    to.with_file_name(format!(".{name}.partial"))
}

fn io(what: &str, e: std::io::Error) -> StorageError {
    StorageError::Write(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SqliteStorage, Storage};
    use paktum_shared::DocumentId;

    #[test]
    fn a_backup_holds_what_was_written_and_replaces_the_target_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let storage = SqliteStorage::open(&data).expect("open");
        let doc = DocumentId::random();
        let mut am = automerge::AutoCommit::new();
        let chunk = am.save();
        storage.append(&doc, &chunk).expect("append");
        let to = dir.path().join("copy.sqlite3");
        std::fs::write(&to, b"an older backup").expect("old file");
        let copied = backup(&data, &to).expect("backup");
        assert_eq!(copied.documents, 1);
        assert_eq!(copied.bytes, std::fs::metadata(&to).expect("size").len());
        assert!(!temporary(&to).exists(), "no partial file left");
        let restored = dir.path().join("restored");
        std::fs::create_dir_all(&restored).expect("dir");
        std::fs::copy(&to, restored.join(crate::storage::sqlite::FILE)).expect("restore");
        let reopened = SqliteStorage::open(&restored).expect("open the copy");
        assert_eq!(
            reopened.load(&doc).expect("load").map(|s| s.bytes),
            Some(chunk)
        );
    }
}
