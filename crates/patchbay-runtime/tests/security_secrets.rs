//! Secrets never appear in `Debug` output or error messages.

mod support_security;

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use patchbay_runtime::security::{ConnectionValues, RefreshOutcome, SecurityError, TokenSet, apply_security};
use patchbay_spec::model::Location;
use serde_json::json;
use support_security::*;

const API_KEY: &str = "key-Zq81-secret";
const PASSWORD: &str = "pw-Hx27-secret";
const CLIENT_KEY: &str = "ck-Lm55-value";
const ACCESS: &str = "at-Pp90-token";
const REFRESH: &str = "rt-Yy12-token";

fn tokens() -> TokenSet {
    TokenSet {
        access_token: ACCESS.into(),
        refresh_token: Some(REFRESH.into()),
        expires_at: Some(SystemTime::now() + Duration::from_secs(60)),
        token_type: Some("Bearer".into()),
        scope: Some("tasks".into()),
    }
}

fn assert_clean(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} leaked in: {text}");
    }
}

#[test]
fn debug_masks_secret_parameters_and_tokens() {
    let c = connector(
        Vec::new(),
        vec![
            parameter("username", "string"),
            parameter("password", "securestring"),
            parameter("api_key", "securestring"),
            parameter("clientKey", "securestring"),
            parameter("token:region", "string"),
        ],
    );
    let values = ConnectionValues::new("conn-7")
        .with_value("username", "ada")
        .with_value("password", PASSWORD)
        .with_value("api_key", API_KEY)
        .with_value("clientKey", CLIENT_KEY)
        .with_value("token:region", "westeurope")
        .with_token(tokens());

    let undeclared = format!("{values:?}");
    assert!(undeclared.contains(CLIENT_KEY), "only declared or conventional names are secret");
    assert_clean(&undeclared, &[PASSWORD, API_KEY, ACCESS, REFRESH]);

    let values = values.with_secrets_from(&c);
    for text in [format!("{values:?}"), format!("{values:#?}"), format!("{:?}", values.token)] {
        assert_clean(&text, &[PASSWORD, API_KEY, CLIENT_KEY, ACCESS, REFRESH]);
    }
    let shown = format!("{values:?}");
    assert!(shown.contains("ada") && shown.contains("westeurope") && shown.contains("conn-7"), "{shown}");
    assert!(shown.contains("***"));

    let mut expected = vec![API_KEY, PASSWORD, CLIENT_KEY, ACCESS, REFRESH];
    expected.sort_unstable();
    assert_eq!(values.secrets(), expected);

    let outcome = RefreshOutcome { connection_id: "conn-7".into(), tokens: tokens(), refreshed: true };
    assert_clean(&format!("{outcome:?}"), &[ACCESS, REFRESH]);
    assert_eq!(TokenSet::from_json(&tokens().to_json()).map(|t| t.access_token), Some(ACCESS.to_string()));
}

/// A token endpoint that rejects everything and quotes the whole request body back.
async fn quoting_token_endpoint() -> String {
    init();
    let app = Router::new().route(
        "/token",
        post(|body: String| async move {
            let error = json!({ "error": "invalid_grant", "error_description": format!("rejected: {body}") });
            (StatusCode::BAD_REQUEST, axum::Json(error))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn token_endpoint_errors_never_carry_request_secrets() {
    let base = quoting_token_endpoint().await;
    let settings = oauth_settings(
        "oauth2",
        json!({ "authorizationUrl": { "value": format!("{base}/a") }, "tokenUrl": { "value": format!("{base}/token") } }),
    );
    let c = oauth_connector(settings.clone());
    let manager = token_manager();

    let code = "code-Kk33-secret";
    let verifier = "verifier-Vv44-secret-verifier-verifier-0000";
    let err = manager
        .exchange_code(&settings, &ConnectionValues::new("x"), code, Some(verifier), REDIRECT_URL)
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("invalid_grant") && text.contains("rejected: grant_type=authorization_code"),
        "{text}"
    );
    assert_clean(&text, &[code, verifier, DEMO_CLIENT_SECRET]);

    let expiring = TokenSet { expires_at: Some(SystemTime::now()), ..tokens() };
    let conn = ConnectionValues::new("y").with_token(expiring);
    let mut req = get(&format!("{base}/api"));
    let err = apply_security(&mut req, &c, &conn, &manager).await.unwrap_err();
    assert!(matches!(&err, SecurityError::TokenEndpoint { status: 400, .. }));
    assert_clean(&format!("{err} {err:?}"), &[ACCESS, REFRESH, DEMO_CLIENT_SECRET]);
}

#[tokio::test]
async fn transport_errors_never_carry_secrets() {
    let settings = oauth_settings(
        "oauth2generic",
        json!({
            "tokenUrlTemplate": { "value": "http://127.0.0.1:9/{clientSecret}/token" },
            "refreshUrlTemplate": { "value": "http://127.0.0.1:9/{refreshToken}/token" }
        }),
    );
    let c = oauth_connector(settings);
    let conn =
        ConnectionValues::new("z").with_token(TokenSet { expires_at: Some(SystemTime::now()), ..tokens() });
    let mut req = get("http://127.0.0.1:9/api");
    let err = apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap_err();
    assert!(matches!(err, SecurityError::Transport(_)), "{err:?}");
    assert_clean(&format!("{err} {err:?}"), &[REFRESH, ACCESS, DEMO_CLIENT_SECRET]);
}

#[tokio::test]
async fn invalid_credential_values_are_not_quoted() {
    let c = connector(
        vec![api_key_scheme("api_key", "X-API-Key", Location::Header)],
        vec![parameter("api_key", "securestring")],
    );
    let bad = format!("{API_KEY}\nInjected: 1");
    let conn = ConnectionValues::new("c").with_value("api_key", bad.as_str());
    let mut req = get("http://127.0.0.1:9/");
    let err = apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap_err();
    assert!(matches!(err, SecurityError::InvalidValue { .. }));
    assert_clean(&format!("{err} {err:?}"), &[API_KEY]);
    assert!(req.headers.is_empty());
}
