//! Liveness, readiness, metrics and the API description: the anonymous routes.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::SharedState;

/// `GET /healthz`, `GET /readyz`, `GET /metrics` and `GET /api/openapi.json`.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(crate::metrics::render))
        .routes(routes!(crate::openapi::serve_document))
}

/// Always 200 while the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "getHealth",
    tag = "health",
    summary = "Whether the process is up",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object))
)]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when the store answers a query, else 503.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "getReadiness",
    tag = "health",
    summary = "Whether the store answers",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = Object),
        (status = 503, description = "The store does not answer (`not_ready`)", body = crate::error::ErrorBody)
    )
)]
async fn readyz(State(state): State<SharedState>) -> Result<Json<Value>, ApiError> {
    match state.store.people().environments().await {
        Ok(_) => Ok(Json(json!({"status": "ready"}))),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store does not answer",
        )),
    }
}
