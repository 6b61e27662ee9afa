//! The node's run writer: group commit for the writes of every run this node executes.
//!
//! Runs hand their writes (start, action records, response, end) to one task, which commits all
//! that arrived while the previous commit was under way in one transaction, then tells each write
//! how it went. A node executing 32 runs makes about one commit per round of their writes instead of
//! one per write: with SQLite's `synchronous = FULL` every commit is an fsync, and on PostgreSQL a
//! commit is a round trip and a WAL flush. Nothing waits for a batch to fill: a write alone is
//! committed at once.
//!
//! Writes keep their order (one channel, applied in order), so a run may hand over several writes
//! without waiting and read the outcomes in turn. When a batch's transaction fails, its writes are
//! retried one by one, so that one bad write fails alone.

use patchbay_store::{RunWrite, Store, StoreError, Written};
use tokio::sync::{mpsc, oneshot};

/// The most writes in one transaction.
const MAX_BATCH: usize = 512;

/// The outcome of one write, delivered when its transaction committed (or failed).
pub type WriteOutcome = Result<Written, StoreError>;

/// One write and where its outcome goes.
struct Job {
    write: RunWrite,
    done: oneshot::Sender<WriteOutcome>,
}

/// A handle to the node's run writer; cheap to clone.
#[derive(Clone)]
pub struct RunWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

/// A write handed over; await it for its outcome.
pub struct Pending(oneshot::Receiver<WriteOutcome>);

impl Pending {
    /// The write's outcome once its transaction ended.
    pub async fn outcome(self) -> WriteOutcome {
        self.0.await.unwrap_or_else(|_| Err(StoreError::invalid("write", "the run writer stopped")))
    }
}

impl RunWriter {
    /// Starts the writer over `store` (needs a Tokio runtime); it ends when every handle is dropped.
    pub fn start(store: Store) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(store, receiver));
        RunWriter { jobs }
    }

    /// Hands `write` over without waiting; it is applied after every write handed over before it.
    pub fn submit(&self, write: RunWrite) -> Pending {
        let (done, outcome) = oneshot::channel();
        // A send fails only when the writer is gone; the dropped sender then reports it.
        let _ = self.jobs.send(Job { write, done });
        Pending(outcome)
    }

    /// Applies `write` and waits for its outcome.
    pub async fn write(&self, write: RunWrite) -> WriteOutcome {
        self.submit(write).outcome().await
    }
}

/// The writer's loop: take what is waiting (up to [`MAX_BATCH`]), commit it, answer, repeat.
async fn write_batches(store: Store, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::new();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, answers): (Vec<RunWrite>, Vec<oneshot::Sender<WriteOutcome>>) =
            batch.drain(..).map(|job| (job.write, job.done)).unzip();
        match store.flows().write_runs(&writes).await {
            Ok(outcomes) => {
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(outcome);
                }
            }
            Err(error) => {
                tracing::warn!(%error, writes = writes.len(), "a batch of run writes failed; writing them one by one");
                for (write, answer) in writes.iter().zip(answers) {
                    let _ = answer.send(store.flows().write_run(write.clone()).await);
                }
            }
        }
    }
}
