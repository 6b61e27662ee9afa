//! The run worker of one node: turns trigger events into runs (exactly once, see the store) and
//! starts the runs of due `Recurrence` triggers, claims
//! runnable runs (queued, woken from a wait, or left by a dead node) under leases within each flow's
//! concurrency limit, and executes them with bounded concurrency. It sleeps until the next runnable
//! time, at most half a second (runs finishing on other nodes free slots without notice); a new run
//! on this node wakes it at once.

use std::sync::Arc;
use std::time::Duration;

use patchbay_store::now_ms;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::state::SharedState;

/// The longest sleep between two looks at the queue.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// The shortest sleep when nothing could be claimed.
const MIN_SLEEP: Duration = Duration::from_millis(10);
/// Events turned into runs per flow and pass.
const EVENTS_PER_PASS: i64 = 200;

/// Starts the worker; it stops when `stop` turns true, after the runs in flight park or finish.
pub fn spawn(state: SharedState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(state.flows.run_concurrency.max(1)));
        let lease_ms = state.flows.lease.as_millis() as i64;
        let recurring = super::recurrence::Enqueued::default();
        while !*stop.borrow() {
            runs_from_events(&state).await;
            super::recurrence::enqueue_due(&state, &recurring).await;
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let node = state.triggers.node_id.as_str();
                match state.store.flows().claim_runs(node, now_ms(), lease_ms, free as i64).await {
                    Ok(leases) => leases,
                    Err(error) => {
                        tracing::warn!(%error, "could not claim runs");
                        Vec::new()
                    }
                }
            };
            let full = free > 0 && claimed.len() == free;
            for lease in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let state = state.clone();
                tokio::spawn(async move {
                    if let Err(error) = super::execute::execute(&state, lease.clone()).await {
                        tracing::warn!(run = %lease.run.id, error = %error.message, "a run could not be executed");
                    }
                    drop(slot);
                    state.worker_wake.notify_one();
                });
            }
            if full {
                continue;
            }
            let wait = next_wait(&state).await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = state.worker_wake.notified() => {}
                _ = state.events_stored.notified() => {}
                _ = stop.changed() => {}
            }
        }
        let all = state.flows.run_concurrency.max(1) as u32;
        let _ = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
    })
}

/// Makes runs of the events that enabled flows' triggers stored since their cursor.
async fn runs_from_events(state: &SharedState) {
    let flows = match state.store.flows().flows_with_pending_events().await {
        Ok(flows) => flows,
        Err(error) => {
            tracing::warn!(%error, "could not look for trigger events");
            return;
        }
    };
    for flow in flows {
        if let Err(error) = state.store.flows().enqueue_from_events(&flow, EVENTS_PER_PASS).await {
            tracing::warn!(%flow, %error, "could not turn trigger events into runs");
        }
    }
}

/// Until the next runnable time, between [`MIN_SLEEP`] and [`MAX_SLEEP`].
async fn next_wait(state: &SharedState) -> Duration {
    match state.store.flows().earliest_runnable().await {
        Ok(Some(at)) => Duration::from_millis((at - now_ms()).max(0) as u64).clamp(MIN_SLEEP, MAX_SLEEP),
        Ok(None) => MAX_SLEEP,
        Err(_) => MAX_SLEEP,
    }
}
