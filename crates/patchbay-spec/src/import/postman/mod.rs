//! Postman collections v2.1 (and v2.0) turned into the connector model.
//!
//! Every request of the `item` tree becomes an operation (folders give tags), the most common
//! scheme and host of the request URLs becomes the backend with the longest shared path prefix
//! as base path, collection and folder variables are substituted, `:id` and `{{id}}` path
//! segments become path parameters, bodies become `body` (schema inferred from the example) or
//! `formData` parameters, saved example responses become responses, and `auth` at any level
//! becomes security definitions with their connection parameters.

mod auth;
mod infer;
mod request;
mod url;
mod vars;

pub use super::common::auth::{CLIENT_ID_PLACEHOLDER, GRANT_KEY};
pub use infer::infer_schema;

use super::common::auth::build_security;
use super::common::names::{Unique, sanitize_name};
use super::common::{LOSS, NOT_A_DOCUMENT, WRONG_TYPE, child};
use crate::fields::Ctx;
use crate::model::{Backend, Connector, Identity, Method, PathItem};
use auth::{Effective, Registry, report_events};
use serde_json::{Value, json};
use url::ParsedUrl;
use vars::{Vars, text_of};

/// How deep folders are followed.
const MAX_DEPTH: usize = 32;

/// Imports a Postman collection (v2.1 or v2.0) as a connector.
pub fn import_postman(document: Value, ctx: &mut Ctx) -> Connector {
    if !document.is_object() {
        ctx.emit(NOT_A_DOCUMENT, "", "a Postman collection is an object");
        return Connector::default();
    }
    let mut connector = Connector { identity: identity(&document), ..Connector::default() };
    let Some(items) = document.get("item").and_then(Value::as_array) else {
        let message = "a Postman collection v2 has an `item` array (v1 collections are not supported)";
        ctx.emit(NOT_A_DOCUMENT, "", message);
        return connector;
    };
    let vars = Vars::default().with(document.get("variable"));
    let mut walk = Walk::default();
    let top = walk.registry.read(document.get("auth"), &vars, "/auth", ctx).unwrap_or(Effective::NoAuth);
    report_events(document.get("event"), "", "the collection", ctx);
    walk.items(items, "/item", &Scope { folder: None, vars, auth: top }, 0, ctx);
    let (backend, origin, base_len) = backend(&walk.drafts, ctx);
    connector.backend = backend;
    connector.paths = operations(&walk, origin.as_deref(), base_len, top, ctx);
    connector.security = build_security(&walk.registry.list, ctx);
    if let Effective::Scheme(i) = top
        && let Some(top) = walk.registry.list.get(i)
    {
        connector.security.requirement = Some(json!([{ top.name.as_str(): [] }]));
    }
    if !walk.tags.is_empty() {
        connector.extra.insert("tags".into(), Value::Array(walk.tags));
    }
    connector
}

/// The identity from `info`: name and title from `info.name`, description, version.
fn identity(document: &Value) -> Identity {
    let title = document.pointer("/info/name").and_then(Value::as_str).unwrap_or_default().to_string();
    let version = match document.pointer("/info/version") {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Object(v)) => {
            let part = |k: &str| v.get(k).map_or_else(|| "0".to_string(), Value::to_string);
            format!("{}.{}.{}", part("major"), part("minor"), part("patch"))
        }
        _ => "1.0".to_string(),
    };
    Identity {
        name: sanitize_name(&title),
        description: text_of(document.pointer("/info/description")),
        title,
        version,
        ..Identity::default()
    }
}

/// One request found in the tree, before paths are made relative to the backend.
#[derive(Debug)]
struct Draft {
    /// Pointer of the item.
    pub pointer: String,
    /// The item's name.
    pub name: String,
    /// The innermost folder's name.
    pub folder: Option<String>,
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: ParsedUrl,
    /// The `request` object (empty for the string form).
    pub request: Value,
    /// The saved example `response`s.
    pub responses: Vec<Value>,
    /// The authentication that applies.
    pub auth: Effective,
    /// The variables in scope.
    pub vars: Vars,
}

/// What a folder passes to what it contains.
struct Scope {
    folder: Option<String>,
    vars: Vars,
    auth: Effective,
}

/// The walk through the item tree.
#[derive(Default)]
struct Walk {
    registry: Registry,
    drafts: Vec<Draft>,
    tags: Vec<Value>,
}

impl Walk {
    /// Walks an `item` array: folders recursively, requests into drafts.
    fn items(&mut self, items: &[Value], pointer: &str, scope: &Scope, depth: usize, ctx: &mut Ctx) {
        for (i, item) in items.iter().enumerate() {
            let at = format!("{pointer}/{i}");
            let name = item.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(children) = item.get("item") {
                let Some(children) = children.as_array().filter(|_| depth < MAX_DEPTH) else {
                    ctx.emit(
                        WRONG_TYPE,
                        child(&at, "item"),
                        "a folder's `item` should be an array (not too deep)",
                    );
                    continue;
                };
                let vars = scope.vars.with(item.get("variable"));
                let auth = self.registry.read(item.get("auth"), &vars, &child(&at, "auth"), ctx);
                report_events(item.get("event"), &at, &format!("folder `{name}`"), ctx);
                self.tag(&name, item.get("description"));
                let inner = Scope { folder: Some(name), vars, auth: auth.unwrap_or(scope.auth) };
                self.items(children, &child(&at, "item"), &inner, depth + 1, ctx);
            } else if let Some(request) = item.get("request") {
                report_events(item.get("event"), &at, &format!("request `{name}`"), ctx);
                self.request(item, request, name, at, scope, ctx);
            } else {
                ctx.emit(WRONG_TYPE, at, "an item is a folder (`item`) or a request (`request`); left out");
            }
        }
    }

    /// Records a folder as a tag.
    fn tag(&mut self, name: &str, description: Option<&Value>) {
        if self.tags.iter().any(|t| t["name"] == name) {
            return;
        }
        let mut tag = json!({ "name": name });
        if let Some(d) = text_of(description) {
            tag["description"] = Value::String(d);
        }
        self.tags.push(tag);
    }

    /// One request item.
    fn request(
        &mut self,
        item: &Value,
        request: &Value,
        name: String,
        at: String,
        scope: &Scope,
        ctx: &mut Ctx,
    ) {
        let (method, url) = match request {
            Value::String(_) => ("GET", Some(request)),
            _ => (request.get("method").and_then(Value::as_str).unwrap_or("GET"), request.get("url")),
        };
        let Some(method) = Method::parse(method) else {
            ctx.emit(
                LOSS,
                child(&at, "request"),
                format!("`{method}` requests have no connector equivalent"),
            );
            return;
        };
        let Some(url) = url.and_then(|u| url::parse(u, &scope.vars)) else {
            ctx.emit(WRONG_TYPE, child(&at, "request"), format!("request `{name}` has no URL; left out"));
            return;
        };
        let auth_at = child(&child(&at, "request"), "auth");
        let auth = self.registry.read(request.get("auth"), &scope.vars, &auth_at, ctx).unwrap_or(scope.auth);
        let responses = item.get("response").and_then(Value::as_array).cloned().unwrap_or_default();
        let request = if request.is_object() { request.clone() } else { json!({}) };
        self.drafts.push(Draft {
            pointer: at,
            name,
            folder: scope.folder.clone(),
            method,
            url,
            request,
            responses,
            auth,
            vars: scope.vars.clone(),
        });
    }
}

/// The backend: the most common origin, with the path prefix all its requests share as base
/// path (always leaving each request at least one segment of its own).
fn backend(drafts: &[Draft], ctx: &mut Ctx) -> (Backend, Option<String>, usize) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for draft in drafts {
        match counts.iter_mut().find(|(o, _)| *o == draft.url.origin) {
            Some((_, n)) => *n += 1,
            None => counts.push((&draft.url.origin, 1)),
        }
    }
    let Some(&(origin, _)) = counts.iter().rev().max_by_key(|(_, n)| *n) else {
        return (Backend::default(), None, 0);
    };
    let chosen: Vec<&Draft> = drafts.iter().filter(|d| d.url.origin == origin).collect();
    let Some(first) = chosen.first() else { return (Backend::default(), None, 0) };
    let mut backend = Backend::default();
    match first.url.scheme_and_host() {
        Some((scheme, host)) => {
            backend.schemes = vec![scheme.to_string()];
            backend.host = Some(host.to_string());
        }
        None => {
            let message =
                format!("the requests' host `{origin}` uses an undefined variable: set the connector's host");
            ctx.emit(LOSS, "/variable", message);
        }
    }
    let shortest = chosen.iter().map(|d| d.url.segments.len()).min().unwrap_or(0);
    let first = &first.url.segments;
    let base_len = first
        .iter()
        .take(shortest.saturating_sub(1))
        .enumerate()
        .take_while(|(i, s)| !s.contains('{') && chosen.iter().all(|d| d.url.segments.get(*i) == Some(s)))
        .count();
    if base_len > 0 {
        backend.base_path = Some(format!("/{}", first[..base_len].join("/")));
    }
    (backend, Some(origin.to_string()), base_len)
}

/// The drafts on the backend's origin as path items and operations; the rest is reported.
fn operations(
    walk: &Walk,
    origin: Option<&str>,
    base_len: usize,
    top: Effective,
    ctx: &mut Ctx,
) -> Vec<PathItem> {
    let mut ids = Unique::default();
    let mut items: Vec<PathItem> = Vec::new();
    for draft in &walk.drafts {
        if Some(draft.url.origin.as_str()) != origin {
            let message = format!(
                "request `{}` calls `{}`, not the connector's backend `{}`; left out",
                draft.name,
                draft.url.origin,
                origin.unwrap_or_default()
            );
            ctx.emit(LOSS, draft.pointer.as_str(), message);
            continue;
        }
        let path = format!("/{}", draft.url.segments[base_len.min(draft.url.segments.len())..].join("/"));
        let index = match items.iter().position(|p| p.path == path) {
            Some(i) => i,
            None => {
                items.push(PathItem { path: path.clone(), ..PathItem::default() });
                items.len() - 1
            }
        };
        if items[index].operations.iter().any(|o| o.method == draft.method) {
            let message = format!(
                "`{} {path}` is already imported from another request; `{}` was left out",
                draft.method.as_upper(),
                draft.name
            );
            ctx.emit(LOSS, draft.pointer.as_str(), message);
            continue;
        }
        let op = request::operation(draft, &path, &walk.registry, top, &mut ids, ctx);
        items[index].operations.push(op);
    }
    items.retain(|p| !p.operations.is_empty());
    items
}
