//! OAuth consent and connection tests (spec §3.5.6, §2.3.15).
//!
//! * `GET /api/connections/{id}/oauth/start` (the owner): a fresh `state` and PKCE pair are stored
//!   with [`OAuthStates::put`](patchbay_store::OAuthStates::put) (10 minutes), then `302` to the
//!   provider's authorization URL (`?mode=json`: `200 {"authorizationUrl"}`). The redirect URL is
//!   `{public URL}/oauth/callback`.
//! * `GET /oauth/callback?code&state` (no bearer: the single-use `state` is the proof): takes the
//!   state, redeems the code with its verifier, seals the tokens into the connection and marks it
//!   `connected`. State and verifier live in the store, so any node of a cluster can finish a
//!   sign-in another node started.
//! * `POST /api/connections/{id}/test`: runs the connector's `x-ms-capabilities.testConnection`
//!   operation and records the outcome as the connection's status.
//!
//! The OAuth client secret is the connection's own secret value named `clientSecret` or
//! `client_secret` (any case; sealed at creation), else the connector's sealed client secret
//! (uploaded with the package, `patchbay connector create --secret`), else the package's
//! `oAuthSettings.clientSecret`.
//! No answer or error ever carries a token, code, verifier or client secret.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::response::{IntoResponse, Response};
use patchbay_runtime::security::{
    ConnectionValues, Credential, SecurityError, authorization_url, pkce_pair, random_state,
    select_credential,
};
use patchbay_runtime::{Call, InvokeError, Outcome};
use patchbay_spec::Connector;
use patchbay_spec::model::OAuthSettings;
use patchbay_store::{Access, ConnectionId, ConnectionStatus, OAuthState, now_ms};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, connector_access};
use crate::error::ApiError;
use crate::routes::connections::{CLIENT_SECRET_NAMES, owned, secrets_for};
use crate::routes::invoke::connection_values;
use crate::state::SharedState;

/// How long a started sign-in may take (ms).
const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// The longest provider error text shown back.
const MAX_PROVIDER_MESSAGE: usize = 300;

/// Start a sign-in, the provider's redirect target `/oauth/callback`, test a connection.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(start)).routes(routes!(callback)).routes(routes!(test))
}

/// The query of `oauth/start`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StartQuery {
    /// `json` answers `{"authorizationUrl"}` instead of redirecting.
    pub(crate) mode: Option<String>,
}

/// `GET /api/connections/{id}/oauth/start`: stores a state and PKCE verifier, then sends the
/// caller to the provider.
#[utoipa::path(
    get,
    path = "/api/connections/{id}/oauth/start",
    operation_id = "startOAuthSignIn",
    tag = "oauth",
    summary = "Start the OAuth sign-in of a connection",
    description = "The owner only. Stores a single-use state and a PKCE verifier (10 minutes), then \
                   redirects to the provider's authorization URL; the provider sends the user back to \
                   `/oauth/callback`.",
    params(("id" = String, Path, description = "The connection's id"), StartQuery),
    responses(
        (status = 302, description = "To the provider's authorization URL (`Location`)"),
        (status = 200, description = "With `mode=json`: `{\"authorizationUrl\"}`", body = Object),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn start(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
    Query(query): Query<StartQuery>,
) -> Result<Response, ApiError> {
    let connection = owned(&state, &caller, &id).await?;
    connector_access(&state, &caller, &connection.connector_id, Access::CanUse).await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    let secrets = secrets_for(&state, &connection, &compiled.connector).await?;
    let values = connection_values(&connection, secrets, &compiled.connector);
    let settings = client_settings(&compiled.connector, &values)
        .ok_or_else(|| ApiError::bad_request("not_oauth", "this connection does not sign in with OAuth"))?;
    let (verifier, challenge) = pkce_pair().map_err(|_| ApiError::internal("no random bytes available"))?;
    let nonce = random_state().map_err(|_| ApiError::internal("no random bytes available"))?;
    let redirect = format!("{}/oauth/callback", state.public_url);
    let url = authorization_url(&settings, &redirect, &nonce, Some(&challenge), &values)
        .map_err(|error| ApiError::bad_request("invalid_oauth_settings", masked(&error, &values, &[])))?;
    let pending = OAuthState {
        state: nonce,
        connection_id: id,
        verifier,
        redirect,
        expires_at: now_ms() + STATE_LIFETIME_MS,
    };
    state.store.oauth_states().put(&pending).await?;
    if query.mode.as_deref() == Some("json") {
        return Ok(Json(json!({"authorizationUrl": url.as_str()})).into_response());
    }
    Ok((StatusCode::FOUND, [(LOCATION, url.as_str()), (CACHE_CONTROL, "no-store")]).into_response())
}

/// The provider's answer on `/oauth/callback`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The state sent by `oauth/start`.
    state: Option<String>,
    /// The provider's error code, when the sign-in failed.
    error: Option<String>,
    /// The provider's error text.
    error_description: Option<String>,
}

/// `GET /oauth/callback`: finishes a sign-in; answers a small HTML page (200 ready, 400 not).
#[utoipa::path(
    get,
    path = "/oauth/callback",
    operation_id = "finishOAuthSignIn",
    tag = "oauth",
    summary = "Finish an OAuth sign-in (the provider's redirect target)",
    description = "No bearer: the single-use `state` is the proof. Redeems the code with the stored \
                   PKCE verifier, seals the tokens into the connection and marks it `connected`.",
    params(CallbackQuery),
    responses(
        (status = 200, description = "The connection is ready (an HTML page)", content_type = "text/html", body = String),
        (status = 400, description = "Unknown, expired or replayed state, or the provider refused (an HTML page)", content_type = "text/html", body = String)
    )
)]
async fn callback(State(state): State<SharedState>, Query(query): Query<CallbackQuery>) -> Response {
    match finish(&state, query).await {
        Ok(name) => page(
            StatusCode::OK,
            "Connection ready",
            &format!("The connection \u{201c}{name}\u{201d} is ready. You can close this window."),
        ),
        Err(error) => page(error.status, "Sign-in failed", &error.message),
    }
}

/// Takes the state, redeems the code, stores the tokens; answers the connection's display name.
async fn finish(state: &SharedState, query: CallbackQuery) -> Result<String, ApiError> {
    let nonce = query.state.filter(|nonce| !nonce.is_empty()).ok_or_else(|| {
        ApiError::bad_request("invalid_state", "the sign-in answer carries no state; start the sign-in again")
    })?;
    let taken = state.store.oauth_states().take(&nonce).await?.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_state",
            "this sign-in is unknown, expired or already completed; start the sign-in again",
        )
    })?;
    let id = taken.connection_id.clone();
    let connections = state.store.connections();
    if let Some(error) = query.error {
        let message = provider_message(&error, query.error_description.as_deref());
        connections.set_status(&id, &ConnectionStatus::Error(message.clone())).await?;
        return Err(ApiError::bad_request("sign_in_refused", message));
    }
    let code = query.code.filter(|code| !code.is_empty()).ok_or_else(|| {
        ApiError::bad_request(
            "missing_code",
            "the provider sent no authorization code; start the sign-in again",
        )
    })?;
    let connection = connections.get(&id).await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    let secrets = secrets_for(state, &connection, &compiled.connector).await?;
    let values = connection_values(&connection, secrets, &compiled.connector);
    let settings = client_settings(&compiled.connector, &values)
        .ok_or_else(|| ApiError::bad_request("not_oauth", "this connection does not sign in with OAuth"))?;
    let exchanged = state
        .runtime
        .tokens
        .exchange_code(&settings, &values, &code, Some(&taken.verifier), &taken.redirect)
        .await;
    match exchanged {
        Ok(tokens) => {
            connections.set_tokens(&id, &tokens.to_json()).await?;
            connections.set_status(&id, &ConnectionStatus::Connected).await?;
            Ok(connection.display_name)
        }
        Err(error) => {
            let message = format!(
                "the provider did not accept the sign-in: {}",
                masked(&error, &values, &[&code, &taken.verifier])
            );
            connections.set_status(&id, &ConnectionStatus::Error(message.clone())).await?;
            Err(ApiError::bad_request("sign_in_failed", message))
        }
    }
}

/// `POST /api/connections/{id}/test`: runs the connector's test operation, records and answers
/// `{"status", "detail"}`.
#[utoipa::path(
    post,
    path = "/api/connections/{id}/test",
    operation_id = "testConnection",
    tag = "oauth",
    summary = "Test a connection",
    description = "Runs the connector's `x-ms-capabilities.testConnection` operation and records the \
                   outcome as the connection's status (2xx connected, 401/403 unauthenticated, else error).",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "`{\"status\", \"detail\"}`", body = Object),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn test(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
) -> Result<Json<Value>, ApiError> {
    let connection = owned(&state, &caller, &id).await?;
    connector_access(&state, &caller, &connection.connector_id, Access::CanUse).await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    let Some((operation, inputs)) = test_capability(&compiled.connector) else {
        return Ok(Json(json!({
            "status": status_name(&connection.status),
            "detail": "the connector defines no test (x-ms-capabilities.testConnection); the status is unchanged",
        })));
    };
    let secrets = secrets_for(&state, &connection, &compiled.connector).await?;
    let values = connection_values(&connection, secrets, &compiled.connector);
    let call = Call { connector: &compiled, operation_id: &operation, connection: &values, inputs: &inputs };
    let (status, detail) = match state.runtime.invoke(call).await {
        Ok(invoked) => match invoked.outcome {
            _ if invoked.unauthenticated => {
                (ConnectionStatus::Unauthenticated, format!("`{operation}` asked for a new sign-in"))
            }
            Outcome::Done(response) => status_of(&operation, response.status.as_u16()),
            Outcome::Pending { .. } => status_of(&operation, 202),
        },
        Err(InvokeError::Security(error)) if error.needs_sign_in() => {
            (ConnectionStatus::Unauthenticated, "the connection needs a sign-in".to_owned())
        }
        Err(error) => {
            let mut message = error.to_string();
            for secret in values.secrets() {
                message = message.replace(&secret, "***");
            }
            (ConnectionStatus::Error(message.clone()), format!("`{operation}` failed: {message}"))
        }
    };
    state.store.connections().set_status(&id, &status).await?;
    Ok(Json(json!({"status": status_name(&status), "detail": detail})))
}

/// The status a test answer means: 2xx connected, 401/403 unauthenticated, else an error.
fn status_of(operation: &str, code: u16) -> (ConnectionStatus, String) {
    let detail = format!("`{operation}` answered {code}");
    match code {
        200..=299 => (ConnectionStatus::Connected, detail),
        401 | 403 => (ConnectionStatus::Unauthenticated, detail),
        _ => (ConnectionStatus::Error(detail.clone()), detail),
    }
}

/// The stored name of a status: `connected`, `unauthenticated` or `error`.
pub(crate) fn status_name(status: &ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Connected => "connected",
        ConnectionStatus::Unauthenticated => "unauthenticated",
        ConnectionStatus::Error(_) => "error",
    }
}

/// The test operation and its inputs, from the root `x-ms-capabilities.testConnection`.
fn test_capability(connector: &Connector) -> Option<(String, Map<String, Value>)> {
    let test = connector.extra.get("x-ms-capabilities")?.get("testConnection")?;
    let operation = test.get("operationId")?.as_str()?.to_owned();
    let inputs = test.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    Some((operation, inputs))
}

/// The connection's OAuth settings with the client secret filled in (rules in the module
/// documentation); `None` when the connection does not use OAuth.
pub(crate) fn client_settings(connector: &Connector, values: &ConnectionValues) -> Option<OAuthSettings> {
    let Ok(Credential::OAuth(settings)) = select_credential(connector, values) else { return None };
    let mut settings = settings.clone();
    if let Some(secret) = CLIENT_SECRET_NAMES.iter().find_map(|name| values.text(name)) {
        settings.client_secret = Some(secret);
    }
    Some(settings)
}

/// Marks the connection `unauthenticated` ("Fix connection"); a store failure is only logged.
pub(crate) async fn mark_unauthenticated(state: &SharedState, id: &ConnectionId) {
    if let Err(error) = state.store.connections().set_status(id, &ConnectionStatus::Unauthenticated).await {
        tracing::warn!(connection = %id, %error, "could not mark the connection unauthenticated");
    }
}

/// A security error's message with every secret of the connection (and `extra`) masked.
fn masked(error: &SecurityError, values: &ConnectionValues, extra: &[&str]) -> String {
    let mut message = error.to_string();
    let secrets = values.secrets();
    for secret in secrets.iter().map(String::as_str).chain(extra.iter().copied()) {
        if !secret.is_empty() {
            message = message.replace(secret, "***");
        }
    }
    message
}

/// The provider's refusal as one short sentence.
fn provider_message(error: &str, description: Option<&str>) -> String {
    let text = match description.filter(|text| !text.trim().is_empty()) {
        Some(description) => format!("the provider refused the sign-in ({error}): {description}"),
        None => format!("the provider refused the sign-in ({error})"),
    };
    text.chars().take(MAX_PROVIDER_MESSAGE).collect()
}

/// A small HTML page with a title and one message.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{}</p></body></html>\n",
        escape(message),
    );
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-store")], body).into_response()
}

/// Text escaped for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, provider_message, status_name, status_of};
    use patchbay_store::ConnectionStatus;

    #[test]
    fn test_statuses_follow_the_answer_code() {
        assert_eq!(status_of("Op", 204).0, ConnectionStatus::Connected);
        assert_eq!(status_of("Op", 403).0, ConnectionStatus::Unauthenticated);
        assert_eq!(status_name(&status_of("Op", 500).0), "error");
    }

    #[test]
    fn provider_text_is_bounded_and_escaped() {
        let long = "x".repeat(1000);
        assert!(provider_message("access_denied", Some(&long)).chars().count() <= 300);
        assert_eq!(escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
    }
}
