//! `patchbay connector …`: validate, convert and inspect connector definitions; create, update,
//! list, download and share them on a server.

mod convert;
mod inspect;
mod invoke;
mod validate;

use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// The `connector` subcommands.
#[derive(Subcommand)]
pub enum ConnectorCommand {
    /// Check packages, Swagger 2.0, OpenAPI 3 or Postman files; exit status 1 when any has errors.
    ///
    /// A folder that is not itself a package is searched for package folders, so a whole
    /// repository of connectors can be checked at once.
    Validate(validate::Args),
    /// Convert a package, OpenAPI 3 or Postman file into a Power Platform package folder.
    Convert {
        /// The package folder or file to convert.
        input: PathBuf,
        /// The folder to write the package into (created if missing).
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Call one operation and print its response; `--verbose` shows the exact exchange, secrets masked.
    Invoke(invoke::Args),
    /// Show a connector's operations: id, kind, method, path and summary.
    Inspect {
        /// The package folder or file.
        path: PathBuf,
    },
    /// Upload a package to the server (paconn create); writes the new id into settings.json.
    Create(crate::remote::CreateArgs),
    /// Upload a new revision of a connector on the server (paconn update).
    Update(crate::remote::UpdateArgs),
    /// List the connectors on the server you can see.
    List(crate::remote::ListArgs),
    /// Download a connector's current files from the server (paconn download).
    Download(crate::remote::DownloadArgs),
    /// Share a connector on the server with a user or the whole environment.
    Share(crate::remote::ShareArgs),
}

/// Runs a `connector` subcommand.
pub fn run(command: ConnectorCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConnectorCommand::Validate(args) => validate::run(&args),
        ConnectorCommand::Convert { input, out } => convert::run(&input, &out),
        ConnectorCommand::Inspect { path } => inspect::run(&path),
        ConnectorCommand::Invoke(args) => invoke::run(&args),
        ConnectorCommand::Create(args) => crate::remote::create(&args),
        ConnectorCommand::Update(args) => crate::remote::update(&args),
        ConnectorCommand::List(args) => crate::remote::list(&args),
        ConnectorCommand::Download(args) => crate::remote::download(&args),
        ConnectorCommand::Share(args) => crate::remote::share(&args),
    }
}
