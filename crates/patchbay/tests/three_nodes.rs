//! Three `patchbay serve` processes on one PostgreSQL schema share 200 polling triggers through
//! leases and `SKIP LOCKED`: while all run, no poll runs twice; after one is killed with SIGKILL its
//! triggers go on (another node takes them once its leases expire); every item is stored once.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchbay_store::testing::{Kind, TestDb};
use serde::Deserialize;
use serde_json::{Value, json};
use support::api::Api;
use support::node::Node;

/// Triggers shared by the nodes.
const TRIGGERS: usize = 200;
/// The nodes' lease on a claimed poll, in seconds.
const LEASE_SECS: u64 = 3;

/// Every poll the backend saw: (trigger, state n) and when.
type Seen = Arc<Mutex<Vec<(String, u64, Instant)>>>;

#[derive(Deserialize)]
struct Cursor {
    n: Option<u64>,
}

/// `GET /poll/{t}?n=`: the first poll sets the baseline (202, Location n=1); then each poll
/// answers one item `t-n` and the Location of n+1.
async fn poll(
    State((seen, base)): State<(Seen, String)>,
    Path(t): Path<String>,
    Query(cursor): Query<Cursor>,
) -> Response {
    let next = cursor.n.map_or(1, |n| n + 1);
    let location = format!("{base}/poll/{t}?n={next}");
    let Some(n) = cursor.n else {
        return (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(Value::Null)).into_response();
    };
    seen.lock().expect("the log").push((t.clone(), n, Instant::now()));
    let body = json!({"value": [{"id": format!("{t}-{n}")}]});
    (StatusCode::OK, [(header::LOCATION, location)], Json(body)).into_response()
}

/// The ticker's connector: one batch polling trigger.
fn ticker_definition(host: &str) -> String {
    json!({
        "swagger": "2.0",
        "info": {"title": "Ticker", "version": "1.0", "description": "Counts polls."},
        "host": host, "basePath": "/", "schemes": ["http"],
        "paths": {"/poll/{t}": {"get": {
            "operationId": "OnTick", "summary": "When it ticks", "description": "One item per poll.",
            "x-ms-trigger": "batch",
            "parameters": [
                {"name": "t", "in": "path", "required": true, "type": "string"},
                {"name": "n", "in": "query", "required": false, "type": "integer", "x-ms-visibility": "internal"}
            ],
            "responses": {
                "200": {"description": "Ticks", "schema": {"type": "object", "properties": {"value": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}}}}},
                "202": {"description": "Nothing new"}
            }
        }}}
    })
    .to_string()
}

/// The polls a node has run, from its metrics.
async fn polls_of(url: &str) -> u64 {
    let text = reqwest::get(format!("{url}/metrics")).await.expect("metrics").text().await.expect("text");
    text.lines()
        .filter(|line| line.starts_with("patchbay_trigger_polls_total"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_schedule_and_survive_a_kill() {
    let db = TestDb::create(Kind::Postgres).await;
    let (database_url, schema) = db.postgres().expect("PostgreSQL");
    let (database_url, schema) = (database_url.to_owned(), schema.to_owned());

    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let backend = listener.local_addr().expect("its address");
    let app = axum::Router::new()
        .route("/poll/{t}", axum::routing::get(poll))
        .with_state((seen.clone(), format!("http://{backend}")));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("a data folder")).collect();
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let lease = LEASE_SECS.to_string();
    let start = |index: usize, first: bool, extra: &[&str]| {
        let dir = dirs[index].path().to_str().expect("UTF-8").to_owned();
        let node_id = format!("node-{index}");
        let args = [
            "--data-dir",
            dir.as_str(),
            "--database-url",
            database_url.as_str(),
            "--database-schema",
            schema.as_str(),
            "--allow-loopback",
            "--trigger-lease",
            lease.as_str(),
            "--node-id",
            node_id.as_str(),
        ];
        let args: Vec<&str> = args.iter().chain(extra).copied().collect();
        Node::start(&args, &[("PATCHBAY_SECRET_KEY", key)], first)
    };
    let first = start(0, true, &[]);
    let mut nodes = vec![first, start(1, false, &[]), start(2, false, &[])];
    let client = Api::new(&nodes[0].url, nodes[0].token.as_deref().expect("the admin token"));
    let properties = json!({"properties": {"connectionParameters": {}, "publisher": "patchbay tests", "stackOwner": "patchbay"}});
    let connector =
        client.upload("Ticker", &ticker_definition(&backend.to_string()), &properties.to_string()).await;
    let connection = client.connect(&connector, None, json!({})).await;
    let mut triggers = Vec::new();
    for t in 0..TRIGGERS {
        let body = json!({"operationId": "OnTick", "inputs": {"t": format!("t{t}")}, "recurrenceSeconds": 1});
        let created = client.post_ok(&format!("/api/connections/{connection}/triggers"), body, 201).await;
        triggers.push(created["id"].as_str().expect("an id").to_owned());
    }

    tokio::time::sleep(Duration::from_secs(8)).await;
    let before: Vec<u64> = polls_per_node(&nodes).await;
    assert!(before.iter().all(|polls| *polls > 0), "every node polls its share: {before:?}");
    nodes[1].kill();
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(LEASE_SECS + 7)).await;
    for node in &mut nodes {
        node.kill();
    }
    let end = Instant::now();

    // No poll ran twice, except polls in flight on the killed node (re-run after its lease).
    let log = seen.lock().expect("the log").clone();
    let mut by_state: HashMap<(String, u64), Vec<Instant>> = HashMap::new();
    for (t, n, at) in &log {
        by_state.entry((t.clone(), *n)).or_default().push(*at);
    }
    let repeated: Vec<_> = by_state.iter().filter(|(_, times)| times.len() > 1).collect();
    for ((t, n), times) in &repeated {
        let first = times.iter().min().expect("a time");
        assert!(
            *first <= killed_at && killed_at.duration_since(*first) < Duration::from_secs(2),
            "{t} n={n} was polled {} times, not only around the kill",
            times.len()
        );
    }
    assert!(repeated.len() <= 64, "at most the killed node's polls in flight are re-run: {}", repeated.len());

    // Every trigger went on after the kill: polled after the killed node's leases expired.
    let resumed = killed_at + Duration::from_secs(LEASE_SECS + 1);
    let mut stalled = Vec::new();
    for t in 0..TRIGGERS {
        let name = format!("t{t}");
        if !log.iter().any(|(seen_t, _, at)| *seen_t == name && *at > resumed && *at < end) {
            stalled.push(name);
        }
    }
    assert!(stalled.is_empty(), "triggers stopped with the killed node: {stalled:?}");

    // Each item is stored exactly once, and every item polled (but the last polls in flight) is stored.
    let restarted = start(0, false, &["--no-scheduler"]);
    let reader = Api::new(&restarted.url, nodes[0].token.as_deref().expect("the token"));
    let mut stored = std::collections::HashSet::new();
    for trigger in &triggers {
        let events = reader.all_events(trigger).await;
        for event in &events {
            let id = event["body"]["id"].as_str().expect("an item").to_owned();
            assert!(stored.insert(id.clone()), "trigger {trigger} stored {id} twice");
        }
    }
    let settled = end - Duration::from_secs(2);
    let lost: Vec<String> = by_state
        .iter()
        .filter(|(_, times)| times.iter().min().is_some_and(|first| *first < settled))
        .map(|((t, n), _)| format!("{t}-{n}"))
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(lost.is_empty(), "polled but not stored: {lost:?}");
    let stored = stored.len();
    println!(
        "{TRIGGERS} triggers on 3 nodes: {} polls, {} stored items, polls per node before the kill {before:?}, {} re-run after the kill",
        log.len(),
        stored,
        repeated.len()
    );
    drop(restarted);
    db.cleanup().await;
}

/// The polls each node ran so far.
async fn polls_per_node(nodes: &[Node]) -> Vec<u64> {
    let mut counts = Vec::new();
    for node in nodes {
        counts.push(polls_of(&node.url).await);
    }
    counts
}
