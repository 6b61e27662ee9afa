//! Callbacks → webhook triggers, where they fit the connector pattern (spec §5.3): the
//! callback URL is a property of the request body, which gets `x-ms-notification-url`, and the
//! callback's request body becomes the path's `x-ms-notification-content`.

use super::body::choose_media;
use super::operations::METHODS;
use super::{Doc, schema};
use crate::fields::Ctx;
use crate::import::common::{LOSS, child};
use crate::model::{Cardinality, Location, Object, Operation, PathItem};
use serde_json::{Value, json};

/// How deep `$ref`s and properties are followed to the callback URL property.
const MAX_DEPTH: usize = 32;

/// Turns the operation into a webhook trigger from its first fitting callback; reports the rest.
pub(super) fn apply(
    op: &mut Operation,
    item: &mut PathItem,
    callbacks: &Object,
    doc: &Doc,
    definitions: &Object,
    pointer: &str,
    ctx: &mut Ctx,
) {
    let base = child(pointer, "callbacks");
    for (name, raw) in callbacks {
        let at = child(&base, name);
        let Some(callback) = doc.deref(raw, &at, ctx) else { continue };
        for (expression, callback_item) in callback.as_object().into_iter().flatten() {
            if expression.starts_with("x-") {
                continue;
            }
            let expr_at = child(&at, expression);
            let result = if item.notification_content.is_some() {
                Err("the path already carries a webhook's notification content".to_string())
            } else {
                webhook(op, expression, definitions)
            };
            match result {
                Ok(()) => {
                    let content = notification_content(callback_item, doc, &expr_at, ctx);
                    item.notification_content = Some(content);
                    op.trigger.get_or_insert(Cardinality::Single);
                }
                Err(reason) => ctx.emit(
                    LOSS,
                    expr_at,
                    format!("callback `{name}` is not imported as a trigger: {reason}"),
                ),
            }
        }
    }
}

/// Marks the body property the callback URL comes from, or says why the callback does not fit.
fn webhook(op: &mut Operation, expression: &str, definitions: &Object) -> Result<(), String> {
    let property = expression
        .strip_prefix("{$request.body#")
        .and_then(|r| r.strip_suffix('}'))
        .ok_or("its URL is not a request body property (`{$request.body#/…}`)")?;
    let segments: Vec<String> =
        property.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    if segments.is_empty() || segments.iter().any(String::is_empty) {
        return Err(format!("`{property}` does not name a body property"));
    }
    let body = op
        .parameters
        .iter_mut()
        .find(|p| p.location == Location::Body)
        .ok_or("the operation has no JSON body to carry the callback URL")?;
    let mut schema = body.schema.clone();
    if !mark(&mut schema, &segments, definitions, 0) {
        return Err(format!("the request body has no property `{}`", segments.join("/")));
    }
    body.schema = schema;
    Ok(())
}

/// Sets `x-ms-notification-url` and `x-ms-visibility: internal` on the property at `path`,
/// inlining the `$ref`s on the way so shared definitions stay as they are.
fn mark(schema: &mut Value, path: &[String], definitions: &Object, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/definitions/").unwrap_or_default();
        let Some(Value::Object(target)) = definitions.get(&name.replace("~1", "/").replace("~0", "~")) else {
            return false;
        };
        let mut inlined = target.clone();
        for (k, v) in schema.as_object().into_iter().flatten().filter(|(k, _)| *k != "$ref") {
            inlined.insert(k.clone(), v.clone());
        }
        *schema = Value::Object(inlined);
    }
    let Some((first, rest)) = path.split_first() else {
        let Some(map) = schema.as_object_mut() else { return false };
        map.insert("x-ms-notification-url".into(), Value::Bool(true));
        map.insert("x-ms-visibility".into(), json!("internal"));
        return true;
    };
    if let Some(property) = schema.get_mut("properties").and_then(|p| p.get_mut(first)) {
        return mark(property, rest, definitions, depth + 1);
    }
    if let Some(Value::Array(parts)) = schema.get_mut("allOf") {
        return parts.iter_mut().any(|part| mark(part, path, definitions, depth + 1));
    }
    false
}

/// `x-ms-notification-content` from the callback's request: its body schema and a description.
fn notification_content(callback_item: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Value {
    let resolved = doc.deref(callback_item, pointer, ctx).unwrap_or(&Value::Null);
    let found = ["post", "put"].into_iter().chain(METHODS).find_map(|m| Some((m, resolved.get(m)?)));
    let Some((method, request)) = found else { return json!({ "schema": { "type": "object" } }) };
    let at = child(pointer, method);
    let body = request.get("requestBody").and_then(|b| doc.deref(b, &child(&at, "requestBody"), ctx));
    let description = ["summary", "description"]
        .iter()
        .find_map(|k| request.get(*k))
        .or_else(|| body?.get("description"))
        .and_then(Value::as_str);
    let content = body.and_then(|b| b.get("content")).and_then(Value::as_object);
    let schema = content.and_then(|c| {
        let media = choose_media(c)?;
        let schema_at = child(&child(&child(&at, "requestBody"), "content"), &media);
        Some(schema::convert_schema(c.get(&media)?.get("schema")?, doc, &child(&schema_at, "schema"), ctx))
    });
    let mut out = Object::new();
    if let Some(d) = description {
        out.insert("description".into(), json!(d));
    }
    out.insert("schema".into(), schema.unwrap_or_else(|| json!({ "type": "object" })));
    Value::Object(out)
}

/// A path item's own `x-ms-notification-content`, its schema converted.
pub(super) fn convert_notification(mut value: Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Value {
    if let Some(map) = value.as_object_mut()
        && let Some(s) = map.get("schema").cloned()
    {
        map.insert("schema".into(), schema::convert_schema(&s, doc, &child(pointer, "schema"), ctx));
    }
    value
}
