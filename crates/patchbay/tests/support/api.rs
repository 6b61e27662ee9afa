//! A small client of the patchbay API for process-level tests.
#![allow(dead_code)]

use serde_json::{Value, json};

/// One server and token.
#[derive(Clone)]
pub struct Api {
    /// The server's base URL.
    pub url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of `url` with `token`.
    pub fn new(url: &str, token: &str) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
        Api { url: url.to_owned(), token: token.to_owned(), http }
    }

    /// Sends a request; answers status and JSON body (null when empty).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POST, expecting `expected`; answers the body.
    pub async fn post_ok(&self, path: &str, body: Value, expected: u16) -> Value {
        let (status, answer) = self.send(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(status, expected, "POST {path}: {answer}");
        answer
    }

    /// Uploads a package (definition and properties as text); answers the connector id.
    pub async fn upload(&self, name: &str, definition: &str, properties: &str) -> String {
        let body = json!({"name": name, "apiDefinition": definition, "apiProperties": properties});
        let created = self.post_ok("/api/connectors", body, 201).await;
        created["id"].as_str().expect("a connector id").to_owned()
    }

    /// Creates a connection of `connector` with `values`; answers its id.
    pub async fn connect(&self, connector: &str, parameter_set: Option<&str>, values: Value) -> String {
        let body = json!({"displayName": "test", "parameterSet": parameter_set, "values": values});
        let created = self.post_ok(&format!("/api/connectors/{connector}/connections"), body, 201).await;
        created["id"].as_str().expect("a connection id").to_owned()
    }

    /// Every stored event of `trigger`, oldest first.
    pub async fn all_events(&self, trigger: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let path = format!("/api/triggers/{trigger}/events?after={after}&limit=1000");
            let (status, page) = self.send(reqwest::Method::GET, &path, None).await;
            assert_eq!(status, 200, "{page}");
            let events = page["events"].as_array().cloned().unwrap_or_default();
            if events.is_empty() {
                return all;
            }
            after = page["next"].as_i64().expect("a next cursor");
            all.extend(events);
        }
    }
}
