//! The patchbay request pipeline, shared by apps (the invoke API) and flows: bind an operation's
//! inputs to an HTTP request, apply the connection's security and the connector's policy
//! templates, send it through one shared transport (retries, long-running 202 calls, paging), and
//! shape the response.
#![deny(missing_docs)]

pub mod bind;
pub mod draft;
pub mod dynamic;
pub mod mask;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod response;
pub mod security;
pub mod transport;
pub mod wire;

pub use pipeline::{Call, ExchangeRecord, InvokeError, Invoked, Outcome, Runtime, RuntimeOptions};
pub use wire::{WireRequest, WireResponse};
