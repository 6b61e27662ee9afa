//! Responses: the JSON (or first) media type's schema, headers flattened, descriptions.

use super::body::choose_media;
use super::{Doc, schema};
use crate::fields::{Ctx, Fields, kind};
use crate::import::common::{LOSS, WRONG_TYPE, child, keep_extensions, swagger};
use crate::model::{Object, Response};
use serde_json::{Value, json};

/// An operation's responses and the media types they produce.
#[derive(Debug, Default)]
pub(super) struct Responses {
    /// By status, in file order.
    pub list: Vec<Response>,
    /// Every response media type, in first-seen order.
    pub produces: Vec<String>,
}

/// The `responses` object of an operation (a `default` response when there is none).
pub(super) fn responses(raw: Option<&Value>, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Responses {
    let mut out = Responses::default();
    let entries = match raw {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            ctx.emit(WRONG_TYPE, pointer, format!("`responses` should be an object, found {}", kind(other)));
            None
        }
    };
    for (status, raw) in entries.into_iter().flatten() {
        let at = child(pointer, status);
        if status.starts_with("x-") {
            ctx.emit(LOSS, at, format!("response extension `{status}` has no connector equivalent"));
            continue;
        }
        let Some(code) = status_code(status, &out.list, &at, ctx) else { continue };
        let Some(resolved) = doc.deref(raw, &at, ctx) else { continue };
        let response = response(code, resolved, doc, &at, ctx, &mut out.produces);
        out.list.push(response);
    }
    if out.list.is_empty() {
        out.list.push(swagger::default_response());
    }
    out
}

/// The Swagger 2.0 status of a response key: ranges like `2XX` become `200` when it is free.
fn status_code(status: &str, seen: &[Response], pointer: &str, ctx: &mut Ctx) -> Option<String> {
    let upper = status.to_ascii_uppercase();
    let code = match upper.strip_suffix("XX") {
        Some(digit) if digit.len() == 1 => {
            let code = format!("{digit}00");
            let message =
                format!("status range `{status}` has no Swagger 2.0 equivalent; imported as `{code}`");
            ctx.emit(LOSS, pointer, message);
            code
        }
        _ => status.to_string(),
    };
    if seen.iter().any(|r| r.status == code) {
        ctx.emit(LOSS, pointer, format!("status `{code}` is already described; `{status}` was left out"));
        return None;
    }
    Some(code)
}

/// One response object.
fn response(
    status: String,
    raw: &Value,
    doc: &Doc,
    pointer: &str,
    ctx: &mut Ctx,
    produces: &mut Vec<String>,
) -> Response {
    let mut f = Fields::new(raw.clone(), pointer.to_string(), ctx);
    let description = f.string("description").unwrap_or_else(|| format!("Response {status}"));
    let headers = f.object("headers").unwrap_or_default();
    let content = f.object("content").unwrap_or_default();
    if f.value("links").is_some() {
        f.ctx().emit(LOSS, child(pointer, "links"), "response `links` have no connector equivalent");
    }
    let rest = f.finish();
    let mut extra = keep_extensions(rest, pointer, ctx);
    for media in content.keys() {
        if !produces.contains(media) {
            produces.push(media.clone());
        }
    }
    let mut schema = None;
    if let Some((media, entry)) = choose_media(&content).and_then(|m| Some((m.clone(), content.get(&m)?))) {
        let at = child(&child(pointer, "content"), &media);
        schema = entry.get("schema").map(|s| schema::convert_schema(s, doc, &child(&at, "schema"), ctx));
        let example = entry
            .get("example")
            .cloned()
            .or_else(|| entry.get("examples")?.as_object()?.values().find_map(|e| e.get("value").cloned()));
        if let Some(example) = example {
            extra.insert("examples".into(), json!({ media: example }));
        }
    }
    let headers_pointer = child(pointer, "headers");
    let headers = headers
        .iter()
        .filter_map(|(name, raw)| {
            let at = child(&headers_pointer, name);
            let resolved = doc.deref(raw, &at, ctx)?;
            Some((name.clone(), header(resolved, doc, &at, ctx)))
        })
        .collect();
    Response { status, reference: None, description: Some(description), schema, headers, extra }
}

/// A response header: its schema flattened into Swagger 2.0 header keys.
fn header(raw: &Value, doc: &Doc, pointer: &str, ctx: &mut Ctx) -> Value {
    let mut f = Fields::new(raw.clone(), pointer.to_string(), ctx);
    let mut out = Object::new();
    if let Some(d) = f.string("description") {
        out.insert("description".into(), Value::String(d));
    }
    let flat = match (f.value("schema"), f.object("content")) {
        (Some(s), _) => schema::flatten(&s, doc, &child(pointer, "schema"), f.ctx()),
        (None, Some(content)) => match content.values().next().and_then(|e| e.get("schema")) {
            Some(s) => schema::flatten(s, doc, &child(pointer, "content"), f.ctx()),
            None => Object::new(),
        },
        (None, None) => Object::new(),
    };
    for key in ["required", "style", "explode", "example", "examples", "deprecated"] {
        f.value(key);
    }
    let rest = f.finish();
    out.extend(keep_extensions(rest, pointer, ctx));
    for (k, v) in flat {
        if k != "x-ms-test-value" {
            out.entry(k).or_insert(v);
        }
    }
    if !out.contains_key("type") {
        out.insert("type".into(), json!("string"));
    }
    Value::Object(out)
}
