//! Helpers shared by the process-level tests.

pub mod api;
pub mod node;
