//! Connectors and their immutable revisions, on both engines.

mod common;

use common::seed;
use patchbay_store::{ConnectorPackage, StoreError};

fn package(title: &str) -> ConnectorPackage {
    ConnectorPackage {
        api_definition: format!("{{\"swagger\": \"2.0\", \"info\": {{\"title\": \"{title}\"}}}}\n"),
        api_properties: "{\"properties\": {}}".to_owned(),
        script: Some("public class Script : ScriptBase {}".to_owned()),
        icon: Some(vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255]),
    }
}

store_test!(create_get_and_current_revision, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    let created = connectors.create(&seed.alice.id, "Contoso Tasks", &package("v1")).await.unwrap();
    assert_eq!(created.environment_id, seed.env);
    assert_eq!(created.owner_id, seed.alice.id);
    assert_eq!(created.current_revision, 1);
    assert_eq!(connectors.get(&created.id).await.unwrap(), created);
    let current = connectors.current(&created.id).await.unwrap();
    assert_eq!(current.info.revision, 1);
    assert_eq!(current.info.author_id, seed.alice.id);
    assert_eq!(current.package, package("v1"), "files come back byte for byte");
    let bare = ConnectorPackage { script: None, icon: None, ..package("bare") };
    let other = connectors.create(&seed.alice.id, "Bare", &bare).await.unwrap();
    assert_eq!(connectors.current(&other.id).await.unwrap().package, bare);
    assert!(matches!(connectors.get(&"ctr_missing".into()).await, Err(StoreError::NotFound { .. })));
    let missing_owner = connectors.create(&"usr_missing".into(), "X", &bare).await.unwrap_err();
    assert!(matches!(missing_owner, StoreError::NotFound { kind: "user", .. }), "{missing_owner}");
});

store_test!(every_update_is_a_new_immutable_revision, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    let connector = connectors.create(&seed.alice.id, "Contoso Tasks", &package("v1")).await.unwrap();
    assert_eq!(connectors.update(&connector.id, &seed.bob.id, &package("v2")).await.unwrap(), 2);
    assert_eq!(connectors.update(&connector.id, &seed.alice.id, &package("v3")).await.unwrap(), 3);

    let revisions = connectors.revisions(&connector.id).await.unwrap();
    let numbers: Vec<i64> = revisions.iter().map(|info| info.revision).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(revisions[1].author_id, seed.bob.id);
    for (number, title) in [(1, "v1"), (2, "v2"), (3, "v3")] {
        assert_eq!(connectors.revision(&connector.id, number).await.unwrap().package, package(title));
    }
    let updated = connectors.get(&connector.id).await.unwrap();
    assert_eq!(updated.current_revision, 3);
    assert_eq!(updated.name, "Contoso Tasks");
    assert_eq!(connectors.current(&connector.id).await.unwrap().package, package("v3"));
    assert!(matches!(connectors.revision(&connector.id, 4).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        connectors.update(&"ctr_missing".into(), &seed.alice.id, &package("x")).await,
        Err(StoreError::NotFound { .. })
    ));

    // The database itself refuses to rewrite history or rename, whoever asks.
    let rewrite = format!(
        "UPDATE connector_revisions SET api_definition = 'x' WHERE connector_id = '{}'",
        connector.id
    );
    let error = db.raw_execute(&rewrite).await.unwrap_err();
    assert!(error.contains("immutable"), "{error}");
    let rename =
        format!("UPDATE connectors SET name = 'Renamed', name_key = 'renamed' WHERE id = '{}'", connector.id);
    let error = db.raw_execute(&rename).await.unwrap_err();
    assert!(error.contains("cannot change"), "{error}");
    assert_eq!(connectors.revision(&connector.id, 1).await.unwrap().package, package("v1"));
});

store_test!(concurrent_updates_get_distinct_revisions, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector = store.connectors().create(&seed.alice.id, "Busy", &package("v1")).await.unwrap();
    let updates = (0..6).map(|i| {
        let store = store.clone();
        let (id, author) = (connector.id.clone(), seed.alice.id.clone());
        tokio::spawn(async move { store.connectors().update(&id, &author, &package(&format!("p{i}"))).await })
    });
    let mut numbers: Vec<i64> = Vec::new();
    for update in updates.collect::<Vec<_>>() {
        numbers.push(update.await.unwrap().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7]);
    assert_eq!(store.connectors().revisions(&connector.id).await.unwrap().len(), 7);
});

store_test!(names_are_unique_per_environment_and_case_insensitive, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    connectors.create(&seed.alice.id, "Contoso Tasks", &package("a")).await.unwrap();
    let error = connectors.create(&seed.bob.id, "contoso TASKS", &package("b")).await.unwrap_err();
    assert!(matches!(error, StoreError::AlreadyExists { kind: "connector", .. }), "{error}");
    assert!(error.to_string().contains("contoso TASKS"), "{error}");
    // Another environment may use the same name.
    let elsewhere = connectors.create(&seed.stranger.id, "Contoso Tasks", &package("c")).await.unwrap();
    assert_eq!(elsewhere.environment_id, seed.other_env);
    assert!(matches!(
        connectors.create(&seed.alice.id, " ", &package("d")).await,
        Err(StoreError::Invalid { .. })
    ));
});

store_test!(list_shows_what_the_user_may_see, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    connectors.create(&seed.alice.id, "Alpha", &package("a")).await.unwrap();
    connectors.create(&seed.bob.id, "Beta", &package("b")).await.unwrap();
    connectors.create(&seed.stranger.id, "Gamma", &package("c")).await.unwrap();
    let names = |list: Vec<patchbay_store::Connector>| list.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(names(connectors.list(&seed.alice.id).await.unwrap()), ["Alpha"]);
    assert_eq!(names(connectors.list(&seed.bob.id).await.unwrap()), ["Beta"]);
    assert_eq!(names(connectors.list(&seed.stranger.id).await.unwrap()), ["Gamma"]);
    assert_eq!(names(connectors.list_environment(&seed.env).await.unwrap()), ["Alpha", "Beta"]);
});

store_test!(delete_removes_revisions_connections_and_grants, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    let connector = connectors.create(&seed.alice.id, "Doomed", &package("v1")).await.unwrap();
    connectors.update(&connector.id, &seed.alice.id, &package("v2")).await.unwrap();
    let connection = store
        .connections()
        .create(patchbay_store::NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.alice.id,
            display_name: "mine",
            parameter_set: None,
            values: Default::default(),
            secrets: [("api_key".to_owned(), "k".to_owned())].into(),
            status: patchbay_store::ConnectionStatus::Connected,
        })
        .await
        .unwrap();
    let sharing = store.sharing();
    let resource = patchbay_store::Resource::Connection(connection.id.clone());
    sharing
        .grant(&resource, &patchbay_store::Grantee::User(seed.bob.id.clone()), patchbay_store::Level::CanUse)
        .await
        .unwrap();
    connectors.delete(&connector.id).await.unwrap();
    assert!(matches!(connectors.get(&connector.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(connectors.revisions(&connector.id).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.connections().get(&connection.id).await, Err(StoreError::NotFound { .. })));
    for table in ["connector_revisions", "connections", "connection_secrets", "grants"] {
        assert!(db.raw_cells(table).await.is_empty(), "{table} is empty");
    }
    assert!(matches!(connectors.delete(&connector.id).await, Err(StoreError::NotFound { .. })));
});

const CLIENT_SECRET: &str = "client-secret-never-in-plaintext-42";

store_test!(a_client_secret_is_sealed_apart_from_the_package_and_goes_with_the_connector, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    let connector = connectors.create(&seed.alice.id, "Contoso Tasks", &package("v1")).await.unwrap();
    let other = connectors.create(&seed.alice.id, "Other", &package("v1")).await.unwrap();
    assert_eq!(connectors.client_secret(&connector.id).await.unwrap(), None);
    assert!(!connectors.has_client_secret(&connector.id).await.unwrap());

    connectors.set_client_secret(&connector.id, Some("first")).await.unwrap();
    connectors.set_client_secret(&connector.id, Some(CLIENT_SECRET)).await.unwrap();
    assert_eq!(connectors.client_secret(&connector.id).await.unwrap().as_deref(), Some(CLIENT_SECRET));
    assert!(connectors.has_client_secret(&connector.id).await.unwrap());
    assert_eq!(connectors.client_secret(&other.id).await.unwrap(), None, "each connector its own");
    connectors.update(&connector.id, &seed.alice.id, &package("v2")).await.unwrap();
    assert_eq!(connectors.client_secret(&connector.id).await.unwrap().as_deref(), Some(CLIENT_SECRET));

    for table in db.raw_tables().await {
        for cell in db.raw_cells(&table).await {
            assert!(!common::contains(&cell, CLIENT_SECRET.as_bytes()), "plaintext secret in {table}");
        }
    }
    let missing = connectors.set_client_secret(&"ctr_missing".into(), Some("x")).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
    let empty = connectors.set_client_secret(&connector.id, Some("")).await.unwrap_err();
    assert!(matches!(empty, StoreError::Invalid { .. }), "{empty}");

    // A sealed value moved to another connector does not open there.
    let moved = format!(
        "INSERT INTO store_meta (key, value) SELECT 'connector/{}/client_secret', value FROM store_meta \
         WHERE key = 'connector/{}/client_secret'",
        other.id, connector.id
    );
    db.raw_execute(&moved).await.unwrap();
    assert!(matches!(connectors.client_secret(&other.id).await, Err(StoreError::Decrypt { .. })));
    connectors.set_client_secret(&other.id, None).await.unwrap();
    assert!(!connectors.has_client_secret(&other.id).await.unwrap());

    connectors.delete(&connector.id).await.unwrap();
    let meta = db.raw_cells("store_meta").await;
    assert!(
        !meta.iter().any(|cell| common::contains(cell, connector.id.as_str().as_bytes())),
        "row left behind"
    );
    let recreated = connectors.create(&seed.alice.id, "Contoso Tasks", &package("v1")).await.unwrap();
    assert_eq!(connectors.client_secret(&recreated.id).await.unwrap(), None);
});
