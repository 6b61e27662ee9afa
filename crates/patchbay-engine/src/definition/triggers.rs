//! Parsing triggers. They are recorded and checked; wiring them (HTTP endpoints, schedules,
//! polling and webhook subscriptions) comes later — [`run_flow`](crate::run_flow) takes the trigger's
//! outputs from the caller.

use patchbay_expr::Template;
use serde_json::Value;

use super::{Diagnostic, Json, condition};

/// What starts a run.
#[derive(Debug, Clone)]
pub enum TriggerKind {
    /// `Request`: a manual HTTP request (`inputs.method`, `inputs.schema`).
    Request {
        /// The expected method, when given.
        method: Option<String>,
        /// The JSON schema of the body, when given.
        schema: Option<Value>,
    },
    /// `Recurrence`: a schedule (`recurrence` as written).
    Recurrence,
    /// `OpenApiConnection`: a polling connector trigger.
    OpenApiConnection {
        /// `inputs.host.connectionName`.
        connection: String,
        /// `inputs.host.operationId`.
        operation_id: String,
    },
    /// `OpenApiConnectionWebhook`: a webhook connector trigger.
    OpenApiConnectionWebhook {
        /// `inputs.host.connectionName`.
        connection: String,
        /// `inputs.host.operationId`.
        operation_id: String,
    },
}

/// One trigger of a definition.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// The trigger's name.
    pub name: String,
    /// The `type` as written.
    pub type_name: String,
    /// What starts the run.
    pub kind: TriggerKind,
    /// `inputs`, compiled.
    pub inputs: Option<Json>,
    /// `recurrence`, as written.
    pub recurrence: Option<Value>,
    /// `splitOn`: one run per element (applied by the trigger wiring, not by `run_flow`).
    pub split_on: Option<Template>,
    /// `conditions[].expression`: the run starts only when all are true.
    pub conditions: Vec<Template>,
}

const KNOWN: &[&str] = &[
    "type",
    "kind",
    "inputs",
    "recurrence",
    "splitOn",
    "conditions",
    "description",
    "metadata",
    "operationOptions",
];

/// Parses the `triggers` object.
pub fn parse_all(value: Option<&Value>, errors: &mut Vec<Diagnostic>) -> Vec<Trigger> {
    let mut out = Vec::new();
    for (name, body) in value.and_then(Value::as_object).into_iter().flatten() {
        if let Some(t) = parse(name, body, errors) {
            out.push(t);
        }
    }
    if out.len() > 1 {
        errors.push(Diagnostic::definition("a flow has at most one trigger"));
    }
    out
}

fn parse(name: &str, body: &Value, errors: &mut Vec<Diagnostic>) -> Option<Trigger> {
    let fail = |errors: &mut Vec<Diagnostic>, message: String| {
        errors
            .push(Diagnostic { location: format!("trigger '{name}'"), ..Diagnostic::action(name, message) });
        None
    };
    let map = body.as_object()?;
    if let Some(key) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return fail(errors, format!("unsupported property `{key}`"));
    }
    if let Some(options) = map.get("operationOptions") {
        return fail(errors, format!("unsupported `operationOptions` {options}"));
    }
    let type_name = map.get("type").and_then(Value::as_str).unwrap_or_default();
    let inputs = map.get("inputs");
    let host = |key: &str| inputs.and_then(|i| i.pointer(key)).and_then(Value::as_str).map(str::to_string);
    let connector = || {
        Some((
            host("/host/connectionName").or_else(|| host("/host/connection/referenceName"))?,
            host("/host/operationId")?,
        ))
    };
    let kind = match type_name {
        "Request" => TriggerKind::Request {
            method: host("/method"),
            schema: inputs.and_then(|i| i.get("schema")).cloned(),
        },
        "Recurrence" => TriggerKind::Recurrence,
        "OpenApiConnection" | "OpenApiConnectionWebhook" => {
            let Some((connection, operation_id)) = connector() else {
                return fail(
                    errors,
                    "`inputs.host.connectionName` and `inputs.host.operationId` are required".into(),
                );
            };
            if type_name == "OpenApiConnection" {
                TriggerKind::OpenApiConnection { connection, operation_id }
            } else {
                TriggerKind::OpenApiConnectionWebhook { connection, operation_id }
            }
        }
        other => return fail(errors, format!("unsupported trigger type `{other}`")),
    };
    let split_on = map.get("splitOn").and_then(|v| condition::compile(v, name, "/splitOn", errors));
    let mut conditions = Vec::new();
    for (i, c) in map.get("conditions").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let expression = c.get("expression").unwrap_or(&Value::Null);
        conditions.extend(condition::compile(
            expression,
            name,
            &format!("/conditions/{i}/expression"),
            errors,
        ));
    }
    Some(Trigger {
        name: name.into(),
        type_name: type_name.into(),
        kind,
        inputs: inputs.map(|v| Json::compile(v, name, "/inputs", errors)),
        recurrence: map.get("recurrence").cloned(),
        split_on,
        conditions,
    })
}
