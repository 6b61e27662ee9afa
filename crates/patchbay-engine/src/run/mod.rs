//! The executor: one run of a [`Definition`], in memory.
//!
//! ## Semantics
//!
//! * Actions of a level run when every `runAfter` predecessor has finished with one of the listed
//!   statuses; otherwise they are `Skipped` (and so are their successors, unless those accept
//!   `Skipped`). Independent actions of one wave run concurrently.
//! * A level (the workflow, a `Scope`, a branch, a loop iteration) **fails** when one of its actions
//!   `Failed` or `TimedOut` and no action that lists it in `runAfter` ran afterwards (a handler that
//!   ran — whatever its own status — takes the failure over; its own failure counts in turn). This is
//!   the Logic Apps rule "a run fails when a last action failed and nothing handled it".
//! * `Terminate` ends the run at once with its `runStatus`; actions not started are not recorded.
//! * `Foreach` iterations share variables; inner action results are per iteration.
//! * Retries: an explicit `retryPolicy` on `Http`/`OpenApiConnection` is applied here (408, 429, 5xx
//!   and errors are retried, with deterministic exponential waits). Without one, the environment's
//!   own transport policy applies.
//! * `Wait` and retry waits call [`FlowEnvironment::sleep`]: an in-process timer; a durable timer
//!   comes with the run store.
//!
//! ## Durability
//!
//! A [`RunObserver`] receives each action's record as it finishes and the run's record at the end;
//! a persistent store will implement it. Resuming a run after a restart, per-flow concurrency limits
//! and idempotency keys for connector calls come with that store.

mod exec;
mod scope;
mod steps;

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::definition::Definition;

/// A boxed future, so [`FlowEnvironment`] can be used as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The status of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Did not run: its `runAfter` condition was not met.
    Skipped,
    /// Exceeded its `limit.timeout`.
    TimedOut,
}

impl ActionStatus {
    /// Parses a `runAfter` status name (exact Logic Apps spelling, case-insensitive).
    pub fn from_run_after(text: &str) -> Option<Self> {
        [Self::Succeeded, Self::Failed, Self::Skipped, Self::TimedOut]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    /// The Logic Apps name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Skipped => "Skipped",
            Self::TimedOut => "TimedOut",
        }
    }

    /// `Failed` or `TimedOut`.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut)
    }
}

/// The status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// The run succeeded.
    Succeeded,
    /// The run failed (an unhandled failure, or `Terminate` with `Failed`).
    Failed,
    /// `Terminate` with `Cancelled`.
    Cancelled,
    /// The trigger's `conditions` were not met: nothing ran.
    Skipped,
}

impl RunStatus {
    /// The Logic Apps name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
            Self::Skipped => "Skipped",
        }
    }
}

/// What the trigger produced: the run's `triggerOutputs()`.
#[derive(Debug, Clone, Default)]
pub struct TriggerOutputs {
    /// Headers (an object).
    pub headers: Map<String, Value>,
    /// The body.
    pub body: Value,
}

/// The answer of a connector operation or an HTTP call.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionResult {
    /// The HTTP status.
    pub status_code: u16,
    /// Headers (an object).
    pub headers: Map<String, Value>,
    /// The decoded body.
    pub body: Value,
}

/// The reply of a `Response` action.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowResponse {
    /// The status code.
    pub status_code: u16,
    /// Headers.
    pub headers: Map<String, Value>,
    /// The body.
    pub body: Value,
}

/// One executed (or skipped) action.
#[derive(Debug, Clone)]
pub struct ActionRecord {
    /// The action's name.
    pub name: String,
    /// Loop iteration indexes, outermost first (empty outside loops).
    pub iteration: Vec<usize>,
    /// Its status.
    pub status: ActionStatus,
    /// The evaluated inputs.
    pub inputs: Value,
    /// The outputs.
    pub outputs: Value,
    /// `{code, message}` when it failed.
    pub error: Option<Value>,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub ended: DateTime<Utc>,
    /// Attempts made (retries + 1; 0 when skipped).
    pub attempts: u32,
}

/// The record of a run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run's status.
    pub status: RunStatus,
    /// `{code, message}` of the failure or the `Terminate` error.
    pub error: Option<Value>,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub ended: DateTime<Utc>,
    /// The trigger's outputs.
    pub trigger: TriggerOutputs,
    /// The actions, in the order they finished.
    pub actions: Vec<ActionRecord>,
    /// The `Response`, if one ran.
    pub response: Option<FlowResponse>,
    /// The definition's `outputs`, evaluated.
    pub outputs: Map<String, Value>,
}

/// What a run needs from its host: connector operations, HTTP, parameters, time.
pub trait FlowEnvironment: Send + Sync {
    /// Calls `operation_id` of the connector behind `connection_name` with `inputs` (parameter names,
    /// `body`, flattened `body/x` keys). `Err` is a call that did not produce a response.
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
    ) -> BoxFuture<'a, Result<ActionResult, String>>;

    /// Sends an HTTP request for an `Http` action.
    fn http<'a>(
        &'a self,
        method: &'a str,
        uri: &'a str,
        headers: Map<String, Value>,
        body: Option<Value>,
    ) -> BoxFuture<'a, Result<ActionResult, String>>;

    /// Workflow parameter values (override the definition's defaults).
    fn parameters(&self) -> Map<String, Value> {
        Map::new()
    }

    /// The current time.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Waits (`Wait` actions, retry intervals). Tests cap it.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    /// The run's identifier (`workflow().run.name`).
    fn run_id(&self) -> String {
        format!("run-{}", Utc::now().timestamp_micros())
    }

    /// The flow's name (`workflow().name`).
    fn flow_name(&self) -> String {
        "flow".into()
    }

    /// The callback URL for `listCallbackUrl()`, when the run has one.
    fn callback_url(&self) -> Option<String> {
        None
    }
}

/// Sees each step of a run; a run store implements it to persist runs.
pub trait RunObserver: Send + Sync {
    /// An action finished (or was skipped).
    fn action_finished(&self, record: &ActionRecord);
    /// The run finished.
    fn run_finished(&self, record: &RunRecord) {
        let _ = record;
    }
}

/// An observer that keeps every action record in memory.
#[derive(Debug, Default)]
pub struct MemoryObserver {
    records: Mutex<Vec<ActionRecord>>,
}

impl MemoryObserver {
    /// The records seen so far.
    pub fn records(&self) -> Vec<ActionRecord> {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl RunObserver for MemoryObserver {
    fn action_finished(&self, record: &ActionRecord) {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(record.clone());
    }
}

struct NoObserver;

impl RunObserver for NoObserver {
    fn action_finished(&self, _record: &ActionRecord) {}
}

/// Runs `def` once for `trigger`.
pub async fn run_flow(def: &Definition, trigger: TriggerOutputs, env: &dyn FlowEnvironment) -> RunRecord {
    run_flow_observed(def, trigger, env, &NoObserver).await
}

/// Runs `def` once for `trigger`, reporting each step to `observer`.
pub async fn run_flow_observed(
    def: &Definition,
    trigger: TriggerOutputs,
    env: &dyn FlowEnvironment,
    observer: &dyn RunObserver,
) -> RunRecord {
    let record = exec::Run::new(def, trigger, env, observer).execute().await;
    observer.run_finished(&record);
    record
}
