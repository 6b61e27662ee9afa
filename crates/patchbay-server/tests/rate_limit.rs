//! The invoke API's per-connection rate limit: past it a call waits briefly, then gets 429 with
//! `Retry-After`; another connection is not affected.

mod common;

use common::{Client, ServerConfigFor, connect, contoso, upload_contoso};
use serde_json::json;

server_test!(calls_past_the_limit_get_429_with_retry_after, |db| {
    let store = db.open().await;
    let config = patchbay_server::ServerConfig { rate_limit_per_minute: 2, ..db.config() };
    let server = patchbay_server::start_with_store(config, store.clone()).await.expect("starts");
    let (_, token) = server.bootstrap.clone().expect("bootstrap");
    let admin = Client::new(&server.url, &token);
    let api = contoso().await;
    let connector = upload_contoso(&admin, &api).await;
    let first = connect(&admin, &connector).await;
    let second = connect(&admin, &connector).await;
    let call = |connection: &str| format!("/api/connections/{connection}/operations/ListProjects");
    for _ in 0..2 {
        let (status, body) = admin.post(&call(&first), json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    let response = admin.raw(reqwest::Method::POST, &call(&first), Some(&json!({}))).await;
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((20..=31).contains(&retry_after), "Retry-After {retry_after}");
    let (status, _) = admin.post(&call(&second), json!({})).await;
    assert_eq!(status, 200, "each connection has its own limit");
    server.shutdown().await.unwrap();
    store.close().await;
    api.shutdown().await.unwrap();
});
