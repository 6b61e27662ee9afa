//! Loading package folders and lone documents: file discovery, external refs, YAML, hostile input.

use patchbay_spec::export::write_package;
use patchbay_spec::model::{Cardinality, IdentityProvider, OperationKind, PolicyTemplate, TriggerKind};
use patchbay_spec::{Severity, check_path, load_path};
use serde_json::json;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const SWAGGER: &str = r#"{
  "swagger": "2.0",
  "info": {"title": "Tasks", "version": "1.0"},
  "host": "api.contoso.example",
  "paths": {
    "/tasks": {"get": {"operationId": "ListTasks", "x-ms-trigger": "batch", "responses": {"200": {"description": "ok", "schema": {"$ref": "common/schemas.json#/definitions/TaskList"}}}}}
  }
}"#;

const PROPERTIES: &str = r##"{"properties": {
  "iconBrandColor": "#123456",
  "scriptOperations": ["ListTasks"],
  "connectionParameters": {"token": {"type": "oauthSetting", "oAuthSettings": {"identityProvider": "OAuth2", "clientId": "x", "scopes": ["a"],
      "customParameters": {"TokenUrl": {"value": "https://id.example/token"}}}}},
  "policyTemplateInstances": [{"templateId": "SetHeader", "title": "h", "parameters": {"x-ms-apimTemplateParameter.name": "X-A", "x-ms-apimTemplateParameter.value": "1"}}]
}}"##;

#[test]
fn finds_files_case_insensitively_with_script_icon_and_external_refs() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("contoso");
    write(&pkg, "ApiDefinition.Swagger.JSON", SWAGGER);
    write(&pkg, "APIPROPERTIES.json", PROPERTIES);
    write(&pkg, "Script.csx", "public class Script : ScriptBase {}");
    write(&pkg, "icon.png", "PNG");
    write(&pkg, "common/schemas.json", r#"{"definitions": {"TaskList": {"type": "array"}}}"#);
    let checked = check_path(&pkg, false);
    let errors: Vec<_> = checked.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let c = checked.connector.unwrap();
    assert_eq!(c.identity.name, "contoso");
    assert_eq!(c.script.as_ref().unwrap().operations, vec!["ListTasks".to_string()]);
    assert_eq!(c.identity.icon.as_ref().unwrap().bytes, b"PNG");
    assert!(c.external_documents.contains_key("common/schemas.json"));
    let oauth = c.security.connection_parameters[0].oauth.as_ref().unwrap();
    assert_eq!(oauth.identity_provider, IdentityProvider::OAuth2);
    assert_eq!(oauth.custom_parameter("tokenUrl"), Some("https://id.example/token"));
    assert_eq!(c.policies[0].template(), Some(PolicyTemplate::SetHeader));
    let (item, op) = c.operation("ListTasks").unwrap();
    let kind = OperationKind::Trigger { kind: TriggerKind::Polling, cardinality: Cardinality::Batch };
    assert_eq!(op.kind(item, &c.definitions), kind);

    let out = dir.path().join("out/contoso");
    write_package(&c, &out).unwrap();
    assert!(out.join("common/schemas.json").is_file());
    assert_eq!(load_path(&out).connector.unwrap(), c);
}

#[test]
fn paconn_settings_name_the_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "defs/api.json", SWAGGER.replace("common/schemas.json", "").as_str());
    write(
        dir.path(),
        "settings.json",
        r#"{"apiDefinition": "defs/api.json", "apiProperties": "props.json"}"#,
    );
    write(dir.path(), "props.json", r##"{"properties": {"iconBrandColor": "#000000"}}"##);
    let c = load_path(dir.path()).connector.expect("loads");
    assert_eq!(c.identity.brand_color.as_deref(), Some("#000000"));
}

#[test]
fn an_external_ref_outside_the_package_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("p");
    write(dir.path(), "secret.json", r#"{"definitions": {"TaskList": {}}}"#);
    write(&pkg, "apiDefinition.swagger.json", &SWAGGER.replace("common/schemas.json", "../secret.json"));
    write(&pkg, "apiProperties.json", "{\"properties\": {}}");
    let checked = check_path(&pkg, false);
    assert!(checked.diagnostics.iter().any(|d| d.code == "PB0203"), "{:#?}", checked.diagnostics);
    assert!(checked.connector.unwrap().external_documents.is_empty());
}

#[test]
fn a_missing_definition_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_path(dir.path());
    assert!(loaded.connector.is_none());
    assert_eq!(loaded.diagnostics[0].code, "PB0104");
}

#[test]
fn a_lone_yaml_swagger_loads() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "swagger: '2.0'\ninfo: {title: Tasks, version: '1'}\npaths:\n  /tasks:\n    get:\n      operationId: ListTasks\n      responses: {}\n";
    write(dir.path(), "api.yaml", yaml);
    let c = load_path(&dir.path().join("api.yaml")).connector.expect("loads");
    assert!(c.operation("ListTasks").is_some());
    assert_eq!(c.identity.name, "Tasks");
}

#[test]
fn broken_yaml_is_located() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "api.yaml", "swagger: '2.0'\ninfo: [unclosed\n");
    let loaded = load_path(&dir.path().join("api.yaml"));
    let d = &loaded.diagnostics[0];
    assert_eq!(d.code, "PB0107");
    assert!(d.position.is_some());
}

#[test]
fn hostile_inputs_give_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    write(dir.path(), "deep.json", &deep);
    let huge = format!("{{\"swagger\": \"2.0\", \"x\": \"{}\"}}", "a".repeat(50 * 1024 * 1024));
    write(dir.path(), "huge.json", &huge);
    write(dir.path(), "truncated.json", &SWAGGER[..SWAGGER.len() / 2]);
    std::fs::write(
        dir.path().join("random.json"),
        (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    write(dir.path(), "other.json", r#"{"hello": "world"}"#);
    for (name, code) in [
        ("deep.json", "PB0102"),
        ("huge.json", "PB0101"),
        ("truncated.json", "PB0102"),
        ("random.json", "PB0102"),
        ("other.json", "PB0106"),
    ] {
        let loaded = load_path(&dir.path().join(name));
        assert!(loaded.connector.is_none(), "{name}");
        assert_eq!(loaded.diagnostics[0].code, code, "{name}: {:#?}", loaded.diagnostics);
    }
}

#[test]
fn a_ref_loop_between_shared_parameters_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {"get": {"operationId": "A", "responses": {},
        "parameters": [{"$ref": "#/parameters/p"}]}}},
        "parameters": {"p": {"$ref": "#/parameters/q"}, "q": {"$ref": "#/parameters/p"}}});
    write(dir.path(), "api.json", &doc.to_string());
    let checked = check_path(&dir.path().join("api.json"), false);
    assert!(checked.diagnostics.iter().any(|d| d.code == "PB0202"), "{:#?}", checked.diagnostics);
}
