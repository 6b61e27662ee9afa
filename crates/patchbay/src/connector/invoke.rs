//! `patchbay connector invoke`: call one operation of a connector and show the exact exchange.

use crate::connection_file::{point_at, read_connection};
use anyhow::Context;
use patchbay_runtime::bind::Inputs;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::transport::TransportOptions;
use patchbay_runtime::{Call, Outcome, Runtime, RuntimeOptions};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `invoke`.
#[derive(clap::Args)]
pub struct Args {
    /// The package folder or file.
    package: PathBuf,
    /// The operation to call.
    operation: String,
    /// A connection file: `{"parameterSet": …, "values": {"api_key": …}, "token": {"access_token": …}}`.
    #[arg(long, short)]
    connection: Option<PathBuf>,
    /// A parameter, `name=value` (the value is read as JSON when it parses, else as text). Repeatable.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// The body: `@file.json` or inline JSON.
    #[arg(long)]
    body: Option<String>,
    /// Print the exact requests and responses (secrets masked) to standard error.
    #[arg(long, short)]
    verbose: bool,
    /// Call this base URL (`scheme://host[:port][/basePath]`) instead of the package's host.
    #[arg(long)]
    base_url: Option<String>,
    /// Allow calls to loopback addresses (local APIs); refused by default.
    #[arg(long)]
    allow_loopback: bool,
    /// Allow calls to private and link-local addresses; refused by default.
    #[arg(long)]
    allow_private: bool,
    /// Return the pending state of a 202 answer instead of polling until done.
    #[arg(long)]
    no_wait: bool,
    /// Follow next links of a pageable operation up to this many items.
    #[arg(long)]
    pages: Option<usize>,
}

/// Runs `invoke`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(invoke(args))
}

async fn invoke(args: &Args) -> anyhow::Result<ExitCode> {
    let loaded = patchbay_spec::load_path(&args.package);
    let mut connector = loaded.connector.with_context(|| {
        format!("{} could not be loaded; run `patchbay connector validate` on it", args.package.display())
    })?;
    if let Some(base) = &args.base_url {
        point_at(&mut connector, base)?;
    }
    let connection = read_connection(args.connection.as_deref(), &connector, "cli")?;
    let inputs = read_inputs(&args.params, args.body.as_deref())?;
    let compiled = CompiledConnector::compile(Arc::new(connector));
    let options = TransportOptions {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
        ..TransportOptions::default()
    };
    let runtime_options = RuntimeOptions {
        wait_for_completion: !args.no_wait,
        page_limit: args.pages,
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::new(options, runtime_options)?;
    let call = Call {
        connector: &compiled,
        operation_id: &args.operation,
        connection: &connection,
        inputs: &inputs,
    };
    let invoked = runtime.invoke(call).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("is not allowed") {
            anyhow::anyhow!("{text}\nhint: pass --allow-loopback (or --allow-private) to call an API on this machine or network")
        } else {
            anyhow::Error::new(e)
        }
    })?;
    if args.verbose {
        for exchange in &invoked.exchanges {
            eprintln!("> {}", exchange.request.replace('\n', "\n> "));
            if let Some(response) = &exchange.response {
                eprintln!("< {}", response.replace('\n', "\n< "));
            }
        }
    }
    match invoked.outcome {
        Outcome::Done(response) => {
            println!("{}", response.status);
            println!("{}", serde_json::to_string_pretty(&response.body.to_value())?);
            for warning in &response.schema_warnings {
                eprintln!("warning: the response does not match its schema at {warning}");
            }
            Ok(if response.status.is_success() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Outcome::Pending { pending, .. } => {
            println!("202 Accepted: still running; poll {} ", pending.location);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Parameters from `name=value` pairs and the body from `--body`.
fn read_inputs(params: &[String], body: Option<&str>) -> anyhow::Result<Inputs> {
    let mut inputs = Inputs::new();
    for pair in params {
        let (name, value) = pair.split_once('=').with_context(|| format!("-p `{pair}` is not name=value"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
        inputs.insert(name.to_string(), value);
    }
    if let Some(body) = body {
        let text = match body.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?,
            None => body.to_string(),
        };
        let value: Value = serde_json::from_str(&text).context("--body is not JSON")?;
        inputs.insert("body".to_string(), value);
    }
    Ok(inputs)
}
