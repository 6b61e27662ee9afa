//! Binding: each rule of spec §2.4, asserted on the exact request bytes that would be sent.

use patchbay_runtime::bind::{BindError, Inputs, bind};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_spec::Connector;
use patchbay_spec::fields::Ctx;
use patchbay_spec::package::read_swagger;
use serde_json::{Value, json};
use std::sync::Arc;

fn compile(paths: Value, definitions: Value) -> CompiledConnector {
    let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "1"}, "host": "api.example.com",
        "basePath": "/v1", "schemes": ["https"], "paths": paths, "definitions": definitions});
    let mut diagnostics = Vec::new();
    let connector: Connector =
        read_swagger(doc, &Default::default(), &mut Ctx { file: "t", diagnostics: &mut diagnostics });
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    CompiledConnector::compile(Arc::new(connector))
}

fn inputs(v: Value) -> Inputs {
    v.as_object().cloned().unwrap_or_default()
}

fn send(
    c: &CompiledConnector,
    op: &str,
    input: Value,
) -> Result<(String, http::HeaderMap, String), BindError> {
    let plan = c.operation(op).expect("operation");
    let base = c.connector.backend.base_url().unwrap();
    let draft = bind(plan, &base, &inputs(input))?;
    let wire = draft.into_wire().expect("valid url");
    Ok((wire.url.to_string(), wire.headers, String::from_utf8(wire.body.to_vec()).unwrap()))
}

#[test]
fn path_parameters_are_encoded_once_or_twice() {
    let c = compile(
        json!({"/files/{single}/{double}": {"get": {"operationId": "Get", "responses": {}, "parameters": [
            {"name": "single", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "single"},
            {"name": "double", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double"}
        ]}}}),
        json!({}),
    );
    let (url, _, _) = send(&c, "Get", json!({"single": "a/b c", "double": "a/b c"})).unwrap();
    assert_eq!(url, "https://api.example.com/v1/files/a%2Fb%20c/a%252Fb%2520c");
}

#[test]
fn query_arrays_follow_every_collection_format() {
    let param = |name: &str, format: &str| json!({"name": name, "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": format});
    let c = compile(
        json!({"/q": {"get": {"operationId": "Q", "responses": {}, "parameters": [
            param("c", "csv"), param("s", "ssv"), param("t", "tsv"), param("p", "pipes"), param("m", "multi"),
            {"name": "flag", "in": "query", "type": "boolean"}, {"name": "n", "in": "query", "type": "integer"},
            {"name": "absent", "in": "query", "type": "string"}
        ]}}}),
        json!({}),
    );
    let ab = json!(["a", "b"]);
    let input = json!({"c": ab, "s": ab, "t": ab, "p": ab, "m": ab, "flag": true, "n": 5});
    let (url, _, _) = send(&c, "Q", input).unwrap();
    assert_eq!(url, "https://api.example.com/v1/q?c=a%2Cb&s=a+b&t=a%09b&p=a%7Cb&m=a&m=b&flag=true&n=5");
}

#[test]
fn headers_join_arrays_and_accept_follows_produces() {
    let c = compile(
        json!({"/h": {"get": {"operationId": "H", "responses": {}, "produces": ["application/json"], "parameters": [
            {"name": "X-Tags", "in": "header", "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"}
        ]}}}),
        json!({}),
    );
    let (_, headers, _) = send(&c, "H", json!({"X-Tags": ["x", "y"]})).unwrap();
    assert_eq!(headers["x-tags"], "x|y");
    assert_eq!(headers["accept"], "application/json");
}

#[test]
fn internal_parameters_take_their_default_and_required_ones_are_checked() {
    let c = compile(
        json!({"/i": {"get": {"operationId": "I", "responses": {}, "parameters": [
            {"name": "api-version", "in": "query", "required": true, "type": "string", "default": "2024-01", "x-ms-visibility": "internal"},
            {"name": "top", "in": "query", "required": true, "type": "integer"}
        ]}}}),
        json!({}),
    );
    let (url, _, _) = send(&c, "I", json!({"top": "10"})).unwrap();
    assert_eq!(url, "https://api.example.com/v1/i?api-version=2024-01&top=10");
    assert_eq!(
        send(&c, "I", json!({})).unwrap_err(),
        BindError::Missing { name: "top".into(), location: "query".into() }
    );
    let err = send(&c, "I", json!({"top": "ten"})).unwrap_err();
    assert_eq!(err.to_string(), "parameter `top`: expected integer, got a string that does not read as one");
}

#[test]
fn json_body_merges_flattened_inputs_applies_defaults_and_validates() {
    let c = compile(
        json!({"/tasks": {"post": {"operationId": "Create", "responses": {}, "parameters": [
            {"name": "task", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Task"}}
        ]}}}),
        json!({"Task": {"type": "object", "required": ["title", "kind"], "properties": {
            "title": {"type": "string"},
            "kind": {"type": "string", "default": "todo"},
            "source": {"type": "string", "default": "patchbay", "x-ms-visibility": "internal"},
            "optional": {"type": "string", "default": "not sent"},
            "owner": {"$ref": "#/definitions/Owner"}
        }}, "Owner": {"type": "object", "properties": {"id": {"type": "integer"}}}}),
    );
    let (_, headers, body) =
        send(&c, "Create", json!({"task/title": "Write docs", "body/owner/id": 7})).unwrap();
    assert_eq!(headers["content-type"], "application/json");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        sent,
        json!({"title": "Write docs", "owner": {"id": 7}, "kind": "todo", "source": "patchbay"})
    );

    let err = send(&c, "Create", json!({"task": {"title": 5, "owner": {"id": "x"}}})).unwrap_err();
    let BindError::Body { name, errors } = err else { panic!("expected a body error") };
    assert_eq!(name, "task");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("/title:")), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("/owner/id:")), "{errors:?}");
}

#[test]
fn form_data_is_urlencoded_without_files() {
    let c = compile(
        json!({"/f": {"post": {"operationId": "F", "responses": {}, "parameters": [
            {"name": "a", "in": "formData", "type": "string"},
            {"name": "tags", "in": "formData", "type": "array", "collectionFormat": "multi", "items": {"type": "string"}}
        ]}}}),
        json!({}),
    );
    let (_, headers, body) = send(&c, "F", json!({"a": "x y&z", "tags": ["1", "2"]})).unwrap();
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(body, "a=x+y%26z&tags=1&tags=2");
}

#[test]
fn form_data_with_a_file_is_multipart() {
    let c = compile(
        json!({"/upload": {"post": {"operationId": "Up", "responses": {}, "consumes": ["multipart/form-data"], "parameters": [
            {"name": "note", "in": "formData", "type": "string"},
            {"name": "file", "in": "formData", "type": "file", "required": true}
        ]}}}),
        json!({}),
    );
    let file = json!({"$content-type": "text/plain", "$content": "aGVsbG8=", "$filename": "hello.txt"});
    let (_, headers, body) = send(&c, "Up", json!({"note": "hi", "file": file})).unwrap();
    let boundary = patchbay_runtime::draft::MULTIPART_BOUNDARY;
    assert_eq!(
        headers["content-type"].to_str().unwrap(),
        format!("multipart/form-data; boundary={boundary}")
    );
    let expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
         --{boundary}--\r\n"
    );
    assert_eq!(body, expected);
}
