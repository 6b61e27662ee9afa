//! Runs each store test on both engines (see `patchbay_store::testing`), plus the people most tests need.
#![allow(dead_code, missing_docs, unused_imports)]

pub use patchbay_store::testing::{Kind, TestDb, run};
use patchbay_store::{EnvironmentId, NewUser, Role, Store, User};

/// Declares `mod $name` with the same async test body run as `sqlite` and as `postgres`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                common::run(common::Kind::Sqlite, |$db| async move $body).await
            }

            #[tokio::test]
            async fn postgres() {
                common::run(common::Kind::Postgres, |$db| async move $body).await
            }
        }
    };
}

/// People most tests need: two environments, an admin and two makers in the first, a maker in the second.
pub struct Seed {
    pub env: EnvironmentId,
    pub other_env: EnvironmentId,
    pub admin: User,
    pub alice: User,
    pub bob: User,
    pub stranger: User,
}

pub async fn seed(store: &Store) -> Seed {
    let people = store.people();
    let env = people.create_environment("Contoso").await.unwrap().id;
    let other_env = people.create_environment("Fabrikam").await.unwrap().id;
    let user = |environment_id, email, role| NewUser {
        environment_id,
        email,
        display_name: email,
        role,
        password: None,
    };
    Seed {
        admin: people.create_user(user(&env, "admin@contoso.example", Role::Admin)).await.unwrap(),
        alice: people.create_user(user(&env, "alice@contoso.example", Role::Maker)).await.unwrap(),
        bob: people.create_user(user(&env, "bob@contoso.example", Role::Maker)).await.unwrap(),
        stranger: people.create_user(user(&other_env, "sam@fabrikam.example", Role::Maker)).await.unwrap(),
        env,
        other_env,
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
