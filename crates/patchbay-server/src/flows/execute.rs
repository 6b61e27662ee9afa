//! One claimed run: load the revision it started on, resolve the flow's connections, replay the
//! stored journal and go on (`resume_flow`), writing each action's record to the store as it
//! finishes; then finish the run, or park it until its wake time. The lease is renewed while the
//! run executes; a lost lease (another node took the run over) stops this node's writes, which the
//! store refuses anyway.
//!
//! Choices: records are written by one task in the order they come, just after each action ends, so
//! a crash between an action's end and its record makes it run again on resume (at least once; the
//! idempotency headers let backends make it exactly once). A `Response` is stored as soon as its
//! action succeeds, so the caller of a `Request` trigger is answered before the run ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use patchbay_engine::{
    ActionKind, ActionRecord, ActionStatus, Definition, MemoryJournal, RunObserver, RunOutcome, RunStatus,
    TriggerOutputs, resume_flow,
};
use patchbay_store::{ConnectionId, RunLease, RunStatus as StoredStatus, StoreError, now_ms};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::env::{FlowConnection, PipelineEnv};
use super::journal;
use crate::error::ApiError;
use crate::routes::invoke::connection_context;
use crate::state::SharedState;

/// Executes the run under `lease` until it finishes or parks.
pub async fn execute(state: &SharedState, lease: RunLease) -> Result<(), ApiError> {
    let store = state.store.flows();
    let run = lease.run.clone();
    let flow = store.get(&run.flow_id).await?;
    let revision = store.revision(&run.flow_id, run.revision).await?;
    let definition = match Definition::parse(&revision.definition) {
        Ok(definition) => definition,
        Err(error) => {
            let messages: Vec<String> = error.diagnostics.iter().map(ToString::to_string).collect();
            let error = json!({"code": "InvalidDefinition", "message": messages.join("; ")});
            store.finish_run(&lease, StoredStatus::Failed, Some(&error), None).await?;
            state.runs_changed.changed(&run.id);
            return Ok(());
        }
    };
    let connections = match resolve_connections(state, &flow.owner_id, &revision.connections).await {
        Ok(connections) => connections,
        Err(message) => {
            let error = json!({"code": "ConnectionUnavailable", "message": message});
            store.finish_run(&lease, StoredStatus::Failed, Some(&error), None).await?;
            state.runs_changed.changed(&run.id);
            return Ok(());
        }
    };
    let mut runtime = state.runtime.clone();
    runtime.options.wait_for_completion = false;
    let env = PipelineEnv::new(runtime, connections).for_run(run.id.as_str(), &flow.name);
    let cancel = env.cancel_flag();
    if run.cancel_requested {
        cancel.store(true, Ordering::Relaxed);
    }
    let entries = store.journal(&run.id).await?;
    let mut replay = MemoryJournal::new(entries.iter().filter_map(journal::record));
    if let Some(started) = run.started_ms {
        replay = replay.with_run_started(journal::time(started));
    }
    let responses = response_actions(&definition);
    let (records, writer) = spawn_writer(state.clone(), lease.clone(), cancel.clone(), responses);
    let renewer = spawn_renewer(state.clone(), lease.clone(), cancel.clone());
    let trigger = TriggerOutputs {
        headers: run.trigger["headers"].as_object().cloned().unwrap_or_default(),
        body: run.trigger["body"].clone(),
    };
    let observer = ChannelObserver(records);
    let outcome = resume_flow(&definition, trigger, &env, &observer, &replay).await;
    drop(observer);
    let _ = writer.await;
    renewer.abort();
    let written = match outcome {
        RunOutcome::Finished(record) => {
            let status = match record.status {
                RunStatus::Succeeded => StoredStatus::Succeeded,
                RunStatus::Failed => StoredStatus::Failed,
                RunStatus::Cancelled => StoredStatus::Cancelled,
                RunStatus::Skipped => StoredStatus::Skipped,
            };
            let outputs = Value::Object(record.outputs.clone());
            store.finish_run(&lease, status, record.error.as_ref(), Some(&outputs)).await.map(|_| ())
        }
        RunOutcome::Parked { wake } => store.suspend_run(&lease, wake.timestamp_millis()).await.map(|_| ()),
    };
    state.runs_changed.changed(&run.id);
    match written {
        Ok(()) => Ok(()),
        Err(StoreError::LeaseLost { .. }) => {
            tracing::warn!(run = %run.id, "the run was taken over by another node; its outcome there counts");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// The flow's connections by reference name; each must still exist and belong to the flow's owner.
async fn resolve_connections(
    state: &SharedState,
    owner: &patchbay_store::UserId,
    references: &Value,
) -> Result<HashMap<String, FlowConnection>, String> {
    let mut out = HashMap::new();
    for (name, id) in references.as_object().into_iter().flatten() {
        let id = ConnectionId::from(id.as_str().unwrap_or_default());
        let connection = match state.store.connections().get(&id).await {
            Ok(connection) if &connection.owner_id == owner => connection,
            _ => {
                return Err(format!("the connection `{name}` ({id}) no longer exists or is not the owner's"));
            }
        };
        let (connector, values) =
            connection_context(state, &connection).await.map_err(|error| error.message)?;
        let relay = crate::gateway::relay_for(state, &connection);
        out.insert(name.clone(), FlowConnection { connector, values, relay });
    }
    Ok(out)
}

/// The names of the definition's `Response` actions.
pub(crate) fn response_actions(definition: &Definition) -> Vec<String> {
    let actions = definition.all_actions();
    actions
        .iter()
        .filter(|action| matches!(action.kind, ActionKind::Response))
        .map(|a| a.name.clone())
        .collect()
}

/// Hands each finished action's record to the writer task.
struct ChannelObserver(mpsc::UnboundedSender<ActionRecord>);

impl RunObserver for ChannelObserver {
    fn action_finished(&self, record: &ActionRecord) {
        let _ = self.0.send(record.clone());
    }
}

/// The task that writes records in order; it raises `cancel` when the store says a cancel was
/// requested or the lease is lost, and stores a `Response` as soon as it is recorded.
fn spawn_writer(
    state: SharedState,
    lease: RunLease,
    cancel: Arc<AtomicBool>,
    responses: Vec<String>,
) -> (mpsc::UnboundedSender<ActionRecord>, tokio::task::JoinHandle<()>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<ActionRecord>();
    let task = tokio::spawn(async move {
        let store = state.store.flows();
        while let Some(record) = receiver.recv().await {
            match store.record_action(&lease, &journal::entry(&record)).await {
                Ok(true) => cancel.store(true, Ordering::Relaxed),
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(run = %lease.run.id, %error, "could not record an action; stopping the run here");
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            if record.status == ActionStatus::Succeeded && responses.contains(&record.name) {
                let response = journal::response_of(&record.inputs);
                if store.set_response(&lease, &response).await.is_ok() {
                    state.runs_changed.changed(&lease.run.id);
                }
            }
        }
    });
    (sender, task)
}

/// Renews the lease every third of its length while the run executes.
fn spawn_renewer(
    state: SharedState,
    lease: RunLease,
    cancel: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let length = state.flows.lease;
        loop {
            tokio::time::sleep(length / 3).await;
            let until = now_ms() + length.as_millis() as i64;
            match state.store.flows().renew_run(&lease, until).await {
                Ok(true) => cancel.store(true, Ordering::Relaxed),
                Ok(false) => {}
                Err(_) => {
                    cancel.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    })
}
