//! Dev tunnels end to end: `patchbay tunnel`'s agent exposes a local API at `/t/{id}/…` on the
//! server; requests pass through (method, path, query, headers, body) and are reported as they go.

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use common::{Harness, ServerConfigFor};
use patchbay_gateway::agent::{AgentEvent, AgentOptions, run};
use tokio::sync::mpsc;

/// A local API: `/` and `/hello` greet (with the query and a header), `/echo` echoes.
async fn local_api() -> std::net::SocketAddr {
    let hello = |uri: axum::http::Uri, headers: HeaderMap| async move {
        let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
        ([("x-local", "yes")], format!("hello {} key={key}", uri.query().unwrap_or("")))
    };
    let app = Router::new()
        .route("/", get(|| async { "root" }))
        .route("/hello", get(hello))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

server_test!(a_local_api_is_reached_at_its_tunnel_url_and_traffic_is_reported, |db| {
    let harness =
        Harness::start_with(&db, patchbay_server::ServerConfig { allow_loopback: false, ..db.config() })
            .await;
    let local = local_api().await;
    let (events, mut seen) = mpsc::unbounded_channel();
    let to = format!("http://{local}").parse().unwrap();
    let mut options =
        AgentOptions::tunnel(harness.server.url.parse().unwrap(), harness.admin.token(), to).unwrap();
    options.events = Some(events);
    let agent = tokio::spawn(run(options));
    let url = match tokio::time::timeout(Duration::from_secs(10), seen.recv()).await {
        Ok(Some(AgentEvent::Connected { tunnel_url: Some(url) })) => url,
        other => panic!("no tunnel URL: {other:?}"),
    };
    let id = url.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/t/", harness.server.url)) && id.len() >= 32, "{url}");

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = http.get(format!("{url}hello?name=ada")).header("x-api-key", "k1").send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-local"], "yes");
    assert_eq!(answer.text().await.unwrap(), "hello name=ada key=k1");
    assert_eq!(http.get(&url).send().await.unwrap().text().await.unwrap(), "root");
    let large = vec![b'z'; 3 * 1024 * 1024];
    let echoed = http.post(format!("{url}echo")).body(large.clone()).send().await.unwrap();
    assert_eq!(echoed.bytes().await.unwrap().as_ref(), large.as_slice());

    let mut carried = Vec::new();
    while carried.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(5), seen.recv()).await {
            Ok(Some(AgentEvent::Carried(c))) => carried.push((c.method, c.path, c.status)),
            other => panic!("traffic not reported: {other:?}"),
        }
    }
    assert_eq!(carried[0], ("GET".to_owned(), "/hello".to_owned(), Some(200)));
    assert_eq!(carried[1], ("GET".to_owned(), "/".to_owned(), Some(200)));
    assert_eq!(carried[2], ("POST".to_owned(), "/echo".to_owned(), Some(200)));

    let (_, metrics) = harness.admin.get("/metrics").await;
    assert!(!metrics.to_string().contains(&id), "/metrics needs no token: it must not show the tunnel id");
    let guessed = http.get(format!("{}/t/{}x/hello", harness.server.url, id)).send().await.unwrap();
    assert_eq!(guessed.status(), 404, "an unknown tunnel id leads nowhere");
    agent.abort();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = http.get(format!("{url}hello")).send().await.unwrap().status();
        if status == 404 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the tunnel outlived its agent ({status})");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    harness.stop().await;
});
