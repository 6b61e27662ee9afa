//! Polling triggers through the server: the state carried in `Location` across polls, batch
//! answers split into one event per item, de-duplication, failures that keep the state, and the
//! scheduler polling enabled triggers on its own (and stopping when disabled).

mod common;

use std::time::Duration;

use common::{Client, Harness, ServerConfigFor, connect, contoso, create_project, upload_contoso};
use patchbay_server::triggers::TriggerSettings;
use serde_json::{Value, json};

/// Creates a trigger on `connection`; answers its JSON.
async fn create_trigger(client: &Client, connection: &str, body: Value) -> Value {
    let (status, trigger) = client.post(&format!("/api/connections/{connection}/triggers"), body).await;
    assert_eq!(status, 201, "{trigger}");
    trigger
}

/// Creates a task titled `title` in `project`.
async fn create_task(client: &Client, connection: &str, project: &str, title: &str) -> Value {
    let path = format!("/api/connections/{connection}/operations/CreateTask");
    let (status, task) = client.post(&path, json!({"projectId": project, "body": {"title": title}})).await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], 201, "{task}");
    task["body"].clone()
}

/// One poll now; answers the report.
async fn poll_now(client: &Client, trigger: &str) -> Value {
    let (status, report) = client.post(&format!("/api/triggers/{trigger}/poll"), json!({})).await;
    assert_eq!(status, 200, "{report}");
    report
}

/// The trigger's events after `after`.
async fn events(client: &Client, trigger: &str, after: i64, wait: u64) -> Vec<Value> {
    let (status, page) =
        client.get(&format!("/api/triggers/{trigger}/events?after={after}&wait={wait}")).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().cloned().unwrap_or_default()
}

server_test!(the_state_travels_in_location_and_each_new_task_is_one_event, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, project) = create_project(&h.admin, &connection, "Polled").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    let body = json!({"operationId": "OnNewOrUpdatedTasks", "inputs": {"projectId": project}, "enabled": false, "dedupPath": "id"});
    let trigger = create_trigger(&h.admin, &connection, body).await;
    let id = trigger["id"].as_str().unwrap().to_owned();
    assert_eq!(trigger["kind"], "polling");

    // The first poll only sets the baseline: 202 with a Location that carries the cursor.
    let first = poll_now(&h.admin, &id).await;
    assert_eq!(first["outcome"], "nothing_new", "{first}");
    assert_eq!(first["backendStatus"], 202);
    assert!(first["exchanges"][0]["request"].as_str().unwrap().contains("/tasks/poll"), "{first}");
    let (_, stored) = h.admin.get(&format!("/api/triggers/{id}")).await;
    let location = stored["state"]["location"].as_str().expect("the Location is the state").to_owned();
    assert!(location.contains("since="), "{location}");

    create_task(&h.admin, &connection, &project, "One").await;
    create_task(&h.admin, &connection, &project, "Two").await;
    let second = poll_now(&h.admin, &id).await;
    assert_eq!(second["outcome"], "fired", "{second}");
    assert_eq!(second["eventsStored"], 2, "a batch answer is one event per task: {second}");
    assert!(
        second["exchanges"][0]["request"].as_str().unwrap().contains("since="),
        "the next poll calls the Location"
    );
    let listed = events(&h.admin, &id, 0, 0).await;
    let titles: Vec<&str> = listed.iter().map(|event| event["body"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["One", "Two"]);
    assert!(listed.iter().all(|event| event["source"] == "poll"));

    // Nothing new: 202, the cursor stays where it was, nothing stored.
    let third = poll_now(&h.admin, &id).await;
    assert_eq!(third["outcome"], "nothing_new", "{third}");
    assert_eq!(events(&h.admin, &id, 0, 0).await.len(), 2);

    // A third task fires alone; the first two are not replayed.
    create_task(&h.admin, &connection, &project, "Three").await;
    let fourth = poll_now(&h.admin, &id).await;
    assert_eq!(fourth["eventsStored"], 1, "{fourth}");
    let after = listed.last().unwrap()["seq"].as_i64().unwrap();
    let newer = events(&h.admin, &id, after, 0).await;
    assert_eq!(newer.len(), 1);
    assert_eq!(newer[0]["body"]["title"], "Three");

    // Only the owner sees the trigger.
    let (_, stranger) = h.user("stranger@example.com").await;
    assert_eq!(stranger.get(&format!("/api/triggers/{id}")).await.0, 404);
    assert_eq!(stranger.post(&format!("/api/triggers/{id}/poll"), json!({})).await.0, 404);
    assert_eq!(stranger.get(&format!("/api/triggers/{id}/events")).await.0, 404);
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_failing_backend_keeps_the_state_and_records_the_error, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let body = json!({"operationId": "OnNewOrUpdatedTasks", "inputs": {"projectId": "no-such-project"}, "enabled": false});
    let trigger = create_trigger(&h.admin, &connection, body).await;
    let id = trigger["id"].as_str().unwrap();
    let report = poll_now(&h.admin, id).await;
    assert_eq!(report["outcome"], "failed", "{report}");
    assert_eq!(report["backendStatus"], 404);
    let (_, stored) = h.admin.get(&format!("/api/triggers/{id}")).await;
    assert_eq!(stored["lastStatus"], "failed");
    assert!(stored["lastError"].as_str().unwrap().contains("404"), "{stored}");
    assert!(stored["state"].get("location").is_none(), "a failed poll does not move the state: {stored}");
    assert!(events(&h.admin, id, 0, 0).await.is_empty());

    // Not a trigger, or not an operation at all: said plainly.
    let (status, body) = h
        .admin
        .post(&format!("/api/connections/{connection}/triggers"), json!({"operationId": "ListProjects"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("not_a_trigger")), "{body}");
    let (status, _) = h
        .admin
        .post(&format!("/api/connections/{connection}/triggers"), json!({"operationId": "Nope"}))
        .await;
    assert_eq!(status, 404);
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(the_scheduler_polls_enabled_triggers_and_stops_when_disabled, |db| {
    let settings =
        TriggerSettings { minimum_interval: Duration::from_millis(100), ..TriggerSettings::default() };
    let config = patchbay_server::ServerConfig { triggers: settings, ..db.config() };
    let h = Harness::start_with(&db, config).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, project) = create_project(&h.admin, &connection, "Scheduled").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    let body = json!({"operationId": "OnNewOrUpdatedTasks", "inputs": {"projectId": project}, "recurrenceSeconds": 0.2});
    let trigger = create_trigger(&h.admin, &connection, body).await;
    let id = trigger["id"].as_str().unwrap().to_owned();
    assert_eq!(trigger["enabled"], true);

    // Wait for the baseline poll, then a new task arrives as an event without anyone asking.
    let mut baseline = false;
    for _ in 0..100 {
        let (_, stored) = h.admin.get(&format!("/api/triggers/{id}")).await;
        if stored["state"]["location"].is_string() {
            baseline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(baseline, "the scheduler made the first poll");
    create_task(&h.admin, &connection, &project, "Scheduled task").await;
    let arrived = events(&h.admin, &id, 0, 15).await;
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_eq!(arrived[0]["body"]["title"], "Scheduled task");

    // Disabled: no more polls.
    let (status, disabled) = h.admin.post(&format!("/api/triggers/{id}/disable"), json!({})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["nextDueMs"], Value::Null);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, before) = h.admin.get(&format!("/api/triggers/{id}")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, after) = h.admin.get(&format!("/api/triggers/{id}")).await;
    assert_eq!(before["lastPollMs"], after["lastPollMs"], "a disabled trigger is not polled");
    assert_eq!(h.admin.delete(&format!("/api/triggers/{id}")).await.0, 204);
    assert_eq!(h.admin.get(&format!("/api/triggers/{id}")).await.0, 404);
    h.stop().await;
    api.shutdown().await.unwrap();
});
