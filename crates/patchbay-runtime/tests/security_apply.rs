//! Applying none, API key, basic and OAuth credentials, as chosen by security definitions,
//! operations and parameter sets — checked on the built request and on what servers received.

mod support_security;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use patchbay_runtime::security::{
    ConnectionValues, Credential, SecurityError, apply_operation_security, apply_security, select_credential,
};
use patchbay_spec::model::{Location, Method, Operation, SecuritySchemeKind};
use serde_json::{Value, json};
use support_security::*;

/// The JSON an echoing recorder answered with.
async fn echoed(request: patchbay_runtime::WireRequest) -> Value {
    let response = send(request).await;
    assert_eq!(response.status, StatusCode::OK);
    serde_json::from_slice(&response.body).expect("echo JSON")
}

#[tokio::test]
async fn no_security_adds_nothing() {
    let echo = Recorder::start(None).await;
    let c = connector(Vec::new(), Vec::new());
    let mut req = get(&format!("{}/items?a=1", echo.base_url));
    apply_security(&mut req, &c, &ConnectionValues::new("c1"), &token_manager()).await.unwrap();
    assert!(req.headers.is_empty());
    assert_eq!(req.url.query(), Some("a=1"));
    let got = echoed(req).await;
    assert_eq!(got["headers"].get("authorization"), None);
    assert_eq!(got["query"], "a=1");
}

#[tokio::test]
async fn api_key_in_header() {
    let echo = Recorder::start(None).await;
    let c = connector(
        vec![api_key_scheme("api_key", "X-API-Key", Location::Header)],
        vec![parameter("api_key", "securestring")],
    );
    let conn = ConnectionValues::new("c1").with_value("api_key", "k-123 456");
    let mut req = get(&format!("{}/items", echo.base_url));
    req.headers.insert("x-api-key", "stale".parse().unwrap());
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    assert_eq!(req.headers.get_all("x-api-key").iter().collect::<Vec<_>>(), ["k-123 456"]);
    assert!(req.headers["x-api-key"].is_sensitive());
    assert_eq!(echoed(req).await["headers"]["x-api-key"], "k-123 456");

    let server = contoso(Duration::from_secs(3600)).await;
    let conn = ConnectionValues::new("c2").with_value("api_key", DEMO_API_KEY);
    let mut req = get(&format!("{}/projects", server.base_url()));
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn api_key_in_query() {
    let echo = Recorder::start(None).await;
    let c = connector(vec![api_key_scheme("key_auth", "code", Location::Query)], Vec::new());
    let conn = ConnectionValues::new("c1").with_value("key_auth", "a&b c");
    let mut req = get(&format!("{}/items?page=2&code=old", echo.base_url));
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    assert_eq!(req.url.query(), Some("page=2&code=a%26b+c"));
    assert!(req.headers.is_empty());
    let got = echoed(req).await;
    assert_eq!(got["query"], "page=2&code=a%26b+c");
}

#[tokio::test]
async fn basic_authentication() {
    let echo = Recorder::start(None).await;
    let c = connector(
        vec![scheme("basic_auth", SecuritySchemeKind::Basic)],
        vec![parameter("username", "string"), parameter("password", "securestring")],
    );
    let conn = ConnectionValues::new("c1").with_value("username", "ada").with_value("password", "p:w ö");
    let mut req = get(&format!("{}/items", echo.base_url));
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    let expected = format!("Basic {}", STANDARD.encode("ada:p:w ö"));
    assert_eq!(req.headers["authorization"].as_bytes(), expected.as_bytes());
    assert_eq!(expected, "Basic YWRhOnA6dyDDtg==");
    assert_eq!(echoed(req).await["headers"]["authorization"], expected);
}

#[tokio::test]
async fn operation_with_empty_security_gets_nothing() {
    let echo = Recorder::start(None).await;
    let c = connector(
        vec![api_key_scheme("api_key", "X-API-Key", Location::Header)],
        vec![parameter("api_key", "securestring")],
    );
    let conn = ConnectionValues::new("c1").with_value("api_key", "k1");
    let tokens = token_manager();

    let mut open = Operation::new(Method::Get, "/health");
    open.security = Some(json!([]));
    let mut req = get(&format!("{}/health", echo.base_url));
    apply_operation_security(&mut req, &c, &open, &conn, &tokens).await.unwrap();
    assert!(req.headers.is_empty());
    assert_eq!(echoed(req).await["headers"].get("x-api-key"), None);

    let mut secured = Operation::new(Method::Get, "/items");
    secured.security = Some(json!([{ "api_key": [] }]));
    let mut req = get(&format!("{}/items", echo.base_url));
    apply_operation_security(&mut req, &c, &secured, &conn, &tokens).await.unwrap();
    assert_eq!(echoed(req).await["headers"]["x-api-key"], "k1");
}

#[tokio::test]
async fn parameter_sets_choose_the_scheme() {
    let echo = Recorder::start(None).await;
    let c = connector_with_sets(
        vec![
            scheme("basic_auth", SecuritySchemeKind::Basic),
            api_key_scheme("api_key", "X-API-Key", Location::Header),
        ],
        vec![
            ("key", vec![parameter("api_key", "securestring")]),
            ("basic", vec![parameter("username", "string"), parameter("password", "securestring")]),
            ("custom", vec![parameter("secretKey", "securestring")]),
        ],
    );
    let tokens = token_manager();
    let key = ConnectionValues::new("k").with_parameter_set("key").with_value("api_key", "k1");
    let basic = ConnectionValues::new("b")
        .with_parameter_set("basic")
        .with_value("username", "u")
        .with_value("password", "p");
    let custom = ConnectionValues::new("x").with_parameter_set("custom").with_value("secretKey", "s");

    let mut req = get(&echo.base_url);
    apply_security(&mut req, &c, &key, &tokens).await.unwrap();
    let got = echoed(req).await;
    assert_eq!(
        (got["headers"]["x-api-key"].as_str(), got["headers"].get("authorization")),
        (Some("k1"), None)
    );

    let mut req = get(&echo.base_url);
    apply_security(&mut req, &c, &basic, &tokens).await.unwrap();
    let got = echoed(req).await;
    assert_eq!(got["headers"]["authorization"], format!("Basic {}", STANDARD.encode("u:p")));
    assert_eq!(got["headers"].get("x-api-key"), None);

    let mut req = get(&echo.base_url);
    apply_security(&mut req, &c, &custom, &tokens).await.unwrap();
    assert!(req.headers.is_empty(), "other parameter names are left to policies");
}

/// The Contoso Tasks package itself: its `apiKey` and `oauth` sets, against the real server.
#[tokio::test]
async fn contoso_package_sets_key_and_oauth() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/contoso-tasks/connector");
    let mut c = patchbay_spec::load_path(&dir).connector.expect("contoso connector loads");
    let sets = &mut c.security.parameter_sets.as_mut().expect("sets").values;
    let oauth = sets.iter_mut().find(|s| s.name == "oauth").expect("oauth set");
    let settings = oauth.parameters[0].oauth.as_mut().expect("oauth settings");
    *settings = support_security::contoso_oauth2(base);
    let settings = settings.clone();
    let tokens = token_manager();

    let key = ConnectionValues::new("key").with_parameter_set("apiKey").with_value("api_key", DEMO_API_KEY);
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &key, &tokens).await.unwrap();
    assert_eq!(req.headers["x-api-key"], DEMO_API_KEY);
    assert_eq!(send(req).await.status, StatusCode::OK);

    let signed_in = ConnectionValues::new("oauth").with_parameter_set("oauth");
    assert!(matches!(select_credential(&c, &signed_in), Ok(Credential::OAuth(_))));
    let token = sign_in(&tokens, &settings, &signed_in).await;
    let conn = signed_in.with_token(token.clone());
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(req.headers["authorization"].to_str().unwrap(), format!("Bearer {}", token.access_token));
    assert_eq!(req.headers.get("x-api-key"), None);
    assert_eq!(send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_values_and_unknown_sets_are_errors() {
    let tokens = token_manager();
    let c = connector(
        vec![api_key_scheme("api_key", "X-API-Key", Location::Header)],
        vec![parameter("api_key", "securestring")],
    );
    let mut req = get("http://127.0.0.1:9/");
    let err = apply_security(&mut req, &c, &ConnectionValues::new("c"), &tokens).await.unwrap_err();
    assert_eq!(err, SecurityError::MissingParameter { name: "api_key".into() });

    let sets = connector_with_sets(Vec::new(), vec![("a", Vec::new()), ("b", Vec::new())]);
    let conn = ConnectionValues::new("c").with_parameter_set("zzz");
    let err = apply_security(&mut req, &sets, &conn, &tokens).await.unwrap_err();
    assert_eq!(err.to_string(), "the connection's parameter set `zzz` is not one of the connector's: a, b");

    let basic = connector(vec![scheme("basic_auth", SecuritySchemeKind::Basic)], Vec::new());
    let err = apply_security(&mut req, &basic, &ConnectionValues::new("c"), &tokens).await.unwrap_err();
    assert_eq!(err, SecurityError::MissingParameter { name: "username".into() });

    let oauth = oauth_connector(contoso_oauth2("http://127.0.0.1:9"));
    let err = apply_security(&mut req, &oauth, &ConnectionValues::new("fresh"), &tokens).await.unwrap_err();
    assert_eq!(err, SecurityError::NeedsSignIn { connection: "fresh".into() });
    assert!(err.needs_sign_in());
    assert!(req.headers.is_empty());
}

#[tokio::test]
async fn definition_without_conventional_parameter_uses_the_only_secret() {
    let echo = Recorder::start(None).await;
    let c = connector(
        vec![api_key_scheme("ApiKeyAuth", "Authorization", Location::Header)],
        vec![parameter("region", "string"), parameter("apiKey", "securestring")],
    );
    let conn = ConnectionValues::new("c").with_value("apiKey", "Token abc").with_value("region", "eu");
    assert!(
        matches!(select_credential(&c, &conn), Ok(Credential::ApiKey { parameter, .. }) if parameter == "apiKey")
    );
    let mut req = get(&echo.base_url);
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    assert_eq!(echoed(req).await["headers"]["authorization"], "Token abc");
}
