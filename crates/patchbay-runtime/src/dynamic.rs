//! Dynamic values and schemas (`x-ms-dynamic-values`, `-list`, `-schema`, `-properties`): resolved
//! by calling the operation they name through the same pipeline, with the caller's known inputs.

use crate::bind::Inputs;
use crate::pipeline::{Call, InvokeError, Outcome, Runtime};
use crate::plan::CompiledConnector;
use crate::security::ConnectionValues;
use patchbay_spec::model::{DynamicCall, DynamicParameter, Location, Parameter};
use serde_json::{Map, Value};

/// One choice for a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicOption {
    /// The value to send.
    pub value: Value,
    /// What to show.
    pub title: String,
}

/// Why dynamic values could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    /// No such operation or parameter.
    #[error("{0}")]
    NotFound(String),
    /// The parameter has no dynamic extension of the kind asked.
    #[error("parameter `{0}` has no dynamic values or schema")]
    NotDynamic(String),
    /// The lookup call failed.
    #[error("the lookup call failed: {0}")]
    Call(#[from] InvokeError),
    /// The lookup call answered with an error status or an unexpected shape.
    #[error("the lookup call {0}")]
    Response(String),
}

/// What to resolve, and with what.
pub struct DynamicRequest<'a> {
    /// The connector.
    pub connector: &'a CompiledConnector,
    /// The operation whose parameter is dynamic.
    pub operation_id: &'a str,
    /// The parameter (for a schema inside a body: the body parameter's name).
    pub parameter: &'a str,
    /// The connection.
    pub connection: &'a ConnectionValues,
    /// Values the user already chose for the operation's other parameters.
    pub known: &'a Inputs,
}

impl Runtime {
    /// The choices for a parameter with `x-ms-dynamic-values` or `x-ms-dynamic-list`.
    pub async fn dynamic_values(&self, req: DynamicRequest<'_>) -> Result<Vec<DynamicOption>, DynamicError> {
        let p = parameter(&req)?;
        let (call, list) = match (&p.dynamic_list, &p.dynamic_values) {
            (Some(list), _) => (list, true),
            (None, Some(values)) => (values, false),
            _ => return Err(DynamicError::NotDynamic(p.name.clone())),
        };
        let body = self.lookup(&req, call).await?;
        let (items_path, value_path, title_path) = if list {
            (call.items_path.as_deref(), call.item_value_path.as_deref(), call.item_title_path.as_deref())
        } else {
            (call.value_collection.as_deref(), call.value_path.as_deref(), call.value_title.as_deref())
        };
        let items = match items_path {
            Some(path) => at_path(&body, path),
            None => Some(&body),
        };
        let items = items
            .and_then(Value::as_array)
            .ok_or_else(|| DynamicError::Response("did not return a list".into()))?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let value = value_path.map_or(Some(item), |p| at_path(item, p))?.clone();
                let title = title_path.and_then(|p| at_path(item, p)).unwrap_or(&value);
                Some(DynamicOption { title: crate::bind::to_text(title), value })
            })
            .collect())
    }

    /// The schema for a parameter with `x-ms-dynamic-schema` or `x-ms-dynamic-properties`
    /// (on the parameter or at the root of its body schema).
    pub async fn dynamic_schema(&self, req: DynamicRequest<'_>) -> Result<Value, DynamicError> {
        let p = parameter(&req)?;
        let from_schema = |key: &str| p.schema.get(key).map(parse_call);
        let (call, path) = match (
            &p.dynamic_properties,
            &p.dynamic_schema,
            from_schema("x-ms-dynamic-properties"),
            from_schema("x-ms-dynamic-schema"),
        ) {
            (Some(c), ..) => (c.clone(), c.item_value_path.clone()),
            (None, Some(c), ..) => (c.clone(), c.value_path.clone()),
            (None, None, Some(c), _) => {
                let path = c.item_value_path.clone();
                (c, path)
            }
            (None, None, None, Some(c)) => {
                let path = c.value_path.clone();
                (c, path)
            }
            _ => return Err(DynamicError::NotDynamic(p.name.clone())),
        };
        let body = self.lookup(&req, &call).await?;
        let schema = match path.as_deref() {
            Some(path) => at_path(&body, path).cloned(),
            None => Some(body),
        };
        schema
            .ok_or_else(|| DynamicError::Response("did not return a schema where the extension says".into()))
    }

    /// Calls the operation a dynamic extension names, with its arguments resolved.
    async fn lookup(&self, req: &DynamicRequest<'_>, call: &DynamicCall) -> Result<Value, DynamicError> {
        let target = call.operation_id.as_deref().ok_or_else(|| {
            DynamicError::NotFound(
                "the extension names no operationId (built-in lookups are not supported)".into(),
            )
        })?;
        let inputs = arguments(call, req.known);
        let invoked = self
            .invoke(Call {
                connector: req.connector,
                operation_id: target,
                connection: req.connection,
                inputs: &inputs,
            })
            .await?;
        match invoked.outcome {
            Outcome::Done(r) if r.status.is_success() => Ok(r.body.to_value()),
            Outcome::Done(r) => Err(DynamicError::Response(format!("answered {}", r.status))),
            Outcome::Pending { .. } => {
                Err(DynamicError::Response("answered 202; lookups must answer at once".into()))
            }
        }
    }
}

/// The parameter the request names.
fn parameter<'a>(req: &DynamicRequest<'a>) -> Result<&'a Parameter, DynamicError> {
    let plan = req.connector.operation(req.operation_id).ok_or_else(|| {
        DynamicError::NotFound(format!("the connector has no operation `{}`", req.operation_id))
    })?;
    plan.parameters
        .iter()
        .find(|p| p.name == req.parameter || (req.parameter == "body" && p.location == Location::Body))
        .ok_or_else(|| {
            DynamicError::NotFound(format!("`{}` has no parameter `{}`", req.operation_id, req.parameter))
        })
}

/// The callee's inputs: literals as given, references from what the user already chose.
fn arguments(call: &DynamicCall, known: &Inputs) -> Inputs {
    let mut inputs = Map::new();
    for (name, source) in call.arguments() {
        let value = match source {
            DynamicParameter::Literal(v) => Some(v),
            DynamicParameter::Parameter(from) | DynamicParameter::Reference(from) => {
                known.get(&from).cloned().or_else(|| at_path(&Value::Object(known.clone()), &from).cloned())
            }
        };
        if let Some(v) = value {
            inputs.insert(name.to_string(), v);
        }
    }
    inputs
}

/// Reads an extension object found inside a schema.
fn parse_call(value: &Value) -> DynamicCall {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    DynamicCall {
        operation_id: text("operationId"),
        parameters: value.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default(),
        value_path: text("value-path"),
        item_value_path: text("itemValuePath"),
        ..DynamicCall::default()
    }
}

/// A value by a path of property names separated by `/` or `.` (as the extensions write them).
pub fn at_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    if let Some(v) = value.get(path) {
        return Some(v);
    }
    path.split(['/', '.']).filter(|s| !s.is_empty()).try_fold(value, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => v.get(key),
    })
}
