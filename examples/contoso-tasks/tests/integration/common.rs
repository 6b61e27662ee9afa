//! Shared helpers: a started server with an HTTP client, and a webhook receiver.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use contoso_tasks::{Config, DEMO_API_KEY, Running};
use reqwest::{RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A running server and a client for it.
pub(crate) struct Server {
    pub(crate) running: Running,
    pub(crate) client: reqwest::Client,
}

/// A client that talks to 127.0.0.1 directly and does not follow redirects.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// The configuration used by most tests: short delays, one 202 per export.
pub(crate) fn test_config() -> Config {
    Config { export_polls: 1, webhook_retry_delay: Duration::from_millis(20), ..Config::default() }
}

/// Starts a server with [`test_config`].
pub(crate) async fn start() -> Server {
    start_with(test_config()).await
}

/// Starts a server with `config`.
pub(crate) async fn start_with(config: Config) -> Server {
    let running = contoso_tasks::start(config).await.expect("server starts");
    Server { running, client: client() }
}

impl Server {
    /// Absolute URL of `path` on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// A request with the demo API key.
    pub(crate) fn req(&self, method: reqwest::Method, path_or_url: &str) -> RequestBuilder {
        let url =
            if path_or_url.starts_with("http") { path_or_url.to_owned() } else { self.url(path_or_url) };
        self.client.request(method, url).header("X-API-Key", DEMO_API_KEY)
    }

    /// GET with the API key.
    pub(crate) async fn get(&self, path_or_url: &str) -> Response {
        self.req(reqwest::Method::GET, path_or_url).send().await.expect("GET")
    }

    /// POST a JSON body with the API key.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::POST, path).json(body).send().await.expect("POST")
    }

    /// PATCH a JSON body with the API key.
    pub(crate) async fn patch(&self, path: &str, body: &Value) -> Response {
        self.req(reqwest::Method::PATCH, path).json(body).send().await.expect("PATCH")
    }

    /// DELETE with the API key.
    pub(crate) async fn delete(&self, path_or_url: &str) -> Response {
        self.req(reqwest::Method::DELETE, path_or_url).send().await.expect("DELETE")
    }

    /// Creates a project and returns its JSON.
    pub(crate) async fn create_project(&self, name: &str) -> Value {
        let resp = self.post("/projects", &json!({ "name": name })).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("project JSON")
    }

    /// Creates a task and returns its JSON.
    pub(crate) async fn create_task(&self, project_id: &str, title: &str) -> Value {
        let resp = self.post(&format!("/projects/{project_id}/tasks"), &json!({ "title": title })).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("task JSON")
    }
}

/// Reads the body of `resp` as JSON after checking its status.
pub(crate) async fn json_of(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts the API's error shape and returns the error code.
pub(crate) async fn error_code(resp: Response, status: u16) -> String {
    let body = json_of(resp, status).await;
    let err = &body["error"];
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    err["code"].as_str().expect("error.code").to_owned()
}

/// A header of `resp` as a string.
pub(crate) fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .expect("ASCII header")
        .to_owned()
}

/// A tiny HTTP server that records the JSON bodies POSTed to it.
pub(crate) struct Receiver {
    pub(crate) url: String,
    rx: mpsc::UnboundedReceiver<(HeaderMap, Value)>,
    /// Total requests received, including those answered with an error.
    pub(crate) hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<(HeaderMap, Value)>,
    hits: Arc<AtomicUsize>,
    fail_first: usize,
}

async fn receive(
    State(st): State<ReceiverState>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    let n = st.hits.fetch_add(1, Ordering::SeqCst);
    if n < st.fail_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let _ = st.tx.send((headers, body));
    StatusCode::ACCEPTED
}

impl Receiver {
    /// Starts a receiver that answers the first `fail_first` requests with 503.
    pub(crate) async fn start(fail_first: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let hits = Arc::new(AtomicUsize::new(0));
        let state = ReceiverState { tx, hits: hits.clone(), fail_first };
        let app = Router::new().route("/callback", post(receive)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url: format!("http://{addr}/callback"), rx, hits }
    }

    /// The next notification, or `None` after `wait`.
    pub(crate) async fn next_within(&mut self, wait: Duration) -> Option<(HeaderMap, Value)> {
        tokio::time::timeout(wait, self.rx.recv()).await.ok().flatten()
    }

    /// The next notification; panics after 5 seconds.
    pub(crate) async fn next(&mut self) -> (HeaderMap, Value) {
        self.next_within(Duration::from_secs(5)).await.expect("a notification within 5 s")
    }
}
