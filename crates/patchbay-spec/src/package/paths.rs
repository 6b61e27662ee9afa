//! Swagger 2.0 `paths`, operations and responses ↔ the model.

use super::parameter::{read_parameter, read_visibility, write_parameter};
use crate::diag::escape_segment;
use crate::fields::{Ctx, Fields, Out};
use crate::model::{Cardinality, Method, Object, Operation, Parameter, PathItem, Response};
use crate::refs::{RefError, Scope, ref_of};
use serde_json::Value;

/// Reads `paths`, resolving parameter and response `$ref`s through `scope`.
pub fn read_paths(paths: Object, scope: &Scope, ctx: &mut Ctx) -> Vec<PathItem> {
    paths
        .into_iter()
        .map(|(path, item)| {
            let pointer = format!("/paths/{}", escape_segment(&path));
            read_path_item(path, item, pointer, scope, ctx)
        })
        .collect()
}

fn read_path_item(path: String, item: Value, pointer: String, scope: &Scope, ctx: &mut Ctx) -> PathItem {
    let mut f = Fields::new(item, pointer, ctx);
    let mut operations = Vec::new();
    for method in Method::ALL {
        if let Some(op) = f.object(method.key()) {
            let op_pointer = f.child(method.key());
            operations.push(read_operation(method, &path, op, op_pointer, scope, f.ctx()));
        }
    }
    let parameters = read_parameter_list(&mut f, scope);
    let notification_content = f.value("x-ms-notification-content");
    PathItem { path, parameters, operations, notification_content, extra: f.finish() }
}

fn read_operation(
    method: Method,
    path: &str,
    value: Object,
    pointer: String,
    scope: &Scope,
    ctx: &mut Ctx,
) -> Operation {
    let mut f = Fields::new(Value::Object(value), pointer, ctx);
    let mut op = Operation::new(method, path);
    op.id = f.string("operationId");
    op.summary = f.string("summary");
    op.description = f.string("description");
    op.deprecated = f.bool("deprecated").unwrap_or(false);
    op.consumes = f.strings("consumes");
    op.produces = f.strings("produces");
    op.parameters = read_parameter_list(&mut f, scope);
    op.responses = read_responses(&mut f, scope);
    read_operation_extensions(&mut op, &mut f);
    op.security = f.value("security");
    op.extra = f.finish();
    op
}

/// Reads the operation-level `x-ms-*` extensions the model types; values it cannot type stay in
/// `f` and so end in `extra`. Shared with the importers, which build Swagger-shaped operations.
pub fn read_operation_extensions(op: &mut Operation, f: &mut Fields) {
    op.visibility = read_visibility(f);
    op.annotation = f.value("x-ms-api-annotation");
    op.trigger = read_trigger(f);
    op.trigger_hint = f.string("x-ms-trigger-hint");
    op.trigger_metadata = f.value("x-ms-trigger-metadata");
    op.next_link_name = read_pageable(f);
    op.capabilities = f.value("x-ms-capabilities");
    op.no_generic_test = f.bool("x-ms-no-generic-test").unwrap_or(false);
    op.safe = f.bool("x-ms-safe-operation").unwrap_or(false);
}

fn read_trigger(f: &mut Fields) -> Option<Cardinality> {
    let text = f.string("x-ms-trigger")?;
    let parsed = Cardinality::parse(&text);
    if parsed.is_none() {
        let pointer = f.child("x-ms-trigger");
        f.ctx().emit("PB0504", pointer, format!("unknown x-ms-trigger `{text}`; kept as it is"));
        f.put_back("x-ms-trigger", Value::String(text));
    }
    parsed
}

fn read_pageable(f: &mut Fields) -> Option<String> {
    let pageable = f.object("x-ms-pageable")?;
    match pageable.get("nextLinkName").and_then(Value::as_str) {
        Some(name) if pageable.len() == 1 => Some(name.to_string()),
        _ => {
            f.put_back("x-ms-pageable", Value::Object(pageable));
            None
        }
    }
}

/// Reads a `parameters` array of a path item or operation.
fn read_parameter_list(f: &mut Fields, scope: &Scope) -> Vec<Parameter> {
    let Some(list) = f.array("parameters") else { return Vec::new() };
    let base = f.child("parameters");
    list.into_iter()
        .enumerate()
        .filter_map(|(i, value)| resolve_and_read(value, format!("{base}/{i}"), scope, f.ctx()))
        .collect()
}

/// Reads a parameter, following a `$ref`; an unresolvable reference is reported and dropped
/// from the typed list (the validator reports the error, so the package is not silently changed).
fn resolve_and_read(value: Value, pointer: String, scope: &Scope, ctx: &mut Ctx) -> Option<Parameter> {
    let Some(reference) = ref_of(&value).map(str::to_string) else {
        return Some(read_parameter(value, pointer, ctx));
    };
    match scope.resolve(&reference) {
        Ok(target) => {
            let mut p = read_parameter(
                target.clone(),
                pointer,
                &mut Ctx { file: ctx.file, diagnostics: &mut Vec::new() },
            );
            p.reference = Some(reference);
            Some(p)
        }
        Err(e) => {
            report_ref(ctx, format!("{pointer}/$ref"), &e);
            let mut p = Parameter::new("", crate::model::Location::Other(String::new()));
            p.reference = Some(reference);
            Some(p)
        }
    }
}

/// Reports an unresolvable reference.
pub fn report_ref(ctx: &mut Ctx, pointer: String, error: &RefError) {
    let code = match error {
        RefError::NotFound(r) if !r.starts_with('#') => "PB0203",
        RefError::NotFound(_) => "PB0201",
        RefError::Cycle(_) => "PB0202",
    };
    ctx.emit(code, pointer, error.to_string());
}

fn read_responses(f: &mut Fields, scope: &Scope) -> Vec<Response> {
    let Some(map) = f.object("responses") else { return Vec::new() };
    let base = f.child("responses");
    map.into_iter()
        .map(|(status, value)| {
            let pointer = format!("{base}/{}", escape_segment(&status));
            read_response_ref(status, value, pointer, scope, f.ctx())
        })
        .collect()
}

fn read_response_ref(
    status: String,
    value: Value,
    pointer: String,
    scope: &Scope,
    ctx: &mut Ctx,
) -> Response {
    let Some(reference) = ref_of(&value).map(str::to_string) else {
        return read_response(status, value, pointer, ctx);
    };
    let mut r = match scope.resolve(&reference) {
        Ok(target) => read_response(
            status,
            target.clone(),
            pointer,
            &mut Ctx { file: ctx.file, diagnostics: &mut Vec::new() },
        ),
        Err(e) => {
            report_ref(ctx, format!("{pointer}/$ref"), &e);
            Response { status, ..Response::default() }
        }
    };
    r.reference = Some(reference);
    r
}

/// Reads one response object.
pub fn read_response(status: String, value: Value, pointer: String, ctx: &mut Ctx) -> Response {
    let mut f = Fields::new(value, pointer, ctx);
    Response {
        status,
        reference: None,
        description: f.string("description"),
        schema: f.value("schema"),
        headers: f.object("headers").unwrap_or_default(),
        extra: f.finish(),
    }
}

/// Writes one response (a `$ref` alone when it came from one).
pub fn write_response(r: &Response) -> Value {
    if let Some(reference) = &r.reference {
        return Out::new().string("$ref", &Some(reference.clone())).build();
    }
    write_response_body(r)
}

/// Writes a response's full object.
pub fn write_response_body(r: &Response) -> Value {
    Out::new()
        .string("description", &r.description)
        .value("schema", r.schema.clone())
        .map("headers", &r.headers)
        .extra(&r.extra)
        .build()
}

/// Writes `paths`.
pub fn write_paths(paths: &[PathItem]) -> Value {
    let mut out = Object::new();
    for item in paths {
        let mut obj = Out::new();
        for op in &item.operations {
            obj = obj.value(op.method.key(), Some(write_operation(op)));
        }
        obj = obj
            .value("parameters", list(&item.parameters))
            .value("x-ms-notification-content", item.notification_content.clone());
        out.insert(item.path.clone(), obj.extra(&item.extra).build());
    }
    Value::Object(out)
}

fn list(parameters: &[Parameter]) -> Option<Value> {
    (!parameters.is_empty()).then(|| parameters.iter().map(write_parameter).collect())
}

fn write_operation(op: &Operation) -> Value {
    let responses: Object = op.responses.iter().map(|r| (r.status.clone(), write_response(r))).collect();
    let pageable = op.next_link_name.as_ref().map(|n| serde_json::json!({ "nextLinkName": n }));
    Out::new()
        .string("summary", &op.summary)
        .string("description", &op.description)
        .string("operationId", &op.id)
        .string("x-ms-visibility", &op.visibility.map(|v| v.as_str().to_string()))
        .flag("deprecated", op.deprecated)
        .value("x-ms-api-annotation", op.annotation.clone())
        .strings("consumes", &op.consumes)
        .strings("produces", &op.produces)
        .value("parameters", list(&op.parameters))
        .map("responses", &responses)
        .string("x-ms-trigger", &op.trigger.map(|t| t.as_str().to_string()))
        .string("x-ms-trigger-hint", &op.trigger_hint)
        .value("x-ms-trigger-metadata", op.trigger_metadata.clone())
        .value("x-ms-pageable", pageable)
        .value("x-ms-capabilities", op.capabilities.clone())
        .flag("x-ms-no-generic-test", op.no_generic_test)
        .flag("x-ms-safe-operation", op.safe)
        .value("security", op.security.clone())
        .extra(&op.extra)
        .build()
}
