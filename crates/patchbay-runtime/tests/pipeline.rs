//! The whole pipeline against the Contoso Tasks sample API and its real connector package:
//! binding, API-key security, the package's `setheader` policy, long-running export (waited and
//! handed back), paging, masking, and errors.

use patchbay_runtime::bind::{BindError, Inputs};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::{LongRunningOptions, PollStep, RetryPolicy, TransportOptions};
use patchbay_runtime::{Call, InvokeError, Outcome, Runtime, RuntimeOptions};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    api: contoso_tasks::Running,
    connector: CompiledConnector,
    connection: ConnectionValues,
}

async fn fixture(key: &str) -> Fixture {
    let config =
        contoso_tasks::Config { retry_after_secs: 0, export_polls: 2, ..contoso_tasks::Config::default() };
    let api = contoso_tasks::start(config).await.expect("sample API starts");
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso-tasks/connector");
    let mut connector = patchbay_spec::load_path(&package).connector.expect("the sample package loads");
    connector.backend.host = Some(api.addr.to_string());
    connector.backend.schemes = vec!["http".into()];
    let connection = ConnectionValues::new("conn-1")
        .with_parameter_set("apiKey")
        .with_value("api_key", key)
        .with_secrets_from(&connector);
    Fixture { api, connector: CompiledConnector::compile(Arc::new(connector)), connection }
}

fn runtime(options: RuntimeOptions) -> Runtime {
    Runtime::new(TransportOptions { allow_loopback: true, ..TransportOptions::default() }, options).unwrap()
}

fn quick() -> RuntimeOptions {
    let long_running =
        LongRunningOptions { default_interval: Duration::from_millis(10), ..LongRunningOptions::default() };
    RuntimeOptions {
        retry: RetryPolicy::None,
        long_running,
        record_exchanges: true,
        ..RuntimeOptions::default()
    }
}

fn inputs(v: Value) -> Inputs {
    v.as_object().cloned().unwrap()
}

async fn call(
    rt: &Runtime,
    f: &Fixture,
    op: &str,
    input: Value,
) -> Result<(u16, Value, Vec<String>), InvokeError> {
    let input = inputs(input);
    let call = Call { connector: &f.connector, operation_id: op, connection: &f.connection, inputs: &input };
    let invoked = rt.invoke(call).await?;
    let exchanges = invoked
        .exchanges
        .iter()
        .map(|e| format!("{}\n{}", e.request, e.response.clone().unwrap_or_default()))
        .collect();
    match invoked.outcome {
        Outcome::Done(r) => Ok((r.status.as_u16(), r.body.to_value(), exchanges)),
        Outcome::Pending { .. } => panic!("expected a final response"),
    }
}

#[tokio::test]
async fn creates_and_reads_through_the_package_with_its_policy_and_no_secret_in_the_record() {
    let f = fixture(contoso_tasks::DEMO_API_KEY).await;
    let rt = runtime(quick());
    let (status, project, record) =
        call(&rt, &f, "CreateProject", json!({"body": {"name": "Launch"}})).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(project["name"], "Launch");
    let id = project["id"].as_str().unwrap().to_string();
    let (status, task, _) =
        call(&rt, &f, "CreateTask", json!({"projectId": id, "body/title": "Write the docs"})).await.unwrap();
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["title"], "Write the docs");
    assert_eq!(task["source"], "patchbay", "the package's setheader policy reached the backend");
    let joined = record.join("\n");
    assert!(joined.contains("x-api-key: ***"), "{joined}");
    assert!(!joined.contains(contoso_tasks::DEMO_API_KEY), "the key leaked into the record: {joined}");
    f.api.shutdown().await.unwrap();
}

#[tokio::test]
async fn long_running_export_is_polled_until_done_or_handed_back() {
    let f = fixture(contoso_tasks::DEMO_API_KEY).await;
    let rt = runtime(quick());
    let (_, project, _) =
        call(&rt, &f, "CreateProject", json!({"body": {"name": "Export me"}})).await.unwrap();
    let id = project["id"].as_str().unwrap().to_string();
    let (status, result, _) = call(&rt, &f, "ExportProject", json!({"projectId": id})).await.unwrap();
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["project"]["name"], "Export me", "{result}");

    let handing_back = runtime(RuntimeOptions { wait_for_completion: false, ..quick() });
    let input = inputs(json!({"projectId": id}));
    let call = Call {
        connector: &f.connector,
        operation_id: "ExportProject",
        connection: &f.connection,
        inputs: &input,
    };
    let Outcome::Pending { pending, headers } = handing_back.invoke(call).await.unwrap().outcome else {
        panic!("expected the pending state");
    };
    assert!(pending.location.path().starts_with("/jobs/"), "{}", pending.location);
    let mut step = handing_back.transport.poll_once(&pending, headers.clone()).await.unwrap();
    for _ in 0..5 {
        match step {
            PollStep::Done(done) => {
                assert_eq!(done.status, 200);
                f.api.shutdown().await.unwrap();
                return;
            }
            PollStep::Pending(p) => {
                step = handing_back.transport.poll_once(&p, headers.clone()).await.unwrap()
            }
        }
    }
    panic!("the export never finished");
}

#[tokio::test]
async fn pageable_lists_follow_next_links_up_to_the_limit() {
    let f = fixture(contoso_tasks::DEMO_API_KEY).await;
    let rt = runtime(RuntimeOptions { page_limit: Some(100), ..quick() });
    let (_, project, _) = call(&rt, &f, "CreateProject", json!({"body": {"name": "Many"}})).await.unwrap();
    let id = project["id"].as_str().unwrap().to_string();
    for i in 0..5 {
        call(&rt, &f, "CreateTask", json!({"projectId": id, "body": {"title": format!("t{i}")}}))
            .await
            .unwrap();
    }
    let (status, list, record) =
        call(&rt, &f, "ListTasks", json!({"projectId": id, "$top": 2})).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(list["value"].as_array().unwrap().len(), 5, "{list}");
    assert!(record[0].contains("%24top=2") || record[0].contains("$top=2"), "{}", record[0]);
    f.api.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_key_comes_back_as_the_backend_status_and_bad_inputs_name_the_parameter() {
    let f = fixture("not-the-key").await;
    let rt = runtime(quick());
    let (status, body, record) = call(&rt, &f, "ListProjects", json!({})).await.unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(!record.join("\n").contains("not-the-key"));
    let err = call(&rt, &f, "CreateTask", json!({"body": {"title": "x"}})).await.unwrap_err();
    assert!(
        matches!(&err, InvokeError::Bind(BindError::Missing { name, .. }) if name == "projectId"),
        "{err}"
    );
    let err = call(&rt, &f, "NoSuchOperation", json!({})).await.unwrap_err();
    assert_eq!(err.to_string(), "the connector has no operation `NoSuchOperation`");
    f.api.shutdown().await.unwrap();
}

#[tokio::test]
async fn dynamic_values_come_from_the_operation_the_extension_names() {
    use patchbay_runtime::dynamic::{DynamicOption, DynamicRequest};
    let f = fixture(contoso_tasks::DEMO_API_KEY).await;
    let rt = runtime(quick());
    let (_, a, _) = call(&rt, &f, "CreateProject", json!({"body": {"name": "Alpha"}})).await.unwrap();
    let (_, b, _) = call(&rt, &f, "CreateProject", json!({"body": {"name": "Beta"}})).await.unwrap();
    let known = Inputs::new();
    let request = DynamicRequest {
        connector: &f.connector,
        operation_id: "ListTasks",
        parameter: "projectId",
        connection: &f.connection,
        known: &known,
    };
    let options = rt.dynamic_values(request).await.unwrap();
    assert_eq!(
        options,
        vec![
            DynamicOption { value: a["id"].clone(), title: "Alpha".into() },
            DynamicOption { value: b["id"].clone(), title: "Beta".into() },
        ]
    );
    f.api.shutdown().await.unwrap();
}
