//! The Logic Apps style route `/apim/{connector}/{connection}/{path…}`: a call addressed by the
//! operation's method and path (as `ApiConnection` actions write it) instead of its id. The path
//! is matched against the operation templates, with or without the connector's base path; path
//! parameters, the query string and a JSON body become the operation's inputs; the backend's
//! answer is passed through (status, content type and body).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay_runtime::Outcome;
use patchbay_runtime::response::ResponseBody;
use patchbay_spec::Connector;
use patchbay_store::ConnectionId;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::connections::owned;
use crate::routes::invoke::run_operation;
use crate::state::SharedState;

/// The `/apim` route.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(apim))
}

/// Runs the operation of `connection` whose method and path template match the request.
#[utoipa::path(
    method(get, post, put, patch, delete),
    path = "/apim/{connector}/{connection}/{*path}",
    operation_id = "callByPath",
    tag = "invoke",
    summary = "Call an operation by its method and path (Logic Apps style)",
    description = "The operation is found by the request's method and `path` (with or without the \
                   connector's base path). Path parameters, the query string and a JSON body become \
                   its inputs; the backend's status, content type and body are passed through.",
    params(
        ("connector" = String, Path, description = "The connector's id or name"),
        ("connection" = String, Path, description = "The connection's id"),
        ("path" = String, Path, description = "The operation's path, e.g. `projects/p1/tasks`")
    ),
    request_body(content = Object, description = "The operation's JSON body, if it takes one"),
    responses(
        (status = 200, description = "The backend's answer, passed through (any status)"),
        (status = 202, description = "A long-running call; `Location` says where to poll"),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
async fn apim(
    State(state): State<SharedState>,
    caller: Caller,
    method: Method,
    Path((connector, id, path)): Path<(String, ConnectionId, String)>,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let connection = owned(&state, &caller, &id).await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    let record = state.store.connectors().get(&connection.connector_id).await?;
    let named = connector == connection.connector_id.as_str() || connector.eq_ignore_ascii_case(&record.name);
    if !named {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such connection for this connector",
        ));
    }
    let (operation, mut inputs) = match_operation(&compiled.connector, &method, &format!("/{path}"))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_operation",
                format!("no operation answers {method} /{path}"),
            )
        })?;
    add_query(&mut inputs, query);
    if !body.is_empty() {
        let value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("the body is not JSON: {e}"))
        })?;
        inputs.insert("body".into(), value);
    }
    match run_operation(&state, &caller, &connection, &operation, &inputs, false).await?.outcome {
        Outcome::Done(response) => Ok(passthrough(response.status, &response.headers, response.body)),
        Outcome::Pending { pending, .. } => {
            let mut headers = HeaderMap::new();
            if let Ok(location) = HeaderValue::from_str(pending.location.as_str()) {
                headers.insert(header::LOCATION, location);
            }
            Ok((StatusCode::ACCEPTED, headers).into_response())
        }
    }
}

/// The operation whose method and path template match, with the path parameters it captures.
fn match_operation(
    connector: &Connector,
    method: &Method,
    path: &str,
) -> Option<(String, Map<String, Value>)> {
    let base = connector.backend.base_path.as_deref().unwrap_or("").trim_end_matches('/');
    let candidates = [Some(path), path.strip_prefix(base).filter(|_| !base.is_empty())];
    connector.operations().find_map(|(_, op)| {
        if !op.method.as_upper().eq_ignore_ascii_case(method.as_str()) {
            return None;
        }
        let id = op.id.clone()?;
        candidates.iter().flatten().find_map(|p| captures(&op.path, p)).map(|inputs| (id, inputs))
    })
}

/// Matches `path` against a template like `/projects/{projectId}/tasks`; `None` when it differs.
fn captures(template: &str, path: &str) -> Option<Map<String, Value>> {
    let want: Vec<&str> = template.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    if want.len() != got.len() {
        return None;
    }
    let mut inputs = Map::new();
    for (w, g) in want.iter().zip(&got) {
        match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => {
                let value = percent_encoding::percent_decode_str(g).decode_utf8_lossy().into_owned();
                inputs.insert(name.to_string(), Value::String(value));
            }
            None if w == g => {}
            None => return None,
        }
    }
    Some(inputs)
}

/// Query parameters become inputs; a repeated one becomes an array.
fn add_query(inputs: &mut Map<String, Value>, query: Vec<(String, String)>) {
    for (name, value) in query {
        match inputs.get_mut(&name) {
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(existing) => *existing = Value::Array(vec![existing.take(), Value::String(value)]),
            None => {
                inputs.insert(name, Value::String(value));
            }
        }
    }
}

/// The backend's answer as it came: status, content type and body.
fn passthrough(status: StatusCode, headers: &HeaderMap, body: ResponseBody) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).cloned();
    let bytes = match body {
        ResponseBody::Empty => Vec::new(),
        ResponseBody::Json(value) => value.to_string().into_bytes(),
        ResponseBody::Text(text) => text.into_bytes(),
        ResponseBody::Binary { bytes, .. } => bytes.to_vec(),
    };
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_capture_decoded_path_parameters() {
        let got = captures("/projects/{projectId}/tasks", "/projects/p%201/tasks").unwrap();
        assert_eq!(got["projectId"], "p 1");
        assert!(captures("/projects/{projectId}/tasks", "/projects/p1/comments").is_none());
        assert!(captures("/projects", "/projects/p1").is_none());
        let mut inputs = Map::new();
        add_query(
            &mut inputs,
            vec![("a".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), "x".into())],
        );
        assert_eq!(Value::Object(inputs), serde_json::json!({"a": ["1", "2"], "b": "x"}));
    }
}
