//! `patchbay flow`: validate a workflow definition, or run it once in memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::connection_file::{point_at, read_connection};
use anyhow::Context;
use patchbay_engine::{
    ActionResult, BoxFuture, Definition, FlowEnvironment, Invocation, RunRecord, RunStatus, TriggerOutputs,
    run_flow,
};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::{Transport, TransportOptions};
use patchbay_runtime::{Call, Outcome, Runtime, RuntimeOptions, WireRequest};
use serde_json::{Map, Value};

/// `patchbay flow` subcommands.
#[derive(clap::Subcommand)]
pub enum FlowCommand {
    /// Run a flow once, in memory, and print each action.
    Run(RunArgs),
    /// Load a flow definition and print its diagnostics.
    Validate(ValidateArgs),
}

/// Arguments of `flow validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The definition file (Logic Apps, bare, or a Power Automate export).
    pub(crate) definition: PathBuf,
}

/// Arguments of `flow run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The definition file (Logic Apps, bare, or a Power Automate export).
    pub(crate) definition: PathBuf,
    /// The trigger body: `@file.json` or inline JSON.
    #[arg(long)]
    pub(crate) trigger_body: Option<String>,
    /// The connector package of a connection name used by the flow, `NAME=path`. Repeatable.
    #[arg(long = "package", value_name = "NAME=PATH")]
    pub(crate) packages: Vec<String>,
    /// The connection file of a connection name (as for `connector invoke -c`), `NAME=conn.json`. Repeatable.
    #[arg(long = "connection", value_name = "NAME=FILE")]
    pub(crate) connections: Vec<String>,
    /// Call this base URL instead of the package's host, `NAME=url`. Repeatable.
    #[arg(long = "base-url", value_name = "NAME=URL")]
    pub(crate) base_urls: Vec<String>,
    /// Allow calls to loopback addresses (local APIs); refused by default.
    #[arg(long)]
    pub(crate) allow_loopback: bool,
    /// Allow calls to private and link-local addresses; refused by default.
    #[arg(long)]
    pub(crate) allow_private: bool,
}

/// Runs a `flow` subcommand.
pub fn run(command: FlowCommand) -> anyhow::Result<ExitCode> {
    match command {
        FlowCommand::Validate(args) => validate(&args),
        FlowCommand::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(run_once(&args))
        }
    }
}

fn load(path: &Path) -> anyhow::Result<Result<Definition, patchbay_engine::LoadError>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Definition::from_text(&text))
}

fn validate(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    match load(&args.definition)? {
        Ok(def) => {
            let trigger =
                def.triggers.first().map_or("none".to_string(), |t| format!("{} ({})", t.name, t.type_name));
            println!("ok: trigger {trigger}, {} actions", def.all_actions().len());
            for name in def.connection_names() {
                println!("connection: {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for d in &e.diagnostics {
                println!("error: {d}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

async fn run_once(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let record = run_with(args).await?;
    print_record(&record)?;
    Ok(if record.status == RunStatus::Failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Loads the definition and runs it once in memory with the arguments' connections.
pub(crate) async fn run_with(args: &RunArgs) -> anyhow::Result<RunRecord> {
    let def = match load(&args.definition)? {
        Ok(def) => def,
        Err(e) => {
            for d in &e.diagnostics {
                eprintln!("error: {d}");
            }
            anyhow::bail!("{} does not load", args.definition.display());
        }
    };
    let body = match &args.trigger_body {
        None => Value::Null,
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?,
                None => text.clone(),
            };
            serde_json::from_str(&text).context("--trigger-body is not JSON")?
        }
    };
    let env = CliEnv::new(args, &def)?;
    Ok(run_flow(&def, TriggerOutputs { headers: Map::new(), body }, &env).await)
}

/// Prints each action with its status, duration and outputs, then the response.
pub(crate) fn print_record(record: &RunRecord) -> anyhow::Result<()> {
    for a in &record.actions {
        let iteration = if a.iteration.is_empty() {
            String::new()
        } else {
            format!("[{}]", a.iteration.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
        };
        let ms = (a.ended - a.started).num_milliseconds();
        println!("{:<9} {}{iteration} ({ms} ms) {}", a.status.as_str(), a.name, compact(&a.outputs));
        if let Some(error) = &a.error {
            println!("          error: {}", compact(error));
        }
    }
    if let Some(r) = &record.response {
        println!("response {}: {}", r.status_code, serde_json::to_string_pretty(&r.body)?);
    }
    let error = record.error.as_ref().map(|e| format!(": {}", compact(e))).unwrap_or_default();
    println!("run {}{error}", record.status.as_str());
    Ok(())
}

fn compact(v: &Value) -> String {
    let text = if v.is_null() { String::new() } else { v.to_string() };
    if text.chars().count() > 200 { text.chars().take(200).collect::<String>() + "…" } else { text }
}

/// A connection name's package and connection.
struct Connection {
    connector: CompiledConnector,
    values: ConnectionValues,
}

/// Connector calls through patchbay-runtime; `Http` actions through the same guarded transport.
struct CliEnv {
    runtime: Runtime,
    transport: Transport,
    connections: HashMap<String, Connection>,
}

fn pairs(list: &[String], flag: &str) -> anyhow::Result<HashMap<String, String>> {
    list.iter()
        .map(|p| {
            let (k, v) = p.split_once('=').with_context(|| format!("--{flag} `{p}` is not NAME=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

impl CliEnv {
    fn new(args: &RunArgs, def: &Definition) -> anyhow::Result<Self> {
        let packages = pairs(&args.packages, "package")?;
        let files = pairs(&args.connections, "connection")?;
        let bases = pairs(&args.base_urls, "base-url")?;
        let mut connections = HashMap::new();
        for name in def.connection_names() {
            let path = packages
                .get(&name)
                .with_context(|| format!("the flow uses connection `{name}`: pass --package {name}=PATH"))?;
            let loaded = patchbay_spec::load_path(Path::new(path));
            let mut connector = loaded.connector.with_context(|| {
                format!("{path} could not be loaded; run `patchbay connector validate` on it")
            })?;
            if let Some(base) = bases.get(&name) {
                point_at(&mut connector, base)?;
            }
            let values = read_connection(files.get(&name).map(Path::new), &connector, &name)?;
            connections.insert(
                name,
                Connection { connector: CompiledConnector::compile(Arc::new(connector)), values },
            );
        }
        let options = TransportOptions {
            allow_loopback: args.allow_loopback,
            allow_private: args.allow_private,
            ..TransportOptions::default()
        };
        let runtime = Runtime::new(options, RuntimeOptions::default())?;
        let transport = runtime.transport.clone();
        Ok(CliEnv { runtime, transport, connections })
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: Map<String, Value>,
        body: Option<Value>,
    ) -> Result<ActionResult, String> {
        let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let url = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not a URL: {e}"))?;
        let mut request = WireRequest::new(method, url);
        for (k, v) in &headers {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
            request.headers.insert(name, http::HeaderValue::from_str(&text).map_err(|e| e.to_string())?);
        }
        if let Some(body) = body {
            let bytes = match body {
                Value::String(s) => s.into_bytes(),
                other => {
                    request
                        .headers
                        .entry(http::header::CONTENT_TYPE)
                        .or_insert(http::HeaderValue::from_static("application/json"));
                    other.to_string().into_bytes()
                }
            };
            request.body = bytes.into();
        }
        let response = self.transport.send(request).await.map_err(|e| e.to_string())?;
        let body = serde_json::from_slice(&response.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()));
        Ok(ActionResult {
            status_code: response.status.as_u16(),
            headers: header_map(&response.headers),
            body,
        })
    }
}

fn header_map(headers: &http::HeaderMap) -> Map<String, Value> {
    headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_str().unwrap_or_default().to_string())))
        .collect()
}

impl FlowEnvironment for CliEnv {
    fn invoke<'a>(
        &'a self,
        connection_name: &'a str,
        operation_id: &'a str,
        inputs: Map<String, Value>,
        _action_key: &'a str,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let c = self
                .connections
                .get(connection_name)
                .ok_or_else(|| format!("no package for connection `{connection_name}`"))?;
            let call = Call { connector: &c.connector, operation_id, connection: &c.values, inputs: &inputs };
            let invoked = self.runtime.invoke(call).await.map_err(|e| e.to_string())?;
            match invoked.outcome {
                Outcome::Done(r) => Ok(Invocation::Done(ActionResult {
                    status_code: r.status.as_u16(),
                    headers: header_map(&r.headers),
                    body: r.body.to_value(),
                })),
                // The CLI's runtime waits for completion, so this does not happen.
                Outcome::Pending { pending, .. } => Err(format!("still running; poll {}", pending.location)),
            }
        })
    }

    fn http<'a>(
        &'a self,
        method: &'a str,
        uri: &'a str,
        mut headers: Map<String, Value>,
        body: Option<Value>,
        action_key: &'a str,
    ) -> BoxFuture<'a, Result<ActionResult, String>> {
        // The idempotency headers of docs/flows.md, unless the action sets them itself.
        let run_id = action_key.split('/').next().unwrap_or_default();
        for (name, value) in [("x-ms-client-tracking-id", run_id), ("Idempotency-Key", action_key)] {
            if !headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                headers.insert(name.to_string(), Value::String(value.to_string()));
            }
        }
        Box::pin(self.send(method, uri, headers, body))
    }
}
