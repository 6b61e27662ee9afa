//! `/api/connectors`: upload, list, read, update (new revision), delete; the revisions, sharing and
//! catalogue routes are in the submodules. An upload may carry the connector's OAuth client secret,
//! which is sealed apart from the package (see `patchbay_store::Connectors::set_client_secret`).

pub(crate) mod catalogue;
pub(crate) mod revisions;
pub mod views;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use patchbay_spec::model::{OperationKind, TriggerKind};
use patchbay_store::{Access, ConnectorId, ConnectorPackage};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::views::{ConnectorDetails, ConnectorSaved, ConnectorView, OperationView};
use crate::auth::{Caller, connector_access};
use crate::error::{ApiError, Body};
use crate::package;
use crate::state::SharedState;

/// The routes under `/api/connectors`, and the catalogue.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(details, update, remove))
        .merge(revisions::router())
        .merge(catalogue::router())
        .routes(routes!(super::connections::create))
}

/// An uploaded package: `name` (on create), the two JSON documents as text, and optionally the
/// script, the icon (base64) and the OAuth client secret.
#[derive(Deserialize, ToSchema)]
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
    /// The OAuth client secret (`paconn --secret`): sealed for the connector, kept apart from the
    /// package, never returned; connections without a client secret of their own use it. Left out on
    /// update, the stored one is kept.
    #[schema(format = Password, write_only)]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// The package to store and the client secret sent with it; a malformed icon or an empty
    /// client secret is a 400.
    fn into_parts(self) -> Result<(ConnectorPackage, Option<String>), ApiError> {
        if self.client_secret.as_deref() == Some("") {
            return Err(ApiError::bad_request(
                "invalid_body",
                "`clientSecret` is empty; leave it out to keep the stored one",
            ));
        }
        let icon = match self.icon {
            Some(text) => Some(
                STANDARD
                    .decode(text.trim())
                    .map_err(|_| ApiError::bad_request("invalid_icon", "`icon` is not base64"))?,
            ),
            None => None,
        };
        let package = ConnectorPackage {
            api_definition: self.api_definition,
            api_properties: self.api_properties,
            script: self.script,
            icon,
        };
        Ok((package, self.client_secret))
    }
}

/// Validates and stores a new connector as revision 1 (with its client secret, when sent).
#[utoipa::path(
    post,
    path = "/api/connectors",
    operation_id = "createConnector",
    tag = "connectors",
    summary = "Upload a new connector",
    description = "Validates the package and stores it as revision 1 of a new connector owned by the \
                   caller. `clientSecret`, when sent, is sealed for the connector and never returned.",
    request_body = Upload,
    responses(
        (status = 201, description = "Created; `warnings` lists the validator's findings", body = ConnectorSaved),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::InvalidPackage)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(upload): Body<Upload>,
) -> Result<(StatusCode, Json<ConnectorSaved>), ApiError> {
    let name = upload.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("invalid_body", "`name` is required"));
    }
    let (package, client_secret) = upload.into_parts()?;
    let accepted = package::check(&name, &package).await?;
    let connectors = state.store.connectors();
    let connector = connectors.create(&caller.0.id, &name, &package).await?;
    if let Some(secret) = client_secret.as_deref() {
        connectors.set_client_secret(&connector.id, Some(secret)).await?;
    }
    let saved = ConnectorSaved {
        connector: ConnectorView::from(&connector),
        revision: None,
        warnings: accepted.warnings,
    };
    Ok((StatusCode::CREATED, Json(saved)))
}

/// The connectors the caller can see: owned, shared with them or their environment, or published.
#[utoipa::path(
    get,
    path = "/api/connectors",
    operation_id = "listConnectors",
    tag = "connectors",
    summary = "List the connectors the caller can see",
    responses(
        (status = 200, description = "Owned, shared and published connectors of the caller's environment", body = Vec<ConnectorView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<SharedState>,
    caller: Caller,
) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    let connectors = state.store.connectors().list(&caller.0.id).await?;
    Ok(Json(connectors.iter().map(ConnectorView::from).collect()))
}

/// The record, the caller's access and the current revision's operations.
#[utoipa::path(
    get,
    path = "/api/connectors/{id}",
    operation_id = "getConnector",
    tag = "connectors",
    summary = "Read a connector with its operations",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 200, description = "The connector, the caller's access and its operations", body = ConnectorDetails),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn details(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<ConnectorDetails>, ApiError> {
    let access = connector_access(&state, &caller, &id, Access::CanUse).await?;
    let connector = state.store.connectors().get(&id).await?;
    let has_client_secret = state.store.connectors().has_client_secret(&id).await?;
    let compiled = state.compiled(&id).await?;
    let model = &compiled.connector;
    let operations = model
        .operations()
        .map(|(item, op)| {
            let (kind, trigger) = match op.kind(item, &model.definitions) {
                OperationKind::Action => ("action", None),
                OperationKind::Trigger { kind: TriggerKind::Polling, .. } => ("trigger", Some("polling")),
                OperationKind::Trigger { kind: TriggerKind::Webhook, .. } => ("trigger", Some("webhook")),
            };
            OperationView {
                id: op.id.clone(),
                kind,
                trigger,
                method: op.method.as_upper().to_owned(),
                path: item.path.clone(),
                summary: op.summary.clone(),
            }
        })
        .collect();
    let connector = ConnectorView::from(&connector);
    Ok(Json(ConnectorDetails { connector, access, has_client_secret, operations }))
}

/// Validates and stores a new revision; the name cannot change (409).
#[utoipa::path(
    put,
    path = "/api/connectors/{id}",
    operation_id = "updateConnector",
    tag = "connectors",
    summary = "Upload a new revision of a connector",
    description = "Needs `can_edit`. Validates the package and stores it as the next revision; earlier \
                   revisions stay as they were. `clientSecret` replaces the stored one; left out, the \
                   stored one is kept.",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = Upload,
    responses(
        (status = 200, description = "Stored; `revision` is the new revision's number", body = ConnectorSaved),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::InvalidPackage)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
    Body(upload): Body<Upload>,
) -> Result<Json<ConnectorSaved>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanEdit).await?;
    let connectors = state.store.connectors();
    let connector = connectors.get(&id).await?;
    if upload.name.as_deref().is_some_and(|name| name != connector.name) {
        return Err(ApiError::conflict(
            "name_change",
            format!("the connector is named `{}`; its name cannot change", connector.name),
        ));
    }
    let (package, client_secret) = upload.into_parts()?;
    let accepted = package::check(&connector.name, &package).await?;
    let revision = connectors.update(&id, &caller.0.id, &package).await?;
    if let Some(secret) = client_secret.as_deref() {
        connectors.set_client_secret(&id, Some(secret)).await?;
    }
    let connector = ConnectorView::from(&connectors.get(&id).await?);
    Ok(Json(ConnectorSaved { connector, revision: Some(revision), warnings: accepted.warnings }))
}

/// The owner deletes the connector with its revisions, connections and client secret.
#[utoipa::path(
    delete,
    path = "/api/connectors/{id}",
    operation_id = "deleteConnector",
    tag = "connectors",
    summary = "Delete a connector",
    description = "Owner only. Deletes the connector with its revisions, connections, grants and client secret.",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
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
