//! Projects, tasks and comments: CRUD, paging, the error shape and authentication.

use reqwest::Method;
use serde_json::json;

use crate::common::{client, error_code, header, json_of, start};

#[tokio::test]
async fn projects_tasks_and_comments_crud() {
    let s = start().await;

    let resp = s.post("/projects", &json!({ "name": "Launch", "description": "Ship it" })).await;
    let location = header(&resp, "location");
    let project = json_of(resp, 201).await;
    let pid = project["id"].as_str().unwrap().to_owned();
    assert_eq!(location, s.url(&format!("/projects/{pid}")));
    assert_eq!(project["name"], "Launch");
    assert_eq!(project["description"], "Ship it");

    let got = json_of(s.get(&location).await, 200).await;
    assert_eq!(got, project);
    let list = json_of(s.get("/projects").await, 200).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert!(list.get("nextLink").is_none());

    let patched = json_of(
        s.patch(&format!("/projects/{pid}"), &json!({ "name": "Launch v2", "description": "" })).await,
        200,
    )
    .await;
    assert_eq!(patched["name"], "Launch v2");
    assert!(patched.get("description").is_none(), "empty string clears");

    let resp = s
        .post(
            &format!("/projects/{pid}/tasks"),
            &json!({ "title": "Write notes", "notes": "short", "dueDate": "2025-06-30" }),
        )
        .await;
    let task_location = header(&resp, "location");
    let task = json_of(resp, 201).await;
    let tid = task["id"].as_str().unwrap().to_owned();
    assert_eq!(task_location, s.url(&format!("/tasks/{tid}")));
    assert_eq!(task["projectId"], pid.as_str());
    assert_eq!(task["completed"], false);
    assert!(task.get("completedAt").is_none());
    assert_eq!(task["dueDate"], "2025-06-30");

    let done = json_of(s.patch(&format!("/tasks/{tid}"), &json!({ "completed": true })).await, 200).await;
    assert_eq!(done["completed"], true);
    assert!(done["completedAt"].is_string());
    assert_eq!(done["title"], "Write notes");
    let reopened = json_of(
        s.patch(&format!("/tasks/{tid}"), &json!({ "completed": false, "title": "Rewrite notes" })).await,
        200,
    )
    .await;
    assert_eq!(reopened["completed"], false);
    assert!(reopened.get("completedAt").is_none());
    assert_eq!(reopened["title"], "Rewrite notes");
    assert_eq!(json_of(s.get(&task_location).await, 200).await, reopened);

    let comment =
        json_of(s.post(&format!("/tasks/{tid}/comments"), &json!({ "text": "Looks good" })).await, 201).await;
    assert_eq!(comment["taskId"], tid.as_str());
    let comments = json_of(s.get(&format!("/tasks/{tid}/comments")).await, 200).await;
    assert_eq!(comments["value"], json!([comment]));

    let tasks = json_of(s.get(&format!("/projects/{pid}/tasks")).await, 200).await;
    assert_eq!(tasks["value"], json!([reopened]));

    assert_eq!(s.delete(&format!("/tasks/{tid}")).await.status(), 204);
    assert_eq!(error_code(s.get(&task_location).await, 404).await, "NotFound");
    assert_eq!(error_code(s.get(&format!("/tasks/{tid}/comments")).await, 404).await, "NotFound");
    assert_eq!(s.delete(&format!("/tasks/{tid}")).await.status(), 404);

    assert_eq!(s.delete(&format!("/projects/{pid}")).await.status(), 204);
    assert_eq!(error_code(s.get(&location).await, 404).await, "NotFound");
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_a_project_deletes_its_tasks() {
    let s = start().await;
    let p = s.create_project("A").await;
    let pid = p["id"].as_str().unwrap();
    let t = s.create_task(pid, "one").await;
    let tid = t["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/projects/{pid}")).await.status(), 204);
    assert_eq!(error_code(s.get(&format!("/tasks/{tid}")).await, 404).await, "NotFound");
    assert_eq!(error_code(s.get(&format!("/projects/{pid}/tasks")).await, 404).await, "NotFound");
}

#[tokio::test]
async fn list_endpoints_page_with_absolute_next_links() {
    let s = start().await;
    let p = s.create_project("Paged").await;
    let pid = p["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let t = s.create_task(pid, &format!("task {i}")).await;
        ids.push(t["id"].as_str().unwrap().to_owned());
    }

    let mut seen = Vec::new();
    let mut url = s.url(&format!("/projects/{pid}/tasks?$top=2"));
    let mut pages = 0;
    loop {
        let page = json_of(s.get(&url).await, 200).await;
        pages += 1;
        let items = page["value"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page.get("nextLink").and_then(|l| l.as_str()) {
            Some(next) => {
                assert!(next.starts_with(s.running.base_url()), "absolute: {next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);

    // `top` is accepted as well as `$top`.
    let page = json_of(s.get(&format!("/projects/{pid}/tasks?top=4")).await, 200).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 4);
    assert!(page["nextLink"].is_string());
    let page = json_of(s.get(&format!("/projects/{pid}/tasks?top=5")).await, 200).await;
    assert!(page.get("nextLink").is_none());

    // Projects and comments page the same way.
    s.create_project("Second").await;
    let page = json_of(s.get("/projects?$top=1").await, 200).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    let next = page["nextLink"].as_str().unwrap();
    let last = json_of(s.get(next).await, 200).await;
    assert_eq!(last["value"][0]["name"], "Second");
    assert!(last.get("nextLink").is_none());
    let tid = &ids[0];
    for text in ["a", "b", "c"] {
        s.post(&format!("/tasks/{tid}/comments"), &json!({ "text": text })).await;
    }
    let page = json_of(s.get(&format!("/tasks/{tid}/comments?$top=2")).await, 200).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    assert!(page["nextLink"].is_string());
}

#[tokio::test]
async fn errors_share_one_json_shape() {
    let s = start().await;
    assert_eq!(error_code(s.get("/projects/proj-99").await, 404).await, "NotFound");
    assert_eq!(error_code(s.get("/projects/not-an-id").await, 404).await, "NotFound");
    assert_eq!(error_code(s.get("/tasks/task-1").await, 404).await, "NotFound");
    assert_eq!(error_code(s.delete("/hooks/hook-1").await, 404).await, "NotFound");

    let bad_json = s
        .req(Method::POST, "/projects")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(bad_json, 400).await, "BadRequest");
    let no_content_type = s.req(Method::POST, "/projects").body(r#"{"name":"x"}"#).send().await.unwrap();
    assert_eq!(error_code(no_content_type, 400).await, "BadRequest");
    assert_eq!(error_code(s.post("/projects", &json!({ "name": "  " })).await, 400).await, "BadRequest");
    assert_eq!(error_code(s.post("/projects", &json!({ "name": 7 })).await, 400).await, "BadRequest");
    let p = s.create_project("P").await;
    let pid = p["id"].as_str().unwrap();
    assert_eq!(
        error_code(s.post(&format!("/projects/{pid}/tasks"), &json!({})).await, 400).await,
        "BadRequest"
    );
    for query in ["$top=0", "$top=501", "$top=abc", "$skip=-1"] {
        assert_eq!(
            error_code(s.get(&format!("/projects?{query}")).await, 400).await,
            "BadRequest",
            "{query}"
        );
    }

    assert_eq!(error_code(s.get("/no/such/route").await, 404).await, "RouteNotFound");
    let put = s.req(Method::PUT, "/projects").send().await.unwrap();
    assert_eq!(error_code(put, 405).await, "MethodNotAllowed");
}

#[tokio::test]
async fn api_requires_an_api_key_or_a_bearer_token() {
    let s = start().await;
    let c = client();

    let none = c.get(s.url("/projects")).send().await.unwrap();
    assert!(header(&none, "www-authenticate").starts_with("Bearer"));
    assert_eq!(error_code(none, 401).await, "Unauthorized");

    let wrong = c.get(s.url("/projects")).header("X-API-Key", "wrong-key").send().await.unwrap();
    assert_eq!(error_code(wrong, 401).await, "Unauthorized");

    let bogus_bearer = c.get(s.url("/projects")).bearer_auth("not-a-token").send().await.unwrap();
    assert!(header(&bogus_bearer, "www-authenticate").contains("invalid_token"));
    assert_eq!(error_code(bogus_bearer, 401).await, "Unauthorized");

    let basic = c.get(s.url("/projects")).basic_auth("user", Some("pass")).send().await.unwrap();
    assert_eq!(error_code(basic, 401).await, "Unauthorized");

    // Writes are protected too, and nothing is created by a rejected call.
    let post = c.post(s.url("/projects")).json(&json!({ "name": "x" })).send().await.unwrap();
    assert_eq!(error_code(post, 401).await, "Unauthorized");
    let list = json_of(s.get("/projects").await, 200).await;
    assert_eq!(list["value"], json!([]));

    // Health and the OAuth server need no credentials.
    let health = json_of(c.get(s.url("/healthz")).send().await.unwrap(), 200).await;
    assert_eq!(health["status"], "ok");
    json_of(c.get(s.url("/oauth/stats")).send().await.unwrap(), 200).await;
}

#[tokio::test]
async fn tasks_record_the_client_header() {
    let s = start().await;
    let p = s.create_project("P").await;
    let pid = p["id"].as_str().unwrap();
    let resp = s
        .req(Method::POST, &format!("/projects/{pid}/tasks"))
        .header("X-Contoso-Client", "patchbay")
        .json(&json!({ "title": "t" }))
        .send()
        .await
        .unwrap();
    let task = json_of(resp, 201).await;
    assert_eq!(task["source"], "patchbay");
    let plain = s.create_task(pid, "u").await;
    assert!(plain.get("source").is_none());
}
