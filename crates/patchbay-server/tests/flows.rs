//! Flows through the server, end to end over the real sample API: a `Request` trigger answered by
//! the flow's `Response`; a webhook trigger → connector action → `If` → `Foreach`; a polling trigger
//! making one run per new task; a long-running (202) action that parks the run and resumes it; a
//! failing action handled by `runAfter: Failed`; a `Recurrence` trigger; cancel and resubmit; the run history with each
//! action's record; privacy.

mod common;

use std::time::Duration;

use common::{Client, Harness, ServerConfigFor, TestDb, connect, contoso, create_project, upload_contoso};
use patchbay_server::triggers::TriggerSettings;
use serde_json::{Value, json};

/// Creates a flow named `name` over `connection` (reference `contoso`) and enables it.
async fn deploy(client: &Client, name: &str, definition: Value, connection: &str) -> String {
    let body = json!({"name": name, "definition": definition, "connections": {"contoso": connection}});
    let (status, flow) = client.post("/api/flows", body).await;
    assert_eq!(status, 201, "{flow}");
    let id = flow["id"].as_str().unwrap().to_owned();
    let (status, enabled) = client.post(&format!("/api/flows/{id}/enable"), json!({})).await;
    assert_eq!(status, 200, "{enabled}");
    id
}

/// Waits until the flow has `count` finished runs; answers the runs (newest first).
async fn finished_runs(client: &Client, flow: &str, count: usize) -> Vec<Value> {
    for _ in 0..300 {
        let (status, runs) = client.get(&format!("/api/flows/{flow}/runs")).await;
        assert_eq!(status, 200, "{runs}");
        let runs = runs.as_array().cloned().unwrap_or_default();
        let done = runs
            .iter()
            .filter(|run| {
                matches!(run["status"].as_str(), Some("Succeeded" | "Failed" | "Cancelled" | "Skipped"))
            })
            .count();
        if done >= count {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{count} runs of {flow} did not finish");
}

/// A server, the sample API, a connection to it, and a project named `name` in it (its id).
async fn with_project(db: &TestDb, name: &str) -> (Harness, contoso_tasks::Running, String, String) {
    let h = Harness::start(db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, project) = create_project(&h.admin, &connection, name).await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    (h, api, connection, project)
}

/// A run's actions by name (the last record of each, outside loops).
async fn actions(client: &Client, run: &str) -> Vec<Value> {
    let (status, detail) = client.get(&format!("/api/runs/{run}")).await;
    assert_eq!(status, 200, "{detail}");
    detail["actions"].as_array().cloned().unwrap_or_default()
}

/// The record of action `name` (outside loops) in `actions`.
fn action<'a>(actions: &'a [Value], name: &str) -> &'a Value {
    actions.iter().find(|a| a["key"] == name).unwrap_or_else(|| panic!("no action {name}: {actions:?}"))
}

server_test!(a_request_trigger_is_answered_by_the_flows_response, |db| {
    let (h, api, connection, project) = with_project(&db, "Flows").await;
    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let flow =
        deploy(&h.admin, "Create and answer", serde_json::from_str(sample).unwrap(), &connection).await;

    let (status, answer) = h
        .admin
        .post(&format!("/api/flows/{flow}/run"), json!({"projectId": project, "title": "From a flow"}))
        .await;
    assert_eq!(status, 201, "the Response action's status: {answer}");
    assert_eq!(answer["title"], "From a flow");
    let runs = finished_runs(&h.admin, &flow, 1).await;
    assert_eq!(runs[0]["status"], "Succeeded", "{runs:?}");
    let run = runs[0]["id"].as_str().unwrap();
    let recorded = actions(&h.admin, run).await;
    let created = action(&recorded, "Create_task");
    assert_eq!(created["status"], "Succeeded");
    assert_eq!(created["outputs"]["body"]["title"], "From a flow", "{created}");
    assert_eq!(action(&recorded, "Report_failure")["status"], "Skipped");

    // A failing call goes to the runAfter: Failed branch.
    let (status, answer) =
        h.admin.post(&format!("/api/flows/{flow}/run"), json!({"projectId": "nope", "title": "x"})).await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["error"], "the task could not be created");

    // Resubmitting a run runs it again with the same trigger outputs.
    let (status, again) = h.admin.post(&format!("/api/runs/{run}/resubmit"), json!({})).await;
    assert_eq!(status, 201, "{again}");
    let runs = finished_runs(&h.admin, &flow, 3).await;
    assert_eq!(runs.len(), 3);

    // Private to the owner; a disabled flow is not run.
    let (_, stranger) = h.user("stranger@example.com").await;
    assert_eq!(stranger.get(&format!("/api/flows/{flow}")).await.0, 404);
    assert_eq!(stranger.get(&format!("/api/runs/{run}")).await.0, 404);
    assert_eq!(stranger.post(&format!("/api/flows/{flow}/run"), json!({})).await.0, 404);
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/disable"), json!({})).await.0, 200);
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/run"), json!({})).await.0, 409);
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_definition_that_does_not_load_is_refused_with_diagnostics, |db| {
    let h = Harness::start(&db).await;
    let definition =
        json!({"triggers": {"manual": {"type": "Request"}}, "actions": {"X": {"type": "Teleport"}}});
    let (status, body) =
        h.admin.post("/api/flows", json!({"name": "Broken", "definition": definition})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["diagnostics"].to_string().contains("Teleport"), "{body}");
    let definition = json!({"triggers": {"manual": {"type": "Request"}}, "actions": {
        "Call": {"type": "OpenApiConnection", "inputs": {"host": {"connectionName": "crm", "operationId": "X"}}}}});
    let (status, body) =
        h.admin.post("/api/flows", json!({"name": "Unmapped", "definition": definition})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("missing_connection")), "{body}");
    h.stop().await;
});

server_test!(a_webhook_trigger_starts_a_run_per_notification_through_if_and_foreach, |db| {
    let (h, api, connection, project) = with_project(&db, "Hooked flows").await;
    let definition = json!({
        "triggers": {"When_a_task_is_created": {
            "type": "OpenApiConnectionWebhook",
            "inputs": {"host": {"connectionName": "contoso", "operationId": "OnTaskEvent"},
                       "parameters": {"body/event": "taskCreated", "body/projectId": project}}}},
        "actions": {
            "Is_urgent": {"type": "If", "runAfter": {},
                "expression": {"and": [{"contains": ["@triggerBody()?['task']?['title']", "urgent"]}]},
                "actions": {"Escalate": {"type": "OpenApiConnection",
                    "inputs": {"host": {"connectionName": "contoso", "operationId": "AddComment"},
                               "parameters": {"taskId": "@triggerBody()?['task']?['id']", "body/text": "escalated"}}}},
                "else": {"actions": {}}},
            "Each_tag": {"type": "Foreach", "runAfter": {"Is_urgent": ["Succeeded"]},
                "foreach": "@createArray('a', 'b')",
                "actions": {"Tag": {"type": "OpenApiConnection",
                    "inputs": {"host": {"connectionName": "contoso", "operationId": "AddComment"},
                               "parameters": {"taskId": "@triggerBody()?['task']?['id']", "body/text": "tag @{items('Each_tag')}"}}}}}
        }
    });
    let flow = deploy(&h.admin, "Triage", definition, &connection).await;
    let mut tasks = Vec::new();
    for title in ["urgent: fix it", "later"] {
        let path = format!("/api/connections/{connection}/operations/CreateTask");
        let (_, task) = h.admin.post(&path, json!({"projectId": project, "body": {"title": title}})).await;
        tasks.push(task["body"]["id"].as_str().unwrap().to_owned());
    }
    let runs = finished_runs(&h.admin, &flow, 2).await;
    assert!(runs.iter().all(|run| run["status"] == "Succeeded"), "{runs:?}");
    let comments = |task: String| {
        let client = h.admin.clone();
        let connection = connection.clone();
        async move {
            let path = format!("/api/connections/{connection}/operations/ListComments");
            let (_, listed) = client.post(&path, json!({"taskId": task})).await;
            let mut texts: Vec<String> = listed["body"]["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["text"].as_str().unwrap().to_owned())
                .collect();
            texts.sort();
            texts
        }
    };
    assert_eq!(comments(tasks[0].clone()).await, ["escalated", "tag a", "tag b"]);
    assert_eq!(comments(tasks[1].clone()).await, ["tag a", "tag b"]);
    // Disabling the flow removes the backend's subscription.
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/disable"), json!({})).await.0, 200);
    let (_, hooks) =
        h.admin.post(&format!("/api/connections/{connection}/operations/ListHooks"), json!({})).await;
    assert!(hooks["body"]["value"].as_array().unwrap().is_empty(), "{hooks}");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_polling_trigger_makes_one_run_per_new_task, |db| {
    let settings =
        TriggerSettings { minimum_interval: Duration::from_millis(100), ..TriggerSettings::default() };
    let h =
        Harness::start_with(&db, patchbay_server::ServerConfig { triggers: settings, ..db.config() }).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (_, project) = create_project(&h.admin, &connection, "Polled flows").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    let definition = json!({
        "triggers": {"When_tasks_change": {
            "type": "OpenApiConnection", "recurrence": {"frequency": "Second", "interval": 1},
            "splitOn": "@triggerBody()?['value']",
            "inputs": {"host": {"connectionName": "contoso", "operationId": "OnNewOrUpdatedTasks"},
                       "parameters": {"projectId": project}}}},
        "actions": {"Note": {"type": "OpenApiConnection", "runAfter": {},
            "inputs": {"host": {"connectionName": "contoso", "operationId": "AddComment"},
                       "parameters": {"taskId": "@triggerBody()?['id']", "body/text": "seen @{triggerBody()?['title']}"}}}}
    });
    let flow = deploy(&h.admin, "Watch", definition, &connection).await;
    let (_, shown) = h.admin.get(&format!("/api/flows/{flow}")).await;
    let trigger = shown["triggerId"].as_str().expect("a wired trigger").to_owned();
    for _ in 0..100 {
        let (_, stored) = h.admin.get(&format!("/api/triggers/{trigger}")).await;
        if stored["state"]["location"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for title in ["one", "two"] {
        let path = format!("/api/connections/{connection}/operations/CreateTask");
        h.admin.post(&path, json!({"projectId": project, "body": {"title": title}})).await;
    }
    let runs = finished_runs(&h.admin, &flow, 2).await;
    assert_eq!(runs.len(), 2, "one run per task: {runs:?}");
    let mut seen: Vec<String> = Vec::new();
    for run in &runs {
        assert_eq!(run["status"], "Succeeded", "{run}");
        let recorded = actions(&h.admin, run["id"].as_str().unwrap()).await;
        seen.push(
            action(&recorded, "Note")["inputs"]["parameters"]["body/text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    seen.sort();
    assert_eq!(seen, ["seen one", "seen two"], "{seen:?}");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_request_run_in_flight_is_in_the_history_once_it_has_run_a_while, |db| {
    // A run answered on the receiving node holds its writes until its answer is due, or for at most
    // 200 ms: a run that waits a second (in process) shows up Running before it answers.
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Pause": {"type": "Wait", "runAfter": {}, "inputs": {"interval": {"count": 1, "unit": "Second"}}},
            "Answer": {"type": "Response", "runAfter": {"Pause": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": {"waited": true}}},
            "After": {"type": "Compose", "runAfter": {"Answer": ["Succeeded"]}, "inputs": "after the answer"}
        }
    });
    let flow = deploy(&h.admin, "Slow answer", definition, &connection).await;
    let caller = {
        let (client, flow) = (h.admin.clone(), flow.clone());
        tokio::spawn(async move { client.post(&format!("/api/flows/{flow}/run"), json!({})).await })
    };
    let mut seen_running = false;
    for _ in 0..80 {
        let (_, runs) = h.admin.get(&format!("/api/flows/{flow}/runs")).await;
        if runs[0]["status"] == "Running" {
            seen_running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen_running, "the run was listed while it waited");
    let (status, answer) = caller.await.unwrap();
    assert_eq!((status, answer), (200, json!({"waited": true})));
    let runs = finished_runs(&h.admin, &flow, 1).await;
    assert_eq!((runs.len(), runs[0]["status"].as_str()), (1, Some("Succeeded")), "{runs:?}");
    let recorded = actions(&h.admin, runs[0]["id"].as_str().unwrap()).await;
    for name in ["Pause", "Answer", "After"] {
        assert_eq!(action(&recorded, name)["status"], "Succeeded", "{recorded:?}");
    }
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_long_running_action_parks_the_run_and_resumes_it, |db| {
    let (h, api, connection, project) = with_project(&db, "Exported").await;
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Export": {"type": "OpenApiConnection", "runAfter": {},
                "inputs": {"host": {"connectionName": "contoso", "operationId": "ExportProject"},
                           "parameters": {"projectId": "@triggerBody()?['projectId']"}}},
            "Answer": {"type": "Response", "runAfter": {"Export": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": "@body('Export')"}}
        }
    });
    let flow = deploy(&h.admin, "Export", definition, &connection).await;
    let (status, answer) =
        h.admin.post(&format!("/api/flows/{flow}/run"), json!({"projectId": project})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.to_string().contains(&project), "the export's result: {answer}");
    let runs = finished_runs(&h.admin, &flow, 1).await;
    let run = &runs[0];
    assert_eq!(run["status"], "Succeeded", "{run}");
    assert!(run["attempts"].as_i64().unwrap() >= 2, "the run parked and was claimed again: {run}");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(an_http_action_follows_the_asynchronous_pattern_and_parks_the_run, |db| {
    // The export answers 202 with a Location on the same origin and Retry-After: 1, then 202 once
    // more, then 200: the Http action parks the run twice and ends with the job's result.
    let (h, api, connection, project) = with_project(&db, "Exported over Http").await;
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Export": {"type": "Http", "runAfter": {}, "inputs": {
                "method": "POST",
                "uri": format!("{}/projects/{project}/export", api.base_url()),
                "headers": {"X-API-Key": contoso_tasks::DEMO_API_KEY}}},
            "Answer": {"type": "Response", "runAfter": {"Export": ["Succeeded"]},
                "inputs": {"statusCode": 200, "body": "@body('Export')"}}
        }
    });
    let flow = deploy(&h.admin, "Export over Http", definition, &connection).await;
    let (status, answer) = h.admin.post(&format!("/api/flows/{flow}/run"), json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.to_string().contains(&project), "the export's result, not its 202: {answer}");
    let runs = finished_runs(&h.admin, &flow, 1).await;
    assert_eq!(runs[0]["status"], "Succeeded", "{runs:?}");
    assert!(runs[0]["attempts"].as_i64().unwrap() >= 2, "the run parked while the export ran: {runs:?}");
    let recorded = actions(&h.admin, runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(action(&recorded, "Export")["outputs"]["statusCode"], 200, "{recorded:?}");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_waiting_run_can_be_cancelled, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let definition = json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {"Pause": {"type": "Wait", "runAfter": {}, "inputs": {"interval": {"count": 1, "unit": "Hour"}}}}
    });
    let body = json!({"name": "Pause", "definition": definition, "connections": {"contoso": connection}});
    let (_, flow) = h.admin.post("/api/flows", body).await;
    let flow = flow["id"].as_str().unwrap().to_owned();
    h.admin.post(&format!("/api/flows/{flow}/enable"), json!({})).await;
    let (status, started) = h.admin.post(&format!("/api/flows/{flow}/run"), json!({})).await;
    assert_eq!(status, 202, "no Response: the run is answered at once with its id: {started}");
    let run = started["runId"].as_str().unwrap().to_owned();
    let mut waiting = false;
    for _ in 0..100 {
        let (_, detail) = h.admin.get(&format!("/api/runs/{run}")).await;
        if detail["run"]["status"] == "Waiting" {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(waiting, "the hour-long wait parks the run");
    let (status, cancelled) = h.admin.post(&format!("/api/runs/{run}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "Cancelled");
    h.stop().await;
    api.shutdown().await.unwrap();
});

server_test!(a_recurrence_trigger_starts_a_run_each_interval_until_disabled, |db| {
    let h = Harness::start(&db).await;
    let definition = json!({
        "triggers": {"Every_second": {"type": "Recurrence", "recurrence": {"frequency": "Second", "interval": 1}}},
        "actions": {"Tick": {"type": "Compose", "runAfter": {}, "inputs": "@triggerOutputs()"}}
    });
    let (status, flow) =
        h.admin.post("/api/flows", json!({"name": "Ticker", "definition": definition})).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/enable"), json!({})).await.0, 200);
    let runs = finished_runs(&h.admin, &flow, 3).await;
    assert!(runs.iter().all(|run| run["status"] == "Succeeded"), "{runs:?}");
    // One run per slot: the slots of the runs are a second apart, none twice.
    let mut slots: Vec<i64> =
        runs.iter().map(|run| run["trigger"]["scheduledTime"].as_i64().unwrap()).collect();
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), runs.len(), "{runs:?}");
    assert!(slots.windows(2).all(|pair| (pair[1] - pair[0]) % 1000 == 0), "{slots:?}");
    assert_eq!(h.admin.post(&format!("/api/flows/{flow}/disable"), json!({})).await.0, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, before) = h.admin.get(&format!("/api/flows/{flow}/runs")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, after) = h.admin.get(&format!("/api/flows/{flow}/runs")).await;
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len(),
        "a disabled flow does not recur"
    );
    h.stop().await;
});
