//! A `Request` run executed by the node that received it, at once: the run is inserted already
//! under this node's lease (no queue, no claim), its plan comes from the flow just read (the
//! definition parsed once per revision), and the caller is answered from memory once the
//! `Response` is committed, without reading the run back.
//!
//! The direct path is taken for a flow that answers (`Response`), has no concurrency limit, on a
//! node that executes runs, when the caller sent no idempotency key (that needs the queue's
//! duplicate check); every other run is queued for the workers. The run holds its writes, its
//! start included, until its answer is due, and then commits them with the other runs' writes
//! (group commit; see [`super::execute`]): a node that crashes before that commit leaves no trace of
//! the run, and its caller, who got no answer, gets a broken connection; an action it may already
//! have called runs again when the caller retries (at least once, as everywhere).

use std::sync::Arc;

use patchbay_engine::Definition;
use patchbay_store::{Flow, RunId, StartRun, now_ms};
use serde_json::Value;
use tokio::sync::oneshot;

use super::execute::{Answer, RunPlan, Steps, execute_plan};
use crate::error::ApiError;
use crate::state::SharedState;

/// Starts a run of `flow` (its current revision, parsed as `definition`, read at configuration
/// `generation`) with `trigger` outputs on this node; returns its id and where its answer will come.
pub fn start(
    state: &SharedState,
    generation: i64,
    flow: &Flow,
    definition: Arc<Definition>,
    trigger: Value,
) -> Result<(RunId, oneshot::Receiver<Answer>), ApiError> {
    let now = now_ms();
    let run = StartRun {
        id: RunId::ordered(now)?,
        flow_id: flow.id.clone(),
        revision: flow.revision,
        trigger,
        node: state.triggers.node_id.clone(),
        lease_ms: i64::try_from(state.flows.lease.as_millis()).unwrap_or(i64::MAX),
    };
    let lease = run.lease(now);
    let id = lease.run.id.clone();
    let start = (run, now);
    let plan = RunPlan {
        flow_id: flow.id.clone(),
        revision: flow.revision,
        generation,
        definition,
        connections: flow.connections.clone(),
        owner: flow.owner_id.clone(),
        flow_name: flow.name.clone(),
    };
    let (answer, answered) = oneshot::channel();
    let state = state.clone();
    tokio::spawn(async move {
        let steps = Steps { start: Some(start), answer: Some(answer) };
        let run = lease.run.id.clone();
        if let Err(error) = execute_plan(&state, lease, plan, Vec::new(), steps).await {
            tracing::warn!(%run, error = %error.message, "a run could not be executed");
        }
    });
    Ok((id, answered))
}
