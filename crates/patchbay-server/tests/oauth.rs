//! OAuth consent against the Contoso Tasks authorization server, on both stores: start (JSON and
//! redirect), the callback (single-use state, provider errors), invoking with the stored bearer
//! token, and the test-connection route.

mod common;

use common::{Client, Harness, connect, contoso, upload_contoso};
use serde_json::{Value, json};

/// The error code of an error answer, checking its shape.
fn code(body: &Value) -> &str {
    assert!(body["error"]["message"].is_string(), "not an error answer: {body}");
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Creates an OAuth connection (parameter set `oauth`, the demo client secret among the values).
async fn connect_oauth(client: &Client, connector: &str) -> String {
    let body = json!({
        "displayName": "Signed in",
        "parameterSet": "oauth",
        "values": {"clientSecret": contoso_tasks::DEMO_CLIENT_SECRET},
    });
    let (status, body) = client.post(&format!("/api/connectors/{connector}/connections"), body).await;
    assert_eq!(status, 201, "{body}");
    assert!(!body.to_string().contains(contoso_tasks::DEMO_CLIENT_SECRET), "secret leaked: {body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// `oauth/start?mode=json`: answers the authorization URL.
async fn start_json(client: &Client, connection: &str) -> reqwest::Url {
    let (status, body) = client.get(&format!("/api/connections/{connection}/oauth/start?mode=json")).await;
    assert_eq!(status, 200, "{body}");
    let url = body["authorizationUrl"].as_str().expect("an authorization URL");
    assert!(!url.contains(contoso_tasks::DEMO_CLIENT_SECRET));
    reqwest::Url::parse(url).expect("a URL")
}

/// A query parameter of `url`.
fn param(url: &reqwest::Url, name: &str) -> String {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned()).unwrap_or_default()
}

/// Visits the authorization URL without following redirects; answers `(code, state)` from the
/// provider's redirect to the callback.
async fn authorize(url: &reqwest::Url) -> (String, String) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let response = http.get(url.clone()).send().await.expect("the provider answers");
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().expect("text").to_owned();
    let location = reqwest::Url::parse(&location).expect("an absolute redirect");
    assert_eq!(location.path(), "/oauth/callback");
    (param(&location, "code"), param(&location, "state"))
}

/// The callback path with these query parameters, encoded.
fn callback_path(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://server/oauth/callback").expect("a URL");
    url.query_pairs_mut().extend_pairs(pairs);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

server_test!(the_consent_dance_stores_tokens_that_invoke_uses, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect_oauth(&h.admin, &connector).await;
    let (_, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(read["status"]["status"], "unauthenticated", "{read}");
    assert_eq!(read["secretNames"], json!(["clientSecret"]), "{read}");

    let url = start_json(&h.admin, &connection).await;
    assert_eq!(param(&url, "redirect_uri"), format!("{}/oauth/callback", h.server.url));
    assert_eq!(param(&url, "code_challenge_method"), "S256");
    let (code, state) = authorize(&url).await;
    let anonymous = h.admin.with_token("");
    let (status, page) = anonymous.get(&callback_path(&[("code", &code), ("state", &state)])).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.as_str().unwrap_or_default().contains("is ready"), "{page}");
    assert!(!page.to_string().contains(&code));

    let (_, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!((&read["status"]["status"], &read["hasTokens"]), (&json!("connected"), &json!(true)));
    let (_, listed) = h.admin.get("/api/connections").await;
    for shown in [&read, &listed] {
        let text = shown.to_string();
        assert!(!text.contains("access_token") && !text.contains("accessToken"), "{text}");
        assert!(!text.contains(contoso_tasks::DEMO_CLIENT_SECRET), "{text}");
    }

    let path = format!("/api/connections/{connection}/operations/ListProjects");
    let (status, invoked) = h.admin.post(&path, json!({})).await;
    assert_eq!((status, &invoked["status"]), (200, &json!(200)), "{invoked}");

    let (status, page) = anonymous.get(&callback_path(&[("code", &code), ("state", &state)])).await;
    assert_eq!(status, 400, "a replayed state is refused: {page}");
    assert!(page.as_str().unwrap_or_default().contains("already completed"), "{page}");
    let (status, _) = anonymous.get(&callback_path(&[("code", &code), ("state", "not-a-state")])).await;
    assert_eq!(status, 400);
    let (status, _) = anonymous.get("/oauth/callback").await;
    assert_eq!(status, 400);

    let (status, tested) = h.admin.post(&format!("/api/connections/{connection}/test"), json!({})).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["status"], "connected", "{tested}");
    assert!(tested["detail"].as_str().unwrap_or_default().contains("ListProjects"), "{tested}");
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(start_redirects_and_following_it_finishes_the_sign_in, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect_oauth(&h.admin, &connector).await;
    let (status, page) = h.admin.get(&format!("/api/connections/{connection}/oauth/start")).await;
    assert_eq!(status, 200, "start → provider → callback: {page}");
    assert!(page.as_str().unwrap_or_default().contains("is ready"), "{page}");
    let (_, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(read["status"]["status"], "connected", "{read}");
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(start_is_for_the_owner_of_an_oauth_connection_only, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let oauth = connect_oauth(&h.admin, &connector).await;
    let keyed = connect(&h.admin, &connector).await;
    let (status, body) = h.admin.get(&format!("/api/connections/{keyed}/oauth/start?mode=json")).await;
    assert_eq!((status, code(&body)), (400, "not_oauth"));
    let (status, _) = h.admin.with_token("").get(&format!("/api/connections/{oauth}/oauth/start")).await;
    assert_eq!(status, 401);
    let (_, bob) = h.user("bob@example.com").await;
    let (status, body) = bob.get(&format!("/api/connections/{oauth}/oauth/start?mode=json")).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(a_provider_error_marks_the_connection_and_answers_400, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect_oauth(&h.admin, &connector).await;
    let url = start_json(&h.admin, &connection).await;
    let state = param(&url, "state");
    let path =
        callback_path(&[("error", "access_denied"), ("error_description", "<b>no</b>"), ("state", &state)]);
    let (status, page) = h.admin.with_token("").get(&path).await;
    assert_eq!(status, 400, "{page}");
    let text = page.as_str().unwrap_or_default();
    assert!(text.contains("access_denied") && text.contains("&lt;b&gt;"), "{text}");
    let (_, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(read["status"]["status"], "error", "{read}");
    assert!(read["status"]["message"].as_str().unwrap_or_default().contains("access_denied"));
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(test_connection_records_what_the_test_operation_answers, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let keyed = connect(&h.admin, &connector).await;
    let (status, tested) = h.admin.post(&format!("/api/connections/{keyed}/test"), json!({})).await;
    assert_eq!((status, &tested["status"]), (200, &json!("connected")), "{tested}");

    let wrong = json!({"parameterSet": "apiKey", "values": {"api_key": "wrong-key"}});
    let (_, created) = h.admin.post(&format!("/api/connectors/{connector}/connections"), wrong).await;
    let wrong = created["id"].as_str().unwrap_or_default().to_owned();
    let (status, tested) = h.admin.post(&format!("/api/connections/{wrong}/test"), json!({})).await;
    assert_eq!((status, &tested["status"]), (200, &json!("unauthenticated")), "{tested}");
    assert!(!tested.to_string().contains("wrong-key"));
    let (_, read) = h.admin.get(&format!("/api/connections/{wrong}")).await;
    assert_eq!(read["status"]["status"], "unauthenticated", "{read}");

    let oauth = connect_oauth(&h.admin, &connector).await;
    let (status, tested) = h.admin.post(&format!("/api/connections/{oauth}/test"), json!({})).await;
    assert_eq!((status, &tested["status"]), (200, &json!("unauthenticated")), "before sign-in: {tested}");
    api.shutdown().await.ok();
    h.stop().await;
});

/// The stored access token of a connection (read from the store, as the runtime gets it).
async fn stored_access_token(store: &patchbay_store::Store, connection: &str) -> String {
    let secrets = store.connections().secrets(&connection.to_owned().into()).await.expect("secrets");
    secrets.tokens.and_then(|tokens| tokens["access_token"].as_str().map(str::to_owned)).unwrap_or_default()
}

server_test!(a_refreshed_token_is_saved_to_the_connection, |db| {
    let h = Harness::start(&db).await;
    let config = contoso_tasks::Config {
        access_token_ttl: std::time::Duration::from_secs(2),
        ..contoso_tasks::Config::default()
    };
    let api = contoso_tasks::start(config).await.expect("the sample API starts");
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect_oauth(&h.admin, &connector).await;
    let (code, state) = authorize(&start_json(&h.admin, &connection).await).await;
    let (status, page) =
        h.admin.with_token("").get(&callback_path(&[("code", &code), ("state", &state)])).await;
    assert_eq!(status, 200, "{page}");
    let first = stored_access_token(&h.store, &connection).await;
    assert!(!first.is_empty());

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let path = format!("/api/connections/{connection}/operations/ListProjects");
    let (status, invoked) = h.admin.post(&path, json!({})).await;
    assert_eq!(
        (status, &invoked["status"]),
        (200, &json!(200)),
        "refreshed with the client secret: {invoked}"
    );
    let mut saved = first.clone();
    for _ in 0..40 {
        saved = stored_access_token(&h.store, &connection).await;
        if saved != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(saved, first, "the refreshed token was not saved");
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(invoking_without_a_sign_in_marks_the_connection_unauthenticated, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect_oauth(&h.admin, &connector).await;
    let connected = patchbay_store::ConnectionStatus::Connected;
    h.store.connections().set_status(&connection.clone().into(), &connected).await.expect("status");
    let (status, body) = h.admin.post("/api/connections/x/operations/ListProjects", json!({})).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let path = format!("/api/connections/{connection}/operations/ListProjects");
    let (status, body) = h.admin.post(&path, json!({})).await;
    assert_eq!((status, code(&body)), (400, "connection_incomplete"), "{body}");
    let (_, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(read["status"]["status"], "unauthenticated", "{read}");
    api.shutdown().await.ok();
    h.stop().await;
});

/// An OAuth connection with no client secret of its own.
async fn connect_oauth_without_secret(client: &Client, connector: &str) -> String {
    let body = json!({"displayName": "Uses the connector's secret", "parameterSet": "oauth"});
    let (status, body) = client.post(&format!("/api/connectors/{connector}/connections"), body).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["secretNames"], json!([]), "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// Runs the whole sign-in of `connection`; answers the callback's status and page.
async fn sign_in(h: &Harness, connection: &str) -> (u16, Value) {
    let (code, state) = authorize(&start_json(&h.admin, connection).await).await;
    h.admin.with_token("").get(&callback_path(&[("code", &code), ("state", &state)])).await
}

server_test!(the_connector_client_secret_signs_in_connections_without_their_own, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let mut upload = common::contoso_upload(&api);
    upload["clientSecret"] = json!(contoso_tasks::DEMO_CLIENT_SECRET);
    let (status, created) = h.admin.post("/api/connectors", upload.clone()).await;
    assert_eq!(status, 201, "{created}");
    let connector = created["id"].as_str().expect("an id").to_owned();
    let (_, details) = h.admin.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(details["hasClientSecret"], true, "{details}");
    let secret = contoso_tasks::DEMO_CLIENT_SECRET;
    for path in ["", "/package", "/revisions", "/revisions/1"] {
        let (status, body) = h.admin.get(&format!("/api/connectors/{connector}{path}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.to_string().contains(secret), "the secret leaked from {path}: {body}");
    }
    assert!(
        !created.to_string().contains(secret)
            && !h.admin.get("/api/connectors").await.1.to_string().contains(secret)
    );

    let connection = connect_oauth_without_secret(&h.admin, &connector).await;
    let (status, page) = sign_in(&h, &connection).await;
    assert_eq!(status, 200, "the connector's secret redeemed the code: {page}");
    let path = format!("/api/connections/{connection}/operations/ListProjects");
    let (status, invoked) = h.admin.post(&path, json!({})).await;
    assert_eq!((status, &invoked["status"]), (200, &json!(200)), "{invoked}");

    // An update without a secret keeps it; one with a wrong secret replaces it (and sign-ins fail),
    // while a connection with its own secret still signs in: its own comes first.
    upload.as_object_mut().expect("an object").remove("clientSecret");
    upload.as_object_mut().expect("an object").remove("name");
    let (status, body) = h.admin.put(&format!("/api/connectors/{connector}"), upload.clone()).await;
    assert_eq!(status, 200, "{body}");
    let kept = connect_oauth_without_secret(&h.admin, &connector).await;
    assert_eq!(sign_in(&h, &kept).await.0, 200, "the stored secret was kept");
    upload["clientSecret"] = json!("not-the-secret");
    let (status, body) = h.admin.put(&format!("/api/connectors/{connector}"), upload.clone()).await;
    assert_eq!(status, 200, "{body}");
    let wrong = connect_oauth_without_secret(&h.admin, &connector).await;
    let (status, page) = sign_in(&h, &wrong).await;
    assert_eq!(status, 400, "the replaced secret is used: {page}");
    assert!(!page.to_string().contains("not-the-secret"), "{page}");
    let own = connect_oauth(&h.admin, &connector).await;
    assert_eq!(sign_in(&h, &own).await.0, 200, "the connection's own secret comes first");
    upload["clientSecret"] = json!("");
    let (status, body) = h.admin.put(&format!("/api/connectors/{connector}"), upload).await;
    assert_eq!((status, code(&body)), (400, "invalid_body"));
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(without_any_client_secret_the_sign_in_fails, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let (_, details) = h.admin.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(details["hasClientSecret"], false, "{details}");
    let connection = connect_oauth_without_secret(&h.admin, &connector).await;
    let (status, page) = sign_in(&h, &connection).await;
    assert_eq!(status, 400, "the provider wants the client secret: {page}");
    api.shutdown().await.ok();
    h.stop().await;
});
