//! Liveness and readiness.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::SharedState;

/// `GET /healthz` and `GET /readyz`.
pub fn router() -> Router<SharedState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// Always 200 while the process serves requests.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when the store answers a query, else 503.
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
