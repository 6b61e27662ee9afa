//! Parsing actions: types, common properties, nested blocks and the `runAfter` graph checks.

use std::collections::HashMap;

use patchbay_expr::Template;
use serde_json::{Map, Value};

use super::{Action, Block, Diagnostic, Json, RetryPolicy, condition, duration};
use crate::run::ActionStatus;

/// One case of a `Switch`.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name (its key in `cases`).
    pub name: String,
    /// The value compared with the switch expression.
    pub value: Value,
    /// The case's actions.
    pub actions: Block,
}

/// What an action does, with its type-specific properties.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// `Compose`: the evaluated inputs are the outputs.
    Compose,
    /// `InitializeVariable` (`inputs.variables[]`: `name`, `type`, `value`).
    InitializeVariable,
    /// `SetVariable` (`inputs.name`, `inputs.value`).
    SetVariable,
    /// `IncrementVariable` (`inputs.name`, `inputs.value`, default 1).
    IncrementVariable,
    /// `DecrementVariable` (`inputs.name`, `inputs.value`, default 1).
    DecrementVariable,
    /// `AppendToArrayVariable`.
    AppendToArrayVariable,
    /// `AppendToStringVariable`.
    AppendToStringVariable,
    /// `If`: `expression`, `actions`, `else.actions`.
    If {
        /// The condition.
        expression: Template,
        /// Actions run when it is true.
        then: Block,
        /// Actions run when it is false.
        otherwise: Block,
    },
    /// `Switch`: `expression`, `cases`, `default`.
    Switch {
        /// The value switched on.
        expression: Template,
        /// The cases, in order.
        cases: Vec<Case>,
        /// Actions run when no case matches.
        default: Block,
    },
    /// `Foreach`: `foreach` (an array), `actions`, concurrency.
    Foreach {
        /// The array expression.
        items: Json,
        /// Iterations run at once (`runtimeConfiguration.concurrency.repetitions`; 1 = sequential).
        concurrency: usize,
        /// The loop body.
        actions: Block,
    },
    /// `Until`: `expression`, `limit.count`, `limit.timeout` (in [`Action::timeout`]).
    Until {
        /// Stops when true (checked after each iteration).
        expression: Template,
        /// Most iterations (default 60).
        count: u64,
        /// The loop body.
        actions: Block,
    },
    /// `Scope`: a group of actions with one status (try/catch with `runAfter` and `result()`).
    Scope {
        /// The scope's actions.
        actions: Block,
    },
    /// `Terminate` (`inputs.runStatus`, `inputs.runError`).
    Terminate,
    /// `Response`: the synchronous reply to a `Request` trigger.
    Response,
    /// `Wait` (`inputs.interval{count, unit}` or `inputs.until.timestamp`); a long wait parks a durable run.
    Wait,
    /// `ParseJson` (`inputs.content`, `inputs.schema`).
    ParseJson,
    /// `Query` (`inputs.from`, `inputs.where`).
    Query,
    /// `Select` (`inputs.from`, `inputs.select`).
    Select,
    /// `Join` (`inputs.from`, `inputs.joinWith`).
    Join,
    /// `Http` (`inputs.method`, `uri`, `headers`, `queries`, `body`).
    Http,
    /// `OpenApiConnection`: a connector operation.
    OpenApiConnection {
        /// `inputs.host.connectionName` (or `inputs.host.connection.referenceName`).
        connection: String,
        /// `inputs.host.operationId`.
        operation_id: String,
    },
}

impl ActionKind {
    /// The nested blocks of a container action.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            ActionKind::If { then, otherwise, .. } => vec![then, otherwise],
            ActionKind::Switch { cases, default, .. } => {
                cases.iter().map(|c| &c.actions).chain(std::iter::once(default)).collect()
            }
            ActionKind::Foreach { actions, .. }
            | ActionKind::Until { actions, .. }
            | ActionKind::Scope { actions } => vec![actions],
            _ => Vec::new(),
        }
    }
}

/// Properties every action may have.
const COMMON: &[&str] =
    &["type", "inputs", "runAfter", "description", "metadata", "trackedProperties", "kind"];

/// Parses an `actions` object; `names` collects every action name (unique across the definition).
pub fn parse_block(
    value: Option<&Value>,
    names: &mut HashMap<String, String>,
    children: &mut HashMap<String, Vec<String>>,
    errors: &mut Vec<Diagnostic>,
) -> Block {
    let Some(value) = value else { return Block::default() };
    let Some(map) = value.as_object() else {
        errors.push(Diagnostic::definition("`actions` must be an object"));
        return Block::default();
    };
    let mut actions = Vec::new();
    for (name, body) in map {
        let type_name = body.get("type").and_then(Value::as_str).unwrap_or_default();
        if names.insert(name.clone(), type_name.to_string()).is_some() {
            errors.push(Diagnostic::action(name, "the name is used by another action"));
        }
        if let Some(action) = parse_action(name, body, names, children, errors) {
            actions.push(action);
        }
    }
    check_graph(&actions, errors);
    Block { actions }
}

fn parse_action(
    name: &str,
    body: &Value,
    names: &mut HashMap<String, String>,
    children: &mut HashMap<String, Vec<String>>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Action> {
    let Some(map) = body.as_object() else {
        errors.push(Diagnostic::action(name, "an action must be an object"));
        return None;
    };
    let type_name = map.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let before = errors.len();
    let mut ctx = Ctx { name, map, names, children, errors, extra: Vec::new() };
    let kind = ctx.kind(&type_name)?;
    let extra = std::mem::take(&mut ctx.extra);
    check_keys(name, map, &extra, errors);
    let run_after = run_after(name, map.get("runAfter"), errors);
    let (retry, mut raw_inputs) = retry_policy(name, map.get("inputs"), errors);
    strip_authentication(name, &kind, raw_inputs.as_mut(), errors);
    let timeout = limit_timeout(name, map, errors);
    let inputs = raw_inputs.as_ref().map(|v| Json::compile(v, name, "/inputs", errors));
    check_options(name, map, &kind, errors);
    let blocks: Vec<String> =
        kind.blocks().iter().flat_map(|b| b.actions.iter().map(|a| a.name.clone())).collect();
    if !blocks.is_empty() {
        children.insert(name.to_string(), blocks);
    }
    (errors.len() == before).then(|| Action {
        name: name.into(),
        type_name,
        kind,
        inputs,
        run_after,
        retry,
        timeout,
    })
}

struct Ctx<'a> {
    name: &'a str,
    map: &'a Map<String, Value>,
    names: &'a mut HashMap<String, String>,
    children: &'a mut HashMap<String, Vec<String>>,
    errors: &'a mut Vec<Diagnostic>,
    /// Type-specific properties allowed on top of [`COMMON`].
    extra: Vec<&'static str>,
}

impl Ctx<'_> {
    fn kind(&mut self, type_name: &str) -> Option<ActionKind> {
        Some(match type_name {
            "Compose" => ActionKind::Compose,
            "InitializeVariable" => ActionKind::InitializeVariable,
            "SetVariable" => ActionKind::SetVariable,
            "IncrementVariable" => ActionKind::IncrementVariable,
            "DecrementVariable" => ActionKind::DecrementVariable,
            "AppendToArrayVariable" => ActionKind::AppendToArrayVariable,
            "AppendToStringVariable" => ActionKind::AppendToStringVariable,
            "Terminate" => ActionKind::Terminate,
            "Response" => ActionKind::Response,
            "Wait" => ActionKind::Wait,
            "ParseJson" => ActionKind::ParseJson,
            "Query" => ActionKind::Query,
            "Select" => ActionKind::Select,
            "Join" => ActionKind::Join,
            "Http" => ActionKind::Http,
            "If" => self.if_action()?,
            "Switch" => self.switch()?,
            "Foreach" => self.foreach()?,
            "Until" => self.until()?,
            "Scope" => {
                self.extra = vec!["actions"];
                ActionKind::Scope { actions: self.block(self.map.get("actions")) }
            }
            "OpenApiConnection" => self.connection()?,
            "" => return self.fail("the action has no `type`"),
            "ApiConnection" => {
                return self
                    .fail("type `ApiConnection` (method + path) is not supported; use `OpenApiConnection`");
            }
            other => return self.fail(format!("unsupported action type `{other}`")),
        })
    }

    fn fail<T>(&mut self, message: impl Into<String>) -> Option<T> {
        self.errors.push(Diagnostic::action(self.name, message));
        None
    }

    fn block(&mut self, value: Option<&Value>) -> Block {
        parse_block(value, self.names, self.children, self.errors)
    }

    fn condition(&mut self, key: &str) -> Option<Template> {
        match self.map.get(key) {
            Some(v) => condition::compile(v, self.name, &format!("/{key}"), self.errors),
            None => self.fail(format!("`{key}` is missing")),
        }
    }

    fn if_action(&mut self) -> Option<ActionKind> {
        self.extra = vec!["expression", "actions", "else"];
        let expression = self.condition("expression")?;
        let then = self.block(self.map.get("actions"));
        let otherwise = self.block(self.map.get("else").and_then(|e| e.get("actions")));
        Some(ActionKind::If { expression, then, otherwise })
    }

    fn switch(&mut self) -> Option<ActionKind> {
        self.extra = vec!["expression", "cases", "default"];
        let text = self.map.get("expression").cloned().unwrap_or(Value::Null);
        let expression = condition::compile(&text, self.name, "/expression", self.errors)?;
        let mut cases = Vec::new();
        for (case_name, case) in self.map.get("cases").and_then(Value::as_object).into_iter().flatten() {
            let Some(value) = case.get("case").cloned() else {
                return self.fail(format!("case `{case_name}` has no `case` value"));
            };
            let actions = self.block(case.get("actions"));
            cases.push(Case { name: case_name.clone(), value, actions });
        }
        let default = self.block(self.map.get("default").and_then(|d| d.get("actions")));
        Some(ActionKind::Switch { expression, cases, default })
    }

    fn foreach(&mut self) -> Option<ActionKind> {
        self.extra = vec!["foreach", "actions", "runtimeConfiguration", "operationOptions"];
        let Some(items) = self.map.get("foreach") else { return self.fail("`foreach` is missing") };
        let items = Json::compile(items, self.name, "/foreach", self.errors);
        let mut concurrency = 20;
        if let Some(config) = self.map.get("runtimeConfiguration") {
            let repetitions = config.pointer("/concurrency/repetitions").and_then(Value::as_u64);
            let only_concurrency = config.as_object().is_some_and(|m| m.keys().all(|k| k == "concurrency"))
                && config.get("concurrency").and_then(Value::as_object).is_some_and(|m| m.len() == 1);
            match repetitions {
                Some(n @ 1..=50) if only_concurrency => concurrency = n as usize,
                _ => {
                    return self
                        .fail("only `runtimeConfiguration.concurrency.repetitions` (1–50) is supported");
                }
            }
        }
        if self.map.get("operationOptions").and_then(Value::as_str) == Some("Sequential") {
            concurrency = 1;
        }
        let actions = self.block(self.map.get("actions"));
        Some(ActionKind::Foreach { items, concurrency, actions })
    }

    fn until(&mut self) -> Option<ActionKind> {
        self.extra = vec!["expression", "actions", "limit"];
        let expression = self.condition("expression")?;
        let count = match self.map.get("limit").and_then(|l| l.get("count")) {
            None => 60,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=5000) => n,
                _ => return self.fail("`limit.count` must be an integer from 1 to 5000"),
            },
        };
        let actions = self.block(self.map.get("actions"));
        Some(ActionKind::Until { expression, count, actions })
    }

    fn connection(&mut self) -> Option<ActionKind> {
        let host = self.map.get("inputs").and_then(|i| i.get("host"));
        let connection = host
            .and_then(|h| h.get("connectionName").or_else(|| h.pointer("/connection/referenceName")))
            .and_then(Value::as_str);
        let operation = host.and_then(|h| h.get("operationId")).and_then(Value::as_str);
        match (connection, operation) {
            (Some(c), Some(o)) if !c.starts_with('@') && !o.starts_with('@') => {
                Some(ActionKind::OpenApiConnection { connection: c.into(), operation_id: o.into() })
            }
            _ => self.fail("`inputs.host.connectionName` (or `connection.referenceName`) and `inputs.host.operationId` must be literal strings"),
        }
    }
}

/// A connector action's `authentication` (the invoker context) is supplied by the connection, so it is
/// dropped; an `Http` action's `authentication` (OAuth, certificates, managed identity) is not supported.
fn strip_authentication(
    name: &str,
    kind: &ActionKind,
    inputs: Option<&mut Value>,
    errors: &mut Vec<Diagnostic>,
) {
    let Some(map) = inputs.and_then(Value::as_object_mut) else { return };
    match kind {
        ActionKind::OpenApiConnection { .. } => {
            map.remove("authentication");
        }
        ActionKind::Http => {
            for key in ["authentication", "cookie"] {
                if map.contains_key(key) {
                    errors
                        .push(Diagnostic::action(name, format!("`inputs.{key}` is not supported on `Http`")));
                }
            }
        }
        _ => {}
    }
}

fn check_keys(name: &str, map: &Map<String, Value>, extra: &[&str], errors: &mut Vec<Diagnostic>) {
    for key in map.keys() {
        if !COMMON.contains(&key.as_str()) && !extra.contains(&key.as_str()) && key != "limit" {
            errors.push(Diagnostic::action(name, format!("unsupported property `{key}`")));
        }
    }
}

fn check_options(name: &str, map: &Map<String, Value>, kind: &ActionKind, errors: &mut Vec<Diagnostic>) {
    if let Some(limit) = map.get("limit").and_then(Value::as_object) {
        for key in limit.keys() {
            let ok = key == "timeout" || (key == "count" && matches!(kind, ActionKind::Until { .. }));
            if !ok {
                errors.push(Diagnostic::action(name, format!("unsupported property `limit.{key}`")));
            }
        }
    }
}

fn run_after(
    name: &str,
    value: Option<&Value>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, Vec<ActionStatus>)> {
    let mut out = Vec::new();
    let Some(value) = value else { return out };
    let Some(map) = value.as_object() else {
        errors.push(Diagnostic::action(name, "`runAfter` must be an object"));
        return out;
    };
    for (predecessor, statuses) in map {
        let Some(statuses) = statuses.as_array() else {
            errors.push(Diagnostic::action(
                name,
                format!("`runAfter.{predecessor}` must be an array of statuses"),
            ));
            continue;
        };
        let mut list = Vec::new();
        for status in statuses {
            match status.as_str().and_then(ActionStatus::from_run_after) {
                Some(s) => list.push(s),
                None => errors.push(Diagnostic::action(
                    name,
                    format!(
                        "unsupported `runAfter` status {status} for `{predecessor}` (Succeeded, Failed, Skipped, TimedOut)"
                    ),
                )),
            }
        }
        if statuses.is_empty() {
            list.push(ActionStatus::Succeeded);
        }
        out.push((predecessor.clone(), list));
    }
    out
}

/// Takes `retryPolicy` out of the inputs.
fn retry_policy(
    name: &str,
    inputs: Option<&Value>,
    errors: &mut Vec<Diagnostic>,
) -> (Option<RetryPolicy>, Option<Value>) {
    let Some(mut inputs) = inputs.cloned() else { return (None, None) };
    let Some(policy) = inputs.as_object_mut().and_then(|m| m.remove("retryPolicy")) else {
        return (None, Some(inputs));
    };
    let dur = |key: &str, default: &str| {
        duration::parse(policy.get(key).and_then(Value::as_str).unwrap_or(default))
    };
    let count = policy.get("count").and_then(Value::as_u64).unwrap_or(4).min(90) as u32;
    let parsed = match policy.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("none") => Some(RetryPolicy::None),
        Some("fixed") => dur("interval", "PT20S").map(|interval| RetryPolicy::Fixed { count, interval }),
        Some("exponential") | Some("default") => {
            match (dur("interval", "PT7S"), dur("minimumInterval", "PT5S"), dur("maximumInterval", "PT1H")) {
                (Some(interval), Some(minimum), Some(maximum)) => {
                    Some(RetryPolicy::Exponential { count, interval, minimum, maximum })
                }
                _ => None,
            }
        }
        _ => None,
    };
    if parsed.is_none() {
        errors.push(Diagnostic::action(name, format!("unsupported `retryPolicy` {policy}")));
    }
    (parsed, Some(inputs))
}

fn limit_timeout(
    name: &str,
    map: &Map<String, Value>,
    errors: &mut Vec<Diagnostic>,
) -> Option<std::time::Duration> {
    let text = map.get("limit")?.get("timeout")?;
    let parsed = text.as_str().and_then(duration::parse);
    if parsed.is_none() {
        errors.push(Diagnostic::action(name, format!("`limit.timeout` {text} is not an ISO 8601 duration")));
    }
    parsed
}

/// Every `runAfter` names a sibling, and the graph has no cycle.
fn check_graph(actions: &[Action], errors: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
    for action in actions {
        for (p, _) in &action.run_after {
            if !names.contains(&p.as_str()) {
                errors.push(Diagnostic::action(
                    &action.name,
                    format!("`runAfter` names `{p}`, which is not an action at the same level"),
                ));
            }
        }
    }
    let mut done: Vec<&str> = Vec::new();
    loop {
        let ready: Vec<&str> = actions
            .iter()
            .filter(|a| !done.contains(&a.name.as_str()))
            .filter(|a| {
                a.run_after.iter().all(|(p, _)| done.contains(&p.as_str()) || !names.contains(&p.as_str()))
            })
            .map(|a| a.name.as_str())
            .collect();
        if ready.is_empty() {
            break;
        }
        done.extend(ready);
    }
    for action in actions.iter().filter(|a| !done.contains(&a.name.as_str())) {
        errors.push(Diagnostic::action(&action.name, "`runAfter` forms a cycle"));
    }
}
