//! The patchbay request pipeline, shared by apps (the invoke API) and flows: bind an operation's
//! inputs to an HTTP request, apply the connection's security and the connector's policy
//! templates, send it through one shared transport (retries, long-running 202 calls, paging), and
//! shape the response. The trigger protocol calls (poll once, subscribe, unsubscribe) use the same
//! pipeline ([`trigger`]).
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
pub mod trigger;
pub mod wire;

pub use pipeline::{Call, ExchangeRecord, InvokeError, Invoked, Outcome, Runtime, RuntimeOptions};
pub use trigger::{
    Fired, PollCall, PollState, Polled, SplitError, SubscribeCall, Subscribed, TriggerKind, UnsubscribeCall,
    dedup_key, default_split_on, next_poll_delay, split_items, unsubscribed,
};
pub use wire::{WireRequest, WireResponse};
