//! Helpers for the trigger tests: connector packages written to a temporary folder and loaded as
//! any package is, runtimes allowed to reach 127.0.0.1, and a recorder of the requests a test
//! server saw.
#![allow(dead_code)]

use axum::extract::Request;
use http::HeaderMap;
use patchbay_runtime::bind::Inputs;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::{RetryPolicy, TransportOptions};
use patchbay_runtime::{Runtime, RuntimeOptions};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The API key of the test connections.
pub const KEY: &str = "trigger-test-key-5f1a";

/// A runtime that records exchanges, does not retry, and may reach loopback when asked.
pub fn runtime(allow_loopback: bool) -> Runtime {
    let options =
        RuntimeOptions { retry: RetryPolicy::None, record_exchanges: true, ..RuntimeOptions::default() };
    Runtime::new(TransportOptions { allow_loopback, ..TransportOptions::default() }, options)
        .expect("runtime")
}

/// An object of inputs.
pub fn inputs(value: Value) -> Inputs {
    value.as_object().cloned().expect("inputs are an object")
}

/// A fresh folder under the system's temporary directory.
fn temp_folder(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("patchbay-trigger-{label}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the package folder");
    dir
}

/// Writes a package (Swagger document and `apiProperties.json`), loads it and compiles it.
pub fn package(label: &str, swagger: &Value, properties: &Value) -> CompiledConnector {
    let dir = temp_folder(label);
    write(&dir.join("apiDefinition.swagger.json"), swagger);
    write(&dir.join("apiProperties.json"), properties);
    let loaded = patchbay_spec::load_path(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let connector =
        loaded.connector.unwrap_or_else(|| panic!("{label} did not load: {:?}", loaded.diagnostics));
    CompiledConnector::compile(Arc::new(connector))
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).expect("JSON")).expect("write a package file");
}

/// A Swagger 2.0 document for `host` with an API key (`X-Key` header or `key` query) and `paths`.
pub fn swagger(host: &str, key_in: &str, paths: Value) -> Value {
    let name = if key_in == "query" { "key" } else { "X-Key" };
    json!({
        "swagger": "2.0",
        "info": {"title": "Trigger test API", "description": "A test API.", "version": "1.0"},
        "host": host,
        "basePath": "/",
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"api_key": {"type": "apiKey", "in": key_in, "name": name}},
        "security": [{"api_key": []}],
        "paths": paths,
    })
}

/// `apiProperties.json` with the `api_key` connection parameter and these policy instances.
pub fn properties(policies: Value) -> Value {
    json!({"properties": {
        "connectionParameters": {"api_key": {"type": "securestring", "uiDefinition": {
            "displayName": "API key", "description": "The key.", "constraints": {"required": "true"}}}},
        "policyTemplateInstances": policies,
    }})
}

/// A connection holding [`KEY`].
pub fn connection(connector: &CompiledConnector) -> ConnectionValues {
    ConnectionValues::new("conn-trigger").with_value("api_key", KEY).with_secrets_from(&connector.connector)
}

/// One request a test server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

/// The requests a test server saw, shared with its handlers.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    /// Records a request and hands back its body text.
    pub async fn record(&self, request: Request) -> Seen {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
        let seen = Seen {
            method: parts.method.to_string(),
            uri: parts.uri.to_string(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        self.0.lock().expect("recorder lock").push(seen.clone());
        seen
    }

    /// Everything seen so far.
    pub fn all(&self) -> Vec<Seen> {
        self.0.lock().expect("recorder lock").clone()
    }

    /// The last request seen.
    pub fn last(&self) -> Seen {
        self.all().pop().expect("a request was recorded")
    }
}

/// The Contoso Tasks sample API (no `Retry-After` wait) and its own connector package, pointed at it.
pub async fn contoso() -> (contoso_tasks::Running, CompiledConnector, ConnectionValues) {
    let config = contoso_tasks::Config { retry_after_secs: 0, ..contoso_tasks::Config::default() };
    let api = contoso_tasks::start(config).await.expect("the sample API starts");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso-tasks/connector");
    let mut connector = patchbay_spec::load_path(&dir).connector.expect("the sample package loads");
    connector.backend.host = Some(api.addr.to_string());
    connector.backend.schemes = vec!["http".into()];
    let connection = ConnectionValues::new("conn-contoso")
        .with_parameter_set("apiKey")
        .with_value("api_key", contoso_tasks::DEMO_API_KEY)
        .with_secrets_from(&connector);
    (api, CompiledConnector::compile(Arc::new(connector)), connection)
}
