//! Every `$ref` inside schemas resolves, and no chain of references loops.

use super::{Report, operation_pointer, path_pointer};
use crate::diag::escape_segment;
use crate::refs::{RefError, ref_of, resolve_schema};
use serde_json::Value;

/// Checks the `$ref`s of definitions, body schemas, response schemas and notification content.
pub fn check(r: &mut Report) {
    let c = r.connector;
    let mut found: Vec<(String, RefError)> = Vec::new();
    for (name, schema) in &c.definitions {
        walk(c, schema, &mut format!("/definitions/{}", escape_segment(name)), &mut found);
    }
    for item in &c.paths {
        if let Some(content) = &item.notification_content {
            walk(c, content, &mut format!("{}/x-ms-notification-content", path_pointer(item)), &mut found);
        }
        for op in &item.operations {
            let base = operation_pointer(op);
            for (i, p) in op.parameters.iter().enumerate().filter(|(_, p)| p.reference.is_none()) {
                walk(c, &p.schema, &mut format!("{base}/parameters/{i}/schema"), &mut found);
            }
            for resp in op.responses.iter().filter(|resp| resp.reference.is_none()) {
                if let Some(schema) = &resp.schema {
                    let pointer = format!("{base}/responses/{}/schema", escape_segment(&resp.status));
                    walk(c, schema, &mut pointer.clone(), &mut found);
                }
            }
        }
    }
    for (pointer, error) in found {
        let code = match &error {
            RefError::Cycle(_) => "PB0202",
            RefError::NotFound(target) if !target.starts_with('#') => "PB0203",
            RefError::NotFound(_) => "PB0201",
        };
        r.definition(code, pointer, error.to_string());
    }
}

/// Visits every `$ref` under `value`; `pointer` is the value's pointer and is restored on return.
fn walk(c: &crate::Connector, value: &Value, pointer: &mut String, found: &mut Vec<(String, RefError)>) {
    match value {
        Value::Object(map) => {
            if ref_of(value).is_some()
                && let Err(e) = resolve_schema(c, value)
            {
                found.push((format!("{pointer}/$ref"), e));
            }
            for (key, child) in map {
                if child.is_object() || child.is_array() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape_segment(key));
                    walk(c, child, pointer, found);
                    pointer.truncate(len);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk(c, child, pointer, found);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}
