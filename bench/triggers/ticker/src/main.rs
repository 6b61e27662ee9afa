//! The polling backend of `bench/triggers/scheduler.sh`: `GET /poll/{t}` answers at once (202
//! "nothing new"; every 10th poll, 200 with one item) and records when each poll came.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/poll/{t}` | one poll of trigger `t` |
//! | GET | `/log` | every poll so far, one `<t> <epoch ms>` line each |
//! | GET | `/apiDefinition` | the connector's definition, its host this server |
//!
//! Environment: `TICKER_ADDR` (default `127.0.0.1:0`). Prints `ticker listening on http://<addr>`;
//! stops on Ctrl-C (SIGINT).

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// Every 10th poll of a trigger finds one new item.
const FIRE_EVERY: usize = 10;

/// The poll times of each trigger (epoch ms), the polls so far, and this server's address.
#[derive(Clone)]
struct Ticker {
    polls: Arc<Mutex<HashMap<String, Vec<i64>>>>,
    count: Arc<AtomicUsize>,
    addr: SocketAddr,
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// `GET /poll/{t}`: records the poll; 202, or 200 with `{"value": [{"id": "<t>-<n>"}]}` on every
/// [`FIRE_EVERY`]th poll (of all triggers).
async fn poll(State(ticker): State<Ticker>, Path(t): Path<String>) -> Response {
    let at = now_ms();
    ticker.polls.lock().unwrap_or_else(PoisonError::into_inner).entry(t.clone()).or_default().push(at);
    let count = ticker.count.fetch_add(1, Ordering::Relaxed) + 1;
    if count % FIRE_EVERY == 0 {
        (StatusCode::OK, Json(json!({"value": [{"id": format!("{t}-{count}")}]}))).into_response()
    } else {
        StatusCode::ACCEPTED.into_response()
    }
}

/// `GET /log`: one `<t> <epoch ms>` line per poll.
async fn log(State(ticker): State<Ticker>) -> String {
    let polls = ticker.polls.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut text = String::with_capacity(polls.len() * 4 * 24);
    for (t, times) in &polls {
        for at in times {
            let _ = writeln!(text, "{t} {at}");
        }
    }
    text
}

/// `GET /apiDefinition`: a connector with one batch polling trigger, `OnTick`, on this server.
async fn definition(State(ticker): State<Ticker>) -> Json<Value> {
    let items =
        json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}});
    Json(json!({
        "swagger": "2.0",
        "info": {"title": "Ticker", "version": "1.0", "description": "Counts polls."},
        "host": ticker.addr.to_string(), "basePath": "/", "schemes": ["http"],
        "paths": {"/poll/{t}": {"get": {
            "operationId": "OnTick", "summary": "When it ticks", "description": "One item every tenth poll.",
            "x-ms-trigger": "batch",
            "parameters": [{"name": "t", "in": "path", "required": true, "type": "string"}],
            "responses": {
                "200": {"description": "Ticks", "schema": {"type": "object", "properties": {"value": items}}},
                "202": {"description": "Nothing new"}
            }
        }}}
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let wanted = std::env::var("TICKER_ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let Ok(wanted) = wanted.parse::<SocketAddr>() else {
        eprintln!("ticker: TICKER_ADDR `{wanted}` is not a socket address (e.g. 127.0.0.1:0)");
        return ExitCode::from(2);
    };
    let listener = match tokio::net::TcpListener::bind(wanted).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("ticker: cannot listen on {wanted}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(wanted);
    let ticker = Ticker { polls: Arc::default(), count: Arc::default(), addr };
    let app = axum::Router::new()
        .route("/poll/{t}", get(poll))
        .route("/log", get(log))
        .route("/apiDefinition", get(definition))
        .with_state(ticker);
    println!("ticker listening on http://{addr}");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app).with_graceful_shutdown(stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ticker: {error}");
            ExitCode::FAILURE
        }
    }
}
