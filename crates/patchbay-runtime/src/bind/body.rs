//! The JSON body: the body input, flattened `body/a/b` inputs merged in, defaults applied, validated.

use super::{BindError, Inputs};
use crate::draft::DraftBody;
use crate::plan::OperationPlan;
use bytes::Bytes;
use patchbay_spec::model::Parameter;
use serde_json::{Map, Value};

/// Builds the body of `p` from `inputs`.
pub fn bind_body(plan: &OperationPlan, p: &Parameter, inputs: &Inputs) -> Result<DraftBody, BindError> {
    // The body by its parameter name, or by the generic name `body` (what `--body` and apps send).
    let given = inputs.get(&p.name).or_else(|| inputs.get("body"));
    let mut body = given.cloned().filter(|v| !v.is_null());
    merge_flattened(&mut body, &p.name, inputs);
    let schema = plan.body_schema.as_ref();
    if body.is_none() {
        let defaults = schema.and_then(|s| defaults_object(s, s));
        body = defaults.or_else(|| p.default_value().cloned());
    }
    let Some(mut body) = body else {
        if p.required {
            return Err(BindError::Missing { name: p.name.clone(), location: "body".into() });
        }
        return Ok(DraftBody::None);
    };
    if let Some(schema) = schema {
        fill_defaults(&mut body, schema, schema, 0);
    }
    if let Some(validator) = &plan.body_validator {
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(10)
            .map(|e| format!("{}: {}", pointer_text(&e.instance_path().to_string()), e.masked()))
            .collect();
        if !errors.is_empty() {
            return Err(BindError::Body { name: p.name.clone(), errors });
        }
    }
    let json = plan.consumes.as_deref().is_none_or(|c| c.contains("json") || c == "*/*");
    Ok(match (&body, json) {
        (Value::String(text), false) => {
            let content_type = plan.consumes.clone().unwrap_or_else(|| "text/plain".into());
            DraftBody::Raw { content_type, bytes: Bytes::from(text.clone()) }
        }
        _ => DraftBody::Json(body),
    })
}

fn pointer_text(pointer: &str) -> String {
    if pointer.is_empty() { "/".to_string() } else { pointer.to_string() }
}

/// Merges `"<name>/a/b": v` and `"body/a/b": v` inputs into the body object.
pub(crate) fn merge_flattened(body: &mut Option<Value>, name: &str, inputs: &Inputs) {
    for (key, value) in inputs {
        let Some(path) = flattened_path(key, name) else {
            continue;
        };
        let target = body.get_or_insert_with(|| Value::Object(Map::new()));
        set_path(target, path.split('/'), value.clone());
    }
}

/// The property path of a flattened body input (`"<name>/a/b"` or `"body/a/b"` → `a/b`).
pub(crate) fn flattened_path<'k>(key: &'k str, name: &str) -> Option<&'k str> {
    key.strip_prefix(name).and_then(|rest| rest.strip_prefix('/')).or_else(|| key.strip_prefix("body/"))
}

/// Sets the value at a property path, creating objects on the way (replacing non-objects).
pub(crate) fn set_path<'a>(target: &mut Value, mut path: impl Iterator<Item = &'a str>, value: Value) {
    let Some(segment) = path.next() else {
        *target = value;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        let child = map.entry(segment.to_string()).or_insert(Value::Null);
        set_path(child, path, value);
    }
}

/// Follows a local `$ref` inside a standalone schema (one that carries its definitions).
fn deref<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..32 {
        let Some(r) = current.get("$ref").and_then(Value::as_str) else { break };
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// Whether a property's default is sent when the caller gave none: required or internal fields.
fn default_applies(name: &str, property: &Value, parent: &Value) -> bool {
    let required =
        parent.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|v| v == name));
    let internal = property.get("x-ms-visibility").and_then(Value::as_str) == Some("internal");
    (required || internal) && property.get("default").is_some()
}

/// Applies defaults of required and internal properties that are absent, recursively.
fn fill_defaults(value: &mut Value, schema: &Value, root: &Value, depth: usize) {
    let schema = deref(schema, root);
    if depth > 32 {
        return;
    }
    let (Value::Object(map), Some(props)) = (value, schema.get("properties").and_then(Value::as_object))
    else {
        return;
    };
    for (name, prop) in props {
        let prop = deref(prop, root);
        match map.get_mut(name) {
            Some(child) => fill_defaults(child, prop, root, depth + 1),
            None if default_applies(name, prop, schema) => {
                map.insert(name.clone(), prop["default"].clone());
            }
            None => {}
        }
    }
}

/// An object made only of defaults, when the schema has some that apply.
fn defaults_object(schema: &Value, root: &Value) -> Option<Value> {
    let mut value = Value::Object(Map::new());
    fill_defaults(&mut value, schema, root, 0);
    value.as_object().is_some_and(|m| !m.is_empty()).then_some(value)
}
