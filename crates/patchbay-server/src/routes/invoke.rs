//! The invoke API: `POST /api/connections/{id}/operations/{operationId}` runs one operation of the
//! connection's connector (its current revision) through the request pipeline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use patchbay_runtime::security::{ConnectionValues, TokenSet};
use patchbay_runtime::{Call, InvokeError, Outcome};
use patchbay_spec::Connector;
use patchbay_store::{Access, Connection, ConnectionId, ConnectionSecrets};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, connector_access};
use crate::error::{ApiError, Body};
use crate::rate_limit::MAX_QUEUE_WAIT;
use crate::routes::connections::{owned, secrets_for};
use crate::routes::oauth;
use crate::state::SharedState;
use patchbay_runtime::plan::CompiledConnector;
use std::sync::Arc;

/// The invoke route.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(invoke))
}

/// Runs the operation with the connection's values, secrets and tokens; answers the backend's
/// status, headers and decoded body, with schema warnings. Stored OAuth tokens due for renewal are
/// refreshed first with the connection's client secret (and saved); a call that needs a new
/// sign-in (no usable token, a refused refresh, a final 401 with OAuth tokens, or a
/// `setconnectionstatustounauthenticated` policy) marks the connection `unauthenticated`.
#[utoipa::path(
    post,
    path = "/api/connections/{id}/operations/{operation}",
    operation_id = "invokeOperation",
    tag = "invoke",
    summary = "Call an operation of a connection's connector",
    description = "Runs the operation (of the connector's current revision) through the request \
                   pipeline with the connection's values, secrets and tokens. The body holds the \
                   operation's inputs by parameter name (`body` for the request body). Answers the \
                   backend's `status`, `headers`, decoded `body` and schema `warnings`; 202 with \
                   `pending.location` for a long-running call. Rate-limited per connection.",
    params(
        ("id" = String, Path, description = "The connection's id"),
        ("operation" = String, Path, description = "The operation id, e.g. `ListTasks`")
    ),
    request_body(content = Map<String, Value>, description = "The operation's inputs by parameter name"),
    responses(
        (status = 200, description = "The backend answered: `{\"status\", \"headers\", \"body\", \"warnings\"}`", body = Object),
        (status = 202, description = "A long-running call: `{\"status\": 202, \"pending\": {\"location\"}}`", body = Object),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
async fn invoke(
    State(state): State<SharedState>,
    caller: Caller,
    Path((id, operation)): Path<(ConnectionId, String)>,
    Body(inputs): Body<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let connection = owned(&state, &caller, &id).await?;
    let outcome = run_operation(&state, &caller, &connection, &operation, &inputs, false).await?.outcome;
    match outcome {
        Outcome::Done(response) => Ok((
            StatusCode::OK,
            Json(json!({
                "status": response.status.as_u16(),
                "headers": headers_json(&response.headers),
                "body": response.body.to_value(),
                "warnings": response.schema_warnings,
            })),
        )),
        Outcome::Pending { pending, .. } => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"status": 202, "pending": {"location": pending.location.as_str()}})),
        )),
    }
}

/// Runs one operation of `connection` for `caller`: access and rate limit checked, the connector's
/// current revision, the connection's values, secrets and tokens; the connection's status follows
/// what the call learned. With `record`, the outcome comes with every exchange (masked). Shared by
/// the invoke API, the `/apim` route and the portal's try page (which records).
pub(crate) async fn run_operation(
    state: &SharedState,
    caller: &Caller,
    connection: &Connection,
    operation: &str,
    inputs: &Map<String, Value>,
    record: bool,
) -> Result<patchbay_runtime::Invoked, ApiError> {
    let id = &connection.id;
    connector_access(state, caller, &connection.connector_id, Access::CanUse).await?;
    if let Err(retry_after) = state.rate_limit.acquire(id.as_str(), MAX_QUEUE_WAIT).await {
        return Err(ApiError::too_many_requests(retry_after));
    }
    let (compiled, values) = connection_context(state, connection).await?;
    let call = Call { connector: &compiled, operation_id: operation, connection: &values, inputs };
    let mut runtime = crate::gateway::runtime_for(state, connection);
    runtime.options.record_exchanges |= record;
    let invoked = match runtime.invoke(call).await {
        Ok(invoked) => invoked,
        Err(error) => {
            crate::metrics::invocation(connection.connector_id.as_str(), 0);
            if matches!(&error, InvokeError::Security(security) if security.needs_sign_in()) {
                oauth::mark_unauthenticated(state, id).await;
            }
            return Err(invoke_error(&error, &values));
        }
    };
    let backend_status = match &invoked.outcome {
        Outcome::Done(response) => response.status.as_u16(),
        Outcome::Pending { .. } => 202,
    };
    crate::metrics::invocation(connection.connector_id.as_str(), backend_status);
    if invoked.unauthenticated || (backend_status == 401 && values.token.is_some()) {
        oauth::mark_unauthenticated(state, id).await;
    }
    Ok(invoked)
}

/// The connector of `connection` compiled at its current revision, and the pipeline's view of the
/// connection (values, decrypted secrets, stored tokens). Shared by invokes, polls and webhooks.
pub(crate) async fn connection_context(
    state: &SharedState,
    connection: &Connection,
) -> Result<(Arc<CompiledConnector>, ConnectionValues), ApiError> {
    let compiled = state.compiled(&connection.connector_id).await?;
    let secrets = secrets_for(state, connection, &compiled.connector).await?;
    let values = connection_values(connection, secrets, &compiled.connector);
    Ok((compiled, values))
}

/// The pipeline's view of a connection: public values, decrypted secrets and stored tokens.
pub(crate) fn connection_values(
    connection: &Connection,
    secrets: ConnectionSecrets,
    connector: &Connector,
) -> ConnectionValues {
    let mut values = ConnectionValues::new(connection.id.as_str());
    if let Some(set) = &connection.parameter_set {
        values = values.with_parameter_set(set.clone());
    }
    for (name, value) in &connection.values {
        values = values.with_value(name.clone(), value.clone());
    }
    for (name, value) in secrets.values {
        values.mark_secret(&name);
        values = values.with_value(name, value);
    }
    if let Some(token) = secrets.tokens.as_ref().and_then(TokenSet::from_json) {
        values = values.with_token(token);
    }
    values.with_secrets_from(connector)
}

/// A pipeline error as an answer: 404 for an unknown operation, 400 for inputs, URL or security
/// that do not fit, 502 when the backend could not be reached; secrets masked in the message.
pub(crate) fn invoke_error(error: &InvokeError, values: &ConnectionValues) -> ApiError {
    let message = masked_message(error, values);
    match error {
        InvokeError::UnknownOperation(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "unknown_operation", message)
        }
        InvokeError::Bind(_) | InvokeError::Url(_) => ApiError::bad_request("invalid_inputs", message),
        InvokeError::Security(_) => ApiError::bad_request("connection_incomplete", message),
        _ => ApiError::new(StatusCode::BAD_GATEWAY, "backend_failed", message),
    }
}

/// `error`'s message with every secret of the connection masked.
pub(crate) fn masked_message(error: &dyn std::fmt::Display, values: &ConnectionValues) -> String {
    let mut message = error.to_string();
    for secret in values.secrets() {
        message = message.replace(&secret, "***");
    }
    message
}

/// Response headers as a JSON object; repeated headers joined with `, `, non-text values skipped.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        let texts: Vec<&str> = headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).collect();
        if !texts.is_empty() {
            out.insert(name.as_str().to_owned(), Value::String(texts.join(", ")));
        }
    }
    Value::Object(out)
}
