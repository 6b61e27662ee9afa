//! The crash test of webhook intake: `kill -9` the server during a burst of 1,000 notifications;
//! after a restart on the same data, every notification that got a 2xx is stored exactly once
//! (and none is stored twice).

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::api::Api;
use support::node::Node;
use tokio::sync::Semaphore;

/// Notifications sent in the burst.
const BURST: usize = 1000;
/// Acknowledged notifications after which the server is killed.
const KILL_AFTER: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_notification_survives_a_kill_exactly_once() {
    let api = contoso_tasks::start(contoso_tasks::Config::default()).await.expect("the sample API starts");
    let data = tempfile::tempdir().expect("a data folder");
    let data_dir = data.path().to_str().expect("a UTF-8 path").to_owned();
    let args = ["--data-dir", data_dir.as_str(), "--allow-loopback"];
    let node = Node::start(&args, &[], true);
    let client = Api::new(&node.url, node.token.as_deref().expect("the admin token"));

    let [(_, definition), (_, properties)] = contoso_tasks::CONNECTOR_PACKAGE;
    let host = api.addr.to_string();
    let connector = client
        .upload(
            "Contoso Tasks",
            &definition.replace("localhost:3000", &host),
            &properties.replace("localhost:3000", &host),
        )
        .await;
    let connection =
        client.connect(&connector, Some("apiKey"), json!({"api_key": contoso_tasks::DEMO_API_KEY})).await;
    let body = json!({"operationId": "OnTaskEvent", "inputs": {"body": {"event": "taskCreated"}}});
    let trigger = client.post_ok(&format!("/api/connections/{connection}/triggers"), body, 201).await;
    let trigger = trigger["id"].as_str().expect("a trigger id").to_owned();
    let hooks =
        client.post_ok(&format!("/api/connections/{connection}/operations/ListHooks"), json!({}), 200).await;
    let callback = hooks["body"]["value"][0]["callbackUrl"].as_str().expect("the callback URL").to_owned();

    // The burst, 32 at a time; the server dies after KILL_AFTER acknowledgements.
    let node = Arc::new(Mutex::new(node));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let slots = Arc::new(Semaphore::new(32));
    let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let mut sends = Vec::new();
    for n in 0..BURST {
        let slot = slots.clone().acquire_owned().await.expect("a slot");
        let (http, callback, acknowledged, count, node) =
            (http.clone(), callback.clone(), acknowledged.clone(), count.clone(), node.clone());
        sends.push(tokio::spawn(async move {
            let sent = http.post(&callback).json(&json!({"n": n})).send().await;
            if sent.is_ok_and(|response| response.status().is_success()) {
                acknowledged.lock().expect("the list").push(n);
                if count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                    node.lock().expect("the node").kill();
                }
            }
            drop(slot);
        }));
    }
    for send in sends {
        send.await.expect("a send task");
    }
    let acknowledged = acknowledged.lock().expect("the list").clone();
    assert!(acknowledged.len() >= KILL_AFTER, "the kill came during the burst");
    assert!(
        acknowledged.len() < BURST,
        "the kill interrupted the burst ({} acknowledged)",
        acknowledged.len()
    );
    node.lock().expect("the node").kill();

    // Restarted on the same data: every acknowledged notification is there, once.
    let restarted = Node::start(&args, &[], false);
    let client =
        Api::new(&restarted.url, node.lock().expect("the node").token.as_deref().expect("the token"));
    let events = client.all_events(&trigger).await;
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for event in &events {
        let n = event["body"]["n"].as_u64().unwrap_or_else(|| panic!("an event of the burst: {event}"));
        *seen.entry(n).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, times)| **times > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let lost: Vec<_> = acknowledged.iter().filter(|n| !seen.contains_key(&(**n as u64))).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    println!(
        "burst of {BURST}: {} acknowledged before the kill, {} stored, 0 lost, 0 duplicated",
        acknowledged.len(),
        events.len()
    );
    api.shutdown().await.expect("the sample API stops");
}
