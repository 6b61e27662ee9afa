//! `/api/flows` and `/api/runs`: flows (workflow definitions with revisions), enabling them (which
//! wires their trigger), running a `Request`-triggered flow, and the run history with each action's
//! inputs, outputs, status and timing; resubmit and cancel. Flows and their runs are private to
//! their creator: anyone else gets 404.

use std::sync::Arc;

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_engine::{Definition, TriggerKind};
use patchbay_store::{ActionEntry, ConnectionId, Flow, FlowId, NewFlow, Run, RunId, RunStatus, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, owned_by};
use crate::error::{ApiError, Body};
use crate::flows::execute::{Answer, response_actions};
use crate::flows::wiring;
use crate::state::SharedState;

/// The flow and run routes.
pub fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read, update, remove))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(run_now))
        .routes(routes!(runs))
        .routes(routes!(run_detail))
        .routes(routes!(resubmit))
        .routes(routes!(cancel))
}

/// A new flow, or a flow's new revision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowBody {
    /// The flow's name, unique in the environment (fixed after creation).
    pub name: Option<String>,
    /// The workflow definition: Logic Apps (`{"definition": …}`), bare (`{triggers, actions}`) or a
    /// Power Automate export (`{"properties": {"definition": …}}`).
    #[schema(value_type = Object)]
    pub definition: Value,
    /// The connections it uses: reference name (`inputs.host.connectionName`) → connection id.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub connections: Map<String, Value>,
    /// At most this many runs at once (none: no limit).
    pub concurrency: Option<i64>,
}

/// A flow as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowView {
    /// The flow's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The current revision (1, 2, …; runs keep the revision they started on).
    pub revision: i64,
    /// Whether its trigger starts runs.
    pub enabled: bool,
    /// The concurrency limit, if any.
    pub concurrency: Option<i64>,
    /// Reference name → connection id.
    #[schema(value_type = Object)]
    pub connections: Value,
    /// The definition as given.
    #[schema(value_type = Object)]
    pub definition: Value,
    /// The trigger behind a connector-triggered flow, while enabled.
    pub trigger_id: Option<String>,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Time of the last change (epoch ms).
    pub updated_at: i64,
}

impl From<&Flow> for FlowView {
    fn from(flow: &Flow) -> Self {
        FlowView {
            id: flow.id.to_string(),
            name: flow.name.clone(),
            revision: flow.revision,
            enabled: flow.enabled,
            concurrency: flow.concurrency,
            connections: flow.connections.clone(),
            definition: flow.definition.clone(),
            trigger_id: flow.trigger_id.as_ref().map(ToString::to_string),
            created_at: flow.created_ms,
            updated_at: flow.updated_ms,
        }
    }
}

/// A run with its actions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    /// The run: status, trigger outputs, response, error, times.
    #[schema(value_type = Object)]
    pub run: Run,
    /// Each action (and loop iteration) with its inputs, outputs, status and timing, in order.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<ActionEntry>,
}

/// Checks a definition and the connections it names; the diagnostics when it does not load.
async fn checked(state: &SharedState, caller: &Caller, body: &FlowBody) -> Result<(), ApiError> {
    let definition = match Definition::parse(&body.definition) {
        Ok(definition) => definition,
        Err(error) => {
            let diagnostics = error.diagnostics.iter().map(|d| json!({"message": d.to_string()})).collect();
            return Err(ApiError {
                diagnostics: Some(diagnostics),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_definition",
                    "the definition does not load",
                )
            });
        }
    };
    let mut names = definition.connection_names();
    if let Some(
        TriggerKind::OpenApiConnection { connection, .. }
        | TriggerKind::OpenApiConnectionWebhook { connection, .. },
    ) = definition.triggers.first().map(|trigger| &trigger.kind)
    {
        names.push(connection.clone());
    }
    if let Some(name) = names.iter().find(|name| !body.connections.contains_key(name.as_str())) {
        let message =
            format!("the definition uses connection `{name}`: map it in `connections` to one of yours");
        return Err(ApiError::bad_request("missing_connection", message));
    }
    // Every mapped connection must be the caller's, used or not.
    for id in body.connections.values() {
        let id = id.as_str().unwrap_or_default();
        crate::routes::connections::owned(state, caller, &ConnectionId::from(id)).await?;
    }
    Ok(())
}

/// The caller's flow `id` (through the node's configuration cache at the caller's generation);
/// anyone else's is not found.
async fn mine(state: &SharedState, caller: &Caller, id: &FlowId) -> Result<Arc<Flow>, ApiError> {
    let load = async { state.store.flows().get(id).await.map(Arc::new) };
    let found = state.config_cache.flows.get_or_load(id.clone(), caller.1.0, load).await;
    owned_by(found, |flow| flow.owner_id == caller.0.id, "flow")
}

/// The caller's run `id` (a run of one of their flows) and its flow.
async fn my_run(state: &SharedState, caller: &Caller, id: &RunId) -> Result<(Run, Arc<Flow>), ApiError> {
    let run = match state.store.flows().get_run(id).await {
        Ok(run) => run,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found("run")),
        Err(error) => return Err(error.into()),
    };
    let flow = mine(state, caller, &run.flow_id).await.map_err(|_| ApiError::not_found("run"))?;
    Ok((run, flow))
}

/// `POST /api/flows`.
#[utoipa::path(
    post,
    path = "/api/flows",
    operation_id = "createFlow",
    tag = "flows",
    summary = "Create a flow (disabled; enable it to start its trigger)",
    request_body = FlowBody,
    responses(
        (status = 201, description = "Created", body = FlowView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::InvalidPackage)
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    Body(body): Body<FlowBody>,
) -> Result<(StatusCode, Json<FlowView>), ApiError> {
    let Some(name) = body.name.clone().filter(|name| !name.trim().is_empty()) else {
        return Err(ApiError::bad_request("invalid_body", "a flow needs a `name`"));
    };
    checked(&state, &caller, &body).await?;
    let new = NewFlow {
        environment_id: caller.0.environment_id.clone(),
        owner_id: caller.0.id.clone(),
        name,
        definition: body.definition,
        connections: Value::Object(body.connections),
        concurrency: body.concurrency,
    };
    let flow = state.store.flows().create(&new).await?;
    Ok((StatusCode::CREATED, Json(FlowView::from(&flow))))
}

/// `GET /api/flows`.
#[utoipa::path(
    get,
    path = "/api/flows",
    operation_id = "listFlows",
    tag = "flows",
    summary = "List the caller's flows",
    responses(
        (status = 200, description = "The caller's flows", body = Vec<FlowView>),
        (status = 401, response = crate::openapi::Unauthorized)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<SharedState>,
    caller: Caller,
) -> Result<Json<Vec<FlowView>>, ApiError> {
    let flows = state.store.flows().list_for_owner(&caller.0.id).await?;
    Ok(Json(flows.iter().map(FlowView::from).collect()))
}

/// `GET /api/flows/{id}`.
#[utoipa::path(
    get,
    path = "/api/flows/{id}",
    operation_id = "getFlow",
    tag = "flows",
    summary = "Read a flow",
    params(("id" = String, Path, description = "The flow's id")),
    responses(
        (status = 200, description = "The flow", body = FlowView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn read(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
) -> Result<Json<FlowView>, ApiError> {
    Ok(Json(FlowView::from(mine(&state, &caller, &id).await?.as_ref())))
}

/// `PUT /api/flows/{id}`: a new revision; an enabled flow's trigger is wired again.
#[utoipa::path(
    put,
    path = "/api/flows/{id}",
    operation_id = "updateFlow",
    tag = "flows",
    summary = "Update a flow (a new revision; runs under way keep theirs)",
    params(("id" = String, Path, description = "The flow's id")),
    request_body = FlowBody,
    responses(
        (status = 200, description = "The new revision", body = FlowView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 422, response = crate::openapi::InvalidPackage)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
    Body(body): Body<FlowBody>,
) -> Result<Json<FlowView>, ApiError> {
    let flow = mine(&state, &caller, &id).await?;
    if body.name.as_ref().is_some_and(|name| name != &flow.name) {
        return Err(ApiError::conflict("name_change", "a flow's name cannot change"));
    }
    checked(&state, &caller, &body).await?;
    let concurrency = body.concurrency.or(flow.concurrency);
    let updated = state
        .store
        .flows()
        .update(&id, &body.definition, &Value::Object(body.connections), concurrency)
        .await?;
    let updated = if updated.enabled { wiring::enable(&state, &updated).await? } else { updated };
    Ok(Json(FlowView::from(&updated)))
}

/// `DELETE /api/flows/{id}`: unwires its trigger, then deletes the flow and its runs.
#[utoipa::path(
    delete,
    path = "/api/flows/{id}",
    operation_id = "deleteFlow",
    tag = "flows",
    summary = "Delete a flow and its run history",
    params(("id" = String, Path, description = "The flow's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
async fn remove(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
) -> Result<StatusCode, ApiError> {
    let flow = mine(&state, &caller, &id).await?;
    wiring::unwire(&state, &flow).await?;
    state.store.flows().delete(&id).await?;
    state.definitions.forget(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/flows/{id}/enable`.
#[utoipa::path(
    post,
    path = "/api/flows/{id}/enable",
    operation_id = "enableFlow",
    tag = "flows",
    summary = "Enable a flow: its trigger starts runs (a connector trigger polls or subscribes)",
    params(("id" = String, Path, description = "The flow's id")),
    responses(
        (status = 200, description = "The flow", body = FlowView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 502, response = crate::openapi::BackendFailed)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn enable(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
) -> Result<Json<FlowView>, ApiError> {
    let flow = mine(&state, &caller, &id).await?;
    Ok(Json(FlowView::from(&wiring::enable(&state, &flow).await?)))
}

/// `POST /api/flows/{id}/disable`.
#[utoipa::path(
    post,
    path = "/api/flows/{id}/disable",
    operation_id = "disableFlow",
    tag = "flows",
    summary = "Disable a flow: its trigger stops (a webhook unsubscribes); runs under way go on",
    params(("id" = String, Path, description = "The flow's id")),
    responses(
        (status = 200, description = "The flow", body = FlowView),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn disable(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
) -> Result<Json<FlowView>, ApiError> {
    let flow = mine(&state, &caller, &id).await?;
    Ok(Json(FlowView::from(&wiring::disable(&state, &flow).await?)))
}

/// `POST /api/flows/{id}/run`: the flow's `Request` trigger. The body and headers become the
/// trigger outputs; the answer is the flow's `Response` when it sends one within the timeout, else
/// `202` with the run (at once when the flow has no `Response` action). An `Idempotency-Key`
/// header makes a repeated call return the same run.
#[utoipa::path(
    post,
    path = "/api/flows/{id}/run",
    operation_id = "runFlow",
    tag = "flows",
    summary = "Start a run of an enabled flow with this body (its Request trigger); answers its Response",
    params(("id" = String, Path, description = "The flow's id")),
    request_body(content = Object, description = "The trigger body"),
    responses(
        (status = 200, description = "The flow's `Response` (its status, headers and body), or `202` with `{runId, status}`"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict)
    ),
    security(("bearer" = []))
)]
async fn run_now(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let flow = mine(&state, &caller, &id).await?;
    if !flow.enabled {
        return Err(ApiError::conflict(
            "flow_disabled",
            "enable the flow first (POST /api/flows/{id}/enable)",
        ));
    }
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let key = headers.get("idempotency-key").and_then(|value| value.to_str().ok());
    let trigger = json!({"headers": request_headers(&headers), "body": body});
    // Without a `Response` action the caller is answered at once, as Logic Apps does.
    let definition = state.definitions.get(&flow.id, flow.revision, &flow.definition).ok();
    let responds = definition.as_ref().is_some_and(|definition| !response_actions(definition).is_empty());
    let deadline = Instant::now() + state.flows.response_timeout;
    let run = if let Some(definition) = definition
        && responds
        && key.is_none()
        && flow.concurrency.is_none()
        && state.flows.run_worker
    {
        let (run, answered) = crate::flows::direct::start(&state, caller.1.0, &flow, definition, trigger)?;
        match tokio::time::timeout(state.flows.response_timeout, answered).await {
            Ok(Ok(Answer::Response(response))) => return Ok(flow_response(&response)),
            Ok(Ok(Answer::Ended { status, error })) => return Ok(accepted(&run, status, error.as_ref())),
            Ok(Ok(Answer::Refused(error))) => return Err(error.into()),
            Err(_) => return Ok(accepted(&run, RunStatus::Running, None)),
            // It parked: it goes on when it wakes, on any node; wait for it in the store.
            Ok(Err(_)) => run,
        }
    } else {
        let (run, _) = state.store.flows().enqueue(&id, flow.revision, &trigger, key).await?;
        state.worker_wake.notify_one();
        if !responds {
            return Ok(accepted(&run.id, run.status, None));
        }
        run.id
    };
    let watch = state.runs_changed.watch(&run);
    loop {
        let changed = watch.wake().notified();
        let current = state.store.flows().get_run(&run).await?;
        if let Some(response) = &current.response {
            return Ok(flow_response(response));
        }
        let now = Instant::now();
        if current.status.is_finished() || now >= deadline {
            return Ok(accepted(&current.id, current.status, current.error.as_ref()));
        }
        // Runs executed on this node wake the wait; those of other nodes are seen within 200 ms.
        let pause = (deadline - now).min(std::time::Duration::from_millis(200));
        let _ = tokio::time::timeout(pause, changed).await;
    }
}

/// `202` with the run's id, status and error: the caller was not answered by a `Response`.
fn accepted(run: &RunId, status: RunStatus, error: Option<&Value>) -> Response {
    let answer = match error {
        Some(error) => json!({"runId": run, "status": status, "error": error}),
        None => json!({"runId": run, "status": status}),
    };
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

/// Request headers a flow sees (`triggerOutputs()['headers']`), credentials left out.
fn request_headers(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        if matches!(name.as_str(), "authorization" | "cookie" | "proxy-authorization") {
            continue;
        }
        if let Ok(text) = value.to_str() {
            out.insert(name.as_str().to_owned(), Value::String(text.to_owned()));
        }
    }
    Value::Object(out)
}

/// A stored `Response` (`{statusCode, headers, body}`) as the HTTP answer.
fn flow_response(response: &Value) -> Response {
    let status = response["statusCode"]
        .as_u64()
        .and_then(|code| StatusCode::from_u16(u16::try_from(code).ok()?).ok())
        .unwrap_or(StatusCode::OK);
    let mut answer = match &response["body"] {
        Value::String(text) => (status, text.clone()).into_response(),
        Value::Null => status.into_response(),
        other => (status, Json(other.clone())).into_response(),
    };
    for (name, value) in response["headers"].as_object().into_iter().flatten() {
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(&text))
        {
            answer.headers_mut().insert(name, value);
        }
    }
    answer
}

/// Which runs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// Runs older than this run (the last of the previous page).
    pub(crate) before: Option<String>,
    /// At most this many (default 50, at most 1,000).
    pub(crate) limit: Option<i64>,
}

/// `GET /api/flows/{id}/runs`: newest first.
#[utoipa::path(
    get,
    path = "/api/flows/{id}/runs",
    operation_id = "listRuns",
    tag = "flows",
    summary = "List a flow's runs, newest first",
    params(("id" = String, Path, description = "The flow's id"), RunsQuery),
    responses(
        (status = 200, description = "The runs", body = Vec<Object>),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn runs(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<FlowId>,
    Query(query): Query<RunsQuery>,
) -> Result<Json<Vec<Run>>, ApiError> {
    mine(&state, &caller, &id).await?;
    let before = query.before.map(RunId::from);
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(state.store.flows().list_runs(&id, before.as_ref(), limit).await?))
}

/// `GET /api/runs/{id}`.
#[utoipa::path(
    get,
    path = "/api/runs/{id}",
    operation_id = "getRun",
    tag = "flows",
    summary = "A run with each action's inputs, outputs, status and timing",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run and its actions", body = RunDetail),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn run_detail(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<RunId>,
) -> Result<Json<RunDetail>, ApiError> {
    let (run, _) = my_run(&state, &caller, &id).await?;
    let actions = state.store.flows().journal(&id).await?;
    Ok(Json(RunDetail { run, actions }))
}

/// `POST /api/runs/{id}/resubmit`: a new run of the flow's current revision with the same trigger
/// outputs.
#[utoipa::path(
    post,
    path = "/api/runs/{id}/resubmit",
    operation_id = "resubmitRun",
    tag = "flows",
    summary = "Run the flow again with this run's trigger outputs",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 201, description = "The new run", body = Object),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn resubmit(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<RunId>,
) -> Result<(StatusCode, Json<Run>), ApiError> {
    let (run, flow) = my_run(&state, &caller, &id).await?;
    let (created, _) = state.store.flows().enqueue(&flow.id, flow.revision, &run.trigger, None).await?;
    state.worker_wake.notify_one();
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /api/runs/{id}/cancel`.
#[utoipa::path(
    post,
    path = "/api/runs/{id}/cancel",
    operation_id = "cancelRun",
    tag = "flows",
    summary = "Cancel a run: a queued or waiting run ends at once; a running one after its current actions",
    params(("id" = String, Path, description = "The run's id")),
    responses(
        (status = 200, description = "The run", body = Object),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict)
    ),
    security(("bearer" = []))
)]
async fn cancel(
    State(state): State<SharedState>,
    caller: Caller,
    Path(id): Path<RunId>,
) -> Result<Json<Run>, ApiError> {
    let (run, _) = my_run(&state, &caller, &id).await?;
    if run.status.is_finished() {
        let message = format!(
            "the run has already finished ({}); only an unfinished run can be cancelled",
            run.status.as_str()
        );
        return Err(ApiError::conflict("run_finished", message));
    }
    let run = state.store.flows().cancel_run(&id).await?;
    state.runs_changed.changed(&run.id);
    Ok(Json(run))
}
