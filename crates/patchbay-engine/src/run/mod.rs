//! The executor: one run of a [`Definition`], in memory or durably.
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
//! * `Foreach` iterations share variables; inner action results are per iteration, and an
//!   iteration's index is the item's position (stable whatever the concurrency).
//! * Retries: an explicit `retryPolicy` on `Http`/`OpenApiConnection` is applied here (408, 429, 5xx
//!   and errors are retried, with deterministic exponential waits). Without one, the environment's
//!   own transport policy applies. Retry intervals are in-process sleeps ([`FlowEnvironment::sleep`]):
//!   they are bounded (seconds to minutes), and a crash during one only repeats the call, under the
//!   same idempotency key.
//!
//! ## Durability ([`resume_flow`])
//!
//! A [`RunObserver`] receives each action's record as it finishes; the host stores them as the run's
//! journal. After a crash, or when a parked run's wake time has come, the host calls [`resume_flow`]
//! again with the same definition, trigger outputs and the stored journal ([`RunJournal`]); the
//! engine *replays*:
//!
//! * An action with an external effect (`OpenApiConnection`, `Http`, `Response`, `Wait`) whose
//!   journal record is final is not executed again: the record is used as is, and the observer is
//!   not told again. The stateless data actions (`Compose`, `ParseJson`, `Query`, `Select`, `Join`)
//!   are treated the same way, so a value computed with `utcNow()`, `guid()` or `rand()` is the one
//!   every later action saw in the first pass.
//! * Actions that change run state (the variable actions, `Terminate`) and the containers (`If`,
//!   `Switch`, `Scope`, `Foreach`, `Until`) run again, so variables and loop state are rebuilt the
//!   same way; their children consult the journal. When a recomputed record equals the journal's
//!   (status, inputs, outputs, error), the stored one is kept and not reported again; otherwise the
//!   new record is reported and replaces the old one. A variable action or an `If`/`Switch`/`Until`
//!   condition that calls `utcNow()` (or `guid()`, `rand()`) itself gets a new value on replay.
//!   That is acceptable: actions that already used the old value are replayed from the journal, so
//!   no call is repeated; only actions that had not run see the new value, as if the run had reached
//!   them later. Where a value must not change, compute it in a `Compose` (stored) and use its
//!   outputs.
//! * **Parking.** A connector or `Http` call answered `202` ([`Invocation::Pending`]) or a `Wait` longer than
//!   [`FlowEnvironment::park_threshold`] records the action as `Waiting` with its
//!   [`Pending`] state and wake time. A parked action holds its branch (what runs after it) and its
//!   `Foreach` slot; branches that do not depend on it go on until they finish or park, and then
//!   the run returns [`RunOutcome::Parked`] with the earliest wake. Resumed at or after that time,
//!   the engine continues the call ([`FlowEnvironment::resume_call`]) or ends the wait; before it,
//!   it parks again with the same wake. An action's `limit.timeout` counts from its first start
//!   (the stored one), so the wake is never later than its deadline; a container's own timeout
//!   counts from the pass that runs it.
//! * **Idempotency keys.** Each call receives `<run id>/<action>[/<iteration indexes joined by .>]`,
//!   the same across retries and replays.
//! * **Cancellation.** [`FlowEnvironment::cancel_requested`] is checked before each action starts:
//!   once true, that action and the others whose turn comes are recorded `Cancelled` and not run,
//!   `Foreach` iterations not begun do not start, running actions finish, `Waiting` actions are
//!   recorded `Cancelled` (without waking), and the run ends `Cancelled`.
//!
//! [`run_flow`] runs without a host to wake it: `Wait` sleeps and `202` answers are polled inline.

mod exec;
mod journal;
mod scope;
mod steps;

pub use journal::{MemoryJournal, RunJournal};

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
    /// Not run, or stopped waiting, because the run was cancelled.
    Cancelled,
    /// Parked: a call answered `202` or a long `Wait`; [`ActionRecord::pending`] says how to go on.
    Waiting,
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
            Self::Cancelled => "Cancelled",
            Self::Waiting => "Waiting",
        }
    }

    /// Every status but `Waiting`: the action will not change any more.
    pub fn is_final(self) -> bool {
        self != Self::Waiting
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

/// How a parked action goes on: the host's opaque state and when to wake the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// What the host needs to continue (e.g. the status URL), or `{"until": …}` for a `Wait`.
    pub state: Value,
    /// When the run should be resumed.
    pub wake: DateTime<Utc>,
}

/// What a connector call produced: a final answer, or a `202` the host did not wait for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The final answer.
    Done(ActionResult),
    /// Still running: call [`FlowEnvironment::resume_call`] with `state` after `wait`.
    Pending {
        /// What the host needs to continue (e.g. `Location` and headers); opaque to the engine.
        state: Value,
        /// How long to wait before continuing (`Retry-After`).
        wait: Duration,
    },
}

/// How one call to [`resume_flow`] ended.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per call, moved once: boxing would only cost the host a deref
pub enum RunOutcome {
    /// The run finished.
    Finished(RunRecord),
    /// The run is parked: resume it at `wake` (the earliest wake of its `Waiting` actions).
    Parked {
        /// When to resume.
        wake: DateTime<Utc>,
    },
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
    /// How a `Waiting` action goes on (`None` for every other status).
    pub pending: Option<Pending>,
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
    /// `body`, flattened `body/x` keys); `action_key` is the call's idempotency key (see
    /// [`resume_flow`]). `Err` is a call that did not produce a response.
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>>;

    /// Continues a call that answered [`Invocation::Pending`] with this `state` (e.g. polls the
    /// status URL once). The default refuses: hosts that return `Pending` implement it.
    fn resume_call<'a>(&'a self, state: &'a Value) -> BoxFuture<'a, Result<Invocation, String>> {
        let _ = state;
        Box::pin(async { Err("this host cannot continue a pending call".to_string()) })
    }

    /// Sends an HTTP request for an `Http` action; `action_key` is its idempotency key. A host that
    /// follows the asynchronous pattern answers a `202` with a status URL [`Invocation::Pending`]
    /// and continues it in [`FlowEnvironment::resume_call`], as for connector calls.
    fn http<'a>(
        &'a self,
        method: &'a str,
        uri: &'a str,
        headers: Map<String, Value>,
        body: Option<Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>>;

    /// Workflow parameter values (override the definition's defaults).
    fn parameters(&self) -> Map<String, Value> {
        Map::new()
    }

    /// The current time.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Waits in process (retry intervals, short `Wait`s, and every wait under [`run_flow`]).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }

    /// `Wait` actions longer than this park the run under [`resume_flow`]; shorter ones sleep.
    fn park_threshold(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Whether the run was cancelled; checked before each action starts.
    fn cancel_requested(&self) -> bool {
        false
    }

    /// The run's identifier (`workflow().run.name`); a durable host returns the same one on resume.
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

/// Runs `def` once for `trigger`, in process (waits and `202` polls inline).
pub async fn run_flow(def: &Definition, trigger: TriggerOutputs, env: &dyn FlowEnvironment) -> RunRecord {
    run_flow_observed(def, trigger, env, &journal::NoObserver).await
}

/// Runs `def` once for `trigger`, in process, reporting each step to `observer`.
pub async fn run_flow_observed(
    def: &Definition,
    trigger: TriggerOutputs,
    env: &dyn FlowEnvironment,
    observer: &dyn RunObserver,
) -> RunRecord {
    let identity = exec::Identity { run_id: env.run_id(), started: env.now(), parking: false };
    let journal = MemoryJournal::default();
    loop {
        let both = journal::Both(observer, &journal);
        match exec::Run::new(def, trigger.clone(), env, &both, &journal, identity.clone()).execute().await {
            RunOutcome::Finished(record) => {
                observer.run_finished(&record);
                return record;
            }
            // Not reached in process (waits happen inline); kept correct all the same.
            RunOutcome::Parked { wake } => env.sleep((wake - env.now()).to_std().unwrap_or_default()).await,
        }
    }
}

/// Runs or resumes `def` for `trigger`, replaying `journal` (the records the observer stored so far):
/// finished external actions are not executed again. Returns the finished run, or `Parked` with the
/// time to call again (see the module docs).
pub async fn resume_flow(
    def: &Definition,
    trigger: TriggerOutputs,
    env: &dyn FlowEnvironment,
    observer: &dyn RunObserver,
    journal: &dyn RunJournal,
) -> RunOutcome {
    let identity = exec::Identity {
        run_id: env.run_id(),
        started: journal.run_started().unwrap_or_else(|| env.now()),
        parking: true,
    };
    let this_pass = MemoryJournal::default();
    let mut replayed_for_cancel = false;
    loop {
        let both = journal::Both(observer, &this_pass);
        let layered = journal::Layered(&this_pass, journal);
        let outcome =
            exec::Run::new(def, trigger.clone(), env, &both, &layered, identity.clone()).execute().await;
        match outcome {
            RunOutcome::Finished(record) => {
                observer.run_finished(&record);
                return RunOutcome::Finished(record);
            }
            // Cancelled while some action parked: one more pass records the waiting ones `Cancelled`.
            RunOutcome::Parked { .. } if !replayed_for_cancel && env.cancel_requested() => {
                replayed_for_cancel = true;
            }
            parked => return parked,
        }
    }
}
