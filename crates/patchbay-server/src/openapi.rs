//! The server's own API description: an OpenAPI 3.1 document generated from the annotated handlers
//! that the route table registers (`utoipa` + `utoipa-axum`), so the router and the document come
//! from the same code and cannot drift. Served at `GET /api/openapi.json`; a copy is kept in
//! `docs/api/openapi.json` (a test compares the two).
//!
//! Routes that need a token carry the `bearer` security requirement; health, metrics, this document,
//! the OAuth callback and webhook callbacks are anonymous. Every error answer has the shape of
//! [`ErrorBody`]; the common ones are reusable responses (`#/components/responses/...`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{HttpMethod, OpenApi as Document, PathItem};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::{ErrorBody, ErrorDetail};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// 400: the body or a parameter is not what the route takes.
#[derive(ToResponse)]
#[response(description = "The request is malformed (`invalid_body`, `invalid_value`, …)")]
pub struct BadRequest(pub ErrorBody);

/// 401: no valid bearer token.
#[derive(ToResponse)]
#[response(description = "No valid `Authorization: Bearer <token>` (`unauthorized`)")]
pub struct Unauthorized(pub ErrorBody);

/// 403: the caller sees the resource but may not do this with it.
#[derive(ToResponse)]
#[response(description = "The caller's access is too weak for this (`forbidden`)")]
pub struct Forbidden(pub ErrorBody);

/// 404: no such resource, or one the caller may not see (its existence is not revealed).
#[derive(ToResponse)]
#[response(description = "Not found, or not visible to the caller (`not_found`)")]
pub struct NotFound(pub ErrorBody);

/// 409: the change conflicts with what is stored.
#[derive(ToResponse)]
#[response(description = "Conflicts with what is stored (`already_exists`, `name_change`)")]
pub struct Conflict(pub ErrorBody);

/// 422: the package does not validate; `diagnostics` say where.
#[derive(ToResponse)]
#[response(description = "The package has errors (`invalid_package`); see `diagnostics`")]
pub struct InvalidPackage(pub ErrorBody);

/// 429: the connection's rate limit is spent.
#[derive(ToResponse)]
#[response(
    description = "The connection's rate limit is spent (`rate_limited`); retry after `Retry-After` seconds",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct RateLimited(pub ErrorBody);

/// 502: the connector's backend could not be reached.
#[derive(ToResponse)]
#[response(description = "The backend could not be reached (`backend_failed`)")]
pub struct BackendFailed(pub ErrorBody);

/// The document's fixed parts: title, version, shared schemas and responses, the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "patchbay",
        description = "The management API (connectors, revisions, sharing, the catalogue, connections, \
                       OAuth consent) and the invoke API of `patchbay serve`. Send an API token as \
                       `Authorization: Bearer <token>`. Every error answers `{\"error\": {\"code\", \"message\"}}`."
    ),
    components(
        schemas(ErrorBody, ErrorDetail),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            InvalidPackage,
            RateLimited,
            BackendFailed
        )
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness, readiness, metrics and this document"),
        (name = "connectors", description = "Custom connectors: upload, revisions, sharing, the catalogue"),
        (name = "connections", description = "Connections to a connector, with sealed secrets"),
        (name = "oauth", description = "OAuth consent and connection tests"),
        (name = "invoke", description = "Calling a connection's operations"),
        (name = "triggers", description = "Polling and webhook triggers, their events, webhook callbacks"),
        (name = "flows", description = "Flows, their runs and each action's record")
    )
)]
pub struct ApiDoc;

/// Adds the bearer security scheme (API tokens `pb_…`).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, document: &mut Document) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("patchbay API token (pb_…)".to_owned());
        scheme.description =
            Some("An API token, as printed on first start or from `PATCHBAY_ADMIN_TOKEN`".into());
        document.components.get_or_insert_default().add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// Finishes the generated document: the package version, axum's catch-all `{*name}` segments as
/// OpenAPI `{name}` templates, and operation ids made unique where one handler serves several
/// methods (the method is appended: `callByPathGet`).
pub fn finish(mut document: Document) -> Document {
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let paths = std::mem::take(&mut document.paths.paths);
    document.paths.paths = paths.into_iter().map(|(path, item)| (path.replace("{*", "{"), item)).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for item in document.paths.paths.values() {
        for (_, operation) in operations(item) {
            if let Some(id) = &operation.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    for item in document.paths.paths.values_mut() {
        for (method, operation) in operations_mut(item) {
            if let Some(id) = operation.operation_id.as_mut()
                && seen.get(id.as_str()).is_some_and(|count| *count > 1)
            {
                id.push_str(method_name(&method));
            }
        }
    }
    document
}

/// The operations of a path item with their methods.
pub fn operations(item: &PathItem) -> Vec<(HttpMethod, &Operation)> {
    let slots = [
        (HttpMethod::Get, &item.get),
        (HttpMethod::Put, &item.put),
        (HttpMethod::Post, &item.post),
        (HttpMethod::Delete, &item.delete),
        (HttpMethod::Options, &item.options),
        (HttpMethod::Head, &item.head),
        (HttpMethod::Patch, &item.patch),
        (HttpMethod::Trace, &item.trace),
    ];
    slots
        .into_iter()
        .filter_map(|(method, slot)| slot.as_ref().map(|operation| (method, operation)))
        .collect()
}

/// The operations of a path item with their methods, to change them.
fn operations_mut(item: &mut PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    let slots = [
        (HttpMethod::Get, &mut item.get),
        (HttpMethod::Put, &mut item.put),
        (HttpMethod::Post, &mut item.post),
        (HttpMethod::Delete, &mut item.delete),
        (HttpMethod::Options, &mut item.options),
        (HttpMethod::Head, &mut item.head),
        (HttpMethod::Patch, &mut item.patch),
        (HttpMethod::Trace, &mut item.trace),
    ];
    slots
        .into_iter()
        .filter_map(|(method, slot)| slot.as_mut().map(|operation| (method, operation)))
        .collect()
}

/// `Get`, `Post`, … for an operation id suffix.
fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "Get",
        HttpMethod::Put => "Put",
        HttpMethod::Post => "Post",
        HttpMethod::Delete => "Delete",
        HttpMethod::Options => "Options",
        HttpMethod::Head => "Head",
        HttpMethod::Patch => "Patch",
        HttpMethod::Trace => "Trace",
    }
}

/// The finished document as pretty JSON with a final newline, built once per process.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| match crate::routes::openapi().to_pretty_json() {
        Ok(text) => text + "\n",
        Err(error) => format!("{{\"error\": \"the API description could not be written: {error}\"}}\n"),
    })
}

/// `GET /api/openapi.json`: this server's API description (OpenAPI 3.1).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "health",
    summary = "This API's description (OpenAPI 3.1)",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn serve_document() -> Response {
    ([(CONTENT_TYPE, "application/json")], document_json()).into_response()
}
