//! An `OpenApiConnection` flow against the Contoso Tasks sample API through patchbay-runtime.

mod common;

use std::path::Path;
use std::sync::Arc;

use patchbay_engine::{
    ActionResult, BoxFuture, Definition, FlowEnvironment, Invocation, RunStatus, TriggerOutputs, run_flow,
};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::{RetryPolicy, TransportOptions};
use patchbay_runtime::{Call, Outcome, Runtime, RuntimeOptions};
use serde_json::{Map, Value, json};

/// Connection `contoso` is the sample package pointed at a running server.
struct ContosoEnv {
    runtime: Runtime,
    connector: CompiledConnector,
    connection: ConnectionValues,
}

impl FlowEnvironment for ContosoEnv {
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
        _action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            if connection_name != "contoso" {
                return Err(format!("unknown connection {connection_name}"));
            }
            let call = Call {
                connector: &self.connector,
                operation_id,
                connection: &self.connection,
                inputs: &inputs,
            };
            let invoked = self.runtime.invoke(call).await.map_err(|e| e.to_string())?;
            match invoked.outcome {
                Outcome::Done(r) => {
                    let headers = r
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or_default().into())))
                        .collect();
                    let result =
                        ActionResult { status_code: r.status.as_u16(), headers, body: r.body.to_value() };
                    Ok(Invocation::Done(result))
                }
                Outcome::Pending { .. } => Err("still running".into()),
            }
        })
    }

    fn http<'a>(
        &'a self,
        _m: &'a str,
        _u: &'a str,
        _h: Map<String, Value>,
        _b: Option<Value>,
        _k: &'a str,
    ) -> BoxFuture<'a, Result<ActionResult, String>> {
        Box::pin(async { Err("no HTTP in this test".to_string()) })
    }
}

async fn contoso() -> (contoso_tasks::Running, ContosoEnv) {
    let api = contoso_tasks::start(contoso_tasks::Config::default()).await.expect("the sample API starts");
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso-tasks/connector");
    let mut connector = patchbay_spec::load_path(&package).connector.expect("the sample package loads");
    connector.backend.host = Some(api.addr.to_string());
    connector.backend.schemes = vec!["http".into()];
    let connection = ConnectionValues::new("conn-1")
        .with_parameter_set("apiKey")
        .with_value("api_key", contoso_tasks::DEMO_API_KEY)
        .with_secrets_from(&connector);
    let transport = TransportOptions { allow_loopback: true, ..TransportOptions::default() };
    let runtime =
        Runtime::new(transport, RuntimeOptions { retry: RetryPolicy::None, ..RuntimeOptions::default() })
            .unwrap();
    let env = ContosoEnv { runtime, connector: CompiledConnector::compile(Arc::new(connector)), connection };
    (api, env)
}

fn flow() -> Value {
    json!({"properties": {"definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Button", "inputs": {}}},
        "actions": {
            "Create_project": {"type": "OpenApiConnection", "runAfter": {},
                "inputs": {"host": {"connectionName": "contoso", "operationId": "CreateProject"},
                           "parameters": {"body/name": "@triggerBody()?['project']"}}},
            "Create_task": {"type": "OpenApiConnection", "runAfter": {"Create_project": ["Succeeded"]},
                "inputs": {"host": {"connectionName": "contoso", "operationId": "CreateTask"},
                           "parameters": {"projectId": "@body('Create_project')?['id']",
                                          "body": {"title": "@{triggerBody()?['task']} (@{outputs('Create_project')?['body/name']})"}},
                           "retryPolicy": {"type": "none"}}},
            "Missing": {"type": "OpenApiConnection", "runAfter": {"Create_task": ["Succeeded"]},
                "inputs": {"host": {"connectionName": "contoso", "operationId": "GetTask"},
                           "parameters": {"taskId": "does-not-exist"}}},
            "Reply": {"type": "Response", "runAfter": {"Missing": ["Failed"]},
                "inputs": {"statusCode": "@outputs('Create_task')?['statusCode']", "body": "@body('Create_task')"}}
        }
    }}})
}

#[tokio::test]
async fn creates_a_project_then_a_task_in_it_and_answers_with_the_task() {
    let (api, env) = contoso().await;
    let def = Definition::parse(&flow()).expect("the flow loads");
    let trigger =
        TriggerOutputs { headers: Map::new(), body: json!({"project": "Launch", "task": "Write notes"}) };
    let run = run_flow(&def, trigger, &env).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:#?}", run.actions);
    let project_id = run.actions[0].outputs["body"]["id"].clone();
    assert!(project_id.is_string(), "{:#?}", run.actions[0]);
    let response = run.response.expect("the flow answered");
    assert_eq!(response.status_code, 201);
    assert_eq!(response.body["title"], json!("Write notes (Launch)"));
    assert_eq!(response.body["projectId"], project_id);
    let missing = run.actions.iter().find(|a| a.name == "Missing").unwrap();
    assert_eq!(missing.error.as_ref().unwrap()["code"], json!("404"));
    api.shutdown().await.unwrap();
}
