//! One request → one operation: parameters, body, saved example responses, security.

use super::Draft;
use super::auth::{Effective, Registry};
use super::infer::infer_schema;
use super::url::Entry;
use super::vars::{Vars, text_of};
use crate::fields::Ctx;
use crate::import::common::names::{Unique, pascal_case, route_id};
use crate::import::common::{LOSS, child, swagger};
use crate::model::{Location, Operation, Parameter, Response};
use serde_json::{Value, json};

/// Response headers that describe the transport, not the API.
const TRANSPORT_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "date",
    "connection",
    "keep-alive",
    "server",
    "transfer-encoding",
    "vary",
    "via",
    "etag",
    "cache-control",
    "expires",
    "pragma",
    "strict-transport-security",
    "x-powered-by",
    "set-cookie",
];

/// The operation of one request, at `path` (relative to the base path).
pub(super) fn operation(
    draft: &Draft,
    path: &str,
    registry: &Registry,
    top: Effective,
    ids: &mut Unique,
    ctx: &mut Ctx,
) -> Operation {
    let mut op = Operation::new(draft.method, path);
    let base = pascal_case([draft.name.as_str()]);
    let base = if base.is_empty() { route_id(draft.method, path) } else { base };
    op.id = Some(ids.claim(&base, ""));
    op.summary = Some(draft.name.clone()).filter(|n| !n.trim().is_empty());
    op.description = text_of(draft.request.get("description"));
    if let Some(folder) = &draft.folder {
        op.extra.insert("tags".into(), json!([folder]));
    }
    let credential = registry.credential(draft.auth);
    op.parameters = draft.url.params.iter().map(|e| simple(e, Location::Path, true)).collect();
    op.parameters.extend(query_parameters(&draft.url.query, credential.as_ref()));
    let headers = header_entries(draft.request.get("header"), &draft.vars);
    let content_type = find_header(&headers, "content-type");
    let request_pointer = child(&draft.pointer, "request");
    op.parameters.extend(header_parameters(&headers, credential.as_ref(), &request_pointer, ctx));
    if let Some(body) = draft.request.get("body") {
        let (params, media) =
            body_parameters(body, content_type.as_deref(), &draft.vars, &request_pointer, ctx);
        op.parameters.extend(params);
        op.consumes.extend(media);
    }
    let (responses, produces) = responses(&draft.responses);
    op.responses = responses;
    op.produces = produces;
    if op.produces.is_empty() {
        op.produces.extend(find_header(&headers, "accept").filter(|a| !a.contains('*')));
    }
    op.security = security(draft.auth, top, registry);
    op
}

/// A string parameter with its example as `x-ms-test-value`.
fn simple(entry: &Entry, location: Location, required: bool) -> Parameter {
    let mut p = Parameter::new(&entry.key, location);
    p.required = required;
    p.description = entry.description.clone();
    p.schema = json!({"type": "string"});
    p.test_value = entry.value.clone().filter(|v| !v.is_empty() && !v.contains("{{")).map(Value::String);
    p
}

/// Query parameters; a key given several times becomes a `multi` array.
fn query_parameters(entries: &[Entry], credential: Option<&(Location, String)>) -> Vec<Parameter> {
    let mut groups: Vec<Vec<&Entry>> = Vec::new();
    for entry in entries {
        if credential.is_some_and(|(l, n)| *l == Location::Query && *n == entry.key) {
            continue;
        }
        match groups.iter_mut().find(|g| g[0].key == entry.key) {
            Some(group) => group.push(entry),
            None => groups.push(vec![entry]),
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let mut p = simple(group[0], Location::Query, false);
            if group.len() > 1 {
                p.schema = json!({"type": "array", "items": {"type": "string"}});
                p.collection_format = Some("multi".into());
                let values: Vec<Value> =
                    group.iter().filter_map(|e| e.value.clone()).map(Value::String).collect();
                p.test_value = Some(Value::Array(values));
                p.description = group.iter().find_map(|e| e.description.clone());
            }
            p
        })
        .collect()
}

/// The enabled headers: v2.1 writes `[{key, value}]`, v2.0 also a `Key: value` text.
fn header_entries(header: Option<&Value>, vars: &Vars) -> Vec<Entry> {
    match header {
        Some(Value::Array(list)) => list
            .iter()
            .filter(|h| h.get("disabled").and_then(Value::as_bool) != Some(true))
            .filter_map(|h| {
                let key = h.get("key")?.as_str()?.to_string();
                let value = h.get("value").and_then(Value::as_str).map(|v| vars.substitute(v));
                Some(Entry { key, value, description: text_of(h.get("description")) })
            })
            .collect(),
        Some(Value::String(text)) => text
            .lines()
            .filter_map(|line| {
                let (key, value) = line.split_once(':')?;
                Some(Entry {
                    key: key.trim().to_string(),
                    value: Some(vars.substitute(value.trim())),
                    description: None,
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A header's value, by case-insensitive name, without media type parameters.
fn find_header(headers: &[Entry], name: &str) -> Option<String> {
    let value = headers.iter().find(|h| h.key.eq_ignore_ascii_case(name))?.value.as_deref()?;
    let media = value.split(';').next().unwrap_or_default().trim();
    (!media.is_empty()).then(|| media.to_string())
}

/// Header parameters, without `Content-Type`, `Accept` and the credential header.
fn header_parameters(
    headers: &[Entry],
    credential: Option<&(Location, String)>,
    pointer: &str,
    ctx: &mut Ctx,
) -> Vec<Parameter> {
    let mut out = Vec::new();
    for header in headers {
        let key = header.key.to_ascii_lowercase();
        if key == "content-type" || key == "accept" {
            continue;
        }
        if credential.is_some_and(|(l, n)| *l == Location::Header && n.eq_ignore_ascii_case(&key)) {
            continue;
        }
        if key == "authorization" {
            let message =
                "an `Authorization` header is a credential, not a parameter: set the request's auth instead";
            ctx.emit(LOSS, child(pointer, "header"), message);
            continue;
        }
        out.push(simple(header, Location::Header, false));
    }
    out
}

/// The body as a `body` parameter (schema inferred from a JSON example) or `formData` parameters,
/// with the media type sent.
fn body_parameters(
    body: &Value,
    content_type: Option<&str>,
    vars: &Vars,
    pointer: &str,
    ctx: &mut Ctx,
) -> (Vec<Parameter>, Option<String>) {
    if body.get("disabled").and_then(Value::as_bool) == Some(true) {
        return (Vec::new(), None);
    }
    let at = child(pointer, "body");
    let mode = body.get("mode").and_then(Value::as_str).unwrap_or_default();
    let media = |default: &str| Some(content_type.unwrap_or(default).to_string());
    match mode {
        "raw" => raw_body(body, content_type, vars, &at, ctx),
        "urlencoded" | "formdata" => {
            let params = form_fields(body.get(mode), vars);
            let default =
                if mode == "formdata" { "multipart/form-data" } else { "application/x-www-form-urlencoded" };
            (params, media(default))
        }
        "file" => {
            let schema = json!({"type": "string", "format": "binary"});
            (vec![body_parameter(schema)], media("application/octet-stream"))
        }
        "graphql" => {
            ctx.emit(LOSS, at, "a GraphQL body is imported as a JSON body with `query` and `variables`");
            let schema = json!({"type": "object", "properties": {"query": {"type": "string"}, "variables": {"type": "object"}}});
            (vec![body_parameter(schema)], media("application/json"))
        }
        "" => (Vec::new(), None),
        other => {
            ctx.emit(LOSS, at, format!("`{other}` bodies have no connector equivalent"));
            (Vec::new(), None)
        }
    }
}

/// A `raw` body: JSON gets an inferred schema, anything else is a string.
fn raw_body(
    body: &Value,
    content_type: Option<&str>,
    vars: &Vars,
    pointer: &str,
    ctx: &mut Ctx,
) -> (Vec<Parameter>, Option<String>) {
    let text = body.get("raw").and_then(Value::as_str).unwrap_or_default();
    if text.trim().is_empty() {
        return (Vec::new(), None);
    }
    let language = body.pointer("/options/raw/language").and_then(Value::as_str);
    let declared = content_type.map(str::to_string).or_else(|| match language? {
        "json" => Some("application/json".to_string()),
        "xml" => Some("application/xml".to_string()),
        "html" => Some("text/html".to_string()),
        "javascript" => Some("application/javascript".to_string()),
        _ => Some("text/plain".to_string()),
    });
    let json_declared = declared.as_deref().is_some_and(|m| m.contains("json"));
    match parse_example(text, vars).filter(|_| json_declared || declared.is_none()) {
        Some(example) => {
            let media = declared.unwrap_or_else(|| "application/json".to_string());
            (vec![body_parameter(infer_schema(&example))], Some(media))
        }
        None => {
            if json_declared {
                ctx.emit(LOSS, pointer, "the raw body is not valid JSON; it is imported as a string");
            }
            let media = declared.unwrap_or_else(|| "text/plain".to_string());
            (vec![body_parameter(json!({"type": "string"}))], Some(media))
        }
    }
}

/// A JSON example, variables substituted; placeholders outside strings are read as `0`.
fn parse_example(text: &str, vars: &Vars) -> Option<Value> {
    let substituted = vars.substitute(text);
    serde_json::from_str(&substituted).ok().or_else(|| {
        let mut filled = substituted.clone();
        for name in super::vars::placeholders(&substituted) {
            filled = filled.replace(&format!("{{{{{name}}}}}"), "0");
        }
        serde_json::from_str(&filled).ok()
    })
}

/// The `body` parameter with a schema.
fn body_parameter(schema: Value) -> Parameter {
    let mut p = Parameter::new("body", Location::Body);
    p.required = true;
    p.schema = schema;
    p
}

/// `urlencoded` or `formdata` fields as `formData` parameters (`file` fields as files).
fn form_fields(fields: Option<&Value>, vars: &Vars) -> Vec<Parameter> {
    let mut out = Vec::new();
    for field in fields.and_then(Value::as_array).into_iter().flatten() {
        if field.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(key) = field.get("key").and_then(Value::as_str) else { continue };
        let is_file = field.get("type").and_then(Value::as_str) == Some("file");
        let value = if is_file {
            None
        } else {
            field.get("value").and_then(Value::as_str).map(|v| vars.substitute(v))
        };
        let entry = Entry { key: key.to_string(), value, description: text_of(field.get("description")) };
        let mut p = simple(&entry, Location::FormData, false);
        if is_file {
            p.schema = json!({"type": "file"});
        }
        out.push(p);
    }
    out
}

/// Saved example responses as responses (first per status), and the media types they return.
fn responses(examples: &[Value]) -> (Vec<Response>, Vec<String>) {
    let mut out: Vec<Response> = Vec::new();
    let mut produces = Vec::new();
    for example in examples {
        let Some(code) = example.get("code").and_then(Value::as_u64) else { continue };
        let status = code.to_string();
        if out.iter().any(|r| r.status == status) {
            continue;
        }
        let headers = header_entries(example.get("header"), &Vars::default());
        let media = find_header(&headers, "content-type");
        let preview = example.get("_postman_previewlanguage").and_then(Value::as_str);
        let body = example.get("body").and_then(Value::as_str).unwrap_or_default();
        let json_like = preview == Some("json") || media.as_deref().is_some_and(|m| m.contains("json"));
        let parsed: Option<Value> =
            serde_json::from_str(body).ok().filter(|v: &Value| json_like || v.is_object() || v.is_array());
        let media = media.or_else(|| parsed.as_ref().map(|_| "application/json".to_string()));
        if let Some(m) = media.filter(|m| !produces.contains(m)) {
            produces.push(m);
        }
        let description = ["status", "name"]
            .iter()
            .find_map(|k| example.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
            .map_or_else(|| format!("Response {status}"), str::to_string);
        let headers = headers
            .iter()
            .filter(|h| !TRANSPORT_HEADERS.contains(&h.key.to_ascii_lowercase().as_str()))
            .map(|h| (h.key.clone(), json!({"type": "string"})))
            .collect();
        let schema = parsed.as_ref().map(infer_schema);
        out.push(Response { status, description: Some(description), schema, headers, ..Response::default() });
    }
    if out.is_empty() {
        out.push(swagger::default_response());
    }
    (out, produces)
}

/// The operation's `security` when it differs from the connector's.
fn security(effective: Effective, top: Effective, registry: &Registry) -> Option<Value> {
    if effective == top {
        return None;
    }
    match effective {
        Effective::NoAuth => Some(json!([])),
        Effective::Scheme(i) => {
            let name = &registry.list.get(i)?.name;
            Some(json!([{ name: [] }]))
        }
    }
}
