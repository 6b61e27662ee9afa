//! The webhook trigger: subscriptions and real notifications to a local receiver.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use crate::common::{Receiver, error_code, header, json_of, start};

#[tokio::test]
async fn webhook_notifies_until_unsubscribed() {
    let s = start().await;
    let mut completed_rx = Receiver::start(0).await;
    let mut created_rx = Receiver::start(0).await;
    let p = s.create_project("Hooked").await;
    let pid = p["id"].as_str().unwrap();
    let other = s.create_project("Other").await;
    let other_id = other["id"].as_str().unwrap();

    let resp = s
        .post(
            "/hooks",
            &json!({ "callbackUrl": completed_rx.url, "event": "taskCompleted", "projectId": pid }),
        )
        .await;
    let location = header(&resp, "location");
    let hook = json_of(resp, 201).await;
    let hook_id = hook["id"].as_str().unwrap();
    assert_eq!(location, s.url(&format!("/hooks/{hook_id}")));
    assert_eq!(hook["event"], "taskCompleted");
    assert_eq!(hook["projectId"], pid);
    assert_eq!(hook["callbackUrl"], completed_rx.url.as_str());
    let created_hook = json_of(
        s.post("/hooks", &json!({ "callbackUrl": created_rx.url, "event": "taskCreated" })).await,
        201,
    )
    .await;
    let hooks = json_of(s.get("/hooks").await, 200).await;
    assert_eq!(hooks["value"], json!([hook, created_hook]));

    // Creating fires taskCreated (any project); completing fires taskCompleted.
    let task = s.create_task(pid, "Ship it").await;
    let tid = task["id"].as_str().unwrap();
    let (headers, created) = created_rx.next().await;
    assert_eq!(created["event"], "taskCreated");
    assert_eq!(created["task"], task);
    assert_eq!(headers["x-contoso-event"], "taskCreated");
    json_of(s.patch(&format!("/tasks/{tid}"), &json!({ "completed": true })).await, 200).await;
    let (headers, done) = completed_rx.next().await;
    assert_eq!(done["event"], "taskCompleted");
    assert_eq!(done["hookId"], hook_id);
    assert_eq!(done["task"]["id"], tid);
    assert_eq!(done["task"]["completed"], true);
    assert_eq!(headers["x-contoso-hook-id"], hook_id);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));

    // Completing an already completed task, or a task of another project, fires nothing.
    s.patch(&format!("/tasks/{tid}"), &json!({ "completed": true })).await;
    let other_task = s.create_task(other_id, "elsewhere").await;
    created_rx.next().await;
    s.patch(&format!("/tasks/{}", other_task["id"].as_str().unwrap()), &json!({ "completed": true })).await;

    // Unsubscribe: no more notifications.
    assert_eq!(s.delete(&location).await.status(), 204);
    assert_eq!(error_code(s.delete(&location).await, 404).await, "NotFound");
    let second = s.create_task(pid, "Second").await;
    s.patch(&format!("/tasks/{}", second["id"].as_str().unwrap()), &json!({ "completed": true })).await;
    // The still-subscribed taskCreated hook proves deliveries are flowing.
    let (_, created) = created_rx.next().await;
    assert_eq!(created["task"]["id"], second["id"]);
    assert!(
        completed_rx.next_within(Duration::from_millis(300)).await.is_none(),
        "no notification after the subscription was deleted"
    );
    assert_eq!(completed_rx.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn webhook_deliveries_are_retried() {
    let s = start().await;
    let mut rx = Receiver::start(2).await;
    s.post("/hooks", &json!({ "callbackUrl": rx.url, "event": "taskCreated" })).await;
    let p = s.create_project("P").await;
    let task = s.create_task(p["id"].as_str().unwrap(), "retry me").await;
    let (_, body) = rx.next().await;
    assert_eq!(body["task"]["id"], task["id"]);
    assert_eq!(rx.hits.load(Ordering::SeqCst), 3, "two failures, then success");
}

#[tokio::test]
async fn unreachable_callbacks_do_not_break_the_api() {
    let s = start().await;
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    s.post("/hooks", &json!({ "callbackUrl": "http://127.0.0.1:9/callback", "event": "taskCreated" })).await;
    let p = s.create_project("P").await;
    let pid = p["id"].as_str().unwrap();
    s.create_task(pid, "a").await;
    s.create_task(pid, "b").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tasks = json_of(s.get(&format!("/projects/{pid}/tasks")).await, 200).await;
    assert_eq!(tasks["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn subscriptions_are_validated() {
    let s = start().await;
    for body in [
        json!({ "event": "taskCreated" }),
        json!({ "callbackUrl": "not a url", "event": "taskCreated" }),
        json!({ "callbackUrl": "http://127.0.0.1:1/cb" }),
        json!({ "callbackUrl": "http://127.0.0.1:1/cb", "event": "taskDeleted" }),
    ] {
        assert_eq!(error_code(s.post("/hooks", &body).await, 400).await, "BadRequest", "{body}");
    }
    let unknown_project = s
        .post(
            "/hooks",
            &json!({ "callbackUrl": "http://127.0.0.1:1/cb", "event": "taskCreated", "projectId": "proj-42" }),
        )
        .await;
    assert_eq!(error_code(unknown_project, 404).await, "NotFound");
    assert_eq!(error_code(s.delete("/hooks/hook-7").await, 404).await, "NotFound");
    let hooks = json_of(s.get("/hooks").await, 200).await;
    assert_eq!(hooks["value"], json!([]));
}
