//! Test environments.
#![allow(dead_code)]

pub mod durable;

use std::time::Duration;

use patchbay_engine::{
    BoxFuture, Definition, FlowEnvironment, Invocation, RunRecord, TriggerOutputs, run_flow,
};
use serde_json::{Map, Value};

/// No connectors, no HTTP; waits are capped at 5 ms.
pub struct LocalEnv;

impl FlowEnvironment for LocalEnv {
    fn invoke<'a>(
        &'a self,
        c: &'a str,
        o: &'a str,
        _i: Map<String, Value>,
        _key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move { Err(format!("no connector for {c}/{o}")) })
    }

    fn http<'a>(
        &'a self,
        _m: &'a str,
        uri: &'a str,
        _h: Map<String, Value>,
        _b: Option<Value>,
        _key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move { Err(format!("cannot reach {uri}")) })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration.min(Duration::from_millis(5))))
    }
}

/// Loads `doc` (panics on a load error, with the diagnostics).
pub fn load(doc: Value) -> Definition {
    match Definition::parse(&doc) {
        Ok(d) => d,
        Err(e) => panic!("the definition loads:\n{e}"),
    }
}

/// Runs `doc` with `body` as the trigger body.
pub async fn run(doc: Value, body: Value) -> RunRecord {
    let def = load(doc);
    run_flow(&def, TriggerOutputs { headers: Map::new(), body }, &LocalEnv).await
}

/// The status of the last record of `name`.
pub fn status(run: &RunRecord, name: &str) -> String {
    run.actions
        .iter()
        .rev()
        .find(|a| a.name == name)
        .map_or("absent".into(), |a| a.status.as_str().to_string())
}

/// The outputs of the last record of `name`.
pub fn outputs(run: &RunRecord, name: &str) -> Value {
    run.actions.iter().rev().find(|a| a.name == name).map(|a| a.outputs.clone()).unwrap_or_default()
}
