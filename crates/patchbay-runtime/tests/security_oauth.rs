//! OAuth 2.0 against the Contoso Tasks authorization server: authorization code with PKCE,
//! refresh before expiry, single-flight refresh under a burst, refresh after a 401, client
//! credentials, and sign-in errors.

mod support_security;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::StatusCode;
use patchbay_runtime::security::{
    ConnectionValues, RefreshOutcome, SecurityError, TokenManager, TokenManagerOptions, TokenSet,
    apply_security, authorization_url, pkce_challenge, pkce_pair, random_state,
};
use serde_json::json;
use support_security::*;
use tokio::task::JoinSet;

/// Collects what the refresh listener is told.
fn listen(tokens: &TokenManager) -> Arc<Mutex<Vec<RefreshOutcome>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    tokens.set_refresh_listener(move |outcome| sink.lock().unwrap().push(outcome.clone()));
    seen
}

fn bearer(req: &patchbay_runtime::WireRequest) -> String {
    req.headers["authorization"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url();
    let c = oauth_connector(contoso_oauth2(base));
    let settings = settings_of(&c);
    let conn = ConnectionValues::new("conn-1");

    let (verifier, challenge) = pkce_pair().unwrap();
    assert_eq!((verifier.len(), challenge.as_str()), (43, pkce_challenge(&verifier).as_str()));
    let state = random_state().unwrap();
    let url = authorization_url(settings, REDIRECT_URL, &state, Some(&challenge), &conn).unwrap();
    let expected = format!(
        "{base}/oauth/authorize?response_type=code&client_id={DEMO_CLIENT_ID}\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=tasks&state={state}\
         &code_challenge={challenge}&code_challenge_method=S256"
    );
    assert_eq!(url.as_str(), expected);

    let (code, returned_state) = follow_authorize(url.as_str()).await;
    assert_eq!(returned_state, state);
    let tokens = token_manager();
    let wrong =
        tokens.exchange_code(settings, &conn, &code, Some("x".repeat(43).as_str()), REDIRECT_URL).await;
    let err = wrong.unwrap_err();
    assert!(
        matches!(&err, SecurityError::TokenEndpoint { status: 400, error: Some(e), .. } if e == "invalid_grant")
    );

    let (code, _) = follow_authorize(url.as_str()).await;
    let token = tokens.exchange_code(settings, &conn, &code, Some(&verifier), REDIRECT_URL).await.unwrap();
    assert!(token.refresh_token.is_some());
    assert_eq!(token.token_type.as_deref(), Some("Bearer"));
    assert_eq!(token.scope.as_deref(), Some("tasks"));
    let left = token.remaining(SystemTime::now()).unwrap();
    assert!(left > Duration::from_secs(3590) && left <= Duration::from_secs(3600), "{left:?}");
    assert_eq!(grant_calls(base, "authorization_code").await, 2);

    let conn = conn.with_token(token.clone());
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(bearer(&req), format!("Bearer {}", token.access_token));
    assert!(req.headers["authorization"].is_sensitive());
    assert_eq!(send(req).await.status, StatusCode::OK);
    assert_eq!(grant_calls(base, "refresh_token").await, 0);
}

#[tokio::test]
async fn refreshes_when_the_token_expires() {
    let server = contoso(Duration::from_secs(3)).await;
    let base = server.base_url();
    let c = oauth_connector(contoso_oauth2(base));
    let tokens = token_manager();
    let seen = listen(&tokens);
    let conn = ConnectionValues::new("short");
    let first = sign_in(&tokens, settings_of(&c), &conn).await;
    let conn = conn.with_token(first.clone());

    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(bearer(&req), format!("Bearer {}", first.access_token));
    assert_eq!(send(req.clone()).await.status, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(api_status(base, &req).await, StatusCode::UNAUTHORIZED, "the server enforces expiry");
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_ne!(bearer(&req), format!("Bearer {}", first.access_token));
    assert_eq!(send(req).await.status, StatusCode::OK);
    assert_eq!(grant_calls(base, "refresh_token").await, 1);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].refreshed && seen[0].connection_id == "short");
    assert_ne!(seen[0].tokens.refresh_token, first.refresh_token, "the server rotated the refresh token");
}

#[tokio::test]
async fn refreshes_before_expiry_within_the_margin() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url();
    let c = oauth_connector(contoso_oauth2(base));
    let signer = token_manager();
    let token = sign_in(&signer, settings_of(&c), &ConnectionValues::new("x")).await;

    // Stored with 4 minutes left: inside the 5-minute margin, though the server still accepts it.
    let stored = TokenSet { expires_at: Some(SystemTime::now() + Duration::from_secs(240)), ..token.clone() };
    let conn = ConnectionValues::new("margin").with_token(stored);
    let tokens = token_manager();
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_ne!(bearer(&req), format!("Bearer {}", token.access_token));
    assert_eq!(grant_calls(base, "refresh_token").await, 1);
    assert_eq!(send(req).await.status, StatusCode::OK);

    // With a 1-minute margin the same stored token is used as it is.
    let relaxed = TokenManager::with_options(
        Arc::new(ReqwestSend::new()),
        TokenManagerOptions { refresh_margin: Duration::from_secs(60) },
    );
    let other = sign_in(&signer, settings_of(&c), &ConnectionValues::new("y")).await;
    let stored = TokenSet { expires_at: Some(SystemTime::now() + Duration::from_secs(240)), ..other.clone() };
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &ConnectionValues::new("relaxed").with_token(stored), &relaxed)
        .await
        .unwrap();
    assert_eq!(bearer(&req), format!("Bearer {}", other.access_token));
    assert_eq!(grant_calls(base, "refresh_token").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn burst_of_100_calls_on_an_expired_token_refreshes_once() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url().to_string();
    let c = Arc::new(oauth_connector(contoso_oauth2(&base)));
    let tokens = token_manager();
    let seen = listen(&tokens);
    let token = sign_in(&token_manager(), settings_of(&c), &ConnectionValues::new("seed")).await;
    let expired = TokenSet { expires_at: Some(SystemTime::now() - Duration::from_secs(1)), ..token.clone() };
    let conn = Arc::new(ConnectionValues::new("burst").with_token(expired));

    let mut calls = JoinSet::new();
    for _ in 0..100 {
        let (c, conn, tokens, base) = (Arc::clone(&c), Arc::clone(&conn), tokens.clone(), base.clone());
        calls.spawn(async move {
            let mut req = get(&format!("{base}/projects"));
            apply_security(&mut req, &c, &conn, &tokens).await.map(|()| req)
        });
    }
    let mut requests = Vec::new();
    while let Some(done) = calls.join_next().await {
        requests.push(done.unwrap().unwrap());
    }
    assert_eq!(grant_calls(&base, "refresh_token").await, 1);
    assert_eq!(seen.lock().unwrap().len(), 1);
    let first = bearer(&requests[0]);
    assert_ne!(first, format!("Bearer {}", token.access_token));
    assert!(requests.iter().all(|r| bearer(r) == first), "every call got the one refreshed token");

    let mut sends = JoinSet::new();
    for req in requests {
        sends.spawn(send(req));
    }
    while let Some(done) = sends.join_next().await {
        assert_eq!(done.unwrap().status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_forces_one_refresh() {
    let server = contoso(Duration::from_secs(3)).await;
    let base = server.base_url().to_string();
    let c = oauth_connector(contoso_oauth2(&base));
    let token = sign_in(&token_manager(), settings_of(&c), &ConnectionValues::new("seed")).await;
    // Stored without an expiry: the runtime only learns it expired from a 401.
    let conn = ConnectionValues::new("no-expiry").with_token(TokenSet { expires_at: None, ..token.clone() });
    let tokens = token_manager();
    let seen = listen(&tokens);
    tokio::time::sleep(Duration::from_millis(3100)).await;

    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::UNAUTHORIZED);

    let mut retries = JoinSet::new();
    for _ in 0..10 {
        let (tokens, rejected) = (tokens.clone(), token.access_token.clone());
        retries.spawn(async move { tokens.on_rejected_token("no-expiry", &rejected).await });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = retries.join_next().await {
        outcomes.push(done.unwrap().unwrap());
    }
    assert_eq!(grant_calls(&base, "refresh_token").await, 1);
    assert_eq!(outcomes.iter().filter(|o| o.refreshed).count(), 1);
    assert!(outcomes.iter().all(|o| o.tokens == outcomes[0].tokens));
    assert_eq!(seen.lock().unwrap().len(), 1);

    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(bearer(&req), format!("Bearer {}", outcomes[0].tokens.access_token));
    assert_eq!(send(req).await.status, StatusCode::OK);

    let again = tokens.on_unauthorized("no-expiry").await.unwrap();
    assert!(again.refreshed);
    assert_eq!(grant_calls(&base, "refresh_token").await, 2);
    let unknown = tokens.on_unauthorized("never-used").await.unwrap_err();
    assert_eq!(unknown, SecurityError::NeedsSignIn { connection: "never-used".into() });
}

#[tokio::test]
async fn client_credentials_by_settings_or_by_connection() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url();
    let mut settings = contoso_oauth2(base);
    settings.extra.insert("x-patchbay-grant".into(), json!("client_credentials"));
    let c = oauth_connector(settings);
    let tokens = token_manager();
    let seen = listen(&tokens);
    let conn = ConnectionValues::new("daemon");

    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::OK);
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(grant_calls(base, "client_credentials").await, 1, "the token is cached");
    let fetched = seen.lock().unwrap()[0].tokens.clone();
    assert_eq!((fetched.refresh_token, fetched.scope.as_deref()), (None, Some("tasks")));

    let renewed = tokens.on_unauthorized("daemon").await.unwrap();
    assert!(renewed.refreshed);
    assert_eq!(grant_calls(base, "client_credentials").await, 2);

    // The connection asks for it; the client authenticates with HTTP Basic (seen by a recorder).
    let recorder = Recorder::start(Some(base)).await;
    let mut settings = contoso_oauth2(&recorder.base_url);
    settings.extra.insert("x-patchbay-client-auth".into(), json!("basic"));
    let c = oauth_connector(settings);
    let conn = ConnectionValues::new("asks").with_value("x-patchbay-grant", "client_credentials");
    let mut req = get(&format!("{base}/projects"));
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::OK);
    let sent = recorder.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, "grant_type=client_credentials&scope=tasks");
    let basic = base64_basic(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET);
    assert_eq!(sent[0].headers["authorization"].to_str().unwrap(), basic);
    assert_eq!(sent[0].headers["content-type"], "application/x-www-form-urlencoded");
    assert_eq!(grant_calls(base, "client_credentials").await, 3);
}

fn base64_basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

#[tokio::test]
async fn refresh_request_is_standard_form_with_client_in_body() {
    let server = contoso(Duration::from_secs(3600)).await;
    let recorder = Recorder::start(Some(server.base_url())).await;
    let c = oauth_connector(contoso_oauth2(&recorder.base_url));
    let tokens = token_manager();
    let token = sign_in(&tokens, settings_of(&c), &ConnectionValues::new("r")).await;
    let refresh = token.refresh_token.clone().unwrap();
    let expired = TokenSet { expires_at: Some(SystemTime::now()), ..token };
    let mut req = get(&format!("{}/projects", server.base_url()));
    apply_security(&mut req, &c, &ConnectionValues::new("r2").with_token(expired), &tokens).await.unwrap();
    assert_eq!(send(req).await.status, StatusCode::OK);
    let sent: Vec<Recorded> = recorder.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].body.starts_with("grant_type=authorization_code&code="));
    assert_eq!(
        sent[1].body,
        format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id={DEMO_CLIENT_ID}&client_secret={DEMO_CLIENT_SECRET}"
        )
    );
    assert_eq!(sent[1].headers["accept"], "application/json");
    assert_eq!(sent[1].headers.get("authorization"), None);
}

#[tokio::test]
async fn expired_tokens_that_cannot_be_renewed_need_sign_in() {
    let server = contoso(Duration::from_secs(3600)).await;
    let base = server.base_url();
    let c = oauth_connector(contoso_oauth2(base));
    let tokens = token_manager();
    let mut req = get(&format!("{base}/projects"));

    let no_refresh = TokenSet { expires_at: Some(SystemTime::now()), ..TokenSet::new("at-1") };
    let conn = ConnectionValues::new("a").with_token(no_refresh);
    let err = apply_security(&mut req, &c, &conn, &tokens).await.unwrap_err();
    assert!(matches!(&err, SecurityError::SignInExpired { connection, .. } if connection == "a"));
    assert!(err.needs_sign_in());

    let bogus = TokenSet {
        refresh_token: Some("not-a-real-refresh-token".into()),
        expires_at: Some(SystemTime::now()),
        ..TokenSet::new("at-2")
    };
    let conn = ConnectionValues::new("b").with_token(bogus);
    let err = apply_security(&mut req, &c, &conn, &tokens).await.unwrap_err();
    assert!(
        matches!(&err, SecurityError::TokenEndpoint { status: 400, error: Some(e), .. } if e == "invalid_grant")
    );
    assert!(err.needs_sign_in());
    assert!(!format!("{err} {err:?}").contains("not-a-real-refresh-token"));
    // A rejected refresh token is not tried again until the connection has new tokens.
    let again = apply_security(&mut req, &c, &conn, &tokens).await.unwrap_err();
    assert_eq!(again, err);
    assert_eq!(grant_calls(base, "refresh_token").await, 1);

    // A new sign-in (new stored tokens) replaces the rejected ones.
    let fresh = sign_in(&tokens, settings_of(&c), &ConnectionValues::new("other")).await;
    let conn = ConnectionValues::new("b").with_token(fresh.clone());
    apply_security(&mut req, &c, &conn, &tokens).await.unwrap();
    assert_eq!(bearer(&req), format!("Bearer {}", fresh.access_token));
    assert!(req.headers.get_all("authorization").iter().count() == 1);
}
