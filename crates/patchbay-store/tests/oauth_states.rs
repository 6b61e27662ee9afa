//! OAuth states: single use, expiry, any node may finish; on both engines.

mod common;

use std::collections::BTreeMap;

use common::seed;
use patchbay_store::{ConnectionStatus, ConnectorPackage, NewConnection, OAuthState, StoreError, now_ms};

store_test!(a_state_is_taken_once_and_expires, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "C", &ConnectorPackage::default()).await.unwrap();
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "c",
            parameter_set: Some("oauth"),
            values: Default::default(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Unauthenticated,
        })
        .await
        .unwrap();
    let states = store.oauth_states();
    let live = OAuthState {
        state: "st-live".to_owned(),
        connection_id: connection.id.clone(),
        verifier: "pkce-verifier-0123456789".to_owned(),
        redirect: "https://portal.example/connections".to_owned(),
        expires_at: now_ms() + 600_000,
    };
    states.put(&live).await.unwrap();
    let expired = OAuthState { state: "st-old".to_owned(), expires_at: now_ms() - 1, ..live.clone() };
    states.put(&expired).await.unwrap();
    let duplicate = states.put(&live).await.unwrap_err();
    assert!(matches!(duplicate, StoreError::AlreadyExists { .. }), "{duplicate}");
    let orphan =
        OAuthState { state: "st-orphan".to_owned(), connection_id: "cxn_missing".into(), ..live.clone() };
    assert!(matches!(states.put(&orphan).await, Err(StoreError::NotFound { kind: "connection", .. })));

    // Another node (another pool on the same database) finishes the dance.
    let other_node = db.open().await;
    assert_eq!(other_node.oauth_states().take("st-live").await.unwrap(), Some(live.clone()));
    assert_eq!(states.take("st-live").await.unwrap(), None, "single use");
    assert_eq!(states.take("st-old").await.unwrap(), None, "expired");
    assert_eq!(states.take("st-unknown").await.unwrap(), None);

    states.put(&OAuthState { state: "st-old-2".to_owned(), ..expired.clone() }).await.unwrap();
    states.put(&OAuthState { state: "st-live-2".to_owned(), ..live.clone() }).await.unwrap();
    assert_eq!(states.purge_expired(now_ms()).await.unwrap(), 1);
    assert!(states.take("st-live-2").await.unwrap().is_some());
});

store_test!(purging_removes_only_states_expired_at_the_given_time, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "C", &ConnectorPackage::default()).await.unwrap();
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "c",
            parameter_set: None,
            values: Default::default(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Unauthenticated,
        })
        .await
        .unwrap();
    let states = store.oauth_states();
    let at = |state: &str, expires_at: i64| OAuthState {
        state: state.to_owned(),
        connection_id: connection.id.clone(),
        verifier: "v".to_owned(),
        redirect: "/".to_owned(),
        expires_at,
    };
    let now = 1_000_000;
    for state in [at("gone-1", now - 5), at("gone-2", now), at("kept", now + 1)] {
        states.put(&state).await.unwrap();
    }
    assert_eq!(states.purge_expired(now).await.unwrap(), 2, "expiry at or before `now` is expired");
    assert_eq!(states.purge_expired(now).await.unwrap(), 0, "a second purge finds nothing");
    assert_eq!(states.purge_expired(now + 1).await.unwrap(), 1, "the later state expires later");
});

store_test!(concurrent_takes_give_the_state_to_one_caller, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "C", &ConnectorPackage::default()).await.unwrap();
    let connection = store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "c",
            parameter_set: None,
            values: Default::default(),
            secrets: BTreeMap::new(),
            status: ConnectionStatus::Unauthenticated,
        })
        .await
        .unwrap();
    let state = OAuthState {
        state: "st-race".to_owned(),
        connection_id: connection.id.clone(),
        verifier: "v".to_owned(),
        redirect: "/".to_owned(),
        expires_at: now_ms() + 60_000,
    };
    store.oauth_states().put(&state).await.unwrap();
    let nodes = [db.open().await, db.open().await, store.clone(), db.open().await];
    let takes =
        nodes.into_iter().map(|node| tokio::spawn(async move { node.oauth_states().take("st-race").await }));
    let mut winners = 0;
    for take in takes.collect::<Vec<_>>() {
        winners += usize::from(take.await.unwrap().unwrap().is_some());
    }
    assert_eq!(winners, 1);
});
