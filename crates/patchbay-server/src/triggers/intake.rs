//! Webhook callback intake: callbacks queue here and one writer stores them in batches, one
//! transaction per batch, answering each caller only after its batch is committed. Under load many
//! callbacks share one commit (one fsync on SQLite); alone, a callback is stored at once.

use patchbay_store::{Notification, Store};
use tokio::sync::{mpsc, oneshot};

/// The most callbacks stored in one transaction.
const MAX_BATCH: usize = 512;

/// What a submitted callback came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored durably as event `seq`.
    Stored(i64),
    /// Unknown subscription, wrong secret or a removed subscription: nothing was stored.
    Refused,
}

/// Why a callback could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Too many callbacks are waiting to be stored; the sender should retry later.
    #[error("the callback queue is full")]
    Busy,
    /// The store failed; nothing of this batch was stored.
    #[error("the callback could not be stored: {0}")]
    Store(String),
}

type Reply = oneshot::Sender<Result<Accepted, IntakeError>>;

/// The handle callbacks are submitted through; cheap to clone.
#[derive(Debug, Clone)]
pub struct Intake {
    queue: mpsc::Sender<(Notification, Reply)>,
}

impl Intake {
    /// Starts the writer over `store` with room for `capacity` waiting callbacks.
    pub fn start(store: Store, capacity: usize) -> Intake {
        let (queue, receiver) = mpsc::channel(capacity.max(1));
        tokio::spawn(write_batches(store, receiver));
        Intake { queue }
    }

    /// Queues `notification` and waits until it is stored (or refused).
    pub async fn submit(&self, notification: Notification) -> Result<Accepted, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.queue.try_send((notification, reply)).map_err(|_| IntakeError::Busy)?;
        answer.await.map_err(|_| IntakeError::Store("the intake writer stopped".to_owned()))?
    }
}

/// The writer: takes what is queued (up to [`MAX_BATCH`]), stores it in one call, answers each.
async fn write_batches(store: Store, mut receiver: mpsc::Receiver<(Notification, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (notifications, replies): (Vec<Notification>, Vec<Reply>) = batch.drain(..).unzip();
        match store.triggers().accept_notifications(&notifications).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome.map_or(Accepted::Refused, Accepted::Stored)));
                }
            }
            Err(error) => {
                tracing::warn!(%error, count = replies.len(), "could not store webhook callbacks");
                for reply in replies {
                    let _ = reply.send(Err(IntakeError::Store(error.to_string())));
                }
            }
        }
        metrics::counter!("patchbay_webhook_batches_total").increment(1);
    }
}
