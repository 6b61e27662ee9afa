//! Parameters: `schema` flattened into Swagger 2.0 value keys, `style`/`explode` into
//! `collectionFormat`, `example`s into `x-ms-test-value`.

use super::{Doc, schema};
use crate::fields::{Ctx, Fields, kind};
use crate::import::common::{LOSS, WRONG_TYPE, child, keep_extensions, swagger};
use crate::model::{Object, Parameter};
use serde_json::Value;

/// Header names OpenAPI says to ignore as parameters.
const IGNORED_HEADERS: &[&str] = &["accept", "content-type", "authorization"];

/// A `parameters` array, `$ref`s resolved; parameters with no connector equivalent are reported.
pub(super) fn parameters(list: Option<&Value>, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Vec<Parameter> {
    let items = match list {
        None => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            ctx.emit(WRONG_TYPE, pointer, format!("`parameters` should be an array, found {}", kind(other)));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, raw) in items.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        if let Some(resolved) = doc.deref(raw, &at, ctx)
            && let Some(p) = parameter(resolved, doc, &at, ctx)
        {
            out.push(p);
        }
    }
    out
}

/// One parameter object.
fn parameter(raw: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Option<Parameter> {
    let mut f = Fields::new(raw.clone(), pointer.to_string(), ctx);
    let (Some(name), Some(location)) = (f.string("name"), f.string("in")) else {
        f.ctx().emit(WRONG_TYPE, pointer, "a parameter needs a `name` and an `in`; it was left out");
        return None;
    };
    if location == "cookie" {
        f.ctx().emit(LOSS, pointer, format!("cookie parameter `{name}` has no connector equivalent"));
        return None;
    }
    if location == "header" && IGNORED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        let message = format!("header parameter `{name}` is ignored, as OpenAPI specifies");
        f.ctx().emit(LOSS, pointer, message);
        return None;
    }
    let mut out = Object::new();
    out.insert("name".into(), Value::String(name));
    out.insert("in".into(), Value::String(location.clone()));
    if let Some(d) = f.string("description") {
        out.insert("description".into(), Value::String(d));
    }
    let required = f.bool("required").unwrap_or(false) || location == "path";
    out.insert("required".into(), Value::Bool(required));
    let style = f.string("style");
    let explode = f.bool("explode");
    let example = example(&mut f);
    if let Some(v) = f.value("allowEmptyValue") {
        out.insert("allowEmptyValue".into(), v);
    }
    let value_schema = value_schema(&mut f, doc, pointer);
    for key in ["deprecated", "allowReserved"] {
        if f.value(key).is_some() {
            let message = format!("parameter `{key}` has no Swagger 2.0 equivalent and was left out");
            f.ctx().emit(LOSS, child(pointer, key), message);
        }
    }
    let rest = f.finish();
    out.extend(keep_extensions(rest, pointer, ctx));
    if let Some(v) = example {
        out.entry("x-ms-test-value").or_insert(v);
    }
    for (k, v) in value_schema {
        out.entry(k).or_insert(v);
    }
    if out.get("type").and_then(Value::as_str) == Some("array") {
        let format = collection_format(style.as_deref(), explode, &location, pointer, ctx);
        out.insert("collectionFormat".into(), Value::String(format.into()));
    } else if matches!(style.as_deref(), Some("deepObject" | "label" | "matrix")) {
        let message =
            format!("parameter style `{}` has no Swagger 2.0 equivalent", style.unwrap_or_default());
        ctx.emit(LOSS, child(pointer, "style"), message);
    }
    Some(swagger::parameter(out, pointer, ctx))
}

/// The parameter's `schema` (or the first `content` entry's), flattened.
fn value_schema(f: &mut Fields, doc: &Doc, pointer: &str) -> Object {
    if let Some(schema) = f.value("schema") {
        return schema::flatten(&schema, doc, &child(pointer, "schema"), f.ctx());
    }
    let Some(content) = f.object("content") else { return Object::new() };
    let Some((media, entry)) = content.iter().next() else { return Object::new() };
    let message = format!("a `{media}` parameter is imported as a plain string");
    f.ctx().emit(LOSS, child(pointer, "content"), message);
    let mut flat = match entry.get("schema") {
        Some(schema) => schema::flatten(schema, doc, &child(pointer, "content"), f.ctx()),
        None => Object::new(),
    };
    flat.insert("type".into(), Value::String("string".into()));
    flat.shift_remove("format");
    flat.shift_remove("items");
    flat
}

/// `example`, or the first `examples` entry's `value`.
fn example(f: &mut Fields) -> Option<Value> {
    let example = f.value("example");
    let examples = f.object("examples");
    example.or_else(|| examples?.values().find_map(|e| e.get("value").cloned()))
}

/// `collectionFormat` of an array parameter from its `style` and `explode` (with OpenAPI's defaults).
fn collection_format(
    style: Option<&str>,
    explode: Option<bool>,
    location: &str,
    pointer: &str,
    ctx: &mut Ctx,
) -> &'static str {
    let style = style.unwrap_or(if location == "query" { "form" } else { "simple" });
    let explode = explode.unwrap_or(style == "form");
    match style {
        "form" if explode => "multi",
        "form" | "simple" => "csv",
        "spaceDelimited" => "ssv",
        "pipeDelimited" => "pipes",
        other => {
            let message =
                format!("array style `{other}` has no Swagger 2.0 equivalent; sent comma-separated");
            ctx.emit(LOSS, child(pointer, "style"), message);
            "csv"
        }
    }
}
