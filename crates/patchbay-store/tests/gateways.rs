//! On-premises gateways: hashed tokens, one environment each, and connections bound to them, on both engines.

mod common;

use common::{contains, seed};
use patchbay_store::{ConnectionStatus, ConnectorPackage, NewConnection, StoreError};

store_test!(a_token_authorises_its_gateway_and_is_stored_only_hashed, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let issued = store.gateways().create(&seed.alice.id, "Factory LAN").await.unwrap();
    assert!(issued.token.starts_with("pbg_") && issued.token.len() > 40);
    assert!(!format!("{issued:?}").contains(&issued.token), "Debug hides the token");
    let found = store.gateways().authenticate(&issued.token).await.unwrap().unwrap();
    assert_eq!(found, issued.gateway);
    assert_eq!(found.environment_id, seed.env);
    for wrong in ["pbg_nope", "pb_whatever", "", &format!("{}x", issued.token)] {
        assert!(store.gateways().authenticate(wrong).await.unwrap().is_none(), "{wrong}");
    }
    for cell in db.raw_cells("gateways").await {
        assert!(!contains(&cell, issued.token.as_bytes()), "the token is in plaintext");
    }
    let duplicate = store.gateways().create(&seed.bob.id, "factory lan").await;
    assert!(matches!(duplicate, Err(StoreError::AlreadyExists { .. })), "{duplicate:?}");
    let elsewhere = store.gateways().create(&seed.stranger.id, "Factory LAN").await.unwrap();
    assert_eq!(store.gateways().list(&seed.env).await.unwrap(), std::slice::from_ref(&issued.gateway));
    assert_eq!(store.gateways().list(&seed.other_env).await.unwrap(), [elsewhere.gateway]);
    store.gateways().delete(&issued.gateway.id).await.unwrap();
    assert!(store.gateways().authenticate(&issued.token).await.unwrap().is_none());
    assert!(matches!(store.gateways().delete(&issued.gateway.id).await, Err(StoreError::NotFound { .. })));
});

store_test!(a_connection_binds_only_to_a_gateway_of_its_environment, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let package =
        ConnectorPackage { api_definition: "{}".into(), api_properties: "{}".into(), ..Default::default() };
    let connector = store.connectors().create(&seed.alice.id, "Contoso", &package).await.unwrap();
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "c",
            parameter_set: None,
            values: Default::default(),
            secrets: Default::default(),
            status: ConnectionStatus::Connected,
        })
        .await
        .unwrap();
    assert_eq!(connection.gateway_id, None);
    let ours = store.gateways().create(&seed.alice.id, "lan").await.unwrap().gateway;
    let theirs = store.gateways().create(&seed.stranger.id, "lan").await.unwrap().gateway;
    let refused = store.gateways().bind(&connection.id, Some(&theirs.id)).await;
    assert!(matches!(refused, Err(StoreError::NotFound { .. })), "{refused:?}");
    store.gateways().bind(&connection.id, Some(&ours.id)).await.unwrap();
    assert_eq!(store.connections().get(&connection.id).await.unwrap().gateway_id, Some(ours.id.clone()));
    store.gateways().bind(&connection.id, None).await.unwrap();
    assert_eq!(store.connections().get(&connection.id).await.unwrap().gateway_id, None);
    store.gateways().bind(&connection.id, Some(&ours.id)).await.unwrap();
    store.gateways().delete(&ours.id).await.unwrap();
    assert_eq!(store.connections().get(&connection.id).await.unwrap().gateway_id, None, "deleting unbinds");
});

store_test!(nodes_record_which_gateways_they_hold_agents_of, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let gateway = store.gateways().create(&seed.alice.id, "lan").await.unwrap().gateway;
    let gateways = store.gateways();
    let since = patchbay_store::now_ms() - 1000;
    assert!(gateways.holders(&gateway.id, "http://a", since).await.unwrap().is_empty());
    gateways.set_presence(&gateway.id, "http://a", 2).await.unwrap();
    gateways.set_presence(&gateway.id, "http://b", 1).await.unwrap();
    gateways.set_presence(&gateway.id, "http://b", 1).await.unwrap();
    assert_eq!(gateways.holders(&gateway.id, "http://a", since).await.unwrap(), ["http://b"]);
    let mut both = gateways.holders(&gateway.id, "http://c", since).await.unwrap();
    both.sort();
    assert_eq!(both, ["http://a", "http://b"]);
    let later = patchbay_store::now_ms() + 60_000;
    assert!(
        gateways.holders(&gateway.id, "http://c", later).await.unwrap().is_empty(),
        "stale records are ignored"
    );
    gateways.set_presence(&gateway.id, "http://b", 0).await.unwrap();
    assert!(gateways.holders(&gateway.id, "http://a", since).await.unwrap().is_empty());
    gateways.set_presence(&"gw_missing".into(), "http://a", 1).await.unwrap();
    gateways.delete(&gateway.id).await.unwrap();
    assert!(gateways.holders(&gateway.id, "http://c", since).await.unwrap().is_empty());
});
