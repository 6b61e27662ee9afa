//! A counting HTTP server on 127.0.0.1 and a host environment with a clock the test moves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, TimeZone, Utc};
use patchbay_engine::{ActionResult, BoxFuture, FlowEnvironment, Invocation};
use serde_json::{Map, Value, json};

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// `(path, Idempotency-Key)` of every request, in arrival order.
    pub calls: Mutex<Vec<(String, String)>>,
    /// Status polls per job.
    polls: Mutex<HashMap<String, usize>>,
    /// Answers 500 once per path listed here, then 200.
    flaky: Mutex<HashMap<String, usize>>,
    /// Set when a request reaches `cancel_on`.
    pub cancel: Arc<AtomicBool>,
    /// The path whose call requests cancellation.
    pub cancel_on: Mutex<Option<String>>,
}

impl Seen {
    /// The keys received, in order.
    pub fn keys(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|(_, k)| k.clone()).collect()
    }

    /// Forgets what was seen (not the cancellation wiring).
    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
        self.polls.lock().unwrap().clear();
    }

    /// Status polls of job `kind` so far.
    pub fn polls(&self, kind: &str) -> usize {
        self.polls.lock().unwrap().get(kind).copied().unwrap_or(0)
    }

    fn note(&self, path: String, headers: &HeaderMap) {
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if self.cancel_on.lock().unwrap().as_deref() == Some(path.as_str()) {
            self.cancel.store(true, Ordering::SeqCst);
        }
        self.calls.lock().unwrap().push((path, key));
    }
}

async fn item(State(seen): State<Arc<Seen>>, Path(n): Path<i64>, headers: HeaderMap) -> Response {
    seen.note(format!("/items/{n}"), &headers);
    axum::Json(json!({"n": n, "double": n * 2})).into_response()
}

async fn post_item(
    State(seen): State<Arc<Seen>>,
    Path(n): Path<i64>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    seen.note(format!("/items/{n}"), &headers);
    (StatusCode::CREATED, axum::Json(json!({"n": n, "received": body}))).into_response()
}

async fn flaky(State(seen): State<Arc<Seen>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    seen.note(format!("/flaky/{name}"), &headers);
    let mut flaky = seen.flaky.lock().unwrap();
    let count = flaky.entry(name).or_default();
    *count += 1;
    if *count == 1 {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    } else {
        axum::Json(json!("ok")).into_response()
    }
}

/// Starts job `kind`: 202 with a status URL, poll again in 30 s.
async fn start_job(State(seen): State<Arc<Seen>>, Path(kind): Path<String>, headers: HeaderMap) -> Response {
    seen.note(format!("/jobs/{kind}"), &headers);
    let location = format!("/jobs/{kind}/status");
    (StatusCode::ACCEPTED, [("location", location.as_str()), ("retry-after", "30")]).into_response()
}

/// A job's status: `slow` is done on its second poll, `never` never is, others on the first.
async fn job_status(State(seen): State<Arc<Seen>>, Path(kind): Path<String>) -> Response {
    let polls = {
        let mut polls = seen.polls.lock().unwrap();
        let n = polls.entry(kind.clone()).or_default();
        *n += 1;
        *n
    };
    let done = match kind.as_str() {
        "never" => false,
        "slow" => polls >= 2,
        _ => true,
    };
    if done {
        axum::Json(json!({"job": kind, "polls": polls})).into_response()
    } else {
        (StatusCode::ACCEPTED, [("retry-after", "30")]).into_response()
    }
}

/// A running server: its base URL and what it saw.
pub struct Server {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// What it saw.
    pub seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the counting server on a free loopback port.
pub async fn server() -> Server {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/items/{n}", get(item).post(post_item))
        .route("/flaky/{name}", get(flaky))
        .route("/jobs/{kind}", post(start_job))
        .route("/jobs/{kind}/status", get(job_status))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { base, seen, task }
}

/// The host: HTTP through reqwest, connector `jobs` answering 202 (the host does not wait), a clock
/// the test sets, no real sleeping.
pub struct HostEnv {
    base: String,
    client: reqwest::Client,
    clock: Mutex<DateTime<Utc>>,
    /// Every in-process sleep asked for.
    pub sleeps: Mutex<Vec<Duration>>,
    cancel: Arc<AtomicBool>,
}

/// The test clock's start.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

impl HostEnv {
    /// A host for `server`, its clock at [`t0`]; the server's cancellation flag is the run's.
    pub fn new(server: &Server) -> Self {
        // The workspace builds reqwest with rustls and no default provider; a second install is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        HostEnv {
            base: server.base.clone(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            clock: Mutex::new(t0()),
            sleeps: Mutex::default(),
            cancel: server.seen.cancel.clone(),
        }
    }

    /// Sets the clock to `t0 + seconds`.
    pub fn at(&self, seconds: i64) {
        *self.clock.lock().unwrap() = t0() + chrono::TimeDelta::seconds(seconds);
    }

    /// Requests (or withdraws) cancellation.
    pub fn cancel(&self, on: bool) {
        self.cancel.store(on, Ordering::SeqCst);
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Result<ActionResult, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.client.request(method, url);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status_code = response.status().as_u16();
        // Only stable headers, so outputs compare across runs.
        let headers: Map<String, Value> = response
            .headers()
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "location" | "retry-after" | "content-type"))
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
            .collect();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(ActionResult { status_code, headers, body })
    }

    /// A 202 with a Location is pending: the state is the absolute status URL.
    fn classify(&self, r: ActionResult) -> Invocation {
        match (r.status_code, r.headers.get("location").and_then(Value::as_str)) {
            (202, Some(location)) => {
                let wait = r.headers.get("retry-after").and_then(Value::as_str).and_then(|s| s.parse().ok());
                Invocation::Pending {
                    state: json!({"location": format!("{}{location}", self.base)}),
                    wait: Duration::from_secs(wait.unwrap_or(20)),
                }
            }
            (202, None) => {
                // A poll answered 202 without a new Location: keep polling the same URL.
                Invocation::Pending { state: Value::Null, wait: Duration::from_secs(30) }
            }
            _ => Invocation::Done(r),
        }
    }
}

impl FlowEnvironment for HostEnv {
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            if connection_name != "jobs" || operation_id != "StartJob" {
                return Err(format!("no operation {connection_name}/{operation_id}"));
            }
            let kind = inputs.get("kind").and_then(Value::as_str).unwrap_or("quick");
            let url = format!("{}/jobs/{kind}", self.base);
            let answer = self.send("POST", &url, Some(json!({})), Some(action_key)).await?;
            Ok(self.classify(answer))
        })
    }

    fn resume_call<'a>(&'a self, state: &'a Value) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let location = state.get("location").and_then(Value::as_str).ok_or("no location in the state")?;
            let answer = self.send("GET", location, None, None).await?;
            Ok(match self.classify(answer) {
                Invocation::Pending { state: Value::Null, wait } => {
                    Invocation::Pending { state: state.clone(), wait }
                }
                other => other,
            })
        })
    }

    fn http<'a>(
        &'a self,
        method: &'a str,
        uri: &'a str,
        _headers: Map<String, Value>,
        body: Option<Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let url = uri.replace("{base}", &self.base);
            self.send(method, &url, body, Some(action_key)).await.map(Invocation::Done)
        })
    }

    fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(async {})
    }

    fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn run_id(&self) -> String {
        "run-1".into()
    }
}
