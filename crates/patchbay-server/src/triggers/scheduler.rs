//! The polling scheduler of one node: claims due polls from the store in batches (a lease each),
//! runs them with bounded concurrency, and sleeps until the next due time — at most a second, so
//! polls made due by other nodes, and leases that expired on a dead node, are picked up promptly.
//! Enabling a trigger or a stop request wakes it at once.

use std::sync::Arc;
use std::time::Duration;

use patchbay_store::now_ms;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::state::SharedState;

/// The longest sleep between two looks at the schedule.
const MAX_SLEEP: Duration = Duration::from_secs(1);
/// The shortest sleep when nothing could be claimed (avoids spinning on polls held by others).
const MIN_SLEEP: Duration = Duration::from_millis(20);
/// The most polls claimed in one query.
const CLAIM_BATCH: usize = 200;

/// Starts the scheduler; it stops when `stop` turns true, after the polls in flight finish.
pub fn spawn(state: SharedState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(state.triggers.poll_concurrency.max(1)));
        let lease_ms = state.triggers.lease.as_millis() as i64;
        while !*stop.borrow() {
            let free = slots.available_permits().min(CLAIM_BATCH);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let node = state.triggers.node_id.as_str();
                match state.store.triggers().claim_due(node, now_ms(), lease_ms, free as i64).await {
                    Ok(leases) => leases,
                    Err(error) => {
                        tracing::warn!(%error, "could not claim due polls");
                        Vec::new()
                    }
                }
            };
            let full = free > 0 && claimed.len() == free;
            let claimed_some = !claimed.is_empty();
            for lease in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let state = state.clone();
                tokio::spawn(async move {
                    if let Err(error) = super::poll::run(&state, &lease, false).await {
                        tracing::warn!(trigger = %lease.trigger.id, error = %error.message, "poll failed");
                    }
                    drop(slot);
                });
            }
            if full {
                continue;
            }
            // While polls come due, look again shortly with the claim (an index range); the earliest
            // due time (a read of the whole schedule) is only asked for once nothing was due.
            let wait = if free == 0 || claimed_some { MIN_SLEEP } else { next_wait(&state).await };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = state.scheduler_wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
        // Let the polls in flight store their outcome.
        let all = state.triggers.poll_concurrency.max(1) as u32;
        let _ = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
    })
}

/// How long to sleep: until the earliest due poll, between [`MIN_SLEEP`] and [`MAX_SLEEP`].
async fn next_wait(state: &SharedState) -> Duration {
    match state.store.triggers().earliest_due().await {
        Ok(Some(due)) => {
            let millis = (due - now_ms()).max(0) as u64;
            Duration::from_millis(millis).clamp(MIN_SLEEP, MAX_SLEEP)
        }
        Ok(None) => MAX_SLEEP,
        Err(error) => {
            tracing::warn!(%error, "could not read the schedule");
            MAX_SLEEP
        }
    }
}
