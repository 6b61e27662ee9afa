//! On-premises gateways end to end: a private API the server may not call (loopback is refused
//! by its SSRF guard) reached through a real agent over its WebSocket; large bodies both ways,
//! 100 calls at once, a caller giving up, agents killed and restarted, a cluster of two.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{Client, Harness, ServerConfigFor, TestDb};
use patchbay_gateway::agent::{AgentOptions, AllowList, run};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// What the private API saw.
#[derive(Default)]
struct Seen {
    /// `Via` headers of the requests, in order.
    via: std::sync::Mutex<Vec<String>>,
    /// Slow requests that ran to the end.
    completed: AtomicUsize,
    /// Slow requests dropped before the end (the caller went away).
    abandoned: AtomicUsize,
}

/// Counts a slow request as abandoned unless it completes.
struct SlowGuard(Arc<Seen>, bool);

impl Drop for SlowGuard {
    fn drop(&mut self) {
        let counter = if self.1 { &self.0.completed } else { &self.0.abandoned };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// A private API on 127.0.0.1: echo, a large answer, a slow answer.
async fn private_api() -> (std::net::SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let note = |seen: &Seen, headers: &HeaderMap| {
        let via = headers.get("via").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        seen.via.lock().unwrap().push(via);
    };
    let app = Router::new()
        .route(
            "/echo",
            post(
                move |State(seen): State<Arc<Seen>>, headers: HeaderMap, Json(body): Json<Value>| async move {
                    note(&seen, &headers);
                    Json(body)
                },
            ),
        )
        .route(
            "/big",
            get(|Query(query): Query<std::collections::HashMap<String, usize>>| async move {
                Json(json!({"data": "b".repeat(query["n"])}))
            }),
        )
        .route(
            "/slow",
            get(
                |State(seen): State<Arc<Seen>>,
                 Query(query): Query<std::collections::HashMap<String, u64>>| async move {
                    let mut guard = SlowGuard(seen, false);
                    tokio::time::sleep(Duration::from_millis(query["ms"])).await;
                    guard.1 = true;
                    Json(json!({"slept": query["ms"]}))
                },
            ),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

/// The private API's connector package, its host pointed at `addr`.
fn package(addr: std::net::SocketAddr) -> Value {
    let query = |name: &str| json!([{"name": name, "in": "query", "type": "integer", "required": true}]);
    let ok = json!({"200": {"description": "ok"}});
    let definition = json!({
        "swagger": "2.0",
        "info": {"title": "Private", "version": "1.0"},
        "host": addr.to_string(), "basePath": "/", "schemes": ["http"],
        "paths": {
            "/echo": {"post": {"operationId": "Echo", "responses": ok,
                "parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}}]}},
            "/big": {"get": {"operationId": "Big", "parameters": query("n"), "responses": ok}},
            "/slow": {"get": {"operationId": "Slow", "parameters": query("ms"), "responses": ok}}
        }
    });
    json!({"name": "Private", "apiDefinition": definition.to_string(), "apiProperties": "{\"properties\": {}}"})
}

/// A server that refuses loopback backends, the private API, a connection to it bound to a
/// gateway, and the gateway's token.
struct Setup {
    harness: Harness,
    api: std::net::SocketAddr,
    seen: Arc<Seen>,
    connection: String,
    gateway: String,
    token: String,
}

async fn setup(db: &TestDb) -> Setup {
    let config = patchbay_server::ServerConfig { allow_loopback: false, ..db.config() };
    let harness = Harness::start_with(db, config).await;
    let (api, seen) = private_api().await;
    let (status, body) = harness.admin.post("/api/connectors", package(api)).await;
    assert_eq!(status, 201, "{body}");
    let connector = body["id"].as_str().unwrap().to_owned();
    let (status, body) = harness
        .admin
        .post(
            &format!("/api/connectors/{connector}/connections"),
            json!({"displayName": "Private", "values": {}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let connection = body["id"].as_str().unwrap().to_owned();
    let (status, body) = harness.admin.post("/api/gateways", json!({"name": "Factory LAN"})).await;
    assert_eq!(status, 201, "{body}");
    let gateway = body["id"].as_str().unwrap().to_owned();
    let token = body["token"].as_str().unwrap().to_owned();
    Setup { harness, api, seen, connection, gateway, token }
}

impl Setup {
    /// Binds the connection to the gateway (or, with `false`, unbinds it).
    async fn bind(&self, bound: bool) {
        let gateway = if bound { json!(self.gateway) } else { Value::Null };
        let path = format!("/api/connections/{}/gateway", self.connection);
        let (status, body) = self.harness.admin.put(&path, json!({"gatewayId": gateway})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["gatewayId"], gateway);
    }

    /// Starts an agent named `name` that may reach `allow`.
    fn agent(&self, name: &str, allow: &[String]) -> JoinHandle<()> {
        start_agent(&self.harness, &self.token, name, allow)
    }

    /// Starts an agent allowed to reach the private API.
    fn allowed_agent(&self, name: &str) -> JoinHandle<()> {
        self.agent(name, &[self.api.to_string()])
    }

    /// Waits until the gateway shows `count` connected agents; answers its view.
    async fn wait_agents(&self, count: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.harness.admin.get(&format!("/api/gateways/{}", self.gateway)).await;
            assert_eq!(status, 200, "{body}");
            if body["status"]["agents"].as_array().unwrap().len() == count {
                return body;
            }
            assert!(Instant::now() < deadline, "{count} agents never showed: {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Invokes `operation` of the connection.
    async fn invoke(&self, operation: &str, inputs: Value) -> (u16, Value) {
        invoke(&self.harness.admin, &self.connection, operation, inputs).await
    }
}

/// Starts an agent of the gateway whose token is `token`, named `name`, that may reach `allow`.
fn start_agent(harness: &Harness, token: &str, name: &str, allow: &[String]) -> JoinHandle<()> {
    let server = harness.server.url.parse().unwrap();
    let options = AgentOptions::new(server, token, name, AllowList::parse(allow).unwrap());
    tokio::spawn(async move {
        let _ = run(options).await;
    })
}

async fn invoke(client: &Client, connection: &str, operation: &str, inputs: Value) -> (u16, Value) {
    client.post(&format!("/api/connections/{connection}/operations/{operation}"), inputs).await
}

/// The message of an error answer.
fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

server_test!(the_private_api_is_reached_only_through_the_agent_and_its_allow_list, |db| {
    let setup = setup(&db).await;
    let echo = json!({"body": {"hello": "private"}});
    let (status, body) = setup.invoke("Echo", echo.clone()).await;
    assert_eq!(status, 502, "the server may not call loopback itself: {body}");
    assert!(message(&body).contains("loopback"), "{body}");

    setup.bind(true).await;
    let started = Instant::now();
    let (status, body) = setup.invoke("Echo", echo.clone()).await;
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("no agent is connected"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(1), "fails fast, not after a timeout");

    let agent = setup.allowed_agent("edge-1");
    let view = setup.wait_agents(1).await;
    assert_eq!(view["status"]["agents"][0]["name"], "edge-1");
    let (status, body) = setup.invoke("Echo", echo.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 200);
    assert_eq!(body["body"], json!({"hello": "private"}));
    assert_eq!(setup.seen.via.lock().unwrap().last().unwrap(), "1.1 patchbay-gateway (edge-1)");
    agent.abort();
    setup.wait_agents(0).await;

    // An agent whose allow list lacks the API refuses to carry the call.
    let elsewhere = setup.agent("edge-2", &["127.0.0.1:9".to_owned()]);
    setup.wait_agents(1).await;
    let (status, body) = setup.invoke("Echo", echo).await;
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("not on this agent's allow list"), "{body}");
    elsewhere.abort();

    let view = setup.wait_agents(0).await;
    let traffic = &view["status"];
    assert_eq!((traffic["requests"].as_u64(), traffic["failures"].as_u64()), (Some(3), Some(2)), "{view}");
    assert!(traffic["bytesReceived"].as_u64().unwrap_or(0) > 0, "{view}");
    let (_, metrics) = setup.harness.admin.get("/metrics").await;
    let metrics = metrics.as_str().unwrap_or_default().to_owned();
    assert!(metrics.contains("patchbay_gateway_requests_total"), "{metrics}");
    assert!(metrics.contains("patchbay_gateway_agents"), "{metrics}");
    setup.harness.stop().await;
});

server_test!(large_bodies_both_ways_and_100_calls_at_once, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let _agent = setup.allowed_agent("edge");
    setup.wait_agents(1).await;

    let large = "x".repeat(6 * 1024 * 1024 + 17);
    let (status, body) = setup.invoke("Echo", json!({"body": {"data": large}})).await;
    assert_eq!((status, &body["status"]), (200, &json!(200)), "{}", message(&body));
    assert_eq!(body["body"]["data"].as_str().map(str::len), Some(large.len()));
    assert!(body["body"]["data"] == Value::String(large), "6 MiB went and came back intact");

    let n = 20 * 1024 * 1024;
    let (status, body) = setup.invoke("Big", json!({"n": n})).await;
    assert_eq!(status, 200, "{}", message(&body));
    assert_eq!(body["body"]["data"].as_str().map(str::len), Some(n));

    let calls = (0..100).map(|i| {
        let admin = setup.harness.admin.clone();
        let connection = setup.connection.clone();
        tokio::spawn(async move {
            let payload = json!({"call": i, "pad": "p".repeat(i * 1000)});
            let (status, body) = invoke(&admin, &connection, "Echo", json!({"body": payload})).await;
            (status, body["body"] == payload)
        })
    });
    for call in futures_util::future::join_all(calls).await {
        assert_eq!(call.unwrap(), (200, true), "each of 100 concurrent calls gets its own answer");
    }
    setup.harness.stop().await;
});

server_test!(a_caller_that_gives_up_cancels_the_call_at_the_destination, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let _agent = setup.allowed_agent("edge");
    setup.wait_agents(1).await;
    let impatient =
        reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().unwrap();
    let url = format!("{}/api/connections/{}/operations/Slow", setup.harness.server.url, setup.connection);
    let given_up =
        impatient.post(url).bearer_auth(setup.harness.admin.token()).json(&json!({"ms": 20000})).send().await;
    assert!(given_up.is_err(), "the caller timed out");
    let deadline = Instant::now() + Duration::from_secs(5);
    while setup.seen.abandoned.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the destination never saw the call abandoned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(setup.seen.completed.load(Ordering::SeqCst), 0);
    let view = setup.wait_agents(1).await;
    assert_eq!(view["status"]["agents"][0]["inFlight"], 0, "{view}");
    setup.harness.stop().await;
});

server_test!(an_agent_killed_midway_fails_its_calls_cleanly_and_a_restarted_one_serves_again, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let agent = setup.allowed_agent("edge");
    setup.wait_agents(1).await;
    let in_flight: Vec<_> = (0..10)
        .map(|_| {
            let admin = setup.harness.admin.clone();
            let connection = setup.connection.clone();
            tokio::spawn(async move { invoke(&admin, &connection, "Slow", json!({"ms": 3000})).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let killed = Instant::now();
    agent.abort();
    for call in futures_util::future::join_all(in_flight).await {
        let (status, body) = call.unwrap();
        assert_eq!(status, 502, "{body}");
        assert!(message(&body).contains("agent disconnected"), "{body}");
    }
    assert!(
        killed.elapsed() < Duration::from_secs(2),
        "in-flight calls fail at once: {:?}",
        killed.elapsed()
    );
    let (status, body) = setup.invoke("Echo", json!({"body": {"n": 1}})).await;
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("no agent is connected"), "{body}");

    let _restarted = setup.allowed_agent("edge");
    setup.wait_agents(1).await;
    let (status, body) = setup.invoke("Echo", json!({"body": {"n": 2}})).await;
    assert_eq!((status, &body["body"]), (200, &json!({"n": 2})), "{body}");
    setup.harness.stop().await;
});

server_test!(two_agents_share_the_calls_and_the_survivor_takes_them_all, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let first = setup.allowed_agent("edge-a");
    let _second = setup.allowed_agent("edge-b");
    setup.wait_agents(2).await;
    for i in 0..10 {
        let (status, body) = setup.invoke("Echo", json!({"body": {"i": i}})).await;
        assert_eq!(status, 200, "{body}");
    }
    let via: Vec<String> = std::mem::take(&mut *setup.seen.via.lock().unwrap());
    for name in ["edge-a", "edge-b"] {
        assert!(via.iter().filter(|v| v.contains(name)).count() >= 3, "{name} carried a share: {via:?}");
    }
    first.abort();
    setup.wait_agents(1).await;
    for i in 0..10 {
        let (status, body) = setup.invoke("Echo", json!({"body": {"i": i}})).await;
        assert_eq!(status, 200, "{body}");
    }
    let via = setup.seen.via.lock().unwrap().clone();
    assert!(via.iter().all(|v| v.contains("edge-b")), "{via:?}");
    setup.harness.stop().await;
});

server_test!(polls_and_webhook_subscriptions_of_a_bound_connection_go_through_the_agent, |db| {
    let config = patchbay_server::ServerConfig { allow_loopback: false, ..db.config() };
    let h = Harness::start_with(&db, config).await;
    let api = common::contoso().await;
    let connector = common::upload_contoso(&h.admin, &api).await;
    let connection = common::connect(&h.admin, &connector).await;
    let (_, gateway) = h.admin.post("/api/gateways", json!({"name": "lan"})).await;
    let path = format!("/api/connections/{connection}/gateway");
    let (status, bound) = h.admin.put(&path, json!({"gatewayId": gateway["id"]})).await;
    assert_eq!(status, 200, "{bound}");
    let _agent = start_agent(&h, gateway["token"].as_str().unwrap(), "edge", &[api.addr.to_string()]);
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, project) = common::create_project(&h.admin, &connection, "Through").await;
        last = project;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last["body"]["id"].is_string(), "the agent carried the first call: {last}");
    let (_, project) = common::create_project(&h.admin, &connection, "Watched").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();

    let body =
        json!({"operationId": "OnNewOrUpdatedTasks", "inputs": {"projectId": project}, "enabled": false});
    let (status, polling) = h.admin.post(&format!("/api/connections/{connection}/triggers"), body).await;
    assert_eq!(status, 201, "{polling}");
    let poll = format!("/api/triggers/{}/poll", polling["id"].as_str().unwrap());
    let (_, first) = h.admin.post(&poll, json!({})).await;
    assert_eq!((&first["outcome"], &first["backendStatus"]), (&json!("nothing_new"), &json!(202)), "{first}");
    let create_task = format!("/api/connections/{connection}/operations/CreateTask");
    let (status, _) = h.admin.post(&create_task, json!({"projectId": project, "body": {"title": "T"}})).await;
    assert_eq!(status, 200);
    let (_, second) = h.admin.post(&poll, json!({})).await;
    assert_eq!((&second["outcome"], &second["eventsStored"]), (&json!("fired"), &json!(1)), "{second}");

    let body = json!({"operationId": "OnTaskEvent", "inputs": {"body": {"event": "taskCreated", "projectId": project}}});
    let (status, webhook) = h.admin.post(&format!("/api/connections/{connection}/triggers"), body).await;
    assert_eq!(status, 201, "{webhook}");
    assert_eq!(webhook["subscriptions"][0]["status"], "active", "subscribed through the agent: {webhook}");
    let disable = format!("/api/triggers/{}/disable", webhook["id"].as_str().unwrap());
    let (status, disabled) = h.admin.post(&disable, json!({})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["removals"][0]["removed"], true, "unsubscribed through the agent: {disabled}");

    let (_, view) = h.admin.get(&format!("/api/gateways/{}", gateway["id"].as_str().unwrap())).await;
    assert!(view["status"]["requests"].as_u64().unwrap() >= 7, "{view}");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_node_without_the_agent_forwards_calls_to_the_node_that_holds_it, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let config = patchbay_server::ServerConfig { allow_loopback: false, ..db.config() };
    let other = patchbay_server::start_with_store(config, setup.harness.store.clone()).await.unwrap();
    let admin_there = setup.harness.admin.with_base(&other.url);
    let agent = setup.allowed_agent("edge");
    setup.wait_agents(1).await;
    let (status, body) =
        invoke(&admin_there, &setup.connection, "Echo", json!({"body": {"via": "node 2"}})).await;
    assert_eq!((status, &body["body"]), (200, &json!({"via": "node 2"})), "forwarded to node 1: {body}");
    let (status, body) = invoke(&admin_there, &setup.connection, "Big", json!({"n": 300_000})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"]["data"].as_str().map(str::len), Some(300_000));

    // Without the nodes' credential the relay route refuses, whoever asks.
    let relay = format!("/api/gateways/{}/relay", setup.gateway);
    assert_eq!(setup.harness.admin.post(&relay, json!({})).await.0, 401);

    agent.abort();
    setup.wait_agents(0).await;
    let started = Instant::now();
    let (status, body) = invoke(&admin_there, &setup.connection, "Echo", json!({"body": {}})).await;
    assert_eq!(status, 502, "{body}");
    assert!(message(&body).contains("no agent is connected"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(1));
    other.shutdown().await.unwrap();
    setup.harness.stop().await;
});

server_test!(a_flow_action_on_a_bound_connection_goes_through_the_agent, |db| {
    let setup = setup(&db).await;
    setup.bind(true).await;
    let _agent = setup.allowed_agent("edge-flow");
    setup.wait_agents(1).await;
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Echo": {"type": "OpenApiConnection", "runAfter": {},
                "inputs": {"host": {"connectionName": "private", "operationId": "Echo"},
                           "parameters": {"body": "@triggerBody()"}}},
            "Answer": {"type": "Response", "runAfter": {"Echo": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": "@body('Echo')"}}
        }
    });
    let body =
        json!({"name": "Through", "definition": definition, "connections": {"private": setup.connection}});
    let (status, flow) = setup.harness.admin.post("/api/flows", body).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    let (status, enabled) = setup.harness.admin.post(&format!("/api/flows/{flow}/enable"), json!({})).await;
    assert_eq!(status, 200, "{enabled}");
    let (status, answer) =
        setup.harness.admin.post(&format!("/api/flows/{flow}/run"), json!({"from": "a flow"})).await;
    assert_eq!((status, answer), (200, json!({"from": "a flow"})));
    assert_eq!(setup.seen.via.lock().unwrap().last().unwrap(), "1.1 patchbay-gateway (edge-flow)");
    setup.harness.stop().await;
});
