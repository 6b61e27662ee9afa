//! The server over HTTP on 127.0.0.1:0, on both stores: auth, connectors and their revisions,
//! connections with sealed secrets, the invoke API against the Contoso Tasks sample, sharing, and
//! a restart on the same database and key.

mod common;

use common::ServerConfigFor;

use common::{Client, Harness, connect, contoso, contoso_upload, create_project, upload_contoso};
use serde_json::{Value, json};

/// The error code of an error answer, checking its shape.
fn code(body: &Value) -> &str {
    assert!(body["error"]["message"].is_string(), "not an error answer: {body}");
    body["error"]["code"].as_str().unwrap_or_default()
}

server_test!(bootstrap_token_works_and_a_wrong_or_missing_token_gets_401, |db| {
    let h = Harness::start(&db).await;
    let (status, _) = h.admin.with_token("").get("/healthz").await;
    assert_eq!(status, 200);
    let (status, body) = h.admin.with_token("").get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = h.admin.get("/api/connectors").await;
    assert_eq!((status, body), (200, json!([])));
    let (status, body) = h.admin.with_token("pb_not-a-real-token").get("/api/connectors").await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let (status, body) = h.admin.with_token("").get("/api/connections").await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let (status, body) = h.admin.get("/api/nothing-here").await;
    assert_eq!((status, code(&body)), (404, "no_route"));
    h.stop().await;
});

server_test!(connectors_are_validated_revised_and_keep_their_name, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let upload = contoso_upload(&api);
    let (status, created) = h.admin.post("/api/connectors", upload.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["currentRevision"], 1);
    assert!(created["warnings"].is_array(), "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_owned();

    let (status, details) = h.admin.get(&format!("/api/connectors/{id}")).await;
    assert_eq!(status, 200, "{details}");
    let operations = details["operations"].as_array().cloned().unwrap_or_default();
    let create = operations.iter().find(|op| op["id"] == "CreateProject").cloned().unwrap_or_default();
    assert_eq!((create["kind"].as_str(), create["method"].as_str()), (Some("action"), Some("POST")));
    assert!(operations.iter().any(|op| op["kind"] == "trigger"), "{operations:?}");

    let (status, listed) = h.admin.get("/api/connectors").await;
    assert_eq!((status, listed[0]["id"].as_str()), (200, Some(id.as_str())));
    let (status, body) = h.admin.post("/api/connectors", upload.clone()).await;
    assert_eq!((status, code(&body)), (409, "already_exists"));

    let mut revised = upload.clone();
    revised["apiDefinition"] = json!(
        upload["apiDefinition"]
            .as_str()
            .unwrap_or_default()
            .replace("Creates a new project.", "Creates a new project (revised).")
    );
    let (status, body) = h.admin.put(&format!("/api/connectors/{id}"), revised.clone()).await;
    assert_eq!((status, &body["revision"]), (200, &json!(2)), "{body}");
    revised["name"] = json!("Renamed Tasks");
    let (status, body) = h.admin.put(&format!("/api/connectors/{id}"), revised).await;
    assert_eq!((status, code(&body)), (409, "name_change"));

    let (status, revisions) = h.admin.get(&format!("/api/connectors/{id}/revisions")).await;
    assert_eq!((status, revisions.as_array().map(Vec::len)), (200, Some(2)));
    let (status, first) = h.admin.get(&format!("/api/connectors/{id}/revisions/1")).await;
    assert_eq!(status, 200);
    assert_eq!(first["files"]["apiDefinition"], upload["apiDefinition"]);
    let (status, current) = h.admin.get(&format!("/api/connectors/{id}/package")).await;
    assert_eq!((status, &current["revision"]), (200, &json!(2)));
    assert!(current["files"]["apiDefinition"].as_str().unwrap_or_default().contains("(revised)"));
    let (status, _) = h.admin.get(&format!("/api/connectors/{id}/revisions/3")).await;
    assert_eq!(status, 404);

    let (status, _) = h.admin.delete(&format!("/api/connectors/{id}")).await;
    assert_eq!(status, 204);
    let (status, body) = h.admin.get(&format!("/api/connectors/{id}")).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(a_broken_package_gets_422_with_located_diagnostics, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let mut upload = contoso_upload(&api);
    let definition = upload["apiDefinition"].as_str().unwrap_or_default().to_owned();
    upload["apiDefinition"] =
        json!(definition.replacen("\"swagger\": \"2.0\",", "\"swagger\": \"2.0\" \"broken\"", 1));
    let (status, body) = h.admin.post("/api/connectors", upload).await;
    assert_eq!((status, code(&body)), (422, "invalid_package"), "{body}");
    let diagnostics = body["diagnostics"].as_array().cloned().unwrap_or_default();
    let error = diagnostics.iter().find(|d| d["severity"] == "error").cloned().unwrap_or_default();
    assert!(error["line"].is_u64() && error["column"].is_u64(), "{body}");
    assert_eq!(error["file"], "apiDefinition.swagger.json", "{body}");
    let (_, listed) = h.admin.get("/api/connectors").await;
    assert_eq!(listed, json!([]));
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(connection_secrets_are_sealed_and_invoke_reaches_the_backend, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (status, read) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(status, 200);
    assert_eq!(read["secretNames"], json!(["api_key"]), "{read}");
    let (_, listed) = h.admin.get("/api/connections").await;
    for shown in [&read, &listed] {
        assert!(!shown.to_string().contains(contoso_tasks::DEMO_API_KEY), "the key leaked: {shown}");
    }

    let (status, invoked) = create_project(&h.admin, &connection, "Launch").await;
    assert_eq!(status, 200, "{invoked}");
    assert_eq!(invoked["status"], 201, "{invoked}");
    assert_eq!(invoked["body"]["name"], "Launch");
    assert!(invoked["headers"]["location"].is_string(), "{invoked}");
    assert!(invoked["warnings"].is_array());

    let path = format!("/api/connections/{connection}/operations/NoSuchOperation");
    let (status, body) = h.admin.post(&path, json!({})).await;
    assert_eq!((status, code(&body)), (404, "unknown_operation"));
    let path = format!("/api/connections/{connection}/operations/CreateProject");
    let (status, body) = h.admin.post(&path, json!({})).await;
    assert_eq!((status, code(&body)), (400, "invalid_inputs"), "{body}");

    api.shutdown().await.ok();
    let (status, body) = create_project(&h.admin, &connection, "Unreachable").await;
    assert_eq!((status, code(&body)), (502, "backend_failed"), "{body}");
    assert!(!body.to_string().contains(contoso_tasks::DEMO_API_KEY));

    let (status, _) = h.admin.delete(&format!("/api/connections/{connection}")).await;
    assert_eq!(status, 204);
    let (status, _) = h.admin.get(&format!("/api/connections/{connection}")).await;
    assert_eq!(status, 404);
    h.stop().await;
});

server_test!(others_see_nothing_until_shared_then_use_their_own_connection, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let admins = connect(&h.admin, &connector).await;
    let (_, bob): (_, Client) = h.user("bob@example.com").await;

    let (status, body) = bob.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    assert_eq!(bob.get("/api/connectors").await, (200, json!([])));
    let (status, _) =
        bob.post(&format!("/api/connectors/{connector}/connections"), json!({"values": {}})).await;
    assert_eq!(status, 404);
    let (status, _) = bob.get(&format!("/api/connections/{admins}")).await;
    assert_eq!(status, 404, "connections are private to their creator");
    let (status, _) = create_project(&bob, &admins, "Not mine").await;
    assert_eq!(status, 404);

    let share = json!({"user": "bob@example.com", "level": "can_use"});
    let (status, body) = bob.post(&format!("/api/connectors/{connector}/share"), share.clone()).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = h.admin.post(&format!("/api/connectors/{connector}/share"), share).await;
    assert_eq!(status, 200, "{body}");

    let (status, details) = bob.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!((status, &details["access"]), (200, &json!("can_use")), "{details}");
    let (status, body) = bob.put(&format!("/api/connectors/{connector}"), contoso_upload(&api)).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    let mine = connect(&bob, &connector).await;
    let (status, invoked) = create_project(&bob, &mine, "Bob's").await;
    assert_eq!((status, &invoked["status"]), (200, &json!(201)), "{invoked}");
    let (_, listed) = bob.get("/api/connections").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    api.shutdown().await.ok();
    h.stop().await;
});

server_test!(a_restarted_server_keeps_connectors_connections_and_tokens, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (status, _) = create_project(&h.admin, &connection, "Before").await;
    assert_eq!(status, 200);
    let admin = h.admin.clone();
    h.stop().await;

    let store = db.open().await;
    let server = patchbay_server::start_with_store(db.config(), store.clone()).await.expect("restarts");
    assert!(server.bootstrap.is_none(), "a store with users is not bootstrapped again");
    let admin = Client::new(&server.url, "").with_token(&admin_token(&admin));
    let (status, details) = admin.get(&format!("/api/connectors/{connector}")).await;
    assert_eq!(status, 200, "{details}");
    let (status, invoked) = create_project(&admin, &connection, "After").await;
    assert_eq!((status, &invoked["status"]), (200, &json!(201)), "{invoked}");
    assert_eq!(invoked["body"]["name"], "After");
    server.shutdown().await.expect("graceful shutdown");
    store.close().await;
    api.shutdown().await.ok();
});

/// The token a client sends.
fn admin_token(client: &Client) -> String {
    client.token().to_owned()
}

server_test!(a_new_revision_is_live_on_the_next_call, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let connector = upload_contoso(&h.admin, &api).await;
    let connection = connect(&h.admin, &connector).await;
    let (status, _) = create_project(&h.admin, &connection, "First").await;
    assert_eq!(status, 200);
    let mut revised = contoso_upload(&api);
    let definition = revised["apiDefinition"].as_str().unwrap_or_default().to_owned();
    revised["apiDefinition"] = json!(definition.replace("\"CreateProject\"", "\"CreateProjectV2\""));
    let (status, body) = h.admin.put(&format!("/api/connectors/{connector}"), revised).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = create_project(&h.admin, &connection, "Second").await;
    assert_eq!((status, code(&body)), (404, "unknown_operation"));
    let path = format!("/api/connections/{connection}/operations/CreateProjectV2");
    let (status, invoked) = h.admin.post(&path, json!({"body": {"name": "Second"}})).await;
    assert_eq!((status, &invoked["status"]), (200, &json!(201)), "{invoked}");
    api.shutdown().await.ok();
    h.stop().await;
});
