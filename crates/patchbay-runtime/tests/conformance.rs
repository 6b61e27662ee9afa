//! Conformance over the real corpus: packages using each security kind and each literal policy
//! template are invoked against a local server standing in for their backend (the host rewritten
//! to it), and the request it receives is checked against what the package means (spec §3.4, §4).
//! Packages are chosen by what they use, never by name, so the test holds for packages it has
//! not seen.

use base64::Engine;
use patchbay_runtime::bind::Inputs;
use patchbay_runtime::plan::{CompiledConnector, OperationPlan};
use patchbay_runtime::security::{ConnectionValues, Credential, TokenSet, select_credential};
use patchbay_runtime::transport::{RetryPolicy, TransportOptions};
use patchbay_runtime::{Call, Outcome, Runtime, RuntimeOptions};
use patchbay_spec::Connector;
use patchbay_spec::model::{ConnectionParameterType, Location, OperationKind, PolicySection, PolicyTemplate};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the stand-in backend received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

async fn backend() -> (String, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let sink = sink.clone();
        async move {
            let uri = req.uri().clone();
            let query = uri
                .query()
                .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let headers = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            sink.lock().unwrap().push(Received {
                method: req.method().to_string(),
                path: uri.path().to_string(),
                query,
                headers,
            });
            axum::Json(json!({}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log)
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/connectors");
    assert!(root.is_dir(), "the connector corpus is not at {} (set up ../shared)", root.display());
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .flat_map(|top| std::fs::read_dir(top.path()).into_iter().flatten().flatten().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// A value for a parameter: its test value, default, first enum value, or one of its type.
fn sample(schema: &Value, root: &Value, depth: usize) -> Value {
    let schema = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| root.pointer(r.trim_start_matches('#')))
    {
        Some(target) if depth < 8 => return sample(target, root, depth + 1),
        _ => schema,
    };
    if let Some(v) = schema.get("x-ms-test-value").or_else(|| schema.get("default")) {
        return v.clone();
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else {
        "string"
    });
    match kind {
        "integer" | "number" => json!(1),
        "boolean" => json!(true),
        "array" => json!([]),
        "object" => {
            let mut out = Map::new();
            let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                if let Some(prop) =
                    schema.pointer(&format!("/properties/{}", name.replace('~', "~0").replace('/', "~1")))
                {
                    out.insert(
                        name.to_string(),
                        if depth < 8 { sample(prop, root, depth + 1) } else { json!({}) },
                    );
                }
            }
            Value::Object(out)
        }
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2024-01-01T00:00:00Z"),
            Some("date") => json!("2024-01-01"),
            Some("email") => json!("someone@example.com"),
            Some("uri") => json!("https://example.com/"),
            _ => json!("test"),
        },
    }
}

/// Inputs that satisfy every required parameter of the operation.
fn inputs_for(plan: &OperationPlan) -> Inputs {
    let mut inputs = Inputs::new();
    for p in plan.parameters.iter().filter(|p| p.required) {
        let value = match p.location {
            Location::Body => sample(
                plan.body_schema.as_ref().unwrap_or(&json!({})),
                plan.body_schema.as_ref().unwrap_or(&json!({})),
                0,
            ),
            _ => p.test_value.clone().unwrap_or_else(|| sample(&p.schema, &json!({}), 0)),
        };
        inputs.insert(p.name.clone(), value);
    }
    inputs
}

/// A connection with a recognisable value for every parameter of the chosen set.
fn connection_for(c: &Connector, set: Option<&str>) -> ConnectionValues {
    let mut conn = ConnectionValues::new("conformance");
    let params: Vec<_> = match (&c.security.parameter_sets, set) {
        (Some(sets), Some(name)) => {
            conn = conn.with_parameter_set(name);
            sets.values.iter().filter(|s| s.name == name).flat_map(|s| s.parameters.iter()).collect()
        }
        _ => c.security.connection_parameters.iter().collect(),
    };
    for p in params {
        if p.kind == Some(ConnectionParameterType::OAuthSetting) {
            conn = conn.with_token(TokenSet::new("pb-access-token"));
        } else {
            conn = conn.with_value(p.name.clone(), format!("pb-{}", p.name.replace(':', "-")));
        }
    }
    conn.with_secrets_from(c)
}

fn runtime() -> Runtime {
    let transport = TransportOptions { allow_loopback: true, ..TransportOptions::default() };
    Runtime::new(transport, RuntimeOptions { retry: RetryPolicy::None, ..RuntimeOptions::default() }).unwrap()
}

/// Points the connector at the stand-in backend, keeping its base path.
fn rehost(mut c: Connector, addr: &str) -> Connector {
    c.backend.host = Some(addr.to_string());
    c.backend.schemes = vec!["http".into()];
    c
}

/// Calls the first action that binds; returns what the backend received and the operation.
async fn call_first_action(
    rt: &Runtime,
    c: &CompiledConnector,
    conn: &ConnectionValues,
    log: &Log,
    accept: impl Fn(&str) -> bool,
) -> Option<(Received, String)> {
    for (item, op) in c.connector.operations() {
        let Some(id) = op.id.as_deref() else { continue };
        if op.kind(item, &c.connector.definitions) != OperationKind::Action || !accept(id) {
            continue;
        }
        let plan = c.operation(id)?;
        let inputs = inputs_for(plan);
        log.lock().unwrap().clear();
        let call = Call { connector: c, operation_id: id, connection: conn, inputs: &inputs };
        if let Ok(invoked) = rt.invoke(call).await
            && matches!(invoked.outcome, Outcome::Done(_))
            && let Some(received) = log.lock().unwrap().last().cloned()
        {
            return Some((received, id.to_string()));
        }
    }
    None
}

/// Whether a request policy of the operation sets this header (then it, not security, decides).
fn policy_sets_header(c: &Connector, op: &str, header: &str) -> bool {
    c.policies.iter().any(|p| {
        p.applies_to(op)
            && p.template() == Some(PolicyTemplate::SetHeader)
            && p.parameter("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(header))
    })
}

#[tokio::test]
async fn security_kinds_put_the_credential_where_the_package_says() {
    let (addr, log) = backend().await;
    let rt = runtime();
    let mut checked: std::collections::BTreeMap<&str, usize> = Default::default();
    for dir in corpus() {
        let Some(c) = patchbay_spec::load_path(&dir).connector else { continue };
        if c.policies.iter().any(|p| {
            p.template() == Some(PolicyTemplate::DynamicHostUrl)
                || p.template() == Some(PolicyTemplate::RouteRequestToEndpoint)
        }) || c.script.is_some()
        {
            continue; // the URL is not the package's host, or custom code runs
        }
        let set = c.security.parameter_sets.as_ref().and_then(|s| s.values.first()).map(|s| s.name.clone());
        let conn = connection_for(&c, set.as_deref());
        let kind = match select_credential(&c, &conn) {
            Ok(Credential::ApiKey { location: Location::Header, .. }) => "api key in a header",
            Ok(Credential::ApiKey { location: Location::Query, .. }) => "api key in the query",
            Ok(Credential::Basic) => "basic",
            Ok(Credential::OAuth(_)) => "oauth",
            _ => continue,
        };
        if checked.get(kind).copied().unwrap_or(0) >= 5 {
            continue;
        }
        let credential = select_credential(&c, &conn).unwrap();
        let header_name = match &credential {
            Credential::ApiKey { name, .. } => name.to_string(),
            _ => "authorization".to_string(),
        };
        let compiled = CompiledConnector::compile(Arc::new(rehost(c.clone(), &addr)));
        let Some((got, op)) =
            call_first_action(&rt, &compiled, &conn, &log, |op| !policy_sets_header(&c, op, &header_name))
                .await
        else {
            continue;
        };
        let label = format!("{} {op}", dir.display());
        match credential {
            Credential::ApiKey { name, location: Location::Header, parameter } => {
                assert_eq!(got.header(name), conn.text(&parameter).as_deref(), "{label}");
            }
            Credential::ApiKey { name, parameter, .. } => {
                let sent: Vec<_> =
                    got.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect();
                assert_eq!(sent, vec![conn.text(&parameter).unwrap()], "{label}");
            }
            Credential::Basic => {
                let user = conn.text("username").unwrap_or_default();
                let pass = conn.text("password").unwrap_or_default();
                let expected = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                );
                assert_eq!(got.header("authorization"), Some(expected.as_str()), "{label}");
            }
            Credential::OAuth(_) => {
                assert_eq!(got.header("authorization"), Some("Bearer pb-access-token"), "{label}")
            }
            Credential::None => {}
        }
        *checked.entry(kind).or_default() += 1;
    }
    eprintln!("security kinds checked: {checked:?}");
    for kind in ["api key in a header", "api key in the query", "basic", "oauth"] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) >= 3,
            "too few packages exercised {kind}: {checked:?}"
        );
    }
}

/// What the backend must have received.
type Expectation = Box<dyn Fn(&Received) -> bool>;

/// The literal `name` and `value` of a setheader/setqueryparameter that overrides (the default).
fn overriding_pair(p: &patchbay_spec::model::PolicyInstance) -> Option<(String, String)> {
    let action = p.parameter("existsAction").and_then(Value::as_str).unwrap_or("override");
    if !action.eq_ignore_ascii_case("override") {
        return None;
    }
    Some((literal(p, "name")?, literal(p, "value")?))
}

/// A literal (expression-free) text parameter of a policy.
fn literal(p: &patchbay_spec::model::PolicyInstance, name: &str) -> Option<String> {
    p.parameter(name)
        .and_then(Value::as_str)
        .filter(|v| !v.contains('@') && !v.contains('{'))
        .map(str::to_string)
}

#[tokio::test]
async fn literal_policies_shape_the_request_as_the_spec_says() {
    let (addr, log) = backend().await;
    let rt = runtime();
    let mut checked: std::collections::BTreeMap<&str, usize> = Default::default();
    for dir in corpus() {
        let Some(c) = patchbay_spec::load_path(&dir).connector else { continue };
        if c.script.is_some()
            || c.policies.iter().any(|p| {
                matches!(p.template(), Some(PolicyTemplate::DynamicHostUrl | PolicyTemplate::SetValueFromUrl))
            })
        {
            continue;
        }
        let set = c.security.parameter_sets.as_ref().and_then(|s| s.values.first()).map(|s| s.name.clone());
        let conn = connection_for(&c, set.as_deref());
        let compiled = CompiledConnector::compile(Arc::new(rehost(c.clone(), &addr)));
        for p in c.policies.iter().filter(|p| p.effective_section() == PolicySection::Request) {
            let (kind, expect): (&str, Expectation) = match p.template() {
                Some(PolicyTemplate::SetHeader) => {
                    let Some((name, value)) = overriding_pair(p) else { continue };
                    ("setheader", Box::new(move |r: &Received| r.header(&name) == Some(value.as_str())))
                }
                Some(PolicyTemplate::SetQueryParameter) => {
                    let Some((name, value)) = overriding_pair(p) else { continue };
                    (
                        "setqueryparameter",
                        Box::new(move |r: &Received| r.query.iter().any(|(k, v)| *k == name && *v == value)),
                    )
                }
                Some(PolicyTemplate::RouteRequestToEndpoint) => {
                    let Some(path) = literal(p, "newPath") else { continue };
                    let method = literal(p, "httpMethod");
                    let base = c.backend.base_path.clone().unwrap_or_default();
                    let expected = format!(
                        "{}/{}",
                        base.trim_end_matches('/'),
                        path.split('?').next().unwrap_or("").trim_start_matches('/')
                    );
                    (
                        "routerequesttoendpoint",
                        Box::new(move |r: &Received| {
                            r.path == expected
                                && method.as_ref().is_none_or(|m| r.method.eq_ignore_ascii_case(m))
                        }),
                    )
                }
                _ => continue,
            };
            if checked.get(kind).copied().unwrap_or(0) >= 5 {
                continue;
            }
            let applies = |op: &str| p.applies_to(op);
            let Some((got, op)) = call_first_action(&rt, &compiled, &conn, &log, applies).await else {
                continue;
            };
            // A later instance may legitimately override the same header or parameter; only the last counts.
            let later_same = c.policies.iter().skip_while(|q| !std::ptr::eq(*q, p)).skip(1).any(|q| {
                q.template() == p.template()
                    && q.applies_to(&op)
                    && q.parameter("name") == p.parameter("name")
            });
            if later_same {
                continue;
            }
            assert!(expect(&got), "{kind} of {} on {op}: the backend received {got:#?}", dir.display());
            *checked.entry(kind).or_default() += 1;
        }
    }
    eprintln!("literal policies checked: {checked:?}");
    for kind in ["setheader", "setqueryparameter", "routerequesttoendpoint"] {
        assert!(
            checked.get(kind).copied().unwrap_or(0) >= 3,
            "too few packages exercised {kind}: {checked:?}"
        );
    }
}

#[tokio::test]
async fn dynamic_host_urls_from_a_connection_parameter_reach_that_host() {
    let (addr, log) = backend().await;
    let rt = runtime();
    let mut checked = 0;
    for dir in corpus() {
        let Some(c) = patchbay_spec::load_path(&dir).connector else { continue };
        let Some((param, suffix)) = c.policies.iter().find_map(|p| {
            let template = p.parameter("urlTemplate")?.as_str()?;
            let rest = template.strip_prefix("@connectionParameters('")?;
            let (name, suffix) = rest.split_once("')")?;
            (p.operations.is_empty() && !suffix.contains('@')).then(|| (name.to_string(), suffix.to_string()))
        }) else {
            continue;
        };
        if c.script.is_some()
            || c.policies.iter().any(|p| p.template() == Some(PolicyTemplate::RouteRequestToEndpoint))
        {
            continue;
        }
        let set = c.security.parameter_sets.as_ref().and_then(|s| {
            s.values.iter().find(|v| v.parameters.iter().any(|p| p.name == param)).map(|v| v.name.clone())
        });
        let conn = connection_for(&c, set.as_deref()).with_value(param.clone(), format!("http://{addr}"));
        // The package's own host must not matter: point it somewhere unreachable.
        let mut unreachable = c.clone();
        unreachable.backend.host = Some("host.invalid".into());
        let compiled = CompiledConnector::compile(Arc::new(unreachable));
        let Some((got, op)) = call_first_action(&rt, &compiled, &conn, &log, |_| true).await else {
            continue;
        };
        let (_, operation) = c.operation(&op).unwrap();
        let expected_prefix = format!("{}/", suffix.trim_end_matches('/'));
        let first_segment = operation.path.trim_start_matches('/').split(['/', '{']).next().unwrap_or("");
        assert!(
            got.path.starts_with(&expected_prefix) || suffix.is_empty(),
            "{} {op}: expected the path under `{suffix}`, got {}",
            dir.display(),
            got.path
        );
        assert!(
            got.path.contains(first_segment),
            "{} {op}: {} lost the operation path",
            dir.display(),
            got.path
        );
        checked += 1;
        if checked >= 5 {
            break;
        }
    }
    assert!(checked >= 3, "too few dynamichosturl packages exercised: {checked}");
}
