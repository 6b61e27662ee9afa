//! Trying an operation of a connection: pick the operation, fill its inputs (choices of dynamic
//! parameters loaded from the backend through the connector's lookup operation), send, and see the
//! response, every request and response exchanged (secrets masked) and the time taken.

use std::collections::BTreeMap;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use patchbay_runtime::Outcome;
use patchbay_runtime::dynamic::DynamicRequest;
use patchbay_spec::model::{Location, Parameter, Visibility};
use patchbay_store::ConnectionId;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::portal::connections::ConnectionRow;
use crate::portal::csrf::Posted;
use crate::portal::page::{Chrome, PortalError, html};
use crate::portal::session::Signed;
use crate::routes::connections::{self as api, ConnectionView};
use crate::routes::invoke::{connection_context, masked_message, run_operation};
use crate::state::SharedState;

/// The try page's route.
pub fn router() -> Router<SharedState> {
    Router::new().route("/portal/connections/{id}/try", get(try_page).post(try_send))
}

/// An input of the operation being tried.
pub struct Input {
    /// The parameter's name (`body` for the body).
    pub name: String,
    /// Where it goes: `path`, `query`, `header`, `body`, `form`.
    pub location: &'static str,
    /// Must be filled.
    pub required: bool,
    /// A hint: its description or type.
    pub hint: String,
    /// The value sent (or a default).
    pub value: String,
    /// Values offered, as (value, label): the parameter's `enum`, or its dynamic values.
    pub choices: Vec<(String, String)>,
    /// Why the dynamic values could not be loaded, if they could not.
    pub choices_failed: String,
}

/// What came back from trying an operation.
pub struct Exchange {
    /// The request as sent (secrets masked).
    pub request: String,
    /// The response as received (secrets masked).
    pub response: String,
}

/// The try-an-operation page.
#[derive(Template)]
#[template(path = "portal/try.html")]
struct TryPage {
    chrome: Chrome,
    connection: ConnectionRow,
    operation: String,
    operations: Vec<String>,
    inputs: Vec<Input>,
    result: Option<TryResult>,
}

/// The outcome of a try.
pub struct TryResult {
    /// The status answered (or the error).
    pub status: String,
    /// The decoded response body, pretty.
    pub body: String,
    /// Every exchange with the backend.
    pub exchanges: Vec<Exchange>,
    /// Milliseconds taken.
    pub millis: u128,
}

/// Which operation to try.
#[derive(Debug, Default, Deserialize)]
pub struct OperationQuery {
    /// The operation id.
    #[serde(default)]
    operation: String,
}

/// `GET /portal/connections/{id}/try?operation=…`.
async fn try_page(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectionId>,
    Query(query): Query<OperationQuery>,
) -> Result<Response, PortalError> {
    let page = try_view(&state, &signed, &id, &query.operation, &BTreeMap::new(), None).await?;
    html(&page)
}

/// `POST /portal/connections/{id}/try`: sends the operation and shows what happened.
async fn try_send(
    State(state): State<SharedState>,
    Path(id): Path<ConnectionId>,
    Posted(signed, form): Posted<BTreeMap<String, String>>,
) -> Result<Response, PortalError> {
    let operation = form.get("operation").cloned().unwrap_or_default();
    let connection = api::owned(&state, &signed.caller(), &id).await?;
    let mut inputs = Map::new();
    for (key, value) in &form {
        if let Some(name) = key.strip_prefix("p:")
            && !value.is_empty()
        {
            let parsed = if name == "body" {
                serde_json::from_str(value).unwrap_or(Value::String(value.clone()))
            } else {
                Value::String(value.clone())
            };
            inputs.insert(name.to_owned(), parsed);
        }
    }
    let started = Instant::now();
    let invoked = run_operation(&state, &signed.caller(), &connection, &operation, &inputs, true).await;
    let millis = started.elapsed().as_millis();
    let result = match invoked {
        Ok(invoked) => {
            let (status, body) = match &invoked.outcome {
                Outcome::Done(response) => (
                    response.status.as_u16().to_string(),
                    serde_json::to_string_pretty(&response.body.to_value()).unwrap_or_default(),
                ),
                Outcome::Pending { pending, .. } => {
                    ("202 (long-running)".to_owned(), pending.location.to_string())
                }
            };
            let exchanges = invoked
                .exchanges
                .iter()
                .map(|exchange| Exchange {
                    request: exchange.request.clone(),
                    response: exchange.response.clone().unwrap_or_else(|| "(no response)".to_owned()),
                })
                .collect();
            TryResult { status, body, exchanges, millis }
        }
        Err(error) => failed(&error, millis),
    };
    let page = try_view(&state, &signed, &id, &operation, &form, Some(result)).await?;
    html(&page)
}

/// A failed try: the error's status and message.
fn failed(error: &ApiError, millis: u128) -> TryResult {
    TryResult {
        status: format!("{} {}", error.status.as_u16(), error.code),
        body: error.message.clone(),
        exchanges: Vec::new(),
        millis,
    }
}

/// The try page for `operation` of connection `id`, with the values sent (`p:<name>`) and a result.
async fn try_view(
    state: &SharedState,
    signed: &Signed,
    id: &ConnectionId,
    operation: &str,
    sent: &BTreeMap<String, String>,
    result: Option<TryResult>,
) -> Result<TryPage, PortalError> {
    let connection = api::owned(state, &signed.caller(), id).await?;
    let (compiled, values) = connection_context(state, &connection).await?;
    let mut operations = Vec::new();
    let mut parameters: Vec<&Parameter> = Vec::new();
    for (_, op) in compiled.connector.operations() {
        let Some(op_id) = op.id.clone() else { continue };
        if op_id == operation {
            parameters = op
                .parameters
                .iter()
                .filter(|parameter| parameter.visibility != Some(Visibility::Internal))
                .collect();
        }
        operations.push(op_id);
    }
    let known: Map<String, Value> = sent
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix("p:")?.to_owned(), Value::String(value.clone()))))
        .filter(|(_, value)| value.as_str().is_some_and(|text| !text.is_empty()))
        .collect();
    let mut inputs = Vec::with_capacity(parameters.len());
    for parameter in parameters {
        let mut input = input_of(parameter, sent);
        if parameter.dynamic_values.is_some() || parameter.dynamic_list.is_some() {
            let request = DynamicRequest {
                connector: &compiled,
                operation_id: operation,
                parameter: &parameter.name,
                connection: &values,
                known: &known,
            };
            match state.runtime.dynamic_values(request).await {
                Ok(options) => {
                    input.choices = options
                        .into_iter()
                        .map(|option| {
                            let value =
                                option.value.as_str().map_or_else(|| option.value.to_string(), str::to_owned);
                            (value, option.title)
                        })
                        .collect();
                }
                Err(error) => input.choices_failed = masked_message(&error, &values),
            }
        }
        inputs.push(input);
    }
    let connection = ConnectionRow::from(&ConnectionView::from(&connection));
    let chrome = Chrome::new(signed, "connections");
    Ok(TryPage { chrome, connection, operation: operation.to_owned(), operations, inputs, result })
}

/// The form input for `parameter`, holding what was sent (else its default).
fn input_of(parameter: &Parameter, sent: &BTreeMap<String, String>) -> Input {
    let location = match parameter.location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Body => "body",
        Location::FormData => "form",
        Location::Other(_) => "other",
    };
    let default = parameter.schema.get("default").map(|value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    let value = sent.get(&format!("p:{}", parameter.name)).cloned().or(default).unwrap_or_default();
    let choices = parameter
        .schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .map(|value| value.as_str().map_or_else(|| value.to_string(), str::to_owned))
                .map(|text| (text.clone(), text))
                .collect()
        })
        .unwrap_or_default();
    let hint = parameter
        .description
        .clone()
        .or_else(|| parameter.schema.get("type").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    Input {
        name: parameter.name.clone(),
        location,
        required: parameter.required,
        hint,
        value,
        choices,
        choices_failed: String::new(),
    }
}
