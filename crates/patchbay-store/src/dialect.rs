//! Everything that differs between SQLite and PostgreSQL: connecting, migrations, write
//! transactions and reading columns. The aggregates share one `$n`-placeholder SQL text and reach
//! the typed pools through [`on_db!`] and [`in_tx!`], which expand the same body once per engine.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, Row, SqlSafeStr};

use crate::error::{Result, StoreError};

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (the single-node default).
    Sqlite,
    /// A PostgreSQL database (shared by several nodes).
    Postgres,
}

/// A typed connection pool for one of the two engines.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Pg(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever engine `$db` is.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::dialect::Db::Sqlite($pool) => $body,
            $crate::dialect::Db::Pg($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Runs `$body` in a write transaction bound to `$tx` and commits it; an early `?` rolls back.
/// SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so concurrent writers wait on the busy
/// timeout instead of failing when a read lock cannot be upgraded.
macro_rules! in_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        match $db {
            $crate::dialect::Db::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::dialect::Db::Pg(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}
pub(crate) use in_tx;

/// Typed column access that reads the same on both engines' rows.
pub(crate) trait Cols {
    /// A non-null TEXT column.
    fn text(&self, column: &str) -> Result<String>;
    /// A nullable TEXT column.
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
    /// A non-null BIGINT column.
    fn int(&self, column: &str) -> Result<i64>;
    /// A nullable BIGINT column.
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    /// A non-null flag: BOOLEAN on PostgreSQL, 0/1 INTEGER on SQLite.
    fn flag(&self, column: &str) -> Result<bool>;
    /// A nullable BLOB / BYTEA column.
    fn opt_blob(&self, column: &str) -> Result<Option<Vec<u8>>>;
}

/// Implements [`Cols`] for a row type whose typed getter by column name is `$get`.
macro_rules! impl_cols {
    ($row:ty, $get:ident) => {
        impl $crate::dialect::Cols for $row {
            fn text(&self, column: &str) -> $crate::error::Result<String> {
                Ok(self.$get(column)?)
            }
            fn opt_text(&self, column: &str) -> $crate::error::Result<Option<String>> {
                Ok(self.$get(column)?)
            }
            fn int(&self, column: &str) -> $crate::error::Result<i64> {
                Ok(self.$get(column)?)
            }
            fn opt_int(&self, column: &str) -> $crate::error::Result<Option<i64>> {
                Ok(self.$get(column)?)
            }
            fn flag(&self, column: &str) -> $crate::error::Result<bool> {
                Ok(self.$get(column)?)
            }
            fn opt_blob(&self, column: &str) -> $crate::error::Result<Option<Vec<u8>>> {
                Ok(self.$get(column)?)
            }
        }
    };
}
pub(crate) use impl_cols;
impl_cols!(SqliteRow, try_get);
impl_cols!(PgRow, try_get);

/// One embedded migration: version, description, SQL.
type MigrationFile = (i64, &'static str, &'static str);

/// The SQLite migrations, in order (the files under `migrations/sqlite`).
pub(crate) const SQLITE_MIGRATIONS: &[MigrationFile] = &[
    (1, "initial", include_str!("../migrations/sqlite/0001_initial.sql")),
    (2, "triggers", include_str!("../migrations/sqlite/0002_triggers.sql")),
    (3, "flows", include_str!("../migrations/sqlite/0003_flows.sql")),
    (4, "gateways", include_str!("../migrations/sqlite/0004_gateways.sql")),
    (5, "portal", include_str!("../migrations/sqlite/0005_portal.sql")),
    (6, "generation", include_str!("../migrations/sqlite/0006_generation.sql")),
];

/// The PostgreSQL migrations, in order (the files under `migrations/postgres`).
pub(crate) const POSTGRES_MIGRATIONS: &[MigrationFile] = &[
    (1, "initial", include_str!("../migrations/postgres/0001_initial.sql")),
    (2, "triggers", include_str!("../migrations/postgres/0002_triggers.sql")),
    (3, "flows", include_str!("../migrations/postgres/0003_flows.sql")),
    (4, "gateways", include_str!("../migrations/postgres/0004_gateways.sql")),
    (5, "portal", include_str!("../migrations/postgres/0005_portal.sql")),
    (6, "generation", include_str!("../migrations/postgres/0006_generation.sql")),
];

/// A migrator over embedded migration files, checksummed as `sqlx migrate` does.
fn migrator(files: &[MigrationFile]) -> Migrator {
    let migrations = files
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// The engine a URL names, from its scheme alone.
pub(crate) fn backend_of(url: &str) -> Result<Backend> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => Err(StoreError::UnsupportedUrl { scheme: scheme.chars().take(32).collect() }),
    }
}

/// Opens (creating if missing) an SQLite database in WAL mode and brings its schema up to date.
pub(crate) async fn open_sqlite(url: &str) -> Result<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL keeps an acknowledged commit across a power loss, which the durability rule needs.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    if let Some(parent) = options.get_filename().parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::DataDir { path: parent.to_path_buf(), source })?;
    }
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    migrator(SQLITE_MIGRATIONS).run(&pool).await?;
    Ok(Db::Sqlite(pool))
}

/// How long an SQLite connection waits for a lock (the one write lock, above all) before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection of its own to the SQLite file at `path`, which the pool created and migrated
/// (so it is in WAL mode), with the pool's busy timeout; for the store's hot paths beside the pool.
pub(crate) fn sqlite_side_connection(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    Ok(connection)
}

/// The file behind an SQLite pool's main database, as SQLite names it; `None` in memory.
pub(crate) async fn sqlite_file(pool: &SqlitePool) -> Result<Option<std::path::PathBuf>> {
    let rows = sqlx::query("PRAGMA database_list").fetch_all(pool).await?;
    let file = rows
        .iter()
        .find(|row| row.try_get::<String, _>("name").is_ok_and(|name| name == "main"))
        .and_then(|row| row.try_get::<String, _>("file").ok())
        .filter(|file| !file.is_empty());
    Ok(file.map(std::path::PathBuf::from))
}

/// Opens a PostgreSQL pool, optionally confined to `schema` (created if missing), and migrates it.
pub(crate) async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Db> {
    let options = PgConnectOptions::from_str(url)?;
    let mut pool_options = PgPoolOptions::new().max_connections(8);
    if let Some(schema) = schema {
        check_schema(schema)?;
        let mut conn = options.connect().await?;
        conn.execute(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))).await?;
        conn.close().await?;
        let set_path: Arc<str> = Arc::from(format!("SET search_path TO \"{schema}\""));
        pool_options = pool_options.after_connect(move |conn: &mut PgConnection, _meta| {
            let set_path = Arc::clone(&set_path);
            Box::pin(async move {
                conn.execute(AssertSqlSafe(set_path)).await?;
                Ok(())
            })
        });
    }
    let pool = pool_options.connect_with(options).await?;
    migrator(POSTGRES_MIGRATIONS).run(&pool).await?;
    Ok(Db::Pg(pool))
}

/// Refuses schema names that would need quoting rules beyond a plain lowercase identifier.
pub(crate) fn check_schema(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 63 {
        Ok(())
    } else {
        Err(StoreError::InvalidSchema(schema.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        assert_eq!(backend_of("sqlite://data/patchbay.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgres://u:p@h/db").unwrap(), Backend::Postgres);
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
        let error = backend_of("mysql://user:secret@h/db").unwrap_err().to_string();
        assert!(error.contains("`mysql`") && !error.contains("secret"), "{error}");
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema("pbtest_0a1b").is_ok());
        assert!(check_schema("_x").is_ok());
        for bad in ["", "1abc", "Upper", "a-b", "a\"b", &"a".repeat(64)] {
            assert!(check_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_migration_file_is_embedded() {
        for (folder, embedded) in [("sqlite", SQLITE_MIGRATIONS), ("postgres", POSTGRES_MIGRATIONS)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".sql"))
                .collect();
            files.sort();
            let expected: Vec<String> =
                embedded.iter().map(|(version, desc, _)| format!("{version:04}_{desc}.sql")).collect();
            assert_eq!(files, expected, "migrations/{folder} and the embedded list differ");
        }
    }

    #[test]
    fn both_dialects_have_the_same_migration_versions() {
        let versions = |files: &[MigrationFile]| files.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE_MIGRATIONS), versions(POSTGRES_MIGRATIONS));
    }
}
