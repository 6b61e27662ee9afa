//! Connector pages: the list (mine, shared with me, catalogue) with search and pages, importing a
//! package or an OpenAPI 3 / Swagger / Postman document with the validator's diagnostics shown
//! against the file, a connector's details (operations, revisions, my connections) and downloading
//! its files. Every page calls the JSON API's handlers with the signed-in person as the caller.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patchbay_store::{ConnectorId, ConnectorPackage};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, Body};
use crate::portal::connections::ConnectionRow;
use crate::portal::page::{Chrome, PortalError, html, see_other, when};
use crate::portal::session::Signed;
use crate::portal::{PAGE_SIZE, csrf, urlencode};
use crate::routes::connectors::views::ConnectorDetails;
use crate::routes::connectors::{self as api, Upload};
use crate::state::SharedState;

/// The connector pages' routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/portal/connectors", get(list))
        .route("/portal/connectors/import", get(import_page).post(import))
        .route("/portal/connectors/{id}", get(show))
        .route("/portal/connectors/{id}/files/{file}", get(download))
}

/// One row of the connector list.
pub struct Row {
    /// The connector's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `mine`, `shared` or `catalogue`.
    pub place: &'static str,
    /// Its current revision.
    pub revision: i64,
}

/// The list's search and page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Part of a name, any case.
    #[serde(default)]
    q: String,
    /// `mine`, `shared`, `catalogue` or empty for all.
    #[serde(default)]
    place: String,
    /// The page, from 1.
    page: Option<usize>,
}

/// The connector list page.
#[derive(Template)]
#[template(path = "portal/connectors.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    place: String,
    page: usize,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /portal/connectors`.
async fn list(
    State(state): State<SharedState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, PortalError> {
    let axum::Json(visible) = api::list(State(state), signed.caller()).await?;
    let needle = query.q.trim().to_lowercase();
    let me = signed.user.id.as_str();
    let matching: Vec<Row> = visible
        .into_iter()
        .map(|connector| Row {
            place: match (connector.owner_id == me, connector.published_at.is_some()) {
                (true, _) => "mine",
                (false, true) => "catalogue",
                (false, false) => "shared",
            },
            id: connector.id,
            name: connector.name,
            revision: connector.current_revision,
        })
        .filter(|row| needle.is_empty() || row.name.to_lowercase().contains(&needle))
        .filter(|row| query.place.is_empty() || row.place == query.place)
        .collect();
    let total = matching.len();
    let page = query.page.unwrap_or(1).max(1);
    let rows: Vec<Row> = matching.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    let link = |page: usize| {
        format!("/portal/connectors?q={}&place={}&page={page}", urlencode(&query.q), urlencode(&query.place))
    };
    let previous = (page > 1).then(|| link(page - 1));
    let next = (page * PAGE_SIZE < total).then(|| link(page + 1));
    let chrome = Chrome::new(&signed, "connectors");
    html(&ListPage { chrome, rows, q: query.q, place: query.place, page, total, previous, next })
}

/// One diagnostic, with the lines of the file around it.
pub struct Finding {
    /// `error`, `warning` or `note`.
    pub severity: String,
    /// The stable code, e.g. `PB0201`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The file it is about.
    pub file: String,
    /// `line N, column M` when known.
    pub place: String,
    /// The JSON pointer into the file.
    pub pointer: String,
    /// The lines around it: number, text, whether it is the line meant.
    pub lines: Vec<(usize, String, bool)>,
}

/// The import page (empty, or with the findings of a refused file).
#[derive(Template)]
#[template(path = "portal/import.html")]
struct ImportPage {
    chrome: Chrome,
    name: String,
    findings: Vec<Finding>,
    failure: Option<String>,
}

/// `GET /portal/connectors/import`.
async fn import_page(signed: Signed) -> Result<Response, PortalError> {
    let chrome = Chrome::new(&signed, "connectors");
    html(&ImportPage { chrome, name: String::new(), findings: Vec::new(), failure: None })
}

/// What the import form sent.
#[derive(Default)]
struct ImportForm {
    csrf: Option<String>,
    name: String,
    definition: Option<(String, String)>,
    properties: Option<String>,
    url: Option<String>,
    client_secret: Option<String>,
}

impl ImportForm {
    /// Reads the multipart form: `csrf`, `name`, `definition` (a file or `definition_text`) and the
    /// optional `properties` (a file or `properties_text`), or a `url` to fetch the definition from;
    /// and the optional OAuth `client_secret`.
    async fn read(mut multipart: Multipart) -> Result<ImportForm, ApiError> {
        let mut form = ImportForm::default();
        let bad = |error: axum::extract::multipart::MultipartError| {
            ApiError::bad_request(
                "invalid_form",
                format!("the form could not be read: {}", error.body_text()),
            )
        };
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            let field_name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().unwrap_or("document.json").to_owned();
            let text = field.text().await.map_err(bad)?;
            if text.trim().is_empty() {
                continue;
            }
            match field_name.as_str() {
                "csrf" => form.csrf = Some(text),
                "name" => form.name = text.trim().to_owned(),
                "definition" => form.definition = Some((file_name, text)),
                "definition_text" if form.definition.is_none() => {
                    form.definition = Some(("pasted.json".to_owned(), text));
                }
                "properties" | "properties_text" => form.properties = Some(text),
                "url" => form.url = Some(text.trim().to_owned()),
                "client_secret" => form.client_secret = Some(text),
                _ => {}
            }
        }
        Ok(form)
    }
}

/// `POST /portal/connectors/import`: a package (definition and properties) is uploaded as it is; a
/// single document is converted first. Refused files come back with their findings.
async fn import(
    State(state): State<SharedState>,
    signed: Signed,
    multipart: Multipart,
) -> Result<Response, PortalError> {
    let mut form = ImportForm::read(multipart).await?;
    csrf::verify(&signed, form.csrf.as_deref())?;
    if form.definition.is_none()
        && let Some(url) = form.url.clone()
    {
        form.definition = Some(fetch(&state, &url).await?);
    }
    let chrome = Chrome::new(&signed, "connectors");
    let Some((file_name, definition)) = form.definition else {
        let failure = Some("Choose a file (or paste a definition) to import.".to_owned());
        return html(&ImportPage { chrome, name: form.name, findings: Vec::new(), failure });
    };
    let sources = [
        ("apiDefinition.swagger.json", definition.as_str()),
        ("apiProperties.json", form.properties.as_deref().unwrap_or("")),
    ];
    let package = match &form.properties {
        Some(properties) => Ok(ConnectorPackage {
            api_definition: definition.clone(),
            api_properties: properties.clone(),
            script: None,
            icon: None,
        }),
        None => crate::package::convert(&file_name, &definition).await,
    };
    let converted = sources_for_conversion(&file_name, &definition);
    let saved = match package {
        Ok(package) => {
            let upload = Upload {
                name: Some(form.name.clone()),
                api_definition: package.api_definition,
                api_properties: package.api_properties,
                script: None,
                icon: None,
                client_secret: form.client_secret.clone(),
            };
            api::create(State(state), signed.caller(), Body(upload)).await.map(|(_, saved)| saved.0)
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok(saved) => Ok(see_other(&format!("/portal/connectors/{}", saved.connector.id))),
        Err(error) => {
            let texts: &[(&str, &str)] = if form.properties.is_some() { &sources } else { &converted };
            let mut findings =
                error.diagnostics.as_deref().map(|found| findings(found, texts)).unwrap_or_default();
            // A converted document is staged under a fixed name: show the name it was uploaded as.
            for finding in findings.iter_mut().filter(|finding| finding.file == converted[0].0) {
                finding.file.clone_from(&file_name);
            }
            let failure = Some(error.message.clone());
            let page = html(&ImportPage { chrome, name: form.name, findings, failure })?;
            Ok((error.status, page).into_response())
        }
    }
}

/// The document at `url` (fetched through the runtime's transport, so the server's address rules
/// apply) with the file name its path ends in; a refusal or a non-2xx answer is a 400.
async fn fetch(state: &SharedState, url: &str) -> Result<(String, String), ApiError> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|parsed| matches!(parsed.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::bad_request("invalid_url", "give an http:// or https:// address"))?;
    let name = parsed.path_segments().and_then(|mut segments| segments.next_back()).unwrap_or_default();
    let name = if name.is_empty() { "document.json".to_owned() } else { name.to_owned() };
    let request = patchbay_runtime::WireRequest::new(axum::http::Method::GET, parsed);
    let response = state.runtime.transport.send(request).await.map_err(|error| {
        ApiError::bad_request("fetch_failed", format!("the address could not be read: {error}"))
    })?;
    if !response.status.is_success() {
        let message = format!("the address answered {}", response.status.as_u16());
        return Err(ApiError::bad_request("fetch_failed", message));
    }
    Ok((name, String::from_utf8_lossy(&response.body).into_owned()))
}

/// The staged name of a converted document, with its text (see [`crate::package::convert`]).
fn sources_for_conversion<'a>(file_name: &str, text: &'a str) -> [(&'static str, &'a str); 2] {
    let lower = file_name.to_ascii_lowercase();
    let staged =
        if lower.ends_with(".yaml") || lower.ends_with(".yml") { "document.yaml" } else { "document.json" };
    [(staged, text), ("", "")]
}

/// Lines shown either side of a diagnostic's line.
const CONTEXT_LINES: usize = 2;

/// The diagnostics (JSON, as the API answers them) with the lines of `texts` they point at.
pub fn findings(diagnostics: &[Value], texts: &[(&str, &str)]) -> Vec<Finding> {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let text = |key: &str| diagnostic[key].as_str().unwrap_or_default().to_owned();
            let file = text("file");
            let line = diagnostic["line"].as_u64().and_then(|line| usize::try_from(line).ok());
            let column = diagnostic["column"].as_u64();
            let source =
                texts.iter().find(|(name, _)| !name.is_empty() && *name == file).map(|(_, text)| *text);
            let lines = match (line, source) {
                (Some(line), Some(source)) => source
                    .lines()
                    .enumerate()
                    .map(|(index, text)| (index + 1, text))
                    .skip(line.saturating_sub(CONTEXT_LINES + 1))
                    .take(CONTEXT_LINES * 2 + 1)
                    .map(|(number, text)| (number, text.chars().take(200).collect(), number == line))
                    .collect(),
                _ => Vec::new(),
            };
            let place = match (line, column) {
                (Some(line), Some(column)) => format!("line {line}, column {column}"),
                (Some(line), None) => format!("line {line}"),
                _ => String::new(),
            };
            Finding {
                severity: text("severity"),
                code: text("code"),
                message: text("message"),
                hint: text("hint"),
                file,
                place,
                pointer: text("pointer"),
                lines,
            }
        })
        .collect()
}

/// The connector page.
#[derive(Template)]
#[template(path = "portal/connector.html")]
struct ShowPage {
    chrome: Chrome,
    details: ConnectorDetails,
    access: &'static str,
    revisions: Vec<(i64, String)>,
    connections: Vec<ConnectionRow>,
    has_script: bool,
    notice: Option<String>,
}

/// `GET /portal/connectors/{id}`.
async fn show(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectorId>,
    Query(query): Query<crate::portal::connections::NoticeQuery>,
) -> Result<Response, PortalError> {
    let axum::Json(details) = api::details(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let axum::Json(revisions) =
        api::revisions::revisions(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let axum::Json(mine) = crate::routes::connections::list(State(state.clone()), signed.caller()).await?;
    let revisions = revisions.iter().map(|revision| (revision.revision, when(revision.created_at))).collect();
    let connections = mine
        .iter()
        .map(ConnectionRow::from)
        .filter(|connection| connection.connector_id == id.as_str())
        .collect();
    let current = state.store.connectors().current(&id).await?;
    let access = match details.access {
        patchbay_store::Access::Owner => "owner",
        patchbay_store::Access::CanEdit => "can edit",
        patchbay_store::Access::CanUse => "can use",
    };
    let chrome = Chrome::new(&signed, "connectors");
    html(&ShowPage {
        chrome,
        details,
        access,
        revisions,
        connections,
        has_script: current.package.script.is_some(),
        notice: query.notice,
    })
}

/// `GET /portal/connectors/{id}/files/{file}`: one file of the current revision, as a download.
async fn download(
    State(state): State<SharedState>,
    signed: Signed,
    Path((id, file)): Path<(ConnectorId, String)>,
) -> Result<Response, PortalError> {
    let axum::Json(revision) =
        api::revisions::current_package(State(state), signed.caller(), Path(id)).await?;
    let files = revision.files;
    let (body, kind) = match file.as_str() {
        "apiDefinition.swagger.json" => (files.api_definition, "application/json"),
        "apiProperties.json" => (files.api_properties, "application/json"),
        "script.csx" => {
            (files.script.ok_or_else(|| ApiError::not_found("file"))?, "text/plain; charset=utf-8")
        }
        _ => return Err(ApiError::not_found("file").into()),
    };
    let disposition = format!("attachment; filename=\"{file}\"");
    Ok((
        [
            (CONTENT_TYPE, kind.to_owned()),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
