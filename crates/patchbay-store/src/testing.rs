//! Test support (feature `testing`): a private database per test on either engine, a fresh SQLite
//! file in a temporary directory or a fresh PostgreSQL schema `pbtest_<time>_<random>` on the local
//! server, dropped afterwards even when the test fails. PostgreSQL being unreachable fails the test,
//! naming the URLs tried; it is never skipped. Used by the store's tests and the server's.

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{SecretKey, Store};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, Row};
use tokio::sync::OnceCell;

/// Where the tests look for PostgreSQL, in order; `PATCHBAY_TEST_POSTGRES_URL` goes first when set.
const POSTGRES_URLS: [&str; 2] =
    ["postgres://postgres@127.0.0.1:5432/test", "postgres://root@127.0.0.1:5432/test"];

/// Schemas left by killed test runs are dropped once they are this old.
const STALE_SCHEMA_SECS: u64 = 3600;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL schema.
    Postgres,
}

/// One test's private database, and the key file its stores use.
pub struct TestDb {
    /// The engine.
    pub kind: Kind,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// Runs `body` against a fresh database of `kind`, then drops the database even if `body` panicked.
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(Arc<TestDb>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = Arc::new(TestDb::create(kind).await);
    let outcome = tokio::spawn(body(Arc::clone(&db))).await;
    db.cleanup().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("test task failed: {error}"),
        }
    }
}

/// The first PostgreSQL URL that accepts a connection, found once per test binary.
async fn postgres_url() -> &'static str {
    static URL: OnceCell<String> = OnceCell::const_new();
    URL.get_or_init(|| async {
        let mut candidates: Vec<String> = POSTGRES_URLS.iter().map(|url| (*url).to_owned()).collect();
        if let Ok(url) = std::env::var("PATCHBAY_TEST_POSTGRES_URL") {
            candidates.insert(0, url);
        }
        let mut failures = Vec::new();
        for url in &candidates {
            match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await {
                Ok(Ok(mut conn)) => {
                    drop_stale_schemas(&mut conn).await;
                    let _ = conn.close().await;
                    return url.clone();
                }
                Ok(Err(error)) => failures.push(format!("{url}: {error}")),
                Err(_) => failures.push(format!("{url}: timed out")),
            }
        }
        panic!(
            "PostgreSQL is required by the store tests and is not reachable:\n  {}\n\
             Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set PATCHBAY_TEST_POSTGRES_URL.",
            failures.join("\n  ")
        );
    })
    .await
}

/// Drops `pbtest_<secs>_…` schemas older than [`STALE_SCHEMA_SECS`], left by killed runs.
async fn drop_stale_schemas(conn: &mut PgConnection) {
    let Ok(rows) = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pbtest\\_%'")
        .fetch_all(&mut *conn)
        .await
    else {
        return;
    };
    let now = unix_secs();
    for row in rows {
        let name: String = row.get("nspname");
        let born = name.split('_').nth(1).and_then(|secs| secs.parse::<u64>().ok());
        if born.is_some_and(|born| born + STALE_SCHEMA_SECS < now) {
            let _ = conn.execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))).await;
        }
    }
}

/// Seconds since the Unix epoch.
fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

/// A short random suffix for schema names.
fn random_suffix() -> String {
    SecretKey::generate().map(|key| key.id()).unwrap_or_else(|_| format!("{:x}", unix_secs()))
}

impl TestDb {
    /// Creates the database (a temporary folder, and for PostgreSQL a schema name).
    pub async fn create(kind: Kind) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let postgres = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                let schema = format!("pbtest_{}_{}", unix_secs(), random_suffix());
                Some((postgres_url().await.to_owned(), schema))
            }
        };
        TestDb { kind, dir, postgres }
    }

    /// The key file shared by every store opened on this database.
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("secret.key")
    }

    /// The SQLite file (SQLite only).
    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("data").join("patchbay.db")
    }

    /// Opens a store on this database, without a secret key.
    pub async fn open_without_key(&self) -> Store {
        match &self.postgres {
            None => Store::open(&format!("sqlite://{}", self.sqlite_path().display())).await,
            Some((url, schema)) => Store::open_postgres_schema(url, schema).await,
        }
        .expect("open the store")
    }

    /// Opens a store on this database with the key from the key file (created on first use).
    pub async fn open(&self) -> Store {
        let key = SecretKey::from_env_or_file(None, &self.key_path()).expect("secret key");
        self.open_without_key().await.with_secret_key(key)
    }

    /// Runs raw SQL beside the store (to try what the store's API does not allow).
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, String> {
        let result = match &self.postgres {
            None => self
                .raw_sqlite()
                .await
                .execute(AssertSqlSafe(sql.to_owned()))
                .await
                .map(|r| r.rows_affected()),
            Some(_) => self
                .raw_postgres()
                .await
                .execute(AssertSqlSafe(sql.to_owned()))
                .await
                .map(|r| r.rows_affected()),
        };
        result.map_err(|error| error.to_string())
    }

    /// Every value of every column of `table`, as bytes (text as UTF-8), read without the store.
    pub async fn raw_cells(&self, table: &str) -> Vec<Vec<u8>> {
        match &self.postgres {
            None => {
                let mut conn = self.raw_sqlite().await;
                let columns: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let mut cells = Vec::new();
                for column in columns {
                    let sql = format!("SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\"");
                    let values: Vec<Option<Vec<u8>>> =
                        sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut conn).await.unwrap();
                    cells.extend(values.into_iter().flatten());
                }
                cells
            }
            Some((_, schema)) => {
                let mut conn = self.raw_postgres().await;
                let columns: Vec<(String, String)> = sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = $1 AND table_name = $2",
                )
                .bind(schema)
                .bind(table)
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let mut cells = Vec::new();
                for (column, data_type) in columns {
                    let expr = match data_type.as_str() {
                        "bytea" => format!("\"{column}\""),
                        _ => format!("convert_to(\"{column}\"::text, 'UTF8')"),
                    };
                    let values: Vec<Option<Vec<u8>>> =
                        sqlx::query_scalar(AssertSqlSafe(format!("SELECT {expr} FROM \"{table}\"")))
                            .fetch_all(&mut conn)
                            .await
                            .unwrap();
                    cells.extend(values.into_iter().flatten());
                }
                cells
            }
        }
    }

    /// The names of the store's tables.
    pub async fn raw_tables(&self) -> Vec<String> {
        match &self.postgres {
            None => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut self.raw_sqlite().await)
                .await
                .unwrap(),
            Some((_, schema)) => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            )
            .bind(schema)
            .fetch_all(&mut self.raw_postgres().await)
            .await
            .unwrap(),
        }
    }

    async fn raw_sqlite(&self) -> SqliteConnection {
        SqliteConnectOptions::new()
            .filename(self.sqlite_path())
            .connect()
            .await
            .expect("raw SQLite connection")
    }

    async fn raw_postgres(&self) -> PgConnection {
        let (url, schema) = self.postgres.as_ref().expect("a PostgreSQL test database");
        let options = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.as_str())]);
        options.connect().await.expect("raw PostgreSQL connection")
    }

    /// The temporary folder of this database (the server's data directory goes under it).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The PostgreSQL URL and schema (PostgreSQL only).
    pub fn postgres(&self) -> Option<(&str, &str)> {
        self.postgres.as_ref().map(|(url, schema)| (url.as_str(), schema.as_str()))
    }

    /// Drops the PostgreSQL schema.
    pub async fn cleanup(&self) {
        if let Some((url, schema)) = &self.postgres
            && let Ok(mut conn) = PgConnection::connect(url).await
        {
            let _ = conn.execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))).await;
            let _ = conn.close().await;
        }
    }
}
