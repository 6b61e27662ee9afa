//! patchbay flows: workflow definitions and an executor.
//!
//! * [`definition`] reads a workflow definition — the Logic Apps shape (`{"definition": {…}}`), a bare
//!   `{triggers, actions}` object, or a Power Automate export (`{"properties": {"definition": …,
//!   "connectionReferences": …}}`) — into a typed [`Definition`]. Every expression is parsed once, at
//!   load; anything the executor cannot honour (an unknown action or trigger type, an unknown `runAfter`
//!   status, a run-time property such as `runtimeConfiguration.secureData`) is rejected with a
//!   [`Diagnostic`] naming the action and, for expressions, the column. A definition is never half-run.
//! * [`run`] executes a definition once, in memory: [`run_flow`] evaluates the `runAfter` graph with
//!   Logic Apps semantics, calls connector operations and HTTP endpoints through a
//!   [`FlowEnvironment`] the caller implements (the CLI implements it with `patchbay-runtime`), and
//!   returns a [`RunRecord`]. A [`RunObserver`] sees each action's record as it finishes — the hook a
//!   durable run store will use; durability, resume after a restart and durable timers come later.
#![deny(missing_docs)]

pub mod definition;
pub mod run;

pub use definition::{
    Action, ActionKind, Block, Definition, Diagnostic, Json, LoadError, RetryPolicy, Trigger, TriggerKind,
};
pub use run::{
    ActionRecord, ActionResult, ActionStatus, BoxFuture, FlowEnvironment, FlowResponse, MemoryObserver,
    RunObserver, RunRecord, RunStatus, TriggerOutputs, run_flow, run_flow_observed,
};
