//! `patchbay gateway`: run an on-premises gateway agent (no subcommand), or manage gateways on a
//! server (`create`, `list`, `delete`).

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use patchbay_gateway::agent::{AgentOptions, AllowList};
use reqwest::Method;
use serde_json::{Value, json};

use crate::remote::table::{cell, print_table};
use crate::remote::{Target, TargetArgs, runtime};

/// `patchbay gateway`: the agent's arguments, or a management subcommand.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    command: Option<GatewayCommand>,
    #[command(flatten)]
    agent: AgentArgs,
}

/// The gateway management subcommands.
#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Create a gateway on the server and print its token (shown once).
    Create(CreateArgs),
    /// List the gateways of your environment with their connected agents and traffic.
    List(TargetArgs),
    /// Delete a gateway; connections bound to it then call directly.
    Delete(DeleteArgs),
}

/// Arguments of the agent.
#[derive(clap::Args)]
pub struct AgentArgs {
    /// The server's base URL (https:// for TLS).
    #[arg(long, env = "PATCHBAY_GATEWAY_SERVER", required = true)]
    server: Option<String>,
    /// The gateway token (`pbg_…`, from `patchbay gateway create`).
    #[arg(long, env = "PATCHBAY_GATEWAY_TOKEN", hide_env_values = true, required = true)]
    token: Option<String>,
    /// This agent's name, shown in the gateway's status (default: the host name).
    #[arg(long)]
    name: Option<String>,
    /// A destination the agent may reach, as host:port; repeatable. Nothing else is reachable.
    #[arg(long = "allow", value_name = "HOST:PORT", required = true)]
    allow: Vec<String>,
}

/// Arguments of `gateway create`.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// The gateway's name, unique in your environment.
    name: String,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `gateway delete`.
#[derive(clap::Args)]
pub struct DeleteArgs {
    /// The gateway's id (see `patchbay gateway list`).
    id: String,
    #[command(flatten)]
    target: Target,
}

/// Runs `patchbay gateway …`.
pub fn run(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    runtime.block_on(async {
        match args.command {
            None => agent(args.agent).await,
            Some(GatewayCommand::Create(args)) => create(&args).await,
            Some(GatewayCommand::List(args)) => list(&args.target).await,
            Some(GatewayCommand::Delete(args)) => {
                let client = args.target.client()?;
                client
                    .send(Method::DELETE, &format!("/api/gateways/{}", args.id), None)
                    .await?
                    .into_result()?;
                println!("deleted gateway {}", args.id);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Runs the agent until it is stopped (Ctrl-C) or its token is refused.
async fn agent(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let server = args.server.context("--server is required")?;
    let server = server.parse().with_context(|| format!("--server {server:?} is not a URL"))?;
    let token = args.token.context("--token is required")?;
    let allow = AllowList::parse(&args.allow)?;
    let name = args.name.unwrap_or_else(host_name);
    crate::serve::init_logs(crate::serve::LogFormat::Human, "patchbay::gateway=info")?;
    eprintln!("gateway agent `{name}` connecting to {server}; allowed: {allow}");
    let options = AgentOptions::new(server, token, name, allow);
    tokio::select! {
        result = patchbay_gateway::agent::run(options) => {
            result?;
            Ok(ExitCode::SUCCESS)
        }
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

/// The machine's host name, or `agent`.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "agent".to_owned())
}

/// `gateway create`.
async fn create(args: &CreateArgs) -> anyhow::Result<ExitCode> {
    let client = args.target.client()?;
    let created =
        client.send(Method::POST, "/api/gateways", Some(&json!({"name": args.name}))).await?.into_result()?;
    println!("created gateway {} ({})", cell(&created["name"]), cell(&created["id"]));
    println!("token (shown once): {}", cell(&created["token"]));
    println!(
        "run an agent inside the private network:\n  patchbay gateway --server <this server's URL> --token <token> --allow <host:port>"
    );
    Ok(ExitCode::SUCCESS)
}

/// `gateway list`.
async fn list(target: &Target) -> anyhow::Result<ExitCode> {
    let listed = target.client()?.get("/api/gateways").await?.into_result()?;
    let rows: Vec<[String; 5]> = listed
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let status = &g["status"];
            let agents: Vec<String> = status["agents"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|a| cell(&a["name"]))
                .collect();
            [
                cell(&g["id"]),
                cell(&g["name"]),
                if agents.is_empty() { "-".to_owned() } else { agents.join(", ") },
                format!("{} ({} failed)", cell(&status["requests"]), cell(&status["failures"])),
                format!("{} / {}", bytes(&status["bytesSent"]), bytes(&status["bytesReceived"])),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!("no gateways yet; create one with `patchbay gateway create <name>`");
    } else {
        print_table(["ID", "NAME", "AGENTS", "REQUESTS", "SENT / RECEIVED"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// A byte count for people.
fn bytes(value: &Value) -> String {
    let n = value.as_u64().unwrap_or(0) as f64;
    match n {
        n if n >= 1e9 => format!("{:.1} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.1} kB", n / 1e3),
        n => format!("{n} B"),
    }
}
