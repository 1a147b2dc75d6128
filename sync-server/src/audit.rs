//! The audit log's writer: events go through a channel to one thread that writes
//! them to the directory, so a refused request never waits on SQLite inside a
//! connection's message loop.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use crate::auth::{Directory, now_ms};

/// Entries waiting for the writer before new ones are dropped (and logged instead).
const BACKLOG: usize = 65_536;

/// One event for the audit log, stamped when it happened.
#[derive(Debug)]
struct Event {
    at: i64,
    event: &'static str,
    device: Option<i64>,
    detail: String,
}

/// A cheap, cloneable handle: [`Self::record`] never blocks.
#[derive(Clone, Debug)]
pub struct AuditLog {
    tx: SyncSender<Event>,
}

impl AuditLog {
    /// Starts the writer thread; it ends when the last handle is dropped.
    pub fn start(directory: Arc<Directory>) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(BACKLOG);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || write(&directory, &rx))?;
        Ok(Self { tx })
    }

    /// Queues an event. If the writer is far behind (or gone), the event goes to the
    /// log instead: ids and reasons only, as everything the audit log holds.
    pub fn record(&self, event: &'static str, device: Option<i64>, detail: &str) {
        let entry = Event {
            at: now_ms(),
            event,
            device,
            detail: detail.to_string(),
        };
        match self.tx.try_send(entry) {
            Ok(()) => {}
            Err(TrySendError::Full(e) | TrySendError::Disconnected(e)) => {
                tracing::error!(event = e.event, device = e.device, detail = %e.detail, "audit writer behind; event not stored");
            }
        }
    }
}

fn write(directory: &Directory, rx: &Receiver<Event>) {
    while let Ok(e) = rx.recv() {
        directory.audit(e.at, e.event, e.device, &e.detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_the_directory_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let directory = Arc::new(Directory::open(dir.path()).expect("open"));
        let log = AuditLog::start(directory.clone()).expect("start");
        log.record("doc_refused", Some(7), "doc-a");
        log.record("write_refused", None, "doc-b");
        drop(log);
        // The writer ends once it has written everything queued before the drop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let events = loop {
            let events: Vec<(String, Option<i64>, String)> = directory
                .audit_log(10)
                .expect("read")
                .into_iter()
                .map(|e| (e.event, e.device_id, e.detail))
                .collect();
            if events.len() == 2 || std::time::Instant::now() > deadline {
                break events;
            }
            std::thread::yield_now();
        };
        assert_eq!(
            events,
            vec![
                ("write_refused".into(), None, "doc-b".into()),
                ("doc_refused".into(), Some(7), "doc-a".into()),
            ]
        );
    }
}
