//! Handlers of the task API: projects, tasks, comments, the polling trigger and export jobs.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, JsonBody, PathId, QueryMap};
use crate::hooks;
use crate::store::{Comment, Event, Job, Kind, Project, Store, Task, parse_id};
use crate::util::{encode_component, now_rfc3339};

/// Page size when a list request has no `$top`.
const DEFAULT_TOP: u64 = 50;
/// Largest accepted `$top`.
const MAX_TOP: u64 = 500;

/// `201 Created` with a `Location` header and a JSON body.
pub(crate) fn created(location: String, body: &impl Serialize) -> Response {
    (StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response()
}

/// Slices `all` by `$top`/`$skip` into `{"value": [...], "nextLink"?: "<absolute url>"}`.
pub(crate) fn page<T: Serialize>(
    st: &AppState,
    path: &str,
    q: &QueryMap,
    all: &[T],
) -> Result<Json<Value>, ApiError> {
    let top = q.u64_param(&["$top", "top"])?.unwrap_or(DEFAULT_TOP);
    if top == 0 || top > MAX_TOP {
        return Err(ApiError::bad_request(format!(
            "Query parameter '$top' must be between 1 and {MAX_TOP}."
        )));
    }
    let skip = q.u64_param(&["$skip", "skip"])?.unwrap_or(0);
    let start = usize::try_from(skip).unwrap_or(usize::MAX).min(all.len());
    let end = start.saturating_add(usize::try_from(top).unwrap_or(usize::MAX)).min(all.len());
    let mut body = json!({ "value": &all[start..end] });
    if end < all.len() {
        body["nextLink"] = Value::String(format!("{}{path}?$top={top}&$skip={}", st.base_url, skip + top));
    }
    Ok(Json(body))
}

fn project_key(store: &Store, id: &str) -> Result<u64, ApiError> {
    parse_id(Kind::Project, id)
        .filter(|k| store.projects.contains_key(k))
        .ok_or_else(|| ApiError::not_found(Kind::Project.name(), id))
}

fn task_key(store: &Store, id: &str) -> Result<u64, ApiError> {
    parse_id(Kind::Task, id)
        .filter(|k| store.tasks.contains_key(k))
        .ok_or_else(|| ApiError::not_found(Kind::Task.name(), id))
}

fn required_text(value: Option<String>, field: &str) -> Result<String, ApiError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::bad_request(format!("Property '{field}' is required and must not be empty."))),
    }
}

/// `Some("")` clears an optional text field; `None` leaves it as it is.
fn patch_optional(target: &mut Option<String>, value: Option<String>) {
    if let Some(v) = value {
        *target = if v.is_empty() { None } else { Some(v) };
    }
}

// ---------------------------------------------------------------- projects

/// Body of `POST /projects`.
#[derive(Deserialize)]
pub(crate) struct NewProject {
    name: Option<String>,
    description: Option<String>,
}

/// Body of `PATCH /projects/{projectId}`.
#[derive(Deserialize)]
pub(crate) struct ProjectPatch {
    name: Option<String>,
    description: Option<String>,
}

pub(crate) async fn list_projects(State(st): State<AppState>, q: QueryMap) -> Result<Json<Value>, ApiError> {
    let store = st.lock();
    let all: Vec<&Project> = store.projects.values().collect();
    page(&st, "/projects", &q, &all)
}

pub(crate) async fn create_project(
    State(st): State<AppState>,
    JsonBody(body): JsonBody<NewProject>,
) -> Result<Response, ApiError> {
    let name = required_text(body.name, "name")?;
    let mut store = st.lock();
    let (key, id) = store.next_id(Kind::Project);
    let now = now_rfc3339();
    let project = Project {
        id,
        name,
        description: body.description.filter(|d| !d.is_empty()),
        created_at: now.clone(),
        updated_at: now,
    };
    store.projects.insert(key, project.clone());
    Ok(created(format!("{}/projects/{}", st.base_url, project.id), &project))
}

pub(crate) async fn get_project(
    State(st): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Project>, ApiError> {
    let store = st.lock();
    let key = project_key(&store, &id)?;
    Ok(Json(store.projects[&key].clone()))
}

pub(crate) async fn update_project(
    State(st): State<AppState>,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ProjectPatch>,
) -> Result<Json<Project>, ApiError> {
    let mut store = st.lock();
    let key = project_key(&store, &id)?;
    let name = body.name.map(|n| required_text(Some(n), "name")).transpose()?;
    let project = store.projects.get_mut(&key).expect("checked above");
    if let Some(name) = name {
        project.name = name;
    }
    patch_optional(&mut project.description, body.description);
    project.updated_at = now_rfc3339();
    Ok(Json(project.clone()))
}

pub(crate) async fn delete_project(
    State(st): State<AppState>,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    let mut store = st.lock();
    let key = project_key(&store, &id)?;
    store.projects.remove(&key);
    let removed: Vec<String> =
        store.tasks.values().filter(|t| t.project_id == id).map(|t| t.id.clone()).collect();
    store.tasks.retain(|_, t| t.project_id != id);
    store.comments.retain(|_, c| !removed.contains(&c.task_id));
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- tasks

/// Body of `POST /projects/{projectId}/tasks`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewTask {
    title: Option<String>,
    notes: Option<String>,
    due_date: Option<String>,
}

/// Body of `PATCH /tasks/{taskId}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskPatch {
    title: Option<String>,
    notes: Option<String>,
    due_date: Option<String>,
    completed: Option<bool>,
}

pub(crate) async fn list_tasks(
    State(st): State<AppState>,
    PathId(id): PathId,
    q: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let store = st.lock();
    project_key(&store, &id)?;
    let all: Vec<&Task> = store.tasks.values().filter(|t| t.project_id == id).collect();
    page(&st, &format!("/projects/{id}/tasks"), &q, &all)
}

pub(crate) async fn create_task(
    State(st): State<AppState>,
    PathId(id): PathId,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewTask>,
) -> Result<Response, ApiError> {
    let title = required_text(body.title, "title")?;
    let task = {
        let mut store = st.lock();
        project_key(&store, &id)?;
        let (key, task_id) = store.next_id(Kind::Task);
        let seq = store.bump_seq();
        let now = now_rfc3339();
        let task = Task {
            id: task_id,
            project_id: id,
            title,
            notes: body.notes.filter(|n| !n.is_empty()),
            due_date: body.due_date.filter(|d| !d.is_empty()),
            completed: false,
            completed_at: None,
            created_at: now.clone(),
            updated_at: now,
            source: headers.get("x-contoso-client").and_then(|v| v.to_str().ok()).map(str::to_owned),
            seq,
        };
        store.tasks.insert(key, task.clone());
        task
    };
    hooks::notify(&st, Event::TaskCreated, &task);
    Ok(created(format!("{}/tasks/{}", st.base_url, task.id), &task))
}

pub(crate) async fn get_task(State(st): State<AppState>, PathId(id): PathId) -> Result<Json<Task>, ApiError> {
    let store = st.lock();
    let key = task_key(&store, &id)?;
    Ok(Json(store.tasks[&key].clone()))
}

pub(crate) async fn update_task(
    State(st): State<AppState>,
    PathId(id): PathId,
    JsonBody(body): JsonBody<TaskPatch>,
) -> Result<Json<Task>, ApiError> {
    let title = body.title.map(|t| required_text(Some(t), "title")).transpose()?;
    let (task, just_completed) = {
        let mut store = st.lock();
        let key = task_key(&store, &id)?;
        let seq = store.bump_seq();
        let task = store.tasks.get_mut(&key).expect("checked above");
        if let Some(title) = title {
            task.title = title;
        }
        patch_optional(&mut task.notes, body.notes);
        patch_optional(&mut task.due_date, body.due_date);
        let now = now_rfc3339();
        let mut just_completed = false;
        match body.completed {
            Some(true) if !task.completed => {
                task.completed = true;
                task.completed_at = Some(now.clone());
                just_completed = true;
            }
            Some(false) => {
                task.completed = false;
                task.completed_at = None;
            }
            _ => {}
        }
        task.updated_at = now;
        task.seq = seq;
        (task.clone(), just_completed)
    };
    if just_completed {
        hooks::notify(&st, Event::TaskCompleted, &task);
    }
    Ok(Json(task))
}

pub(crate) async fn delete_task(
    State(st): State<AppState>,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    let mut store = st.lock();
    let key = task_key(&store, &id)?;
    store.tasks.remove(&key);
    store.comments.retain(|_, c| c.task_id != id);
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- comments

/// Body of `POST /tasks/{taskId}/comments`.
#[derive(Deserialize)]
pub(crate) struct NewComment {
    text: Option<String>,
}

pub(crate) async fn list_comments(
    State(st): State<AppState>,
    PathId(id): PathId,
    q: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let store = st.lock();
    task_key(&store, &id)?;
    let all: Vec<&Comment> = store.comments.values().filter(|c| c.task_id == id).collect();
    page(&st, &format!("/tasks/{id}/comments"), &q, &all)
}

pub(crate) async fn add_comment(
    State(st): State<AppState>,
    PathId(id): PathId,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<Response, ApiError> {
    let text = required_text(body.text, "text")?;
    let mut store = st.lock();
    task_key(&store, &id)?;
    let (key, comment_id) = store.next_id(Kind::Comment);
    let comment = Comment { id: comment_id, task_id: id.clone(), text, created_at: now_rfc3339() };
    store.comments.insert(key, comment.clone());
    Ok(created(format!("{}/tasks/{id}/comments", st.base_url), &comment))
}

// ---------------------------------------------------------------- polling trigger

/// `202 Accepted` (or `200 OK` with a body) plus `Location` and `Retry-After`.
fn poll_response(st: &AppState, status: StatusCode, location: String, body: Option<Value>) -> Response {
    let headers =
        [(header::LOCATION, location), (header::RETRY_AFTER, st.config.retry_after_secs.to_string())];
    match body {
        Some(body) => (status, headers, Json(body)).into_response(),
        None => (status, headers).into_response(),
    }
}

/// `GET /tasks/poll?projectId=&since=`: the polling trigger for new and changed tasks.
///
/// Without `since` it only establishes the cursor (202). With a cursor it answers 200 with the
/// tasks created or changed after it, or 202 when there are none; `Location` always carries the
/// URL of the next poll with the current cursor.
pub(crate) async fn poll_tasks(State(st): State<AppState>, q: QueryMap) -> Result<Response, ApiError> {
    let since = q.u64_param(&["since"])?;
    let project = q.get_any(&["projectId"]).filter(|p| !p.is_empty());
    let store = st.lock();
    if let Some(p) = project {
        project_key(&store, p)?;
    }
    let cursor = store.seq;
    let mut location = format!("{}/tasks/poll?", st.base_url);
    if let Some(p) = project {
        location.push_str(&format!("projectId={}&", encode_component(p)));
    }
    location.push_str(&format!("since={cursor}"));
    let Some(since) = since.filter(|s| *s <= cursor) else {
        // First poll (or a cursor from before a restart): establish the baseline.
        return Ok(poll_response(&st, StatusCode::ACCEPTED, location, None));
    };
    let mut changed: Vec<&Task> =
        store.tasks.values().filter(|t| t.seq > since && project.is_none_or(|p| t.project_id == p)).collect();
    if changed.is_empty() {
        return Ok(poll_response(&st, StatusCode::ACCEPTED, location, None));
    }
    changed.sort_by_key(|t| t.seq);
    let body = json!({ "value": changed });
    Ok(poll_response(&st, StatusCode::OK, location, Some(body)))
}

// ---------------------------------------------------------------- long-running export

/// `POST /projects/{projectId}/export`: starts an export job (202 + `Location` of the job).
pub(crate) async fn export_project(
    State(st): State<AppState>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let mut store = st.lock();
    let key = project_key(&store, &id)?;
    let project = store.projects[&key].clone();
    let tasks: Vec<Task> = store.tasks.values().filter(|t| t.project_id == id).cloned().collect();
    let (job_key, job_id) = store.next_id(Kind::Job);
    let result = json!({
        "id": job_id,
        "status": "succeeded",
        "project": project,
        "tasks": tasks,
        "exportedAt": now_rfc3339(),
    });
    store.jobs.insert(job_key, Job { id: job_id.clone(), polls_remaining: st.config.export_polls, result });
    Ok(poll_response(
        &st,
        StatusCode::ACCEPTED,
        format!("{}/jobs/{job_id}", st.base_url),
        Some(json!({ "id": job_id, "status": "running" })),
    ))
}

/// `GET /jobs/{jobId}`: 202 while the export runs, then 200 with the exported project.
pub(crate) async fn get_job(State(st): State<AppState>, PathId(id): PathId) -> Result<Response, ApiError> {
    let mut store = st.lock();
    let job = parse_id(Kind::Job, &id)
        .and_then(|k| store.jobs.get_mut(&k))
        .ok_or_else(|| ApiError::not_found(Kind::Job.name(), &id))?;
    if job.polls_remaining > 0 {
        job.polls_remaining -= 1;
        let body = json!({ "id": job.id, "status": "running" });
        let location = format!("{}/jobs/{}", st.base_url, job.id);
        return Ok(poll_response(&st, StatusCode::ACCEPTED, location, Some(body)));
    }
    Ok(Json(job.result.clone()).into_response())
}

/// `GET /healthz` (no authentication).
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
