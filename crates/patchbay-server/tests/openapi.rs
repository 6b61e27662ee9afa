//! The server's own API description (OpenAPI 3.1, generated from the annotated handlers): its shape,
//! its committed copy in `docs/api/openapi.json`, and that every documented route is served.
//! Regenerate the copy with `UPDATE_DOCS=1 cargo test -p patchbay-server --test openapi`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Harness, documented_routes};
use serde_json::Value;

/// Routes anyone may call: no bearer requirement in the document.
const ANONYMOUS: [&str; 5] = ["/healthz", "/readyz", "/metrics", "/api/openapi.json", "/oauth/callback"];

fn anonymous(path: &str) -> bool {
    // Tunnels (the id is the proof) and the node-to-node relay (the nodes' credential) take no bearer.
    ANONYMOUS.contains(&path)
        || path.starts_with("/hooks/")
        || path.starts_with("/t/")
        || path.ends_with("/relay")
}

fn document() -> Value {
    serde_json::to_value(patchbay_server::routes::openapi()).expect("the document serializes")
}

/// Every `$ref` string in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => refs(item, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_describes_every_operation() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "patchbay");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let mut ids = BTreeSet::new();
    let mut problems = Vec::new();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 20, "{} paths", paths.len());
    for (path, item) in paths {
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        assert!(!path.contains('*'), "{path}: axum's catch-all syntax leaked into the document");
        for (method, op) in item.as_object().expect("a path item") {
            let at = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default();
            if id.is_empty() || !ids.insert(id.to_owned()) {
                problems.push(format!("{at}: operationId `{id}` missing or not unique"));
            }
            if op["summary"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: no summary"));
            }
            if op["responses"].as_object().is_none_or(|r| r.is_empty()) {
                problems.push(format!("{at}: no responses"));
            }
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if declared != templated {
                problems.push(format!("{at}: path parameters {declared:?}, template has {templated:?}"));
            }
            let bearer =
                op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if anonymous(path) == bearer {
                problems
                    .push(format!("{at}: bearer requirement {bearer}, anonymous route {}", anonymous(path)));
            }
            if bearer && op["responses"].get("401").is_none() {
                problems.push(format!("{at}: needs a token but documents no 401"));
            }
            if ["post", "put"].contains(&method.as_str())
                && op.get("requestBody").is_none()
                && !matches!(
                    id,
                    "publishConnector"
                        | "testConnection"
                        | "enableTrigger"
                        | "disableTrigger"
                        | "pollTriggerNow"
                        | "enableFlow"
                        | "disableFlow"
                        | "resubmitRun"
                        | "cancelRun"
                )
            {
                problems.push(format!("{at}: no request body"));
            }
        }
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    for target in targets {
        let pointer = target.strip_prefix('#').unwrap_or(target);
        if doc.pointer(pointer).is_none() {
            problems.push(format!("`$ref` {target} points nowhere"));
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail", "{error}");
    assert!(problems.is_empty(), "the API description:\n{}", problems.join("\n"));
}

#[test]
fn the_committed_copy_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json");
    let generated = patchbay_server::openapi::document_json();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create docs/api");
        std::fs::write(&path, generated).expect("write docs/api/openapi.json");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/api/openapi.json is out of date; run UPDATE_DOCS=1 cargo test -p patchbay-server --test openapi"
    );
}

server_test!(every_documented_route_is_served_and_the_document_needs_no_token, |db| {
    let h = Harness::start(&db).await;
    let mut unserved = Vec::new();
    for (method, template) in documented_routes() {
        let path = template
            .split('/')
            .map(|segment| if segment.starts_with('{') { "x" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        let (status, body) = h.admin.send(method.clone(), &path, Some(&serde_json::json!({}))).await;
        let code = body["error"]["code"].as_str().unwrap_or_default();
        if matches!(code, "no_route" | "method_not_allowed") || status == 405 {
            unserved.push(format!("{method} {template} ({path}): {status} {body}"));
        }
    }
    assert!(unserved.is_empty(), "documented but not served:\n{}", unserved.join("\n"));
    let (status, served) = h.admin.with_token("").get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(served, document());
    let (status, body) = h.admin.get("/api/nothing-here").await;
    assert_eq!((status, &body["error"]["code"]), (404, &serde_json::json!("no_route")), "the control");
    h.stop().await;
});

#[test]
fn patchbay_imports_its_own_description_as_a_connector() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api/openapi.json");
    let loaded = patchbay_spec::load_path(&path);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == patchbay_spec::Severity::Error)
        .map(|d| d.to_json().to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let connector = loaded.connector.expect("the description loads as a connector");
    let mut ids: Vec<String> = connector.operations().filter_map(|(_, op)| op.id.clone()).collect();
    ids.sort();
    let documented = documented_routes().len();
    assert_eq!(ids.len(), documented, "every documented operation is imported: {ids:?}");
}
