//! The route table: one router per resource, merged here. Each handler carries its OpenAPI
//! annotation (`#[utoipa::path]`), and [`api`] registers them with `utoipa_axum::routes!`, so the
//! router and the API description ([`openapi`], served at `/api/openapi.json`) are one list.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/healthz` | the process is up |
//! | GET | `/readyz` | the store answers |
//! | POST, GET | `/api/connectors` | upload (validated) / list visible connectors |
//! | GET, PUT, DELETE | `/api/connectors/{id}` | details with operations / new revision / delete |
//! | GET | `/api/connectors/{id}/revisions[/{n}]` | revision list / one revision's files |
//! | GET | `/api/connectors/{id}/package` | the current files |
//! | POST | `/api/connectors/{id}/share` | grant a user or the environment can_use or can_edit |
//! | POST | `/api/connectors/{id}/connections` | create a connection (secrets sealed) |
//! | GET | `/api/connections[/{id}]` | the caller's connections (secret names only) |
//! | DELETE | `/api/connections/{id}` | delete a connection |
//! | POST | `/api/connections/{id}/operations/{operationId}` | invoke an operation |
//! | GET | `/api/connections/{id}/oauth/start` | start an OAuth sign-in (302, or JSON with `?mode=json`) |
//! | GET | `/oauth/callback` | finish an OAuth sign-in (no bearer; the single-use state is the proof) |
//! | POST | `/api/connections/{id}/test` | run the connector's test operation, record the status |
//! | GET, POST, PUT, PATCH, DELETE | `/apim/{connector}/{connection}/{path}` | call an operation by method and path |
//! | GET, POST, DELETE | `/api/catalogue`, `/api/connectors/{id}/publish` | the catalogue; publish / unpublish |
//! | GET | `/metrics`, `/api/openapi.json` | Prometheus metrics; this API's description |
//! | POST | `/api/connections/{id}/triggers` | create a polling or webhook trigger (see [`triggers`]) |
//! | … | `/api/triggers/…` | triggers, their events, poll now |
//! | … | `/api/flows/…`, `/api/runs/…` | flows, enabling them, `Request` runs, run history (see [`flows`]) |
//! | POST | `/hooks/{subscription}/{secret}` | webhook callbacks (no bearer; the secret is the proof) |
//! | POST, GET, DELETE | `/api/gateways[/{id}]` | on-premises gateways with their status (see [`gateways`]) |
//! | PUT | `/api/connections/{id}/gateway` | bind a connection to a gateway |
//! | GET | `/api/gateways/connect` | the agents' WebSocket (gateway token) |
//! | GET | `/api/tunnels/connect` | a dev tunnel's WebSocket (user token) |
//! | any | `/t/{id}/{path}` | the local API behind a dev tunnel (no bearer; the id is the proof) |

mod apim;
pub mod connections;
pub mod connectors;
pub mod flows;
pub mod gateways;
pub mod health;
pub mod hooks;
pub mod invoke;
pub mod oauth;
pub mod triggers;
pub mod tunnels;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::state::SharedState;

/// The largest request body accepted: packages with large definitions and an icon fit.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Every documented route, with the document they make: one router per resource, merged.
pub fn api() -> OpenApiRouter<SharedState> {
    use utoipa::OpenApi;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(connectors::router())
        .merge(connections::router())
        .merge(invoke::router())
        .merge(oauth::router())
        .merge(apim::router())
        .merge(triggers::router())
        .merge(hooks::router())
        .merge(flows::router())
        .merge(gateways::router())
        .merge(tunnels::router())
}

/// This server's API description (OpenAPI 3.1), generated from the route table.
pub fn openapi() -> utoipa::openapi::OpenApi {
    crate::openapi::finish(api().into_openapi())
}

/// Every route of the server, over `state`.
pub fn router(state: SharedState) -> Router {
    // Installed before the first request, so every request is counted.
    crate::metrics::handle();
    let (routes, _) = api().split_for_parts();
    routes
        .merge(crate::portal::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The answer to a path no route matches (`no_route`).
async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route")
}

/// The answer to a method a route does not serve (`method_not_allowed`).
async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not serve that method",
    )
}
