//! The outbox: every step of the device core goes to disk before its messages leave,
//! in order. Steps that queue up while a write is in flight go to disk together in one
//! transaction (group commit): a first sync delivers thousands of messages, and a
//! transaction per message made the disk, not the network, set the pace.

use std::rc::Rc;

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use paktum_shared::device::{Batch, Step};
use paktum_shared::protocol::Message;

use crate::store::{Store, StoreError};
use crate::timing::{self, phase};

/// Messages to send once their step is on disk, tagged with the connection they were
/// made for (a step of an older connection is written but not sent).
pub type Sends = Vec<(u64, Vec<Message>)>;

struct Job {
    step: Step,
    connection: u64,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// A cheap handle to queue steps; the writer runs for the page's life.
#[derive(Clone)]
pub struct Outbox {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Outbox {
    /// Starts the writer. After each transaction, `written` gets its result and the
    /// messages of the steps it held, in order; then those who wait are told.
    pub fn start(
        store: Rc<Store>,
        relay: String,
        written: impl Fn(&Result<(), StoreError>, Sends) + 'static,
    ) -> Self {
        let (jobs, mut queue) = mpsc::unbounded::<Job>();
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(first) = queue.next().await {
                let mut jobs = vec![first];
                while let Ok(job) = queue.try_recv() {
                    jobs.push(job);
                }
                let mut batch = Batch::default();
                for job in &mut jobs {
                    batch.extend(std::mem::take(&mut job.step.batch));
                }
                let started = timing::now();
                let result = store.write(&relay, &batch).await;
                phase::add(phase::STORE_WAIT, started);
                let erased = result.is_ok() && !batch.erase.is_empty();
                let mut done = Vec::with_capacity(jobs.len());
                let sends = jobs
                    .into_iter()
                    .map(|job| {
                        done.extend(job.done);
                        (job.connection, job.step.send)
                    })
                    .collect();
                phase::time(phase::SEND, || written(&result, sends));
                for tx in done {
                    let _ = tx.send(result);
                }
                // Deleted is not yet gone from the browser's disk: see `Store::scrub`.
                if erased {
                    if store.scrub().await.is_err() {
                        web_sys::console::warn_1(
                            &"could not scrub the store after an erasure".into(),
                        );
                    }
                    crate::timing::mark("paktum:scrubbed");
                }
            }
        });
        Self { jobs }
    }

    /// Queues a step made while connection `connection` was current; resolves once it
    /// is on disk (or could not be written).
    pub fn write(
        &self,
        step: Step,
        connection: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + use<> {
        let (done, wait) = oneshot::channel();
        self.queue(step, connection, Some(done));
        async move { wait.await.unwrap_or(Err(StoreError::Write)) }
    }

    /// Queues a step nobody waits for.
    pub fn queue(
        &self,
        step: Step,
        connection: u64,
        done: Option<oneshot::Sender<Result<(), StoreError>>>,
    ) {
        let job = Job {
            step,
            connection,
            done,
        };
        if let Err(err) = self.jobs.unbounded_send(job) {
            // The writer only stops when the page unloads.
            if let Some(done) = err.into_inner().done {
                let _ = done.send(Err(StoreError::Write));
            }
        }
    }
}
