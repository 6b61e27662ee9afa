//! The crash test of durable runs: `kill -9` the server with 200 runs in flight; after a restart on
//! the same data every run finishes, and no action that had finished (recorded in the journal at the
//! moment of the kill) is executed again — the backend sees its idempotency key only once.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use patchbay_store::Store;
use serde_json::{Value, json};
use support::api::Api;
use support::node::Node;

/// Runs started before the kill.
const RUNS: usize = 200;

/// Every call the backend saw: its idempotency key, and whether it came after the restart.
type Calls = Arc<Mutex<Vec<(String, bool)>>>;

/// The backend: records each call's `Idempotency-Key`, works for 300 ms, answers `{"ok": true}`.
async fn work(
    State((calls, restarted)): State<(Calls, Arc<AtomicBool>)>,
    headers: HeaderMap,
) -> axum::Json<Value> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    calls.lock().expect("the log").push((key, restarted.load(Ordering::SeqCst)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    axum::Json(json!({"ok": true}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_a_kill_and_finished_actions_do_not_run_again() {
    let calls: Calls = Arc::default();
    let restarted = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let backend = listener.local_addr().expect("its address");
    let app = axum::Router::new()
        .route("/work", axum::routing::post(work))
        .route("/done", axum::routing::post(work))
        .with_state((calls.clone(), restarted.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let data = tempfile::tempdir().expect("a data folder");
    let data_dir = data.path().to_str().expect("UTF-8").to_owned();
    let args = ["--data-dir", data_dir.as_str(), "--allow-loopback", "--run-lease", "2"];
    let mut node = Node::start(&args, &[], true);
    let token = node.token.clone().expect("the admin token");
    let client = Api::new(&node.url, &token);
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Work": {"type": "Http", "runAfter": {}, "inputs": {"method": "POST", "uri": format!("http://{backend}/work"), "body": "@triggerBody()"}},
            "Done": {"type": "Http", "runAfter": {"Work": ["Succeeded"]}, "inputs": {"method": "POST", "uri": format!("http://{backend}/done"), "body": {"n": "@triggerBody()?['n']"}}}
        }
    });
    let flow = client.post_ok("/api/flows", json!({"name": "Crash", "definition": definition}), 201).await;
    let flow = flow["id"].as_str().expect("a flow id").to_owned();
    client.post_ok(&format!("/api/flows/{flow}/enable"), json!({}), 200).await;
    for n in 0..RUNS {
        client.post_ok(&format!("/api/flows/{flow}/run"), json!({"n": n}), 202).await;
    }
    // Kill once a quarter of the runs are done: the rest are queued or half-way.
    let done = |calls: &Calls| {
        calls.lock().expect("the log").iter().filter(|(key, _)| key.ends_with("/Done")).count()
    };
    for _ in 0..600 {
        if done(&calls) >= RUNS / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.kill();
    let done_at_kill = done(&calls);
    assert!(done_at_kill < RUNS, "the kill came with runs in flight ({done_at_kill} done)");

    // What the journal says had finished when the process died.
    let store = Store::open(&format!("sqlite://{data_dir}/patchbay.db")).await.expect("the store opens");
    let flow_id = patchbay_store::FlowId::from(flow.as_str());
    let runs = store.flows().list_runs(&flow_id, None, 1000).await.expect("the runs");
    assert_eq!(runs.len(), RUNS);
    let mut finished = HashSet::new();
    for run in &runs {
        for entry in store.flows().journal(&run.id).await.expect("a journal") {
            if entry.status == "Succeeded" {
                finished.insert(format!("{}/{}", run.id, entry.key));
            }
        }
    }
    store.close().await;

    restarted.store(true, Ordering::SeqCst);
    let node = Node::start(&args, &[], false);
    let client = Api::new(&node.url, &token);
    let mut statuses = HashMap::new();
    for _ in 0..600 {
        let (_, listed) =
            client.send(reqwest::Method::GET, &format!("/api/flows/{flow}/runs?limit=1000"), None).await;
        statuses.clear();
        for run in listed.as_array().cloned().unwrap_or_default() {
            *statuses.entry(run["status"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
        }
        if statuses.get("Succeeded") == Some(&RUNS) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses.get("Succeeded"), Some(&RUNS), "every run finishes after the restart: {statuses:?}");

    let log = calls.lock().expect("the log").clone();
    let again: Vec<&String> =
        log.iter().filter(|(key, after)| *after && finished.contains(key)).map(|(key, _)| key).collect();
    assert!(again.is_empty(), "finished actions ran again after the restart: {again:?}");
    let keys: HashSet<&String> = log.iter().map(|(key, _)| key).collect();
    assert_eq!(keys.len(), RUNS * 2, "every action of every run was called");
    println!(
        "{RUNS} runs, killed with {done_at_kill} done and {} actions recorded as finished; after the restart all {RUNS} succeeded, {} calls in all, 0 finished actions repeated, {} repeated that were in flight",
        finished.len(),
        log.len(),
        log.len() - keys.len()
    );
    drop(node);
}
