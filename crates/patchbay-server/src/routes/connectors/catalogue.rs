//! Sharing a connector, and the catalogue: publishing connectors that pass the certification
//! checklist so every environment sees them.

use axum::Json;
use axum::extract::{Path, State};
use patchbay_store::{Access, ConnectorId, Grantee, Level, Resource, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::ConnectorView;
use crate::auth::{Caller, connector_access};
use crate::error::{ApiError, Body};
use crate::package;
use crate::state::SharedState;

/// `/api/connectors/{id}/share`, `/api/connectors/{id}/publish` and `/api/catalogue`.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(share)).routes(routes!(publish, unpublish)).routes(routes!(catalogue))
}

/// A share request: one user by email, or the whole environment, at a level.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Share {
    /// The email of the user to share with.
    #[schema(example = "maker@example.com")]
    pub user: Option<String>,
    /// `true` to share with everyone in the connector's environment.
    pub environment: Option<bool>,
    /// `can_use` or `can_edit`.
    #[schema(example = "can_use")]
    pub level: String,
}

/// The owner or an editor grants access.
#[utoipa::path(
    post,
    path = "/api/connectors/{id}/share",
    operation_id = "shareConnector",
    tag = "connectors",
    summary = "Share a connector with a user or the environment",
    description = "Needs `can_edit`. Gives either `user` (an email) or `\"environment\": true`, at \
                   `level` `can_use` or `can_edit`. Sharing a connector does not share connections.",
    params(("id" = String, Path, description = "The connector's id")),
    request_body = Share,
    responses(
        (status = 200, description = "`{\"grantee\", \"level\"}`", body = Object),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn share(
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

/// An admin who can edit the connector puts it in the catalogue of every environment, when its
/// current revision passes the certification checklist (no error and no `PB09xx` finding);
/// otherwise 422 with the findings.
#[utoipa::path(
    post,
    path = "/api/connectors/{id}/publish",
    operation_id = "publishConnector",
    tag = "connectors",
    summary = "Publish a connector to the catalogue",
    description = "Needs an admin with `can_edit`. The current revision must pass the certification \
                   checklist; otherwise 422 with the findings as `diagnostics`.",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 200, description = "`{\"published\": true, \"revision\"}`", body = Object),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::InvalidPackage)
    ),
    security(("bearer" = []))
)]
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

/// Takes the connector out of the catalogue.
#[utoipa::path(
    delete,
    path = "/api/connectors/{id}/publish",
    operation_id = "unpublishConnector",
    tag = "connectors",
    summary = "Take a connector out of the catalogue",
    params(("id" = String, Path, description = "The connector's id")),
    responses(
        (status = 200, description = "`{\"published\": false}`", body = Object),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
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

/// The published connectors, from every environment.
#[utoipa::path(
    get,
    path = "/api/catalogue",
    operation_id = "listCatalogue",
    tag = "connectors",
    summary = "List the published connectors of every environment",
    responses(
        (status = 200, description = "The catalogue", body = Vec<ConnectorView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn catalogue(
    State(state): State<SharedState>,
    _caller: Caller,
) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    let connectors = state.store.sharing().catalogue().await?;
    Ok(Json(connectors.iter().map(ConnectorView::from).collect()))
}
