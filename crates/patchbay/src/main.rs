//! The patchbay command-line interface: it turns arguments into values and calls the library crates.

mod connection_file;
mod connector;
mod demo;
mod demo_server;
mod flow;
mod flow_remote;
mod gateway;
mod login;
mod package_folders;
mod remote;
mod render;
mod serve;
mod trigger;
mod tunnel;

use clap::{Parser, Subcommand};

/// mimalloc: the request pipeline allocates small objects on many threads, where glibc's
/// allocator costs about a fifth of the throughput (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// patchbay: a self-hosted platform for custom connectors.
#[derive(Parser)]
#[command(name = "patchbay", version, about, long_about = None, propagate_version = true, term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the sample API, import its connector and show what patchbay does with it.
    Demo(demo::Args),
    /// Work with connector definitions: validate, convert, inspect.
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
    /// Check an API token against a server and save it as a profile for the remote commands.
    Login(login::LoginArgs),
    /// Forget a saved server profile.
    Logout(login::LogoutArgs),
    /// Run the server: the management API and the invoke API.
    #[command(
        after_help = "Environment:\n  PATCHBAY_ADMIN_TOKEN  An API token for the admin, chosen by you \
        (`pb_` and at least 22 more characters): the first start creates the admin with it instead of \
        printing a random token; later starts make it valid for the admin once (a new value replaces \
        the previous one). It is never printed or logged; there is no flag for it."
    )]
    Serve(serve::Args),
    /// Work with flows: validate or run one locally; deploy, start and inspect them on a server.
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Work with triggers on a server: create, list, follow events, poll now.
    #[command(subcommand)]
    Trigger(trigger::TriggerCommand),
    /// Run an on-premises gateway agent (`--server --token --allow`), or manage gateways.
    Gateway(gateway::GatewayArgs),
    /// Expose a local API at a public URL on the server, showing requests as they pass.
    Tunnel(tunnel::TunnelArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Connector(command) => connector::run(command),
        Command::Login(args) => login::login(&args),
        Command::Logout(args) => login::logout(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Flow(command) => flow::run(command),
        Command::Trigger(command) => trigger::run(command),
        Command::Gateway(args) => gateway::run(args),
        Command::Tunnel(args) => tunnel::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
