//! One exchange through the transport against real HTTP servers: the exact request, timeouts,
//! the response size limit, decompression, redirects and the SSRF guard.

mod support_transport;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get as get_route};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use patchbay_runtime::WireRequest;
use patchbay_runtime::transport::{Transport, TransportError, TransportOptions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support_transport::{Counter, get, loopback, loopback_options, serve, url};

/// Echoes the request it received as JSON, answering 201 with a marker header.
async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let headers: Vec<Value> = parts
        .headers
        .iter()
        .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
        .collect();
    let echoed = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body": body.to_vec(),
    });
    (AxumStatus::CREATED, [("x-reply", "yes")], echoed.to_string()).into_response()
}

fn header_values(echoed: &Value, name: &str) -> Vec<String> {
    let all = echoed["headers"].as_array().cloned().unwrap_or_default();
    all.iter().filter(|pair| pair[0] == name).map(|pair| pair[1].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn the_exact_request_arrives_and_the_response_comes_back() {
    let addr = serve(Router::new().fallback(any(echo))).await;
    let mut request = WireRequest::new(Method::PATCH, url(addr, "/v1/a/b%20c?x=1&y=%C3%A9&y=2"));
    request.headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
    request.headers.insert("content-type", HeaderValue::from_static("application/octet-stream"));
    request.headers.append("x-multi", HeaderValue::from_static("one"));
    request.headers.append("x-multi", HeaderValue::from_static("two"));
    request.headers.insert("connection", HeaderValue::from_static("close, x-multi"));
    request.body = Bytes::from_static(&[0, 1, 2, 255, b'{', b'\n']);

    let response = loopback().send(request).await.unwrap();
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.header("x-reply"), Some("yes"));
    let echoed: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(echoed["method"], "PATCH");
    assert_eq!(echoed["path"], "/v1/a/b%20c");
    assert_eq!(echoed["query"], "x=1&y=%C3%A9&y=2");
    assert_eq!(echoed["body"], json!([0, 1, 2, 255, 123, 10]));
    assert_eq!(header_values(&echoed, "authorization"), ["Bearer abc"]);
    assert_eq!(header_values(&echoed, "content-type"), ["application/octet-stream"]);
    assert_eq!(header_values(&echoed, "x-multi"), ["one", "two"]);
    assert_eq!(header_values(&echoed, "content-length"), ["6"]);
    assert!(header_values(&echoed, "connection").iter().all(|v| !v.contains("x-multi")));
    assert!(header_values(&echoed, "user-agent")[0].starts_with("patchbay/"));
}

#[tokio::test]
async fn an_empty_post_announces_a_zero_length_and_a_get_sends_no_body() {
    let addr = serve(Router::new().fallback(any(echo))).await;
    let transport = loopback();
    let post = transport.send(WireRequest::new(Method::POST, url(addr, "/p"))).await.unwrap();
    let echoed: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(header_values(&echoed, "content-length"), ["0"]);
    let got = transport.send(get(url(addr, "/g"))).await.unwrap();
    let echoed: Value = serde_json::from_slice(&got.body).unwrap();
    assert!(header_values(&echoed, "content-length").is_empty());
    assert!(header_values(&echoed, "transfer-encoding").is_empty());
    assert_eq!(echoed["body"], json!([]));
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let slow = || async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        "late"
    };
    let addr = serve(Router::new().route("/slow", get_route(slow))).await;
    let options = TransportOptions { timeout: Duration::from_millis(200), ..loopback_options() };
    let transport = Transport::new(options).unwrap();
    let started = Instant::now();
    let err = transport.send(get(url(addr, "/slow"))).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout(limit) if limit == Duration::from_millis(200)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

const MIB: usize = 1024 * 1024;

fn sized_server() -> Router {
    let announced = || async { vec![b'a'; 2 * MIB] };
    let exact = || async { vec![b'a'; MIB] };
    let streamed = || async {
        let chunks = (0..32).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'b'; 64 * 1024])));
        Body::from_stream(futures_util::stream::iter(chunks))
    };
    Router::new()
        .route("/announced", get_route(announced))
        .route("/exact", get_route(exact))
        .route("/streamed", get_route(streamed))
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_or_without_a_length() {
    let addr = serve(sized_server()).await;
    let options = TransportOptions { max_response_bytes: MIB, ..loopback_options() };
    let transport = Transport::new(options).unwrap();
    for path in ["/announced", "/streamed"] {
        let err = transport.send(get(url(addr, path))).await.unwrap_err();
        assert!(matches!(err, TransportError::TooLarge(limit) if limit == MIB), "{path}: {err}");
    }
    let exact = transport.send(get(url(addr, "/exact"))).await.unwrap();
    assert_eq!(exact.body.len(), MIB);
}

const TEXT_GZIP: [u8; 58] = [
    0x1f, 0x8b, 0x8, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0xff, 0xab, 0x56, 0x4a, 0x2f, 0x4a, 0x4d, 0x2d, 0xc9,
    0xcc, 0x4b, 0x57, 0xb2, 0x52, 0xca, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x28, 0x48, 0x2c, 0x49, 0xce,
    0x48, 0x4a, 0xac, 0x54, 0x54, 0x18, 0x15, 0x18, 0x15, 0x18, 0x84, 0x2, 0x4a, 0xb5, 0x0, 0xb9, 0x6, 0x4,
    0x4f, 0xb7, 0x2, 0x0, 0x0,
];

const TEXT_ZLIB: [u8; 46] = [
    0x78, 0xda, 0xab, 0x56, 0x4a, 0x2f, 0x4a, 0x4d, 0x2d, 0xc9, 0xcc, 0x4b, 0x57, 0xb2, 0x52, 0xca, 0x48,
    0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x28, 0x48, 0x2c, 0x49, 0xce, 0x48, 0x4a, 0xac, 0x54, 0x54, 0x18, 0x15,
    0x18, 0x15, 0x18, 0x84, 0x2, 0x4a, 0xb5, 0x0, 0xa1, 0x58, 0xf2, 0x18,
];

/// Serves the fixtures (Python's gzip/zlib of `{"greeting": "hello, patchbay! " x 40}`) when asked for them.
fn compressed_server() -> Router {
    let encoded = |encoding: &'static str, bytes: &'static [u8]| {
        move |headers: AxumHeaders| async move {
            let accepted = headers.get("accept-encoding").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !accepted.contains(encoding) {
                return (AxumStatus::NOT_ACCEPTABLE, "no").into_response();
            }
            ([("content-encoding", encoding), ("content-type", "application/json")], bytes).into_response()
        }
    };
    Router::new()
        .route("/gzip", get_route(encoded("gzip", &TEXT_GZIP)))
        .route("/deflate", get_route(encoded("deflate", &TEXT_ZLIB)))
}

#[tokio::test]
async fn gzip_and_deflate_bodies_are_decoded() {
    let addr = serve(compressed_server()).await;
    let transport = loopback();
    for path in ["/gzip", "/deflate"] {
        let response = transport.send(get(url(addr, path))).await.unwrap();
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("content-encoding"), None, "{path}");
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["greeting"], "hello, patchbay! ".repeat(40), "{path}");
    }
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let seen = Counter::default();
    let target = seen.clone();
    let router = Router::new()
        .route("/moved", get_route(|| async { (AxumStatus::FOUND, [("location", "/target")]) }))
        .route("/target", get_route(move || async move { target.hit().to_string() }));
    let addr = serve(router).await;
    let response = loopback().send(get(url(addr, "/moved"))).await.unwrap();
    assert_eq!(response.status, StatusCode::FOUND);
    assert_eq!(response.header("location"), Some("/target"));
    assert_eq!(seen.get(), 0);
}

fn counting_server(seen: &Counter) -> Router {
    let seen = seen.clone();
    Router::new().fallback(any(move || async move { seen.hit().to_string() }))
}

#[tokio::test]
async fn loopback_is_refused_by_default_for_addresses_and_names() {
    let seen = Counter::default();
    let addr = serve(counting_server(&seen)).await;
    let transport = Transport::new(TransportOptions::default()).unwrap();
    let literal = transport.send(get(url(addr, "/x"))).await.unwrap_err();
    match literal {
        TransportError::Forbidden { host, reason } => {
            assert_eq!(host, "127.0.0.1");
            assert!(reason.contains("loopback address 127.0.0.1"), "{reason}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    // A name that resolves to loopback (as a rebinding attack would) is refused by the resolver.
    let by_name = url(addr, "/x").to_string().replace("127.0.0.1", "localhost");
    let named = transport.send(get(by_name.parse().unwrap())).await.unwrap_err();
    match named {
        TransportError::Forbidden { host, reason } => {
            assert_eq!(host, "localhost");
            assert!(reason.contains("loopback"), "{reason}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    let mapped = format!("http://[::ffff:127.0.0.1]:{}/x", addr.port());
    let err = transport.send(get(mapped.parse().unwrap())).await.unwrap_err();
    assert!(matches!(err, TransportError::Forbidden { .. }), "{err}");
    assert_eq!(seen.get(), 0, "nothing may reach the server");
}

#[tokio::test]
async fn loopback_is_allowed_when_enabled() {
    let seen = Counter::default();
    let addr = serve(counting_server(&seen)).await;
    let transport = loopback();
    let direct = transport.send(get(url(addr, "/x"))).await.unwrap();
    assert_eq!(direct.status, StatusCode::OK);
    let by_name = url(addr, "/x").to_string().replace("127.0.0.1", "localhost");
    let named = transport.send(get(by_name.parse().unwrap())).await.unwrap();
    assert_eq!(named.status, StatusCode::OK);
    assert_eq!(seen.get(), 2);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = loopback().send(get(url(addr, "/"))).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Connect(ref target) if target.contains(&addr.to_string())),
        "{err}"
    );
}
