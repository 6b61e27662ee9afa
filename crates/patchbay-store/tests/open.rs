//! Opening stores: URL schemes, schema names, in-memory SQLite, and migrations run twice.

mod common;

use patchbay_store::{Backend, Store, StoreError};

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_them() {
    let error = Store::open("mysql://root:hunter2@localhost/db").await.unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedUrl { .. }), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    let error = Store::open_postgres_schema("sqlite://x.db", "s").await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid { field: "url", .. }), "{error}");
    let error =
        Store::open_postgres_schema("postgres://postgres@127.0.0.1:5432/test", "Bad-Name").await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidSchema(_)), "{error}");
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    let environment = store.people().create_environment("Scratch").await.unwrap();
    assert_eq!(store.people().environments().await.unwrap(), vec![environment]);
}

store_test!(opening_twice_applies_migrations_once, |db| {
    let first = db.open().await;
    let second = db.open().await;
    let expected = match db.kind {
        common::Kind::Sqlite => Backend::Sqlite,
        common::Kind::Postgres => Backend::Postgres,
    };
    assert_eq!(second.backend(), expected);
    first.people().create_environment("Shared").await.unwrap();
    assert_eq!(second.people().environments().await.unwrap().len(), 1);
    assert!(!db.raw_cells("_sqlx_migrations").await.is_empty());
    let tables = db.raw_tables().await;
    for table in ["environments", "users", "api_tokens", "connectors", "connector_revisions", "connections"] {
        assert!(tables.iter().any(|name| name == table), "{table} in {tables:?}");
    }
});
