//! The 202 pattern against real HTTP servers: polling to the result, handing the pending state
//! back and resuming it, the bounds, and which headers follow the status URL.

mod support_transport;

use axum::Router;
use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::{get as get_route, post};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use patchbay_runtime::WireRequest;
use patchbay_runtime::transport::{
    LongRunningError, LongRunningOptions, PollStep, RetryPolicy, Transport, classify_async,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support_transport::{Counter, loopback, serve, serve_with, url};

/// `POST /jobs` starts a job (202, relative Location, Retry-After: 0); its status answers 202
/// with Retry-After: 1 once, then 200. Status requests without the bearer token get 401.
fn job_server(status_polls: &Counter) -> Router {
    let polls = status_polls.clone();
    let start = || async { (AxumStatus::ACCEPTED, [("location", "jobs/7/status"), ("retry-after", "0")]) };
    let status = move |headers: AxumHeaders| async move {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t") {
            return (AxumStatus::UNAUTHORIZED, "who are you").into_response();
        }
        match polls.hit() {
            1 => (AxumStatus::ACCEPTED, [("retry-after", "1")], "running").into_response(),
            _ => (AxumStatus::OK, [("content-type", "application/json")], r#"{"done":true}"#).into_response(),
        }
    };
    Router::new().route("/v1/jobs", post(start)).route("/v1/jobs/7/status", get_route(status))
}

fn bearer() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer t"));
    headers
}

fn quick_bounds() -> LongRunningOptions {
    LongRunningOptions {
        max_polls: 10,
        max_duration: Duration::from_secs(10),
        default_interval: Duration::from_secs(5),
        retry: RetryPolicy::None,
    }
}

#[tokio::test]
async fn polling_follows_202s_to_the_result() {
    let polls = Counter::default();
    let addr = serve(job_server(&polls)).await;
    let transport = loopback();
    let start_url = url(addr, "/v1/jobs");
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let started = Instant::now();
    let done = transport.poll_until_done(first, &start_url, bearer(), &quick_bounds()).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(&done.body[..], br#"{"done":true}"#);
    assert_eq!(polls.get(), 2);
    assert!(elapsed >= Duration::from_secs(1), "Retry-After: 1 honoured: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "the 5 s default was not used: {elapsed:?}");
}

#[tokio::test]
async fn the_pending_state_can_be_handed_back_and_resumed() {
    let polls = Counter::default();
    let addr = serve(job_server(&polls)).await;
    let transport = loopback();
    let start_url = url(addr, "/v1/jobs");
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    let pending = classify_async(&first, &start_url).expect("a 202 with Location is pending");
    assert_eq!(pending.location, url(addr, "/v1/jobs/7/status"));
    assert_eq!(pending.retry_after, Some(Duration::ZERO));

    // Stored, then resumed (here at once; an engine would wait `retry_after` first).
    let stored = pending.clone();
    let resumed = Transport::new(transport.options().clone()).unwrap();
    let PollStep::Pending(next) = resumed.poll_once(&stored, bearer()).await.unwrap() else {
        panic!("the first status poll is still running");
    };
    assert_eq!(next.location, stored.location);
    assert_eq!(next.retry_after, Some(Duration::from_secs(1)));
    let PollStep::Done(done) = resumed.poll_once(&next, bearer()).await.unwrap() else {
        panic!("the second status poll is done");
    };
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(polls.get(), 2);
}

/// A job that never finishes; records the authorization header of each status poll.
fn endless_server(seen_auth: &Arc<Mutex<Vec<Option<String>>>>, first_location: String) -> Router {
    let seen_auth = seen_auth.clone();
    let status = move |headers: AxumHeaders| async move {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        seen_auth.lock().map(|mut seen| seen.push(auth)).unwrap_or_default();
        AxumStatus::ACCEPTED
    };
    let start = move || async move { (AxumStatus::ACCEPTED, [("location", first_location)]).into_response() };
    Router::new().route("/start", post(start)).route("/status", get_route(status))
}

/// Starts an endless job server whose Location names `location_host`; returns its log and start URL.
async fn started_endless(location_host: &str) -> (Arc<Mutex<Vec<Option<String>>>>, url::Url) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let addr =
        serve_with(|addr| endless_server(&seen, format!("http://{location_host}:{}/status", addr.port())))
            .await;
    (seen, url(addr, "/start"))
}

#[tokio::test]
async fn polling_stops_at_the_poll_bound_and_hands_back_the_state() {
    let (seen, start_url) = started_endless("127.0.0.1").await;
    let transport = loopback();
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    let bounds =
        LongRunningOptions { max_polls: 2, default_interval: Duration::from_millis(10), ..quick_bounds() };
    let err = transport.poll_until_done(first, &start_url, bearer(), &bounds).await.unwrap_err();
    match err {
        LongRunningError::TooManyPolls { polls, pending } => {
            assert_eq!(polls, 2);
            assert_eq!(pending.location.path(), "/status");
        }
        other => panic!("expected TooManyPolls, got {other:?}"),
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, vec![Some("Bearer t".to_owned()); 2], "same origin: credentials kept");
}

#[tokio::test]
async fn polling_stops_before_a_wait_past_the_duration_bound() {
    let addr = serve(Router::new().route(
        "/start",
        post(|| async { (AxumStatus::ACCEPTED, [("location", "/status"), ("retry-after", "3600")]) }),
    ))
    .await;
    let transport = loopback();
    let start_url = url(addr, "/start");
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    let started = Instant::now();
    let err = transport.poll_until_done(first, &start_url, bearer(), &quick_bounds()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match err {
        LongRunningError::TimedOut { pending, .. } => {
            assert_eq!(pending.retry_after, Some(Duration::from_secs(3600)));
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

#[tokio::test]
async fn credentials_do_not_follow_a_location_on_another_origin() {
    // "localhost" and "127.0.0.1" reach the same server but are different origins.
    let (seen, start_url) = started_endless("localhost").await;
    let transport = loopback();
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    let bounds =
        LongRunningOptions { max_polls: 1, default_interval: Duration::from_millis(10), ..quick_bounds() };
    let err = transport.poll_until_done(first, &start_url, bearer(), &bounds).await.unwrap_err();
    assert!(matches!(err, LongRunningError::TooManyPolls { polls: 1, .. }), "{err}");
    assert_eq!(seen.lock().unwrap().clone(), vec![None]);
}

#[tokio::test]
async fn a_202_without_location_is_final() {
    let addr = serve(Router::new().route("/start", post(|| async { AxumStatus::ACCEPTED }))).await;
    let transport = loopback();
    let start_url = url(addr, "/start");
    let first = transport.send(WireRequest::new(Method::POST, start_url.clone())).await.unwrap();
    let done = transport.poll_until_done(first, &start_url, bearer(), &quick_bounds()).await.unwrap();
    assert_eq!(done.status, StatusCode::ACCEPTED);
}
