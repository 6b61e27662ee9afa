//! `/api/connections`: create (under a connector), read, list and delete the caller's connections.
//! Connections are private to their creator; their secrets are sealed by the store and never shown.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use patchbay_runtime::security::oauth::grant_type;
use patchbay_runtime::security::{ConnectionValues, Credential, GrantType, select_credential};
use patchbay_spec::Connector;
use patchbay_store::{Access, Connection, ConnectionId, ConnectionStatus, ConnectorId, NewConnection};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, connector_access};
use crate::error::{ApiError, Body};
use crate::state::SharedState;

/// The routes under `/api/connections` (creation is under the connector).
pub fn router() -> Router<SharedState> {
    Router::new().route("/", get(list)).route("/{id}", get(read).delete(remove))
}

/// A new connection: its display name, chosen parameter set and parameter values.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConnectionBody {
    /// Shown in lists; default the connector's name.
    pub display_name: Option<String>,
    /// The chosen `connectionParameterSets` value.
    pub parameter_set: Option<String>,
    /// Parameter values by name; secret ones are sealed.
    #[serde(default)]
    pub values: Map<String, Value>,
}

/// A connection as JSON: public values and the names of its secrets, never their values.
pub fn connection_json(connection: &Connection) -> Value {
    json!({
        "id": connection.id,
        "connectorId": connection.connector_id,
        "displayName": connection.display_name,
        "parameterSet": connection.parameter_set,
        "values": connection.values,
        "secretNames": connection.secret_names,
        "hasTokens": connection.has_tokens,
        "status": connection.status,
        "createdAt": connection.created_at,
        "updatedAt": connection.updated_at,
    })
}

/// `POST /api/connectors/{id}/connections`: a connection of the caller's to a connector they can use.
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Path(connector_id): Path<ConnectorId>,
    Body(body): Body<NewConnectionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(connection_json(&connection))))
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
    match state.store.connections().get(id).await {
        Ok(connection) if connection.owner_id == caller.0.id => Ok(connection),
        Ok(_) | Err(patchbay_store::StoreError::NotFound { .. }) => Err(ApiError::not_found("connection")),
        Err(error) => Err(error.into()),
    }
}

/// `GET /api/connections`: the caller's connections.
async fn list(State(state): State<SharedState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let connections = state.store.connections().list(&caller.0.id).await?;
    let mine = connections.iter().filter(|connection| connection.owner_id == caller.0.id);
    Ok(Json(Value::Array(mine.map(connection_json).collect())))
}

/// `GET /api/connections/{id}`.
async fn read(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(connection_json(&owned(&state, &caller, &id).await?)))
}

/// `DELETE /api/connections/{id}`.
async fn remove(
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
