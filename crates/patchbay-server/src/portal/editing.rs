//! Changing a connector from the portal: editing its definition and properties as JSON (a new
//! revision, with the validator's diagnostics beside the editor when it is refused), the
//! differences between two revisions, and sharing it with a person or the whole environment.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use patchbay_store::ConnectorId;
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

use crate::error::Body;
use crate::portal::connectors::{Finding, findings};
use crate::portal::csrf::Posted;
use crate::portal::page::{Chrome, PortalError, html, see_other};
use crate::portal::session::Signed;
use crate::portal::urlencode;
use crate::routes::connectors::catalogue::{self, Share};
use crate::routes::connectors::{self as api, Upload};
use crate::state::SharedState;

/// The editing pages' routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/portal/connectors/{id}/edit", get(edit_page).post(save))
        .route("/portal/connectors/{id}/diff", get(diff))
        .route("/portal/connectors/{id}/share", post(share))
}

/// The editor.
#[derive(Template)]
#[template(path = "portal/connector_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    name: String,
    revision: i64,
    definition: String,
    properties: String,
    findings: Vec<Finding>,
    failure: Option<String>,
}

/// `GET /portal/connectors/{id}/edit`: the current revision's two documents.
async fn edit_page(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectorId>,
) -> Result<Response, PortalError> {
    let axum::Json(details) = api::details(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let axum::Json(current) =
        api::revisions::current_package(State(state), signed.caller(), Path(id.clone())).await?;
    html(&EditPage {
        chrome: Chrome::new(&signed, "connectors"),
        id: id.to_string(),
        name: details.connector.name,
        revision: details.connector.current_revision,
        definition: current.files.api_definition,
        properties: current.files.api_properties,
        findings: Vec::new(),
        failure: None,
    })
}

/// The edited documents.
#[derive(Deserialize)]
pub struct EditForm {
    definition: String,
    properties: String,
}

/// `POST /portal/connectors/{id}/edit`: stores a new revision (script and icon kept), or shows the
/// editor again with the diagnostics.
async fn save(
    State(state): State<SharedState>,
    Path(id): Path<ConnectorId>,
    Posted(signed, form): Posted<EditForm>,
) -> Result<Response, PortalError> {
    let axum::Json(current) =
        api::revisions::current_package(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let upload = Upload {
        name: None,
        api_definition: form.definition.clone(),
        api_properties: form.properties.clone(),
        script: current.files.script,
        icon: current.files.icon,
        client_secret: None,
    };
    match api::update(State(state.clone()), signed.caller(), Path(id.clone()), Body(upload)).await {
        Ok(_) => Ok(see_other(&format!("/portal/connectors/{id}"))),
        Err(error) => {
            let texts = [
                ("apiDefinition.swagger.json", form.definition.as_str()),
                ("apiProperties.json", form.properties.as_str()),
            ];
            let found = error.diagnostics.as_deref().map(|found| findings(found, &texts)).unwrap_or_default();
            let axum::Json(details) = api::details(State(state), signed.caller(), Path(id.clone())).await?;
            let page = html(&EditPage {
                chrome: Chrome::new(&signed, "connectors"),
                id: id.to_string(),
                name: details.connector.name,
                revision: details.connector.current_revision,
                definition: form.definition,
                properties: form.properties,
                findings: found,
                failure: Some(error.message.clone()),
            })?;
            Ok((error.status, page).into_response())
        }
    }
}

/// One line of a diff: `+`, `-` or ` `, and its text.
pub struct DiffLine {
    /// `added`, `removed` or `same`.
    pub class: &'static str,
    /// `+`, `-` or a space.
    pub sign: &'static str,
    /// The line.
    pub text: String,
}

/// The revision diff page.
#[derive(Template)]
#[template(path = "portal/connector_diff.html")]
struct DiffPage {
    chrome: Chrome,
    id: String,
    name: String,
    from: i64,
    to: i64,
    revisions: Vec<i64>,
    files: Vec<(&'static str, Vec<Vec<DiffLine>>)>,
}

/// Which revisions to compare (default: the previous and the current).
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// Lines of context around each change.
const DIFF_CONTEXT: usize = 3;

/// `GET /portal/connectors/{id}/diff?from=…&to=…`: what changed in each file, with context.
async fn diff(
    State(state): State<SharedState>,
    signed: Signed,
    Path(id): Path<ConnectorId>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, PortalError> {
    let axum::Json(details) = api::details(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let axum::Json(all) =
        api::revisions::revisions(State(state.clone()), signed.caller(), Path(id.clone())).await?;
    let last = details.connector.current_revision;
    let to = query.to.unwrap_or(last);
    let from = query.from.unwrap_or((to - 1).max(1));
    let read = |n: i64| {
        api::revisions::revision(State(state.clone()), signed.caller(), Path((id.clone(), n.to_string())))
    };
    let axum::Json(old) = read(from).await?;
    let axum::Json(new) = read(to).await?;
    let files = vec![
        ("apiDefinition.swagger.json", hunks(&old.files.api_definition, &new.files.api_definition)),
        ("apiProperties.json", hunks(&old.files.api_properties, &new.files.api_properties)),
        (
            "script.csx",
            hunks(old.files.script.as_deref().unwrap_or(""), new.files.script.as_deref().unwrap_or("")),
        ),
    ];
    html(&DiffPage {
        chrome: Chrome::new(&signed, "connectors"),
        id: id.to_string(),
        name: details.connector.name,
        from,
        to,
        revisions: all.iter().map(|revision| revision.revision).collect(),
        files,
    })
}

/// The changed parts of `old` → `new`, line by line, each with its context.
pub fn hunks(old: &str, new: &str) -> Vec<Vec<DiffLine>> {
    let diff = TextDiff::from_lines(old, new);
    diff.grouped_ops(DIFF_CONTEXT)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| {
                    let (class, sign) = match change.tag() {
                        ChangeTag::Insert => ("added", "+"),
                        ChangeTag::Delete => ("removed", "-"),
                        ChangeTag::Equal => ("same", " "),
                    };
                    DiffLine { class, sign, text: change.value().trim_end_matches(['\n', '\r']).to_owned() }
                })
                .collect()
        })
        .collect()
}

/// The share form: a person's email, or the whole environment; `can_use` or `can_edit`.
#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    environment: Option<String>,
    level: String,
}

/// `POST /portal/connectors/{id}/share`.
async fn share(
    State(state): State<SharedState>,
    Path(id): Path<ConnectorId>,
    Posted(signed, form): Posted<ShareForm>,
) -> Result<Response, PortalError> {
    let everyone = form.environment.is_some();
    let request = Share {
        user: (!everyone).then(|| form.email.trim().to_owned()),
        environment: everyone.then_some(true),
        level: form.level,
    };
    let _granted = catalogue::share(State(state), signed.caller(), Path(id.clone()), Body(request)).await?;
    let notice = if everyone {
        "Shared with everyone in the environment".to_owned()
    } else {
        format!("Shared with {}", form.email.trim())
    };
    Ok(see_other(&format!("/portal/connectors/{id}?notice={}", urlencode(&notice))))
}

#[cfg(test)]
mod tests {
    use super::hunks;

    #[test]
    fn a_diff_shows_each_change_with_its_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let found = hunks(old, new);
        assert_eq!(found.len(), 1);
        let signs: String =
            found[0].iter().map(|line| format!("{}{}", line.sign, line.text)).collect::<Vec<_>>().join("|");
        assert_eq!(signs, " b| c| d|-e|+E| f| g| h");
        assert!(hunks(old, old).is_empty());
    }
}
