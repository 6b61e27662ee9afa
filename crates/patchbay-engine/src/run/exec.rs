//! The run state, the `runAfter` graph and the container actions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use patchbay_expr::Template;
use serde_json::{Map, Value, json};

use super::scope::EvalScope;
use super::steps::{Step, StepResult};
use super::{
    ActionRecord, ActionStatus, BoxFuture, FlowEnvironment, FlowResponse, RunObserver, RunRecord, RunStatus,
    TriggerOutputs,
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
    fn iteration(&self) -> Vec<usize> {
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
}

/// One run in progress.
pub struct Run<'a> {
    pub def: &'a Definition,
    pub env: &'a dyn FlowEnvironment,
    observer: &'a dyn RunObserver,
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
    ) -> Self {
        let mut parameters = def.parameters.clone();
        parameters.extend(env.parameters());
        Run {
            def,
            env,
            observer,
            trigger,
            trigger_started: env.now(),
            parameters,
            run_id: env.run_id(),
            state: Mutex::default(),
        }
    }

    pub fn scope<'s>(&'s self, frame: &'s Frame) -> EvalScope<'s> {
        EvalScope { run: self, frame, item: None }
    }

    pub fn terminated(&self) -> bool {
        lock(&self.state).terminated.is_some()
    }

    pub async fn execute(self) -> RunRecord {
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
                _ => {
                    error = Some(
                        json!({"code": "ActionFailed", "message": "an action failed and nothing handled it"}),
                    );
                    RunStatus::Failed
                }
            },
        };
        let outputs = self.outputs(&root);
        let mut state = std::mem::take(&mut *lock(&self.state));
        let (status, error) = match state.terminated.take() {
            Some((s, e)) => (s, e),
            None => (status, error),
        };
        RunRecord {
            status,
            error,
            started,
            ended: self.env.now(),
            trigger: self.trigger,
            actions: state.records,
            response: state.response,
            outputs,
        }
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

    /// Runs one level; its status is `Failed` when an unhandled failure remains (see the module docs).
    pub fn run_block<'s>(&'s self, block: &'s Block, frame: &'s Arc<Frame>) -> BoxFuture<'s, ActionStatus> {
        Box::pin(async move {
            let mut statuses: HashMap<&str, ActionStatus> = HashMap::new();
            while statuses.len() < block.actions.len() && !self.terminated() {
                let ready: Vec<&Action> = block
                    .actions
                    .iter()
                    .filter(|a| !statuses.contains_key(a.name.as_str()))
                    .filter(|a| a.run_after.iter().all(|(p, _)| statuses.contains_key(p.as_str())))
                    .collect();
                if ready.is_empty() {
                    break;
                }
                let (run, skip): (Vec<&Action>, Vec<&Action>) = ready.into_iter().partition(|a| {
                    a.run_after.iter().all(|(p, allowed)| allowed.contains(&statuses[p.as_str()]))
                });
                for action in skip {
                    self.skip(action, frame);
                    statuses.insert(&action.name, ActionStatus::Skipped);
                }
                let results = join_all(run.iter().map(|a| self.run_action(a, frame))).await;
                for (action, status) in run.iter().zip(results) {
                    statuses.insert(&action.name, status);
                }
            }
            block_status(block, &statuses)
        })
    }

    fn skip(&self, action: &Action, frame: &Arc<Frame>) {
        let now = self.env.now();
        let stored = Stored {
            status: ActionStatus::Skipped,
            inputs: Value::Null,
            outputs: Value::Null,
            body: Value::Null,
            error: Some(json!({"code": "ActionSkipped", "message": "the runAfter condition was not met"})),
            started: now,
            ended: now,
            code: None,
        };
        self.finish(action, frame, stored, 0);
    }

    /// Records a finished action and reports it to the observer.
    fn finish(&self, action: &Action, frame: &Arc<Frame>, stored: Stored, attempts: u32) {
        let record = ActionRecord {
            name: action.name.clone(),
            iteration: frame.iteration(),
            status: stored.status,
            inputs: stored.inputs.clone(),
            outputs: stored.outputs.clone(),
            error: stored.error.clone(),
            started: stored.started,
            ended: stored.ended,
            attempts,
        };
        lock(&frame.results).insert(action.name.clone(), stored);
        self.observer.action_finished(&record);
        lock(&self.state).records.push(record);
    }

    fn run_action<'s>(&'s self, action: &'s Action, frame: &'s Arc<Frame>) -> BoxFuture<'s, ActionStatus> {
        Box::pin(async move {
            let started = self.env.now();
            let work = self.dispatch(action, frame);
            let result = match action.timeout {
                Some(limit) => match tokio::time::timeout(limit, work).await {
                    Ok(r) => r,
                    Err(_) => StepResult::timed_out(limit),
                },
                None => work.await,
            };
            let status = result.status;
            let stored = Stored {
                status,
                inputs: result.inputs,
                body: result.body.unwrap_or_else(|| result.outputs.clone()),
                outputs: result.outputs,
                error: result.error,
                started,
                ended: self.env.now(),
                code: result.code,
            };
            self.finish(action, frame, stored, result.attempts);
            status
        })
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
        let iterations: Vec<BoxFuture<'_, ActionStatus>> =
            frames.iter().map(|f| self.iteration(actions, f)).collect();
        let statuses: Vec<ActionStatus> =
            futures_util::stream::iter(iterations).buffered(concurrency.max(1)).collect().await;
        let failed = statuses.iter().any(|s| s.is_failure());
        let mut result =
            StepResult::container(if failed { ActionStatus::Failed } else { ActionStatus::Succeeded });
        result.inputs = json!({"foreach": count});
        result
    }

    /// One `Foreach` iteration, unless the run was terminated meanwhile.
    fn iteration<'s>(&'s self, actions: &'s Block, frame: &'s Arc<Frame>) -> BoxFuture<'s, ActionStatus> {
        Box::pin(async move {
            if self.terminated() { ActionStatus::Skipped } else { self.run_block(actions, frame).await }
        })
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
            let done = self.condition(expression, &child);
            // Inner results stay visible after the loop (the last iteration's).
            let inner = std::mem::take(&mut *lock(&child.results));
            lock(&frame.results).extend(inner);
            match done {
                Err(e) => return StepResult::invalid(e),
                Ok(true) => break,
                Ok(false) if last.is_failure() || self.terminated() => break,
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
