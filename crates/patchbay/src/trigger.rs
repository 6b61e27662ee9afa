//! `patchbay trigger …`: polling and webhook triggers on a running server — create, list, show,
//! enable, disable, delete, list or follow their events, and poll one now with the exchange shown.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::remote::table::{cell, print_table};
use crate::remote::{Client, Target, TargetArgs, runtime};

/// The trigger subcommands.
#[derive(Subcommand)]
pub enum TriggerCommand {
    /// Create a trigger on one of a connection's trigger operations (enabled at once).
    Create(CreateArgs),
    /// List your triggers.
    List(TargetArgs),
    /// Show a trigger: state, schedule, last poll and webhook subscriptions.
    Show(IdArgs),
    /// Start polling, or subscribe a webhook trigger.
    Enable(IdArgs),
    /// Stop polling, or unsubscribe a webhook trigger at its backend.
    Disable(IdArgs),
    /// Delete a trigger (a webhook trigger unsubscribes first).
    Delete(DeleteArgs),
    /// Print a trigger's stored events as JSON lines.
    Events(EventsArgs),
    /// Follow a trigger's events as they arrive, as JSON lines, until Ctrl-C.
    Watch(EventsArgs),
    /// Run one poll of a polling trigger now and show the request, the response and the outcome.
    PollNow(IdArgs),
}

/// One trigger.
#[derive(clap::Args)]
pub struct IdArgs {
    /// The trigger's id (see `patchbay trigger list`).
    id: String,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `trigger create`.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// The connection whose connector has the trigger operation.
    #[arg(long)]
    connection: String,
    /// The trigger operation's id (an operation with `x-ms-trigger`).
    #[arg(long)]
    operation: String,
    /// An input as NAME=VALUE (VALUE is JSON when it parses, else text); repeatable.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    inputs: Vec<String>,
    /// All inputs as a JSON object from a file (`--input` values are added over it).
    #[arg(long, value_name = "FILE")]
    inputs_file: Option<PathBuf>,
    /// Seconds between polls (default: the server's, 3 minutes; at least its minimum, 1 s).
    #[arg(long, value_name = "SECONDS")]
    every: Option<f64>,
    /// One event per element of this array, e.g. "@triggerBody()?['value']".
    #[arg(long)]
    split_on: Option<String>,
    /// Skip items whose id at this path (e.g. `id`) was seen before.
    #[arg(long, value_name = "PATH")]
    dedup: Option<String>,
    /// Create it disabled.
    #[arg(long)]
    disabled: bool,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `trigger delete`.
#[derive(clap::Args)]
pub struct DeleteArgs {
    /// The trigger's id.
    id: String,
    /// Delete even when its webhook subscription could not be removed at the backend.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `trigger events` and `trigger watch`.
#[derive(clap::Args)]
pub struct EventsArgs {
    /// The trigger's id.
    id: String,
    /// Start after this event sequence number (0: from the first; `watch` default: only new ones).
    #[arg(long)]
    after: Option<i64>,
    #[command(flatten)]
    target: Target,
}

/// Runs a trigger subcommand.
pub fn run(command: TriggerCommand) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    runtime.block_on(async {
        match command {
            TriggerCommand::Create(args) => create(&args).await,
            TriggerCommand::List(args) => list(&args.target.client()?).await,
            TriggerCommand::Show(args) => show(&args.target.client()?, "GET", &args.id, "").await,
            TriggerCommand::Enable(args) => show(&args.target.client()?, "POST", &args.id, "/enable").await,
            TriggerCommand::Disable(args) => show(&args.target.client()?, "POST", &args.id, "/disable").await,
            TriggerCommand::Delete(args) => delete(&args).await,
            TriggerCommand::Events(args) => events(&args, false).await,
            TriggerCommand::Watch(args) => events(&args, true).await,
            TriggerCommand::PollNow(args) => poll_now(&args.target.client()?, &args.id).await,
        }
    })
}

/// `trigger create`.
async fn create(args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = match &args.inputs_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                _ => anyhow::bail!("{} must hold a JSON object of inputs", path.display()),
            }
        }
        None => Map::new(),
    };
    for pair in &args.inputs {
        let (name, value) =
            pair.split_once('=').with_context(|| format!("`{pair}`: write an input as NAME=VALUE"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        inputs.insert(name.to_owned(), value);
    }
    let body = json!({
        "operationId": args.operation,
        "inputs": inputs,
        "recurrenceSeconds": args.every,
        "splitOn": args.split_on,
        "dedupPath": args.dedup,
        "enabled": !args.disabled,
    });
    let client = args.target.client()?;
    let path = format!("/api/connections/{}/triggers", args.connection);
    let created = client.send(Method::POST, &path, Some(&body)).await?.into_result()?;
    print_trigger(&created);
    println!("follow its events with `patchbay trigger watch {}`", cell(&created["id"]));
    Ok(ExitCode::SUCCESS)
}

/// `trigger list`.
async fn list(client: &Client) -> anyhow::Result<ExitCode> {
    let listed = client.get("/api/triggers").await?.into_result()?;
    let rows: Vec<[String; 6]> = listed
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let enabled = if t["enabled"] == json!(true) { "enabled" } else { "disabled" };
            [
                cell(&t["id"]),
                cell(&t["kind"]),
                cell(&t["operationId"]),
                enabled.to_owned(),
                cell(&t["lastStatus"]),
                cell(&t["connectionId"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!(
            "no triggers yet; create one with `patchbay trigger create --connection <id> --operation <id>`"
        );
    } else {
        print_table(["ID", "KIND", "OPERATION", "STATE", "LAST POLL", "CONNECTION"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// `trigger show|enable|disable`: one call, then the trigger.
async fn show(client: &Client, method: &str, id: &str, suffix: &str) -> anyhow::Result<ExitCode> {
    let method = Method::from_bytes(method.as_bytes())?;
    let answer = client.send(method, &format!("/api/triggers/{id}{suffix}"), None).await?.into_result()?;
    print_trigger(&answer);
    let mut code = ExitCode::SUCCESS;
    for removal in answer["removals"].as_array().map(Vec::as_slice).unwrap_or_default() {
        if removal["removed"] != json!(true) {
            eprintln!(
                "warning: subscription {} was not removed: {}",
                cell(&removal["subscription"]),
                cell(&removal["error"])
            );
            code = ExitCode::from(1);
        }
    }
    Ok(code)
}

/// Prints a trigger's main facts.
fn print_trigger(trigger: &Value) {
    println!(
        "trigger {} ({}, {})",
        cell(&trigger["id"]),
        cell(&trigger["kind"]),
        cell(&trigger["operationId"])
    );
    let enabled = if trigger["enabled"] == json!(true) { "enabled" } else { "disabled" };
    println!("  {enabled}, every {} s", cell(&trigger["recurrenceSeconds"]));
    if !trigger["lastStatus"].is_null() {
        println!("  last poll: {}", cell(&trigger["lastStatus"]));
    }
    if !trigger["lastError"].is_null() {
        println!("  last error: {}", cell(&trigger["lastError"]));
    }
    for subscription in trigger["subscriptions"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!(
            "  subscription {}: {} at {}",
            cell(&subscription["id"]),
            cell(&subscription["status"]),
            cell(&subscription["location"])
        );
    }
}

/// `trigger delete`.
async fn delete(args: &DeleteArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let path = format!("/api/triggers/{}{}", args.id, if args.force { "?force=true" } else { "" });
    client.send(Method::DELETE, &path, None).await?.into_result()?;
    println!("deleted trigger {}", args.id);
    Ok(ExitCode::SUCCESS)
}

/// `trigger events` (what is stored) and `trigger watch` (long-polls for more until Ctrl-C).
async fn events(args: &EventsArgs, follow: bool) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let mut after = match (args.after, follow) {
        (Some(after), _) => after,
        (None, false) => 0,
        (None, true) => latest_seq(&client, &args.id).await?,
    };
    if follow {
        eprintln!("watching trigger {} (Ctrl-C to stop)", args.id);
    }
    loop {
        let wait = if follow { 25 } else { 0 };
        let path = format!("/api/triggers/{}/events?after={after}&limit=500&wait={wait}", args.id);
        let page = tokio::select! {
            page = client.get(&path) => page?.into_result()?,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        };
        let listed = page["events"].as_array().cloned().unwrap_or_default();
        for event in &listed {
            println!("{}", serde_json::to_string(event)?);
        }
        after = page["next"].as_i64().unwrap_or(after);
        if listed.is_empty() && !follow {
            return Ok(ExitCode::SUCCESS);
        }
        if listed.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The sequence number of the trigger's newest event (0 when none), so `watch` shows only new ones.
async fn latest_seq(client: &Client, id: &str) -> anyhow::Result<i64> {
    let mut after = 0;
    loop {
        let page = client
            .get(&format!("/api/triggers/{id}/events?after={after}&limit=1000"))
            .await?
            .into_result()?;
        let next = page["next"].as_i64().unwrap_or(after);
        if next == after {
            return Ok(after);
        }
        after = next;
    }
}

/// `trigger poll-now`.
async fn poll_now(client: &Client, id: &str) -> anyhow::Result<ExitCode> {
    let report = client.send(Method::POST, &format!("/api/triggers/{id}/poll"), None).await?.into_result()?;
    for exchange in report["exchanges"].as_array().map(Vec::as_slice).unwrap_or_default() {
        println!("{}", cell(&exchange["request"]));
        println!();
        match exchange["response"].as_str() {
            Some(response) => println!("{response}"),
            None => println!("(no response)"),
        }
        println!();
    }
    println!(
        "outcome: {} (backend status {}), {} event(s) stored, {} duplicate(s) skipped",
        cell(&report["outcome"]),
        cell(&report["backendStatus"]),
        cell(&report["eventsStored"]),
        cell(&report["duplicates"]),
    );
    if let Some(error) = report["error"].as_str() {
        println!("error: {error}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
