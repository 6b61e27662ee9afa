//! Triggers: the polling scheduler, webhook subscriptions and the callback intake.
//!
//! Nothing here sleeps per trigger: the schedule (each polling trigger's next due time, its state
//! and a time-bound lease) lives in the store, and [`scheduler`] claims what is due in batches, so
//! several nodes on one PostgreSQL database share the work and a node that dies loses its leases to
//! the others. A poll's new state and the events it produced are stored in one transaction
//! ([`poll`]). Webhook triggers subscribe with a callback URL `{public}/hooks/{subscription}/{secret}`
//! ([`webhook`]); callbacks are grouped into one commit per batch and answered 202 only once stored
//! ([`intake`]).

pub mod intake;
pub mod poll;
pub mod scheduler;
pub mod settings;
pub mod webhook;

pub use intake::Intake;
pub use settings::TriggerSettings;
