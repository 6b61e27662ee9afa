//! `paths` → path items and operations.

use super::{Doc, body, callbacks, parameters, responses, security};
use crate::diag::{Diagnostic, Severity};
use crate::fields::{Ctx, Fields, kind};
use crate::import::common::names::{Unique, route_id};
use crate::import::common::{LOSS, WRONG_TYPE, child, keep_extensions};
use crate::model::{Method, Object, Operation, PathItem, SecurityScheme};
use serde_json::Value;

/// The methods of an OpenAPI path item, in its order.
pub(super) const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// What every operation needs to know about the rest of the connector.
pub(super) struct Shared<'a, 'd> {
    /// The document.
    pub doc: &'a Doc<'d>,
    /// The converted definitions (to mark callback URL properties through `$ref`s).
    pub definitions: &'a Object,
    /// The security definitions imported (to filter `security` requirements).
    pub schemes: &'a [SecurityScheme],
}

/// Every path of the document with its operations.
pub(super) fn paths(shared: &Shared, ctx: &mut Ctx) -> Vec<PathItem> {
    let doc = shared.doc;
    let Some(paths) = doc.root.get("paths") else { return Vec::new() };
    let Some(map) = paths.as_object() else {
        ctx.emit(WRONG_TYPE, "/paths", format!("`paths` should be an object, found {}", kind(paths)));
        return Vec::new();
    };
    let mut ids = Unique::default();
    for item in map.values() {
        for method in METHODS {
            if let Some(id) = item.get(method).and_then(|o| o.get("operationId")).and_then(Value::as_str) {
                ids.reserve(id);
            }
        }
    }
    let mut out = Vec::new();
    for (path, raw) in map {
        let pointer = child("/paths", path);
        if path.starts_with("x-") {
            ctx.emit(LOSS, pointer, format!("`{path}` has no connector equivalent"));
            continue;
        }
        out.push(path_item(path, raw, shared, &mut ids, ctx));
    }
    out
}

/// One path item: shared parameters, operations, `x-ms-notification-content` and extensions.
fn path_item(path: &str, raw: &Value, shared: &Shared, ids: &mut Unique, ctx: &mut Ctx) -> PathItem {
    let doc = shared.doc;
    let pointer = child("/paths", path);
    let mut item = PathItem { path: path.to_string(), ..PathItem::default() };
    let Some(resolved) = doc.deref(raw, &pointer, ctx) else { return item };
    let mut f = Fields::new(resolved.clone(), pointer.clone(), ctx);
    let defaults = (f.string("summary"), f.string("description"));
    let parameters = f.value("parameters");
    if f.value("servers").is_some() {
        f.ctx().emit(
            LOSS,
            child(&pointer, "servers"),
            "a connector has one backend: path `servers` are ignored",
        );
    }
    let notification = f.value("x-ms-notification-content");
    let methods: Vec<(&str, Value)> = METHODS.iter().filter_map(|m| Some((*m, f.value(m)?))).collect();
    let rest = f.finish();
    item.extra = keep_extensions(rest, &pointer, ctx);
    item.parameters = parameters::parameters(parameters.as_ref(), doc, &child(&pointer, "parameters"), ctx);
    item.notification_content = notification
        .map(|n| callbacks::convert_notification(n, doc, &child(&pointer, "x-ms-notification-content"), ctx));
    for (name, raw) in methods {
        let at = child(&pointer, name);
        let Some(method) = Method::parse(name) else {
            ctx.emit(LOSS, at, format!("`{name}` operations have no connector equivalent"));
            continue;
        };
        let op = operation(method, raw, &defaults, shared, ids, &mut item, ctx);
        item.operations.push(op);
    }
    item
}

/// One operation.
fn operation(
    method: Method,
    raw: Value,
    defaults: &(Option<String>, Option<String>),
    shared: &Shared,
    ids: &mut Unique,
    item: &mut PathItem,
    ctx: &mut Ctx,
) -> Operation {
    let doc = shared.doc;
    let pointer = child(&child("/paths", &item.path), method.key());
    let mut op = Operation::new(method, &item.path);
    let mut f = Fields::new(raw, pointer.clone(), ctx);
    op.id = f.string("operationId");
    if op.id.is_none() {
        let id = ids.claim(&route_id(method, &item.path), "");
        let message = format!("the operation has no operationId; `{id}` was generated");
        let file = f.ctx().file;
        let note = Diagnostic::new(LOSS, file, pointer.as_str(), message).with_severity(Severity::Info);
        f.ctx().report(note);
        op.id = Some(id);
    }
    op.summary = f.string("summary").or_else(|| defaults.0.clone());
    op.description = f.string("description").or_else(|| defaults.1.clone());
    op.deprecated = f.bool("deprecated").unwrap_or(false);
    op.security = f.value("security").and_then(|s| security::requirement(&s, shared.schemes));
    if f.value("servers").is_some() {
        f.ctx().emit(
            LOSS,
            child(&pointer, "servers"),
            "a connector has one backend: operation `servers` are ignored",
        );
    }
    let parameters = f.value("parameters");
    let request_body = f.value("requestBody");
    let responses = f.value("responses");
    let callbacks = f.object("callbacks");
    let mut extra = Object::new();
    crate::package::read_operation_extensions(&mut op, &mut f);
    for key in ["tags", "externalDocs"] {
        if let Some(v) = f.value(key) {
            extra.insert(key.into(), v);
        }
    }
    let rest = f.finish();
    extra.extend(keep_extensions(rest, &pointer, ctx));
    op.extra = extra;
    op.parameters = parameters::parameters(parameters.as_ref(), doc, &child(&pointer, "parameters"), ctx);
    if let Some(raw) = &request_body {
        let body = body::request_body(raw, doc, &child(&pointer, "requestBody"), ctx);
        op.parameters.extend(body.parameters);
        op.consumes = body.consumes;
    }
    let responses = responses::responses(responses.as_ref(), doc, &child(&pointer, "responses"), ctx);
    op.responses = responses.list;
    op.produces = responses.produces;
    if let Some(callbacks) = callbacks {
        callbacks::apply(&mut op, item, &callbacks, doc, shared.definitions, &pointer, ctx);
    }
    op
}
