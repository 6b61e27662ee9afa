//! The connector package in `connector/` and the code agree.
//!
//! * Every route of [`contoso_tasks::api_routes`] (the table the router is built from) is
//!   described in the Swagger `paths` with the same method and operationId, and vice versa.
//! * Every described operation is answered by a running server with a documented 2xx status
//!   when called with plausible parameters derived from the package itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use contoso_tasks::api_routes;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::common::{Receiver, Server, header, json_of, start};

const SWAGGER: &str = include_str!("../../connector/apiDefinition.swagger.json");
const PROPERTIES: &str = include_str!("../../connector/apiProperties.json");
const METHODS: [&str; 7] = ["get", "put", "post", "patch", "delete", "head", "options"];

fn swagger() -> Value {
    serde_json::from_str(SWAGGER).expect("apiDefinition.swagger.json is valid JSON")
}

fn properties() -> Value {
    serde_json::from_str(PROPERTIES).expect("apiProperties.json is valid JSON")
}

/// (method, path) -> operation, for every operation in the Swagger document.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (key, op) in item.as_object().expect("path item") {
            if METHODS.contains(&key.as_str()) {
                ops.insert((key.clone(), path.clone()), op.clone());
            }
        }
    }
    ops
}

/// Follows a local `#/definitions/...` reference.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/definitions/").expect("local $ref");
            let target = &doc["definitions"][name];
            assert!(target.is_object(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

#[test]
fn package_describes_exactly_the_api_routes() {
    let doc = swagger();
    let described: BTreeMap<(String, String), String> = operations(&doc)
        .into_iter()
        .map(|(k, op)| (k, op["operationId"].as_str().unwrap_or("").to_owned()))
        .collect();
    let served: BTreeMap<(String, String), String> = api_routes()
        .into_iter()
        .map(|r| {
            let key = (r.method.as_swagger_key().to_owned(), r.path.to_owned());
            (key, r.operation_id.to_owned())
        })
        .collect();
    assert_eq!(served.len(), api_routes().len(), "duplicate routes in the table");

    let undescribed: Vec<_> = served.keys().filter(|k| !described.contains_key(*k)).collect();
    assert!(
        undescribed.is_empty(),
        "routes served by the API but missing from apiDefinition.swagger.json: {undescribed:?}"
    );
    let unserved: Vec<_> = described.keys().filter(|k| !served.contains_key(*k)).collect();
    assert!(
        unserved.is_empty(),
        "operations described in apiDefinition.swagger.json that the API does not serve: {unserved:?}"
    );
    assert_eq!(served, described, "operationIds differ between code and package");
}

fn operation_ids(doc: &Value) -> BTreeSet<String> {
    operations(doc).values().map(|op| op["operationId"].as_str().expect("operationId").to_owned()).collect()
}

#[test]
fn operations_are_well_formed() {
    let doc = swagger();
    assert_eq!(doc["swagger"], "2.0");
    assert_eq!(doc["host"], "localhost:3000");
    assert_eq!(doc["schemes"], json!(["http"]));

    let ops = operations(&doc);
    let mut ids = BTreeSet::new();
    for ((method, path), op) in &ops {
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        for field in ["summary", "description"] {
            assert!(op[field].as_str().is_some_and(|s| !s.is_empty()), "{method} {path}: {field}");
        }
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|k| k.starts_with('2')), "{id}: a 2xx response");
        // Path parameters and templates agree.
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{id}: path parameters are required");
                p["name"].as_str().unwrap()
            })
            .collect();
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect();
        assert_eq!(in_path, templated, "{id}: path parameters");
        for p in &params {
            if p["x-ms-visibility"] == "internal" && p["required"] == true {
                assert!(p.get("default").is_some(), "{id}: internal required needs default");
            }
            if let Some(dv) = p.get("x-ms-dynamic-values") {
                let target = dv["operationId"].as_str().unwrap();
                assert!(
                    ops.values().any(|o| o["operationId"] == target),
                    "{id}: dynamic values from unknown operation {target}"
                );
            }
        }
        for (code, r) in responses {
            if let Some(schema) = r.get("schema") {
                resolve(&doc, schema);
            }
            assert!(r["description"].is_string(), "{id} {code}: description");
        }
    }
}

#[test]
fn triggers_long_running_actions_and_paging_are_described() {
    let doc = swagger();
    let ops = operations(&doc);
    let by_id = |id: &str| {
        ops.iter().find(|(_, op)| op["operationId"] == id).unwrap_or_else(|| panic!("operation {id}"))
    };

    // Webhook trigger: single, notification URL property, notification content, delete op.
    let ((method, path), hook) = by_id("OnTaskEvent");
    assert_eq!((method.as_str(), path.as_str()), ("post", "/hooks"));
    assert_eq!(hook["x-ms-trigger"], "single");
    let body =
        hook["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "body").expect("body parameter");
    let callback = &resolve(&doc, &body["schema"])["properties"]["callbackUrl"];
    assert_eq!(callback["x-ms-notification-url"], true);
    assert_eq!(callback["x-ms-visibility"], "internal");
    let content = &doc["paths"]["/hooks"]["x-ms-notification-content"];
    assert!(resolve(&doc, &content["schema"])["properties"]["task"].is_object());
    assert!(hook["responses"]["201"]["headers"]["Location"].is_object());
    let ((method, path), _) = by_id("DeleteHook");
    assert_eq!((method.as_str(), path.as_str()), ("delete", "/hooks/{hookId}"));

    // Polling trigger.
    let (_, poll) = by_id("OnNewOrUpdatedTasks");
    assert_eq!(poll["x-ms-trigger"], "batch");
    assert_eq!(poll["x-ms-trigger-metadata"], json!({ "kind": "query", "mode": "polling" }));
    assert!(poll["responses"]["202"].is_object());

    // Long-running export and pageable lists.
    let (_, export) = by_id("ExportProject");
    assert!(export["responses"]["202"]["headers"]["Location"].is_object());
    assert!(export["responses"]["200"]["schema"].is_object());
    let pageable: BTreeSet<&str> = ops
        .values()
        .filter(|op| op["x-ms-pageable"] == json!({ "nextLinkName": "nextLink" }))
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(pageable, BTreeSet::from(["ListProjects", "ListTasks", "ListComments", "ListHooks"]));

    // Project pickers come from ListProjects.
    let (_, list_tasks) = by_id("ListTasks");
    let project = &list_tasks["parameters"][0];
    assert_eq!(project["name"], "projectId");
    assert_eq!(project["x-ms-dynamic-values"]["operationId"], "ListProjects");
    assert_eq!(project["x-ms-dynamic-values"]["value-collection"], "value");
}

#[test]
fn security_and_api_properties_match_the_api() {
    let doc = swagger();
    let ids = operation_ids(&doc);
    let sec = &doc["securityDefinitions"];
    assert_eq!(sec["api_key"], json!({ "type": "apiKey", "in": "header", "name": "X-API-Key" }));
    assert_eq!(sec["oauth2_auth"]["type"], "oauth2");
    assert_eq!(sec["oauth2_auth"]["flow"], "accessCode");

    let props = properties();
    let p = &props["properties"];
    assert!(p["iconBrandColor"].as_str().unwrap().starts_with('#'));
    for field in ["publisher", "stackOwner"] {
        assert!(p[field].is_string(), "{field}");
    }
    assert_eq!(p["capabilities"], json!(["actions", "triggers"]));
    let sets = p["connectionParameterSets"]["values"].as_array().unwrap();
    let names: Vec<&str> = sets.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["apiKey", "oauth"]);
    assert_eq!(sets[0]["parameters"]["api_key"]["type"], "securestring");
    let token = &sets[1]["parameters"]["token"];
    assert_eq!(token["type"], "oauthSetting");
    let oauth = &token["oAuthSettings"];
    assert_eq!(oauth["identityProvider"], "oauth2");
    assert_eq!(oauth["clientId"], contoso_tasks::DEMO_CLIENT_ID);
    let custom = &oauth["customParameters"];
    assert_eq!(custom["authorizationUrl"]["value"], "http://localhost:3000/oauth/authorize");
    assert_eq!(custom["tokenUrl"]["value"], "http://localhost:3000/oauth/token");
    assert_eq!(custom["refreshUrl"]["value"], "http://localhost:3000/oauth/token");

    let policies = p["policyTemplateInstances"].as_array().unwrap();
    let setheader = policies.iter().find(|i| i["templateId"] == "setheader").expect("setheader policy");
    assert_eq!(setheader["parameters"]["x-ms-apimTemplateParameter.name"], "X-Contoso-Client");
    for instance in policies {
        if let Some(names) = instance["parameters"]["x-ms-apimTemplate-operationName"].as_array() {
            for name in names {
                assert!(ids.contains(name.as_str().unwrap()), "policy targets unknown {name}");
            }
        }
    }
}

/// Builds a plausible value for `schema` (required properties and those with a test value).
fn sample(doc: &Value, schema: &Value, fixtures: &HashMap<&str, String>, name: &str) -> Value {
    let schema = resolve(doc, schema);
    if schema["x-ms-notification-url"] == true {
        return json!(fixtures["callbackUrl"]);
    }
    if let Some(v) = schema.get("x-ms-test-value") {
        return v.clone();
    }
    if let Some(v) = fixtures.get(name) {
        return json!(v);
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return schema.get("default").cloned().unwrap_or_else(|| first.clone());
    }
    match schema["type"].as_str() {
        Some("object") | None => {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (prop, sub) in schema["properties"].as_object().into_iter().flatten() {
                let sub_resolved = resolve(doc, sub);
                if required.contains(prop.as_str())
                    || sub_resolved.get("x-ms-test-value").is_some()
                    || sub_resolved["x-ms-notification-url"] == true
                {
                    out.insert(prop.clone(), sample(doc, sub, fixtures, prop));
                }
            }
            Value::Object(out)
        }
        Some("boolean") => json!(true),
        Some("integer" | "number") => json!(1),
        Some("array") => json!([]),
        _ => json!("sample"),
    }
}

/// Fresh resources for one call: a project, a task, a subscription and an export job.
async fn fixtures(s: &Server, callback: &str) -> HashMap<&'static str, String> {
    let p = s.create_project("fixture").await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let t = s.create_task(&pid, "fixture task").await;
    let hook = json_of(
        s.post("/hooks", &json!({ "callbackUrl": callback, "event": "taskCreated", "projectId": pid })).await,
        201,
    )
    .await;
    let job = s.post(&format!("/projects/{pid}/export"), &json!({})).await;
    let job_location = header(&job, "location");
    HashMap::from([
        ("projectId", pid),
        ("taskId", t["id"].as_str().unwrap().to_owned()),
        ("hookId", hook["id"].as_str().unwrap().to_owned()),
        ("jobId", job_location.rsplit('/').next().unwrap().to_owned()),
        ("callbackUrl", callback.to_owned()),
    ])
}

#[tokio::test]
async fn every_described_operation_is_answered() {
    let doc = swagger();
    let s = start().await;
    let receiver = Receiver::start(0).await;
    let mut answered = 0;
    for ((method, path), op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        let fx = fixtures(&s, &receiver.url).await;
        let mut url_path = path.clone();
        let mut query = Vec::new();
        let mut body = None;
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            match p["in"].as_str().unwrap() {
                "path" => {
                    let value =
                        fx.get(name).unwrap_or_else(|| panic!("{id}: no fixture for path parameter {name}"));
                    url_path = url_path.replace(&format!("{{{name}}}"), value);
                }
                "query" => {
                    let has_picker = p.get("x-ms-dynamic-values").is_some();
                    if p["required"] == true || has_picker {
                        let v = fx.get(name).cloned().unwrap_or_else(|| "1".to_owned());
                        query.push((name.to_owned(), v));
                    }
                }
                "body" => body = Some(sample(&doc, &p["schema"], &fx, name)),
                other => panic!("{id}: unexpected parameter location {other}"),
            }
        }
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = s.req(method.clone(), &url_path).query(&query);
        if let Some(b) = &body {
            req = req.json(b);
        } else if method == Method::POST {
            req = req.json(&json!({}));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(
            status.as_u16() != 405 && !(status.as_u16() == 404 && text.contains("RouteNotFound")),
            "{id}: {method} {url_path} is described but not routed ({status}: {text})"
        );
        assert!(status.is_success(), "{id}: {method} {url_path} with {body:?} answered {status}: {text}");
        assert!(op["responses"].get(status.as_str()).is_some(), "{id}: status {status} is not documented");
        answered += 1;
    }
    assert_eq!(answered, api_routes().len());
}
