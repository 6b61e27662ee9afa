//! An `Http` action through the transport (SSRF guard, retries), with the asynchronous (202)
//! pattern of spec §6.1 as the runtime's long-running rules have it for connector calls: a `202`
//! with an http(s) `Location` is pending (the run parks, or waits under `patchbay flow run`), the
//! status URL is polled with GET until an answer other than 202, which is the action's result. The
//! wait is the `Retry-After`, 20 s without one; the action's headers, credentials included, go
//! only to status URLs on the request's origin.
//!
//! The pending state keeps the request's URL and headers (the same headers the action's stored
//! inputs hold) so that any node can make the next poll.

use std::time::Duration;

use patchbay_engine::{ActionResult, Invocation};
use patchbay_runtime::transport::{Pending, PollStep, Transport, classify_async, headers_for};
use patchbay_runtime::{WireRequest, WireResponse};
use serde_json::{Map, Value, json};
use url::Url;

/// The wait before a status poll when the server sends no `Retry-After` (spec default).
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(20);

/// The `kind` of an `Http` action's pending state.
const KIND: &str = "http";

/// Sends the action's request; a 202 with a status URL comes back pending.
pub(super) async fn send(
    transport: &Transport,
    method: &str,
    uri: &str,
    headers: Map<String, Value>,
    body: Option<Value>,
) -> Result<Invocation, String> {
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let url = Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL: {e}"))?;
    let mut request = WireRequest::new(method, url.clone());
    request.headers = header_values(&headers)?;
    if let Some(body) = body {
        let bytes = match body {
            Value::String(text) => text.into_bytes(),
            other => {
                request
                    .headers
                    .entry(http::header::CONTENT_TYPE)
                    .or_insert(http::HeaderValue::from_static("application/json"));
                other.to_string().into_bytes()
            }
        };
        request.body = bytes.into();
    }
    let response = transport.send(request).await.map_err(|e| e.to_string())?;
    Ok(match classify_async(&response, &url) {
        Some(pending) => pending_state(&pending, &url, headers),
        None => Invocation::Done(action_result(&response)),
    })
}

/// Whether `state` is a pending `Http` action's.
pub(super) fn is_pending_http(state: &Value) -> bool {
    state["kind"] == KIND
}

/// Polls a pending `Http` action's status URL once.
pub(super) async fn poll(transport: &Transport, state: &Value) -> Result<Invocation, String> {
    let url = |key: &str| {
        let text = state[key].as_str().ok_or_else(|| format!("the pending `Http` action has no `{key}`"))?;
        Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))
    };
    let (location, request) = (url("location")?, url("request")?);
    let headers = state["headers"].as_object().cloned().unwrap_or_default();
    let sent = headers_for(&location, &request, &header_values(&headers)?);
    let pending = Pending { location, retry_after: None };
    match transport.poll_once(&pending, sent).await.map_err(|e| e.to_string())? {
        PollStep::Pending(next) => Ok(pending_state(&next, &request, headers)),
        PollStep::Done(response) => Ok(Invocation::Done(action_result(&response))),
    }
}

/// The engine's pending call for a status URL of the request to `request` with `headers`.
fn pending_state(pending: &Pending, request: &Url, headers: Map<String, Value>) -> Invocation {
    Invocation::Pending {
        state: json!({
            "kind": KIND,
            "location": pending.location.as_str(),
            "request": request.as_str(),
            "headers": headers,
        }),
        wait: pending.wait(DEFAULT_WAIT),
    }
}

/// The action's headers for the wire (a value that is not a string is sent as its JSON text).
fn header_values(headers: &Map<String, Value>) -> Result<http::HeaderMap, String> {
    let mut out = http::HeaderMap::new();
    for (name, value) in headers {
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        out.insert(name, http::HeaderValue::from_str(&text).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// An answer as the action's result: its body decoded as JSON, or as text.
fn action_result(response: &WireResponse) -> ActionResult {
    let body = serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()));
    ActionResult {
        status_code: response.status.as_u16(),
        headers: super::env::header_map(&response.headers),
        body,
    }
}
