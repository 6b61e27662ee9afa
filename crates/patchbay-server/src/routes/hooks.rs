//! `POST /hooks/{subscription}/{secret}`: where backends deliver webhook notifications. No bearer:
//! the unguessable secret in the path is the proof. The body (JSON, else text, else base64) and the
//! headers (without credentials) are stored as an event before the answer, 202; a wrong or removed
//! subscription gets 404 and nothing is stored; a body over the limit 413; a full queue 429.
//! No flow work happens on this path.

use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use patchbay_store::{Notification, SubscriptionId};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::SharedState;
use crate::triggers::intake::{Accepted, IntakeError};

/// Headers never stored with an event.
const WITHHELD: [&str; 4] = ["authorization", "cookie", "proxy-authorization", "x-api-key"];

/// The callback route.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(callback))
}

/// Stores one notification, then answers 202.
#[utoipa::path(
    post,
    path = "/hooks/{subscription}/{secret}",
    operation_id = "deliverWebhookNotification",
    tag = "triggers",
    summary = "A backend delivers a webhook notification (the callback URL given when subscribing)",
    description = "No bearer: the secret in the path is the proof. The notification is stored durably \
                   before the answer. Any body: JSON, text or binary.",
    params(
        ("subscription" = String, Path, description = "The subscription's id"),
        ("secret" = String, Path, description = "The subscription's secret")
    ),
    request_body(content = Object, description = "The notification, as the backend sends it"),
    responses(
        (status = 202, description = "Stored"),
        (status = 404, response = crate::openapi::NotFound),
        (status = 413, description = "The body is over the callback limit", body = crate::error::ErrorBody),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 503, description = "Could not be stored; send it again", body = crate::error::ErrorBody)
    )
)]
async fn callback(
    State(state): State<SharedState>,
    Path((subscription, secret)): Path<(SubscriptionId, String)>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let headers = request.headers().clone();
    let limit = state.triggers.callback_body_limit;
    let bytes = to_bytes(request.into_body(), limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a notification may hold at most {limit} bytes"),
        )
    })?;
    let notification = Notification {
        subscription_id: subscription,
        secret,
        headers: headers_json(&headers),
        body: body_json(&headers, &bytes),
    };
    match state.intake.submit(notification).await {
        Ok(Accepted::Stored(_)) => {
            metrics::counter!("patchbay_trigger_events_total", "source" => "webhook").increment(1);
            state.events_stored.notify_waiters();
            Ok(StatusCode::ACCEPTED)
        }
        Ok(Accepted::Refused) => Err(ApiError::not_found("subscription")),
        Err(IntakeError::Busy) => Err(ApiError::too_many_requests(std::time::Duration::from_secs(1))),
        Err(IntakeError::Store(message)) => {
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_stored", message))
        }
    }
}

/// The request headers as an object (repeated ones joined), credentials left out.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for name in headers.keys() {
        if WITHHELD.contains(&name.as_str()) {
            continue;
        }
        let texts: Vec<&str> = headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).collect();
        if !texts.is_empty() {
            out.insert(name.as_str().to_owned(), Value::String(texts.join(", ")));
        }
    }
    Value::Object(out)
}

/// The body as JSON when it parses, else as text, else `{"$content-type", "$content"}` in base64
/// (the Logic Apps shape of binary content); an empty body is null.
fn body_json(headers: &HeaderMap, bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return value;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Value::String(text.to_owned());
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    json!({
        "$content-type": content_type.unwrap_or("application/octet-stream"),
        "$content": base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}
