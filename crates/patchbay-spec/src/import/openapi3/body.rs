//! `requestBody` → one `body` parameter, or one `formData` parameter per form field.

use super::{Doc, schema};
use crate::fields::{Ctx, Fields};
use crate::import::common::{LOSS, child, keep_extensions, swagger};
use crate::model::{Object, Parameter};
use serde_json::{Value, json};

/// Media types whose body is a form.
const FORMS: &[&str] = &["application/x-www-form-urlencoded", "multipart/form-data"];

/// What a request body becomes.
#[derive(Debug, Default)]
pub(super) struct RequestBody {
    /// The `body` parameter or the `formData` parameters.
    pub parameters: Vec<Parameter>,
    /// The media type sent (`consumes`).
    pub consumes: Vec<String>,
}

/// The parameters of a `requestBody` (resolved when it is a `$ref`).
pub(super) fn request_body(raw: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> RequestBody {
    let Some(body) = doc.deref(raw, pointer, ctx) else { return RequestBody::default() };
    let mut f = Fields::new(body.clone(), pointer.to_string(), ctx);
    let description = f.string("description");
    let required = f.bool("required").unwrap_or(false);
    let content = f.object("content").unwrap_or_default();
    let rest = f.finish();
    let extensions = keep_extensions(rest, pointer, ctx);
    let Some(media) = choose_media(&content) else { return RequestBody::default() };
    let content_pointer = child(pointer, "content");
    for other in content.keys().filter(|k| **k != media) {
        let message = format!("request media type `{other}` is not imported; the connector sends `{media}`");
        ctx.emit(LOSS, child(&content_pointer, other), message);
    }
    let entry = content.get(&media).cloned().unwrap_or(Value::Null);
    let at = child(&content_pointer, &media);
    let parameters = if FORMS.contains(&media.to_ascii_lowercase().as_str()) {
        form_parameters(&entry, doc, &at, ctx)
    } else {
        let mut out = Object::new();
        out.insert("name".into(), json!("body"));
        out.insert("in".into(), json!("body"));
        out.insert("required".into(), Value::Bool(required));
        if let Some(d) = description {
            out.insert("description".into(), Value::String(d));
        }
        out.insert("schema".into(), body_schema(&entry, &media, doc, &at, ctx));
        out.extend(extensions);
        vec![swagger::parameter(out, pointer, ctx)]
    };
    RequestBody { parameters, consumes: vec![media] }
}

/// The media type imported: JSON first, then a form, then the first one.
pub(super) fn choose_media(content: &Object) -> Option<String> {
    let keys = || content.keys();
    let json = keys().find(|k| k.eq_ignore_ascii_case("application/json"));
    let json_ish = || keys().find(|k| k.to_ascii_lowercase().contains("json"));
    let form = || keys().find(|k| FORMS.contains(&k.to_ascii_lowercase().as_str()));
    json.or_else(json_ish).or_else(form).or_else(|| keys().next()).cloned()
}

/// The converted schema of a non-form body; a body without one is a binary stream, and the
/// media type's first example becomes the schema's `example` where one can go.
fn body_schema(entry: &Value, media: &str, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Value {
    let mut converted = match entry.get("schema") {
        Some(s) => schema::convert_schema(s, doc, &child(pointer, "schema"), ctx),
        None if media.to_ascii_lowercase().contains("json") => json!({}),
        None => json!({"type": "string", "format": "binary"}),
    };
    let example = entry.get("example").cloned().or_else(|| {
        let examples = entry.get("examples")?.as_object()?;
        examples.values().find_map(|e| e.get("value").cloned())
    });
    if let (Some(example), Some(map)) = (example, converted.as_object_mut())
        && !map.contains_key("$ref")
        && !map.contains_key("example")
    {
        map.insert("example".into(), example);
    }
    if entry.get("encoding").is_some() {
        ctx.emit(LOSS, child(pointer, "encoding"), "`encoding` has no Swagger 2.0 equivalent");
    }
    converted
}

/// One `formData` parameter per property of a form's schema; binary fields become `file`s.
fn form_parameters(entry: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Vec<Parameter> {
    let schema_pointer = child(pointer, "schema");
    let schema = entry.get("schema").map(|s| schema::inline(s, doc, &schema_pointer, ctx, 0));
    let properties = schema.as_ref().and_then(|s| s.get("properties")).and_then(Value::as_object);
    let Some(properties) = properties else {
        ctx.emit(LOSS, schema_pointer, "a form without `properties` has no fields to import");
        return Vec::new();
    };
    if entry.get("encoding").is_some() {
        ctx.emit(LOSS, child(pointer, "encoding"), "per-field `encoding` has no Swagger 2.0 equivalent");
    }
    let required: Vec<&str> = schema
        .as_ref()
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props_pointer = child(&schema_pointer, "properties");
    let mut out = Vec::new();
    for (name, property) in properties {
        let at = child(&props_pointer, name);
        let mut flat = schema::flatten(property, doc, &at, ctx);
        if is_binary(&flat) {
            if flat.get("type").and_then(Value::as_str) == Some("array") {
                ctx.emit(
                    LOSS,
                    at.as_str(),
                    "Swagger 2.0 form fields hold one file; the array became one file",
                );
            }
            flat.shift_remove("format");
            flat.shift_remove("items");
            flat.shift_remove("collectionFormat");
            flat.insert("type".into(), json!("file"));
        }
        let mut param = Object::new();
        param.insert("name".into(), Value::String(name.clone()));
        param.insert("in".into(), json!("formData"));
        param.insert("required".into(), Value::Bool(required.contains(&name.as_str())));
        for (k, v) in flat {
            param.entry(k).or_insert(v);
        }
        out.push(swagger::parameter(param, &at, ctx));
    }
    out
}

/// Whether a flattened field holds a file (`format: binary`, or an array of them).
fn is_binary(flat: &Object) -> bool {
    let binary = |m: &Object| m.get("format").and_then(Value::as_str) == Some("binary");
    binary(flat) || flat.get("items").and_then(Value::as_object).is_some_and(binary)
}
