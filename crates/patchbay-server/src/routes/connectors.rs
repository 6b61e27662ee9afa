//! `/api/connectors`: upload, list, read, update (new revision), delete, revisions, package, share.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use patchbay_spec::model::{OperationKind, TriggerKind};
use patchbay_store::{
    Access, Connector, ConnectorId, ConnectorPackage, ConnectorRevision, Grantee, Level, Resource,
    RevisionInfo, Role,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Caller, connector_access};
use crate::error::{ApiError, Body};
use crate::package;
use crate::state::SharedState;

/// The routes under `/api/connectors`.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", post(create).get(list))
        .route("/{id}", get(details).put(update).delete(remove))
        .route("/{id}/revisions", get(revisions))
        .route("/{id}/revisions/{n}", get(revision))
        .route("/{id}/package", get(current_package))
        .route("/{id}/share", post(share))
        .route("/{id}/publish", post(publish).delete(unpublish))
        .route("/{id}/connections", post(super::connections::create))
}

/// An uploaded package: `name` (on create), the two JSON documents as text, and optionally the
/// script and the icon (base64).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    /// The connector's name (required on create; on update it must be the current name).
    pub name: Option<String>,
    /// `apiDefinition.swagger.json`, as text.
    pub api_definition: String,
    /// `apiProperties.json`, as text.
    pub api_properties: String,
    /// `script.csx`, as text.
    pub script: Option<String>,
    /// `icon.png`, as base64.
    pub icon: Option<String>,
}

impl Upload {
    /// The package to store; a malformed icon is a 400.
    fn package(self) -> Result<ConnectorPackage, ApiError> {
        let icon = match self.icon {
            Some(text) => Some(
                STANDARD
                    .decode(text.trim())
                    .map_err(|_| ApiError::bad_request("invalid_icon", "`icon` is not base64"))?,
            ),
            None => None,
        };
        Ok(ConnectorPackage {
            api_definition: self.api_definition,
            api_properties: self.api_properties,
            script: self.script,
            icon,
        })
    }
}

/// A connector record as JSON.
pub fn connector_json(connector: &Connector) -> Value {
    json!({
        "id": connector.id,
        "name": connector.name,
        "ownerId": connector.owner_id,
        "environmentId": connector.environment_id,
        "currentRevision": connector.current_revision,
        "publishedAt": connector.published_at,
        "createdAt": connector.created_at,
        "updatedAt": connector.updated_at,
    })
}

/// `POST /api/connectors`: validates and stores a new connector as revision 1.
async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(upload): Body<Upload>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = upload.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("invalid_body", "`name` is required"));
    }
    let package = upload.package()?;
    let accepted = package::check(&name, &package).await?;
    let connector = state.store.connectors().create(&caller.0.id, &name, &package).await?;
    let mut body = connector_json(&connector);
    body["warnings"] = Value::Array(accepted.warnings);
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/connectors`: the connectors the caller can see.
async fn list(State(state): State<SharedState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let connectors = state.store.connectors().list(&caller.0.id).await?;
    Ok(Json(Value::Array(connectors.iter().map(connector_json).collect())))
}

/// `GET /api/connectors/{id}`: the record, the caller's access and the current revision's operations.
async fn details(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Value>, ApiError> {
    let access = connector_access(&state, &caller, &id, Access::CanUse).await?;
    let connector = state.store.connectors().get(&id).await?;
    let compiled = state.compiled(&id).await?;
    let model = &compiled.connector;
    let operations: Vec<Value> = model
        .operations()
        .map(|(item, op)| {
            let (kind, trigger) = match op.kind(item, &model.definitions) {
                OperationKind::Action => ("action", None),
                OperationKind::Trigger { kind: TriggerKind::Polling, .. } => ("trigger", Some("polling")),
                OperationKind::Trigger { kind: TriggerKind::Webhook, .. } => ("trigger", Some("webhook")),
            };
            json!({
                "id": op.id, "kind": kind, "trigger": trigger, "method": op.method.as_upper(),
                "path": item.path, "summary": op.summary,
            })
        })
        .collect();
    let mut body = connector_json(&connector);
    body["access"] = json!(access);
    body["operations"] = Value::Array(operations);
    Ok(Json(body))
}

/// `PUT /api/connectors/{id}`: validates and stores a new revision; the name cannot change (409).
async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
    Body(upload): Body<Upload>,
) -> Result<Json<Value>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanEdit).await?;
    let connector = state.store.connectors().get(&id).await?;
    if upload.name.as_deref().is_some_and(|name| name != connector.name) {
        return Err(ApiError::conflict(
            "name_change",
            format!("the connector is named `{}`; its name cannot change", connector.name),
        ));
    }
    let package = upload.package()?;
    let accepted = package::check(&connector.name, &package).await?;
    let revision = state.store.connectors().update(&id, &caller.0.id, &package).await?;
    let connector = state.store.connectors().get(&id).await?;
    let mut body = connector_json(&connector);
    body["revision"] = json!(revision);
    body["warnings"] = Value::Array(accepted.warnings);
    Ok(Json(body))
}

/// `DELETE /api/connectors/{id}`: the owner deletes the connector with its connections.
async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<StatusCode, ApiError> {
    connector_access(&state, &caller, &id, Access::Owner).await?;
    state.store.connectors().delete(&id).await?;
    state.forget(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// A revision's metadata as JSON.
fn revision_info_json(info: &RevisionInfo) -> Value {
    json!({"revision": info.revision, "authorId": info.author_id, "createdAt": info.created_at})
}

/// A revision with its files as JSON (the icon as base64).
fn revision_json(revision: &ConnectorRevision) -> Value {
    let package = &revision.package;
    let mut body = revision_info_json(&revision.info);
    body["connectorId"] = json!(revision.connector_id);
    body["files"] = json!({
        "apiDefinition": package.api_definition,
        "apiProperties": package.api_properties,
        "script": package.script,
        "icon": package.icon.as_ref().map(|bytes| STANDARD.encode(bytes)),
    });
    body
}

/// `GET /api/connectors/{id}/revisions`: every revision, oldest first, without files.
async fn revisions(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Value>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let revisions = state.store.connectors().revisions(&id).await?;
    Ok(Json(Value::Array(revisions.iter().map(revision_info_json).collect())))
}

/// `GET /api/connectors/{id}/revisions/{n}`: one revision's files.
async fn revision(
    State(state): State<SharedState>,
    caller: Caller,
    Path((id, n)): Path<(ConnectorId, String)>,
) -> Result<Json<Value>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let n: i64 = n.parse().map_err(|_| ApiError::not_found("revision"))?;
    let revision = state.store.connectors().revision(&id, n).await?;
    Ok(Json(revision_json(&revision)))
}

/// `GET /api/connectors/{id}/package`: the current revision's files.
async fn current_package(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Value>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let revision = state.store.connectors().current(&id).await?;
    Ok(Json(revision_json(&revision)))
}

/// A share request: one user by email, or the whole environment, at a level.
#[derive(Debug, Deserialize)]
pub struct Share {
    /// The email of the user to share with.
    pub user: Option<String>,
    /// `true` to share with everyone in the connector's environment.
    pub environment: Option<bool>,
    /// `can_use` or `can_edit`.
    pub level: String,
}

/// `POST /api/connectors/{id}/share`: the owner or an editor grants access.
async fn share(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
    Body(request): Body<Share>,
) -> Result<Json<Value>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanEdit).await?;
    let level = match request.level.as_str() {
        "can_use" => Level::CanUse,
        "can_edit" => Level::CanEdit,
        _ => return Err(ApiError::bad_request("invalid_level", "`level` is `can_use` or `can_edit`")),
    };
    let grantee = match (request.user.as_deref(), request.environment) {
        (Some(email), None | Some(false)) => {
            let user = state.store.people().user_by_email(email).await?;
            Grantee::User(user.ok_or_else(|| ApiError::not_found("user"))?.id)
        }
        (None, Some(true)) => Grantee::Environment(state.store.connectors().get(&id).await?.environment_id),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "give either `user` (an email) or `\"environment\": true`",
            ));
        }
    };
    state.store.sharing().grant(&Resource::Connector(id), &grantee, level).await?;
    Ok(Json(json!({"grantee": grantee, "level": level.as_str()})))
}

/// `POST /api/connectors/{id}/publish`: an admin who can edit the connector puts it in the
/// catalogue of every environment, when its current revision passes the certification checklist
/// (no error and no `PB09xx` finding); otherwise 422 with the findings.
async fn publish(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Value>, ApiError> {
    publisher(&state, &caller, &id).await?;
    let record = state.store.connectors().get(&id).await?;
    let revision = state.store.connectors().current(&id).await?;
    let findings = package::certification_findings(&record.name, &revision.package).await?;
    if !findings.is_empty() {
        let mut error = ApiError::invalid_package(findings);
        error.message = "the connector does not pass the certification checklist; fix the findings".into();
        return Err(error);
    }
    state.store.sharing().publish(&id).await?;
    Ok(Json(json!({"published": true, "revision": revision.info.revision})))
}

/// `DELETE /api/connectors/{id}/publish`: takes the connector out of the catalogue.
async fn unpublish(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Value>, ApiError> {
    publisher(&state, &caller, &id).await?;
    state.store.sharing().unpublish(&id).await?;
    Ok(Json(json!({"published": false})))
}

/// Publishing is for admins who can edit the connector.
async fn publisher(state: &SharedState, caller: &Caller, id: &ConnectorId) -> Result<(), ApiError> {
    connector_access(state, caller, id, Access::CanEdit).await?;
    if caller.0.role != Role::Admin {
        return Err(ApiError::forbidden("publishing to the catalogue needs an admin"));
    }
    Ok(())
}

/// `GET /api/catalogue`: the published connectors, from every environment.
pub async fn catalogue(State(state): State<SharedState>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    let connectors = state.store.sharing().catalogue().await?;
    Ok(Json(Value::Array(connectors.iter().map(connector_json).collect())))
}
