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
//!
//! A run this node started for a waiting caller (the direct `Request` path) holds its writes, its
//! start included, until its answer is due: they are handed over together when a `Response` has
//! succeeded and the run waits for something or ends, when it parks, when it ends, or once it has
//! run for [`HOLD_AT_MOST`] (from then on it is visible in the history and writes as it goes).
//! Until then the caller is the run's only way back after a crash: a node that dies leaves no
//! trace of it, and the caller, who got no answer, sends it again. A run resumed on another node
//! after such a crash would run its actions a second time beside the caller's retry, so nothing is
//! lost by not storing it earlier, while a run that answers makes one commit, not four.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use patchbay_engine::{
    ActionKind, ActionRecord, ActionStatus, Definition, MemoryJournal, RunObserver, RunOutcome, RunStatus,
    TriggerOutputs, resume_flow,
};
use patchbay_store::{
    ActionEntry, ConnectionId, Fence, FlowId, RunLease, RunStatus as StoredStatus, RunWrite, StartRun,
    StoreError, UserId, WholeRun, Written, now_ms,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, oneshot};

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

/// The longest a run holds its writes before its answer is due (see the module docs).
const HOLD_AT_MOST: Duration = Duration::from_millis(200);

/// What a run started by this node itself brings along: the write of its start, not handed over
/// yet (the run holds it with its first writes), and the caller waiting for its answer.
#[derive(Default)]
pub struct Steps {
    /// The run to start, and when it started.
    pub start: Option<(StartRun, i64)>,
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
            if let Some((run, now_ms)) = steps.start
                && let Err(error) = state.run_writer.write(RunWrite::Start { run, now_ms }).await
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
    let hold_for = HOLD_AT_MOST.min(state.flows.lease / 4).min(state.flows.response_timeout / 2);
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
        held: Mutex::new(steps.start.map(|start| Held { start, writes: Vec::new() })),
        answer_due: Notify::new(),
    };
    let outcome =
        observer.drive(resume_flow(&plan.definition, trigger, &env, &observer, &replay), hold_for).await;
    let (written, status, error, whole) = match outcome {
        RunOutcome::Finished(record) => {
            let status = match record.status {
                RunStatus::Succeeded => StoredStatus::Succeeded,
                RunStatus::Failed => StoredStatus::Failed,
                RunStatus::Cancelled => StoredStatus::Cancelled,
                RunStatus::Skipped => StoredStatus::Skipped,
            };
            let ending = observer.finish(RunWrite::Finish {
                fence: Fence::from(&lease),
                status,
                error: record.error.clone(),
                outputs: Some(Value::Object(record.outputs)),
            });
            drop(observer);
            let (written, whole) = match ending {
                Ending::After(finish) => (finish.outcome().await, None),
                Ending::Whole(whole, response) => (whole.outcome().await, Some(response)),
            };
            (written, status, record.error, whole)
        }
        RunOutcome::Parked { wake } => {
            observer.release();
            drop(observer);
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
    match (whole, written) {
        (Some(Some(response)), Ok(_)) => {
            if let Some(answer) = answer {
                let _ = answer.send(Answer::Response(response));
            }
            Ok(())
        }
        (Some(_), Err(error)) => refuse(answer, error),
        (_, written) => {
            answer_ended(answer, status, error);
            written_or_taken_over(&run.id, written.map(drop))
        }
    }
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
) -> Result<Arc<HashMap<String, FlowConnection>>, String> {
    let key = (plan.flow_id.clone(), plan.revision);
    let resolve = async { resolve_connections(state, &plan.owner, &plan.connections).await.map(Arc::new) };
    state.config_cache.connections.get_or_load(key, plan.generation, resolve).await
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

/// What a write of the run is, for reading its outcome.
enum Kind {
    /// The run's start (a run this node started itself).
    Start,
    /// An action's record.
    Record,
    /// The run's `Response`, with its value for the waiting caller.
    Respond(Value),
}

/// A write of the run handed to the writer, whose outcome the run reads in turn.
struct Ack(Pending, Kind);

/// How a run's end went to the writer.
enum Ending {
    /// After the run's other writes.
    After(Pending),
    /// With them, as the whole run in one write; the `Response` for the caller, if one succeeded.
    Whole(Pending, Option<Value>),
}

/// The writes a run holds back: its start, then its records and responses in order.
struct Held {
    /// The run to insert, and when it started.
    start: (StartRun, i64),
    /// The writes after the start.
    writes: Vec<(RunWrite, Kind)>,
}

/// The held writes and the end that could not be written as a whole run, given back.
type NotWhole = Box<(Held, RunWrite)>;

/// The writes of a run held from its start to its `end` as one write of the whole run, with the
/// response it gave; the writes back unless they are records and responses and `end` an end.
fn whole_run(held: Held, end: RunWrite) -> Result<(RunWrite, Option<Value>), NotWhole> {
    let fits =
        held.writes.iter().all(|(write, _)| matches!(write, RunWrite::Record(..) | RunWrite::Respond(..)));
    if !fits {
        return Err(Box::new((held, end)));
    }
    let (status, error, outputs) = match end {
        RunWrite::Finish { status, error, outputs, .. } => (status, error, outputs),
        other => return Err(Box::new((held, other))),
    };
    let (mut records, mut response) = (Vec::new(), None);
    for (write, _) in held.writes {
        match write {
            RunWrite::Record(_, entry) => records.push(*entry),
            RunWrite::Respond(_, value) => response = Some(value),
            _ => {}
        }
    }
    let (run, now_ms) = held.start;
    let whole = WholeRun { run, now_ms, records, response: response.clone(), status, error, outputs };
    Ok((RunWrite::Whole(Box::new(whole)), response))
}

/// Hands each finished action's record (and a `Response`) to the node's writer, at once or, for
/// a run that holds its writes, when its answer is due (see the module docs).
struct WriteObserver {
    writer: RunWriter,
    fence: Fence,
    responses: Vec<String>,
    acks: mpsc::UnboundedSender<Ack>,
    /// The writes held back, in order; `None` once they are handed over as they come.
    held: Mutex<Option<Held>>,
    /// Raised when a `Response` succeeded while writes are held.
    answer_due: Notify,
}

impl WriteObserver {
    /// Hands `write` to the writer, or holds it.
    fn hand_over(&self, write: RunWrite, kind: Kind) {
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match held.as_mut() {
            Some(held) => held.writes.push((write, kind)),
            None => {
                drop(held);
                self.submit(write, kind);
            }
        }
    }

    /// Hands the writer `write`; its outcome is read in turn.
    fn submit(&self, write: RunWrite, kind: Kind) {
        let _ = self.acks.send(Ack(self.writer.submit(write), kind));
    }

    /// Hands the writer every held write; later writes go as they come.
    fn release(&self) {
        let held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(held) = held {
            self.submit_held(held);
        }
    }

    /// Hands the writer the held start and writes, in order.
    fn submit_held(&self, held: Held) {
        let (run, now_ms) = held.start;
        self.submit(RunWrite::Start { run, now_ms }, Kind::Start);
        for (write, kind) in held.writes {
            self.submit(write, kind);
        }
    }

    /// Hands the writer the run's end: with every held write as the whole run in one write when
    /// the run held them all, after the held writes otherwise.
    fn finish(&self, end: RunWrite) -> Ending {
        let held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let Some(held) = held else { return Ending::After(self.writer.submit(end)) };
        match whole_run(held, end) {
            Ok((whole, response)) => Ending::Whole(self.writer.submit(whole), response),
            Err(back) => {
                let (held, end) = *back;
                self.submit_held(held);
                Ending::After(self.writer.submit(end))
            }
        }
    }

    /// Drives `run` to its outcome; while writes are held, releases them when the answer is due
    /// and the run waits for something else, or once `hold_for` has passed.
    async fn drive<F: Future<Output = RunOutcome>>(&self, run: F, hold_for: Duration) -> RunOutcome {
        let mut run = std::pin::pin!(run);
        if self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_none() {
            return run.await;
        }
        tokio::select! {
            biased;
            outcome = &mut run => return outcome,
            () = self.answer_due.notified() => {}
            () = tokio::time::sleep(hold_for) => {}
        }
        self.release();
        run.await
    }
}

impl RunObserver for WriteObserver {
    fn action_finished(&self, record: &ActionRecord) {
        let entry = Box::new(journal::entry(record));
        self.hand_over(RunWrite::Record(self.fence.clone(), entry), Kind::Record);
        if record.status == ActionStatus::Succeeded && self.responses.contains(&record.name) {
            let response = journal::response_of(&record.inputs);
            self.hand_over(RunWrite::Respond(self.fence.clone(), response.clone()), Kind::Respond(response));
            self.answer_due.notify_one();
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
    while let Some(Ack(pending, kind)) = acks.recv().await {
        let (outcome, response) = match kind {
            Kind::Start => match pending.outcome().await {
                Ok(_) => continue,
                Err(error) => {
                    cancel.store(true, Ordering::Relaxed);
                    let _ = refuse(answer.take(), error);
                    continue;
                }
            },
            Kind::Record => (pending.outcome().await, None),
            Kind::Respond(response) => (pending.outcome().await, Some(response)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Box<ActionEntry> {
        Box::new(ActionEntry {
            key: key.into(),
            name: key.into(),
            iteration: Vec::new(),
            status: "Succeeded".into(),
            inputs: json!({}),
            outputs: json!({"key": key}),
            error: None,
            started_ms: 1,
            ended_ms: Some(2),
            attempts: 1,
            pending: None,
        })
    }

    fn held(writes: Vec<(RunWrite, Kind)>) -> Held {
        let run = StartRun {
            id: patchbay_store::RunId::from("run_1"),
            flow_id: FlowId::from("flow_1"),
            revision: 1,
            trigger: json!({"body": 1}),
            node: "node-a".into(),
            lease_ms: 60_000,
        };
        Held { start: (run, 10), writes }
    }

    fn fence() -> Fence {
        Fence { run: patchbay_store::RunId::from("run_1"), token: 1 }
    }

    fn end() -> RunWrite {
        RunWrite::Finish {
            fence: fence(),
            status: StoredStatus::Succeeded,
            error: None,
            outputs: Some(json!({})),
        }
    }

    #[test]
    fn a_run_held_from_start_to_end_is_written_whole_with_its_response() {
        let response = json!({"statusCode": 200, "body": {"id": 1}});
        let writes = vec![
            (RunWrite::Record(fence(), entry("Get_item")), Kind::Record),
            (RunWrite::Record(fence(), entry("Answer")), Kind::Record),
            (RunWrite::Respond(fence(), response.clone()), Kind::Respond(response.clone())),
        ];
        let Ok((RunWrite::Whole(whole), answer)) = whole_run(held(writes), end()) else {
            panic!("not written whole");
        };
        assert_eq!(answer, Some(response.clone()));
        assert_eq!(
            (whole.now_ms, whole.status, whole.response),
            (10, StoredStatus::Succeeded, Some(response))
        );
        let keys: Vec<&str> = whole.records.iter().map(|record| record.key.as_str()).collect();
        assert_eq!(keys, ["Get_item", "Answer"]);
    }

    #[test]
    fn anything_but_records_and_responses_goes_back_unchanged() {
        let writes =
            vec![(RunWrite::Record(fence(), entry("Get_item")), Kind::Record), (end(), Kind::Record)];
        let Err(back) = whole_run(held(writes), end()) else { panic!("written whole") };
        let (back, ending) = *back;
        assert_eq!((back.writes.len(), ending), (2, end()));
        let Err(back) = whole_run(held(Vec::new()), RunWrite::Respond(fence(), json!(1))) else {
            panic!("written whole without an end");
        };
        let (back, ending) = *back;
        assert_eq!((back.start.1, ending), (10, RunWrite::Respond(fence(), json!(1))));
    }
}
