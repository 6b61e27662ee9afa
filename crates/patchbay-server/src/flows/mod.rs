//! Flows on the server: definitions stored with revisions, their triggers wired to the trigger
//! machinery, and durable runs executed by a worker on every node.
//!
//! A run's state lives in the store: its trigger outputs, a journal of every action's record, and a
//! lease while a worker executes it. A node that dies loses its runs to the others when their leases
//! expire; the engine replays the journal, so actions that finished are not executed again
//! ([`execute`]). A `Wait` or a long-running (202) connector or `Http` action parks the run: no task holds it
//! until its wake time, a stored row ([`worker`]).

pub mod definitions;
pub mod direct;
pub mod env;
pub mod execute;
mod http_action;
pub mod journal;
pub mod recurrence;
pub mod settings;
pub mod waiters;
pub mod wiring;
pub mod worker;
pub mod writer;

pub use settings::FlowSettings;
