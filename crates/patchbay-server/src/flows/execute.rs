//! One run under this node's lease: load the revision it started on, resolve the flow's
//! connections, replay the stored journal and go on (`resume_flow`), handing each action's record to
//! the node's [`RunWriter`] as it finishes; then finish the run, or park it until its wake time.
//! The lease is renewed while the run executes; a lost lease (another node took the run over) stops
//! this node's writes, which the store refuses anyway.
//!
//! Choices: records are handed over in the order they come, just after each action ends, and
//! committed with those of the node's other runs (group commit); a crash before the commit makes
//! the action run again on resume (at least once; the idempotency headers let backends make it
//! exactly once). A `Response` is stored together with its action's record, and the caller of a
//! `Request` trigger is answered once it is committed, before the run ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use patchbay_engine::{
    ActionKind, ActionRecord, ActionStatus, Definition, MemoryJournal, RunObserver, RunOutcome, RunStatus,
    TriggerOutputs, resume_flow,
};
use patchbay_store::{
    ActionEntry, ConnectionId, Fence, FlowId, RunLease, RunStatus as StoredStatus, RunWrite, StoreError,
    UserId, Written, now_ms,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::env::{FlowConnection, PipelineEnv};
use super::journal;
use super::writer::{Pending, RunWriter};
use crate::error::ApiError;
use crate::routes::invoke::connection_context;
use crate::state::SharedState;

/// What a run executes: its revision's definition and connection references, and its flow's owner
/// and name; its connections are resolved through the configuration cache at `generation`.
pub struct RunPlan {
    /// The flow.
    pub flow_id: FlowId,
    /// The revision the run executes.
    pub revision: i64,
    /// The configuration generation read before the plan was loaded.
    pub generation: i64,
    /// The parsed definition.
    pub definition: Arc<Definition>,
    /// Connection reference name → connection id.
    pub connections: Value,
    /// The flow's owner; every connection must be theirs.
    pub owner: UserId,
    /// The flow's name (`workflow().name`).
    pub flow_name: String,
}

/// How a run's caller is answered, when one waits on this node (a `Request` trigger run directly).
#[derive(Debug)]
pub enum Answer {
    /// The `Response` action's response, committed.
    Response(Value),
    /// The run ended without a response.
    Ended {
        /// Its status.
        status: StoredStatus,
        /// Its error, if it failed.
        error: Option<Value>,
    },
    /// The run could not start (the flow was disabled or deleted meanwhile).
    Refused(StoreError),
}

/// Executes the run under `lease`, claimed from the queue, until it finishes or parks.
pub async fn execute(state: &SharedState, lease: RunLease) -> Result<(), ApiError> {
    let store = state.store.flows();
    let run = &lease.run;
    let generation = state.store.config_generation().await?;
    let flow = store.get(&run.flow_id).await?;
    let (document, connections) = if flow.revision == run.revision {
        (flow.definition, flow.connections)
    } else {
        let revision = store.revision(&run.flow_id, run.revision).await?;
        (revision.definition, revision.connections)
    };
    let definition = match state.definitions.get(&run.flow_id, run.revision, &document) {
        Ok(definition) => definition,
        Err(error) => {
            let messages: Vec<String> = error.diagnostics.iter().map(ToString::to_string).collect();
            let error = json!({"code": "InvalidDefinition", "message": messages.join("; ")});
            return fail(state, &lease, error, None).await;
        }
    };
    let entries = store.journal(&run.id).await?;
    let plan = RunPlan {
        flow_id: flow.id,
        revision: run.revision,
        generation,
        definition,
        connections,
        owner: flow.owner_id,
        flow_name: flow.name,
    };
    execute_plan(state, lease, plan, entries, Steps::default()).await
}

/// What a run started by this node itself brings along: the pending write of its start (checked
/// before anything else is trusted), and the caller waiting for its answer.
#[derive(Default)]
pub struct Steps {
    /// The start of the run, handed to the writer just before.
    pub start: Option<Pending>,
    /// The caller waiting for the run's `Response`.
    pub answer: Option<oneshot::Sender<Answer>>,
}

/// Executes `plan` under `lease`, replaying `entries` (the run's journal so far).
pub async fn execute_plan(
    state: &SharedState,
    lease: RunLease,
    plan: RunPlan,
    entries: Vec<ActionEntry>,
    steps: Steps,
) -> Result<(), ApiError> {
    let run = lease.run.clone();
    let connections = match cached_connections(state, &plan).await {
        Ok(connections) => connections,
        Err(message) => {
            let error = json!({"code": "ConnectionUnavailable", "message": message});
            if let Some(start) = steps.start
                && let Err(error) = start.outcome().await
            {
                return refuse(steps.answer, error);
            }
            return fail(state, &lease, error, steps.answer).await;
        }
    };
    let mut runtime = state.runtime.clone();
    runtime.options.wait_for_completion = false;
    let env = PipelineEnv::new(runtime, connections).for_run(run.id.as_str(), &plan.flow_name);
    let cancel = env.cancel_flag();
    if run.cancel_requested {
        cancel.store(true, Ordering::Relaxed);
    }
    let mut replay = MemoryJournal::new(entries.iter().filter_map(journal::record));
    if let Some(started) = run.started_ms {
        replay = replay.with_run_started(journal::time(started));
    }
    let (acks, receiver) = mpsc::unbounded_channel();
    if let Some(start) = steps.start {
        let _ = acks.send(Ack::Start(start));
    }
    let acknowledged =
        tokio::spawn(read_acks(state.clone(), run.id.clone(), cancel.clone(), receiver, steps.answer));
    let renewer = spawn_renewer(state.clone(), lease.clone(), cancel.clone());
    let trigger = TriggerOutputs {
        headers: run.trigger["headers"].as_object().cloned().unwrap_or_default(),
        body: run.trigger["body"].clone(),
    };
    let observer = WriteObserver {
        writer: state.run_writer.clone(),
        fence: Fence::from(&lease),
        responses: response_actions(&plan.definition),
        acks,
    };
    let outcome = resume_flow(&plan.definition, trigger, &env, &observer, &replay).await;
    drop(observer);
    let (written, status, error) = match outcome {
        RunOutcome::Finished(record) => {
            let status = match record.status {
                RunStatus::Succeeded => StoredStatus::Succeeded,
                RunStatus::Failed => StoredStatus::Failed,
                RunStatus::Cancelled => StoredStatus::Cancelled,
                RunStatus::Skipped => StoredStatus::Skipped,
            };
            let finish = state.run_writer.submit(RunWrite::Finish {
                fence: Fence::from(&lease),
                status,
                error: record.error.clone(),
                outputs: Some(Value::Object(record.outputs)),
            });
            (finish.outcome().await.map(drop), status, record.error)
        }
        RunOutcome::Parked { wake } => {
            let answer = acknowledged.await.ok().flatten();
            let parked = state.store.flows().suspend_run(&lease, wake.timestamp_millis()).await;
            renewer.abort();
            state.runs_changed.changed(&run.id);
            // A parked run's caller waits on in the store (it may go on on another node); a run
            // cancelled while it parked ended.
            if let Ok(parked) = &parked
                && parked.status.is_finished()
            {
                answer_ended(answer, parked.status, None);
            }
            return written_or_taken_over(&run.id, parked.map(drop));
        }
    };
    let answer = acknowledged.await.ok().flatten();
    renewer.abort();
    state.runs_changed.changed(&run.id);
    answer_ended(answer, status, error);
    written_or_taken_over(&run.id, written)
}

/// A write's outcome as the run's result: a lost lease means another node took the run over.
fn written_or_taken_over(
    run: &patchbay_store::RunId,
    written: Result<(), StoreError>,
) -> Result<(), ApiError> {
    match written {
        Ok(()) => Ok(()),
        Err(StoreError::LeaseLost { .. }) => {
            tracing::warn!(%run, "the run was taken over by another node; its outcome there counts");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// Tells a waiting caller, if one is still waiting, how the run ended.
fn answer_ended(answer: Option<oneshot::Sender<Answer>>, status: StoredStatus, error: Option<Value>) {
    if let Some(answer) = answer {
        let _ = answer.send(Answer::Ended { status, error });
    }
}

/// Tells a waiting caller that the run could not start.
fn refuse(answer: Option<oneshot::Sender<Answer>>, error: StoreError) -> Result<(), ApiError> {
    match answer {
        Some(answer) => {
            let _ = answer.send(Answer::Refused(error));
            Ok(())
        }
        None => Err(error.into()),
    }
}

/// Ends the run as failed with `error` before any action ran.
async fn fail(
    state: &SharedState,
    lease: &RunLease,
    error: Value,
    answer: Option<oneshot::Sender<Answer>>,
) -> Result<(), ApiError> {
    let write = RunWrite::Finish {
        fence: Fence::from(lease),
        status: StoredStatus::Failed,
        error: Some(error.clone()),
        outputs: None,
    };
    let written = state.run_writer.write(write).await.map(drop);
    state.runs_changed.changed(&lease.run.id);
    answer_ended(answer, StoredStatus::Failed, Some(error));
    written_or_taken_over(&lease.run.id, written)
}

/// The plan's connections, from the configuration cache when they were resolved at its generation.
async fn cached_connections(
    state: &SharedState,
    plan: &RunPlan,
) -> Result<HashMap<String, FlowConnection>, String> {
    let key = (plan.flow_id.clone(), plan.revision);
    let resolve = async { resolve_connections(state, &plan.owner, &plan.connections).await.map(Arc::new) };
    let resolved = state.config_cache.connections.get_or_load(key, plan.generation, resolve).await?;
    Ok(resolved.as_ref().clone())
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

/// A write of the run handed to the writer, whose outcome the run reads in turn.
enum Ack {
    /// The run's start (a run this node started itself).
    Start(Pending),
    /// An action's record.
    Record(Pending),
    /// The run's `Response`, with its value for the waiting caller.
    Respond(Pending, Value),
}

/// Hands each finished action's record (and a `Response`) to the node's writer.
struct WriteObserver {
    writer: RunWriter,
    fence: Fence,
    responses: Vec<String>,
    acks: mpsc::UnboundedSender<Ack>,
}

impl RunObserver for WriteObserver {
    fn action_finished(&self, record: &ActionRecord) {
        let written =
            self.writer.submit(RunWrite::Record(self.fence.clone(), Box::new(journal::entry(record))));
        let _ = self.acks.send(Ack::Record(written));
        if record.status == ActionStatus::Succeeded && self.responses.contains(&record.name) {
            let response = journal::response_of(&record.inputs);
            let written = self.writer.submit(RunWrite::Respond(self.fence.clone(), response.clone()));
            let _ = self.acks.send(Ack::Respond(written, response));
        }
    }
}

/// Reads the outcomes of the run's writes in order: raises `cancel` when the store says a cancel
/// was requested, the lease is lost or a write failed; answers the waiting caller once the
/// `Response` is committed. Returns the caller's sender when it was not answered.
async fn read_acks(
    state: SharedState,
    run: patchbay_store::RunId,
    cancel: Arc<AtomicBool>,
    mut acks: mpsc::UnboundedReceiver<Ack>,
    mut answer: Option<oneshot::Sender<Answer>>,
) -> Option<oneshot::Sender<Answer>> {
    while let Some(ack) = acks.recv().await {
        let (outcome, response) = match ack {
            Ack::Start(pending) => match pending.outcome().await {
                Ok(_) => continue,
                Err(error) => {
                    cancel.store(true, Ordering::Relaxed);
                    let _ = refuse(answer.take(), error);
                    continue;
                }
            },
            Ack::Record(pending) => (pending.outcome().await, None),
            Ack::Respond(pending, response) => (pending.outcome().await, Some(response)),
        };
        match (outcome, response) {
            (Ok(Written::Recorded { cancel_requested: true }), _) => cancel.store(true, Ordering::Relaxed),
            (Ok(Written::Responded), Some(response)) => {
                state.runs_changed.changed(&run);
                if let Some(answer) = answer.take() {
                    let _ = answer.send(Answer::Response(response));
                }
            }
            (Ok(_), _) => {}
            (Err(error), _) => {
                if !cancel.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%run, %error, "could not record an action; stopping the run here");
                }
            }
        }
    }
    answer
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
