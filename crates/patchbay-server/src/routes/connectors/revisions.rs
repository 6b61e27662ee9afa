//! A connector's revisions and its current package files.

use axum::Json;
use axum::extract::{Path, State};
use patchbay_store::{Access, ConnectorId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{RevisionInfoView, RevisionView};
use crate::auth::{Caller, connector_access};
use crate::error::ApiError;
use crate::state::SharedState;

/// `/api/connectors/{id}/revisions[/{n}]` and `/api/connectors/{id}/package`.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(revisions)).routes(routes!(revision)).routes(routes!(current_package))
}

/// Every revision, oldest first, without files.
#[utoipa::path(
    get,
    path = "/api/connectors/{id}/revisions",
    operation_id = "listConnectorRevisions",
    tag = "connectors",
    summary = "List a connector's revisions",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 200, description = "The revisions, oldest first", body = Vec<RevisionInfoView>),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn revisions(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<Vec<RevisionInfoView>>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let revisions = state.store.connectors().revisions(&id).await?;
    Ok(Json(revisions.iter().map(RevisionInfoView::from).collect()))
}

/// One revision's files.
#[utoipa::path(
    get,
    path = "/api/connectors/{id}/revisions/{n}",
    operation_id = "getConnectorRevision",
    tag = "connectors",
    summary = "Read one revision with its files",
    params(
        ("id" = String, Path, description = "The connector's id"),
        ("n" = i64, Path, description = "The revision number, from 1")
    ),
    responses(
        (status = 200, description = "The revision and its files", body = RevisionView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn revision(
    State(state): State<SharedState>,
    caller: Caller,
    Path((id, n)): Path<(ConnectorId, String)>,
) -> Result<Json<RevisionView>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let n: i64 = n.parse().map_err(|_| ApiError::not_found("revision"))?;
    let revision = state.store.connectors().revision(&id, n).await?;
    Ok(Json(RevisionView::from(&revision)))
}

/// The current revision's files (what `patchbay connector download` writes).
#[utoipa::path(
    get,
    path = "/api/connectors/{id}/package",
    operation_id = "getConnectorPackage",
    tag = "connectors",
    summary = "Download the current package files",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 200, description = "The current revision and its files", body = RevisionView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn current_package(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectorId>,
) -> Result<Json<RevisionView>, ApiError> {
    connector_access(&state, &caller, &id, Access::CanUse).await?;
    let revision = state.store.connectors().current(&id).await?;
    Ok(Json(RevisionView::from(&revision)))
}
