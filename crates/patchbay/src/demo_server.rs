//! The server half of `patchbay demo`: starts `patchbay serve`'s server on the embedded default
//! (SQLite in the data directory), uploads the sample connector, creates a connection and the two
//! sample flows (a `Request` flow that creates a task and answers with it; a webhook flow that
//! comments on every completed task), then causes an event and shows what the flows did. On the way
//! out it disables the webhook flow, which removes its subscription at the sample API.
//!
//! Running the demo again on the same data directory reuses what it made (the connector gets a new
//! revision pointing at the new sample API, the flows a new revision); the admin token is kept in
//! `<data dir>/demo-token` (mode 0600) so the printed commands keep working.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use patchbay_server::{RunningServer, ServerConfig};
use reqwest::Method;
use serde_json::{Value, json};

use crate::login::Profile;
use crate::remote::Client;

/// The connector's name on the demo server.
const CONNECTOR: &str = "Contoso Tasks";
/// The connection's display name.
const CONNECTION: &str = "Demo (API key)";
/// The two flows: (name, index in `contoso_tasks::SAMPLE_FLOWS`).
const FLOWS: [(&str, usize); 2] = [("Create a task and answer", 0), ("Comment on completed tasks", 1)];

/// What the demo made on the server, for the next steps and the clean-up.
pub struct DemoServer {
    /// The running server.
    pub server: RunningServer,
    /// A client with the admin token.
    pub client: Client,
    /// The admin token.
    pub token: String,
    /// The connection's id.
    pub connection: String,
    /// The flows' ids, in [`FLOWS`] order.
    pub flows: Vec<String>,
}

/// Starts the server on `listen` (or a free port when it is taken) over `data_dir`.
pub async fn start(data_dir: &Path, listen: SocketAddr) -> anyhow::Result<(RunningServer, String)> {
    let token = demo_token(data_dir)?;
    let config = |listen| ServerConfig {
        listen,
        data_dir: data_dir.to_path_buf(),
        allow_loopback: true,
        admin_token: Some(token.clone()),
        ..ServerConfig::default()
    };
    let server = match patchbay_server::start(config(listen)).await {
        Ok(server) => server,
        Err(patchbay_server::ServerError::Bind { .. }) => {
            println!("     ({listen} is taken: using a free port instead)");
            patchbay_server::start(config(SocketAddr::from(([127, 0, 0, 1], 0)))).await?
        }
        Err(error) => return Err(error).context("the patchbay server could not start"),
    };
    Ok((server, token))
}

/// The demo's admin token: read from `<data dir>/demo-token`, or made and saved there (mode 0600).
fn demo_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("demo-token");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let token = text.trim().to_owned();
        if token.starts_with("pb_") && token.len() >= 25 {
            return Ok(token);
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 24];
    getrandom(&mut bytes)?;
    let token = format!("pb_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    std::fs::write(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(token)
}

/// Random bytes from the operating system.
fn getrandom(bytes: &mut [u8]) -> anyhow::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(bytes))
        .context("cannot read random bytes for the demo token")
}

/// Uploads the connector, makes the connection and the flows, enables the flows.
pub async fn set_up(server: RunningServer, token: String, api_host: &str) -> anyhow::Result<DemoServer> {
    let client = Client::new(&Profile { url: server.url.clone(), token: token.clone() })?;
    let connector = upload_connector(&client, api_host).await?;
    println!("8. Uploaded the connector to the server ({CONNECTOR}, {connector})");
    let connection = connection(&client, &connector).await?;
    println!("9. Created a connection with the sample's API key ({connection})");
    let mut flows = Vec::new();
    for (name, index) in FLOWS {
        let definition: Value = serde_json::from_str(contoso_tasks::SAMPLE_FLOWS[index].1)?;
        let id = flow(&client, name, definition, &connection).await?;
        client.send(Method::POST, &format!("/api/flows/{id}/enable"), None).await?.into_result()?;
        flows.push(id);
    }
    println!("10. Created and enabled two flows:");
    println!("     \"{}\" ({}): Request trigger → CreateTask → Response", FLOWS[0].0, flows[0]);
    println!(
        "     \"{}\" ({}): when a task is completed (a webhook subscribed at the sample API) → AddComment",
        FLOWS[1].0, flows[1]
    );
    Ok(DemoServer { server, client, token, connection, flows })
}

/// The demo connector's id: updated to point at this run's sample API, or uploaded.
async fn upload_connector(client: &Client, api_host: &str) -> anyhow::Result<String> {
    let [(_, definition), (_, properties)] = contoso_tasks::CONNECTOR_PACKAGE;
    let body = json!({
        "name": CONNECTOR,
        "apiDefinition": definition.replace("localhost:3000", api_host),
        "apiProperties": properties.replace("localhost:3000", api_host),
    });
    let listed = client.get("/api/connectors").await?.into_result()?;
    let existing = listed
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == CONNECTOR))
        .map(|c| c["id"].clone());
    let answer = match existing.as_ref().and_then(Value::as_str) {
        Some(id) => client.send(Method::PUT, &format!("/api/connectors/{id}"), Some(&body)).await?,
        None => client.send(Method::POST, "/api/connectors", Some(&body)).await?,
    };
    let connector = answer.into_result()?;
    Ok(connector["id"].as_str().context("the server gave no connector id")?.to_owned())
}

/// The demo connection's id, made when missing.
async fn connection(client: &Client, connector: &str) -> anyhow::Result<String> {
    let listed = client.get("/api/connections").await?.into_result()?;
    let existing = listed.as_array().and_then(|all| {
        all.iter()
            .find(|c| c["connectorId"] == connector && c["displayName"] == CONNECTION)
            .map(|c| c["id"].clone())
    });
    if let Some(id) = existing.as_ref().and_then(Value::as_str) {
        return Ok(id.to_owned());
    }
    let body = json!({"displayName": CONNECTION, "parameterSet": "apiKey", "values": {"api_key": contoso_tasks::DEMO_API_KEY}});
    let created = client
        .send(Method::POST, &format!("/api/connectors/{connector}/connections"), Some(&body))
        .await?
        .into_result()?;
    Ok(created["id"].as_str().context("the server gave no connection id")?.to_owned())
}

/// The flow `name`'s id: a new revision of it, or created.
async fn flow(client: &Client, name: &str, definition: Value, connection: &str) -> anyhow::Result<String> {
    let body = json!({"name": name, "definition": definition, "connections": {"contoso": connection}});
    let listed = client.get("/api/flows").await?.into_result()?;
    let existing =
        listed.as_array().and_then(|all| all.iter().find(|f| f["name"] == name)).map(|f| f["id"].clone());
    let answer = match existing.as_ref().and_then(Value::as_str) {
        Some(id) => client.send(Method::PUT, &format!("/api/flows/{id}"), Some(&body)).await?,
        None => client.send(Method::POST, "/api/flows", Some(&body)).await?,
    };
    let flow = answer.into_result()?;
    Ok(flow["id"].as_str().context("the server gave no flow id")?.to_owned())
}

impl DemoServer {
    /// Invokes `operation` through the server's invoke API; answers the backend's body.
    async fn invoke(&self, operation: &str, inputs: Value) -> anyhow::Result<Value> {
        let path = format!("/api/connections/{}/operations/{operation}", self.connection);
        let answer = self.client.send(Method::POST, &path, Some(&inputs)).await?.into_result()?;
        Ok(answer["body"].clone())
    }

    /// Calls the Request flow, completes the task it made, and shows the comment the webhook flow
    /// added.
    pub async fn cause_an_event(&self) -> anyhow::Result<()> {
        let project = self.invoke("CreateProject", json!({"body": {"name": "Demo launch"}})).await?;
        let project = project["id"].as_str().context("no project id")?.to_owned();
        let path = format!("/api/flows/{}/run", self.flows[0]);
        let body = json!({"projectId": project, "title": "Try patchbay"});
        let task = self.client.send(Method::POST, &path, Some(&body)).await?.into_result()?;
        let task_id = task["id"].as_str().context("the flow did not answer with a task")?.to_owned();
        println!("11. Called the Request flow: it created task {task_id} and answered with it");
        println!("run Succeeded: {}", serde_json::to_string(&task)?);
        let before = self.newest_run(&self.flows[1]).await?;
        self.invoke("UpdateTask", json!({"taskId": task_id, "body": {"completed": true}})).await?;
        println!("12. Completed the task: the sample API notified patchbay, which ran \"{}\"", FLOWS[1].0);
        let run = self.wait_for_run(&self.flows[1], &before).await?;
        println!(
            "     run {} {}",
            run["id"].as_str().unwrap_or_default(),
            run["status"].as_str().unwrap_or_default()
        );
        let comments = self.invoke("ListComments", json!({"taskId": task_id})).await?;
        for comment in comments["value"].as_array().map(Vec::as_slice).unwrap_or_default() {
            println!("comment added by the flow: {}", comment["text"].as_str().unwrap_or_default());
        }
        Ok(())
    }

    /// The newest run of `flow` (null when it has none).
    async fn newest_run(&self, flow: &str) -> anyhow::Result<Value> {
        let runs = self.client.get(&format!("/api/flows/{flow}/runs?limit=1")).await?.into_result()?;
        Ok(runs.as_array().and_then(|all| all.first()).cloned().unwrap_or(Value::Null))
    }

    /// The first run of `flow` newer than `before` once it has finished, waiting up to 20 s.
    async fn wait_for_run(&self, flow: &str, before: &Value) -> anyhow::Result<Value> {
        for _ in 0..200 {
            let run = self.newest_run(flow).await?;
            if run["id"] != before["id"]
                && matches!(run["status"].as_str(), Some("Succeeded" | "Failed" | "Cancelled"))
            {
                return Ok(run);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the event-triggered flow did not run within 20 s; see `patchbay flow runs {flow}`")
    }

    /// Disables the webhook flow (its subscription is removed at the sample API) and stops the server.
    pub async fn stop(self) -> anyhow::Result<()> {
        let path = format!("/api/flows/{}/disable", self.flows[1]);
        match self.client.send(Method::POST, &path, None).await?.into_result() {
            Ok(_) => println!(
                "stopping: disabled \"{}\" and removed its webhook subscription at the sample API",
                FLOWS[1].0
            ),
            Err(error) => println!("stopping: could not disable \"{}\": {error}", FLOWS[1].0),
        }
        self.server.shutdown().await?;
        Ok(())
    }
}
