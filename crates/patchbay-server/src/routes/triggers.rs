//! `/api/triggers`: a connection's polling and webhook triggers, their events, and "poll now".
//! Triggers, like connections, are private to their creator: anyone else gets 404.
//!
//! | method | path | what |
//! |---|---|---|
//! | POST | `/api/connections/{id}/triggers` | create (enabled unless `enabled: false`; webhooks subscribe) |
//! | GET | `/api/triggers` | the caller's triggers |
//! | GET, DELETE | `/api/triggers/{id}` | details with subscriptions / delete (webhooks unsubscribe) |
//! | POST | `/api/triggers/{id}/enable`, `/disable` | start or stop polling, subscribe or unsubscribe |
//! | GET | `/api/triggers/{id}/events?after=&limit=&wait=` | stored events, oldest first, long-polled |
//! | POST | `/api/triggers/{id}/poll` | one poll now, with the exchange |

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use patchbay_runtime::TriggerKind as ProtocolKind;
use patchbay_store::{ConnectionId, NewTrigger, Subscription, Trigger, TriggerId, TriggerKind, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, owned_by};
use crate::error::{ApiError, Body};
use crate::routes::connections::owned;
use crate::state::SharedState;
use crate::triggers::{poll, webhook};

/// The trigger routes.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(read, remove))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(events))
        .routes(routes!(poll_now))
}

/// A new trigger on one of the connection's trigger operations.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTriggerBody {
    /// The trigger operation (`x-ms-trigger`).
    pub operation_id: String,
    /// The operation's inputs by parameter name (the callback URL of a webhook is filled in).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// Seconds between polls (polling triggers); default the operator's (3 minutes).
    pub recurrence_seconds: Option<f64>,
    /// The `splitOn` expression: one event per element of the array it selects.
    pub split_on: Option<String>,
    /// A path to an id in each item (`id`, `task.id`): an item whose id was seen before is skipped.
    pub dedup_path: Option<String>,
    /// Start at once (default true).
    pub enabled: Option<bool>,
}

/// A trigger: what it watches, its schedule and state, its last poll and its webhook subscriptions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TriggerView {
    /// The trigger's id.
    pub id: String,
    /// The connection it calls through.
    pub connection_id: String,
    /// The trigger operation.
    pub operation_id: String,
    /// `polling` or `webhook`.
    #[schema(value_type = String)]
    pub kind: TriggerKind,
    /// The operation's inputs.
    #[schema(value_type = Object)]
    pub inputs: Value,
    /// Seconds between polls (polling triggers).
    pub recurrence_seconds: f64,
    /// The `splitOn` expression, if any.
    pub split_on: Option<String>,
    /// The item id path for de-duplication, if any.
    pub dedup_path: Option<String>,
    /// Whether it polls / is subscribed.
    pub enabled: bool,
    /// The polling state (the last `Location`, policy queries).
    #[schema(value_type = Object)]
    pub state: Value,
    /// When the next poll is due (epoch ms).
    pub next_due_ms: Option<i64>,
    /// When it last polled (epoch ms).
    pub last_poll_ms: Option<i64>,
    /// `fired`, `nothing_new` or `failed`.
    pub last_status: Option<String>,
    /// Why the last poll failed.
    pub last_error: Option<String>,
    /// Webhook subscriptions, newest last (never their secrets).
    #[schema(value_type = Vec<Object>)]
    pub subscriptions: Vec<Subscription>,
    /// Removals made by `disable` (webhooks).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub removals: Option<Vec<webhook::Removal>>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the last change (epoch ms).
    pub updated_at: i64,
}

impl TriggerView {
    /// The view of `trigger` with its `subscriptions`.
    pub fn new(trigger: &Trigger, subscriptions: Vec<Subscription>) -> Self {
        TriggerView {
            id: trigger.id.to_string(),
            connection_id: trigger.connection_id.to_string(),
            operation_id: trigger.operation_id.clone(),
            kind: trigger.kind,
            inputs: trigger.inputs.clone(),
            recurrence_seconds: trigger.recurrence_ms as f64 / 1e3,
            split_on: trigger.split_on.clone(),
            dedup_path: trigger.dedup_path.clone(),
            enabled: trigger.enabled,
            state: trigger.state.clone(),
            next_due_ms: trigger.next_due_ms,
            last_poll_ms: trigger.last_poll_ms,
            last_status: trigger.last_status.clone(),
            last_error: trigger.last_error.clone(),
            subscriptions,
            removals: None,
            created_at: trigger.created_ms,
            updated_at: trigger.updated_ms,
        }
    }
}

/// `POST /api/connections/{id}/triggers`.
#[utoipa::path(
    post,
    path = "/api/connections/{id}/triggers",
    operation_id = "createTrigger",
    tag = "triggers",
    summary = "Create a trigger on one of the connection's trigger operations",
    description = "A polling trigger is due at once (its first poll sets the baseline); a webhook trigger \
                   subscribes with a callback URL `{public}/hooks/{subscription}/{secret}` and is deleted \
                   again when the backend refuses. `enabled: false` creates it stopped.",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = NewTriggerBody,
    responses(
        (status = 201, description = "Created", body = TriggerView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Path(connection_id): Path<ConnectionId>,
    Body(body): Body<NewTriggerBody>,
) -> Result<(StatusCode, Json<TriggerView>), ApiError> {
    let connection = owned(&state, &caller, &connection_id).await?;
    crate::auth::connector_access(&state, &caller, &connection.connector_id, patchbay_store::Access::CanUse)
        .await?;
    let compiled = state.compiled(&connection.connector_id).await?;
    if compiled.connector.operation(&body.operation_id).is_none() {
        let message = format!("the connector has no operation `{}`", body.operation_id);
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_operation", message));
    }
    let kind = match compiled.trigger_kind(&body.operation_id) {
        Some(ProtocolKind::Polling) => TriggerKind::Polling,
        Some(ProtocolKind::Webhook) => TriggerKind::Webhook,
        None => {
            let message = format!("`{}` is an action, not a trigger (no x-ms-trigger)", body.operation_id);
            return Err(ApiError::bad_request("not_a_trigger", message));
        }
    };
    let recurrence = recurrence(&state, body.recurrence_seconds)?;
    let new = NewTrigger {
        environment_id: caller.0.environment_id.clone(),
        owner_id: caller.0.id.clone(),
        connection_id: connection.id.clone(),
        operation_id: body.operation_id,
        kind,
        inputs: Value::Object(body.inputs),
        recurrence_ms: recurrence.as_millis() as i64,
        split_on: body.split_on.filter(|text| !text.trim().is_empty()),
        dedup_path: body.dedup_path.filter(|text| !text.trim().is_empty()),
    };
    let trigger = state.store.triggers().create(&new).await?;
    if body.enabled.unwrap_or(true)
        && let Err(error) = start_trigger(&state, &trigger).await
    {
        state.store.triggers().delete(&trigger.id).await?;
        return Err(error);
    }
    Ok((StatusCode::CREATED, Json(detail(&state, &trigger.id).await?)))
}

/// The recurrence asked for, at least the operator's minimum; the default when not given.
fn recurrence(state: &SharedState, seconds: Option<f64>) -> Result<Duration, ApiError> {
    let minimum = state.triggers.minimum_interval;
    match seconds {
        None => Ok(state.triggers.default_recurrence.max(minimum)),
        Some(value) if value.is_finite() && value > 0.0 && value <= 366.0 * 86_400.0 => {
            Ok(Duration::from_secs_f64(value).max(minimum))
        }
        Some(value) => Err(ApiError::bad_request(
            "invalid_recurrence",
            format!("recurrenceSeconds must be a number of seconds between 1 and a year, not {value}"),
        )),
    }
}

/// Starts a trigger: a polling one is due at once, a webhook one subscribes.
pub(crate) async fn start_trigger(state: &SharedState, trigger: &Trigger) -> Result<(), ApiError> {
    match trigger.kind {
        TriggerKind::Polling => {
            state.store.triggers().set_enabled(&trigger.id, true, Some(now_ms())).await?;
            state.scheduler_wake.notify_one();
        }
        TriggerKind::Webhook => {
            webhook::subscribe(state, trigger).await?;
            state.store.triggers().set_enabled(&trigger.id, true, None).await?;
        }
    }
    Ok(())
}

/// The caller's trigger `id`; anyone else's is not found.
async fn mine(state: &SharedState, caller: &Caller, id: &TriggerId) -> Result<Trigger, ApiError> {
    let found = state.store.triggers().get(id).await;
    owned_by(found, |trigger| trigger.owner_id == caller.0.id, "trigger")
}

/// The trigger with its subscriptions.
async fn detail(state: &SharedState, id: &TriggerId) -> Result<TriggerView, ApiError> {
    let trigger = state.store.triggers().get(id).await?;
    let subscriptions = state.store.triggers().subscriptions(id).await?;
    Ok(TriggerView::new(&trigger, subscriptions))
}

/// `GET /api/triggers`.
#[utoipa::path(
    get,
    path = "/api/triggers",
    operation_id = "listTriggers",
    tag = "triggers",
    summary = "List the caller's triggers",
    responses(
        (status = 200, description = "The caller's triggers (without subscriptions)", body = Vec<TriggerView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
async fn list(State(state): State<SharedState>, caller: Caller) -> Result<Json<Vec<TriggerView>>, ApiError> {
    let triggers = state.store.triggers().list_for_environment(&caller.0.environment_id).await?;
    let mine = triggers.iter().filter(|trigger| trigger.owner_id == caller.0.id);
    Ok(Json(mine.map(|trigger| TriggerView::new(trigger, Vec::new())).collect()))
}

/// `GET /api/triggers/{id}`.
#[utoipa::path(
    get,
    path = "/api/triggers/{id}",
    operation_id = "getTrigger",
    tag = "triggers",
    summary = "Read a trigger with its webhook subscriptions",
    params(("id" = String, Path, description = "The trigger's id")),
    responses(
        (status = 200, description = "The trigger", body = TriggerView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn read(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
) -> Result<Json<TriggerView>, ApiError> {
    mine(&state, &caller, &id).await?;
    Ok(Json(detail(&state, &id).await?))
}

/// `POST /api/triggers/{id}/enable`.
#[utoipa::path(
    post,
    path = "/api/triggers/{id}/enable",
    operation_id = "enableTrigger",
    tag = "triggers",
    summary = "Start polling, or subscribe a webhook trigger",
    params(("id" = String, Path, description = "The trigger's id")),
    responses(
        (status = 200, description = "The trigger", body = TriggerView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
async fn enable(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
) -> Result<Json<TriggerView>, ApiError> {
    let trigger = mine(&state, &caller, &id).await?;
    if !trigger.enabled {
        start_trigger(&state, &trigger).await?;
    }
    Ok(Json(detail(&state, &id).await?))
}

/// `POST /api/triggers/{id}/disable`: stops polling; a webhook trigger unsubscribes.
#[utoipa::path(
    post,
    path = "/api/triggers/{id}/disable",
    operation_id = "disableTrigger",
    tag = "triggers",
    summary = "Stop polling, or unsubscribe a webhook trigger at its backend",
    params(("id" = String, Path, description = "The trigger's id")),
    responses(
        (status = 200, description = "The trigger, with `removals` saying which subscriptions are gone", body = TriggerView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn disable(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
) -> Result<Json<TriggerView>, ApiError> {
    let trigger = mine(&state, &caller, &id).await?;
    state.store.triggers().set_enabled(&id, false, None).await?;
    let removals = webhook::unsubscribe_all(&state, &trigger).await?;
    let mut answer = detail(&state, &id).await?;
    answer.removals = Some(removals);
    Ok(Json(answer))
}

/// Whether to delete a trigger whose subscription could not be removed at the backend.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RemoveQuery {
    /// Delete anyway.
    #[serde(default)]
    force: bool,
}

/// `DELETE /api/triggers/{id}[?force=true]`: unsubscribes first; when a subscription cannot be
/// removed the trigger is kept, disabled, and the answer says which (unless `force`).
#[utoipa::path(
    delete,
    path = "/api/triggers/{id}",
    operation_id = "deleteTrigger",
    tag = "triggers",
    summary = "Delete a trigger (a webhook trigger unsubscribes first)",
    params(("id" = String, Path, description = "The trigger's id"), RemoveQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
    Query(query): Query<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    let trigger = mine(&state, &caller, &id).await?;
    state.store.triggers().set_enabled(&id, false, None).await?;
    let removals = webhook::unsubscribe_all(&state, &trigger).await?;
    let failed: Vec<String> = removals
        .iter()
        .filter(|removal| !removal.removed)
        .map(|removal| {
            format!("{}: {}", removal.subscription, removal.error.as_deref().unwrap_or("not removed"))
        })
        .collect();
    if !failed.is_empty() && !query.force {
        let message = format!(
            "the trigger is disabled but kept: {} (remove it at the backend, then DELETE with ?force=true)",
            failed.join("; ")
        );
        return Err(ApiError::new(StatusCode::BAD_GATEWAY, "unsubscribe_failed", message));
    }
    state.store.triggers().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Only events with a larger sequence number (default 0: from the first).
    #[serde(default)]
    after: i64,
    /// At most this many (default 100, at most 1,000).
    limit: Option<i64>,
    /// Seconds to wait for an event when there is none yet (at most 30; default 0).
    #[serde(default)]
    wait: u64,
}

/// The longest wait of a long-polled event list.
const MAX_EVENTS_WAIT: Duration = Duration::from_secs(30);

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The events, oldest first: `{seq, id, triggerId, source, receivedMs, headers, body}`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<patchbay_store::TriggerEvent>,
    /// The `after` of the next call.
    pub next: i64,
}

/// `GET /api/triggers/{id}/events`: `{events: [...], next: <after for the next call>}`.
#[utoipa::path(
    get,
    path = "/api/triggers/{id}/events",
    operation_id = "listTriggerEvents",
    tag = "triggers",
    summary = "List a trigger's stored events, waiting for new ones with `wait`",
    params(("id" = String, Path, description = "The trigger's id"), EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn events(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventPage>, ApiError> {
    mine(&state, &caller, &id).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let deadline = Instant::now() + Duration::from_secs(query.wait).min(MAX_EVENTS_WAIT);
    loop {
        let stored = state.events_stored.notified();
        let events = state.store.triggers().events(&id, query.after, limit).await?;
        let now = Instant::now();
        if !events.is_empty() || now >= deadline {
            let next = events.last().map_or(query.after, |event| event.seq);
            return Ok(Json(EventPage { events, next }));
        }
        // Events stored on this node wake the wait; those of other nodes are seen within a second.
        let pause = (deadline - now).min(Duration::from_secs(1));
        let _ = tokio::time::timeout(pause, stored).await;
    }
}

/// `POST /api/triggers/{id}/poll`: one poll now (even when disabled), its exchange and outcome.
#[utoipa::path(
    post,
    path = "/api/triggers/{id}/poll",
    operation_id = "pollTriggerNow",
    tag = "triggers",
    summary = "Poll a polling trigger now and show the exchange",
    params(("id" = String, Path, description = "The trigger's id")),
    responses(
        (status = 200, description = "What the poll did, with the request and response (secrets masked)", body = crate::triggers::poll::PollReport),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict)
    ),
    security(("bearer" = []))
)]
async fn poll_now(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<TriggerId>,
) -> Result<Json<poll::PollReport>, ApiError> {
    let trigger = mine(&state, &caller, &id).await?;
    if trigger.kind != TriggerKind::Polling {
        return Err(ApiError::bad_request("not_polling", "only a polling trigger can be polled"));
    }
    let lease_ms = state.triggers.lease.as_millis() as i64;
    let Some(lease) =
        state.store.triggers().claim_one(&id, &state.triggers.node_id, now_ms(), lease_ms).await?
    else {
        return Err(ApiError::conflict(
            "poll_in_progress",
            "a poll of this trigger is running; try again shortly",
        ));
    };
    Ok(Json(poll::run(&state, &lease, true).await?))
}
