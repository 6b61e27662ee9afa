//! Editing a flow as JSON: its definition and its connection map, saved as a new revision through
//! the API's update (an enabled flow's trigger is wired again); a refused save shows the editor
//! again with what was wrong beside it (a JSON syntax error with its line and column, or the
//! engine's findings).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patchbay_store::FlowId;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, Body};
use crate::portal::csrf::Posted;
use crate::portal::page::{Chrome, PortalError, html, see_other};
use crate::portal::session::Signed;
use crate::routes::flows::{self as api, FlowBody};
use crate::state::SharedState;

/// The flow editor's route.
pub fn router() -> Router<SharedState> {
    Router::new().route("/portal/flows/{id}/edit", get(edit_page).post(save))
}

/// The flow editor.
#[derive(Template)]
#[template(path = "portal/flow_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    name: String,
    revision: i64,
    definition: String,
    connections: String,
    failure: Option<String>,
    problems: Vec<String>,
}

/// `GET /portal/flows/{id}/edit`.
async fn edit_page(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<FlowId>,
) -> Result<Response, PortalError> {
    let axum::Json(flow) = api::read(State(state), signed.caller(), Path(id.clone())).await?;
    html(&EditPage {
        chrome: Chrome::new(&signed, "flows"),
        id: id.to_string(),
        name: flow.name,
        revision: flow.revision,
        definition: serde_json::to_string_pretty(&flow.definition).unwrap_or_default(),
        connections: serde_json::to_string_pretty(&flow.connections).unwrap_or_default(),
        failure: None,
        problems: Vec::new(),
    })
}

/// The edited texts.
#[derive(Deserialize)]
pub struct EditForm {
    definition: String,
    connections: String,
}

/// `POST /portal/flows/{id}/edit`.
async fn save(
    State(state): State<SharedState>,
    Path(id): Path<FlowId>,
    Posted(signed, form): Posted<EditForm>,
) -> Result<Response, PortalError> {
    let saved = match parsed(&form) {
        Ok((definition, connections)) => {
            let body = FlowBody { name: None, definition, connections, concurrency: None };
            api::update(State(state.clone()), signed.caller(), Path(id.clone()), Body(body)).await.map(|_| ())
        }
        Err(error) => Err(error),
    };
    let Err(error) = saved else { return Ok(see_other(&format!("/portal/flows/{id}"))) };
    let axum::Json(flow) = api::read(State(state), signed.caller(), Path(id.clone())).await?;
    let problems = error
        .diagnostics
        .iter()
        .flatten()
        .filter_map(|found| found["message"].as_str().map(str::to_owned))
        .collect();
    let page = html(&EditPage {
        chrome: Chrome::new(&signed, "flows"),
        id: id.to_string(),
        name: flow.name,
        revision: flow.revision,
        definition: form.definition,
        connections: form.connections,
        failure: Some(error.message.clone()),
        problems,
    })?;
    Ok((error.status, page).into_response())
}

/// The definition and the connection map, or a 400 naming the text, line and column that are not JSON.
fn parsed(form: &EditForm) -> Result<(Value, Map<String, Value>), ApiError> {
    let json = |what: &str, text: &str| {
        serde_json::from_str::<Value>(text).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the {what} is not JSON: {error} (line {}, column {})", error.line(), error.column()),
            )
        })
    };
    let definition = json("definition", &form.definition)?;
    let connections = match json("connection map", &form.connections)? {
        Value::Object(map) => map,
        _ => return Err(ApiError::bad_request("invalid_json", "the connection map is a JSON object")),
    };
    Ok((definition, connections))
}
