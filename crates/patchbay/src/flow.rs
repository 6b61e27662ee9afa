//! `patchbay flow`: validate a workflow definition, or run it once in memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::connection_file::{point_at, read_connection};
use anyhow::Context;
use patchbay_engine::{Definition, RunRecord, RunStatus, TriggerOutputs, run_flow};
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::transport::TransportOptions;
use patchbay_runtime::{Runtime, RuntimeOptions};
use patchbay_server::flows::env::{FlowConnection, PipelineEnv};
use serde_json::{Map, Value};

/// `patchbay flow` subcommands.
#[derive(clap::Subcommand)]
pub enum FlowCommand {
    /// Run a flow once, in memory, and print each action.
    Run(RunArgs),
    /// Load a flow definition and print its diagnostics.
    Validate(ValidateArgs),
    /// Create (or with --update, revise) a flow on the server and enable it.
    Deploy(crate::flow_remote::DeployArgs),
    /// List your flows on the server.
    List(crate::remote::TargetArgs),
    /// Enable a flow: its trigger starts runs.
    Enable(crate::flow_remote::IdArgs),
    /// Disable a flow: its trigger stops (runs under way go on).
    Disable(crate::flow_remote::IdArgs),
    /// Delete a flow and its run history.
    Delete(crate::flow_remote::IdArgs),
    /// Start a run through the flow's Request trigger; prints its Response.
    Start(crate::flow_remote::StartArgs),
    /// List a flow's runs, newest first.
    Runs(crate::flow_remote::IdArgs),
    /// Show a run: each action's status, duration and outputs.
    ShowRun(crate::flow_remote::IdArgs),
    /// Run the flow again with a run's trigger outputs.
    Resubmit(crate::flow_remote::IdArgs),
    /// Cancel a run.
    Cancel(crate::flow_remote::IdArgs),
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
    use crate::flow_remote as remote;
    match command {
        FlowCommand::Validate(args) => validate(&args),
        FlowCommand::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(run_once(&args))
        }
        FlowCommand::Deploy(args) => remote::blocking(remote::deploy(&args)),
        FlowCommand::List(args) => remote::blocking(remote::list(&args)),
        FlowCommand::Enable(args) => remote::blocking(remote::switch(&args, "enable")),
        FlowCommand::Disable(args) => remote::blocking(remote::switch(&args, "disable")),
        FlowCommand::Delete(args) => remote::blocking(remote::delete(&args)),
        FlowCommand::Start(args) => remote::blocking(remote::start(&args)),
        FlowCommand::Runs(args) => remote::blocking(remote::runs(&args)),
        FlowCommand::ShowRun(args) => remote::blocking(remote::show_run(&args)),
        FlowCommand::Resubmit(args) => remote::blocking(remote::resubmit(&args)),
        FlowCommand::Cancel(args) => remote::blocking(remote::cancel(&args)),
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
    let env = environment(args, &def)?;
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

/// A value on one line, at most 200 characters.
pub(crate) fn compact(v: &Value) -> String {
    let text = if v.is_null() { String::new() } else { v.to_string() };
    if text.chars().count() > 200 { text.chars().take(200).collect::<String>() + "…" } else { text }
}

/// `NAME=VALUE` arguments of `flag` as a map.
fn pairs(list: &[String], flag: &str) -> anyhow::Result<HashMap<String, String>> {
    list.iter()
        .map(|p| {
            let (k, v) = p.split_once('=').with_context(|| format!("--{flag} `{p}` is not NAME=VALUE"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The host of a local run: each connection the flow uses from `--package` and `--connection`
/// files, called through one runtime that waits for long-running calls in process.
fn environment(args: &RunArgs, def: &Definition) -> anyhow::Result<PipelineEnv> {
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
            FlowConnection {
                connector: Arc::new(CompiledConnector::compile(Arc::new(connector))),
                values,
                relay: None,
            },
        );
    }
    let options = TransportOptions {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
        ..TransportOptions::default()
    };
    let runtime = Runtime::new(options, RuntimeOptions::default())?;
    Ok(PipelineEnv::new(runtime, std::sync::Arc::new(connections)))
}
