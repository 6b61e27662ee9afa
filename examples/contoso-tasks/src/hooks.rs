//! Webhook subscriptions and the background delivery of notifications.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::{created, page};
use crate::error::{ApiError, JsonBody, PathId, QueryMap};
use crate::store::{Event, Hook, Kind, Task, parse_id};
use crate::util::{is_absolute_http_url, now_rfc3339};

/// Body of `POST /hooks`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewHook {
    callback_url: Option<String>,
    event: Option<String>,
    project_id: Option<String>,
}

pub(crate) async fn list_hooks(State(st): State<AppState>, q: QueryMap) -> Result<Json<Value>, ApiError> {
    let store = st.lock();
    let all: Vec<&Hook> = store.hooks.values().collect();
    page(&st, "/hooks", &q, &all)
}

/// `POST /hooks`: subscribes `callbackUrl` to an event; 201 with `Location` of the subscription.
pub(crate) async fn create_hook(
    State(st): State<AppState>,
    JsonBody(body): JsonBody<NewHook>,
) -> Result<Response, ApiError> {
    let callback_url = body
        .callback_url
        .filter(|u| is_absolute_http_url(u))
        .ok_or_else(|| ApiError::bad_request("Property 'callbackUrl' must be an absolute http(s) URL."))?;
    let event =
        body.event.as_deref().and_then(Event::parse).ok_or_else(|| {
            ApiError::bad_request("Property 'event' must be 'taskCreated' or 'taskCompleted'.")
        })?;
    let project_id = body.project_id.filter(|p| !p.is_empty());
    let mut store = st.lock();
    if let Some(p) = &project_id
        && !parse_id(Kind::Project, p).is_some_and(|k| store.projects.contains_key(&k))
    {
        return Err(ApiError::not_found(Kind::Project.name(), p));
    }
    let (key, id) = store.next_id(Kind::Hook);
    let hook = Hook { id, callback_url, event, project_id, created_at: now_rfc3339() };
    store.hooks.insert(key, hook.clone());
    Ok(created(format!("{}/hooks/{}", st.base_url, hook.id), &hook))
}

/// `DELETE /hooks/{hookId}`: 204, or 404 for an unknown subscription.
pub(crate) async fn delete_hook(
    State(st): State<AppState>,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    let mut store = st.lock();
    parse_id(Kind::Hook, &id)
        .and_then(|k| store.hooks.remove(&k))
        .map(|_| StatusCode::NO_CONTENT)
        .ok_or_else(|| ApiError::not_found(Kind::Hook.name(), &id))
}

/// Sends `event` for `task` to every matching subscription, each in a background task.
pub(crate) fn notify(st: &AppState, event: Event, task: &Task) {
    let targets: Vec<Hook> = st
        .lock()
        .hooks
        .values()
        .filter(|h| h.event == event && h.project_id.as_ref().is_none_or(|p| *p == task.project_id))
        .cloned()
        .collect();
    for hook in targets {
        let payload = json!({
            "event": event.as_str(),
            "hookId": hook.id,
            "occurredAt": now_rfc3339(),
            "task": task,
        });
        tokio::spawn(deliver(st.clone(), hook, payload));
    }
}

/// POSTs one notification, retrying connection failures, 408, 429 and 5xx a few times.
async fn deliver(st: AppState, hook: Hook, payload: Value) {
    let attempts = st.config.webhook_attempts.max(1);
    for attempt in 1..=attempts {
        let sent = st
            .http
            .post(&hook.callback_url)
            .header("X-Contoso-Event", hook.event.as_str())
            .header("X-Contoso-Hook-Id", &hook.id)
            .json(&payload)
            .send()
            .await;
        let retryable = match sent {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => {
                let s = resp.status();
                log(&format!(
                    "webhook {} -> {}: HTTP {s} (attempt {attempt}/{attempts})",
                    hook.id, hook.callback_url
                ));
                s.is_server_error() || s.as_u16() == 408 || s.as_u16() == 429
            }
            Err(e) => {
                log(&format!(
                    "webhook {} -> {}: {e} (attempt {attempt}/{attempts})",
                    hook.id, hook.callback_url
                ));
                true
            }
        };
        if !retryable {
            break;
        }
        if attempt < attempts {
            tokio::time::sleep(st.config.webhook_retry_delay * attempt).await;
        }
    }
    log(&format!("webhook {}: giving up on this notification", hook.id));
}

fn log(msg: &str) {
    eprintln!("contoso-tasks: {msg}");
}
