//! The polling trigger: 202 + Location + Retry-After, 200 with new or changed tasks.

use serde_json::json;

use crate::common::{error_code, header, json_of, start};

#[tokio::test]
async fn polling_trigger_protocol() {
    let s = start().await;
    let p = s.create_project("Watched").await;
    let pid = p["id"].as_str().unwrap();
    s.create_task(pid, "before the trigger existed").await;

    // First poll: establishes the cursor, returns nothing.
    let first = s.get(&format!("/tasks/poll?projectId={pid}")).await;
    assert_eq!(first.status(), 202);
    assert_eq!(header(&first, "retry-after"), "1");
    let location = header(&first, "location");
    assert!(location.starts_with(&s.url("/tasks/poll?")), "{location}");
    assert!(location.contains(&format!("projectId={pid}")), "{location}");
    assert!(location.contains("since="), "{location}");
    assert!(first.bytes().await.unwrap().is_empty());

    // Nothing new yet.
    let idle = s.get(&location).await;
    assert_eq!(idle.status(), 202);
    assert_eq!(header(&idle, "location"), location);

    // A new task fires.
    let task = s.create_task(pid, "new").await;
    let fired = s.get(&location).await;
    let next = header(&fired, "location");
    assert_ne!(next, location, "the cursor advances");
    let body = json_of(fired, 200).await;
    assert_eq!(body["value"], json!([task]));

    // And is not reported again.
    let again = s.get(&next).await;
    assert_eq!(again.status(), 202);
    assert_eq!(header(&again, "retry-after"), "1");
    let next = header(&again, "location");

    // Changes fire too, in change order, one item per task.
    let t2 = s.create_task(pid, "second").await;
    s.patch(&format!("/tasks/{}", task["id"].as_str().unwrap()), &json!({ "completed": true })).await;
    let fired = s.get(&next).await;
    let body = json_of(fired, 200).await;
    let ids: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [t2["id"].as_str().unwrap(), task["id"].as_str().unwrap()]);
    assert_eq!(body["value"][1]["completed"], true);
}

#[tokio::test]
async fn polling_filters_by_project() {
    let s = start().await;
    let a = s.create_project("A").await;
    let b = s.create_project("B").await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let watch_a = header(&s.get(&format!("/tasks/poll?projectId={aid}")).await, "location");
    let watch_all = header(&s.get("/tasks/poll").await, "location");
    assert!(!watch_all.contains("projectId"));

    let in_b = s.create_task(bid, "in B").await;
    assert_eq!(s.get(&watch_a).await.status(), 202);
    let all = json_of(s.get(&watch_all).await, 200).await;
    assert_eq!(all["value"], json!([in_b]));

    let in_a = s.create_task(aid, "in A").await;
    let only_a = json_of(s.get(&watch_a).await, 200).await;
    assert_eq!(only_a["value"], json!([in_a]));

    assert_eq!(error_code(s.get("/tasks/poll?projectId=proj-99").await, 404).await, "NotFound");
    assert_eq!(error_code(s.get("/tasks/poll?since=abc").await, 400).await, "BadRequest");
    // A cursor from the future (e.g. after a restart) re-establishes the baseline.
    let reset = s.get("/tasks/poll?since=999999").await;
    assert_eq!(reset.status(), 202);
    assert!(!header(&reset, "location").contains("999999"));
}
