//! Templates: whole-string expressions, interpolation, escaping, scopes, `evaluate_json`, and the
//! policy-template dialect.

mod common;

use common::fixed_scope;
use patchbay_expr::{
    EmptyScope, EvalError, EvalErrorKind, MapScope, Scope, Template, evaluate_json, parse_policy_template,
    parse_template,
};
use serde_json::{Value, json};

fn workflow_scope() -> MapScope {
    fixed_scope()
        .lookup(
            "parameters",
            json!({ "age": 42, "$connections": { "contosotasks": { "connectionId": "/c/1" } } }),
        )
        .lookup("variables", json!({ "count": 3, "name": "Ada" }))
        .lookup("body", json!({ "Get_task": { "title": "Write docs", "due": "2018-03-20T09:00:00Z" } }))
        .value("triggerBody", json!({ "id": "a/b", "value": [{ "modified": "2018-03-01" }] }))
        .value("triggerOutputs", json!({ "headers": {}, "body": { "value": [1, 2], "title": "T" } }))
        .value("item", json!({ "name": "first" }))
}

fn run(template: &str) -> Result<Value, EvalError> {
    parse_template(template).map_err(EvalError::from)?.evaluate(&workflow_scope())
}

/// `(template, expected JSON)` evaluated with [`workflow_scope`].
const TEMPLATES: &[(&str, &str)] = &[
    ("@parameters('age')", "42"),
    ("Age: @{parameters('age')}", r#""Age: 42""#),
    ("@{parameters('age')}", r#""42""#),
    ("@@", r#""@""#),
    ("@@foo", r#""@foo""#),
    ("x @@{a}", r#""x @{a}""#),
    ("@@{a}", r#""@{a}""#),
    (" @", r#"" @""#),
    ("user@example.com", r#""user@example.com""#),
    ("a@@b", r#""a@@b""#),
    ("", r#""""#),
    ("plain text", r#""plain text""#),
    ("@{'a'}@{'b'}", r#""ab""#),
    ("@{concat('{', '}')}", r#""{}""#),
    ("@{json('{\"a\":true}')}", r#""{\"a\":true}""#),
    ("@{true}", r#""True""#),
    ("@{null}", r#""""#),
    ("@{1.5}", r#""1.5""#),
    ("@{createArray(1, 2)}", r#""[1,2]""#),
    ("@{ add(1, 2) }", r#""3""#),
    ("@createArray(1, 2)", "[1,2]"),
    ("@json('{\"a\":{\"b\":1}}')", r#"{"a":{"b":1}}"#),
    ("@null", "null"),
    ("@true", "true"),
    ("@triggerBody()?['value']", r#"[{"modified":"2018-03-01"}]"#),
    ("@triggerbody()?['id']", r#""a/b""#),
    ("@triggerOutputs()?['body/value']", "[1,2]"),
    ("@triggerOutputs()?['body/missing']", "null"),
    ("@parameters('$connections')['contosotasks']['connectionId']", r#""/c/1""#),
    ("/v1/tasks/@{encodeURIComponent(triggerBody()?['id'])}", r#""/v1/tasks/a%2Fb""#),
    (
        "Task @{body('Get_task')?['title']} is due @{formatDateTime(body('Get_task')?['due'], 'yyyy-MM-dd')}",
        r#""Task Write docs is due 2018-03-20""#,
    ),
    ("@coalesce(triggerBody()?.missing?.x, 'def')", r#""def""#),
    ("@item().name", r#""first""#),
    ("@variables('count')", "3"),
    ("Hello @{variables('name')}!", r#""Hello Ada!""#),
    ("@variables('missing', 'fallback')", r#""fallback""#),
    ("lastModified gt @{triggerBody().value[0].modified}", r#""lastModified gt 2018-03-01""#),
    ("@{utcNow('yyyy')}-report", r#""2018-report""#),
];

#[test]
fn templates_evaluate() {
    let mut failures = Vec::new();
    for (template, expected) in TEMPLATES {
        let expected: Value = serde_json::from_str(expected).expect("valid expected JSON");
        match run(template) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => failures.push(format!("{template}: expected {expected}, got {actual}")),
            Err(e) => failures.push(format!("{template}: expected {expected}, error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn literal_templates_are_literal() {
    for text in ["", "plain", "@@x", "a@b", "x @@{y}"] {
        assert!(parse_template(text).expect(text).is_literal(), "{text}");
    }
    for text in ["@x()", "@{x()}", "a @{x()}"] {
        assert!(!parse_template(text).expect(text).is_literal(), "{text}");
    }
    let t = parse_template("a @{f(1)} b @{g()}").expect("parses");
    assert_eq!(t.expressions().len(), 2);
    assert!(matches!(t, Template::Interpolated(_)));
}

#[test]
fn missing_scope_value_is_an_error() {
    let e = run("@variables('nope')").expect_err("undefined variable");
    assert_eq!(e.kind, EvalErrorKind::Scope);
    assert_eq!(e.function.as_deref(), Some("variables"));
    let e = run("@triggerBody().missing").expect_err("no property");
    assert_eq!(e.kind, EvalErrorKind::MissingProperty);
}

/// A scope that matches names exactly, to check the evaluator passes catalogue spellings.
struct ExactScope;

impl Scope for ExactScope {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        match name {
            "triggerBody" => Some(Ok(json!({ "x": 1 }))),
            "connectionParameters" => Some(Ok(json!(format!("cp:{}", args.first()?.as_str()?)))),
            "utcNow" => Some(Ok(json!("frozen"))),
            "myFunction" => Some(Ok(json!("mine"))),
            _ => None,
        }
    }

    fn path(&self, segments: &[&str]) -> Option<Value> {
        (segments == ["Request", "OriginalHTTPMethod"]).then(|| json!("PATCH"))
    }
}

#[test]
fn scope_gets_catalogue_spellings_and_can_override_builtins() {
    let eval = |t: &str| parse_template(t).expect(t).evaluate(&ExactScope).expect(t);
    assert_eq!(eval("@TRIGGERBODY().x"), json!(1));
    assert_eq!(eval("@ConnectionParameters('k')"), json!("cp:k"));
    assert_eq!(eval("@utcNow()"), json!("frozen"));
    assert_eq!(eval("@myFunction()"), json!("mine"));
    assert_eq!(eval("@Request.OriginalHTTPMethod"), json!("PATCH"));
    assert_eq!(eval("@toUpper('builtin')"), json!("BUILTIN"));
    let e = parse_template("@MyFunction()").expect("parses").evaluate(&ExactScope).expect_err("unknown");
    assert_eq!(e.kind, EvalErrorKind::UnknownFunction);
}

#[test]
fn map_scope_functions_and_paths() {
    let scope = MapScope::new()
        .function("double", |args| Ok(json!(args[0].as_i64().unwrap_or(0) * 2)))
        .path(&["Request", "OriginalHTTPMethod"], json!("GET"));
    let eval = |t: &str| parse_template(t).expect(t).evaluate(&scope);
    assert_eq!(eval("@DOUBLE(21)").expect("doubles"), json!(42));
    assert_eq!(eval("@request.originalhttpmethod").expect("path"), json!("GET"));
    assert_eq!(eval("@Request.Other").expect_err("unknown path").kind, EvalErrorKind::UnknownPath);
}

#[test]
fn seeded_scopes_repeat_guids_and_random_numbers() {
    let eval = |t: &str| parse_template(t).expect(t).evaluate(&fixed_scope()).expect(t);
    assert_eq!(eval("@guid()"), eval("@guid()"));
    assert_eq!(eval("@rand(0, 1000000)"), eval("@rand(0, 1000000)"));
    let a = EmptyScope;
    let g1 = parse_template("@guid()").expect("parses").evaluate(&a).expect("guid");
    let g2 = parse_template("@guid()").expect("parses").evaluate(&a).expect("guid");
    assert_ne!(g1, g2);
}

#[test]
fn evaluate_json_walks_action_inputs() {
    let inputs = json!({
        "method": "get",
        "path": "/v1/tasks/@{encodeURIComponent(triggerBody()?['id'])}",
        "queries": { "project": "@parameters('age')", "n": 5 },
        "body": ["@variables('name')", "@@literal", true, null],
        "@{not-a-template-key}": "x"
    });
    let out = evaluate_json(&inputs, &workflow_scope()).expect("evaluates");
    assert_eq!(
        out,
        json!({
            "method": "get",
            "path": "/v1/tasks/a%2Fb",
            "queries": { "project": 42, "n": 5 },
            "body": ["Ada", "@literal", true, null],
            "@{not-a-template-key}": "x"
        })
    );
    let bad = json!({ "a": [1, { "b/c": "@div(1, 0)" }] });
    let e = evaluate_json(&bad, &workflow_scope()).expect_err("fails");
    assert_eq!(e.pointer.as_deref(), Some("/a/1/b~1c"));
    assert_eq!(e.kind, EvalErrorKind::Arithmetic);
    let e = evaluate_json(&json!({ "x": "@concat(" }), &EmptyScope).expect_err("parse error");
    assert_eq!((e.kind, e.pointer.as_deref()), (EvalErrorKind::Parse, Some("/x")));
}

fn policy_scope() -> MapScope {
    MapScope::new()
        .lenient_lookup("headers", json!({ "test": "foo", "port": "1234" }))
        .lenient_lookup("header", json!({ "test": "foo", "port": "1234" }))
        .lenient_lookup("connectionParameters", json!({ "cat": "bar", "subPath": "path", "tenant": "acme", "api_key": "k" }))
        .lenient_lookup("queryParameters", json!({ "domain": "pqr" }))
        .value("body", json!({ "firstName": "Sophia", "lastName": "Owen", "people": [{ "n": 1 }], "@odata.etag": "W/1" }))
        .value("item", json!({ "prop": 7 }))
        .value("triggerBody", json!({ "value": [{ "modified": "2018-03-01" }], "data": [{ "x": "y" }] }))
        .path(&["Request", "OriginalHTTPMethod"], json!("GET"))
}

/// Policy-template values (spec §3.6 and the dynamichosturl examples).
const POLICY: &[(&str, &str)] = &[
    ("https://@header('test').abc.xyz:@header('port')", r#""https://foo.abc.xyz:1234""#),
    ("https://@connectionParameters('cat').abc.xyz", r#""https://bar.abc.xyz""#),
    (
        "https://@header('test').abc.@queryParameters('domain')/@connectionParameters('subPath')",
        r#""https://foo.abc.pqr/path""#,
    ),
    ("https://@header('test123', 'default').abc.xyz", r#""https://default.abc.xyz""#),
    ("@Request.OriginalHTTPMethod", r#""GET""#),
    ("/tenants/@connectionParameters('tenant')/invoices", r#""/tenants/acme/invoices""#),
    ("Token @connectionParameters('api_key')", r#""Token k""#),
    ("@connectionParameters('missing')", r#""""#),
    ("@ConnectionParameters('cat')", r#""bar""#),
    ("@body().people", r#"[{"n":1}]"#),
    ("@body()", r#"{"firstName":"Sophia","lastName":"Owen","people":[{"n":1}],"@odata.etag":"W/1"}"#),
    ("@body()['@odata.etag']", r#""W/1""#),
    ("{@body().firstName} {@body().lastName}", r#""Sophia Owen""#),
    ("@body().missing.deeper", "null"),
    ("Hi @body().missing!", r#""Hi !""#),
    ("Name: @body().firstName.", r#""Name: Sophia.""#),
    ("@item().prop", "7"),
    ("lastModified gt @{triggerBody().value[0].modified}", r#""lastModified gt 2018-03-01""#),
    ("@triggerBody().data[0].x", r#""y""#),
    ("user@example.com", r#""user@example.com""#),
    ("{\"a\": 1}", r#""{\"a\": 1}""#),
    ("power-automate", r#""power-automate""#),
    ("@@connectionParameters('cat')", r#""@connectionParameters('cat')""#),
    ("[{@body().firstName}]", r#""[Sophia]""#),
];

#[test]
fn policy_templates_evaluate() {
    let scope = policy_scope();
    let mut failures = Vec::new();
    for (template, expected) in POLICY {
        let expected: Value = serde_json::from_str(expected).expect("valid expected JSON");
        let result =
            parse_policy_template(template).map_err(EvalError::from).and_then(|t| t.evaluate(&scope));
        match result {
            Ok(actual) if actual == expected => {}
            Ok(actual) => failures.push(format!("{template}: expected {expected}, got {actual}")),
            Err(e) => failures.push(format!("{template}: expected {expected}, error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn policy_templates_print_as_workflow_templates() {
    let t = parse_policy_template("https://@header('test').abc.xyz:@header('port')").expect("parses");
    assert_eq!(t.to_string(), "https://@{header('test')}.abc.xyz:@{header('port')}");
    let t = parse_policy_template("{@body().a} x").expect("parses");
    assert_eq!(t.to_string(), "@{body()?.a} x");
    let t = parse_policy_template("@Request.OriginalHTTPMethod").expect("parses");
    assert_eq!(t.to_string(), "@Request.OriginalHTTPMethod");
    assert!(parse_policy_template("https://@header('x'").is_err());
}
