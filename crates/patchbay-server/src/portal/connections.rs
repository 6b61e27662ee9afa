//! Connection pages: my connections with their status, creating one for a connector's parameter
//! set, OAuth sign-in (a redirect to the provider), testing and deleting (trying an operation is in
//! [`super::try_operation`]).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use patchbay_spec::model::ConnectionParameter;
use patchbay_store::{ConnectionId, ConnectorId};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::error::Body;
use crate::portal::csrf::Posted;
use crate::portal::page::{Chrome, PortalError, html, see_other};
use crate::portal::session::{Empty, Signed};
use crate::portal::urlencode;
use crate::routes::connections::{self as api, ConnectionView, NewConnectionBody};
use crate::routes::oauth;
use crate::state::SharedState;

/// The connection pages' routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/portal/connections", get(list).post(create))
        .route("/portal/connections/new", get(new_page))
        .route("/portal/connections/{id}", get(show))
        .route("/portal/connections/{id}/test", post(test))
        .route("/portal/connections/{id}/delete", post(remove))
        .route("/portal/connections/{id}/oauth", get(sign_in))
}

/// A connection as the pages show it.
pub struct ConnectionRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its connector's id.
    pub connector_id: String,
    /// `connected`, `unauthenticated` or `error`.
    pub status: &'static str,
    /// The error message, when broken.
    pub detail: String,
    /// Its parameter set, if any.
    pub parameter_set: String,
}

impl From<&ConnectionView> for ConnectionRow {
    fn from(view: &ConnectionView) -> Self {
        ConnectionRow {
            id: view.id.clone(),
            name: view.display_name.clone(),
            connector_id: view.connector_id.clone(),
            status: oauth::status_name(&view.status),
            detail: match &view.status {
                patchbay_store::ConnectionStatus::Error(message) => message.clone(),
                _ => String::new(),
            },
            parameter_set: view.parameter_set.clone().unwrap_or_default(),
        }
    }
}

/// The connection list.
#[derive(Template)]
#[template(path = "portal/connections.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ConnectionRow>,
}

/// `GET /portal/connections`.
async fn list(State(state): State<SharedState>, signed: Signed) -> Result<Response, PortalError> {
    let axum::Json(mine) = api::list(State(state), signed.caller()).await?;
    let rows = mine.iter().map(ConnectionRow::from).collect();
    html(&ListPage { chrome: Chrome::new(&signed, "connections"), rows })
}

/// A field of the new-connection form.
pub struct Field {
    /// The form field's name: `v:<set>:<parameter>`.
    pub key: String,
    /// The label.
    pub label: String,
    /// A secret (a password field, sealed when stored).
    pub secret: bool,
    /// Must be filled.
    pub required: bool,
    /// The default, if any.
    pub default: String,
}

/// One way to connect: a parameter set (or the connector's plain parameters, `name` empty).
pub struct Way {
    /// The set's name (empty: no sets).
    pub name: String,
    /// Its label.
    pub label: String,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// The new-connection page.
#[derive(Template)]
#[template(path = "portal/connection_new.html")]
struct NewPage {
    chrome: Chrome,
    connector_id: String,
    connector_name: String,
    ways: Vec<Way>,
}

/// Which connector the new connection is for.
#[derive(Debug, Deserialize)]
pub struct ConnectorQuery {
    /// The connector's id.
    connector: String,
}

/// `GET /portal/connections/new?connector=…`.
async fn new_page(
    State(state): State<SharedState>,
    signed: Signed,
    Query(query): Query<ConnectorQuery>,
) -> Result<Response, PortalError> {
    let id = ConnectorId::from(query.connector);
    let axum::Json(details) =
        crate::routes::connectors::details(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let compiled = state.compiled(&id).await?;
    let security = &compiled.connector.security;
    let fields = |set: &str, parameters: &[ConnectionParameter]| -> Vec<Field> {
        let oauth = parameters.iter().any(|parameter| parameter.oauth.is_some());
        let client_secret = oauth.then(|| Field {
            key: format!("v:{set}:clientSecret"),
            label: "OAuth client secret (optional: the connector's is used when empty)".to_owned(),
            secret: true,
            required: false,
            default: String::new(),
        });
        parameters
            .iter()
            .filter(|parameter| parameter.oauth.is_none() || parameter.is_secret())
            .map(|parameter| Field {
                key: format!("v:{set}:{}", parameter.name),
                label: parameter
                    .ui
                    .as_ref()
                    .and_then(|ui| ui.display_name.clone())
                    .unwrap_or_else(|| parameter.name.clone()),
                secret: parameter.is_secret(),
                required: parameter.is_required() && parameter.oauth.is_none(),
                default: parameter
                    .default_value
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .chain(client_secret)
            .collect()
    };
    let mut ways: Vec<Way> = security
        .parameter_sets
        .iter()
        .flat_map(|sets| sets.values.iter())
        .map(|set| Way {
            name: set.name.clone(),
            label: set.ui.as_ref().and_then(|ui| ui.display_name.clone()).unwrap_or_else(|| set.name.clone()),
            fields: fields(&set.name, &set.parameters),
        })
        .collect();
    if ways.is_empty() {
        ways.push(Way {
            name: String::new(),
            label: String::new(),
            fields: fields("", &security.connection_parameters),
        });
    }
    let chrome = Chrome::new(&signed, "connections");
    html(&NewPage { chrome, connector_id: id.to_string(), connector_name: details.connector.name, ways })
}

/// `POST /portal/connections`: creates the connection with the chosen set's values.
async fn create(
    State(state): State<SharedState>,
    Posted(signed, form): Posted<BTreeMap<String, String>>,
) -> Result<Response, PortalError> {
    let connector = form.get("connector").cloned().unwrap_or_default();
    let set = form.get("parameter_set").cloned().unwrap_or_default();
    let mut values = Map::new();
    for (key, value) in &form {
        if let Some((field_set, name)) = key.strip_prefix("v:").and_then(|rest| rest.split_once(':'))
            && field_set == set
            && !value.is_empty()
        {
            values.insert(name.to_owned(), Value::String(value.clone()));
        }
    }
    let body = NewConnectionBody {
        display_name: form.get("display_name").filter(|name| !name.trim().is_empty()).cloned(),
        parameter_set: (!set.is_empty()).then_some(set),
        values,
        gateway_id: form.get("gateway_id").map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()),
    };
    let (_, axum::Json(created)) =
        api::create(State(state), signed.caller(), Path(ConnectorId::from(connector)), Body(body)).await?;
    Ok(see_other(&format!("/portal/connections/{}", created.id)))
}

/// An operation that can be tried.
pub struct OperationRow {
    /// Its id.
    pub id: String,
    /// `METHOD /path`.
    pub request: String,
    /// Its summary.
    pub summary: String,
}

/// The connection page.
#[derive(Template)]
#[template(path = "portal/connection.html")]
struct ShowPage {
    chrome: Chrome,
    connection: ConnectionRow,
    connector_name: String,
    operations: Vec<OperationRow>,
    notice: Option<String>,
}

/// A message to show once, after a form.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    /// The message.
    pub notice: Option<String>,
}

/// `GET /portal/connections/{id}`.
async fn show(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectionId>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PortalError> {
    let connection = api::owned(&state, &signed.caller(), &id).await?;
    let connector_id = connection.connector_id.clone();
    let axum::Json(details) =
        crate::routes::connectors::details(State(state), signed.caller(), Path(connector_id)).await?;
    let operations = details
        .operations
        .iter()
        .filter(|op| op.kind == "action")
        .filter_map(|op| {
            Some(OperationRow {
                id: op.id.clone()?,
                request: format!("{} {}", op.method, op.path),
                summary: op.summary.clone().unwrap_or_default(),
            })
        })
        .collect();
    let connection = ConnectionRow::from(&ConnectionView::from(&connection));
    let chrome = Chrome::new(&signed, "connections");
    html(&ShowPage {
        chrome,
        connection,
        connector_name: details.connector.name,
        operations,
        notice: query.notice,
    })
}

/// `POST /portal/connections/{id}/test`: runs the connector's test and records the status.
async fn test(
    State(state): State<SharedState>,
    Path(id): Path<ConnectionId>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    let axum::Json(outcome) = oauth::test(State(state), signed.caller(), Path(id.clone())).await?;
    let detail = outcome["detail"].as_str().unwrap_or_default();
    let status = outcome["status"].as_str().unwrap_or_default();
    Ok(see_other(&format!(
        "/portal/connections/{id}?notice={}",
        urlencode(&format!("Tested: {status} ({detail})"))
    )))
}

/// `POST /portal/connections/{id}/delete`.
async fn remove(
    State(state): State<SharedState>,
    Path(id): Path<ConnectionId>,
    Posted(signed, _): Posted<Empty>,
) -> Result<Response, PortalError> {
    api::remove(State(state), signed.caller(), Path(id)).await?;
    Ok(see_other("/portal/connections"))
}

/// `GET /portal/connections/{id}/oauth`: to the provider's sign-in page.
async fn sign_in(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectionId>,
) -> Result<Response, PortalError> {
    let query = oauth::StartQuery { mode: None };
    Ok(oauth::start(State(state), signed.caller(), Path(id), Query(query)).await?)
}
