//! Runs each server test on both stores (see `patchbay_store::testing`: a fresh SQLite file or a
//! fresh PostgreSQL schema, dropped afterwards), and the harness that starts a server on it.
#![allow(dead_code, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};

use patchbay_server::{RunningServer, ServerConfig, start_with_store};
use patchbay_store::{NewUser, Role, Store, User};
use serde_json::{Value, json};

pub use patchbay_store::testing::{Kind, TestDb, run};

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

/// Server settings for a test database.
pub trait ServerConfigFor {
    /// A server config for tests: an ephemeral port, loopback backends allowed, no retries.
    fn config(&self) -> ServerConfig;
}

impl ServerConfigFor for TestDb {
    fn config(&self) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: self.dir().join("data"),
            allow_loopback: true,
            invoke_retries: 0,
            ..ServerConfig::default()
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
        Harness::start_with(db, db.config()).await
    }

    /// Starts a server with `config` on a fresh store of `db`; the store is bootstrapped.
    pub async fn start_with(db: &TestDb, config: ServerConfig) -> Harness {
        let store = db.open().await;
        let server = start_with_store(config, store.clone()).await.expect("the server starts");
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

    /// A maker of a second environment ("Fabrikam"), with a client on their own token.
    pub async fn other_environment_user(&self) -> Client {
        let people = self.store.people();
        let env = people.create_environment("Fabrikam").await.expect("an environment");
        let user = people
            .create_user(NewUser {
                environment_id: &env.id,
                email: "sam@fabrikam.example",
                display_name: "Sam",
                role: Role::Maker,
                password: None,
            })
            .await
            .expect("create a user");
        let token = people.create_token(&user.id, "test").await.expect("a token");
        Client::new(&self.server.url, &token.plaintext)
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

    /// The same client, talking to another server (another node).
    pub fn with_base(&self, base: &str) -> Client {
        Client { base: base.to_owned(), ..self.clone() }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: token.to_owned(), ..self.clone() }
    }

    /// Sends a request; answers the status and the body (JSON, `null` when empty, else text).
    /// Sends a request and returns the response as it came (headers included).
    pub async fn raw(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> reqwest::Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the server answers")
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let response = self.raw(method, path, body).await;
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

/// Every documented route of the API description: `(method, path template)`, e.g.
/// `(GET, "/api/connectors/{id}")`, in the document's order.
pub fn documented_routes() -> Vec<(reqwest::Method, String)> {
    let document = serde_json::to_value(patchbay_server::routes::openapi()).expect("the document serializes");
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if let Ok(method) = method.to_ascii_uppercase().parse::<reqwest::Method>() {
                routes.push((method, path.clone()));
            }
        }
    }
    routes
}
