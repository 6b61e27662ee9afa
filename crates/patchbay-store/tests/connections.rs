//! Connections and their sealed secrets, on both engines.

mod common;

use std::collections::BTreeMap;

use common::{Seed, contains, seed};
use patchbay_store::{
    Connection, ConnectionStatus, ConnectorPackage, DecryptError, NewConnection, SecretKey, Store, StoreError,
};
use serde_json::{Map, Value, json};

const API_KEY: &str = "sk-live-0123456789-very-secret";
const PASSWORD: &str = "pässwörd-with-ünïcode";
const ACCESS_TOKEN: &str = "eyJ-access-token-abcdefghijklmnop";
const REFRESH_TOKEN: &str = "refresh-token-qrstuvwxyz-98765";

fn values() -> Map<String, Value> {
    json!({"region": "eu", "token:customHost": "id.contoso.example", "port": 8443})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn secrets() -> BTreeMap<String, String> {
    [("api_key".to_owned(), API_KEY.to_owned()), ("password".to_owned(), PASSWORD.to_owned())].into()
}

/// A connector of Alice's and a connection of Alice's to it, with two secrets.
async fn connection(store: &Store, seed: &Seed) -> Connection {
    let package =
        ConnectorPackage { api_definition: "{}".into(), api_properties: "{}".into(), ..Default::default() };
    let connector = store.connectors().create(&seed.alice.id, "Contoso Tasks", &package).await.unwrap();
    store
        .connections()
        .create(NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "Alice's tasks",
            parameter_set: Some("apikey"),
            values: values(),
            secrets: secrets(),
            status: ConnectionStatus::Unauthenticated,
        })
        .await
        .unwrap()
}

store_test!(get_shows_secret_names_never_values, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let created = connection(&store, &seed).await;
    assert_eq!(created.values, values());
    assert_eq!(created.secret_names, ["api_key", "password"]);
    assert_eq!(created.parameter_set.as_deref(), Some("apikey"));
    assert_eq!(created.status, ConnectionStatus::Unauthenticated);
    assert!(!created.has_tokens);
    let fetched = store.connections().get(&created.id).await.unwrap();
    assert_eq!(fetched, created);
    let shown = format!("{fetched:?} {}", serde_json::to_string(&fetched).unwrap());
    assert!(!shown.contains(API_KEY) && !shown.contains(PASSWORD), "{shown}");

    let opened = store.connections().secrets(&created.id).await.unwrap();
    assert_eq!(opened.values, secrets());
    assert_eq!(opened.tokens, None);
    let debug = format!("{opened:?}");
    assert!(!debug.contains(API_KEY) && debug.contains("api_key"), "{debug}");
});

store_test!(tokens_status_and_secret_changes, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connections = store.connections();
    let created = connection(&store, &seed).await;
    let tokens =
        json!({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "expires_at": 1_900_000_000});
    connections.set_tokens(&created.id, &tokens).await.unwrap();
    connections.set_status(&created.id, &ConnectionStatus::Connected).await.unwrap();
    let fetched = connections.get(&created.id).await.unwrap();
    assert!(fetched.has_tokens);
    assert_eq!(fetched.status, ConnectionStatus::Connected);
    assert_eq!(connections.secrets(&created.id).await.unwrap().tokens, Some(tokens));

    let broken = ConnectionStatus::Error("refresh token expired".to_owned());
    connections.set_status(&created.id, &broken).await.unwrap();
    assert_eq!(connections.get(&created.id).await.unwrap().status, broken);

    connections.set_secret(&created.id, "api_key", Some("rotated-key")).await.unwrap();
    connections.set_secret(&created.id, "password", None).await.unwrap();
    let opened = connections.secrets(&created.id).await.unwrap();
    assert_eq!(opened.values, BTreeMap::from([("api_key".to_owned(), "rotated-key".to_owned())]));
    assert_eq!(connections.get(&created.id).await.unwrap().secret_names, ["api_key"]);

    let missing = "cxn_missing".into();
    assert!(matches!(connections.set_status(&missing, &broken).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(connections.set_tokens(&missing, &json!({})).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        connections.set_secret(&missing, "a", Some("b")).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(connections.secrets(&missing).await, Err(StoreError::NotFound { .. })));
});

store_test!(the_database_holds_no_plaintext_secret, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let created = connection(&store, &seed).await;
    let tokens = json!({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN});
    store.connections().set_tokens(&created.id, &tokens).await.unwrap();
    let needles = [API_KEY, PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN];
    let tables = db.raw_tables().await;
    assert!(tables.iter().any(|table| table == "connection_secrets"), "{tables:?}");
    let mut cells = 0;
    for table in &tables {
        for cell in db.raw_cells(table).await {
            cells += 1;
            for needle in needles {
                assert!(!contains(&cell, needle.as_bytes()), "`{needle}` in plaintext in table {table}");
            }
        }
    }
    assert!(cells > 20, "the dump read the tables ({cells} cells)");
    // The public values are stored, as a control that the dump sees connection rows.
    let public = db.raw_cells("connections").await;
    assert!(public.iter().any(|cell| contains(cell, b"id.contoso.example")));
    if db.kind == common::Kind::Sqlite {
        store.close().await;
        let path = db.sqlite_path();
        for file in [path.clone(), path.with_extension("db-wal")] {
            if let Ok(bytes) = std::fs::read(&file) {
                for needle in needles {
                    assert!(!contains(&bytes, needle.as_bytes()), "`{needle}` in {}", file.display());
                }
            }
        }
    }
});

store_test!(everything_survives_a_restart, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let created = connection(&store, &seed).await;
    store.connections().set_tokens(&created.id, &json!({"access_token": ACCESS_TOKEN})).await.unwrap();
    let issued = store.people().create_token(&seed.bob.id, "cli").await.unwrap();
    store.close().await;
    assert!(store.connections().get(&created.id).await.is_err(), "a closed store refuses work");

    let reopened = db.open().await;
    assert_eq!(reopened.people().user(&seed.alice.id).await.unwrap(), seed.alice);
    let user = reopened.people().authenticate_token(&issued.plaintext).await.unwrap();
    assert_eq!(user.map(|user| user.id), Some(seed.bob.id.clone()));
    let connection = reopened.connections().get(&created.id).await.unwrap();
    assert_eq!(connection.values, values());
    let opened = reopened.connections().secrets(&created.id).await.unwrap();
    assert_eq!(opened.values, secrets());
    assert_eq!(opened.tokens, Some(json!({"access_token": ACCESS_TOKEN})));
    let connectors = reopened.connectors().list(&seed.alice.id).await.unwrap();
    assert_eq!(connectors.len(), 1);
});

store_test!(secrets_need_the_right_key, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let created = connection(&store, &seed).await;

    let keyless = db.open_without_key().await;
    assert!(matches!(keyless.connections().secrets(&created.id).await, Err(StoreError::NoSecretKey)));
    assert_eq!(
        keyless.connections().get(&created.id).await.unwrap().secret_names.len(),
        2,
        "get needs no key"
    );

    let other_key = db.open_without_key().await.with_secret_key(SecretKey::generate().unwrap());
    match other_key.connections().secrets(&created.id).await {
        Err(StoreError::Decrypt { source: DecryptError::WrongKey { .. }, .. }) => {}
        other => panic!("expected a wrong-key error, got {other:?}"),
    }

    // A sealed value moved to another field does not open: it is bound to its place.
    let swap = format!(
        "UPDATE connection_secrets SET sealed = (SELECT sealed FROM connection_secrets \
         WHERE connection_id = '{id}' AND name = 'password') WHERE connection_id = '{id}' AND name = 'api_key'",
        id = created.id
    );
    assert_eq!(db.raw_execute(&swap).await.unwrap(), 1);
    match store.connections().secrets(&created.id).await {
        Err(StoreError::Decrypt { source: DecryptError::Inauthentic, field }) => {
            assert!(field.ends_with("/api_key"), "{field}");
        }
        other => panic!("expected an authentication failure, got {other:?}"),
    }
});

store_test!(create_checks_its_inputs, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let package = ConnectorPackage::default();
    let connector = store.connectors().create(&seed.alice.id, "C", &package).await.unwrap();
    let new = |owner, values: Map<String, Value>| NewConnection {
        connector_id: &connector.id,
        owner_id: owner,
        display_name: "c",
        parameter_set: None,
        values,
        secrets: secrets(),
        status: ConnectionStatus::Connected,
    };
    let both = store
        .connections()
        .create(new(&seed.alice.id, json!({"api_key": "x"}).as_object().cloned().unwrap()))
        .await;
    assert!(matches!(both, Err(StoreError::Invalid { field: "secrets", .. })), "{both:?}");
    // A user of another environment cannot connect to this connector.
    let foreign = store.connections().create(new(&seed.stranger.id, Map::new())).await;
    assert!(matches!(foreign, Err(StoreError::NotFound { kind: "connector", .. })), "{foreign:?}");
    let keyless = db.open_without_key().await;
    assert!(matches!(
        keyless.connections().create(new(&seed.alice.id, Map::new())).await,
        Err(StoreError::NoSecretKey)
    ));
});

store_test!(connections_are_private_unless_shared, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let created = connection(&store, &seed).await;
    let ids = |list: Vec<Connection>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let connections = store.connections();
    assert_eq!(ids(connections.list(&seed.alice.id).await.unwrap()), std::slice::from_ref(&created.id));
    assert!(connections.list(&seed.bob.id).await.unwrap().is_empty());
    assert!(
        connections.list(&seed.admin.id).await.unwrap().is_empty(),
        "admins do not see others' credentials"
    );

    let resource = patchbay_store::Resource::Connection(created.id.clone());
    let bob = patchbay_store::Grantee::User(seed.bob.id.clone());
    store.sharing().grant(&resource, &bob, patchbay_store::Level::CanUse).await.unwrap();
    let listed = connections.list(&seed.bob.id).await.unwrap();
    assert_eq!(listed, vec![created.clone()], "shared connections list like owned ones");
    assert!(connections.list(&seed.stranger.id).await.unwrap().is_empty());

    connections.delete(&created.id).await.unwrap();
    assert!(connections.list(&seed.alice.id).await.unwrap().is_empty());
    assert!(store.sharing().grants(&resource).await.unwrap().is_empty(), "grants go with the connection");
    assert!(matches!(connections.delete(&created.id).await, Err(StoreError::NotFound { .. })));
});
