//! Control flow, variables, data operations and run status.

mod common;

use common::{outputs, run, status};
use patchbay_engine::RunStatus;
use serde_json::json;

fn manual(actions: serde_json::Value) -> serde_json::Value {
    json!({"definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
        "actions": actions,
    }})
}

#[tokio::test]
async fn request_flow_with_variables_foreach_if_and_response() {
    let doc = manual(json!({
        "Init": {"type": "InitializeVariable", "runAfter": {},
                 "inputs": {"variables": [{"name": "big", "type": "array", "value": []}]}},
        "Loop": {"type": "Foreach", "foreach": "@triggerBody()?['items']", "runAfter": {"Init": ["Succeeded"]},
                 "runtimeConfiguration": {"concurrency": {"repetitions": 1}},
                 "actions": {
                     "Check": {"type": "If", "expression": {"and": [{"greater": ["@items('Loop')?['n']", 2]}]},
                               "actions": {"Add": {"type": "AppendToArrayVariable",
                                                   "inputs": {"name": "big", "value": "@item()?['name']"}}},
                               "else": {"actions": {}}}
                 }},
        "Count": {"type": "Compose", "inputs": "@length(variables('big'))", "runAfter": {"Loop": ["Succeeded"]}},
        "Reply": {"type": "Response", "runAfter": {"Count": ["Succeeded"]},
                  "inputs": {"statusCode": 201, "headers": {"x-count": "@{outputs('Count')}"},
                             "body": {"big": "@variables('big')", "count": "@outputs('Count')"}}}
    }));
    let body = json!({"items": [{"name": "a", "n": 1}, {"name": "b", "n": 3}, {"name": "c", "n": 5}]});
    let run = run(doc, body).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    let response = run.response.expect("a response");
    assert_eq!(response.status_code, 201);
    assert_eq!(response.body, json!({"big": ["b", "c"], "count": 2}));
    assert_eq!(response.headers["x-count"], json!("2"));
    let adds: Vec<_> = run.actions.iter().filter(|a| a.name == "Add").map(|a| a.iteration.clone()).collect();
    assert_eq!(adds, vec![vec![1], vec![2]]);
}

#[tokio::test]
async fn foreach_with_concurrency_appends_every_item() {
    let doc = manual(json!({
        "Init": {"type": "InitializeVariable", "inputs": {"variables": [{"name": "sum", "type": "integer", "value": 0}]}},
        "Loop": {"type": "Foreach", "foreach": "@range(1, 10)", "runAfter": {"Init": ["Succeeded"]},
                 "runtimeConfiguration": {"concurrency": {"repetitions": 4}},
                 "actions": {"Add": {"type": "IncrementVariable", "inputs": {"name": "sum", "value": "@item()"}}}},
        "Total": {"type": "Compose", "inputs": "@variables('sum')", "runAfter": {"Loop": ["Succeeded"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(outputs(&run, "Total"), json!(55));
}

#[tokio::test]
async fn switch_picks_the_matching_case_or_default() {
    let doc = || {
        manual(json!({
            "Pick": {"type": "Switch", "expression": "@triggerBody()?['color']",
                     "cases": {"Red": {"case": "red", "actions": {"R": {"type": "Compose", "inputs": "stop"}}},
                               "Green": {"case": "green", "actions": {"G": {"type": "Compose", "inputs": "go"}}}},
                     "default": {"actions": {"D": {"type": "Compose", "inputs": "wait"}}}}
        }))
    };
    let green = run(doc(), json!({"color": "green"})).await;
    assert_eq!(outputs(&green, "G"), json!("go"));
    assert_eq!(status(&green, "R"), "absent");
    let blue = run(doc(), json!({"color": "blue"})).await;
    assert_eq!(outputs(&blue, "D"), json!("wait"));
    assert_eq!(blue.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn until_counts_up_to_the_condition() {
    let doc = manual(json!({
        "Init": {"type": "InitializeVariable", "inputs": {"variables": [{"name": "i", "type": "integer", "value": 0}]}},
        "Loop": {"type": "Until", "expression": "@greaterOrEquals(variables('i'), 5)", "runAfter": {"Init": ["Succeeded"]},
                 "limit": {"count": 100, "timeout": "PT1M"},
                 "actions": {"Inc": {"type": "IncrementVariable", "inputs": {"name": "i"}},
                             "Index": {"type": "Compose", "inputs": "@iterationIndexes('Loop')", "runAfter": {"Inc": ["Succeeded"]}}}},
        "Done": {"type": "Compose", "inputs": "@variables('i')", "runAfter": {"Loop": ["Succeeded"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(outputs(&run, "Done"), json!(5));
    assert_eq!(outputs(&run, "Loop"), json!({"iterations": 5}));
    assert_eq!(outputs(&run, "Index"), json!(4));
}

#[tokio::test]
async fn until_stops_at_its_count() {
    let doc = manual(json!({
        "Loop": {"type": "Until", "expression": "@equals(1, 2)", "limit": {"count": 3},
                 "actions": {"W": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Hour"}}}}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(outputs(&run, "Loop"), json!({"iterations": 3}));
}

#[tokio::test]
async fn a_failure_handler_runs_while_the_success_path_is_skipped() {
    let doc = manual(json!({
        "Boom": {"type": "Compose", "inputs": "@div(1, 0)"},
        "OnSuccess": {"type": "Compose", "inputs": "fine", "runAfter": {"Boom": ["Succeeded"]}},
        "OnFailure": {"type": "Compose", "inputs": "@actions('Boom')?['status']", "runAfter": {"Boom": ["Failed", "TimedOut"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(status(&run, "Boom"), "Failed");
    assert_eq!(status(&run, "OnSuccess"), "Skipped");
    assert_eq!(status(&run, "OnFailure"), "Succeeded");
    assert_eq!(outputs(&run, "OnFailure"), json!("Failed"));
    assert_eq!(run.status, RunStatus::Succeeded, "the failure was handled");
    let error = run.actions.iter().find(|a| a.name == "Boom").and_then(|a| a.error.clone()).unwrap();
    assert_eq!(error["code"], "InvalidTemplate");
}

#[tokio::test]
async fn an_unhandled_failure_fails_the_run() {
    let doc = manual(json!({
        "Boom": {"type": "Compose", "inputs": "@div(1, 0)"},
        "After": {"type": "Compose", "inputs": "x", "runAfter": {"Boom": ["Succeeded"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(status(&run, "After"), "Skipped");
    assert_eq!(run.status, RunStatus::Failed);
}

#[tokio::test]
async fn scope_and_result_make_try_catch() {
    let doc = manual(json!({
        "Try": {"type": "Scope", "actions": {
            "Ok": {"type": "Compose", "inputs": 1},
            "Bad": {"type": "ParseJson", "inputs": {"content": "not json", "schema": {}}, "runAfter": {"Ok": ["Succeeded"]}}
        }},
        "Catch": {"type": "Compose", "runAfter": {"Try": ["Failed"]},
                  "inputs": "@first(body('Failures'))?['error']?['code']"},
        "Failures": {"type": "Query", "runAfter": {"Try": ["Failed"]},
                     "inputs": {"from": "@result('Try')", "where": "@equals(item()?['status'], 'Failed')"}}
    }));
    let doc: serde_json::Value = serde_json::from_str(&doc.to_string().replace(
        r#""runAfter":{"Try":["Failed"]},"inputs":"@first"#,
        r#""runAfter":{"Failures":["Succeeded"]},"inputs":"@first"#,
    ))
    .unwrap();
    let run = run(doc, json!({})).await;
    assert_eq!(status(&run, "Try"), "Failed");
    assert_eq!(outputs(&run, "Catch"), json!("InvalidJSON"));
    assert_eq!(run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn terminate_ends_the_run_with_its_status() {
    let doc = manual(json!({
        "Stop": {"type": "Terminate", "inputs": {"runStatus": "Failed", "runError": {"code": "Nope", "message": "stopped"}}},
        "Never": {"type": "Compose", "inputs": 1, "runAfter": {"Stop": ["Succeeded"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error, Some(json!({"code": "Nope", "message": "stopped"})));
    assert_eq!(status(&run, "Never"), "absent");
}

#[tokio::test]
async fn terminate_cancelled_inside_a_loop_stops_it() {
    let doc = manual(json!({
        "Loop": {"type": "Foreach", "foreach": "@range(0, 5)", "operationOptions": "Sequential",
                 "actions": {"Maybe": {"type": "If", "expression": "@equals(item(), 1)",
                                        "actions": {"Stop": {"type": "Terminate", "inputs": {"runStatus": "Cancelled"}}}}}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.actions.iter().filter(|a| a.name == "Maybe").count(), 2);
}

#[tokio::test]
async fn select_query_and_join() {
    let doc = manual(json!({
        "Adults": {"type": "Query", "inputs": {"from": "@triggerBody()", "where": "@greaterOrEquals(item()?['age'], 18)"}},
        "Names": {"type": "Select", "runAfter": {"Adults": ["Succeeded"]},
                  "inputs": {"from": "@body('Adults')", "select": {"who": "@toUpper(item()?['name'])", "n": "@item()?['age']"}}},
        "Plain": {"type": "Select", "runAfter": {"Adults": ["Succeeded"]},
                  "inputs": {"from": "@body('Adults')", "select": "@item()?['name']"}},
        "Joined": {"type": "Join", "runAfter": {"Plain": ["Succeeded"]}, "inputs": {"from": "@body('Plain')", "joinWith": ", "}}
    }));
    let people = json!([{"name": "ann", "age": 30}, {"name": "bob", "age": 12}, {"name": "cy", "age": 18}]);
    let run = run(doc, people).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    assert_eq!(outputs(&run, "Names")["body"], json!([{"who": "ANN", "n": 30}, {"who": "CY", "n": 18}]));
    assert_eq!(outputs(&run, "Joined")["body"], json!("ann, cy"));
}

#[tokio::test]
async fn parse_json_variables_outputs_and_parameters() {
    let doc = json!({"definition": {
        "parameters": {"greeting": {"type": "String", "defaultValue": "hello"}},
        "triggers": {"manual": {"type": "Request", "inputs": {}}},
        "actions": {
            "Parse": {"type": "ParseJson", "inputs": {"content": "@triggerBody()?['raw']", "schema": {"type": "object", "required": ["id"]}}},
            "Text": {"type": "InitializeVariable", "runAfter": {"Parse": ["Succeeded"]},
                     "inputs": {"variables": [{"name": "t", "type": "string", "value": "@parameters('greeting')"}]}},
            "More": {"type": "AppendToStringVariable", "runAfter": {"Text": ["Succeeded"]},
                     "inputs": {"name": "t", "value": " #@{body('Parse')?['id']}"}},
            "Down": {"type": "DecrementVariable", "runAfter": {"Text": ["Succeeded"]}, "inputs": {"name": "missing"}}
        },
        "outputs": {"text": {"type": "String", "value": "@variables('t')"}}
    }});
    let run = run(doc, json!({"raw": "{\"id\": 7}"})).await;
    assert_eq!(run.outputs["text"], json!("hello #7"));
    assert_eq!(status(&run, "Down"), "Failed");
    assert_eq!(run.status, RunStatus::Failed);
}

#[tokio::test]
async fn action_timeout_marks_timed_out_and_handlers_see_it() {
    let doc = manual(json!({
        "Slow": {"type": "Until", "expression": "@equals(1, 2)", "limit": {"count": 5000, "timeout": "PT0.05S"},
                 "actions": {"W": {"type": "Wait", "inputs": {"interval": {"count": 1, "unit": "Second"}}}}},
        "Handle": {"type": "Compose", "inputs": "@actions('Slow')?['status']", "runAfter": {"Slow": ["TimedOut"]}}
    }));
    let run = run(doc, json!({})).await;
    assert_eq!(status(&run, "Slow"), "TimedOut");
    assert_eq!(outputs(&run, "Handle"), json!("TimedOut"));
    assert_eq!(run.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn trigger_conditions_gate_the_run() {
    let doc = json!({"triggers": {"manual": {"type": "Request", "conditions": [{"expression": "@equals(triggerBody()?['go'], true)"}]}},
                     "actions": {"A": {"type": "Compose", "inputs": 1}}});
    assert_eq!(run(doc.clone(), json!({"go": false})).await.status, RunStatus::Skipped);
    assert_eq!(run(doc, json!({"go": true})).await.status, RunStatus::Succeeded);
}

#[tokio::test]
async fn http_retries_by_policy_then_fails_and_the_observer_sees_every_step() {
    let def = common::load(manual(json!({
        "Call": {"type": "Http", "inputs": {"method": "GET", "uri": "http://unreachable.invalid/x",
                 "retryPolicy": {"type": "fixed", "interval": "PT5S", "count": 2}}}
    })));
    let observer = patchbay_engine::MemoryObserver::default();
    let trigger = patchbay_engine::TriggerOutputs::default();
    let run = patchbay_engine::run_flow_observed(&def, trigger, &common::LocalEnv, &observer).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.actions[0].attempts, 3);
    assert_eq!(observer.records().len(), 1);
}

#[tokio::test]
async fn a_run_can_be_spawned_on_the_runtime() {
    let def = std::sync::Arc::new(common::load(manual(
        json!({"A": {"type": "Compose", "inputs": "@workflow()?['name']"}}),
    )));
    let handle = tokio::spawn(async move {
        patchbay_engine::run_flow(&def, patchbay_engine::TriggerOutputs::default(), &common::LocalEnv).await
    });
    let run = handle.await.unwrap();
    assert_eq!(common::outputs(&run, "A"), json!("flow"));
}
