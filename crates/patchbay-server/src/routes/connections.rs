//! `/api/connections`: create (under a connector), read, list and delete the caller's connections.
//! Connections are private to their creator; their secrets are sealed by the store and never shown.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use patchbay_runtime::security::oauth::grant_type;
use patchbay_runtime::security::{ConnectionValues, Credential, GrantType, select_credential};
use patchbay_spec::Connector;
use patchbay_spec::model::SecuritySchemeKind;
use patchbay_store::{
    Access, Connection, ConnectionId, ConnectionSecrets, ConnectionStatus, ConnectorId, NewConnection,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, connector_access, owned_by};
use crate::error::{ApiError, Body};
use crate::state::SharedState;

/// The routes under `/api/connections` (creation is under the connector).
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(read, remove))
}

/// A new connection: its display name, chosen parameter set and parameter values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewConnectionBody {
    /// Shown in lists; default the connector's title.
    pub display_name: Option<String>,
    /// The chosen `connectionParameterSets` value.
    pub parameter_set: Option<String>,
    /// Parameter values by name; secret ones (`securestring` parameters, `clientSecret`) are sealed.
    #[serde(default)]
    pub values: Map<String, Value>,
    /// The on-premises gateway (of the caller's environment) every call goes through.
    pub gateway_id: Option<String>,
}

/// A connection: public values and the names of its secrets, never their values.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// The connection's id.
    pub id: String,
    /// The connector it is for.
    pub connector_id: String,
    /// Name shown to people.
    pub display_name: String,
    /// The chosen parameter set, if the connector has several.
    pub parameter_set: Option<String>,
    /// Values of the non-secret parameters.
    pub values: Map<String, Value>,
    /// Names of the secret parameters that have a value, sorted.
    pub secret_names: Vec<String>,
    /// Whether OAuth tokens are stored.
    pub has_tokens: bool,
    /// `{"status": "connected" | "unauthenticated" | "error", "message"?}`.
    #[schema(value_type = Object)]
    pub status: ConnectionStatus,
    /// The on-premises gateway every call goes through, if bound.
    pub gateway_id: Option<String>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the last change (epoch ms).
    pub updated_at: i64,
}

impl From<&Connection> for ConnectionView {
    fn from(connection: &Connection) -> Self {
        ConnectionView {
            id: connection.id.as_str().to_owned(),
            connector_id: connection.connector_id.as_str().to_owned(),
            display_name: connection.display_name.clone(),
            parameter_set: connection.parameter_set.clone(),
            values: connection.values.clone(),
            secret_names: connection.secret_names.clone(),
            has_tokens: connection.has_tokens,
            status: connection.status.clone(),
            gateway_id: connection.gateway_id.as_ref().map(|id| id.as_str().to_owned()),
            created_at: connection.created_at,
            updated_at: connection.updated_at,
        }
    }
}

/// A connection of the caller's to a connector they can use.
#[utoipa::path(
    post,
    path = "/api/connectors/{id}/connections",
    operation_id = "createConnection",
    tag = "connections",
    summary = "Create a connection to a connector",
    description = "Needs `can_use`. Secret values (the connector's secure-string parameters and \
                   `clientSecret`) are sealed and never shown again. An OAuth connection starts \
                   `unauthenticated` until its sign-in (`oauth/start`); without a `clientSecret` of its \
                   own it uses the connector's.",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = NewConnectionBody,
    responses(
        (status = 201, description = "Created", body = ConnectionView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Path(connector_id): Path<ConnectorId>,
    Body(body): Body<NewConnectionBody>,
) -> Result<(StatusCode, Json<ConnectionView>), ApiError> {
    connector_access(&state, &caller, &connector_id, Access::CanUse).await?;
    let compiled = state.compiled(&connector_id).await?;
    let mut secret_names: Vec<String> = compiled
        .connector
        .security
        .all_connection_parameters()
        .filter(|parameter| parameter.is_secret())
        .map(|parameter| parameter.name.to_ascii_lowercase())
        .collect();
    secret_names.extend(CLIENT_SECRET_NAMES.iter().map(|name| (*name).to_owned()));
    let (values, secrets) = split_secrets(body.values, &secret_names)?;
    let display_name = body.display_name.unwrap_or_else(|| compiled.connector.identity.title.clone());
    let status = initial_status(&compiled.connector, body.parameter_set.as_deref());
    let connection = state
        .store
        .connections()
        .create(NewConnection {
            connector_id: &connector_id,
            owner_id: &caller.0.id,
            display_name: &display_name,
            parameter_set: body.parameter_set.as_deref(),
            values,
            secrets,
            status,
        })
        .await?;
    let Some(gateway) = body.gateway_id else {
        return Ok((StatusCode::CREATED, Json(ConnectionView::from(&connection))));
    };
    if let Err(error) = state.store.gateways().bind(&connection.id, Some(&gateway.as_str().into())).await {
        state.store.connections().delete(&connection.id).await?;
        return Err(crate::routes::gateways::bind_error(error));
    }
    let connection = state.store.connections().get(&connection.id).await?;
    Ok((StatusCode::CREATED, Json(ConnectionView::from(&connection))))
}

/// Value names that always hold an OAuth client secret (lower case): sealed like declared secrets,
/// and used for the token requests of OAuth connections (see `routes::oauth`).
pub const CLIENT_SECRET_NAMES: [&str; 2] = ["clientsecret", "client_secret"];

/// `Unauthenticated` for a connection that needs an OAuth sign-in (authorization code grant),
/// else `Connected`.
fn initial_status(connector: &Connector, parameter_set: Option<&str>) -> ConnectionStatus {
    let mut values = ConnectionValues::new("new");
    if let Some(set) = parameter_set {
        values = values.with_parameter_set(set);
    }
    match select_credential(connector, &values) {
        Ok(Credential::OAuth(settings)) if grant_type(settings, &values) == GrantType::AuthorizationCode => {
            ConnectionStatus::Unauthenticated
        }
        _ => ConnectionStatus::Connected,
    }
}

/// Secret parameter values by name.
type Secrets = BTreeMap<String, String>;

/// Splits `values` into public values and secrets (those named in `secret_names`, any case);
/// a secret must be text, a number or a boolean.
fn split_secrets(
    values: Map<String, Value>,
    secret_names: &[String],
) -> Result<(Map<String, Value>, Secrets), ApiError> {
    let mut public = Map::new();
    let mut secrets = BTreeMap::new();
    for (name, value) in values {
        if !secret_names.contains(&name.to_ascii_lowercase()) {
            public.insert(name, value);
            continue;
        }
        let text = match value {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_value",
                    format!("the secret parameter `{name}` must be text"),
                ));
            }
        };
        secrets.insert(name, text);
    }
    Ok((public, secrets))
}

/// The connection `id` when the caller owns it; otherwise not found.
pub async fn owned(state: &SharedState, caller: &Caller, id: &ConnectionId) -> Result<Connection, ApiError> {
    let found = state.store.connections().get(id).await;
    owned_by(found, |connection| connection.owner_id == caller.0.id, "connection")
}

/// The connection's secrets for the runtime: its own, plus the connector's OAuth client secret
/// (as `clientSecret`) when the connection has none of its own and the connector uses OAuth.
pub(crate) async fn secrets_for(
    state: &SharedState,
    connection: &Connection,
    connector: &Connector,
) -> Result<ConnectionSecrets, ApiError> {
    let mut secrets = state.store.connections().secrets(&connection.id).await?;
    let own =
        secrets.values.keys().any(|name| CLIENT_SECRET_NAMES.contains(&name.to_ascii_lowercase().as_str()));
    if !own
        && uses_oauth(connector)
        && let Some(secret) = state.store.connectors().client_secret(&connection.connector_id).await?
    {
        secrets.values.insert("clientSecret".to_owned(), secret);
    }
    Ok(secrets)
}

/// Whether the connector signs in with OAuth (an `oAuthSettings` parameter or an `oauth2` definition).
fn uses_oauth(connector: &Connector) -> bool {
    let security = &connector.security;
    security.all_connection_parameters().any(|parameter| parameter.oauth.is_some())
        || security.schemes.iter().any(|scheme| matches!(scheme.kind, SecuritySchemeKind::OAuth2 { .. }))
}

/// The caller's connections.
#[utoipa::path(
    get,
    path = "/api/connections",
    operation_id = "listConnections",
    tag = "connections",
    summary = "List the caller's connections",
    responses(
        (status = 200, description = "The caller's connections (secret names only)", body = Vec<ConnectionView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<SharedState>,
    caller: Caller,
) -> Result<Json<Vec<ConnectionView>>, ApiError> {
    let connections = state.store.connections().list(&caller.0.id).await?;
    let mine = connections.iter().filter(|connection| connection.owner_id == caller.0.id);
    Ok(Json(mine.map(ConnectionView::from).collect()))
}

/// One of the caller's connections.
#[utoipa::path(
    get,
    path = "/api/connections/{id}",
    operation_id = "getConnection",
    tag = "connections",
    summary = "Read a connection",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 200, description = "The connection (secret names only)", body = ConnectionView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn read(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
) -> Result<Json<ConnectionView>, ApiError> {
    Ok(Json(ConnectionView::from(&owned(&state, &caller, &id).await?)))
}

/// Deletes one of the caller's connections with its secrets and tokens.
#[utoipa::path(
    delete,
    path = "/api/connections/{id}",
    operation_id = "deleteConnection",
    tag = "connections",
    summary = "Delete a connection",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
) -> Result<StatusCode, ApiError> {
    owned(&state, &caller, &id).await?;
    state.store.connections().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::split_secrets;
    use serde_json::json;

    #[test]
    fn declared_secrets_are_split_from_public_values_in_any_case() {
        let values =
            json!({"API_Key": "k", "region": "eu", "pin": 1234}).as_object().cloned().unwrap_or_default();
        let names = ["api_key".to_owned(), "pin".to_owned()];
        let (public, secrets) = split_secrets(values, &names).unwrap_or_default();
        assert_eq!(public.keys().collect::<Vec<_>>(), ["region"]);
        assert_eq!(secrets.get("API_Key").map(String::as_str), Some("k"));
        assert_eq!(secrets.get("pin").map(String::as_str), Some("1234"));
    }
}
