//! Environments, users, passwords and API tokens, on both engines.

mod common;

use common::{contains, seed};
use patchbay_store::{NewUser, Role, StoreError};

store_test!(bootstrap_creates_the_first_admin_once, |db| {
    let store = db.open().await;
    let people = store.people();
    let first = people.bootstrap_admin().await.unwrap().expect("an empty store bootstraps");
    assert_eq!(first.admin.role, Role::Admin);
    assert_eq!(first.environment.name, "default");
    assert!(first.token.plaintext.starts_with("pb_"));
    assert!(!format!("{first:?}").contains(&first.token.plaintext), "Debug must not show the token");
    let user = people.authenticate_token(&first.token.plaintext).await.unwrap().expect("the token works");
    assert_eq!(user, first.admin);
    assert!(people.bootstrap_admin().await.unwrap().is_none(), "second call does nothing");
    assert_eq!(people.users(&first.environment.id).await.unwrap().len(), 1);
});

store_test!(bootstrap_is_skipped_when_users_exist, |db| {
    let store = db.open().await;
    seed(&store).await;
    assert!(store.people().bootstrap_admin().await.unwrap().is_none());
});

store_test!(concurrent_bootstraps_create_one_admin, |db| {
    let store = db.open().await;
    let (a, b, c) = tokio::join!(
        store.people().bootstrap_admin(),
        store.people().bootstrap_admin(),
        store.people().bootstrap_admin()
    );
    let created = [a.unwrap(), b.unwrap(), c.unwrap()].into_iter().flatten().count();
    assert_eq!(created, 1);
});

store_test!(tokens_are_stored_hashed, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let people = store.people();
    let issued = people.create_token(&seed.alice.id, "ci").await.unwrap();
    assert_eq!(issued.token.user_id, seed.alice.id);
    for cell in db.raw_cells("api_tokens").await {
        assert!(!contains(&cell, issued.plaintext.as_bytes()), "plaintext token stored");
        assert!(!contains(&cell, &issued.plaintext.as_bytes()["pb_".len()..]), "token body stored");
    }
    let found = people.authenticate_token(&issued.plaintext).await.unwrap();
    assert_eq!(found.map(|user| user.id), Some(seed.alice.id.clone()));
    assert!(people.authenticate_token("pb_wrong").await.unwrap().is_none());
    assert!(people.authenticate_token("not-a-token").await.unwrap().is_none());
    let mut altered = issued.plaintext.clone();
    altered.push('x');
    assert!(people.authenticate_token(&altered).await.unwrap().is_none());

    let listed = people.tokens(&seed.alice.id).await.unwrap();
    assert_eq!(listed, vec![issued.token.clone()]);
    people.revoke_token(&issued.token.id).await.unwrap();
    assert!(people.authenticate_token(&issued.plaintext).await.unwrap().is_none(), "revoked");
    assert!(matches!(people.revoke_token(&issued.token.id).await, Err(StoreError::NotFound { .. })));
});

store_test!(passwords_are_argon2_hashed, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let people = store.people();
    let carol = people
        .create_user(NewUser {
            environment_id: &seed.env,
            email: "Carol@Contoso.example",
            display_name: "Carol",
            role: Role::Maker,
            password: Some("correct horse battery staple"),
        })
        .await
        .unwrap();
    assert_eq!(carol.email, "carol@contoso.example");
    assert!(carol.has_password);
    let hashes: Vec<String> = db
        .raw_cells("users")
        .await
        .into_iter()
        .map(|cell| String::from_utf8_lossy(&cell).into_owned())
        .filter(|cell| cell.starts_with("$argon2id$"))
        .collect();
    assert_eq!(hashes.len(), 1, "one argon2id hash stored");
    assert!(!hashes[0].contains("correct horse"));

    let signed_in =
        people.verify_password("carol@contoso.EXAMPLE", "correct horse battery staple").await.unwrap();
    assert_eq!(signed_in.map(|user| user.id), Some(carol.id.clone()));
    assert!(people.verify_password("carol@contoso.example", "wrong").await.unwrap().is_none());
    assert!(people.verify_password("nobody@contoso.example", "x").await.unwrap().is_none());
    assert!(people.verify_password(&seed.alice.email, "x").await.unwrap().is_none(), "no password set");
    people.set_password(&seed.alice.id, "alice's new password").await.unwrap();
    assert!(people.verify_password(&seed.alice.email, "alice's new password").await.unwrap().is_some());
});

store_test!(names_and_emails_are_unique, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let people = store.people();
    let duplicate_env = people.create_environment("CONTOSO").await.unwrap_err();
    assert!(
        matches!(duplicate_env, StoreError::AlreadyExists { kind: "environment", .. }),
        "{duplicate_env}"
    );
    let duplicate_user = people
        .create_user(NewUser {
            environment_id: &seed.other_env,
            email: "ALICE@contoso.example",
            display_name: "Alice again",
            role: Role::Maker,
            password: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(duplicate_user, StoreError::AlreadyExists { kind: "user", .. }), "{duplicate_user}");
    let missing_env = people
        .create_user(NewUser {
            environment_id: &"env_missing".into(),
            email: "x@y.example",
            display_name: "X",
            role: Role::Maker,
            password: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(missing_env, StoreError::NotFound { kind: "environment", .. }), "{missing_env}");
    assert!(matches!(people.create_environment("  ").await, Err(StoreError::Invalid { .. })));
});

store_test!(users_environments_and_roles, |db| {
    let store = db.open().await;
    let seed = seed(&store).await;
    let people = store.people();
    let names: Vec<String> = people.environments().await.unwrap().into_iter().map(|env| env.name).collect();
    assert_eq!(names, ["Contoso", "Fabrikam"]);
    assert_eq!(people.environment(&seed.env).await.unwrap().name, "Contoso");
    assert_eq!(people.users(&seed.env).await.unwrap().len(), 3);
    assert_eq!(people.user_by_email("BOB@contoso.example").await.unwrap().unwrap().id, seed.bob.id);
    people.set_role(&seed.bob.id, Role::Admin).await.unwrap();
    assert_eq!(people.user(&seed.bob.id).await.unwrap().role, Role::Admin);
    assert!(matches!(people.user(&"usr_missing".into()).await, Err(StoreError::NotFound { .. })));
});
