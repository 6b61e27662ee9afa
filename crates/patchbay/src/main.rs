//! The patchbay command-line interface: it turns arguments into values and calls the library crates.

mod connector;
mod render;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// patchbay: a self-hosted platform for custom connectors.
#[derive(Parser)]
#[command(name = "patchbay", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with connector definitions: validate, convert, inspect.
    #[command(subcommand)]
    Connector(connector::ConnectorCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Connector(command) => connector::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
