//! patchbay flows: workflow definitions and an executor.
//!
//! * [`definition`] reads a workflow definition — the Logic Apps shape (`{"definition": {…}}`), a bare
//!   `{triggers, actions}` object, or a Power Automate export (`{"properties": {"definition": …,
//!   "connectionReferences": …}}`) — into a typed [`Definition`]. Every expression is parsed once, at
//!   load; anything the executor cannot honour (an unknown action or trigger type, an unknown `runAfter`
//!   status, a run-time property such as `runtimeConfiguration.secureData`) is rejected with a
//!   [`Diagnostic`] naming the action and, for expressions, the column. A definition is never half-run.
//! * [`run`] executes a definition: [`run_flow`] evaluates the `runAfter` graph with Logic Apps
//!   semantics, calls connector operations and HTTP endpoints through a [`FlowEnvironment`] the
//!   caller implements (the CLI implements it with `patchbay-runtime`), and returns a [`RunRecord`].
//!   A [`RunObserver`] sees each action's record as it finishes; a host stores them as the run's
//!   journal. [`resume_flow`] is the durable entry point: it replays a [`RunJournal`] without
//!   executing finished external actions again, parks the run ([`RunOutcome::Parked`]) on a `202`
//!   ([`Invocation::Pending`]) or a long `Wait` instead of sleeping, gives each call a stable
//!   idempotency key, and honours [`FlowEnvironment::cancel_requested`].
#![deny(missing_docs)]

pub mod definition;
pub mod run;

pub use definition::{
    Action, ActionKind, Block, Definition, Diagnostic, Json, LoadError, RetryPolicy, Trigger, TriggerKind,
};
pub use run::{
    ActionRecord, ActionResult, ActionStatus, BoxFuture, FlowEnvironment, FlowResponse, Invocation,
    MemoryJournal, MemoryObserver, Pending, RunJournal, RunObserver, RunOutcome, RunRecord, RunStatus,
    TriggerOutputs, resume_flow, run_flow, run_flow_observed,
};
