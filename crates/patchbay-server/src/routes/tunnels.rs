//! Dev tunnels: `GET /api/tunnels/connect` (a signed-in user's `patchbay tunnel` opens its
//! socket; the upgrade answer carries the public URL) and `/t/{id}/{path…}`, where anyone with
//! the URL reaches the local API behind it.

use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use patchbay_gateway::protocol::{TUNNEL_CONNECT_PATH, TUNNEL_TO_HEADER, TUNNEL_URL_HEADER};
use patchbay_runtime::WireRequest;
use patchbay_runtime::transport::Relay;
use url::Url;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::gateway::relay::GatewayRelay;
use crate::gateway::tunnels::hub_key;
use crate::state::SharedState;

/// The tunnel routes.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(connect)).routes(routes!(through)).routes(routes!(through_root))
}

/// A tunnel's socket: the caller's API token; `x-patchbay-tunnel-to` names the local origin.
#[utoipa::path(
    get,
    path = "/api/tunnels/connect",
    operation_id = "connectTunnel",
    tag = "gateways",
    summary = "The WebSocket a dev tunnel (`patchbay tunnel`) connects on",
    description = "A WebSocket upgrade for a signed-in user, with `x-patchbay-tunnel-to` the local \
                   origin. The answer's `x-patchbay-tunnel-url` is the public URL (`/t/{id}/`), valid \
                   while the socket stays open.",
    responses(
        (status = 101, description = "Switching protocols: the tunnel is open"),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn connect(
    State(state): State<SharedState>,
    _caller: Caller,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|_| {
        ApiError::bad_request("not_a_websocket", format!("{TUNNEL_CONNECT_PATH} takes a WebSocket upgrade"))
    })?;
    let origin = headers
        .get(TUNNEL_TO_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| Url::parse(text).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_origin", format!("{TUNNEL_TO_HEADER} must be an http(s) URL"))
        })?;
    let id = state
        .tunnels
        .open(origin)
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "random", "no randomness"))?;
    let public = format!("{}/t/{id}/", state.public_url);
    let (hub, tunnels) = (state.gateways.clone(), state.tunnels.clone());
    let mut response = upgrade
        .on_upgrade(move |socket| async move {
            crate::gateway::socket::serve(socket, hub.clone(), hub_key(&id), "tunnel".to_owned(), None).await;
            tunnels.close(&id);
            hub.forget(&hub_key(&id));
        })
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&public) {
        response.headers_mut().insert(TUNNEL_URL_HEADER, value);
    }
    Ok(response)
}

/// A request to the local API behind tunnel `id`.
#[utoipa::path(
    method(get, post, put, patch, delete),
    path = "/t/{id}/{*path}",
    operation_id = "callThroughTunnel",
    tag = "gateways",
    summary = "Call the local API behind a dev tunnel",
    description = "No bearer: the unguessable tunnel id is the proof. The request (method, path, \
                   query, headers, body) goes to the tunnel's local origin; its answer comes back as it is.",
    params(("id" = String, Path, description = "The tunnel's id"), ("path" = String, Path, description = "The path on the local API")),
    request_body(content = Object, description = "Passed to the local API as it is"),
    responses(
        (status = 200, description = "The local API's answer, passed through (any status)"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    )
)]
async fn through(
    State(state): State<SharedState>,
    Path((id, path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    forward(&state, &id, &path, method, &uri, headers, body).await
}

/// A request to the root of the local API behind tunnel `id`.
#[utoipa::path(
    method(get, post, put, patch, delete),
    path = "/t/{id}/",
    operation_id = "callThroughTunnelRoot",
    tag = "gateways",
    summary = "Call the root of the local API behind a dev tunnel",
    params(("id" = String, Path, description = "The tunnel's id")),
    request_body(content = Object, description = "Passed to the local API as it is"),
    responses(
        (status = 200, description = "The local API's answer, passed through (any status)"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    )
)]
async fn through_root(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    forward(&state, &id, "", method, &uri, headers, body).await
}

/// Sends the request through the tunnel's agent and passes the answer back.
async fn forward(
    state: &SharedState,
    id: &str,
    path: &str,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let origin = state.tunnels.origin(id).ok_or_else(|| ApiError::not_found("tunnel"))?;
    let mut url = origin
        .join(path)
        .map_err(|_| ApiError::bad_request("invalid_path", "the path does not form a URL"))?;
    url.set_query(uri.query());
    let mut request = WireRequest::new(method, url);
    request.headers = headers;
    // The local API's own host; everything else (its credentials included) passes through.
    request.headers.remove(http::header::HOST);
    request.body = body;
    let max = state.runtime.transport.options().max_response_bytes;
    let relay = GatewayRelay::new(state.gateways.clone(), hub_key(id), max);
    let answer = relay
        .exchange(request)
        .await
        .map_err(|error| ApiError::new(StatusCode::BAD_GATEWAY, "tunnel_failed", error.to_string()))?;
    let mut response = (answer.status, answer.body).into_response();
    for (name, value) in &answer.headers {
        if name != http::header::CONTENT_LENGTH {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(response)
}
