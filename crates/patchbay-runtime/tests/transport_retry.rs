//! Retries against real HTTP servers: what is retried, how often, and `Retry-After` in both forms.

mod support_transport;

use axum::Router;
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::StatusCode;
use patchbay_runtime::transport::{RetryPolicy, Transport, TransportError, TransportOptions};
use std::time::{Duration, Instant, SystemTime};
use support_transport::{Counter, get, loopback, loopback_options, serve, url};

/// A quick fixed policy for tests.
fn fixed(count: u32) -> RetryPolicy {
    RetryPolicy::Fixed { count, interval: Duration::from_millis(10) }
}

/// A server answering `failures` times with `failure` (status and optional Retry-After), then 200 "ok".
fn flaky(seen: &Counter, failures: usize, status: u16, retry_after: Option<fn() -> String>) -> Router {
    let seen = seen.clone();
    Router::new().fallback(any(move || async move {
        if seen.hit() > failures {
            return "ok".into_response();
        }
        let status = AxumStatus::from_u16(status).unwrap_or(AxumStatus::INTERNAL_SERVER_ERROR);
        let mut response: Response = (status, "failed").into_response();
        if let Some(value) = retry_after.map(|make| make()) {
            response.headers_mut().insert("retry-after", value.parse().expect("header value"));
        }
        response
    }))
}

#[tokio::test]
async fn a_503_is_retried_until_success() {
    let seen = Counter::default();
    let addr = serve(flaky(&seen, 2, 503, None)).await;
    let response = loopback().send_with_retry(get(url(addr, "/x")), &fixed(3)).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(&response.body[..], b"ok");
    assert_eq!(seen.get(), 3);
}

#[tokio::test]
async fn the_last_failure_is_returned_when_retries_run_out() {
    let seen = Counter::default();
    let addr = serve(flaky(&seen, 100, 500, None)).await;
    let response = loopback().send_with_retry(get(url(addr, "/x")), &fixed(2)).await.unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(seen.get(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 404] {
        let seen = Counter::default();
        let addr = serve(flaky(&seen, 100, status, None)).await;
        let response = loopback().send_with_retry(get(url(addr, "/x")), &fixed(3)).await.unwrap();
        assert_eq!(response.status.as_u16(), status);
        assert_eq!(seen.get(), 1, "{status}");
    }
}

#[tokio::test]
async fn an_exponential_policy_with_small_intervals_retries_408_and_429() {
    let policy = RetryPolicy::Exponential {
        count: 2,
        interval: Duration::from_millis(10),
        minimum_interval: Duration::from_millis(1),
        maximum_interval: Duration::from_millis(50),
    };
    for status in [408, 429] {
        let seen = Counter::default();
        let addr = serve(flaky(&seen, 2, status, None)).await;
        let response = loopback().send_with_retry(get(url(addr, "/x")), &policy).await.unwrap();
        assert_eq!(response.status, StatusCode::OK, "{status}");
        assert_eq!(seen.get(), 3, "{status}");
    }
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let seen = Counter::default();
    let addr = serve(flaky(&seen, 1, 429, Some(|| "1".to_owned()))).await;
    let started = Instant::now();
    let response = loopback().send_with_retry(get(url(addr, "/x")), &fixed(1)).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(seen.get(), 2);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let seen = Counter::default();
    // Two seconds ahead, truncated to the second by the format: at least one second away.
    let in_two_seconds = || httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let addr = serve(flaky(&seen, 1, 503, Some(in_two_seconds))).await;
    let started = Instant::now();
    let response = loopback().send_with_retry(get(url(addr, "/x")), &fixed(1)).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(seen.get(), 2);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let seen = Counter::default();
    let counted = seen.clone();
    let router = Router::new().fallback(any(move || async move {
        if counted.hit() == 1 {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        "ok"
    }));
    let addr = serve(router).await;
    let options = TransportOptions { timeout: Duration::from_millis(200), ..loopback_options() };
    let transport = Transport::new(options).unwrap();
    let response = transport.send_with_retry(get(url(addr, "/x")), &fixed(1)).await.unwrap();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(seen.get(), 2);
}

#[tokio::test]
async fn a_refused_destination_is_not_retried() {
    let seen = Counter::default();
    let addr = serve(flaky(&seen, 0, 200, None)).await;
    let transport = Transport::new(TransportOptions::default()).unwrap();
    let started = Instant::now();
    let err = transport.send_with_retry(get(url(addr, "/x")), &RetryPolicy::default()).await.unwrap_err();
    assert!(matches!(err, TransportError::Forbidden { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(seen.get(), 0);
}
