//! Workflow definitions: the typed model and the loader.
//!
//! [`Definition::parse`] accepts the Logic Apps shape `{"definition": {…}, "parameters": {…}}`, a bare
//! `{triggers, actions}` object and a Power Automate export `{"properties": {"definition": …,
//! "connectionReferences": …}}`. It collects every problem as a [`Diagnostic`] and fails if there is
//! any, so an unsupported construct is never discovered half-way through a run.

mod actions;
pub mod condition;
pub mod duration;
mod json;
mod triggers;

use std::collections::HashMap;
use std::time::Duration;

use patchbay_expr::{ParseError, Template};
use serde_json::{Map, Value};

pub use actions::{ActionKind, Case};
pub use json::Json;
pub use triggers::{Trigger, TriggerKind};

use crate::run::ActionStatus;

/// One problem found while loading a definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct Diagnostic {
    /// Where: `action 'Name'`, `trigger 'Name'` or `definition`.
    pub location: String,
    /// The action or trigger named, when there is one.
    pub name: Option<String>,
    /// What is wrong (for expressions: the JSON pointer, column and parser message).
    pub message: String,
    /// The 1-based column in the expression text, for expression errors.
    pub column: Option<usize>,
}

impl Diagnostic {
    /// A problem with action (or trigger) `name`.
    pub fn action(name: &str, message: impl Into<String>) -> Self {
        Self {
            location: format!("action '{name}'"),
            name: Some(name.into()),
            message: message.into(),
            column: None,
        }
    }

    /// A problem with the definition as a whole.
    pub fn definition(message: impl Into<String>) -> Self {
        Self { location: "definition".into(), name: None, message: message.into(), column: None }
    }

    /// An expression of `name` at JSON pointer `pointer` that does not parse.
    pub fn expression(name: &str, pointer: &str, text: &str, error: &ParseError) -> Self {
        let message = format!(
            "invalid expression in {pointer} at column {}: {} in `{text}`",
            error.column, error.message
        );
        Self { column: Some(error.column), ..Self::action(name, message) }
    }
}

/// A definition that could not be loaded: every problem found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct LoadError {
    /// The problems, in definition order.
    pub diagnostics: Vec<Diagnostic>,
}

/// A retry policy of a connector or HTTP action (`inputs.retryPolicy`).
#[derive(Debug, Clone, PartialEq)]
pub enum RetryPolicy {
    /// `none`: one attempt.
    None,
    /// `fixed`: `count` retries `interval` apart.
    Fixed {
        /// Retries after the first attempt.
        count: u32,
        /// The wait between attempts.
        interval: Duration,
    },
    /// `exponential`: retry *n* waits `interval·2^(n-1)` clamped to `[minimum, maximum]` (deterministic).
    Exponential {
        /// Retries after the first attempt.
        count: u32,
        /// The base interval.
        interval: Duration,
        /// The shortest wait.
        minimum: Duration,
        /// The longest wait.
        maximum: Duration,
    },
}

impl RetryPolicy {
    /// The wait before retry `n` (1-based), or `None` when no retry is left.
    pub fn delay(&self, n: u32) -> Option<Duration> {
        match self {
            RetryPolicy::None => None,
            RetryPolicy::Fixed { count, interval } => (n <= *count).then_some(*interval),
            RetryPolicy::Exponential { count, interval, minimum, maximum } => (n <= *count).then(|| {
                let scaled = interval.saturating_mul(1u32 << (n - 1).min(20));
                scaled.clamp(*minimum, (*maximum).max(*minimum))
            }),
        }
    }
}

/// One action of a definition.
#[derive(Debug, Clone)]
pub struct Action {
    /// The action's name (its key in `actions`).
    pub name: String,
    /// The `type` as written.
    pub type_name: String,
    /// What the action does, with its type-specific properties.
    pub kind: ActionKind,
    /// `inputs`, compiled (`None` when absent).
    pub inputs: Option<Json>,
    /// `runAfter`: predecessor name and the statuses it must have finished with.
    pub run_after: Vec<(String, Vec<ActionStatus>)>,
    /// `inputs.retryPolicy`, when given (connector and HTTP actions).
    pub retry: Option<RetryPolicy>,
    /// `limit.timeout`: the whole action (all attempts, or an `Until` loop) is bounded by it.
    pub timeout: Option<Duration>,
}

/// The actions of one level (the workflow, or the body of a container action).
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// The actions, in definition order.
    pub actions: Vec<Action>,
}

/// A loaded workflow definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The triggers (a runnable flow has exactly one).
    pub triggers: Vec<Trigger>,
    /// The top-level actions.
    pub actions: Block,
    /// Workflow parameters: `defaultValue`s overridden by the Logic Apps outer `parameters` values.
    pub parameters: Map<String, Value>,
    /// `outputs`: name and compiled `value`.
    pub outputs: Vec<(String, Json)>,
    /// Power Automate `connectionReferences` as written.
    pub connection_references: Map<String, Value>,
    /// Names of the actions directly inside each container action (for `result()`).
    pub children: HashMap<String, Vec<String>>,
}

impl Definition {
    /// Parses JSON text.
    pub fn from_text(text: &str) -> Result<Definition, LoadError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| LoadError { diagnostics: vec![Diagnostic::definition(format!("not JSON: {e}"))] })?;
        Definition::parse(&value)
    }

    /// Loads a definition in any of the three accepted shapes.
    pub fn parse(document: &Value) -> Result<Definition, LoadError> {
        let mut errors = Vec::new();
        let (body, outer_parameters, references) = unwrap_shape(document);
        let Some(body) = body.and_then(Value::as_object) else {
            let message = "expected `{\"definition\": …}`, `{\"properties\": {\"definition\": …}}` or `{triggers, actions}`";
            return Err(LoadError { diagnostics: vec![Diagnostic::definition(message)] });
        };
        check_definition_keys(body, &mut errors);
        let triggers = triggers::parse_all(body.get("triggers"), &mut errors);
        let mut children = HashMap::new();
        let mut names = HashMap::new();
        let actions = actions::parse_block(body.get("actions"), &mut names, &mut children, &mut errors);
        let parameters = parameters(body.get("parameters"), outer_parameters);
        let outputs = outputs(body.get("outputs"), &mut errors);
        check_response(&triggers, &names, &mut errors);
        if errors.is_empty() {
            let connection_references = references.and_then(Value::as_object).cloned().unwrap_or_default();
            Ok(Definition { triggers, actions, parameters, outputs, connection_references, children })
        } else {
            Err(LoadError { diagnostics: errors })
        }
    }

    /// Every action, depth first, in definition order.
    pub fn all_actions(&self) -> Vec<&Action> {
        fn walk<'a>(block: &'a Block, out: &mut Vec<&'a Action>) {
            for action in &block.actions {
                out.push(action);
                for child in action.kind.blocks() {
                    walk(child, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.actions, &mut out);
        out
    }

    /// The connection names used by `OpenApiConnection` actions and triggers.
    pub fn connection_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .all_actions()
            .into_iter()
            .filter_map(|a| match &a.kind {
                ActionKind::OpenApiConnection { connection, .. } => Some(connection.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The definition body, the Logic Apps outer parameters and the Power Automate connection references.
fn unwrap_shape(document: &Value) -> (Option<&Value>, Option<&Value>, Option<&Value>) {
    if let Some(properties) = document.get("properties") {
        return (properties.get("definition"), None, properties.get("connectionReferences"));
    }
    if let Some(definition) = document.get("definition") {
        return (Some(definition), document.get("parameters"), None);
    }
    if document.get("actions").is_some() || document.get("triggers").is_some() {
        return (Some(document), None, None);
    }
    (None, None, None)
}

fn check_definition_keys(body: &Map<String, Value>, errors: &mut Vec<Diagnostic>) {
    const KNOWN: &[&str] = &[
        "$schema",
        "contentVersion",
        "parameters",
        "triggers",
        "actions",
        "outputs",
        "staticResults",
        "description",
    ];
    for key in body.keys() {
        if !KNOWN.contains(&key.as_str()) {
            errors.push(Diagnostic::definition(format!("unsupported property `{key}`")));
        }
    }
    if body.get("staticResults").is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty())) {
        errors.push(Diagnostic::definition("`staticResults` (mocked action results) is not supported"));
    }
}

/// `defaultValue`s, then the outer `value`s.
fn parameters(declared: Option<&Value>, outer: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, p) in declared.and_then(Value::as_object).into_iter().flatten() {
        if let Some(v) = p.get("defaultValue") {
            out.insert(name.clone(), v.clone());
        }
    }
    for (name, p) in outer.and_then(Value::as_object).into_iter().flatten() {
        if let Some(v) = p.get("value") {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

fn outputs(value: Option<&Value>, errors: &mut Vec<Diagnostic>) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for (name, o) in value.and_then(Value::as_object).into_iter().flatten() {
        let value = o.get("value").unwrap_or(&Value::Null);
        out.push((name.clone(), Json::compile(value, &format!("outputs/{name}"), "/value", errors)));
    }
    out
}

/// A `Response` action needs a `Request` trigger.
fn check_response(triggers: &[Trigger], names: &HashMap<String, String>, errors: &mut Vec<Diagnostic>) {
    let has_request = triggers.iter().any(|t| matches!(t.kind, TriggerKind::Request { .. }));
    for (name, type_name) in names {
        if type_name == "Response" && !has_request && !triggers.is_empty() {
            errors.push(Diagnostic::action(name, "a `Response` action needs a `Request` trigger"));
        }
    }
}

/// A compiled condition (`If`, `Until`, trigger `conditions`).
pub type Condition = Template;
