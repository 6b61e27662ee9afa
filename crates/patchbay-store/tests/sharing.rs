//! Ownership, grants, access levels and the catalogue, on both engines.

mod common;

use common::seed;
use patchbay_store::{Access, ConnectorPackage, Grantee, Level, Resource, StoreError};

store_test!(access_levels_for_owner_user_environment_and_strangers, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "Shared", &ConnectorPackage::default()).await.unwrap();
    let resource = Resource::Connector(connector.id.clone());
    let sharing = store.sharing();
    let access = |user| {
        let (sharing, resource) = (sharing, resource.clone());
        async move { sharing.access(user, &resource).await.unwrap() }
    };
    assert_eq!(access(&seed.alice.id).await, Some(Access::Owner));
    assert_eq!(access(&seed.bob.id).await, None);
    assert_eq!(access(&seed.admin.id).await, None);
    assert_eq!(access(&seed.stranger.id).await, None);

    sharing.grant(&resource, &Grantee::User(seed.bob.id.clone()), Level::CanEdit).await.unwrap();
    assert_eq!(access(&seed.bob.id).await, Some(Access::CanEdit));
    assert_eq!(access(&seed.admin.id).await, None, "a user grant is for that user only");

    sharing.grant(&resource, &Grantee::Environment(seed.env.clone()), Level::CanUse).await.unwrap();
    assert_eq!(access(&seed.admin.id).await, Some(Access::CanUse), "environment share");
    assert_eq!(access(&seed.bob.id).await, Some(Access::CanEdit), "the best grant wins");
    assert_eq!(access(&seed.stranger.id).await, None, "other environments are not included");
    assert_eq!(access(&seed.alice.id).await, Some(Access::Owner));

    // Re-granting replaces the level.
    sharing.grant(&resource, &Grantee::User(seed.bob.id.clone()), Level::CanUse).await.unwrap();
    assert_eq!(access(&seed.bob.id).await, Some(Access::CanUse));
    let grants = sharing.grants(&resource).await.unwrap();
    let summary: Vec<(Grantee, Level)> =
        grants.into_iter().map(|grant| (grant.grantee, grant.level)).collect();
    assert_eq!(
        summary,
        [
            (Grantee::Environment(seed.env.clone()), Level::CanUse),
            (Grantee::User(seed.bob.id.clone()), Level::CanUse)
        ]
    );

    let names = |list: Vec<patchbay_store::Connector>| list.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(names(store.connectors().list(&seed.admin.id).await.unwrap()), ["Shared"]);
    assert!(store.connectors().list(&seed.stranger.id).await.unwrap().is_empty());

    assert!(sharing.revoke(&resource, &Grantee::Environment(seed.env.clone())).await.unwrap());
    assert!(!sharing.revoke(&resource, &Grantee::Environment(seed.env.clone())).await.unwrap());
    assert_eq!(access(&seed.admin.id).await, None);
    assert_eq!(access(&seed.bob.id).await, Some(Access::CanUse));
});

store_test!(grants_stay_inside_the_environment, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "Mine", &ConnectorPackage::default()).await.unwrap();
    let resource = Resource::Connector(connector.id.clone());
    let sharing = store.sharing();
    let to_stranger = sharing.grant(&resource, &Grantee::User(seed.stranger.id.clone()), Level::CanUse).await;
    assert!(matches!(to_stranger, Err(StoreError::Invalid { field: "grantee", .. })), "{to_stranger:?}");
    let to_other_env =
        sharing.grant(&resource, &Grantee::Environment(seed.other_env.clone()), Level::CanUse).await;
    assert!(matches!(to_other_env, Err(StoreError::Invalid { .. })), "{to_other_env:?}");
    let missing_user = sharing.grant(&resource, &Grantee::User("usr_missing".into()), Level::CanUse).await;
    assert!(matches!(missing_user, Err(StoreError::NotFound { kind: "user", .. })), "{missing_user:?}");
    let missing_resource = sharing
        .grant(&Resource::Connector("ctr_missing".into()), &Grantee::User(seed.bob.id.clone()), Level::CanUse)
        .await;
    assert!(
        matches!(missing_resource, Err(StoreError::NotFound { kind: "connector", .. })),
        "{missing_resource:?}"
    );
    assert!(matches!(
        sharing.access(&seed.bob.id, &Resource::Connection("cxn_missing".into())).await,
        Err(StoreError::NotFound { kind: "connection", .. })
    ));
    assert!(sharing.grants(&resource).await.unwrap().is_empty());
});

store_test!(published_connectors_form_the_catalogue, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connectors = store.connectors();
    let public = connectors.create(&seed.alice.id, "Public", &ConnectorPackage::default()).await.unwrap();
    connectors.create(&seed.alice.id, "Private", &ConnectorPackage::default()).await.unwrap();
    let sharing = store.sharing();
    assert!(sharing.catalogue().await.unwrap().is_empty());
    sharing.publish(&public.id).await.unwrap();
    let first_published = connectors.get(&public.id).await.unwrap().published_at.expect("published");
    sharing.publish(&public.id).await.unwrap();
    assert_eq!(connectors.get(&public.id).await.unwrap().published_at, Some(first_published), "kept");

    let catalogue = sharing.catalogue().await.unwrap();
    assert_eq!(catalogue.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Public"]);
    let resource = Resource::Connector(public.id.clone());
    assert_eq!(sharing.access(&seed.bob.id, &resource).await.unwrap(), Some(Access::CanUse));
    assert_eq!(sharing.access(&seed.stranger.id, &resource).await.unwrap(), Some(Access::CanUse));
    assert_eq!(sharing.access(&seed.alice.id, &resource).await.unwrap(), Some(Access::Owner));
    let bob_sees: Vec<String> =
        connectors.list(&seed.bob.id).await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(bob_sees, ["Public"]);

    sharing.unpublish(&public.id).await.unwrap();
    assert!(sharing.catalogue().await.unwrap().is_empty());
    assert_eq!(sharing.access(&seed.stranger.id, &resource).await.unwrap(), None);
    assert!(matches!(sharing.publish(&"ctr_missing".into()).await, Err(StoreError::NotFound { .. })));
});

store_test!(connection_sharing, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let connector =
        store.connectors().create(&seed.alice.id, "C", &ConnectorPackage::default()).await.unwrap();
    store.sharing().publish(&connector.id).await.unwrap();
    let connection = store
        .connections()
        .create(patchbay_store::NewConnection {
            connector_id: &connector.id,
            owner_id: &seed.bob.id,
            display_name: "bob's",
            parameter_set: None,
            values: Default::default(),
            secrets: Default::default(),
            status: patchbay_store::ConnectionStatus::Connected,
        })
        .await
        .unwrap();
    let resource = Resource::Connection(connection.id.clone());
    let sharing = store.sharing();
    assert_eq!(sharing.access(&seed.bob.id, &resource).await.unwrap(), Some(Access::Owner));
    assert_eq!(
        sharing.access(&seed.alice.id, &resource).await.unwrap(),
        None,
        "the connector's owner sees nothing"
    );
    sharing.grant(&resource, &Grantee::Environment(seed.env.clone()), Level::CanUse).await.unwrap();
    assert_eq!(sharing.access(&seed.alice.id, &resource).await.unwrap(), Some(Access::CanUse));
    assert_eq!(sharing.access(&seed.stranger.id, &resource).await.unwrap(), None);
});
