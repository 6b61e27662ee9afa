//! `patchbay demo`: the first command of the README. It starts the Contoso Tasks sample API,
//! imports its connector package, validates it, shows its operations and calls three of them through
//! the request pipeline; then it starts the patchbay server on its embedded default (SQLite in the
//! data directory) with the connector, a connection and two flows, causes an event and shows what
//! the flows did (see `demo_server`). It stays up so the printed commands can be tried, until
//! Ctrl-C, and removes its webhook subscription on the way out.

use crate::demo_server::DemoServer;
use crate::render::render;
use patchbay_runtime::plan::CompiledConnector;
use patchbay_runtime::security::ConnectionValues;
use patchbay_runtime::transport::TransportOptions;
use patchbay_runtime::{Call, Outcome, Runtime, RuntimeOptions};
use patchbay_spec::model::{OperationKind, TriggerKind};
use patchbay_spec::{Severity, check_path};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Where the demo keeps its files: the imported package, the server's database and keys.
    #[arg(long, env = "PATCHBAY_DATA_DIR", default_value = ".patchbay")]
    data_dir: PathBuf,
    /// Address of the patchbay server (a free port is used when it is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the sample API (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    sample_addr: SocketAddr,
}

/// Runs the demo until Ctrl-C.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(demo(args))
}

async fn demo(args: &Args) -> anyhow::Result<ExitCode> {
    println!("patchbay demo\n");
    let config = contoso_tasks::Config { addr: args.sample_addr, ..contoso_tasks::Config::default() };
    let api = contoso_tasks::start(config).await?;
    let base = api.base_url().to_string();
    println!("1. Started the Contoso Tasks sample API at {base}");

    let package = import_package(&args.data_dir)?;
    println!("2. Imported its connector package into {}", package.display());
    let checked = check_path(&package, true);
    for d in checked.diagnostics.iter().filter(|d| d.severity <= Severity::Warning) {
        println!("{}", render(d, &package, &checked.sources));
    }
    let Some(connector) = checked.connector else {
        anyhow::bail!("the sample connector did not load; see the diagnostics above");
    };
    let (errors, warnings) = count(&checked.diagnostics);
    println!("3. Validated it, with the certification checklist: {errors} errors, {warnings} warnings");
    show_operations(&connector);
    let connection = write_connection(&args.data_dir)?;
    println!("5. Created a connection (API key) in {}", connection.display());
    invoke_samples(connector, &base).await?;
    let flow = write_sample_flow(&args.data_dir)?;
    let (server, token) = crate::demo_server::start(&args.data_dir, args.listen).await?;
    println!(
        "7. Started the patchbay server at {} (SQLite in {})",
        server.url,
        args.data_dir.join("patchbay.db").display()
    );
    let api_host = api.addr.to_string();
    let demo = crate::demo_server::set_up(server, token, &api_host).await?;
    demo.cause_an_event().await?;
    print_next_steps(&base, &package, &connection, &flow, &demo);
    println!(
        "patchbay demo is ready (sample API {base}, patchbay {}); press Ctrl-C to stop",
        demo.server.url
    );
    tokio::signal::ctrl_c().await?;
    println!();
    demo.stop().await?;
    println!("stopping: shutting the sample API down");
    api.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

fn show_operations(connector: &patchbay_spec::Connector) {
    println!("4. Its operations:");
    for (item, op) in connector.operations() {
        let kind = match op.kind(item, &connector.definitions) {
            OperationKind::Action => "action".to_string(),
            OperationKind::Trigger { kind: TriggerKind::Webhook, .. } => "webhook trigger".to_string(),
            OperationKind::Trigger { .. } => "polling trigger".to_string(),
        };
        println!("     {:<22} {:<16} {:<6} {}", op.display_id(), kind, op.method.as_upper(), op.path);
    }
}

/// Writes the demo connection: the API-key parameter set with the sample's key.
fn write_connection(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("connections");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("contoso-tasks.json");
    let doc =
        serde_json::json!({"parameterSet": "apiKey", "values": {"api_key": contoso_tasks::DEMO_API_KEY}});
    std::fs::write(&path, serde_json::to_string_pretty(&doc)?)?;
    Ok(path)
}

/// Calls three operations through patchbay's request pipeline and shows what came back.
async fn invoke_samples(mut connector: patchbay_spec::Connector, base: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(base)?;
    connector.backend.host =
        Some(format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(80)));
    connector.backend.schemes = vec!["http".into()];
    let compiled = CompiledConnector::compile(std::sync::Arc::new(connector));
    let transport = TransportOptions { allow_loopback: true, ..TransportOptions::default() };
    let runtime = Runtime::new(transport, RuntimeOptions::default())?;
    let connection = ConnectionValues::new("demo")
        .with_parameter_set("apiKey")
        .with_value("api_key", contoso_tasks::DEMO_API_KEY)
        .with_secrets_from(&compiled.connector);
    let call = |op: &'static str, inputs: serde_json::Value| {
        let (runtime, compiled, connection) = (&runtime, &compiled, &connection);
        async move {
            let inputs = inputs.as_object().cloned().unwrap_or_default();
            let call = Call { connector: compiled, operation_id: op, connection, inputs: &inputs };
            match runtime.invoke(call).await?.outcome {
                Outcome::Done(r) => Ok::<_, anyhow::Error>((r.status, r.body.to_value())),
                Outcome::Pending { .. } => anyhow::bail!("{op} is still running"),
            }
        }
    };
    println!("6. Invoked operations through patchbay's request pipeline:");
    let (status, project) = call("CreateProject", serde_json::json!({"body": {"name": "Launch"}})).await?;
    println!("     CreateProject  -> {status}  {project}");
    let project_id = project["id"].clone();
    let (status, task) =
        call("CreateTask", serde_json::json!({"projectId": project_id, "body": {"title": "Write the docs"}}))
            .await?;
    println!("     CreateTask     -> {status}  {task}");
    let (status, export) = call("ExportProject", serde_json::json!({"projectId": project_id})).await?;
    println!(
        "     ExportProject  -> {status}  (a 202 long-running job, polled until done) {} tasks",
        export["tasks"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

/// Writes the sample flows into the data directory, for `patchbay flow run`; answers the first.
fn write_sample_flow(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("flows");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in contoso_tasks::SAMPLE_FLOWS {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir.join(contoso_tasks::SAMPLE_FLOWS[0].0))
}

/// Writes the embedded sample package into the data directory, as an author's folder would be.
fn import_package(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("packages").join("contoso-tasks");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in contoso_tasks::CONNECTOR_PACKAGE {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(dir)
}

fn count(diagnostics: &[patchbay_spec::Diagnostic]) -> (usize, usize) {
    let n = |s| diagnostics.iter().filter(|d| d.severity == s).count();
    (n(Severity::Error), n(Severity::Warning))
}

fn print_next_steps(base: &str, package: &Path, connection: &Path, flow: &Path, demo: &DemoServer) {
    let key = contoso_tasks::DEMO_API_KEY;
    let (url, token) = (&demo.server.url, &demo.token);
    let (create_flow, comment_flow) = (&demo.flows[0], &demo.flows[1]);
    // The program as it was started (e.g. `target/debug/patchbay`), so the commands work as printed.
    let me = std::env::args().next().unwrap_or_else(|| "patchbay".to_string());
    println!("\nTry it (the admin token is kept in the data directory's demo-token file):");
    println!("  open {url}/portal in a browser and sign in with the admin token");
    println!("  {me} login --url {url} --token {token}");
    println!("  {me} flow start {create_flow} --body '{{\"projectId\": \"proj-1\", \"title\": \"Mine\"}}'");
    println!("  {me} flow runs {comment_flow}");
    println!("  {me} flow show-run <run id>");
    println!("  {me} trigger list");
    println!("  {me} connector list");
    println!("  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\");
    println!(
        "       -d '{{\"projectId\": \"proj-1\", \"title\": \"From curl\"}}' {url}/api/flows/{create_flow}/run"
    );
    println!("  curl -s -H 'Authorization: Bearer {token}' {url}/api/flows/{comment_flow}/runs");
    println!("  curl -s {url}/api/openapi.json    # the server's API, OpenAPI 3.1");
    println!("  curl -s -H 'X-API-Key: {key}' {base}/projects    # the sample API itself");
    println!("Locally, without the server:");
    println!("  {me} connector invoke {} ListProjects -c {} \\", package.display(), connection.display());
    println!("       --base-url {base} --allow-loopback --verbose");
    println!(
        "  {me} flow run {} --trigger-body '{{\"projectId\": \"proj-1\", \"title\": \"Mine\"}}' \\",
        flow.display()
    );
    println!(
        "       --package contoso={} --connection contoso={} \\",
        package.display(),
        connection.display()
    );
    println!("       --base-url contoso={base} --allow-loopback");
    println!("  {me} connector validate --certification {}", package.display());
    println!("  {me} connector convert my-openapi.yaml --out my-connector");
    println!();
}
