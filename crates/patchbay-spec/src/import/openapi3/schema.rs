//! JSON Schemas: OpenAPI 3.0/3.1 flavour rewritten into Swagger 2.0 (draft-4) flavour.
//!
//! `$ref`s to `#/components/schemas/X` become `#/definitions/X`; `nullable: true` and 3.1's
//! `type: [T, "null"]` become `x-nullable: true`; `const` becomes a one-value `enum`; 3.1's
//! `examples` becomes `example` (the first one) and numeric `exclusiveMinimum`/`Maximum` the
//! draft-4 pair. `oneOf`/`anyOf` with a single alternative (besides `null`) are folded in;
//! keywords without a Swagger 2.0 equivalent are left out and reported.

use super::Doc;
use crate::fields::{Ctx, kind};
use crate::import::common::{LOSS, WRONG_TYPE, child};
use crate::model::{Object, VALUE_SCHEMA_KEYS};
use serde_json::{Value, json};

/// Swagger 2.0 schema keywords kept as they are.
const KEPT: &[&str] = &[
    "format",
    "title",
    "description",
    "default",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "readOnly",
    "xml",
    "externalDocs",
    "example",
];

/// How deep schemas are followed before the rest is dropped.
const MAX_DEPTH: usize = 64;

/// `components.schemas`, converted, as the connector's definitions.
pub(super) fn definitions(doc: &Doc, ctx: &mut Ctx) -> Object {
    let Some(schemas) = doc.root.pointer("/components/schemas") else { return Object::new() };
    let Some(map) = schemas.as_object() else {
        ctx.emit(WRONG_TYPE, "/components/schemas", "`components.schemas` should be an object");
        return Object::new();
    };
    map.iter()
        .map(|(name, schema)| {
            let pointer = child("/components/schemas", name);
            (name.clone(), convert_schema(schema, doc, &pointer, ctx))
        })
        .collect()
}

/// One schema, converted to Swagger 2.0 flavour.
pub(super) fn convert_schema(schema: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Value {
    convert(schema, doc, pointer, ctx, 0)
}

/// [`convert_schema`] at some depth.
fn convert(schema: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx, depth: usize) -> Value {
    let map = match schema {
        Value::Object(map) => map,
        Value::Bool(true) => return json!({}),
        other => {
            let message =
                format!("a schema should be an object, found {}; it now accepts any value", kind(other));
            ctx.emit(WRONG_TYPE, pointer, message);
            return json!({});
        }
    };
    if depth > MAX_DEPTH {
        ctx.emit(LOSS, pointer, "the schema is nested too deeply; the rest was left out");
        return json!({});
    }
    if let Some(inlined) = inline_local_ref(map, doc, pointer, ctx, depth) {
        return inlined;
    }
    let mut out = Object::new();
    let mut folded = Vec::new();
    for (key, value) in map {
        let at = child(pointer, key);
        match key.as_str() {
            "$ref" => {
                out.insert(key.clone(), value.clone());
            }
            "nullable" => {
                if value.as_bool() == Some(true) {
                    out.insert("x-nullable".into(), Value::Bool(true));
                }
            }
            "type" => convert_type(value, &mut out, &at, ctx),
            "properties" => {
                let props = value.as_object().into_iter().flatten();
                let converted = props
                    .map(|(k, v)| (k.clone(), convert(v, doc, &child(&at, k), ctx, depth + 1)))
                    .collect();
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" => {
                let first = match value {
                    Value::Array(list) => {
                        ctx.emit(LOSS, at.as_str(), "tuple `items` keep only the first item schema");
                        list.first().cloned().unwrap_or_else(|| json!({}))
                    }
                    other => other.clone(),
                };
                out.insert(key.clone(), convert(&first, doc, &at, ctx, depth + 1));
            }
            "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), convert(value, doc, &at, ctx, depth + 1));
            }
            "additionalProperties" => {
                out.insert(key.clone(), value.clone());
            }
            "allOf" => {
                let parts = value.as_array().into_iter().flatten().enumerate();
                let converted =
                    parts.map(|(i, v)| convert(v, doc, &format!("{at}/{i}"), ctx, depth + 1)).collect();
                out.insert(key.clone(), Value::Array(converted));
            }
            "anyOf" | "oneOf" => alternatives(value, doc, &at, ctx, depth, &mut out, &mut folded),
            _ => convert_keyword(key, value, map, &at, ctx, &mut out),
        }
    }
    if !folded.is_empty() {
        match out.get_mut("allOf") {
            Some(Value::Array(list)) => list.extend(folded),
            _ => {
                out.insert("allOf".into(), Value::Array(folded));
            }
        }
    }
    Value::Object(out)
}

/// Keywords that are kept, renamed or reported, one at a time.
fn convert_keyword(key: &str, value: &Value, map: &Object, at: &str, ctx: &mut Ctx, out: &mut Object) {
    match key {
        "const" if !map.contains_key("enum") => {
            out.insert("enum".into(), json!([value]));
            let implied = match value {
                Value::String(_) => Some("string"),
                Value::Bool(_) => Some("boolean"),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
                Value::Number(_) => Some("number"),
                _ => None,
            };
            if let Some(t) = implied.filter(|_| !map.contains_key("type")) {
                out.insert("type".into(), json!(t));
            }
        }
        "examples" => match value.as_array().map(Vec::as_slice) {
            Some([first, rest @ ..]) => {
                if !map.contains_key("example") {
                    out.insert("example".into(), first.clone());
                }
                if !rest.is_empty() {
                    ctx.emit(
                        LOSS,
                        at,
                        "Swagger 2.0 schemas have one `example`: the first of `examples` is kept",
                    );
                }
            }
            Some([]) => {}
            None => ctx.emit(LOSS, at, "`examples` here has no Swagger 2.0 equivalent and was left out"),
        },
        "exclusiveMinimum" | "exclusiveMaximum" if value.is_number() => {
            let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
            out.insert(bound.into(), value.clone());
            out.insert(key.into(), Value::Bool(true));
        }
        "exclusiveMinimum" | "exclusiveMaximum" => {
            out.insert(key.into(), value.clone());
        }
        "discriminator" => match value {
            Value::String(_) => {
                out.insert(key.into(), value.clone());
            }
            _ => {
                if let Some(name) = value.get("propertyName").and_then(Value::as_str) {
                    out.insert(key.into(), Value::String(name.to_string()));
                }
                if value.get("mapping").is_some() {
                    ctx.emit(
                        LOSS,
                        child(at, "mapping"),
                        "a discriminator `mapping` has no Swagger 2.0 equivalent",
                    );
                }
            }
        },
        "contentEncoding" if value == "base64" && !map.contains_key("format") => {
            out.insert("format".into(), Value::String("byte".into()));
        }
        "contentMediaType" if !map.contains_key("format") => {
            out.insert("format".into(), Value::String("binary".into()));
        }
        "contentMediaType" | "contentEncoding" | "$comment" => {}
        k if k.starts_with("x-") || KEPT.contains(&k) => {
            out.insert(key.into(), value.clone());
        }
        _ => {
            let message = format!("schema keyword `{key}` has no Swagger 2.0 equivalent and was left out");
            ctx.emit(LOSS, at, message);
        }
    }
}

/// A `$ref` to another place of the document than `components.schemas`, replaced by its target.
/// References to `components.schemas` are rewritten; external ones are kept and reported.
fn inline_local_ref(map: &Object, doc: &Doc, pointer: &str, ctx: &mut Ctx, depth: usize) -> Option<Value> {
    let reference = map.get("$ref")?.as_str()?;
    if let Some(name) = reference.strip_prefix("#/components/schemas/") {
        let rewritten = json!({ "$ref": format!("#/definitions/{name}") });
        let mut out = convert_siblings(map, doc, pointer, ctx, depth);
        if out.is_empty() {
            return Some(rewritten);
        }
        match out.get_mut("allOf") {
            Some(Value::Array(parts)) => parts.insert(0, rewritten),
            _ => {
                out.insert("allOf".into(), json!([rewritten]));
            }
        }
        return Some(Value::Object(out));
    }
    if !reference.starts_with('#') {
        let message =
            format!("external reference `{reference}` is kept as written; its file is not imported");
        ctx.emit(LOSS, child(pointer, "$ref"), message);
        return None;
    }
    let target = doc.lookup(reference, &child(pointer, "$ref"), ctx)?;
    Some(convert(target, doc, pointer, ctx, depth + 1))
}

/// What sits beside a `$ref` (3.1 allows annotations there), converted; the caller puts the
/// reference under `allOf` so Swagger 2.0 tools do not ignore them.
fn convert_siblings(map: &Object, doc: &Doc, pointer: &str, ctx: &mut Ctx, depth: usize) -> Object {
    let siblings: Object =
        map.iter().filter(|(k, _)| *k != "$ref").map(|(k, v)| (k.clone(), v.clone())).collect();
    if siblings.is_empty() {
        return Object::new();
    }
    match convert(&Value::Object(siblings), doc, pointer, ctx, depth + 1) {
        Value::Object(out) => out,
        _ => Object::new(),
    }
}

/// `type`: a single type kept; `"null"` (alone or in a 3.1 type array) becomes `x-nullable`.
fn convert_type(value: &Value, out: &mut Object, at: &str, ctx: &mut Ctx) {
    match value {
        Value::String(t) if t == "null" => {
            out.insert("x-nullable".into(), Value::Bool(true));
        }
        Value::String(_) => {
            out.insert("type".into(), value.clone());
        }
        Value::Array(types) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if names.contains(&"null") {
                out.insert("x-nullable".into(), Value::Bool(true));
            }
            let real: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
            match real.as_slice() {
                [] => {}
                [single] => {
                    out.insert("type".into(), Value::String((*single).to_string()));
                }
                several => {
                    let message =
                        format!("a value of several types ({}) has no Swagger 2.0 type", several.join(", "));
                    ctx.emit(LOSS, at, message);
                }
            }
        }
        other => ctx.emit(WRONG_TYPE, at, format!("`type` should be a string, found {}", kind(other))),
    }
}

/// `anyOf`/`oneOf`: `null` alternatives become `x-nullable`; a single remaining alternative is
/// folded in (a `$ref` through `allOf`); several are reported.
fn alternatives(
    value: &Value,
    doc: &Doc,
    at: &str,
    ctx: &mut Ctx,
    depth: usize,
    out: &mut Object,
    folded: &mut Vec<Value>,
) {
    let Some(list) = value.as_array() else {
        ctx.emit(WRONG_TYPE, at, "alternatives should be an array; left out");
        return;
    };
    let is_null = |v: &Value| v.get("type").is_some_and(|t| t == "null" || *t == json!(["null"]));
    if list.iter().any(is_null) {
        out.insert("x-nullable".into(), Value::Bool(true));
    }
    let real: Vec<(usize, &Value)> = list.iter().enumerate().filter(|(_, v)| !is_null(v)).collect();
    match real.as_slice() {
        [] => {}
        [(i, single)] => {
            let converted = convert(single, doc, &format!("{at}/{i}"), ctx, depth + 1);
            if converted.get("$ref").is_some() {
                folded.push(converted);
            } else if let Value::Object(map) = converted {
                for (k, v) in map {
                    out.entry(k).or_insert(v);
                }
            }
        }
        several => {
            let message = format!(
                "{} alternatives have no Swagger 2.0 equivalent; the value is left unconstrained",
                several.len()
            );
            ctx.emit(LOSS, at, message);
        }
    }
}

/// A schema with `$ref`s and `allOf` at its top (and its `items`') replaced by their targets:
/// what a non-body parameter, a header or a form needs, since Swagger 2.0 has no `$ref` there.
pub(super) fn inline(schema: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx, depth: usize) -> Value {
    let Some(map) = schema.as_object() else { return schema.clone() };
    if depth > MAX_DEPTH {
        return schema.clone();
    }
    let mut out = if map.contains_key("$ref") {
        let target = doc.deref(schema, pointer, ctx).cloned().unwrap_or_else(|| json!({}));
        let mut resolved = match inline(&target, doc, pointer, ctx, depth + 1) {
            Value::Object(m) => m,
            _ => Object::new(),
        };
        for (k, v) in map.iter().filter(|(k, _)| *k != "$ref") {
            resolved.insert(k.clone(), v.clone());
        }
        resolved
    } else {
        map.clone()
    };
    if let Some(Value::Array(parts)) = out.shift_remove("allOf") {
        for part in &parts {
            if let Value::Object(part) = inline(part, doc, pointer, ctx, depth + 1) {
                merge_into(&mut out, part);
            }
        }
    }
    if let Some(items) = out.get("items").cloned() {
        out.insert("items".into(), inline(&items, doc, &child(pointer, "items"), ctx, depth + 1));
    }
    Value::Object(out)
}

/// Merges an `allOf` part: properties and required lists are combined, other keys added when absent.
fn merge_into(out: &mut Object, part: Object) {
    for (key, value) in part {
        match (key.as_str(), out.get_mut(&key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (k, v) in theirs {
                    mine.entry(k).or_insert(v);
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for v in theirs {
                    if !mine.contains(&v) {
                        mine.push(v);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                out.insert(key, value);
            }
        }
    }
}

/// A non-body value's schema as Swagger 2.0 parameter keys: the value keys, extensions,
/// `description`, `title` as `x-ms-summary` and `example` as `x-ms-test-value`.
pub(super) fn flatten(schema: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Object {
    let inlined = inline(schema, doc, pointer, ctx, 0);
    let converted = convert_schema(&inlined, doc, pointer, ctx);
    value_keys(converted, pointer, ctx, 0)
}

/// The keys of a converted schema that a Swagger 2.0 parameter (or its `items`) can hold.
fn value_keys(schema: Value, pointer: &str, ctx: &mut Ctx, depth: usize) -> Object {
    let mut out = Object::new();
    let Value::Object(map) = schema else { return out };
    let top = depth == 0;
    for (key, value) in map {
        match key.as_str() {
            "items" if depth < MAX_DEPTH => {
                let items = value_keys(value, &child(pointer, "items"), ctx, depth + 1);
                out.insert(key, Value::Object(items));
            }
            "type" if value == "object" => {
                let message =
                    "an object-valued parameter has no Swagger 2.0 equivalent; it is sent as a string";
                ctx.emit(LOSS, pointer, message);
                out.insert(key, Value::String("string".into()));
            }
            k if VALUE_SCHEMA_KEYS.contains(&k) || k.starts_with("x-") => {
                out.insert(key, value);
            }
            "description" if top => {
                out.insert(key, value);
            }
            "title" if top => {
                out.insert("x-ms-summary".into(), value);
            }
            "example" if top => {
                out.insert("x-ms-test-value".into(), value);
            }
            "properties" | "additionalProperties" | "discriminator" => {
                let message = format!("`{key}` does not apply to a non-body value and was left out");
                ctx.emit(LOSS, child(pointer, &key), message);
            }
            _ => {}
        }
    }
    if !out.contains_key("type") {
        out.insert("type".into(), Value::String("string".into()));
    }
    if out.get("type").and_then(Value::as_str) == Some("array") && !out.contains_key("items") {
        out.insert("items".into(), json!({ "type": "string" }));
    }
    out
}
