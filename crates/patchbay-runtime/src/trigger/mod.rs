//! Trigger protocol calls (spec §5): poll a polling trigger once, subscribe a webhook, unsubscribe
//! it. Scheduling, storage and the callback endpoint belong to the callers; these calls only speak
//! the protocol, through the same request pipeline as actions (binding, security, policies,
//! transport with its SSRF guard and retries).
//!
//! Choices made where the spec leaves room:
//!
//! * **A `Location` is followed, not mapped back.** When the state holds a `Location` (§5.2.2 way 1),
//!   the operation's request is still built as usual (inputs bound, security, request policies)
//!   and then sent as `GET <Location>` instead. Its headers (credentials, header parameters,
//!   `setheader` values) go with it only when the `Location` is on the origin of the request the
//!   operation would send; the connection's security is applied to the new URL once more there,
//!   so an API key carried in the query follows too. On any other origin the GET carries no
//!   header at all, as long-running status polls do. URL-shaping request policies do not rewrite
//!   a `Location` (it is already the backend's URL); response policies shape the answer. A
//!   `Location` is stored without query parameters whose value is a connection secret (an echoed
//!   API key): the state is kept in clear, and the key is added again on the backend's origin.
//! * **A trigger call never runs the long-running (202) or paging steps**: a 202 with a
//!   `Location` answering a poll or a subscription is trigger state or the subscription's URL,
//!   not an asynchronous job. `x-ms-triggerConfig-nextLink` is not followed either.
//! * **`pollingtrigger` takes a baseline** (§4.9): the first successful poll of a fresh state
//!   fires nothing and only computes the next query (so creating a trigger over a list API does
//!   not fire for its whole history); [`PollState::baselined`] records it. An empty item list or
//!   a 202 is "nothing new" and keeps the query; computed values are merged over the previous
//!   ones (a value that evaluates to nothing keeps the old one).
//! * **A refused subscription is an answer, not an error**: [`Runtime::subscribe`](crate::Runtime::subscribe)
//!   returns the status and body of a non-2xx answer in [`Subscribed`] (see
//!   [`Subscribed::succeeded`]); only failures to build or send the request are errors.
//! * **Unsubscribing reports the status**: 2xx, 404 and 410 all mean the subscription is gone
//!   ([`unsubscribed`]).

mod poll;
mod schedule;
mod split;
mod state;
mod webhook;

pub use patchbay_spec::model::TriggerKind;
pub use poll::{Fired, PollCall, Polled};
pub use schedule::{DEFAULT_MINIMUM_DELAY, next_poll_delay};
pub use split::{SplitError, dedup_key, default_split_on, split_items};
pub use state::PollState;
pub use webhook::{SubscribeCall, Subscribed, UnsubscribeCall, unsubscribed};

use crate::bind::Inputs;
use crate::pipeline::InvokeError;
use crate::plan::{CompiledConnector, OperationPlan};
use http::HeaderMap;
use patchbay_spec::model::{Location, OperationKind};
use serde_json::{Map, Value};

impl CompiledConnector {
    /// Whether an operation is a polling or a webhook trigger; `None` for an action (no
    /// `x-ms-trigger`) or an unknown operation.
    pub fn trigger_kind(&self, operation_id: &str) -> Option<TriggerKind> {
        let (item, operation) = self.connector.operation(operation_id)?;
        match operation.kind(item, &self.connector.definitions) {
            OperationKind::Trigger { kind, .. } => Some(kind),
            OperationKind::Action => None,
        }
    }
}

/// Refuses an operation that is not a trigger of `wanted` kind, saying what it is instead.
fn require_kind(
    connector: &CompiledConnector,
    operation_id: &str,
    wanted: TriggerKind,
) -> Result<(), InvokeError> {
    if connector.operation(operation_id).is_none() {
        return Err(InvokeError::UnknownOperation(operation_id.to_string()));
    }
    let (wanted_text, other) = match wanted {
        TriggerKind::Polling => ("a polling trigger", "a webhook trigger (subscribe to it instead)"),
        TriggerKind::Webhook => {
            ("a webhook trigger", "a polling trigger (it has no `x-ms-notification-url` property)")
        }
    };
    let reason = match connector.trigger_kind(operation_id) {
        Some(kind) if kind == wanted => return Ok(()),
        Some(_) => format!("is not {wanted_text}: it is {other}"),
        None => format!("is not {wanted_text}: it is an action (it has no `x-ms-trigger`)"),
    };
    Err(InvokeError::NotATrigger { operation: operation_id.to_string(), reason })
}

/// The inputs with query values from trigger state or a URL put on the operation's declared
/// query parameters (so a required one is not reported missing).
fn with_query_inputs(plan: &OperationPlan, inputs: &Inputs, pairs: &[(String, String)]) -> Inputs {
    let mut out = inputs.clone();
    for (name, value) in pairs {
        if plan.parameters.iter().any(|p| p.location == Location::Query && p.name == *name) {
            out.insert(name.clone(), Value::String(value.clone()));
        }
    }
    out
}

/// Replaces the query parameters named in `pairs` (every value of each) with the given values.
fn override_query(query: &mut Vec<(String, String)>, pairs: &[(String, String)]) {
    query.retain(|(name, _)| !pairs.iter().any(|(n, _)| n == name));
    query.extend(pairs.iter().cloned());
}

/// Response headers as a JSON object; repeated headers joined with `, `, non-text values left out.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let texts: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if !texts.is_empty() {
            out.insert(name.as_str().to_string(), Value::String(texts.join(", ")));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn overriding_replaces_every_value_of_a_name_and_keeps_the_rest() {
        let mut query = pairs(&[("a", "1"), ("since", "old"), ("since", "older"), ("b", "2")]);
        override_query(&mut query, &pairs(&[("since", "new"), ("extra", "x")]));
        assert_eq!(query, pairs(&[("a", "1"), ("b", "2"), ("since", "new"), ("extra", "x")]));
    }

    #[test]
    fn repeated_headers_are_joined() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", "1".parse().unwrap());
        headers.append("x-a", "2".parse().unwrap());
        headers.insert("location", "http://h/x".parse().unwrap());
        assert_eq!(headers_json(&headers), serde_json::json!({"x-a": "1, 2", "location": "http://h/x"}));
    }
}
