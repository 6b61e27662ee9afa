//! Dynamic values, lists, schemas and properties name existing operations and parameters.

use super::{Report, operation_pointer, parameter_pointer};
use crate::diag::escape_segment;
use crate::model::{Connector, DynamicCall, DynamicParameter, Location, Operation, Parameter, PathItem};
use serde_json::Value;

/// The four extensions and the model's matching accessors.
const EXTENSIONS: [&str; 4] =
    ["x-ms-dynamic-values", "x-ms-dynamic-list", "x-ms-dynamic-schema", "x-ms-dynamic-properties"];

/// Checks the dynamic extensions of parameters and inside schemas.
pub fn check(r: &mut Report) {
    let c = r.connector;
    for item in &c.paths {
        for op in &item.operations {
            for (i, p) in op.parameters.iter().enumerate().filter(|(_, p)| p.reference.is_none()) {
                let calls = [&p.dynamic_values, &p.dynamic_list, &p.dynamic_schema, &p.dynamic_properties];
                for (ext, call) in EXTENSIONS.iter().zip(calls) {
                    if let Some(call) = call {
                        let pointer = format!("{}/{ext}", parameter_pointer(op, i));
                        check_call(r, Some((item, op)), call, &pointer);
                    }
                }
                let pointer = format!("{}/schema", parameter_pointer(op, i));
                check_schema(r, Some((item, op)), &p.schema, &pointer);
            }
            for resp in &op.responses {
                if let Some(schema) = &resp.schema {
                    let pointer = format!(
                        "{}/responses/{}/schema",
                        operation_pointer(op),
                        escape_segment(&resp.status)
                    );
                    check_schema(r, Some((item, op)), schema, &pointer);
                }
            }
        }
    }
    for (name, schema) in &c.definitions {
        check_schema(r, None, schema, &format!("/definitions/{}", escape_segment(name)));
    }
}

/// Finds dynamic extensions inside a schema (properties, items, allOf) and checks them.
fn check_schema(r: &mut Report, caller: Option<(&PathItem, &Operation)>, schema: &Value, pointer: &str) {
    let Value::Object(map) = schema else { return };
    for ext in EXTENSIONS {
        if let Some(value @ Value::Object(_)) = map.get(ext) {
            let call = parse_call(value);
            check_call(r, caller, &call, &format!("{pointer}/{ext}"));
        }
    }
    for key in ["properties", "items", "allOf", "additionalProperties"] {
        match map.get(key) {
            Some(Value::Object(props)) if key == "properties" => {
                for (name, prop) in props {
                    check_schema(r, caller, prop, &format!("{pointer}/properties/{}", escape_segment(name)));
                }
            }
            Some(Value::Array(parts)) => {
                for (i, part) in parts.iter().enumerate() {
                    check_schema(r, caller, part, &format!("{pointer}/{key}/{i}"));
                }
            }
            Some(child @ Value::Object(_)) => check_schema(r, caller, child, &format!("{pointer}/{key}")),
            _ => {}
        }
    }
}

fn parse_call(value: &Value) -> DynamicCall {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    DynamicCall {
        operation_id: text("operationId"),
        parameters: value.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default(),
        ..DynamicCall::default()
    }
}

fn check_call(r: &mut Report, caller: Option<(&PathItem, &Operation)>, call: &DynamicCall, pointer: &str) {
    let c: &Connector = r.connector;
    let Some(target_id) = call.operation_id.as_deref() else {
        return; // builtInOperation or capability based: nothing to check here
    };
    let Some((target_item, target)) = c.operation(target_id) else {
        let msg = format!("operationId `{target_id}` does not exist in this connector");
        r.definition("PB0601", format!("{pointer}/operationId"), msg);
        return;
    };
    let callee = target.effective_parameters(target_item);
    for (name, source) in call.arguments() {
        if !callee.iter().any(|p| accepts(c, p, name)) {
            let msg = format!("`{target_id}` has no parameter `{name}`");
            r.definition("PB0602", format!("{pointer}/parameters/{}", escape_segment(name)), msg);
        }
        let (DynamicParameter::Parameter(own), Some((item, op))) = (&source, caller) else { continue };
        let known = op.effective_parameters(item).iter().any(|p| &p.name == own)
            || refers_to_body_property(op, item, own);
        if !known {
            let msg = format!("`{own}` is not a parameter of {}", op.display_id());
            r.definition("PB0603", format!("{pointer}/parameters/{}", escape_segment(name)), msg);
        }
    }
}

/// Whether a callee parameter takes the argument `name`: by its own name, or, for a body, by the
/// name or `body/…` path of one of its properties (as dynamic schemas of bodies are written).
fn accepts(c: &Connector, p: &Parameter, name: &str) -> bool {
    if p.name == name {
        return true;
    }
    if p.location != Location::Body {
        return false;
    }
    let first = name.split('/').next().unwrap_or(name);
    let property =
        if first == p.name || first == "body" { name.split('/').nth(1).unwrap_or(name) } else { name };
    match crate::refs::resolve_schema(c, &p.schema) {
        Ok(schema) => match schema.get("properties").and_then(Value::as_object) {
            Some(props) => props.contains_key(property),
            None => true, // a body without declared properties takes anything
        },
        Err(_) => true, // the reference is reported elsewhere
    }
}

/// Body properties may be referenced by name too (dynamic schemas inside a body).
fn refers_to_body_property(op: &Operation, item: &PathItem, name: &str) -> bool {
    op.effective_parameters(item).iter().any(|p| {
        p.schema.get("properties").and_then(Value::as_object).is_some_and(|props| props.contains_key(name))
            || p.schema.get("$ref").is_some()
    })
}
