//! Webhook triggers through the whole pipeline: a Contoso Tasks subscription whose notifications
//! really arrive at a local receiver until it is unsubscribed; a `Location` supplied by a
//! `setheader` response policy; the unsubscribe through the connector's own `DELETE` operation
//! (its parameters, policies and credentials) or as a plain `DELETE` that carries credentials only
//! to the backend's origin; refusals, wrong operations and the SSRF guard.

mod support_transport;
mod support_trigger;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::{
    Call, InvokeError, Outcome, Runtime, SubscribeCall, Subscribed, UnsubscribeCall, unsubscribed,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support_transport::serve;
use support_trigger::{KEY, Recorder, connection, contoso, inputs, package, properties, runtime, swagger};
use url::Url;

async fn subscribe(
    rt: &Runtime,
    connector: &CompiledConnector,
    connection: &ConnectionValues,
    operation_id: &str,
    input: Value,
    callback_url: &str,
) -> Result<Subscribed, InvokeError> {
    let input = inputs(input);
    rt.subscribe(SubscribeCall { connector, operation_id, connection, inputs: &input, callback_url }).await
}

async fn unsubscribe(
    rt: &Runtime,
    connector: &CompiledConnector,
    connection: &ConnectionValues,
    location: &Url,
) -> Result<u16, InvokeError> {
    rt.unsubscribe(UnsubscribeCall { connector, connection, location }).await
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

async fn accept(State(seen): State<Recorder>, request: Request) -> StatusCode {
    seen.record(request).await;
    StatusCode::ACCEPTED
}

/// Waits up to five seconds for `count` requests at the recorder.
async fn wait_for(seen: &Recorder, count: usize) {
    let start = Instant::now();
    while seen.all().len() < count && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn contoso_notifications_arrive_until_the_subscription_is_removed() {
    let (api, connector, conn) = contoso().await;
    let rt = runtime(true);
    let received = Recorder::default();
    let receiver =
        serve(Router::new().route("/callbacks/{token}", post(accept)).with_state(received.clone())).await;
    let callback = format!("http://{receiver}/callbacks/sig-7Hq2x9");
    let project = invoke(&rt, &connector, &conn, "CreateProject", json!({"body": {"name": "Hooked"}})).await;
    let project_id = project["id"].as_str().unwrap().to_string();

    // Whatever the inputs hold at the notification URL is replaced by the callback URL.
    let stale = json!({"body": {"event": "taskCreated", "projectId": project_id, "callbackUrl": "http://stale.example/cb"}});
    let subscribed = subscribe(&rt, &connector, &conn, "OnTaskEvent", stale, &callback).await.unwrap();
    assert_eq!(subscribed.status, 201, "{}", subscribed.body);
    assert!(subscribed.succeeded());
    assert_eq!(subscribed.body["callbackUrl"], callback.as_str());
    let location = subscribed.location.clone().expect("contoso answers a Location");
    assert!(location.path().starts_with("/hooks/"), "{location}");
    let record = &subscribed.exchanges[0].request;
    assert!(!record.contains("sig-7Hq2x9") && !record.contains(contoso_tasks::DEMO_API_KEY), "{record}");
    let hooks = invoke(&rt, &connector, &conn, "ListHooks", json!({})).await;
    assert_eq!(hooks["value"].as_array().map(Vec::len), Some(1), "{hooks}");

    // A task is created: contoso posts the event to the receiver.
    invoke(&rt, &connector, &conn, "CreateTask", json!({"projectId": project_id, "body/title": "Notify me"}))
        .await;
    wait_for(&received, 1).await;
    let notification = received.last();
    assert_eq!(notification.uri, "/callbacks/sig-7Hq2x9");
    let event: Value = serde_json::from_str(&notification.body).unwrap();
    assert_eq!(event["event"], "taskCreated");
    assert_eq!(event["task"]["title"], "Notify me");

    // Unsubscribed: the hook is gone, a second DELETE answers 404 (still "removed"), no more events.
    let status = unsubscribe(&rt, &connector, &conn, &location).await.unwrap();
    assert_eq!(status, 204);
    assert!(unsubscribed(status));
    let hooks = invoke(&rt, &connector, &conn, "ListHooks", json!({})).await;
    assert_eq!(hooks["value"], json!([]), "{hooks}");
    let again = unsubscribe(&rt, &connector, &conn, &location).await.unwrap();
    assert_eq!(again, 404);
    assert!(unsubscribed(again));
    invoke(&rt, &connector, &conn, "CreateTask", json!({"projectId": project_id, "body/title": "Silent"}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received.all().len(), 1, "no notification after the unsubscribe");
    api.shutdown().await.unwrap();
}

/// A webhook API: `POST /webhooks` answers 200 `{"id": "w1"}` without a `Location` (400 for the
/// filter `bad`, 202 with a relative `Location` for `later`); `DELETE /webhooks/{id}` answers 200
/// once, then 404.
#[derive(Clone, Default)]
struct HookApi {
    seen: Recorder,
    deletes: Arc<AtomicUsize>,
}

async fn hooks(State(api): State<HookApi>, request: Request) -> Response {
    let seen = api.seen.record(request).await;
    match seen.method.as_str() {
        "POST" if seen.body.contains("\"bad\"") => {
            (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "unknown filter"}))).into_response()
        }
        "POST" if seen.body.contains("\"later\"") => {
            (StatusCode::ACCEPTED, [("location", "/webhooks/w2")], axum::Json(json!({"id": "w2"})))
                .into_response()
        }
        "POST" => axum::Json(json!({"id": "w1"})).into_response(),
        _ if api.deletes.fetch_add(1, Ordering::SeqCst) == 0 => StatusCode::OK.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn hook_package(host: &str) -> CompiledConnector {
    let paths = json!({
        "/webhooks": {
            "x-ms-notification-content": {"description": "An event", "schema": {"type": "object"}},
            "post": {
                "operationId": "OnEvent", "summary": "When an event happens", "description": "Events.",
                "x-ms-trigger": "single",
                "parameters": [{"name": "subscription", "in": "body", "required": true, "schema": {
                    "type": "object",
                    "properties": {
                        "notification": {"type": "object", "properties": {
                            "url": {"type": "string", "x-ms-notification-url": true, "x-ms-visibility": "internal"}}},
                        "filter": {"type": "string"}
                    }}}],
                "responses": {"200": {"description": "Subscribed"}}
            }
        },
        "/events": {"get": {
            "operationId": "OnPolledEvent", "summary": "When an event is found", "description": "Polled.",
            "x-ms-trigger": "batch", "responses": {"200": {"description": "Events"}}
        }},
        "/webhooks/{id}": {"delete": {
            "operationId": "RemoveHook", "summary": "Remove a subscription", "description": "Removes it.",
            "x-ms-visibility": "internal",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "type": "string"},
                {"name": "X-Reason", "in": "header", "required": true, "type": "string",
                 "default": "trigger-removed", "x-ms-visibility": "internal"}
            ],
            "responses": {"200": {"description": "Removed"}}
        }}
    });
    let policies = json!([
        {"templateId": "setheader", "title": "Subscription URL", "parameters": {
            "x-ms-apimTemplate-operationName": ["OnEvent"],
            "x-ms-apimTemplateParameter.name": "Location",
            "x-ms-apimTemplateParameter.value": format!("http://{host}/webhooks/{{@body().id}}"),
            "x-ms-apimTemplate-policySection": "Response"}},
        {"templateId": "setheader", "title": "Client", "parameters": {
            "x-ms-apimTemplate-operationName": ["RemoveHook"],
            "x-ms-apimTemplateParameter.name": "X-Client",
            "x-ms-apimTemplateParameter.value": "patchbay",
            "x-ms-apimTemplate-policySection": "Request"}}
    ]);
    package("hooks", &swagger(host, "header", paths), &properties(policies))
}

#[tokio::test]
async fn a_setheader_policy_supplies_the_location_and_the_delete_operation_removes_it() {
    let api = HookApi::default();
    let addr = serve(
        Router::new()
            .route("/webhooks", any(hooks))
            .route("/webhooks/{id}", any(hooks))
            .with_state(api.clone()),
    )
    .await;
    let connector = hook_package(&addr.to_string());
    let conn = connection(&connector);
    let rt = runtime(true);
    let callback = "https://flows.example/callbacks/abc?sig=s3cr3t";

    // The callback URL lands in the nested property, over a flattened input that said otherwise.
    let input = json!({"subscription/notification/url": "http://old.example", "subscription/filter": "all"});
    let subscribed = subscribe(&rt, &connector, &conn, "OnEvent", input, callback).await.unwrap();
    assert_eq!(subscribed.status, 200);
    let sent: Value = serde_json::from_str(&api.seen.last().body).unwrap();
    assert_eq!(sent, json!({"notification": {"url": callback}, "filter": "all"}));
    assert_eq!(api.seen.last().headers["x-key"], KEY);
    let location = subscribed.location.clone().expect("the response policy added the Location");
    assert_eq!(location.as_str(), format!("http://{addr}/webhooks/w1"));
    assert!(!format!("{:?}", subscribed.exchanges).contains("s3cr3t"), "the callback URL is masked");

    // The unsubscribe matches `RemoveHook`: its path value, header default, policy and key apply.
    let status = unsubscribe(&rt, &connector, &conn, &location).await.unwrap();
    assert_eq!(status, 200);
    let delete = api.seen.last();
    assert_eq!((delete.method.as_str(), delete.uri.as_str()), ("DELETE", "/webhooks/w1"));
    assert_eq!(delete.headers["x-key"], KEY);
    assert_eq!(delete.headers["x-client"], "patchbay");
    assert_eq!(delete.headers["x-reason"], "trigger-removed");
    assert_eq!(unsubscribe(&rt, &connector, &conn, &location).await.unwrap(), 404);

    // A refusal is an answer with its status and body, not an error.
    let refused =
        subscribe(&rt, &connector, &conn, "OnEvent", json!({"subscription": {"filter": "bad"}}), callback)
            .await
            .unwrap();
    assert_eq!(refused.status, 400);
    assert!(!refused.succeeded());
    assert!(refused.location.is_none());
    assert_eq!(refused.body["error"], "unknown filter");

    // A 202 with a Location is a subscription, not a long-running job to poll.
    let later =
        subscribe(&rt, &connector, &conn, "OnEvent", json!({"subscription": {"filter": "later"}}), callback)
            .await
            .unwrap();
    assert_eq!(later.status, 202);
    assert_eq!(later.location.map(String::from), Some(format!("http://{addr}/webhooks/w2")));
    assert_eq!(later.exchanges.len(), 1, "the Location was not polled");

    // Only webhook triggers subscribe.
    let err = subscribe(&rt, &connector, &conn, "OnPolledEvent", json!({}), callback).await.unwrap_err();
    assert!(matches!(&err, InvokeError::NotATrigger { .. }) && err.to_string().contains("polling"), "{err}");
    let err = subscribe(&rt, &connector, &conn, "RemoveHook", json!({}), callback).await.unwrap_err();
    assert!(err.to_string().contains("action"), "{err}");
}

#[tokio::test]
async fn a_plain_delete_carries_credentials_only_to_the_backend_origin_and_is_guarded() {
    let backend = Recorder::default();
    let addr = serve(Router::new().route("/other/{id}", any(accept)).with_state(backend.clone())).await;
    let elsewhere = Recorder::default();
    let other = serve(Router::new().route("/subs/{id}", any(accept)).with_state(elsewhere.clone())).await;
    let connector = hook_package(&addr.to_string());
    let conn = connection(&connector);
    let rt = runtime(true);

    // Same origin, no DELETE operation for the path: a plain DELETE with the connection's key.
    let here = Url::parse(&format!("http://{addr}/other/s1")).unwrap();
    assert_eq!(unsubscribe(&rt, &connector, &conn, &here).await.unwrap(), 202);
    let seen = backend.last();
    assert_eq!((seen.method.as_str(), seen.uri.as_str()), ("DELETE", "/other/s1"));
    assert_eq!(seen.headers["x-key"], KEY);
    assert!(!seen.headers.contains_key("x-client"), "no operation matched, so no operation policy ran");

    // Another origin: a bare DELETE.
    let away = Url::parse(&format!("http://{other}/subs/s2")).unwrap();
    assert_eq!(unsubscribe(&rt, &connector, &conn, &away).await.unwrap(), 202);
    let seen = elsewhere.last();
    assert_eq!(seen.method, "DELETE");
    assert!(!seen.headers.contains_key("x-key"), "the key leaked to another origin: {:?}", seen.headers);

    // The SSRF guard refuses loopback unless allowed.
    let guarded = runtime(false);
    let err = unsubscribe(&guarded, &connector, &conn, &here).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(m) if m.contains("refused")), "{err}");
    let err = subscribe(&guarded, &connector, &conn, "OnEvent", json!({}), "https://flows.example/cb")
        .await
        .unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(m) if m.contains("refused")), "{err}");
    assert_eq!(backend.all().len(), 1, "nothing reached the backend through the guard");
}
