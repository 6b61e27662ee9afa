//! The configuration generation: every change to what calls and runs read before they start
//! increments it, in the change's own transaction; runs and journals never do. On both engines.

mod common;

use std::collections::BTreeMap;

use common::seed;
use patchbay_store::{ConnectionStatus, ConnectorPackage, NewConnection, NewFlow, Store};
use serde_json::{Map, json};

/// The generation now.
async fn generation(store: &Store) -> i64 {
    store.config_generation().await.unwrap()
}

/// Asserts that the generation moved past `last`, and remembers it.
fn moved(last: &mut i64, now: i64, what: &str) {
    assert!(now > *last, "{what} moves the generation ({last} → {now})");
    *last = now;
}

store_test!(every_configuration_change_moves_the_generation_and_runs_do_not, |db| {
    let store: Store = db.open().await;
    let seed = seed(&store).await;
    let mut last = generation(&store).await;

    let package =
        ConnectorPackage { api_definition: "{}".into(), api_properties: "{}".into(), ..Default::default() };
    let connector = store.connectors().create(&seed.alice.id, "Contoso", &package).await.unwrap();
    moved(&mut last, generation(&store).await, "a new connector");
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "Alice's tasks",
            parameter_set: None,
            values: Map::new(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Connected,
        })
        .await
        .unwrap();
    moved(&mut last, generation(&store).await, "a new connection");
    store.connections().set_secret(&connection.id, "api_key", Some("s3cret")).await.unwrap();
    moved(&mut last, generation(&store).await, "a changed secret");
    store.connections().set_tokens(&connection.id, &json!({"access_token": "a"})).await.unwrap();
    moved(&mut last, generation(&store).await, "refreshed tokens");
    let token = store.people().create_token(&seed.bob.id, "ci").await.unwrap();
    moved(&mut last, generation(&store).await, "a new API token");
    store.people().revoke_token(&token.token.id).await.unwrap();
    moved(&mut last, generation(&store).await, "a revoked API token");

    let flow = store
        .flows()
        .create(&NewFlow {
            environment_id: seed.env.clone(),
            owner_id: seed.alice.id.clone(),
            name: "Answer".into(),
            definition: json!({"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}}),
            connections: json!({}),
            concurrency: None,
        })
        .await
        .unwrap();
    let flow = store.flows().set_enabled(&flow.id, true).await.unwrap();
    moved(&mut last, generation(&store).await, "a new, enabled flow");

    let trigger = json!({"headers": {}, "body": null});
    store.flows().enqueue(&flow.id, flow.revision, &trigger, None).await.unwrap();
    let leases = store.flows().claim_runs("node", patchbay_store::now_ms(), 60_000, 1).await.unwrap();
    store.flows().finish_run(&leases[0], patchbay_store::RunStatus::Succeeded, None, None).await.unwrap();
    assert_eq!(
        generation(&store).await,
        last,
        "queueing, claiming and finishing runs change no configuration"
    );

    store.connections().delete(&connection.id).await.unwrap();
    moved(&mut last, generation(&store).await, "a deleted connection");
});
