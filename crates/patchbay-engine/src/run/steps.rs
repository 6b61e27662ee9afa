//! The non-container actions.
//!
//! Step functions return `Result<StepResult, StepResult>`: both sides are the action's result, the
//! `Err` side only makes `?` end the step early, so its size is not a concern.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use patchbay_expr::to_text;
use serde_json::{Value, json};

use super::exec::{Frame, Run, later, lock, truthy};
use super::scope::EvalScope;
use super::{
    ActionRecord, ActionResult, ActionStatus, BoxFuture, FlowResponse, Invocation, Pending, RunStatus,
};
use crate::definition::{Action, ActionKind, Json, RetryPolicy};

/// What an action produced.
pub struct StepResult {
    pub status: ActionStatus,
    pub inputs: Value,
    pub outputs: Value,
    pub error: Option<Value>,
    pub attempts: u32,
    /// Set when the action parks (status `Waiting`).
    pub pending: Option<Pending>,
}

impl StepResult {
    fn ok(inputs: Value, outputs: Value) -> Self {
        StepResult {
            status: ActionStatus::Succeeded,
            inputs,
            outputs,
            error: None,
            attempts: 1,
            pending: None,
        }
    }

    fn failed(inputs: Value, code: &str, message: impl Into<String>) -> Self {
        let error = Some(json!({"code": code, "message": message.into()}));
        StepResult { status: ActionStatus::Failed, error, ..Self::ok(inputs, Value::Null) }
    }

    /// An expression that could not be evaluated.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::failed(Value::Null, "InvalidTemplate", message)
    }

    /// A container's result from its block's status (`Waiting`: a child parked, nothing to record).
    pub fn container(status: ActionStatus) -> Self {
        match status {
            ActionStatus::Waiting => StepResult { status, ..Self::ok(Value::Null, Value::Null) },
            ActionStatus::Cancelled => Self::cancelled(Value::Null),
            s if s.is_failure() => Self::failed(Value::Null, "ActionFailed", "an action inside failed"),
            _ => Self::ok(Value::Null, Value::Null),
        }
    }

    /// The `runAfter` condition was not met.
    pub fn skipped() -> Self {
        let failed = Self::failed(Value::Null, "ActionSkipped", "the runAfter condition was not met");
        StepResult { status: ActionStatus::Skipped, attempts: 0, ..failed }
    }

    /// The run was cancelled before the action started, or while it waited.
    pub fn cancelled(inputs: Value) -> Self {
        let failed = Self::failed(inputs, "Cancelled", "the run was cancelled");
        StepResult { status: ActionStatus::Cancelled, attempts: 0, ..failed }
    }

    /// The action parks until `wake`; `state` tells how to go on.
    fn waiting(inputs: Value, state: Value, wake: DateTime<Utc>, attempts: u32) -> Self {
        StepResult {
            status: ActionStatus::Waiting,
            attempts,
            pending: Some(Pending { state, wake }),
            ..Self::ok(inputs, Value::Null)
        }
    }

    /// The action exceeded `limit.timeout`.
    pub fn timed_out(limit: Duration) -> Self {
        let message = format!("the action did not finish within {}s", limit.as_secs_f64());
        StepResult { status: ActionStatus::TimedOut, ..Self::failed(Value::Null, "ActionTimedOut", message) }
    }
}

/// One simple action being run.
pub struct Step<'s> {
    pub run: &'s Run<'s>,
    pub action: &'s Action,
    pub frame: &'s Arc<Frame>,
}

impl<'s> Step<'s> {
    fn scope(&self) -> EvalScope<'_> {
        EvalScope { run: self.run, frame: self.frame, item: None }
    }

    fn inputs(&self) -> Result<Value, StepResult> {
        match &self.action.inputs {
            None => Ok(Value::Null),
            Some(json) => json.evaluate(&self.scope()).map_err(|e| StepResult::invalid(e.to_string())),
        }
    }

    /// The idempotency key: `<run id>/<action>[/<iteration indexes joined by .>]`.
    fn key(&self) -> String {
        let iteration = self.frame.iteration();
        let mut key = format!("{}/{}", self.run.run_id, self.action.name);
        if !iteration.is_empty() {
            let indexes: Vec<String> = iteration.iter().map(ToString::to_string).collect();
            key = format!("{key}/{}", indexes.join("."));
        }
        key
    }

    /// Goes on with a parked action from its `Waiting` record: parks again with the same wake before
    /// it, otherwise ends the wait or continues the call.
    pub fn resume(self, record: ActionRecord) -> BoxFuture<'s, StepResult> {
        Box::pin(async move {
            let Some(pending) = record.pending else { return self.execute().await };
            let inputs = record.inputs;
            if self.run.env.now() < pending.wake {
                return StepResult::waiting(inputs, pending.state, pending.wake, record.attempts);
            }
            let resume = Some((pending.state, record.attempts));
            match &self.action.kind {
                ActionKind::Wait => StepResult::ok(inputs, Value::Null),
                ActionKind::Http => self.http(inputs, resume).await,
                ActionKind::OpenApiConnection { connection, operation_id } => {
                    self.connector(connection, operation_id, inputs, resume).await
                }
                _ => self.execute().await,
            }
        })
    }

    pub async fn execute(self) -> StepResult {
        let inputs = match self.action.kind {
            // Per-item templates are evaluated item by item.
            ActionKind::Select | ActionKind::Query => Value::Null,
            _ => match self.inputs() {
                Ok(v) => v,
                Err(e) => return e,
            },
        };
        let result = match &self.action.kind {
            ActionKind::Compose => Ok(StepResult::ok(inputs.clone(), inputs)),
            ActionKind::InitializeVariable => self.initialize(inputs),
            ActionKind::SetVariable
            | ActionKind::IncrementVariable
            | ActionKind::DecrementVariable
            | ActionKind::AppendToArrayVariable
            | ActionKind::AppendToStringVariable => self.variable(inputs),
            ActionKind::Terminate => self.terminate(inputs),
            ActionKind::Response => self.respond(inputs),
            ActionKind::Wait => self.wait(inputs).await,
            ActionKind::ParseJson => parse_json(inputs),
            ActionKind::Select | ActionKind::Query => self.select_or_query(),
            ActionKind::Join => join(inputs),
            ActionKind::Http => Ok(self.http(inputs, None).await),
            ActionKind::OpenApiConnection { connection, operation_id } => {
                Ok(self.connector(connection, operation_id, inputs, None).await)
            }
            _ => Err(StepResult::invalid("not a simple action")),
        };
        result.unwrap_or_else(|e| e)
    }

    fn initialize(&self, inputs: Value) -> Result<StepResult, StepResult> {
        let fail = |m: String| StepResult::failed(inputs.clone(), "InvalidVariable", m);
        let list = inputs
            .get("variables")
            .and_then(Value::as_array)
            .ok_or_else(|| fail("`inputs.variables` is missing".into()))?;
        let mut state = lock(&self.run.state);
        for v in list {
            let name =
                v.get("name").and_then(Value::as_str).ok_or_else(|| fail("a variable has no name".into()))?;
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("string").to_ascii_lowercase();
            let value = v.get("value").cloned().unwrap_or_else(|| default_of(&kind));
            if !type_matches(&kind, &value) {
                return Err(fail(format!("the value of '{name}' is not of type {kind}")));
            }
            if state.variables.contains_key(name) {
                return Err(fail(format!("the variable '{name}' is already initialized")));
            }
            state.variables.insert(name.to_string(), value);
        }
        drop(state);
        Ok(StepResult::ok(inputs, Value::Null))
    }

    fn variable(&self, inputs: Value) -> Result<StepResult, StepResult> {
        let fail = |m: String| StepResult::failed(inputs.clone(), "InvalidVariable", m);
        let name = inputs
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("`inputs.name` is missing".into()))?
            .to_string();
        let name = name.as_str();
        let value = inputs.get("value").cloned();
        let mut state = lock(&self.run.state);
        let current = state
            .variables
            .get_mut(name)
            .ok_or_else(|| fail(format!("the variable '{name}' is not initialized")))?;
        let updated = match (&self.action.kind, current.clone()) {
            (ActionKind::SetVariable, old) => {
                let value = value.unwrap_or(Value::Null);
                let same = std::mem::discriminant(&old) == std::mem::discriminant(&value) || old.is_null();
                same.then_some(value)
                    .ok_or_else(|| fail(format!("the new value of '{name}' has another type")))?
            }
            (ActionKind::IncrementVariable | ActionKind::DecrementVariable, Value::Number(n)) => {
                let by = value.unwrap_or(json!(1));
                let sign = if matches!(self.action.kind, ActionKind::DecrementVariable) { -1 } else { 1 };
                add(&n, &by, sign).ok_or_else(|| fail(format!("cannot change '{name}' by {by}")))?
            }
            (ActionKind::AppendToArrayVariable, Value::Array(mut items)) => {
                items.push(value.unwrap_or(Value::Null));
                Value::Array(items)
            }
            (ActionKind::AppendToStringVariable, Value::String(mut text)) => {
                text.push_str(&to_text(&value.unwrap_or(Value::Null)));
                Value::String(text)
            }
            _ => {
                return Err(fail(format!(
                    "the variable '{name}' has the wrong type for {}",
                    self.action.type_name
                )));
            }
        };
        *current = updated.clone();
        drop(state);
        Ok(StepResult::ok(inputs, json!({"body": {"name": name, "value": updated}})))
    }

    fn terminate(&self, inputs: Value) -> Result<StepResult, StepResult> {
        let status = match inputs.get("runStatus").and_then(Value::as_str).unwrap_or("Succeeded") {
            s if s.eq_ignore_ascii_case("Succeeded") => RunStatus::Succeeded,
            s if s.eq_ignore_ascii_case("Failed") => RunStatus::Failed,
            s if s.eq_ignore_ascii_case("Cancelled") => RunStatus::Cancelled,
            other => {
                return Err(StepResult::failed(
                    inputs.clone(),
                    "InvalidRunStatus",
                    format!("unknown runStatus `{other}`"),
                ));
            }
        };
        let error = inputs.get("runError").cloned().filter(|_| status != RunStatus::Succeeded);
        let mut state = lock(&self.run.state);
        state.terminated.get_or_insert((status, error));
        drop(state);
        Ok(StepResult::ok(inputs, Value::Null))
    }

    fn respond(&self, inputs: Value) -> Result<StepResult, StepResult> {
        let response =
            response_of(&inputs).map_err(|m| StepResult::failed(inputs.clone(), "InvalidResponse", m))?;
        let mut state = lock(&self.run.state);
        if state.response.is_some() {
            return Err(StepResult::failed(
                inputs.clone(),
                "ResponseAlreadySent",
                "the run already responded",
            ));
        }
        state.response = Some(response);
        drop(state);
        Ok(StepResult::ok(inputs, Value::Null))
    }

    async fn wait(&self, inputs: Value) -> Result<StepResult, StepResult> {
        let duration = if let Some(interval) = inputs.get("interval") {
            let count = interval
                .get("count")
                .and_then(|c| c.as_f64().or_else(|| to_text(c).parse().ok()))
                .unwrap_or(0.0);
            let unit = match interval
                .get("unit")
                .and_then(Value::as_str)
                .unwrap_or("Second")
                .to_ascii_lowercase()
                .as_str()
            {
                "second" => 1.0,
                "minute" => 60.0,
                "hour" => 3600.0,
                "day" => 86400.0,
                "week" => 604_800.0,
                "month" => 2_592_000.0,
                other => {
                    return Err(StepResult::failed(
                        inputs.clone(),
                        "InvalidWait",
                        format!("unknown unit `{other}`"),
                    ));
                }
            };
            Duration::try_from_secs_f64(count * unit).unwrap_or_default()
        } else if let Some(at) = inputs.pointer("/until/timestamp").and_then(Value::as_str) {
            let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|e| {
                StepResult::failed(inputs.clone(), "InvalidWait", format!("bad timestamp: {e}"))
            })?;
            (at.with_timezone(&Utc) - self.run.env.now()).to_std().unwrap_or_default()
        } else {
            return Err(StepResult::failed(
                inputs,
                "InvalidWait",
                "`interval` or `until.timestamp` is required",
            ));
        };
        let env = self.run.env;
        if self.run.parking && duration > env.park_threshold() {
            let until = later(env.now(), duration);
            let state = json!({"until": until.to_rfc3339_opts(SecondsFormat::Millis, true)});
            return Ok(StepResult::waiting(inputs, state, until, 1));
        }
        env.sleep(duration).await;
        Ok(StepResult::ok(inputs, Value::Null))
    }

    fn select_or_query(&self) -> Result<StepResult, StepResult> {
        let inputs = self.action.inputs.as_ref();
        let get = |key: &str| inputs.and_then(|i| i.get(key));
        let from = match get("from").map(|j| j.evaluate(&self.scope())) {
            Some(Ok(Value::Array(items))) => items,
            Some(Ok(other)) => {
                return Err(StepResult::invalid(format!("`from` must be an array, not {other}")));
            }
            Some(Err(e)) => return Err(StepResult::invalid(e.to_string())),
            None => return Err(StepResult::invalid("`from` is missing")),
        };
        let is_select = matches!(self.action.kind, ActionKind::Select);
        let per_item =
            get(if is_select { "select" } else { "where" }).unwrap_or(Json::Value(Value::Bool(true)));
        let mut out = Vec::new();
        for item in &from {
            let scope = EvalScope { run: self.run, frame: self.frame, item: Some(item) };
            let value = per_item.evaluate(&scope).map_err(|e| StepResult::invalid(e.to_string()))?;
            if is_select {
                out.push(value);
            } else if truthy(&value) {
                out.push(item.clone());
            }
        }
        Ok(StepResult::ok(json!({"from": from}), json!({"body": out})))
    }

    /// An `Http` action, or the continuation of one (`resume`: the pending state and attempts so far).
    async fn http(&self, inputs: Value, resume: Option<(Value, u32)>) -> StepResult {
        let method = inputs.get("method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase();
        let Some(mut uri) = inputs.get("uri").and_then(Value::as_str).map(str::to_string) else {
            return StepResult::failed(inputs, "InvalidHttp", "`uri` is missing");
        };
        let queries = inputs.get("queries").and_then(Value::as_object).cloned().unwrap_or_default();
        for (i, (k, v)) in queries.iter().enumerate() {
            let sep = if i == 0 && !uri.contains('?') { '?' } else { '&' };
            uri.push_str(&format!("{sep}{}={}", encode(k), encode(&to_text(v))));
        }
        let headers = inputs.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
        let body = inputs.get("body").cloned();
        let env = self.run.env;
        let key = self.key();
        let call = || env.http(&method, &uri, headers.clone(), body.clone(), &key);
        self.with_retry(inputs.clone(), resume, call).await
    }

    /// An `OpenApiConnection` action, or the continuation of one.
    async fn connector(
        &self,
        connection: &str,
        operation: &str,
        inputs: Value,
        resume: Option<(Value, u32)>,
    ) -> StepResult {
        let parameters = inputs.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
        let env = self.run.env;
        let key = self.key();
        let call = || env.invoke(connection, operation, parameters.clone(), &key);
        self.with_retry(inputs.clone(), resume, call).await
    }

    /// Calls (or, with `resume`, continues a pending call) until a final answer that is not
    /// retryable or the end of the policy. A `202` parks the action (durable runs) or is waited for.
    /// A failed status poll is polled again; a retryable final answer calls the operation again.
    async fn with_retry<'a, F>(&self, inputs: Value, resume: Option<(Value, u32)>, call: F) -> StepResult
    where
        F: Fn() -> BoxFuture<'a, Result<Invocation, String>>,
    {
        let env = self.run.env;
        let policy = self.action.retry.clone().unwrap_or(RetryPolicy::None);
        let (mut attempts, mut poll) = match resume {
            Some((state, attempts)) => (attempts.max(1), Some(state)),
            None => (1, None),
        };
        loop {
            let outcome = match &poll {
                Some(state) => env.resume_call(state).await,
                None => call().await,
            };
            let answer = match outcome {
                Ok(Invocation::Pending { state, wait }) if self.run.parking => {
                    return StepResult::waiting(inputs, state, later(env.now(), wait), attempts);
                }
                Ok(Invocation::Pending { state, wait }) => {
                    env.sleep(wait).await;
                    poll = Some(state);
                    continue;
                }
                Ok(Invocation::Done(r)) => Ok(r),
                Err(e) => Err(e),
            };
            let retryable = match &answer {
                Err(_) => true,
                Ok(r) => matches!(r.status_code, 408 | 429 | 500..=599),
            };
            if retryable && let Some(wait) = policy.delay(attempts) {
                env.sleep(wait).await;
                attempts += 1;
                if answer.is_ok() {
                    poll = None;
                }
                continue;
            }
            let mut result = match answer {
                Err(e) => StepResult::failed(inputs, "ConnectionFailed", e),
                Ok(r) => http_result(inputs, r),
            };
            result.attempts = attempts;
            return result;
        }
    }
}

/// The `Response` an action's evaluated inputs describe.
pub fn response_of(inputs: &Value) -> Result<FlowResponse, String> {
    let status_code = match inputs.get("statusCode").map(|v| v.as_u64().or_else(|| to_text(v).parse().ok())) {
        None => Some(200),
        Some(code) => code.filter(|c| (100..=599).contains(c)),
    };
    let Some(status_code) = status_code.and_then(|c| u16::try_from(c).ok()) else {
        return Err("`statusCode` must be 100–599".into());
    };
    let headers = inputs.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
    let body = inputs.get("body").cloned().unwrap_or(Value::Null);
    Ok(FlowResponse { status_code, headers, body })
}

fn http_result(inputs: Value, r: ActionResult) -> StepResult {
    let message = format!("the call answered {}: {}", r.status_code, excerpt(&r.body));
    let outputs = json!({"statusCode": r.status_code, "headers": r.headers, "body": r.body});
    let mut result = StepResult::ok(inputs, outputs);
    if r.status_code >= 400 {
        result.status = ActionStatus::Failed;
        result.error = Some(json!({"code": r.status_code.to_string(), "message": message}));
    }
    result
}

pub fn excerpt(v: &Value) -> String {
    let text = to_text(v);
    if text.chars().count() > 300 { text.chars().take(300).collect::<String>() + "…" } else { text }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn parse_json(inputs: Value) -> Result<StepResult, StepResult> {
    let content = inputs.get("content").cloned().unwrap_or(Value::Null);
    let parsed = match &content {
        Value::String(text) => serde_json::from_str(text).map_err(|e| {
            StepResult::failed(inputs.clone(), "InvalidJSON", format!("the content is not JSON: {e}"))
        })?,
        other => other.clone(),
    };
    if let Some(schema) = inputs.get("schema") {
        if let Some(kind) = schema.get("type").and_then(Value::as_str)
            && !type_matches(kind, &parsed)
        {
            return Err(StepResult::failed(
                inputs.clone(),
                "InvalidJSON",
                format!("the content is not of type {kind}"),
            ));
        }
        for key in
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            if parsed.get(key).is_none() {
                return Err(StepResult::failed(
                    inputs.clone(),
                    "InvalidJSON",
                    format!("required property '{key}' is missing"),
                ));
            }
        }
    }
    Ok(StepResult::ok(inputs, json!({"body": parsed})))
}

fn join(inputs: Value) -> Result<StepResult, StepResult> {
    let Some(items) = inputs.get("from").and_then(Value::as_array) else {
        return Err(StepResult::failed(inputs, "InvalidJoin", "`from` must be an array"));
    };
    let separator = inputs.get("joinWith").map(to_text).unwrap_or_default();
    let text = items.iter().map(to_text).collect::<Vec<_>>().join(&separator);
    Ok(StepResult::ok(inputs.clone(), json!({"body": text})))
}

fn default_of(kind: &str) -> Value {
    match kind {
        "array" => json!([]),
        "object" => json!({}),
        "integer" | "float" => json!(0),
        "boolean" => json!(false),
        _ => json!(""),
    }
}

fn type_matches(kind: &str, value: &Value) -> bool {
    match kind.to_ascii_lowercase().as_str() {
        "integer" => value.is_i64() || value.is_u64(),
        "float" | "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn add(n: &serde_json::Number, by: &Value, sign: i64) -> Option<Value> {
    if let (Some(a), Some(b)) = (n.as_i64(), by.as_i64()) {
        return a.checked_add(b.checked_mul(sign)?).map(Value::from);
    }
    let b = by.as_f64()?;
    serde_json::Number::from_f64(n.as_f64()? + b * sign as f64).map(Value::Number)
}
