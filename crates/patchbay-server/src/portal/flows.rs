//! Flow pages: my flows, enabling and disabling them, a flow's definition drawn as a graph with
//! its run history (newest first, in pages), a run's actions with their inputs, outputs, status and
//! duration, and resubmitting a run.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use patchbay_store::{FlowId, Run, RunId};
use serde::Deserialize;
use serde_json::Value;

use crate::portal::PAGE_SIZE;
use crate::portal::csrf::Posted;
use crate::portal::graph::{self, Node};
use crate::portal::page::{Chrome, PortalError, html, see_other, when};
use crate::portal::session::{Empty, Signed};
use crate::routes::flows::{self as api, FlowView, RunsQuery};
use crate::state::SharedState;

/// The flow pages' routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/portal/flows", get(list))
        .route("/portal/flows/{id}", get(show))
        .route("/portal/flows/{id}/enable", post(enable))
        .route("/portal/flows/{id}/disable", post(disable))
        .route("/portal/runs/{id}", get(run))
        .route("/portal/runs/{id}/resubmit", post(resubmit))
}

/// The flow list.
#[derive(Template)]
#[template(path = "portal/flows.html")]
struct ListPage {
    chrome: Chrome,
    flows: Vec<FlowView>,
}

/// `GET /portal/flows`.
async fn list(State(state): State<SharedState>, signed: Signed) -> Result<Response, PortalError> {
    let axum::Json(flows) = api::list(State(state), signed.caller()).await?;
    html(&ListPage { chrome: Chrome::new(&signed, "flows"), flows })
}

/// A run as a row.
pub struct RunRow {
    /// Its id.
    pub id: String,
    /// Its status.
    pub status: &'static str,
    /// When it was created.
    pub created: String,
    /// How long it took (or "—" while going).
    pub took: String,
}

impl From<&Run> for RunRow {
    fn from(run: &Run) -> Self {
        RunRow {
            id: run.id.to_string(),
            status: run.status.as_str(),
            created: when(run.created_ms),
            took: duration(run.started_ms.unwrap_or(run.created_ms), run.ended_ms),
        }
    }
}

/// The flow page.
#[derive(Template)]
#[template(path = "portal/flow.html")]
struct ShowPage {
    chrome: Chrome,
    flow: FlowView,
    nodes: Vec<Node>,
    definition: String,
    runs: Vec<RunRow>,
    older: Option<String>,
}

/// Which page of runs.
#[derive(Debug, Default, Deserialize)]
pub struct BeforeQuery {
    /// Runs older than this run.
    before: Option<String>,
}

/// `GET /portal/flows/{id}`.
async fn show(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<FlowId>,
    Query(query): Query<BeforeQuery>,
) -> Result<Response, PortalError> {
    let axum::Json(flow) = api::read(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let limit = i64::try_from(PAGE_SIZE).unwrap_or(50);
    let runs_query = RunsQuery { before: query.before, limit: Some(limit) };
    let axum::Json(runs) =
        api::runs(State(state), signed.caller(), Path(id.clone()), Query(runs_query)).await?;
    let older = (runs.len() >= PAGE_SIZE)
        .then(|| runs.last().map(|last| format!("/portal/flows/{id}?before={}", last.id)))
        .flatten();
    let nodes = graph::nodes(&flow.definition);
    let definition = serde_json::to_string_pretty(&flow.definition).unwrap_or_default();
    let runs = runs.iter().map(RunRow::from).collect();
    html(&ShowPage { chrome: Chrome::new(&signed, "flows"), flow, nodes, definition, runs, older })
}

/// `POST /portal/flows/{id}/enable`.
async fn enable(
    State(state): State<SharedState>,
    Path(id): Path<FlowId>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    let _flow = api::enable(State(state), signed.caller(), Path(id.clone())).await?;
    Ok(see_other(&format!("/portal/flows/{id}")))
}

/// `POST /portal/flows/{id}/disable`.
async fn disable(
    State(state): State<SharedState>,
    Path(id): Path<FlowId>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    let _flow = api::disable(State(state), signed.caller(), Path(id.clone())).await?;
    Ok(see_other(&format!("/portal/flows/{id}")))
}

/// One action of a run.
pub struct ActionRow {
    /// Its name (with the loop iteration, if any).
    pub name: String,
    /// Its status.
    pub status: String,
    /// How long it took.
    pub took: String,
    /// Attempts made.
    pub attempts: i64,
    /// Its inputs, pretty JSON.
    pub inputs: String,
    /// Its outputs, pretty JSON.
    pub outputs: String,
    /// Its error, pretty JSON (empty when none).
    pub error: String,
}

/// The run page.
#[derive(Template)]
#[template(path = "portal/run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunRow,
    flow_id: String,
    trigger: String,
    error: String,
    actions: Vec<ActionRow>,
}

/// `GET /portal/runs/{id}`.
async fn run(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<RunId>,
) -> Result<Response, PortalError> {
    let axum::Json(detail) = api::run_detail(State(state), signed.caller(), Path(id)).await?;
    let actions = detail
        .actions
        .iter()
        .map(|action| ActionRow {
            name: if action.iteration.is_empty() {
                action.name.clone()
            } else {
                format!("{} {:?}", action.name, action.iteration)
            },
            status: action.status.clone(),
            took: duration(action.started_ms, action.ended_ms),
            attempts: action.attempts,
            inputs: pretty(&action.inputs),
            outputs: pretty(&action.outputs),
            error: action.error.as_ref().map(pretty).unwrap_or_default(),
        })
        .collect();
    let page = RunPage {
        chrome: Chrome::new(&signed, "flows"),
        run: RunRow::from(&detail.run),
        flow_id: detail.run.flow_id.to_string(),
        trigger: pretty(&detail.run.trigger),
        error: detail.run.error.as_ref().map(pretty).unwrap_or_default(),
        actions,
    };
    html(&page)
}

/// `POST /portal/runs/{id}/resubmit`: a new run with the same trigger outputs.
async fn resubmit(
    State(state): State<SharedState>,
    Path(id): Path<RunId>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    let (_, axum::Json(created)) = api::resubmit(State(state), signed.caller(), Path(id)).await?;
    Ok(see_other(&format!("/portal/runs/{}", created.id)))
}

/// JSON, indented.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `N ms` from `start` to `end`, or `running` without an end.
fn duration(start: i64, end: Option<i64>) -> String {
    match end {
        Some(end) => format!("{} ms", end.saturating_sub(start)),
        None => "running".to_owned(),
    }
}
