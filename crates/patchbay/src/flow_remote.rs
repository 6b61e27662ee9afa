//! `patchbay flow deploy|list|enable|disable|delete|start|runs|show-run|resubmit|cancel`: flows on
//! a running server (the local `flow run` and `flow validate` are in `flow.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::flow::compact;
use crate::remote::table::{cell, print_table};
use crate::remote::{Target, TargetArgs, runtime};

/// Arguments of `flow deploy`.
#[derive(clap::Args)]
pub struct DeployArgs {
    /// The definition file (Logic Apps, bare, or a Power Automate export).
    definition: PathBuf,
    /// The flow's name (default: the file name without extension).
    #[arg(long)]
    name: Option<String>,
    /// A connection the definition refers to, as REFERENCE=CONNECTION_ID; repeatable.
    #[arg(long = "connection", value_name = "REFERENCE=ID")]
    connections: Vec<String>,
    /// At most this many runs at once.
    #[arg(long)]
    concurrency: Option<i64>,
    /// Update the flow with this id (a new revision) instead of creating one.
    #[arg(long, value_name = "FLOW_ID")]
    update: Option<String>,
    /// Leave it disabled (its trigger does not start runs).
    #[arg(long)]
    disabled: bool,
    #[command(flatten)]
    target: Target,
}

/// One flow or run, by id.
#[derive(clap::Args)]
pub struct IdArgs {
    /// The id (see `patchbay flow list` and `patchbay flow runs`).
    id: String,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `flow start`.
#[derive(clap::Args)]
pub struct StartArgs {
    /// The flow's id.
    id: String,
    /// The trigger body: JSON, or @FILE.
    #[arg(long)]
    body: Option<String>,
    #[command(flatten)]
    target: Target,
}

/// Runs one remote command to its end.
pub fn blocking(command: impl Future<Output = anyhow::Result<ExitCode>>) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(command)
}

/// `flow delete`.
pub async fn delete(args: &IdArgs) -> anyhow::Result<ExitCode> {
    let path = format!("/api/flows/{}", args.id);
    args.target.client()?.send(Method::DELETE, &path, None).await?.into_result()?;
    println!("deleted flow {}", args.id);
    Ok(ExitCode::SUCCESS)
}

/// `flow resubmit`.
pub async fn resubmit(args: &IdArgs) -> anyhow::Result<ExitCode> {
    let path = format!("/api/runs/{}/resubmit", args.id);
    let run = args.target.client()?.send(Method::POST, &path, None).await?.into_result()?;
    println!("queued run {}", cell(&run["id"]));
    Ok(ExitCode::SUCCESS)
}

/// `flow cancel`.
pub async fn cancel(args: &IdArgs) -> anyhow::Result<ExitCode> {
    let path = format!("/api/runs/{}/cancel", args.id);
    let run = args.target.client()?.send(Method::POST, &path, None).await?.into_result()?;
    println!("run {}: {}", cell(&run["id"]), cell(&run["status"]));
    Ok(ExitCode::SUCCESS)
}

/// `flow deploy`: creates (or updates) the flow, then enables it unless `--disabled`.
pub async fn deploy(args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let path = &args.definition;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let definition: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let mut connections = Map::new();
    for pair in &args.connections {
        let (name, id) =
            pair.split_once('=').with_context(|| format!("`{pair}`: write REFERENCE=CONNECTION_ID"))?;
        connections.insert(name.to_owned(), Value::String(id.to_owned()));
    }
    let name = args.name.clone().or_else(|| path.file_stem().map(|stem| stem.to_string_lossy().into_owned()));
    let body = json!({"name": name, "definition": definition, "connections": connections, "concurrency": args.concurrency});
    let client = args.target.client()?;
    let answer = match &args.update {
        Some(id) => client.send(Method::PUT, &format!("/api/flows/{id}"), Some(&body)).await?,
        None => client.send(Method::POST, "/api/flows", Some(&body)).await?,
    };
    let flow = match answer.into_inner() {
        Ok(flow) => flow,
        Err(failure) => {
            for diagnostic in &failure.diagnostics {
                eprintln!("error: {}", cell(&diagnostic["message"]));
            }
            return Err(failure.into());
        }
    };
    let id = cell(&flow["id"]);
    println!("flow {id} ({}), revision {}", cell(&flow["name"]), cell(&flow["revision"]));
    if !args.disabled && flow["enabled"] != json!(true) {
        client.send(Method::POST, &format!("/api/flows/{id}/enable"), None).await?.into_result()?;
        println!("enabled");
    }
    Ok(ExitCode::SUCCESS)
}

/// `flow list`.
pub async fn list(args: &TargetArgs) -> anyhow::Result<ExitCode> {
    let flows = args.target.client()?.get("/api/flows").await?.into_result()?;
    let rows: Vec<[String; 4]> = flows
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let state = if f["enabled"] == json!(true) { "enabled" } else { "disabled" };
            [cell(&f["id"]), cell(&f["name"]), cell(&f["revision"]), state.to_owned()]
        })
        .collect();
    if rows.is_empty() {
        println!("no flows yet; deploy one with `patchbay flow deploy <definition> --connection <ref>=<id>`");
    } else {
        print_table(["ID", "NAME", "REVISION", "STATE"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// `flow enable|disable`.
pub async fn switch(args: &IdArgs, action: &str) -> anyhow::Result<ExitCode> {
    let path = format!("/api/flows/{}/{action}", args.id);
    let flow = args.target.client()?.send(Method::POST, &path, None).await?.into_result()?;
    let state = if flow["enabled"] == json!(true) { "enabled" } else { "disabled" };
    println!("flow {}: {state}", cell(&flow["id"]));
    Ok(ExitCode::SUCCESS)
}

/// `flow start`: one run through the flow's Request trigger; prints its Response or its id.
pub async fn start(args: &StartArgs) -> anyhow::Result<ExitCode> {
    let body = match &args.body {
        None => Value::Null,
        Some(text) => {
            let text = match text.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?,
                None => text.clone(),
            };
            serde_json::from_str(&text).context("--body is not JSON")?
        }
    };
    let path = format!("/api/flows/{}/run", args.id);
    let answer = args.target.client()?.send(Method::POST, &path, Some(&body)).await?.into_result()?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(ExitCode::SUCCESS)
}

/// `flow runs`: the flow's runs, newest first.
pub async fn runs(args: &IdArgs) -> anyhow::Result<ExitCode> {
    let runs = args.target.client()?.get(&format!("/api/flows/{}/runs", args.id)).await?.into_result()?;
    let rows: Vec<[String; 4]> = runs
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| [cell(&r["id"]), cell(&r["status"]), cell(&r["created_ms"]), cell(&r["ended_ms"])])
        .collect();
    if rows.is_empty() {
        println!("no runs yet");
    } else {
        print_table(["RUN", "STATUS", "CREATED (ms)", "ENDED (ms)"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// `flow show-run`: the run and each action's status, duration and outputs.
pub async fn show_run(args: &IdArgs) -> anyhow::Result<ExitCode> {
    let detail = args.target.client()?.get(&format!("/api/runs/{}", args.id)).await?.into_result()?;
    let run = &detail["run"];
    println!("run {} of flow {}: {}", cell(&run["id"]), cell(&run["flow_id"]), cell(&run["status"]));
    for action in detail["actions"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let ms = action["ended_ms"].as_i64().zip(action["started_ms"].as_i64()).map(|(e, s)| e - s);
        let duration = ms.map_or_else(String::new, |ms| format!(" ({ms} ms)"));
        println!(
            "{:<9} {}{duration} {}",
            cell(&action["status"]),
            cell(&action["key"]),
            compact(&action["outputs"])
        );
        if !action["error"].is_null() {
            println!("          error: {}", compact(&action["error"]));
        }
    }
    if !run["error"].is_null() {
        println!("error: {}", compact(&run["error"]));
    }
    Ok(ExitCode::SUCCESS)
}
