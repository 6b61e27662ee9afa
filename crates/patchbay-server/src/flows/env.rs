//! The flow engine's host over the request pipeline: connector actions go through the runtime with
//! the flow's connections, `Http` actions through the same transport (SSRF guard, retries), both
//! with the idempotency headers of `docs/flows.md`. Used by the server's run worker (which parks
//! long-running calls) and by `patchbay flow run` (which waits for them in process).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use patchbay_engine::{ActionResult, BoxFuture, FlowEnvironment, Invocation};

use super::http_action;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::Pending;
use patchbay_runtime::{Call, Outcome, Runtime};
use serde_json::{Map, Value, json};

/// One connection a flow refers to, ready for the pipeline.
#[derive(Clone)]
pub struct FlowConnection {
    /// The connector, compiled.
    pub connector: Arc<CompiledConnector>,
    /// The connection's values, secrets and tokens.
    pub values: ConnectionValues,
    /// The gateway its calls go through, when it is bound to one.
    pub relay: Option<Arc<dyn patchbay_runtime::transport::Relay>>,
}

/// The host of one run.
pub struct PipelineEnv {
    runtime: Runtime,
    connections: Arc<HashMap<String, FlowConnection>>,
    run_id: String,
    flow_name: String,
    cancelled: Arc<AtomicBool>,
}

impl PipelineEnv {
    /// A host calling through `runtime` (its `wait_for_completion` decides whether a 202 parks the
    /// run or is polled in process) with `connections` by reference name.
    pub fn new(runtime: Runtime, connections: Arc<HashMap<String, FlowConnection>>) -> Self {
        PipelineEnv {
            runtime,
            connections,
            run_id: format!("run-{}", chrono::Utc::now().timestamp_micros()),
            flow_name: "flow".to_owned(),
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same host for the stored run `run_id` of the flow `flow_name`.
    pub fn for_run(mut self, run_id: &str, flow_name: &str) -> Self {
        self.run_id = run_id.to_owned();
        self.flow_name = flow_name.to_owned();
        self
    }

    /// The flag that cancels the run when set (checked before each action).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    /// The connection `name`, or why not.
    fn connection(&self, name: &str) -> Result<&FlowConnection, String> {
        self.connections.get(name).ok_or_else(|| format!("the flow has no connection named `{name}`"))
    }

    /// Runs a connector call and turns its outcome into the engine's terms.
    async fn call(
        &self,
        connection_name: &str,
        operation_id: &str,
        inputs: &Map<String, Value>,
        pending: Option<&Pending>,
        action_key: &str,
    ) -> Result<Invocation, String> {
        let connection = self.connection(connection_name)?;
        let call =
            Call { connector: &connection.connector, operation_id, connection: &connection.values, inputs };
        let bound = connection.relay.clone().map(|relay| self.runtime.through(relay));
        let runtime = bound.as_ref().unwrap_or(&self.runtime);
        let outcome = match pending {
            None => {
                let headers = idempotency_headers(action_key);
                runtime.invoke_with(call, headers).await.map(|invoked| invoked.outcome)
            }
            Some(pending) => runtime.resume_pending(call, pending).await,
        };
        match outcome.map_err(|error| error.to_string())? {
            Outcome::Done(response) => Ok(Invocation::Done(ActionResult {
                status_code: response.status.as_u16(),
                headers: header_map(&response.headers),
                body: response.body.to_value(),
            })),
            Outcome::Pending { pending, .. } => Ok(Invocation::Pending {
                // Only what is needed to ask again: the credentials are rebuilt from the connection.
                state: json!({
                    "actionKey": action_key,
                    "connection": connection_name,
                    "operationId": operation_id,
                    "inputs": inputs,
                    "location": pending.location.as_str(),
                }),
                wait: pending.wait(http_action::DEFAULT_WAIT),
            }),
        }
    }
}

/// Response headers as a JSON object.
pub(super) fn header_map(headers: &http::HeaderMap) -> Map<String, Value> {
    headers
        .iter()
        .map(|(name, value)| (name.to_string(), Value::String(value.to_str().unwrap_or_default().to_owned())))
        .collect()
}

/// The idempotency headers of an action: `x-ms-client-tracking-id` names the run (as Logic Apps
/// sends it) and `Idempotency-Key` the action and iteration, the same on every retry and replay.
fn idempotency_pairs(action_key: &str) -> [(&'static str, &str); 2] {
    let run_id = action_key.split('/').next().unwrap_or_default();
    [("x-ms-client-tracking-id", run_id), ("Idempotency-Key", action_key)]
}

/// The idempotency headers for a connector call.
fn idempotency_headers(action_key: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in idempotency_pairs(action_key) {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// An `Http` action's headers with the idempotency headers added, unless the action sets them.
fn with_idempotency(mut headers: Map<String, Value>, action_key: &str) -> Map<String, Value> {
    for (name, value) in idempotency_pairs(action_key) {
        if !headers.keys().any(|key| key.eq_ignore_ascii_case(name)) {
            headers.insert(name.to_owned(), Value::String(value.to_owned()));
        }
    }
    headers
}

impl FlowEnvironment for PipelineEnv {
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move { self.call(connection_name, operation_id, &inputs, None, action_key).await })
    }

    fn resume_call<'a>(&'a self, state: &'a Value) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            if http_action::is_pending_http(state) {
                return http_action::poll(&self.runtime.transport, state).await;
            }
            let text =
                |key: &str| state[key].as_str().ok_or_else(|| format!("the pending call has no `{key}`"));
            let location = url::Url::parse(text("location")?).map_err(|e| e.to_string())?;
            let inputs = state["inputs"].as_object().cloned().unwrap_or_default();
            let pending = Pending { location, retry_after: None };
            let key = state["actionKey"].as_str().unwrap_or_default();
            self.call(text("connection")?, text("operationId")?, &inputs, Some(&pending), key).await
        })
    }

    fn http<'a>(
        &'a self,
        method: &'a str,
        uri: &'a str,
        headers: Map<String, Value>,
        body: Option<Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        let headers = with_idempotency(headers, action_key);
        Box::pin(http_action::send(&self.runtime.transport, method, uri, headers, body))
    }

    fn cancel_requested(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn run_id(&self) -> String {
        self.run_id.clone()
    }

    fn flow_name(&self) -> String {
        self.flow_name.clone()
    }
}
