//! One test per validator rule: a small package that breaks the rule, and the code it must give.

use patchbay_spec::{Checked, Severity, check_path};
use serde_json::{Value, json};

/// Writes a package from the two documents and checks it.
fn check(swagger: Value, properties: Value, certification: bool) -> Checked {
    let dir = tempfile::tempdir().expect("temp dir");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir(&pkg).expect("mkdir");
    std::fs::write(pkg.join("apiDefinition.swagger.json"), serde_json::to_string_pretty(&swagger).unwrap())
        .unwrap();
    std::fs::write(pkg.join("apiProperties.json"), serde_json::to_string_pretty(&properties).unwrap())
        .unwrap();
    check_path(&pkg, certification)
}

fn codes(checked: &Checked) -> Vec<&'static str> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

fn base(paths: Value) -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "Tasks", "version": "1.0", "description": "Create and track tasks in the Contoso task service."},
        "host": "api.contoso.example",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": paths,
        "definitions": {"Task": {"type": "object", "properties": {"id": {"type": "string"}}}},
        "securityDefinitions": {}
    })
}

fn props() -> Value {
    json!({"properties": {"iconBrandColor": "#3a7bd5", "connectionParameters": {}}})
}

fn list_tasks() -> Value {
    json!({"get": {"operationId": "ListTasks", "summary": "List tasks", "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Task"}}}}})
}

#[test]
fn a_clean_package_has_no_findings() {
    let checked = check(base(json!({"/tasks": list_tasks()})), props(), false);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

#[test]
fn missing_and_duplicate_operation_ids_are_errors() {
    let paths = json!({
        "/tasks": list_tasks(),
        "/tasks/all": {"get": {"operationId": "ListTasks", "responses": {}}},
        "/anon": {"get": {"responses": {}}}
    });
    let checked = check(base(paths), props(), false);
    assert!(codes(&checked).contains(&"PB0402"));
    assert!(codes(&checked).contains(&"PB0401"));
    let dup = checked.diagnostics.iter().find(|d| d.code == "PB0402").unwrap();
    assert_eq!(dup.pointer, "/paths/~1tasks~1all/get/operationId");
    assert_eq!(dup.severity, Severity::Error);
    assert!(dup.position.is_some(), "located in the file");
}

#[test]
fn undeclared_path_parameter_is_an_error() {
    let paths = json!({"/tasks/{taskId}": {"get": {"operationId": "GetTask", "responses": {}}}});
    let checked = check(base(paths), props(), false);
    let d = checked.diagnostics.iter().find(|d| d.code == "PB0403").expect("PB0403");
    assert!(d.message.contains("{taskId}"), "{}", d.message);
}

#[test]
fn path_parameter_not_in_template_or_not_required_is_a_warning() {
    let paths = json!({"/tasks/{taskId}": {"get": {"operationId": "GetTask", "responses": {}, "parameters": [
        {"name": "taskId", "in": "path", "type": "string"},
        {"name": "other", "in": "path", "required": true, "type": "string"}
    ]}}});
    let checked = check(base(paths), props(), false);
    let found: Vec<_> = checked.diagnostics.iter().filter(|d| d.code == "PB0404").collect();
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn webhook_without_callback_parameter_is_an_error_and_without_content_a_warning() {
    let paths = json!({"/hooks": {"post": {"operationId": "OnTask", "x-ms-trigger": "single", "responses": {"201": {"description": "created"}},
        "parameters": [{"name": "body", "in": "body", "schema": {"type": "object", "properties": {"url": {"type": "string"}}}}]},
        "x-ms-notification-content": {"description": "a task"}}});
    let checked = check(base(paths), props(), false);
    assert!(codes(&checked).contains(&"PB0501"));
    assert!(codes(&checked).contains(&"PB0503"));
}

#[test]
fn webhook_callback_found_through_a_definition() {
    let mut doc = base(
        json!({"/hooks": {"post": {"operationId": "OnTask", "x-ms-trigger": "single", "responses": {"201": {"description": "created"}},
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Hook"}}]},
        "x-ms-notification-content": {"schema": {"$ref": "#/definitions/Task"}}}}),
    );
    doc["definitions"]["Hook"] = json!({"type": "object", "properties": {"callbackUrl": {"type": "string", "x-ms-notification-url": true}}});
    let checked = check(doc, props(), false);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let c = checked.connector.unwrap();
    let (item, op) = c.operation("OnTask").unwrap();
    let body = &op.effective_parameters(item)[0];
    assert_eq!(body.notification_url_path(&c.definitions), Some(vec!["callbackUrl".to_string()]));
}

#[test]
fn two_callback_parameters_are_reported() {
    let paths = json!({"/hooks": {"post": {"operationId": "OnTask", "x-ms-trigger": "single", "responses": {},
        "parameters": [
            {"name": "a", "in": "query", "type": "string", "x-ms-notification-url": true},
            {"name": "b", "in": "header", "type": "string", "x-ms-notification-url": true}
        ]}, "x-ms-notification-content": {"schema": {"type": "object"}}}});
    assert!(codes(&check(base(paths), props(), false)).contains(&"PB0502"));
}

#[test]
fn dynamic_values_must_name_existing_operations_and_parameters() {
    let paths = json!({
        "/tasks": list_tasks(),
        "/tasks/{taskId}": {"get": {"operationId": "GetTask", "responses": {}, "parameters": [
            {"name": "taskId", "in": "path", "required": true, "type": "string",
             "x-ms-dynamic-values": {"operationId": "ListTasks", "parameters": {"nope": {"parameter": "missing"}}, "value-path": "id"}},
            {"name": "x", "in": "query", "type": "string", "x-ms-dynamic-values": {"operationId": "Ghost", "value-path": "id"}}
        ]}}
    });
    let checked = check(base(paths), props(), false);
    let c = codes(&checked);
    assert!(c.contains(&"PB0601"), "{c:?}");
    assert!(c.contains(&"PB0602"), "{c:?}");
    assert!(c.contains(&"PB0603"), "{c:?}");
}

#[test]
fn unresolved_and_cyclic_refs_are_errors() {
    let mut doc = base(json!({"/tasks": {"get": {"operationId": "ListTasks", "responses": {
        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Missing"}},
        "201": {"description": "ok", "schema": {"$ref": "#/definitions/A"}}
    }}}}));
    doc["definitions"]["A"] = json!({"$ref": "#/definitions/B"});
    doc["definitions"]["B"] = json!({"$ref": "#/definitions/A"});
    let checked = check(doc, props(), false);
    let c = codes(&checked);
    assert!(c.contains(&"PB0201"), "{c:?}");
    assert!(c.contains(&"PB0202"), "{c:?}");
}

#[test]
fn shared_parameter_refs_resolve_and_are_kept() {
    let mut doc = base(json!({"/tasks": {"get": {"operationId": "ListTasks", "responses": {},
        "parameters": [{"$ref": "#/parameters/apiVersion"}, {"$ref": "#/parameters/gone"}]}}}));
    doc["parameters"] = json!({"apiVersion": {"name": "api-version", "in": "query", "required": true, "type": "string", "default": "1"}});
    let checked = check(doc, props(), false);
    assert!(codes(&checked).contains(&"PB0201"));
    let c = checked.connector.unwrap();
    let (_, op) = c.operation("ListTasks").unwrap();
    assert_eq!(op.parameters[0].name, "api-version");
    assert_eq!(op.parameters[0].reference.as_deref(), Some("#/parameters/apiVersion"));
    assert_eq!(op.parameters[0].default_value(), Some(&json!("1")));
}

#[test]
fn policies_unknown_missing_parameter_unknown_operation_and_section() {
    let properties = json!({"properties": {"policyTemplateInstances": [
        {"templateId": "nosuchtemplate", "parameters": {}},
        {"templateId": "SetHeader", "parameters": {"x-ms-apimTemplateParameter.name": "X-Id"}},
        {"templateId": "setheader", "parameters": {"x-ms-apimTemplateParameter.name": "a", "x-ms-apimTemplateParameter.value": "b",
            "x-ms-apimTemplate-operationName": ["Ghost"], "x-ms-apimTemplate-policySection": "Sideways"}}
    ]}});
    let checked = check(base(json!({"/tasks": list_tasks()})), properties, false);
    let c = codes(&checked);
    for code in ["PB0701", "PB0702", "PB0703", "PB0704"] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
    let missing = checked.diagnostics.iter().find(|d| d.code == "PB0702").unwrap();
    assert_eq!(missing.file, "apiProperties.json");
    assert!(missing.message.contains("value"));
}

#[test]
fn connection_parameter_references_must_resolve() {
    let properties = json!({"properties": {
        "connectionParameters": {"api_key": {"type": "securestring"}},
        "policyTemplateInstances": [{"templateId": "setheader", "parameters": {
            "x-ms-apimTemplateParameter.name": "X-Key",
            "x-ms-apimTemplateParameter.value": "@connectionParameters('apiKey')"}}]
    }});
    let checked = check(base(json!({"/tasks": list_tasks()})), properties, false);
    assert!(codes(&checked).contains(&"PB0801"));
}

#[test]
fn structure_host_base_path_and_scheme() {
    let mut doc = base(json!({"/tasks": list_tasks()}));
    doc["host"] = json!("https://api.contoso.example/v1");
    doc["basePath"] = json!("v1");
    doc["schemes"] = json!(["ftp"]);
    let c = codes(&check(doc, props(), false));
    for code in ["PB0304", "PB0305", "PB0306"] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
}

#[test]
fn not_swagger_two_is_an_error() {
    let mut doc = base(json!({"/tasks": list_tasks()}));
    doc["swagger"] = json!("1.2");
    assert!(codes(&check(doc, props(), false)).contains(&"PB0301"));
}

#[test]
fn certification_adds_the_checklist_as_warnings_only() {
    let paths = json!({"/tasks": {"get": {"operationId": "list_tasks", "summary": "List tasks.", "responses": {"200": {"description": "ok"}},
        "parameters": [{"name": "top", "in": "query", "type": "integer"}]}}});
    let plain = check(base(paths.clone()), props(), false);
    assert!(plain.diagnostics.is_empty(), "{:#?}", plain.diagnostics);
    let cert = check(base(paths), props(), true);
    let c = codes(&cert);
    for code in ["PB0901", "PB0903", "PB0906", "PB0907", "PB0908", "PB0909", "PB0910", "PB0911"] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
    assert!(cert.diagnostics.iter().all(|d| d.severity != Severity::Error));
}

#[test]
fn mistyped_fields_are_kept_and_reported() {
    let mut doc = base(json!({"/tasks": list_tasks()}));
    doc["paths"]["/tasks"]["get"]["summary"] = json!(42);
    let checked = check(doc, props(), false);
    assert!(codes(&checked).contains(&"PB0105"));
    let c = checked.connector.unwrap();
    let (_, op) = c.operation("ListTasks").unwrap();
    assert_eq!(op.summary, None);
    assert_eq!(op.extra.get("summary"), Some(&json!(42)), "kept verbatim for export");
}
