//! The configuration cache never serves what changed: a node keeps callers, flows and resolved
//! connections in memory, and a change made anywhere else (another node, the CLI, straight in the
//! store) is seen by its next call — a revoked token, a new secret, a disabled flow.

mod common;

use common::{Client, Harness, connect, contoso, create_project, upload_contoso};
use patchbay_store::ConnectionId;
use serde_json::json;

server_test!(changes_made_elsewhere_are_seen_by_the_next_call, |db| {
    let h = Harness::start(&db).await;
    let api = contoso().await;
    let (maker, client) = h.user("maker@contoso.example").await;
    let connector = upload_contoso(&client, &api).await;
    let connection = connect(&client, &connector).await;
    let (_, project) = create_project(&client, &connection, "Cached").await;
    let project = project["body"]["id"].as_str().unwrap().to_owned();
    let [(_, sample), _] = contoso_tasks::SAMPLE_FLOWS;
    let body = json!({"name": "Answer", "definition": serde_json::from_str::<serde_json::Value>(sample).unwrap(),
                      "connections": {"contoso": connection}});
    let (status, flow) = client.post("/api/flows", body).await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    let (status, _) = client.post(&format!("/api/flows/{flow}/enable"), json!({})).await;
    assert_eq!(status, 200);
    let run = |client: Client, title: &'static str| {
        let (path, project) = (format!("/api/flows/{flow}/run"), project.clone());
        async move { client.post(&path, json!({"projectId": project, "title": title})).await }
    };

    // Warm: the caller, the flow and its connections are now in the node's memory.
    for _ in 0..3 {
        let (status, answer) = run(client.clone(), "warm").await;
        assert_eq!(status, 201, "{answer}");
    }

    // A wrong API key stored elsewhere: the next run sends it, and the backend refuses it.
    let id = ConnectionId::from(connection.as_str());
    h.store.connections().set_secret(&id, "api_key", Some("not-the-key")).await.unwrap();
    let (status, answer) = run(client.clone(), "wrong key").await;
    assert_eq!(status, 502, "the flow's failure branch answers: {answer}");
    assert_eq!(answer["error"], "the task could not be created", "{answer}");
    h.store.connections().set_secret(&id, "api_key", Some(contoso_tasks::DEMO_API_KEY)).await.unwrap();
    let (status, answer) = run(client.clone(), "right key").await;
    assert_eq!(status, 201, "{answer}");

    // The flow disabled elsewhere: refused at once.
    h.store.flows().set_enabled(&flow.as_str().into(), false).await.unwrap();
    let (status, answer) = run(client.clone(), "disabled").await;
    assert_eq!(status, 409, "{answer}");
    h.store.flows().set_enabled(&flow.as_str().into(), true).await.unwrap();

    // The caller's token revoked elsewhere: 401 at once.
    let tokens = h.store.people().tokens(&maker.id).await.unwrap();
    for token in tokens {
        h.store.people().revoke_token(&token.id).await.unwrap();
    }
    let (status, _) = run(client.clone(), "revoked").await;
    assert_eq!(status, 401);
    h.stop().await;
    api.shutdown().await.unwrap();
});
