//! Webhook triggers through the server against the real sample API: enabling subscribes with a
//! callback URL carrying an unguessable secret, three notifications are stored as three events,
//! disabling unsubscribes (the backend's subscription is gone), and a later notification is refused
//! and stores nothing. The callback checks its secret, its body size, and keeps what it stores.

mod common;

use std::time::Duration;

use common::{Client, Harness, connect, contoso, create_project, upload_contoso};
use serde_json::{Value, json};

/// The trigger's events (waiting up to `wait` s for the first).
async fn events(client: &Client, trigger: &str, wait: u64) -> Vec<Value> {
    let (status, page) = client.get(&format!("/api/triggers/{trigger}/events?wait={wait}")).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().cloned().unwrap_or_default()
}

/// Waits (up to 60 s) until the trigger has `count` events; answers them. A listing that already
/// has some events comes back at once, so the loop pauses between looks.
async fn wait_for_events(client: &Client, trigger: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let listed = events(client, trigger, 1).await;
        if listed.len() >= count {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} events did not arrive in 60 s");
}

/// The backend's webhook subscriptions, through the connection.
async fn backend_hooks(client: &Client, connection: &str) -> Vec<Value> {
    let (status, hooks) =
        client.post(&format!("/api/connections/{connection}/operations/ListHooks"), json!({})).await;
    assert_eq!(status, 200, "{hooks}");
    hooks["body"]["value"].as_array().cloned().unwrap_or_default()
}

server_test!(subscribe_notify_three_times_unsubscribe_then_refuse, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, project) = create_project(&h.admin, &connection, "Hooked").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();

    let body = json!({"operationId": "OnTaskEvent", "inputs": {"body": {"event": "taskCreated", "projectId": project}}});
    let (status, trigger) = h.admin.post(&format!("/api/connections/{connection}/triggers"), body).await;
    assert_eq!(status, 201, "{trigger}");
    assert_eq!(trigger["kind"], "webhook");
    let id = trigger["id"].as_str().unwrap().to_owned();
    let subscription = &trigger["subscriptions"][0];
    assert_eq!(subscription["status"], "active", "{trigger}");
    assert!(subscription["location"].as_str().unwrap().contains("/hooks/"), "{trigger}");
    assert!(subscription.get("secret").is_none() && !trigger.to_string().contains("secretHash"));

    // The backend holds one subscription whose callback is ours, with a secret in it.
    let hooks = backend_hooks(&h.admin, &connection).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let callback = hooks[0]["callbackUrl"].as_str().unwrap().to_owned();
    let prefix = format!("{}/hooks/{}/", h.server.url, subscription["id"].as_str().unwrap());
    assert!(callback.starts_with(&prefix), "{callback}");
    assert!(callback.len() >= prefix.len() + 32, "the secret is long enough not to be guessed");

    for title in ["A", "B", "C"] {
        let path = format!("/api/connections/{connection}/operations/CreateTask");
        let (status, _) = h.admin.post(&path, json!({"projectId": project, "body": {"title": title}})).await;
        assert_eq!(status, 200);
    }
    let stored = wait_for_events(&h.admin, &id, 3).await;
    assert_eq!(stored.len(), 3);
    let mut titles: Vec<&str> =
        stored.iter().map(|event| event["body"]["task"]["title"].as_str().unwrap()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["A", "B", "C"]);
    assert!(stored.iter().all(|event| event["source"] == "webhook" && event["headers"]["x-contoso-event"] == "taskCreated"));

    // Disable: the subscription is removed at the backend and marked removed here.
    let (status, disabled) = h.admin.post(&format!("/api/triggers/{id}/disable"), json!({})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["removals"][0]["removed"], true, "{disabled}");
    assert_eq!(disabled["subscriptions"][0]["status"], "removed");
    assert!(backend_hooks(&h.admin, &connection).await.is_empty(), "the backend's subscription is gone");

    // A later notification on the old URL is refused and stores nothing.
    let http = reqwest::Client::new();
    let late = http.post(&callback).json(&json!({"event": "late"})).send().await.unwrap();
    assert_eq!(late.status().as_u16(), 404);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(events(&h.admin, &id, 0).await.len(), 3);

    // Enabled again: a new subscription with a new secret.
    let (status, enabled) = h.admin.post(&format!("/api/triggers/{id}/enable"), json!({})).await;
    assert_eq!(status, 200, "{enabled}");
    let hooks = backend_hooks(&h.admin, &connection).await;
    assert_eq!(hooks.len(), 1);
    assert_ne!(hooks[0]["callbackUrl"].as_str().unwrap(), callback);
    // Deleting unsubscribes too.
    assert_eq!(h.admin.delete(&format!("/api/triggers/{id}")).await.0, 204);
    assert!(backend_hooks(&h.admin, &connection).await.is_empty());
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(the_callback_checks_secret_and_size_and_keeps_any_body, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let body = json!({"operationId": "OnTaskEvent", "inputs": {"body": {"event": "taskCompleted"}}});
    let (_, trigger) = h.admin.post(&format!("/api/connections/{connection}/triggers"), body).await;
    let id = trigger["id"].as_str().unwrap().to_owned();
    let hooks = backend_hooks(&h.admin, &connection).await;
    let callback = hooks[0]["callbackUrl"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();

    // A wrong secret, an unknown subscription: 404, nothing stored.
    let (base, secret) = callback.rsplit_once('/').unwrap();
    let wrong = format!("{base}/{}", "0".repeat(secret.len()));
    assert_eq!(http.post(&wrong).json(&json!({})).send().await.unwrap().status().as_u16(), 404);
    let unknown = format!("{}/hooks/sub_unknown/{secret}", h.server.url);
    assert_eq!(http.post(&unknown).json(&json!({})).send().await.unwrap().status().as_u16(), 404);
    // Too large: 413.
    let huge = "x".repeat(2 * 1024 * 1024);
    assert_eq!(http.post(&callback).body(huge).send().await.unwrap().status().as_u16(), 413);
    assert!(events(&h.admin, &id, 0).await.is_empty());

    // Text and JSON bodies are kept; credentials in headers are not.
    let sent =
        http.post(&callback).header("authorization", "Bearer leak").body("plain words").send().await.unwrap();
    assert_eq!(sent.status().as_u16(), 202);
    let sent = http.post(&callback).json(&json!({"n": 1})).send().await.unwrap();
    assert_eq!(sent.status().as_u16(), 202);
    let stored = events(&h.admin, &id, 0).await;
    assert_eq!(stored[0]["body"], "plain words");
    assert!(stored[0]["headers"].get("authorization").is_none());
    assert_eq!(stored[1]["body"], json!({"n": 1}));
    h.stop().await;
    api.shutdown().await.unwrap();
});
