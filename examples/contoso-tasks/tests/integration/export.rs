//! The long-running export: 202 + Location + Retry-After, then 200 with the result.

use contoso_tasks::Config;
use serde_json::json;

use crate::common::{error_code, header, json_of, start, start_with, test_config};

#[tokio::test]
async fn export_is_a_long_running_action() {
    let s = start().await;
    let p = s.create_project("Export me").await;
    let pid = p["id"].as_str().unwrap();
    let t1 = s.create_task(pid, "one").await;
    let t2 = s.create_task(pid, "two").await;

    let started = s.post(&format!("/projects/{pid}/export"), &json!({})).await;
    assert_eq!(header(&started, "retry-after"), "1");
    let location = header(&started, "location");
    assert!(location.starts_with(&s.url("/jobs/")), "{location}");
    let body = json_of(started, 202).await;
    assert_eq!(body["status"], "running");

    let running = s.get(&location).await;
    assert_eq!(header(&running, "location"), location);
    assert_eq!(header(&running, "retry-after"), "1");
    assert_eq!(json_of(running, 202).await["status"], "running");

    let done = json_of(s.get(&location).await, 200).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["project"], p);
    assert_eq!(done["tasks"], json!([t1, t2]));
    // The finished result stays available.
    assert_eq!(json_of(s.get(&location).await, 200).await, done);
}

#[tokio::test]
async fn export_poll_count_is_configurable() {
    let s = start_with(Config { export_polls: 3, retry_after_secs: 7, ..test_config() }).await;
    let p = s.create_project("P").await;
    let started = s.post(&format!("/projects/{}/export", p["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(header(&started, "retry-after"), "7");
    let location = header(&started, "location");
    for _ in 0..3 {
        assert_eq!(s.get(&location).await.status(), 202);
    }
    assert_eq!(s.get(&location).await.status(), 200);
}

#[tokio::test]
async fn export_of_unknown_things_is_404() {
    let s = start().await;
    assert_eq!(error_code(s.post("/projects/proj-5/export", &json!({})).await, 404).await, "NotFound");
    assert_eq!(error_code(s.get("/jobs/job-5").await, 404).await, "NotFound");
}
