//! The route table: one router per resource, nested here.
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
//! | POST | `/api/connections/{id}/triggers` | create a polling or webhook trigger (see [`triggers`]) |
//! | … | `/api/triggers/…` | triggers, their events, poll now |
//! | POST | `/hooks/{subscription}/{secret}` | webhook callbacks (no bearer; the secret is the proof) |

mod apim;
pub mod connections;
pub mod connectors;
pub mod health;
pub mod hooks;
pub mod invoke;
pub mod oauth;
pub mod triggers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::state::SharedState;

/// The largest request body accepted: packages with large definitions and an icon fit.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Every route of the server, over `state`.
pub fn router(state: SharedState) -> Router {
    // Installed before the first request, so every request is counted.
    crate::metrics::handle();
    Router::new()
        .merge(health::router())
        .nest("/api/connectors", connectors::router())
        .merge(oauth::callback_router())
        .merge(apim::router())
        .route("/api/catalogue", axum::routing::get(connectors::catalogue))
        .nest(
            "/api/connections",
            connections::router()
                .merge(invoke::router())
                .merge(oauth::router())
                .route("/{id}/triggers", axum::routing::post(triggers::create)),
        )
        .nest("/api/triggers", triggers::router())
        .merge(hooks::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route("/metrics", axum::routing::get(crate::metrics::render))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The answer to a path no route matches.
async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route")
}

/// The answer to a method a route does not serve.
async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not serve that method",
    )
}
