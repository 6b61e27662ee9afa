//! On-premises gateways: create (the token is shown once), list and show with their status
//! (agents connected to this node, traffic), delete; bind a connection to one; and the
//! WebSocket agents connect on (`GET /api/gateways/connect`, authorised by the gateway token), and
//! the route other nodes forward calls on.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_gateway::protocol::{AGENT_NAME_HEADER, CONNECT_PATH};
use patchbay_store::{ConnectionId, Gateway, GatewayId, Role, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, owned_by};
use crate::error::{ApiError, Body};
use crate::gateway::cluster::{NODE_CREDENTIAL_HEADER, pack_response, unpack_request};
use crate::gateway::hub::GatewayStatus;
use crate::routes::connections::{ConnectionView, owned};
use crate::state::SharedState;
use patchbay_runtime::transport::Relay;

/// The gateway routes.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, remove))
        .routes(routes!(bind))
        .routes(routes!(connect))
        .routes(routes!(relay))
}

/// A new gateway.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewGatewayBody {
    /// Its name, unique in the environment.
    pub name: String,
}

/// A gateway and its status on this node.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayView {
    /// The gateway's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Agents connected to this node and traffic since it started.
    pub status: GatewayStatus,
    /// The token agents present (`pbg_…`): only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The binding of a connection: a gateway id, or `null` to call directly.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindBody {
    /// The gateway, or `null`.
    pub gateway_id: Option<String>,
}

/// The view of `gateway` with its status.
fn view(state: &SharedState, gateway: &Gateway, token: Option<String>) -> GatewayView {
    GatewayView {
        id: gateway.id.to_string(),
        name: gateway.name.clone(),
        created_at: gateway.created_at,
        status: state.gateways.status(&gateway.id),
        token,
    }
}

/// The gateway `id` when it is in the caller's environment; otherwise not found.
async fn visible(state: &SharedState, caller: &Caller, id: &GatewayId) -> Result<Gateway, ApiError> {
    let found = state.store.gateways().get(id).await;
    owned_by(found, |gateway| gateway.environment_id == caller.0.environment_id, "gateway")
}

/// A failed binding as an answer: an unknown gateway (or one of another environment) is not found.
pub(crate) fn bind_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound { .. } => ApiError::not_found("gateway"),
        other => other.into(),
    }
}

/// Creates a gateway in the caller's environment; its token is in this answer only.
#[utoipa::path(
    post,
    path = "/api/gateways",
    operation_id = "createGateway",
    tag = "gateways",
    summary = "Create an on-premises gateway",
    description = "Agents started with the returned `token` (`patchbay gateway --token …`) join it; \
                   several agents with one token form a cluster. The token is shown only here.",
    request_body = NewGatewayBody,
    responses(
        (status = 201, description = "Created, with its token", body = GatewayView),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::InvalidPackage),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<NewGatewayBody>,
) -> Result<(StatusCode, Json<GatewayView>), ApiError> {
    let issued = state.store.gateways().create(&caller.0.id, &body.name).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &issued.gateway, Some(issued.token)))))
}

/// The gateways of the caller's environment, with their status.
#[utoipa::path(
    get,
    path = "/api/gateways",
    operation_id = "listGateways",
    tag = "gateways",
    summary = "List the environment's gateways",
    responses(
        (status = 200, description = "The gateways, by name", body = Vec<GatewayView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn list(State(state): State<SharedState>, caller: Caller) -> Result<Json<Vec<GatewayView>>, ApiError> {
    let gateways = state.store.gateways().list(&caller.0.environment_id).await?;
    Ok(Json(gateways.iter().map(|gateway| view(&state, gateway, None)).collect()))
}

/// One gateway of the caller's environment, with its status.
#[utoipa::path(
    get,
    path = "/api/gateways/{id}",
    operation_id = "getGateway",
    tag = "gateways",
    summary = "Show a gateway: agents connected and traffic",
    params(("id" = String, Path, description = "The gateway's id")),
    responses(
        (status = 200, description = "The gateway", body = GatewayView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn show(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<GatewayId>,
) -> Result<Json<GatewayView>, ApiError> {
    let gateway = visible(&state, &caller, &id).await?;
    Ok(Json(view(&state, &gateway, None)))
}

/// Deletes a gateway (its creator or an admin); bound connections then call directly.
#[utoipa::path(
    delete,
    path = "/api/gateways/{id}",
    operation_id = "deleteGateway",
    tag = "gateways",
    summary = "Delete a gateway",
    description = "Only its creator or an environment admin. Connections bound to it are unbound; \
                   its token stops working (connected agents are refused when they reconnect).",
    params(("id" = String, Path, description = "The gateway's id")),
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
    Path(id): Path<GatewayId>,
) -> Result<StatusCode, ApiError> {
    let gateway = visible(&state, &caller, &id).await?;
    if gateway.created_by != caller.0.id && caller.0.role != Role::Admin {
        return Err(ApiError::forbidden("only the gateway's creator or an admin may delete it"));
    }
    state.store.gateways().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Binds the caller's connection to a gateway of its environment, or unbinds it.
#[utoipa::path(
    put,
    path = "/api/connections/{id}/gateway",
    operation_id = "bindConnectionGateway",
    tag = "gateways",
    summary = "Send a connection's calls through a gateway",
    description = "Every backend call of the connection (actions, trigger polls, webhook \
                   subscriptions, flow actions) then goes through one of the gateway's agents; \
                   `{\"gatewayId\": null}` calls directly again.",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = BindBody,
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn bind(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<ConnectionId>,
    Body(body): Body<BindBody>,
) -> Result<Json<ConnectionView>, ApiError> {
    owned(&state, &caller, &id).await?;
    let gateway = body.gateway_id.map(GatewayId::from);
    state.store.gateways().bind(&id, gateway.as_ref()).await.map_err(bind_error)?;
    Ok(Json(ConnectionView::from(&state.store.connections().get(&id).await?)))
}

/// The agents' WebSocket: `Authorization: Bearer <gateway token>`, then frames (see
/// `patchbay_gateway::protocol`).
#[utoipa::path(
    get,
    path = "/api/gateways/connect",
    operation_id = "connectGatewayAgent",
    tag = "gateways",
    summary = "The WebSocket a gateway agent connects on",
    description = "For `patchbay gateway` only: a WebSocket upgrade authorised by the gateway's \
                   token (user API tokens are refused). The agent may name itself with `x-patchbay-agent`.",
    responses(
        (status = 101, description = "Switching protocols: the agent is connected"),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn connect(
    State(state): State<SharedState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(ApiError::unauthorized)?;
    let gateway = state.store.gateways().authenticate(token).await?.ok_or_else(ApiError::unauthorized)?;
    let upgrade = upgrade.map_err(|_| {
        ApiError::bad_request("not_a_websocket", format!("{CONNECT_PATH} takes a WebSocket upgrade"))
    })?;
    let name = headers
        .get(AGENT_NAME_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|name| name.chars().filter(|c| !c.is_control()).take(100).collect::<String>())
        .unwrap_or_else(|| "agent".to_owned());
    let (hub, cluster) = (state.gateways.clone(), state.cluster.clone());
    let serve = move |socket| crate::gateway::socket::serve(socket, hub, gateway.id, name, cluster);
    Ok(upgrade.on_upgrade(serve).into_response())
}

/// Another node forwards a call for this node's agents of gateway `id` (see `gateway::cluster`).
#[utoipa::path(
    post,
    path = "/api/gateways/{id}/relay",
    operation_id = "relayThroughGateway",
    tag = "gateways",
    summary = "Carry a call forwarded by another node through this node's agents",
    description = "Between nodes only: authorised by `x-patchbay-node`, the credential every node \
                   derives from the shared secret key (user tokens are refused). The body is the \
                   request as a gateway frame and its body; the answer is the response the same way.",
    params(("id" = String, Path, description = "The gateway's id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The packed request"),
    responses(
        (status = 200, description = "The packed response"),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 502, response = crate::openapi::BackendFailed)
    )
)]
async fn relay(
    State(state): State<SharedState>,
    Path(id): Path<GatewayId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let presented = headers.get(NODE_CREDENTIAL_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("");
    if !state.cluster.as_ref().is_some_and(|cluster| cluster.authorises(presented)) {
        return Err(ApiError::unauthorized());
    }
    let request = unpack_request(&body)
        .ok_or_else(|| ApiError::bad_request("invalid_relay", "a garbled forwarded request"))?;
    let max = state.runtime.transport.options().max_response_bytes;
    let relay = crate::gateway::relay::GatewayRelay::new(state.gateways.clone(), id, max);
    let response = relay
        .exchange(request)
        .await
        .map_err(|error| ApiError::new(StatusCode::BAD_GATEWAY, "backend_failed", error.to_string()))?;
    Ok(pack_response(&response).into_response())
}
