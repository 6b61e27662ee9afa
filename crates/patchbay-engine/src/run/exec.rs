//! The run state, the `runAfter` graph and the container actions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use patchbay_expr::Template;
use serde_json::{Map, Value, json};

use super::journal::RunJournal;
use super::scope::EvalScope;
use super::steps::{Step, StepResult, response_of};
use super::{
    ActionRecord, ActionStatus, BoxFuture, FlowEnvironment, FlowResponse, RunObserver, RunOutcome, RunRecord,
    RunStatus, TriggerOutputs,
};
use crate::definition::{Action, ActionKind, Block, Definition};

/// The stored result of an action, as expressions see it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: ActionStatus,
    pub inputs: Value,
    pub outputs: Value,
    pub body: Value,
    pub error: Option<Value>,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub code: Option<u16>,
}

impl Stored {
    /// The result expressions see for a record of an action of `kind`.
    fn from_record(kind: &ActionKind, record: &ActionRecord) -> Self {
        // Actions whose `body('A')` is `outputs.body`; for the others it is the outputs.
        let has_body = matches!(
            kind,
            ActionKind::Http
                | ActionKind::OpenApiConnection { .. }
                | ActionKind::ParseJson
                | ActionKind::Select
                | ActionKind::Query
                | ActionKind::Join
        );
        let body = if has_body {
            record.outputs.get("body").cloned().unwrap_or(Value::Null)
        } else {
            record.outputs.clone()
        };
        let code =
            record.outputs.get("statusCode").and_then(Value::as_u64).and_then(|c| u16::try_from(c).ok());
        Stored {
            status: record.status,
            inputs: record.inputs.clone(),
            outputs: record.outputs.clone(),
            body,
            error: record.error.clone(),
            started: record.started,
            ended: record.ended,
            code: code.filter(|_| has_body),
        }
    }
}

/// Whether a final journal record of this kind is used as is on replay (external effects and the
/// stateless data actions); the others run again (see the module docs of `run`).
fn replays_from_journal(kind: &ActionKind) -> bool {
    matches!(
        kind,
        ActionKind::Http
            | ActionKind::OpenApiConnection { .. }
            | ActionKind::Response
            | ActionKind::Wait
            | ActionKind::Compose
            | ActionKind::ParseJson
            | ActionKind::Query
            | ActionKind::Select
            | ActionKind::Join
    )
}

/// Whether two records say the same (times and attempts aside).
fn same_content(a: &ActionRecord, b: &ActionRecord) -> bool {
    a.status == b.status
        && a.inputs == b.inputs
        && a.outputs == b.outputs
        && a.error == b.error
        && a.pending == b.pending
}

/// `at + duration`, saturating.
pub fn later(at: DateTime<Utc>, duration: std::time::Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(duration)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A loop iteration's view: its item and index, and its own action results.
pub struct Frame {
    pub parent: Option<Arc<Frame>>,
    pub loop_name: Option<String>,
    pub item: Value,
    pub index: usize,
    pub results: Mutex<HashMap<String, Stored>>,
}

impl Frame {
    fn root() -> Arc<Frame> {
        Arc::new(Frame {
            parent: None,
            loop_name: None,
            item: Value::Null,
            index: 0,
            results: Mutex::default(),
        })
    }

    fn child(parent: &Arc<Frame>, name: &str, item: Value, index: usize) -> Arc<Frame> {
        Arc::new(Frame {
            parent: Some(parent.clone()),
            loop_name: Some(name.into()),
            item,
            index,
            results: Mutex::default(),
        })
    }

    /// The result of `name` in this frame or an enclosing one.
    pub fn lookup(&self, name: &str) -> Option<Stored> {
        if let Some(s) = lock(&self.results).get(name) {
            return Some(s.clone());
        }
        self.parent.as_ref()?.lookup(name)
    }

    /// Iteration indexes, outermost first.
    pub fn iteration(&self) -> Vec<usize> {
        let mut out = self.parent.as_ref().map(|p| p.iteration()).unwrap_or_default();
        if self.loop_name.is_some() {
            out.push(self.index);
        }
        out
    }
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Mutable run state shared by all branches.
#[derive(Default)]
pub struct State {
    pub variables: Map<String, Value>,
    pub records: Vec<ActionRecord>,
    pub terminated: Option<(RunStatus, Option<Value>)>,
    pub response: Option<FlowResponse>,
    /// The earliest wake of the actions parked in this pass.
    pub parked: Option<DateTime<Utc>>,
    /// An action saw the cancellation: nothing more starts.
    pub cancelled: bool,
}

/// What stays the same across the passes of one run.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `workflow().run.name`, part of every idempotency key.
    pub run_id: String,
    /// The run's first start.
    pub started: DateTime<Utc>,
    /// Long waits and `202` answers park the run (durable), or are waited for in process.
    pub parking: bool,
}

/// One run in progress.
pub struct Run<'a> {
    pub def: &'a Definition,
    pub env: &'a dyn FlowEnvironment,
    observer: &'a dyn RunObserver,
    journal: &'a dyn RunJournal,
    pub parking: bool,
    pub trigger: TriggerOutputs,
    pub trigger_started: DateTime<Utc>,
    pub parameters: Map<String, Value>,
    pub run_id: String,
    pub state: Mutex<State>,
}

impl<'a> Run<'a> {
    pub fn new(
        def: &'a Definition,
        trigger: TriggerOutputs,
        env: &'a dyn FlowEnvironment,
        observer: &'a dyn RunObserver,
        journal: &'a dyn RunJournal,
        identity: Identity,
    ) -> Self {
        let mut parameters = def.parameters.clone();
        parameters.extend(env.parameters());
        Run {
            def,
            env,
            observer,
            journal,
            parking: identity.parking,
            trigger,
            trigger_started: identity.started,
            parameters,
            run_id: identity.run_id,
            state: Mutex::default(),
        }
    }

    pub fn scope<'s>(&'s self, frame: &'s Frame) -> EvalScope<'s> {
        EvalScope { run: self, frame, item: None }
    }

    fn terminated(&self) -> bool {
        lock(&self.state).terminated.is_some()
    }

    /// Whether the run is cancelled (asking the host, once until it says yes).
    fn cancel_now(&self) -> bool {
        if lock(&self.state).cancelled {
            return true;
        }
        let cancelled = self.env.cancel_requested();
        if cancelled {
            lock(&self.state).cancelled = true;
        }
        cancelled
    }

    pub async fn execute(self) -> RunOutcome {
        let started = self.trigger_started;
        let root = Frame::root();
        let mut error = None;
        let status = match self.conditions_met(&root) {
            Err(e) => {
                error = Some(json!({"code": "InvalidTemplate", "message": e}));
                RunStatus::Failed
            }
            Ok(false) => RunStatus::Skipped,
            Ok(true) => match self.run_block(&self.def.actions, &root).await {
                ActionStatus::Succeeded => RunStatus::Succeeded,
                ActionStatus::Cancelled => RunStatus::Cancelled,
                _ => {
                    error = Some(
                        json!({"code": "ActionFailed", "message": "an action failed and nothing handled it"}),
                    );
                    RunStatus::Failed
                }
            },
        };
        {
            let state = lock(&self.state);
            if let (None, Some(wake)) = (&state.terminated, state.parked) {
                return RunOutcome::Parked { wake };
            }
        }
        let outputs = self.outputs(&root);
        let mut state = std::mem::take(&mut *lock(&self.state));
        let (status, error) = match state.terminated.take() {
            Some((s, e)) => (s, e),
            None if state.cancelled => {
                (RunStatus::Cancelled, Some(json!({"code": "Cancelled", "message": "the run was cancelled"})))
            }
            None => (status, error),
        };
        RunOutcome::Finished(RunRecord {
            status,
            error,
            started,
            ended: self.env.now(),
            trigger: self.trigger,
            actions: state.records,
            response: state.response,
            outputs,
        })
    }

    fn conditions_met(&self, root: &Frame) -> Result<bool, String> {
        for trigger in &self.def.triggers {
            for c in &trigger.conditions {
                let v =
                    c.evaluate(&self.scope(root)).map_err(|e| format!("trigger '{}': {e}", trigger.name))?;
                if !truthy(&v) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn outputs(&self, root: &Frame) -> Map<String, Value> {
        let scope = self.scope(root);
        self.def
            .outputs
            .iter()
            .map(|(name, json)| {
                let value = json.evaluate(&scope).unwrap_or_else(|e| json!({"error": e.to_string()}));
                (name.clone(), value)
            })
            .collect()
    }

    /// Runs one level; its status is `Failed` when an unhandled failure remains (see the module docs),
    /// `Waiting` when an action in it parked (the others went on as far as they could), `Cancelled`
    /// when the run was cancelled.
    pub fn run_block<'s>(&'s self, block: &'s Block, frame: &'s Arc<Frame>) -> BoxFuture<'s, ActionStatus> {
        Box::pin(async move {
            let mut statuses: HashMap<&str, ActionStatus> = HashMap::new();
            let mut waiting: HashSet<&str> = HashSet::new();
            while statuses.len() < block.actions.len() && !self.terminated() {
                let ready: Vec<&Action> = block
                    .actions
                    .iter()
                    .filter(|a| !statuses.contains_key(a.name.as_str()) && !waiting.contains(a.name.as_str()))
                    .filter(|a| a.run_after.iter().all(|(p, _)| statuses.contains_key(p.as_str())))
                    .collect();
                if ready.is_empty() {
                    break;
                }
                let (run, skip): (Vec<&Action>, Vec<&Action>) = ready.into_iter().partition(|a| {
                    a.run_after.iter().all(|(p, allowed)| allowed.contains(&statuses[p.as_str()]))
                });
                if lock(&self.state).cancelled {
                    // Their turn came after the cancellation: recorded `Cancelled`, not run.
                    for action in run {
                        self.finish(action, frame, StepResult::cancelled(Value::Null), self.env.now());
                    }
                    break;
                }
                for action in skip {
                    self.skip(action, frame);
                    statuses.insert(&action.name, ActionStatus::Skipped);
                }
                let results = join_all(run.iter().map(|a| self.run_action(a, frame))).await;
                for (action, status) in run.iter().zip(results) {
                    if status.is_final() {
                        statuses.insert(&action.name, status);
                    } else {
                        waiting.insert(&action.name);
                    }
                }
            }
            let state = lock(&self.state);
            if state.terminated.is_none() {
                let unfinished = statuses.len() < block.actions.len();
                if state.cancelled && (unfinished || statuses.values().any(|s| *s == ActionStatus::Cancelled))
                {
                    return ActionStatus::Cancelled;
                }
                if unfinished && state.parked.is_some() {
                    return ActionStatus::Waiting;
                }
            }
            drop(state);
            block_status(block, &statuses)
        })
    }

    fn skip(&self, action: &Action, frame: &Arc<Frame>) {
        self.finish(action, frame, StepResult::skipped(), self.env.now());
    }

    /// Reports `record` unless the journal already holds the same; returns the record to keep.
    fn report(&self, record: ActionRecord) -> ActionRecord {
        match self.journal.recorded(&record.name, &record.iteration) {
            Some(known) if same_content(&known, &record) => known,
            _ => {
                self.observer.action_finished(&record);
                record
            }
        }
    }

    /// Records a finished action (reporting it unless the journal has it) and stores its result.
    fn finish(&self, action: &Action, frame: &Arc<Frame>, result: StepResult, started: DateTime<Utc>) {
        let record = self.report(ActionRecord {
            name: action.name.clone(),
            iteration: frame.iteration(),
            status: result.status,
            inputs: result.inputs,
            outputs: result.outputs,
            error: result.error,
            started,
            ended: self.env.now(),
            attempts: result.attempts,
            pending: None,
        });
        self.keep(action, frame, record);
    }

    /// Makes a final record visible to expressions and to the run record.
    fn keep(&self, action: &Action, frame: &Arc<Frame>, record: ActionRecord) {
        lock(&frame.results).insert(action.name.clone(), Stored::from_record(&action.kind, &record));
        lock(&self.state).records.push(record);
    }

    /// Uses a final journal record instead of running the action again.
    fn replay(&self, action: &Action, frame: &Arc<Frame>, record: ActionRecord) -> ActionStatus {
        if matches!(action.kind, ActionKind::Response)
            && record.status == ActionStatus::Succeeded
            && let Ok(response) = response_of(&record.inputs)
        {
            lock(&self.state).response.get_or_insert(response);
        }
        let status = record.status;
        self.keep(action, frame, record);
        status
    }

    /// Records a parked action (wake no later than its timeout) and parks the run.
    fn park(&self, action: &Action, frame: &Arc<Frame>, result: StepResult, started: DateTime<Utc>) {
        let Some(mut pending) = result.pending else { return };
        if let Some(limit) = action.timeout {
            pending.wake = pending.wake.min(later(started, limit));
        }
        let wake = pending.wake;
        self.report(ActionRecord {
            name: action.name.clone(),
            iteration: frame.iteration(),
            status: ActionStatus::Waiting,
            inputs: result.inputs,
            outputs: Value::Null,
            error: None,
            started,
            ended: self.env.now(),
            attempts: result.attempts,
            pending: Some(pending),
        });
        let mut state = lock(&self.state);
        state.parked = Some(state.parked.map_or(wake, |w| w.min(wake)));
    }

    fn run_action<'s>(&'s self, action: &'s Action, frame: &'s Arc<Frame>) -> BoxFuture<'s, ActionStatus> {
        Box::pin(async move {
            let known = self.journal.recorded(&action.name, &frame.iteration());
            let mut resumed_inputs = Value::Null;
            let (started, work) = match known {
                Some(record) if record.status.is_final() && replays_from_journal(&action.kind) => {
                    return self.replay(action, frame, record);
                }
                // Ran before: pure, so it runs again (its children consult the journal).
                Some(record) if record.status.is_final() => (self.env.now(), self.dispatch(action, frame)),
                Some(record) if record.pending.is_some() => {
                    if self.cancel_now() {
                        self.finish(action, frame, StepResult::cancelled(record.inputs), record.started);
                        return ActionStatus::Cancelled;
                    }
                    resumed_inputs = record.inputs.clone();
                    let started = record.started;
                    (started, Step { run: self, action, frame }.resume(record))
                }
                _ => {
                    if self.cancel_now() {
                        self.finish(action, frame, StepResult::cancelled(Value::Null), self.env.now());
                        return ActionStatus::Cancelled;
                    }
                    (self.env.now(), self.dispatch(action, frame))
                }
            };
            let mut result = self.bounded(action, started, work).await;
            if result.inputs.is_null() {
                result.inputs = resumed_inputs; // a resumed action that timed out keeps its inputs
            }
            let status = result.status;
            if status == ActionStatus::Waiting {
                self.park(action, frame, result, started);
            } else {
                self.finish(action, frame, result, started);
            }
            status
        })
    }

    /// `work` under the action's `limit.timeout`, counted from `started` (its first start).
    async fn bounded(
        &self,
        action: &Action,
        started: DateTime<Utc>,
        work: BoxFuture<'_, StepResult>,
    ) -> StepResult {
        let Some(limit) = action.timeout else { return work.await };
        let elapsed = (self.env.now() - started).to_std().unwrap_or_default();
        match limit.checked_sub(elapsed).filter(|left| !left.is_zero()) {
            Some(left) => {
                tokio::time::timeout(left, work).await.unwrap_or_else(|_| StepResult::timed_out(limit))
            }
            None => StepResult::timed_out(limit),
        }
    }

    fn dispatch<'s>(&'s self, action: &'s Action, frame: &'s Arc<Frame>) -> BoxFuture<'s, StepResult> {
        Box::pin(async move {
            match &action.kind {
                ActionKind::If { expression, then, otherwise } => {
                    let chosen = match self.condition(expression, frame) {
                        Ok(true) => then,
                        Ok(false) => otherwise,
                        Err(e) => return StepResult::invalid(e),
                    };
                    StepResult::container(self.run_block(chosen, frame).await)
                }
                ActionKind::Switch { expression, cases, default } => {
                    let value = match expression.evaluate(&self.scope(frame)) {
                        Ok(v) => v,
                        Err(e) => return StepResult::invalid(e.to_string()),
                    };
                    let chosen = cases.iter().find(|c| c.value == value).map_or(default, |c| &c.actions);
                    StepResult::container(self.run_block(chosen, frame).await)
                }
                ActionKind::Scope { actions } => StepResult::container(self.run_block(actions, frame).await),
                ActionKind::Foreach { items, concurrency, actions } => {
                    self.foreach(action, items, *concurrency, actions, frame).await
                }
                ActionKind::Until { expression, count, actions } => {
                    self.until(action, expression, *count, actions, frame).await
                }
                _ => Step { run: self, action, frame }.execute().await,
            }
        })
    }

    pub fn condition(&self, expression: &Template, frame: &Frame) -> Result<bool, String> {
        expression.evaluate(&self.scope(frame)).map(|v| truthy(&v)).map_err(|e| e.to_string())
    }

    async fn foreach(
        &self,
        action: &Action,
        items: &crate::Json,
        concurrency: usize,
        actions: &Block,
        frame: &Arc<Frame>,
    ) -> StepResult {
        let items = match items.evaluate(&self.scope(frame)) {
            Ok(Value::Array(items)) => items,
            Ok(Value::Null) => Vec::new(),
            Ok(other) => return StepResult::invalid(format!("`foreach` must be an array, not {other}")),
            Err(e) => return StepResult::invalid(e.to_string()),
        };
        let count = items.len();
        let frames: Vec<Arc<Frame>> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| Frame::child(frame, &action.name, item, i))
            .collect();
        let statuses = self.iterations(actions, &frames, concurrency.max(1)).await;
        let status = if statuses.contains(&ActionStatus::Waiting) {
            ActionStatus::Waiting
        } else if statuses.contains(&ActionStatus::Cancelled) {
            ActionStatus::Cancelled
        } else if statuses.iter().any(|s| s.is_failure()) {
            ActionStatus::Failed
        } else {
            ActionStatus::Succeeded
        };
        let mut result = StepResult::container(status);
        result.inputs = json!({"foreach": count});
        result
    }

    /// Runs the iterations in order, at most `limit` at once; a parked iteration keeps its slot.
    /// Once the run is terminated or cancelled no iteration starts. Returns each one's status (an
    /// iteration that did not start: `Waiting` when slots were held by parked ones, else `Skipped`
    /// or `Cancelled`).
    async fn iterations(&self, actions: &Block, frames: &[Arc<Frame>], limit: usize) -> Vec<ActionStatus> {
        let mut statuses = vec![None; frames.len()];
        let mut running = FuturesUnordered::new();
        let (mut next, mut parked) = (0, 0);
        loop {
            while running.len() + parked < limit && next < frames.len() && !self.terminated() {
                if lock(&self.state).cancelled {
                    break;
                }
                let frame = &frames[next];
                running.push(async move { (frame.index, self.run_block(actions, frame).await) });
                next += 1;
            }
            let Some((index, status)) = running.next().await else { break };
            if status == ActionStatus::Waiting {
                parked += 1;
            }
            statuses[index] = Some(status);
        }
        let state = lock(&self.state);
        let not_started = match (&state.terminated, state.cancelled) {
            (Some(_), _) => ActionStatus::Skipped,
            (None, true) => ActionStatus::Cancelled,
            (None, false) => ActionStatus::Waiting,
        };
        statuses.into_iter().map(|s| s.unwrap_or(not_started)).collect()
    }

    async fn until(
        &self,
        action: &Action,
        expression: &Template,
        count: u64,
        actions: &Block,
        frame: &Arc<Frame>,
    ) -> StepResult {
        let mut last = ActionStatus::Succeeded;
        let mut iterations = 0;
        for i in 0..count {
            let child = Frame::child(frame, &action.name, Value::Null, i as usize);
            last = self.run_block(actions, &child).await;
            iterations = i + 1;
            if matches!(last, ActionStatus::Waiting | ActionStatus::Cancelled) {
                break;
            }
            let done = self.condition(expression, &child);
            // Inner results stay visible after the loop (the last iteration's).
            let inner = std::mem::take(&mut *lock(&child.results));
            lock(&frame.results).extend(inner);
            match done {
                Err(e) => return StepResult::invalid(e),
                Ok(true) => break,
                Ok(false) if last.is_failure() || lock(&self.state).terminated.is_some() => break,
                Ok(false) => {}
            }
        }
        let mut result = StepResult::container(last);
        result.outputs = json!({"iterations": iterations});
        result
    }
}

/// The status of a level: `Failed` when a failed action was not handled by a successor that ran.
fn block_status(block: &Block, statuses: &HashMap<&str, ActionStatus>) -> ActionStatus {
    let unhandled = block.actions.iter().any(|a| {
        statuses.get(a.name.as_str()).is_some_and(|s| s.is_failure())
            && !block.actions.iter().any(|b| {
                b.run_after.iter().any(|(p, _)| p == &a.name)
                    && statuses.get(b.name.as_str()).is_some_and(|s| *s != ActionStatus::Skipped)
            })
    });
    if unhandled { ActionStatus::Failed } else { ActionStatus::Succeeded }
}

/// Logic Apps truthiness for conditions: `true`, or the text `"true"`.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}
