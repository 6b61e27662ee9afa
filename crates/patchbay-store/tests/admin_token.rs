//! The operator's admin token (`PATCHBAY_ADMIN_TOKEN` on the server): bootstrap with it, or add it
//! once to an existing admin; idempotent, rotating, safe on several nodes; on both engines.

mod common;

use common::seed;
use patchbay_store::{CONFIGURED_TOKEN_NAME, Role, StoreError};

const TOKEN: &str = "pb_operator-chosen-token-0123456789";

store_test!(an_empty_store_bootstraps_the_admin_with_the_configured_token, |db| {
    let store = db.open().await;
    let people = store.people();
    let setup = people.ensure_admin_token(TOKEN).await.unwrap();
    assert!(setup.bootstrapped && setup.added);
    assert_eq!((setup.admin.email.as_str(), setup.admin.role), ("admin@localhost", Role::Admin));
    let user = people.authenticate_token(TOKEN).await.unwrap().expect("the configured token works");
    assert_eq!(user, setup.admin);
    let tokens = people.tokens(&setup.admin.id).await.unwrap();
    assert_eq!(tokens.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), [CONFIGURED_TOKEN_NAME]);
    assert!(people.bootstrap_admin().await.unwrap().is_none(), "no second, random bootstrap");

    let again = people.ensure_admin_token(TOKEN).await.unwrap();
    assert!(!again.bootstrapped && !again.added, "a restart with the same token changes nothing");
    assert_eq!(people.tokens(&setup.admin.id).await.unwrap().len(), 1);
});

store_test!(an_existing_admin_gets_the_configured_token_once, |db| {
    let store = db.open().await;
    let people = store.people();
    let first = people.bootstrap_admin().await.unwrap().expect("bootstraps");
    let setup = people.ensure_admin_token(TOKEN).await.unwrap();
    assert!(!setup.bootstrapped && setup.added);
    assert_eq!(setup.admin, first.admin);
    for _ in 0..3 {
        assert!(!people.ensure_admin_token(TOKEN).await.unwrap().added);
    }
    let names: Vec<String> =
        people.tokens(&first.admin.id).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["bootstrap", CONFIGURED_TOKEN_NAME], "never duplicated");
    assert!(
        people.authenticate_token(&first.token.plaintext).await.unwrap().is_some(),
        "the first token stays"
    );

    // A new configured value replaces the one an earlier value left; other tokens stay.
    let rotated = "pb_the-next-operator-token-abcdefgh";
    assert!(people.ensure_admin_token(rotated).await.unwrap().added);
    assert!(people.authenticate_token(rotated).await.unwrap().is_some());
    assert!(people.authenticate_token(TOKEN).await.unwrap().is_none(), "the old configured token is revoked");
    assert_eq!(people.tokens(&first.admin.id).await.unwrap().len(), 2);
});

store_test!(without_the_bootstrapped_admin_the_oldest_admin_gets_it, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let setup = store.people().ensure_admin_token(TOKEN).await.unwrap();
    assert_eq!(setup.admin, seed.admin);
});

store_test!(a_token_of_a_maker_or_a_malformed_token_is_refused, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let people = store.people();
    let issued = people.create_token(&seed.alice.id, "mine").await.unwrap();
    let refused = people.ensure_admin_token(&issued.plaintext).await.unwrap_err();
    assert!(matches!(refused, StoreError::Invalid { .. }), "{refused}");
    assert!(!refused.to_string().contains(&issued.plaintext));
    assert_eq!(people.authenticate_token(&issued.plaintext).await.unwrap(), Some(seed.alice.clone()));
    for bad in ["pb_short", "no-prefix-but-long-enough-0123456789", "pb_has spaces in it 0123456789"] {
        let error = people.ensure_admin_token(bad).await.unwrap_err();
        assert!(matches!(error, StoreError::Invalid { .. }), "{bad}: {error}");
    }
    assert!(people.tokens(&seed.admin.id).await.unwrap().is_empty());
});

store_test!(nodes_starting_together_store_the_token_once, |db| {
    let store = db.open().await;
    store.people().bootstrap_admin().await.unwrap();
    let nodes = [db.open().await, db.open().await, db.open().await];
    let runs = nodes.map(|node| tokio::spawn(async move { node.people().ensure_admin_token(TOKEN).await }));
    let mut added = 0;
    for run in runs {
        added += usize::from(run.await.unwrap().unwrap().added);
    }
    assert_eq!(added, 1);
    let admin = store.people().authenticate_token(TOKEN).await.unwrap().expect("valid");
    assert_eq!(store.people().tokens(&admin.id).await.unwrap().len(), 2);
});

store_test!(empty_nodes_starting_together_bootstrap_once_with_the_token, |db| {
    let nodes = [db.open().await, db.open().await, db.open().await];
    let runs = nodes.map(|node| tokio::spawn(async move { node.people().ensure_admin_token(TOKEN).await }));
    let mut bootstrapped = 0;
    for run in runs {
        bootstrapped += usize::from(run.await.unwrap().unwrap().bootstrapped);
    }
    assert_eq!(bootstrapped, 1);
    let store = db.open().await;
    let admin = store.people().authenticate_token(TOKEN).await.unwrap().expect("valid");
    assert_eq!(store.people().tokens(&admin.id).await.unwrap().len(), 1);
});
