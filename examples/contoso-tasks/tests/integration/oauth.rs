//! The built-in OAuth 2.0 authorization server and bearer-token enforcement.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use contoso_tasks::{Config, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OAuthClient};
use reqwest::Url;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::common::{Server, client, error_code, header, json_of, start, start_with, test_config};

const REDIRECT: &str = "http://127.0.0.1:9999/oauth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// GET /oauth/authorize with `params`; returns the status and the redirect target.
async fn authorize(s: &Server, params: &[(&str, &str)]) -> (u16, Option<Url>) {
    let resp = s.client.get(s.url("/oauth/authorize")).query(params).send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").map(|l| Url::parse(l.to_str().unwrap()).unwrap());
    (status, location)
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Runs the authorization request with PKCE and returns the code.
async fn code_for(s: &Server, verifier: &str) -> String {
    let ch = challenge(verifier);
    let (status, location) = authorize(
        s,
        &[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "tasks"),
            ("state", "xyz 123"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    let location = location.expect("Location");
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("xyz 123"));
    param(&location, "code").expect("code")
}

/// POST /oauth/token with form fields (client credentials in the form).
async fn token(s: &Server, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("client_id", DEMO_CLIENT_ID));
    form.push(("client_secret", DEMO_CLIENT_SECRET));
    s.client.post(s.url("/oauth/token")).form(&form).send().await.unwrap()
}

async fn oauth_error(resp: reqwest::Response, status: u16) -> String {
    let body = json_of(resp, status).await;
    body["error"].as_str().expect("RFC 6749 error").to_owned()
}

async fn projects_status(s: &Server, access_token: &str) -> reqwest::Response {
    client().get(s.url("/projects")).bearer_auth(access_token).send().await.unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let s = start().await;

    // Wrong verifier: rejected, and the code is spent.
    let code = code_for(&s, VERIFIER).await;
    let wrong = "x".repeat(43);
    let resp = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &wrong),
        ],
    )
    .await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");

    // Missing verifier.
    let code = code_for(&s, VERIFIER).await;
    let resp =
        token(&s, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");

    // Wrong redirect_uri.
    let code = code_for(&s, VERIFIER).await;
    let resp = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");

    // Right verifier.
    let code = code_for(&s, VERIFIER).await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let resp = token(&s, &fields).await;
    assert_eq!(header(&resp, "cache-control"), "no-store");
    let tokens = json_of(resp, 200).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "tasks");
    assert!(tokens["refresh_token"].is_string());
    let access = str_of(&tokens, "access_token");
    json_of(projects_status(&s, access).await, 200).await;

    // A code is single-use.
    assert_eq!(oauth_error(token(&s, &fields).await, 400).await, "invalid_grant");
}

#[tokio::test]
async fn authorization_code_without_pkce_for_confidential_clients() {
    let s = start().await;
    let (status, location) = authorize(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", "http://localhost:1234/cb?keep=1"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert_eq!(param(&location, "keep").as_deref(), Some("1"));
    assert!(param(&location, "state").is_none());
    let code = param(&location, "code").unwrap();
    // A verifier without a challenge is a client bug: rejected.
    let resp = token(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://localhost:1234/cb?keep=1"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");
}

#[tokio::test]
async fn authorize_validates_client_redirect_uri_and_pkce_method() {
    let config = Config {
        oauth_clients: vec![
            OAuthClient::default(),
            OAuthClient {
                client_id: "strict".into(),
                client_secret: "strict-secret".into(),
                redirect_uris: vec![REDIRECT.into()],
                require_pkce: true,
            },
        ],
        ..test_config()
    };
    let s = start_with(config).await;
    let base = [("response_type", "code"), ("redirect_uri", REDIRECT)];

    // Unknown or missing client, bad redirect URIs: no redirect, a 400 JSON error.
    for params in [
        vec![("client_id", "nobody")],
        vec![],
        vec![("client_id", DEMO_CLIENT_ID), ("redirect_uri", "not a url")],
        vec![("client_id", DEMO_CLIENT_ID), ("redirect_uri", "ftp://x/cb")],
        vec![("client_id", DEMO_CLIENT_ID), ("redirect_uri", "http://x/cb#frag")],
        vec![("client_id", "strict"), ("redirect_uri", "http://127.0.0.1:9999/not-registered")],
    ] {
        let mut all: Vec<(&str, &str)> = base.to_vec();
        all.retain(|(k, _)| !params.iter().any(|(p, _)| p == k));
        all.extend(params.iter().copied());
        let resp = s.client.get(s.url("/oauth/authorize")).query(&all).send().await.unwrap();
        assert!(resp.headers().get("location").is_none(), "{all:?}");
        assert_eq!(oauth_error(resp, 400).await, "invalid_request", "{all:?}");
    }

    // Errors after the redirect URI is trusted go back to the client.
    let ch = challenge(VERIFIER);
    for (params, expected) in [
        (vec![("client_id", DEMO_CLIENT_ID), ("response_type", "token")], "unsupported_response_type"),
        (
            vec![
                ("client_id", DEMO_CLIENT_ID),
                ("code_challenge", ch.as_str()),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (vec![("client_id", DEMO_CLIENT_ID), ("code_challenge", ch.as_str())], "invalid_request"),
        (
            vec![
                ("client_id", DEMO_CLIENT_ID),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (vec![("client_id", "strict")], "invalid_request"),
    ] {
        let mut all: Vec<(&str, &str)> = base.to_vec();
        all.retain(|(k, _)| !params.iter().any(|(p, _)| p == k));
        all.extend(params.iter().copied());
        all.push(("state", "s1"));
        let (status, location) = authorize(&s, &all).await;
        assert_eq!(status, 302, "{all:?}");
        let location = location.unwrap();
        assert_eq!(param(&location, "error").as_deref(), Some(expected), "{all:?}");
        assert_eq!(param(&location, "state").as_deref(), Some("s1"));
        assert!(param(&location, "code").is_none());
    }

    // The strict client with PKCE and its registered URI (which may then be omitted).
    let (status, location) = authorize(
        &s,
        &[
            ("response_type", "code"),
            ("client_id", "strict"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let code = param(&location, "code").unwrap();
    let resp = s
        .client
        .post(s.url("/oauth/token"))
        .basic_auth("strict", Some("strict-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", VERIFIER)])
        .send()
        .await
        .unwrap();
    json_of(resp, 200).await;
}

#[tokio::test]
async fn refresh_token_rotation() {
    let s = start().await;
    let code = code_for(&s, VERIFIER).await;
    let first = json_of(
        token(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        200,
    )
    .await;
    let refresh1 = str_of(&first, "refresh_token");

    // Refresh with HTTP Basic client authentication.
    let resp = s
        .client
        .post(s.url("/oauth/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh1)])
        .send()
        .await
        .unwrap();
    let second = json_of(resp, 200).await;
    let refresh2 = str_of(&second, "refresh_token");
    assert_ne!(refresh1, refresh2);
    assert_ne!(str_of(&first, "access_token"), str_of(&second, "access_token"));
    assert_eq!(second["scope"], "tasks");
    json_of(projects_status(&s, str_of(&second, "access_token")).await, 200).await;

    // The old refresh token is spent.
    let resp = token(&s, &[("grant_type", "refresh_token"), ("refresh_token", refresh1)]).await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");

    // The new one works, once.
    let third =
        json_of(token(&s, &[("grant_type", "refresh_token"), ("refresh_token", refresh2)]).await, 200).await;
    assert!(third["refresh_token"].is_string());
    let resp = token(&s, &[("grant_type", "refresh_token"), ("refresh_token", refresh2)]).await;
    assert_eq!(oauth_error(resp, 400).await, "invalid_grant");
}

#[tokio::test]
async fn client_credentials_and_client_authentication() {
    let s = start().await;
    let tokens =
        json_of(token(&s, &[("grant_type", "client_credentials"), ("scope", "tasks")]).await, 200).await;
    assert!(tokens.get("refresh_token").is_none());
    assert_eq!(tokens["scope"], "tasks");
    json_of(projects_status(&s, str_of(&tokens, "access_token")).await, 200).await;

    let basic = s
        .client
        .post(s.url("/oauth/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    json_of(basic, 200).await;

    let wrong_secret = s
        .client
        .post(s.url("/oauth/token"))
        .basic_auth(DEMO_CLIENT_ID, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert!(header(&wrong_secret, "www-authenticate").starts_with("Basic"));
    assert_eq!(oauth_error(wrong_secret, 401).await, "invalid_client");

    let anonymous = s
        .client
        .post(s.url("/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(anonymous, 401).await, "invalid_client");

    let unsupported = token(&s, &[("grant_type", "password")]).await;
    assert_eq!(oauth_error(unsupported, 400).await, "unsupported_grant_type");
    let missing = token(&s, &[]).await;
    assert_eq!(oauth_error(missing, 400).await, "invalid_request");
    let json_body = s
        .client
        .post(s.url("/oauth/token"))
        .json(&serde_json::json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(json_body, 400).await, "invalid_request");
}

#[tokio::test]
async fn expired_access_tokens_are_rejected_and_refresh_recovers() {
    let config = Config { access_token_ttl: Duration::from_millis(300), ..test_config() };
    let s = start_with(config).await;
    let code = code_for(&s, VERIFIER).await;
    let tokens = json_of(
        token(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(tokens["expires_in"], 1, "rounded up to whole seconds");
    let access = str_of(&tokens, "access_token");
    json_of(projects_status(&s, access).await, 200).await;

    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = projects_status(&s, access).await;
    assert!(header(&expired, "www-authenticate").contains("invalid_token"));
    assert_eq!(error_code(expired, 401).await, "Unauthorized");

    let refreshed = json_of(
        token(&s, &[("grant_type", "refresh_token"), ("refresh_token", str_of(&tokens, "refresh_token"))])
            .await,
        200,
    )
    .await;
    json_of(projects_status(&s, str_of(&refreshed, "access_token")).await, 200).await;
}

#[tokio::test]
async fn stats_count_token_calls_per_grant_type() {
    let s = start().await;
    let stats = |s: &Server| {
        let c = s.client.clone();
        let url = s.url("/oauth/stats");
        async move { json_of(c.get(url).send().await.unwrap(), 200).await }
    };
    assert_eq!(stats(&s).await["total"], 0);

    let code = code_for(&s, VERIFIER).await;
    let tokens = json_of(
        token(
            &s,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await,
        200,
    )
    .await;
    let refresh = str_of(&tokens, "refresh_token");
    token(&s, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    // A failed refresh (the token was rotated) still counts as a call.
    token(&s, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    token(&s, &[("grant_type", "client_credentials")]).await;
    token(&s, &[("grant_type", "password")]).await;

    let st = stats(&s).await;
    assert_eq!(st["authorization_code"], 1);
    assert_eq!(st["refresh_token"], 2);
    assert_eq!(st["client_credentials"], 1);
    assert_eq!(st["other"], 1);
    assert_eq!(st["total"], 5);
}
