//! `oauth2generic`: URL, query-string and body templates rendered exactly, checked on what a
//! recording server in front of the Contoso Tasks authorization server received.

mod support_security;

use std::time::{Duration, SystemTime};

use http::StatusCode;
use patchbay_runtime::security::{
    ConnectionValues, SecurityError, TokenSet, apply_security, authorization_url, pkce_pair,
};
use patchbay_spec::model::OAuthSettings;
use serde_json::json;
use support_security::*;

fn generic_settings() -> OAuthSettings {
    let mut s = oauth_settings(
        "oauth2generic",
        json!({
            "authorizationUrlTemplate": { "value": "http://{host}/oauth/authorize" },
            "authorizationUrlQueryStringTemplate": { "value":
                "?response_type=code&client_id={ClientId}&redirect_uri={redirectUrl}&scope={scopes}&state={STATE}&code_challenge={codeChallenge}&code_challenge_method=S256&tenant={tenant}&keep={unknown}" },
            "tokenUrlTemplate": { "value": "http://{Host}/oauth/token" },
            "tokenUrlQueryStringTemplate": { "value": "?tenant={tenant}" },
            "tokenBodyTemplate": { "value":
                "grant_type=authorization_code&code={code}&redirect_uri={redirectUrl}&client_id={clientId}&client_secret={clientSecret}&code_verifier={codeVerifier}" },
            "refreshUrlTemplate": { "value": "http://{host}/oauth/token" },
            "refreshBodyTemplate": { "value":
                "grant_type=refresh_token&refresh_token={refreshToken}&client_id={clientId}&client_secret={clientSecret}&scope={scopes}" },
            "scopeListDelimiter": { "value": "," },
            "tenant": { "value": "a b/c" }
        }),
    );
    s.scopes = vec!["tasks".into(), "offline_access".into()];
    s
}

#[tokio::test]
async fn templates_are_rendered_exactly() {
    let server = contoso(Duration::from_secs(3600)).await;
    let recorder = Recorder::start(Some(server.base_url())).await;
    let c = oauth_connector(generic_settings());
    let settings = settings_of(&c);
    let conn = ConnectionValues::new("generic").with_value("token:host", recorder.host.clone());

    let (verifier, challenge) = pkce_pair().unwrap();
    let url = authorization_url(settings, REDIRECT_URL, "st 1", Some(&challenge), &conn).unwrap();
    let expected_url = format!(
        "http://{}/oauth/authorize?response_type=code&client_id={DEMO_CLIENT_ID}\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=tasks%2Coffline_access&state=st%201\
         &code_challenge={challenge}&code_challenge_method=S256&tenant=a%20b%2Fc&keep={{unknown}}",
        recorder.host
    );
    assert_eq!(url.as_str(), expected_url, "unknown placeholders stay verbatim");
    let (code, state) = follow_authorize(url.as_str()).await;
    assert_eq!(state, "st 1");

    let tokens = token_manager();
    let token = tokens.exchange_code(settings, &conn, &code, Some(&verifier), REDIRECT_URL).await.unwrap();
    let posts: Vec<Recorded> = recorder.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        (posts[0].path.as_str(), posts[0].query.as_deref()),
        ("/oauth/token", Some("tenant=a%20b%2Fc"))
    );
    assert_eq!(
        posts[0].body,
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback\
             &client_id={DEMO_CLIENT_ID}&client_secret={DEMO_CLIENT_SECRET}&code_verifier={verifier}"
        )
    );
    assert_eq!(posts[0].headers["content-type"], "application/x-www-form-urlencoded");

    let expired = TokenSet { expires_at: Some(SystemTime::now()), ..token.clone() };
    let mut req = get(&format!("{}/projects", server.base_url()));
    // A manager with an empty cache (another process) sees the stored token as expired.
    apply_security(&mut req, &c, &conn.clone().with_token(expired), &token_manager()).await.unwrap();
    let posts: Vec<Recorded> = recorder.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].query, None);
    assert_eq!(
        posts[1].body,
        format!(
            "grant_type=refresh_token&refresh_token={}&client_id={DEMO_CLIENT_ID}\
             &client_secret={DEMO_CLIENT_SECRET}&scope=tasks%2Coffline_access",
            token.refresh_token.as_deref().unwrap()
        )
    );
    assert_eq!(grant_calls(server.base_url(), "refresh_token").await, 1);
    assert_eq!(send(req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn without_a_refresh_template_tokens_cannot_be_renewed() {
    let server = contoso(Duration::from_secs(3600)).await;
    let mut settings = generic_settings();
    settings.custom_parameters.insert("RefreshUrlTemplate".into(), json!(null));
    settings.custom_parameters.retain(|k, _| k != "refreshUrlTemplate");
    let c = oauth_connector(settings);
    let conn = ConnectionValues::new("no-refresh")
        .with_value("token:host", server.addr.to_string())
        .with_token(TokenSet {
            refresh_token: Some("rt".into()),
            expires_at: Some(SystemTime::now()),
            ..TokenSet::new("at")
        });
    let mut req = get(&format!("{}/projects", server.base_url()));
    let err = apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap_err();
    assert!(matches!(err, SecurityError::SignInExpired { .. }), "{err:?}");
    assert_eq!(grant_calls(server.base_url(), "total").await, 0);
}

#[tokio::test]
async fn client_credentials_with_generic_templates_use_the_token_url() {
    let server = contoso(Duration::from_secs(3600)).await;
    let recorder = Recorder::start(Some(server.base_url())).await;
    let mut settings = generic_settings();
    settings.extra.insert("x-patchbay-grant".into(), json!("client_credentials"));
    let c = oauth_connector(settings);
    let conn = ConnectionValues::new("cc").with_value("token:host", recorder.host.clone());
    let mut req = get(&format!("{}/projects", server.base_url()));
    apply_security(&mut req, &c, &conn, &token_manager()).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::OK);
    let posts = recorder.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].query.as_deref(), Some("tenant=a%20b%2Fc"));
    assert_eq!(
        posts[0].body,
        format!(
            "grant_type=client_credentials&scope=tasks%2Coffline_access&client_id={DEMO_CLIENT_ID}&client_secret={DEMO_CLIENT_SECRET}"
        )
    );
}
