//! Polling triggers through the whole pipeline: state carried by `Location` over several polls
//! of the Contoso Tasks sample API (a 202 + `Location` is state, never followed as a long-running
//! job), the `pollingtrigger` policy over a plain list API, errors that keep the state, `splitOn`
//! and de-duplication keys on real answers, credentials only on the backend's origin, and the
//! SSRF guard.

mod support_transport;
mod support_trigger;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patchbay_runtime::bind::Inputs;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::{
    Call, InvokeError, Outcome, PollCall, PollState, Polled, Runtime, dedup_key, default_split_on,
    split_items,
};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support_transport::serve;
use support_trigger::{KEY, Recorder, connection, contoso, inputs, package, properties, runtime, swagger};

async fn poll(
    rt: &Runtime,
    connector: &CompiledConnector,
    connection: &ConnectionValues,
    operation_id: &str,
    inputs: &Inputs,
    state: &PollState,
) -> Result<Polled, InvokeError> {
    rt.poll_trigger(PollCall { connector, operation_id, connection, inputs, state }).await
}

async fn invoke(
    rt: &Runtime,
    connector: &CompiledConnector,
    connection: &ConnectionValues,
    operation_id: &str,
    input: Value,
) -> Value {
    let input = inputs(input);
    let call = Call { connector, operation_id, connection, inputs: &input };
    match rt.invoke(call).await.expect("the call succeeds").outcome {
        Outcome::Done(response) => response.body.to_value(),
        Outcome::Pending { .. } => panic!("expected a final answer"),
    }
}

#[tokio::test]
async fn contoso_state_travels_in_location_over_several_polls_and_a_202_is_never_followed() {
    let (api, connector, conn) = contoso().await;
    let rt = runtime(true);
    let project = invoke(&rt, &connector, &conn, "CreateProject", json!({"body": {"name": "Watched"}})).await;
    let project_id = project["id"].as_str().unwrap().to_string();
    let trigger = inputs(json!({"projectId": project_id}));
    let op = "OnNewOrUpdatedTasks";

    // The first poll only establishes the baseline: 202 + Location with the cursor.
    let first = poll(&rt, &connector, &conn, op, &trigger, &PollState::default()).await.unwrap();
    assert_eq!(first.status, 202);
    assert!(first.fired.is_none());
    let location = first.next_state.location.clone().expect("the 202 carried the state");
    assert!(location.contains("since=") && location.contains(&project_id), "{location}");
    assert_eq!(first.retry_after, Some(Duration::ZERO));
    assert_eq!(first.exchanges.len(), 1, "the 202 + Location was not polled as a long-running job");
    let record = &first.exchanges[0].request;
    assert!(record.contains("x-api-key: ***") && !record.contains(contoso_tasks::DEMO_API_KEY), "{record}");

    // Nothing new: the next poll GETs the Location, answers 202, the state stays.
    let second = poll(&rt, &connector, &conn, op, &trigger, &first.next_state).await.unwrap();
    assert_eq!(second.status, 202);
    assert!(second.fired.is_none());
    assert!(
        second.exchanges[0].request.starts_with(&format!("GET {location}")),
        "{}",
        second.exchanges[0].request
    );
    assert_eq!(second.next_state, first.next_state);

    // A task appears: 200 fires with the new task, and the cursor moves on.
    let task = invoke(
        &rt,
        &connector,
        &conn,
        "CreateTask",
        json!({"projectId": project_id, "body/title": "Ship it"}),
    )
    .await;
    let third = poll(&rt, &connector, &conn, op, &trigger, &second.next_state).await.unwrap();
    assert_eq!(third.status, 200);
    let fired = third.fired.clone().expect("a 200 fires");
    assert_eq!(fired.body["value"][0]["title"], "Ship it");
    assert!(fired.headers["location"].is_string(), "{}", fired.headers);
    assert_ne!(third.next_state.location.as_deref(), Some(location.as_str()), "the cursor moved on");

    // The batch trigger splits on its `value` array, in every form a designer writes it.
    let split_on = default_split_on(&connector, op).expect("a batch trigger has a default splitOn");
    assert_eq!(split_on, "@triggerBody()?['value']");
    for expression in [
        split_on.as_str(),
        "@triggerBody()?['value']",
        "@triggerOutputs()?['body/value']",
        "@triggerOutputs()?['body']?['value']",
    ] {
        let items = split_items(&fired, Some(expression)).unwrap();
        assert_eq!(items.len(), 1, "{expression}");
        assert_eq!(dedup_key(&items[0], "id"), task["id"].as_str().map(str::to_string), "{expression}");
    }
    assert_eq!(split_items(&fired, None).unwrap(), vec![fired.body.clone()]);

    // Nothing new again: 202 keeps the advanced state.
    let fourth = poll(&rt, &connector, &conn, op, &trigger, &third.next_state).await.unwrap();
    assert_eq!(fourth.status, 202);
    assert!(fourth.fired.is_none());
    assert_eq!(fourth.next_state, third.next_state);
    assert_eq!(PollState::from_json(&fourth.next_state.to_json()), fourth.next_state);
    api.shutdown().await.unwrap();
}

/// A plain list API: `GET /items?since=N` answers the items with a larger `seq`, newest first,
/// and 500 while `failing` is set; it wants the `X-Key` header.
#[derive(Clone, Default)]
struct ListApi {
    items: Arc<Mutex<Vec<Value>>>,
    failing: Arc<AtomicBool>,
    seen: Recorder,
}

async fn list_items(State(api): State<ListApi>, request: Request) -> Response {
    let seen = api.seen.record(request).await;
    if seen.headers.get("x-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if api.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "down"}))).into_response();
    }
    let since: u64 =
        seen.uri.split_once("since=").and_then(|(_, rest)| rest.split('&').next()?.parse().ok()).unwrap_or(0);
    let mut items: Vec<Value> =
        api.items.lock().unwrap().iter().filter(|i| i["seq"].as_u64() > Some(since)).cloned().collect();
    items.reverse();
    axum::Json(json!({"value": items})).into_response()
}

fn list_package(host: &str) -> CompiledConnector {
    let paths = json!({"/items": {"get": {
        "operationId": "OnNewItems", "summary": "When an item is added", "description": "New items.",
        "x-ms-trigger": "batch",
        "parameters": [
            {"name": "since", "in": "query", "type": "integer", "required": false, "x-ms-visibility": "internal"}
        ],
        "responses": {"200": {"description": "Items", "schema": {"type": "object", "properties": {
            "value": {"type": "array", "items": {"type": "object"}}}}}}
    }}});
    let policy = json!([{
        "templateId": "pollingtrigger", "title": "New items since the newest seen", "type": "PollingTrigger",
        "parameters": {
            "x-ms-apimTemplate-operationName": ["OnNewItems"],
            "x-ms-apimTemplateParameter.triggerConfig": {"since": "@{triggerBody().value[0].seq}"},
            "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value"
        }
    }]);
    package("list", &swagger(host, "header", paths), &properties(policy))
}

#[tokio::test]
async fn polling_trigger_policy_turns_a_plain_list_into_new_items_and_errors_keep_the_state() {
    let api = ListApi::default();
    api.items.lock().unwrap().extend([json!({"seq": 1, "name": "old"}), json!({"seq": 2, "name": "older"})]);
    let addr = serve(Router::new().route("/items", get(list_items)).with_state(api.clone())).await;
    let connector = list_package(&addr.to_string());
    let conn = connection(&connector);
    let rt = runtime(true);
    let none = Inputs::new();
    let op = "OnNewItems";

    // First poll: the history is the baseline; the next query is computed from it.
    let base = poll(&rt, &connector, &conn, op, &none, &PollState::default()).await.unwrap();
    assert_eq!(base.status, 200);
    assert!(base.fired.is_none(), "history does not fire");
    assert_eq!(base.next_state.query, *json!({"since": "2"}).as_object().unwrap());
    assert!(base.next_state.location.is_none());

    // An empty list is nothing new and keeps the state; the query went out.
    let empty = poll(&rt, &connector, &conn, op, &none, &base.next_state).await.unwrap();
    assert_eq!(empty.status, 200);
    assert!(empty.fired.is_none());
    assert_eq!(empty.next_state, base.next_state);
    assert_eq!(api.seen.last().uri, "/items?since=2");

    // A new item fires, and the query follows it.
    api.items.lock().unwrap().push(json!({"seq": 3, "name": "new"}));
    let new = poll(&rt, &connector, &conn, op, &none, &empty.next_state).await.unwrap();
    let fired = new.fired.clone().expect("the new item fires");
    assert_eq!(new.next_state.query["since"], "3");
    let split_on = default_split_on(&connector, op).expect("the policy's triggerDataPath");
    assert_eq!(split_on, "@triggerBody()?['value']");
    let items = split_items(&fired, Some(&split_on)).unwrap();
    assert_eq!(items, vec![json!({"seq": 3, "name": "new"})]);
    assert_eq!(dedup_key(&items[0], "seq").as_deref(), Some("3"));
    assert_eq!(dedup_key(&items[0], "/name").as_deref(), Some("new"));

    // An error status fires nothing and hands the input state back.
    api.failing.store(true, Ordering::SeqCst);
    let failed = poll(&rt, &connector, &conn, op, &none, &new.next_state).await.unwrap();
    assert_eq!(failed.status, 500);
    assert!(failed.fired.is_none());
    assert_eq!(failed.next_state, new.next_state);
    assert_eq!(api.seen.last().uri, "/items?since=3");
}

/// `GET /poll` on the backend: the first answer points at itself with `c=1`, the second at
/// another origin (echoing the query key); the other origin answers 202 without a `Location`.
async fn chained(State((seen, other)): State<(Recorder, String)>, request: Request) -> Response {
    let seen = seen.record(request).await;
    // The second answer echoes the query key, as a backend that builds its Location from the request would.
    let next = if seen.uri.contains("c=1") {
        format!("{other}/elsewhere?c=2&key={KEY}")
    } else {
        "/poll?c=1".to_string()
    };
    (StatusCode::ACCEPTED, [("location", next)]).into_response()
}

async fn bare(State(seen): State<Recorder>, request: Request) -> StatusCode {
    seen.record(request).await;
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn credentials_go_to_a_location_on_the_backend_origin_and_nowhere_else() {
    let elsewhere = Recorder::default();
    let other = serve(Router::new().route("/elsewhere", get(bare)).with_state(elsewhere.clone())).await;
    let backend = Recorder::default();
    let state = (backend.clone(), format!("http://{other}"));
    let addr = serve(Router::new().route("/poll", get(chained)).with_state(state)).await;
    let paths = json!({"/poll": {"get": {
        "operationId": "OnChange", "summary": "When something changes", "description": "Changes.",
        "x-ms-trigger": "single",
        "parameters": [{"name": "X-Scope", "in": "header", "type": "string", "required": true}],
        "responses": {"200": {"description": "A change"}, "202": {"description": "Nothing new"}}
    }}});
    let policy = json!([{"templateId": "setheader", "title": "Client", "parameters": {
        "x-ms-apimTemplateParameter.name": "X-Client", "x-ms-apimTemplateParameter.value": "patchbay",
        "x-ms-apimTemplate-policySection": "Request"}}]);
    let connector = package("chained", &swagger(&addr.to_string(), "query", paths), &properties(policy));
    let conn = connection(&connector);
    let rt = runtime(true);
    let trigger = inputs(json!({"X-Scope": "all"}));

    let first = poll(&rt, &connector, &conn, "OnChange", &trigger, &PollState::default()).await.unwrap();
    let expected = format!("http://{addr}/poll?c=1");
    assert_eq!(first.next_state.location.as_deref(), Some(expected.as_str()), "resolved against the request");
    let second = poll(&rt, &connector, &conn, "OnChange", &trigger, &first.next_state).await.unwrap();
    let same_origin = backend.last();
    assert_eq!(same_origin.uri, format!("/poll?c=1&key={KEY}"), "the query key follows on the same origin");
    assert_eq!(same_origin.headers["x-client"], "patchbay", "request policies' headers too");
    assert_eq!(same_origin.headers["x-scope"], "all", "and header parameters");

    let elsewhere_url = format!("http://{other}/elsewhere?c=2");
    assert_eq!(
        second.next_state.location.as_deref(),
        Some(elsewhere_url.as_str()),
        "the echoed key is not stored"
    );
    let third = poll(&rt, &connector, &conn, "OnChange", &trigger, &second.next_state).await.unwrap();
    assert_eq!(third.status, 202);
    let away = elsewhere.last();
    assert_eq!(away.uri, "/elsewhere?c=2", "no key in the query on another origin");
    for header in ["x-client", "x-scope", "authorization", "x-key"] {
        assert!(!away.headers.contains_key(header), "{header} leaked to another origin: {:?}", away.headers);
    }
    assert_eq!(third.next_state, second.next_state, "a 202 without Location keeps the location");
    let record = format!("{:?}", [&first.exchanges, &second.exchanges, &third.exchanges]);
    assert!(!record.contains(KEY), "the key leaked into a record: {record}");
}

#[tokio::test]
async fn only_polling_triggers_are_polled_and_the_ssrf_guard_applies() {
    let (api, connector, conn) = contoso().await;
    let rt = runtime(true);
    let none = Inputs::new();
    let state = PollState::default();
    let err = poll(&rt, &connector, &conn, "ListProjects", &none, &state).await.unwrap_err();
    assert!(matches!(&err, InvokeError::NotATrigger { .. }) && err.to_string().contains("action"), "{err}");
    let err = poll(&rt, &connector, &conn, "OnTaskEvent", &none, &state).await.unwrap_err();
    assert!(err.to_string().contains("webhook trigger"), "{err}");
    let err = poll(&rt, &connector, &conn, "NoSuchTrigger", &none, &state).await.unwrap_err();
    assert!(matches!(err, InvokeError::UnknownOperation(_)), "{err}");
    assert_eq!(connector.trigger_kind("OnNewOrUpdatedTasks"), Some(patchbay_runtime::TriggerKind::Polling));
    assert_eq!(connector.trigger_kind("OnTaskEvent"), Some(patchbay_runtime::TriggerKind::Webhook));
    assert_eq!(connector.trigger_kind("ListProjects"), None);

    let guarded = runtime(false);
    let err = poll(&guarded, &connector, &conn, "OnNewOrUpdatedTasks", &none, &state).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(m) if m.contains("refused")), "{err}");
    // A stored Location goes through the guard as well.
    let state = PollState { location: Some("http://127.0.0.1:9/poll".into()), ..PollState::default() };
    let err = poll(&guarded, &connector, &conn, "OnNewOrUpdatedTasks", &none, &state).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(m) if m.contains("refused")), "{err}");
    api.shutdown().await.unwrap();
}
