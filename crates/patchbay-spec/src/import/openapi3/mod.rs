//! OpenAPI 3.0 and 3.1 documents turned into the connector model (a Swagger 2.0 connector).
//!
//! `info` becomes the identity, `servers[0]` the backend, `components.schemas` the definitions
//! (with 3.x-only keywords rewritten or reported), `paths` the operations (request bodies as one
//! `body` or several `formData` parameters), `components.securitySchemes` the security
//! definitions with their connection parameters, and callbacks that post to a URL taken from
//! the request body become webhook triggers. Whatever has no connector equivalent is reported
//! as `PB0109`.

mod body;
mod callbacks;
mod document;
mod operations;
mod parameters;
mod responses;
mod schema;
mod security;

pub use super::common::auth::{CLIENT_ID_PLACEHOLDER, GRANT_KEY};

use super::common::{LOSS, NOT_A_DOCUMENT, child, keep_extensions};
use crate::fields::Ctx;
use crate::model::{Connector, Object};
use serde_json::Value;

/// Imports an OpenAPI 3.0 or 3.1 document (parsed from JSON or YAML) as a connector.
pub fn import_openapi3(document: Value, ctx: &mut Ctx) -> Connector {
    let Some(root) = document.as_object() else {
        ctx.emit(NOT_A_DOCUMENT, "", "an OpenAPI document is an object");
        return Connector::default();
    };
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.") => {}
        Some(v) => {
            ctx.emit(NOT_A_DOCUMENT, "/openapi", format!("OpenAPI {v} is not 3.0 or 3.1; read as 3.x"))
        }
        None => ctx.emit(NOT_A_DOCUMENT, "", "no `openapi` version; read as OpenAPI 3.x"),
    }
    let doc = Doc { root: &document };
    let mut connector = Connector { identity: document::identity(&doc, ctx), ..Connector::default() };
    connector.backend = document::backend(&doc, ctx);
    connector.definitions = schema::definitions(&doc, ctx);
    connector.security = security::security(&doc, ctx);
    connector.security.requirement =
        doc.root.get("security").and_then(|s| security::requirement(s, &connector.security.schemes));
    let shared = operations::Shared {
        doc: &doc,
        definitions: &connector.definitions,
        schemes: &connector.security.schemes,
    };
    connector.paths = operations::paths(&shared, ctx);
    connector.extra = top_level_extra(&doc, &mut connector, ctx);
    connector
}

/// The top-level keys besides those read elsewhere: `tags` and `externalDocs` kept, extensions
/// kept (`x-ms-connector-metadata` typed), `webhooks` and the rest reported.
fn top_level_extra(doc: &Doc, connector: &mut Connector, ctx: &mut Ctx) -> Object {
    const READ: &[&str] = &["openapi", "info", "servers", "paths", "components", "security"];
    let mut kept = Object::new();
    let mut rest = Object::new();
    for (key, value) in doc.root.as_object().into_iter().flatten() {
        match key.as_str() {
            k if READ.contains(&k) => {}
            "tags" | "externalDocs" => {
                kept.insert(key.clone(), value.clone());
            }
            "x-ms-connector-metadata" if document::metadata(value).is_some() => {
                connector.identity.metadata = document::metadata(value).unwrap_or_default();
            }
            "webhooks" => {
                for name in value.as_object().into_iter().flatten().map(|(k, _)| k) {
                    let message = format!(
                        "webhook `{name}` is not imported: a connector trigger needs an operation that \
                         subscribes the callback URL"
                    );
                    ctx.emit(LOSS, child("/webhooks", name), message);
                }
            }
            _ => {
                rest.insert(key.clone(), value.clone());
            }
        }
    }
    kept.extend(keep_extensions(rest, "", ctx));
    kept
}

/// The document being imported, to resolve `$ref`s in.
pub(super) struct Doc<'d> {
    /// The whole document.
    pub root: &'d Value,
}

/// The longest chain of `$ref`s followed.
const MAX_HOPS: usize = 32;

impl<'d> Doc<'d> {
    /// Follows `$ref`s from `value` to a real object; reports what does not resolve.
    pub fn deref<'v>(&self, value: &'v Value, pointer: &str, ctx: &mut Ctx) -> Option<&'v Value>
    where
        'd: 'v,
    {
        let mut current = value;
        let mut seen: Vec<&str> = Vec::new();
        while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
            if seen.contains(&reference) || seen.len() >= MAX_HOPS {
                ctx.emit("PB0202", pointer, format!("`$ref` cycle through `{reference}`"));
                return None;
            }
            seen.push(reference);
            current = self.lookup(reference, pointer, ctx)?;
        }
        Some(current)
    }

    /// The target of one local reference; external ones are reported as not imported.
    pub fn lookup(&self, reference: &str, pointer: &str, ctx: &mut Ctx) -> Option<&'d Value> {
        let Some(fragment) = reference.strip_prefix('#') else {
            let message = format!("external reference `{reference}` is not followed by the importer");
            ctx.emit(LOSS, pointer, message);
            return None;
        };
        let target = self.root.pointer(&fragment.replace("%20", " "));
        if target.is_none() {
            ctx.emit("PB0201", pointer, format!("`{reference}` does not point at anything"));
        }
        target
    }
}
