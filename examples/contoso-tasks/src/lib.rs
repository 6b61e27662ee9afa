//! Contoso Tasks: a small sample custom API that exercises every connector protocol patchbay
//! supports, with its Power Platform connector package in `connector/`.
//!
//! * Projects, tasks and comments (CRUD, `$top` paging with absolute `nextLink`s).
//! * Authentication by `X-API-Key` or by bearer tokens from its own OAuth 2.0 server
//!   (`/oauth/authorize`, `/oauth/token`, `/oauth/stats`).
//! * A webhook trigger (`POST /hooks`, `DELETE /hooks/{hookId}`) that really POSTs notifications.
//! * A polling trigger with state (`GET /tasks/poll`, 202/200 + `Location` + `Retry-After`).
//! * A long-running export (`POST /projects/{projectId}/export` → 202, `GET /jobs/{jobId}`).
//!
//! State is in memory. Start it in-process with [`start`], or run the binary.
//! Every API route comes from one table, [`api_routes`]; the connector package must describe
//! exactly those routes (checked by the crate's tests).
#![deny(missing_docs)]

mod api;
mod error;
mod hooks;
mod oauth;
mod store;
mod util;

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method as HttpMethod;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::store::Store;

/// The demo API key accepted by default.
pub const DEMO_API_KEY: &str = "contoso-demo-key";
/// The client id of the default demo OAuth client.
pub const DEMO_CLIENT_ID: &str = "contoso-demo-client";
/// The client secret of the default demo OAuth client.
pub const DEMO_CLIENT_SECRET: &str = "contoso-demo-secret";

/// Settings of one Contoso Tasks server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// API key accepted in the `X-API-Key` header (an empty key disables API-key authentication).
    pub api_key: String,
    /// Base URL used in `Location` headers and `nextLink`s; default `http://<bound address>`.
    pub public_url: Option<String>,
    /// Clients registered with the built-in OAuth authorization server.
    pub oauth_clients: Vec<OAuthClient>,
    /// Lifetime of issued access tokens (enforced on API calls).
    pub access_token_ttl: Duration,
    /// Seconds sent in `Retry-After` by the polling trigger and export jobs.
    pub retry_after_secs: u64,
    /// Status polls an export job answers with 202 before it reports its result.
    pub export_polls: u32,
    /// Delivery attempts per webhook notification.
    pub webhook_attempts: u32,
    /// Delay before a webhook retry, multiplied by the attempt number.
    pub webhook_retry_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            api_key: DEMO_API_KEY.to_owned(),
            public_url: None,
            oauth_clients: vec![OAuthClient::default()],
            access_token_ttl: Duration::from_secs(3600),
            retry_after_secs: 1,
            export_polls: 2,
            webhook_attempts: 3,
            webhook_retry_delay: Duration::from_millis(500),
        }
    }
}

/// A client registered with the OAuth authorization server (default: the demo client).
#[derive(Debug, Clone)]
pub struct OAuthClient {
    /// The `client_id`.
    pub client_id: String,
    /// The `client_secret` (all clients are confidential).
    pub client_secret: String,
    /// Allowed redirect URIs; empty allows any absolute http(s) URI (for local use).
    pub redirect_uris: Vec<String>,
    /// Whether authorization requests must carry a PKCE S256 `code_challenge`.
    pub require_pkce: bool,
}

impl Default for OAuthClient {
    fn default() -> Self {
        Self {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            redirect_uris: Vec::new(),
            require_pkce: false,
        }
    }
}

/// HTTP methods used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Lower-case name, as used for operation keys in Swagger path items.
    pub fn as_swagger_key(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }

    /// The `http` method.
    pub fn to_http(self) -> HttpMethod {
        match self {
            Self::Get => HttpMethod::GET,
            Self::Post => HttpMethod::POST,
            Self::Patch => HttpMethod::PATCH,
            Self::Delete => HttpMethod::DELETE,
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Self::Get => MethodFilter::GET,
            Self::Post => MethodFilter::POST,
            Self::Patch => MethodFilter::PATCH,
            Self::Delete => MethodFilter::DELETE,
        }
    }
}

/// One API route: method, path template (`/tasks/{taskId}`) and the operationId describing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path template, in Swagger and axum 0.8 syntax.
    pub path: &'static str,
    /// The connector package's operationId for this route.
    pub operation_id: &'static str,
}

type Route = (RouteSpec, MethodRouter<AppState>);

fn route<H, T>(method: Method, path: &'static str, operation_id: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let spec = RouteSpec { method, path, operation_id };
    (spec, on(method.filter(), handler))
}

/// The route table: the only place API routes are defined (OAuth and `/healthz` excepted).
fn routes() -> Vec<Route> {
    use Method::{Delete, Get, Patch, Post};
    vec![
        route(Get, "/projects", "ListProjects", api::list_projects),
        route(Post, "/projects", "CreateProject", api::create_project),
        route(Get, "/projects/{projectId}", "GetProject", api::get_project),
        route(Patch, "/projects/{projectId}", "UpdateProject", api::update_project),
        route(Delete, "/projects/{projectId}", "DeleteProject", api::delete_project),
        route(Get, "/projects/{projectId}/tasks", "ListTasks", api::list_tasks),
        route(Post, "/projects/{projectId}/tasks", "CreateTask", api::create_task),
        route(Post, "/projects/{projectId}/export", "ExportProject", api::export_project),
        route(Get, "/jobs/{jobId}", "GetExportJob", api::get_job),
        route(Get, "/tasks/poll", "OnNewOrUpdatedTasks", api::poll_tasks),
        route(Get, "/tasks/{taskId}", "GetTask", api::get_task),
        route(Patch, "/tasks/{taskId}", "UpdateTask", api::update_task),
        route(Delete, "/tasks/{taskId}", "DeleteTask", api::delete_task),
        route(Get, "/tasks/{taskId}/comments", "ListComments", api::list_comments),
        route(Post, "/tasks/{taskId}/comments", "AddComment", api::add_comment),
        route(Get, "/hooks", "ListHooks", hooks::list_hooks),
        route(Post, "/hooks", "OnTaskEvent", hooks::create_hook),
        route(Delete, "/hooks/{hookId}", "DeleteHook", hooks::delete_hook),
    ]
}

/// Every API route the server answers, except the OAuth server (`/oauth/*`) and `/healthz`.
pub fn api_routes() -> Vec<RouteSpec> {
    routes().into_iter().map(|(spec, _)| spec).collect()
}

/// Shared state of a running server.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) base_url: String,
    pub(crate) store: Mutex<Store>,
    pub(crate) oauth: oauth::OAuthState,
    pub(crate) http: reqwest::Client,
}

/// Cheaply clonable handle on [`Shared`], used as the axum state.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Locks the data store (a poisoned lock is recovered: the data stays usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn route_not_found(req: Request) -> Response {
    ApiError::route_not_found(req.uri().path()).into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    ApiError::method_not_allowed(req.method().as_str(), req.uri().path()).into_response()
}

fn build_router(state: AppState) -> Router {
    let mut api = Router::new();
    for (spec, method_router) in routes() {
        api = api.route(spec.path, method_router);
    }
    let api = api.route_layer(axum::middleware::from_fn_with_state(state.clone(), oauth::require_auth));
    Router::new()
        .route("/healthz", get(api::healthz))
        .merge(oauth::router())
        .merge(api)
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// A server started by [`start`].
#[derive(Debug)]
pub struct Running {
    /// The address the server listens on.
    pub addr: SocketAddr,
    base_url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Base URL of the API without a trailing slash, e.g. `http://127.0.0.1:3000`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops accepting connections and waits (at most 5 s) for open requests to finish.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(joined) => joined.map_err(std::io::Error::other)?,
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

/// Binds `config.addr` and serves the API in a background task.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let base_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        None => format!("http://{addr}"),
    };
    // The workspace builds reqwest with rustls and no default crypto provider (one provider, ring,
    // for the whole build); install it so the webhook client can be built. A second call is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(std::io::Error::other)?;
    let state = AppState(Arc::new(Shared {
        config,
        base_url: base_url.clone(),
        store: Mutex::new(Store::default()),
        oauth: oauth::OAuthState::default(),
        http,
    }));
    let app = build_router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running { addr, base_url, stop, task })
}

/// The connector package that describes this API, embedded: (file name, contents).
pub const CONNECTOR_PACKAGE: [(&str, &str); 2] = [
    ("apiDefinition.swagger.json", include_str!("../connector/apiDefinition.swagger.json")),
    ("apiProperties.json", include_str!("../connector/apiProperties.json")),
];

/// Sample flows that use the connector, as (file name, Logic Apps workflow definition): a
/// `Request` flow that creates a task and answers with it, and a webhook flow that comments on
/// every task completed.
pub const SAMPLE_FLOWS: [(&str, &str); 2] = [
    ("create-task-and-answer.json", include_str!("../flows/create-task-and-answer.json")),
    ("comment-on-completed-task.json", include_str!("../flows/comment-on-completed-task.json")),
];
