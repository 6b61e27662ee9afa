//! Runs each server test on both stores: a fresh SQLite file in a temporary directory, and a fresh
//! PostgreSQL schema `pbsrv_<time>_<random>` on the local server, dropped afterwards (even when the
//! test fails). PostgreSQL being unreachable fails the test, naming the URLs tried.
#![allow(dead_code, missing_docs)]

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_server::{RunningServer, ServerConfig, start_with_store};
use patchbay_store::{NewUser, Role, SecretKey, Store, User};
use serde_json::{Value, json};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};
use tokio::sync::OnceCell;

/// Where the tests look for PostgreSQL, in order; `PATCHBAY_TEST_POSTGRES_URL` goes first when set.
const POSTGRES_URLS: [&str; 2] =
    ["postgres://postgres@127.0.0.1:5432/test", "postgres://root@127.0.0.1:5432/test"];

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One test's private database and key file.
pub struct TestDb {
    pub kind: Kind,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// Declares `mod $name` with the same async test body run on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! server_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                common::run(common::Kind::Sqlite, |$db| async move $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                common::run(common::Kind::Postgres, |$db| async move $body).await
            }
        }
    };
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
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    return url.clone();
                }
                Ok(Err(error)) => failures.push(format!("{url}: {error}")),
                Err(_) => failures.push(format!("{url}: timed out")),
            }
        }
        panic!(
            "PostgreSQL is required by the server tests and is not reachable:\n  {}\n\
             Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set PATCHBAY_TEST_POSTGRES_URL.",
            failures.join("\n  ")
        );
    })
    .await
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

impl TestDb {
    async fn create(kind: Kind) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let postgres = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                let suffix = SecretKey::generate().expect("random").id();
                let schema = format!("pbsrv_{}_{}", unix_secs(), suffix.to_ascii_lowercase());
                Some((postgres_url().await.to_owned(), schema))
            }
        };
        TestDb { kind, dir, postgres }
    }

    /// The key file shared by every store opened on this database.
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("secret.key")
    }

    /// Opens a store on this database with the key from the key file (created on first use).
    pub async fn open(&self) -> Store {
        let key = SecretKey::from_env_or_file(None, &self.key_path()).expect("secret key");
        let store = match &self.postgres {
            None => {
                let path = self.dir.path().join("data").join("patchbay.db");
                Store::open(&format!("sqlite://{}", path.display())).await
            }
            Some((url, schema)) => Store::open_postgres_schema(url, schema).await,
        };
        store.expect("open the store").with_secret_key(key)
    }

    /// A server config for tests: an ephemeral port, loopback backends allowed.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: self.dir.path().join("data"),
            allow_loopback: true,
            invoke_retries: 0,
            ..ServerConfig::default()
        }
    }

    async fn cleanup(&self) {
        if let Some((url, schema)) = &self.postgres
            && let Ok(mut conn) = PgConnection::connect(url).await
        {
            let _ = conn.execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))).await;
            let _ = conn.close().await;
        }
    }
}

/// A started server, its store, the admin's token and a client.
pub struct Harness {
    pub server: RunningServer,
    pub store: Store,
    pub admin: Client,
}

impl Harness {
    /// Starts a server on a fresh store of `db`; the store is bootstrapped.
    pub async fn start(db: &TestDb) -> Harness {
        let store = db.open().await;
        let server = start_with_store(db.config(), store.clone()).await.expect("the server starts");
        let (email, token) = server.bootstrap.clone().expect("an empty store bootstraps an admin");
        assert_eq!(email, "admin@localhost");
        let admin = Client::new(&server.url, &token);
        Harness { server, store, admin }
    }

    /// A second user in the admin's environment, with a client on their own token.
    pub async fn user(&self, email: &str) -> (User, Client) {
        let people = self.store.people();
        let environment = people.environments().await.expect("environments")[0].id.clone();
        let user = people
            .create_user(NewUser {
                environment_id: &environment,
                email,
                display_name: email,
                role: Role::Maker,
                password: None,
            })
            .await
            .expect("create a user");
        let token = people.create_token(&user.id, "test").await.expect("a token");
        (user, Client::new(&self.server.url, &token.plaintext))
    }

    /// Stops the server and closes the store.
    pub async fn stop(self) {
        self.server.shutdown().await.expect("graceful shutdown");
        self.store.close().await;
    }
}

/// An HTTP client for the API with one bearer token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        Client { base: base.to_owned(), token: token.to_owned(), http }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: token.to_owned(), ..self.clone() }
    }

    /// Sends a request; answers the status and the body (JSON, `null` when empty, else text).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// The Contoso Tasks sample API, started on an ephemeral port.
pub async fn contoso() -> contoso_tasks::Running {
    contoso_tasks::start(contoso_tasks::Config::default()).await.expect("the sample API starts")
}

/// The Contoso Tasks package as an upload body, its host pointed at `api`.
pub fn contoso_upload(api: &contoso_tasks::Running) -> Value {
    let [(_, definition), (_, properties)] = contoso_tasks::CONNECTOR_PACKAGE;
    let host = api.addr.to_string();
    json!({
        "name": "Contoso Tasks",
        "apiDefinition": definition.replace("localhost:3000", &host),
        "apiProperties": properties.replace("localhost:3000", &host),
    })
}

/// Uploads the Contoso package as `client`; answers the connector id.
pub async fn upload_contoso(client: &Client, api: &contoso_tasks::Running) -> String {
    let (status, body) = client.post("/api/connectors", contoso_upload(api)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// Creates a connection with the demo API key as `client`; answers the connection id.
pub async fn connect(client: &Client, connector: &str) -> String {
    let body = json!({"displayName": "Mine", "parameterSet": "apiKey", "values": {"api_key": contoso_tasks::DEMO_API_KEY}});
    let (status, body) = client.post(&format!("/api/connectors/{connector}/connections"), body).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// Invokes `CreateProject` named `name` through `connection`; answers the invoke API's status and body.
pub async fn create_project(client: &Client, connection: &str, name: &str) -> (u16, Value) {
    let path = format!("/api/connections/{connection}/operations/CreateProject");
    client.post(&path, json!({"body": {"name": name}})).await
}

impl Client {
    /// The bearer token this client sends.
    pub fn token(&self) -> &str {
        &self.token
    }
}
