//! `patchbay serve`: run the server until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use patchbay_server::ServerConfig;
use patchbay_server::flows::FlowSettings;
use patchbay_server::triggers::TriggerSettings;
use std::time::Duration;

/// Arguments of `serve`; each has a `PATCHBAY_*` environment variable.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "PATCHBAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Base URL the server is reached at from outside (default http://<listen>).
    #[arg(long, env = "PATCHBAY_PUBLIC_URL")]
    public_url: Option<String>,
    /// Base URL the other nodes reach this node at, to forward calls to its gateway agents
    /// (default http://<listen>).
    #[arg(long, env = "PATCHBAY_NODE_URL")]
    node_url: Option<String>,
    /// Folder for the SQLite database and the secret key file.
    #[arg(long, env = "PATCHBAY_DATA_DIR", default_value = ".patchbay")]
    data_dir: PathBuf,
    /// Database URL: sqlite://<path> or postgres://… (default sqlite://<data-dir>/patchbay.db).
    #[arg(long, env = "PATCHBAY_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Secret key, base64 of 32 bytes (default: the key file <data-dir>/secret.key, created with mode 0600).
    /// Prefer the environment variable: arguments are visible to other users.
    #[arg(long, env = "PATCHBAY_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Allow connectors to call loopback addresses (APIs on this machine).
    #[arg(long, env = "PATCHBAY_ALLOW_LOOPBACK")]
    allow_loopback: bool,
    /// Allow connectors to call private and link-local addresses.
    #[arg(long, env = "PATCHBAY_ALLOW_PRIVATE")]
    allow_private: bool,
    /// Retries of a failed backend call made through the invoke API (0 fails at once).
    #[arg(long, env = "PATCHBAY_INVOKE_RETRIES", default_value_t = 2)]
    invoke_retries: u32,
    /// Calls per minute per connection through the invoke API; beyond it calls wait briefly, then get 429 (0: no limit).
    #[arg(long, env = "PATCHBAY_RATE_LIMIT", default_value_t = 500)]
    rate_limit: u32,
    /// PostgreSQL schema holding patchbay's tables (created if missing; default: the search path's).
    #[arg(long, env = "PATCHBAY_DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Seconds between polls of a polling trigger created without a recurrence.
    #[arg(
        long,
        env = "PATCHBAY_TRIGGER_DEFAULT_RECURRENCE",
        default_value_t = 180.0,
        value_name = "SECONDS"
    )]
    trigger_default_recurrence: f64,
    /// The shortest time between two polls of one trigger, whatever a trigger or backend asks.
    #[arg(long, env = "PATCHBAY_TRIGGER_MINIMUM_INTERVAL", default_value_t = 1.0, value_name = "SECONDS")]
    trigger_minimum_interval: f64,
    /// How long a node holds a claimed poll; a node that dies loses its polls to others after it.
    #[arg(long, env = "PATCHBAY_TRIGGER_LEASE", default_value_t = 60.0, value_name = "SECONDS")]
    trigger_lease: f64,
    /// Polls this node runs at the same time.
    #[arg(long, env = "PATCHBAY_TRIGGER_CONCURRENCY", default_value_t = 64)]
    trigger_concurrency: usize,
    /// Do not run the polling scheduler on this node (it still serves the API and callbacks).
    #[arg(long, env = "PATCHBAY_NO_SCHEDULER")]
    no_scheduler: bool,
    /// This node's name in poll leases (default <hostname>-<pid>).
    #[arg(long, env = "PATCHBAY_NODE_ID")]
    node_id: Option<String>,
    /// Flow runs this node executes at the same time.
    #[arg(long, env = "PATCHBAY_RUN_CONCURRENCY", default_value_t = 32)]
    run_concurrency: usize,
    /// How long a node holds a claimed run (renewed while it runs); a node that dies loses its runs to the others after it.
    #[arg(long, env = "PATCHBAY_RUN_LEASE", default_value_t = 60.0, value_name = "SECONDS")]
    run_lease: f64,
    /// Do not execute flow runs on this node (it still serves the API).
    #[arg(long, env = "PATCHBAY_NO_WORKER")]
    no_worker: bool,
    /// The largest webhook callback body accepted, in bytes.
    #[arg(long, env = "PATCHBAY_CALLBACK_BODY_LIMIT", default_value_t = 1024 * 1024)]
    callback_body_limit: usize,
    /// Log format on standard error: `human` or `json` (one object a line).
    #[arg(long, env = "PATCHBAY_LOG_FORMAT", value_enum, default_value = "human")]
    log_format: LogFormat,
    /// Which logs to write, as tracing filter directives (e.g. `info`, `patchbay=debug`).
    #[arg(long, env = "PATCHBAY_LOG", default_value = "info")]
    log: String,
}

/// The variable that holds an admin token chosen by the operator (no flag: arguments are visible
/// to other users of the machine).
pub const ADMIN_TOKEN_VARIABLE: &str = "PATCHBAY_ADMIN_TOKEN";

impl Args {
    /// The server configuration these arguments (and `PATCHBAY_ADMIN_TOKEN`) describe.
    fn config(&self) -> anyhow::Result<ServerConfig> {
        let admin_token = std::env::var(ADMIN_TOKEN_VARIABLE).ok().filter(|token| !token.trim().is_empty());
        let seconds = |value: f64, flag: &str| {
            anyhow::ensure!(
                value.is_finite() && value > 0.0 && value <= 366.0 * 86_400.0,
                "--{flag} must be a positive number of seconds, at most a year"
            );
            Ok(Duration::from_secs_f64(value))
        };
        let defaults = TriggerSettings::default();
        let triggers = TriggerSettings {
            default_recurrence: seconds(self.trigger_default_recurrence, "trigger-default-recurrence")?,
            minimum_interval: seconds(self.trigger_minimum_interval, "trigger-minimum-interval")?,
            lease: seconds(self.trigger_lease, "trigger-lease")?,
            poll_concurrency: self.trigger_concurrency.max(1),
            run_scheduler: !self.no_scheduler,
            node_id: self.node_id.clone().unwrap_or(defaults.node_id),
            callback_body_limit: self.callback_body_limit,
            intake_queue: defaults.intake_queue,
        };
        let flows = FlowSettings {
            run_concurrency: self.run_concurrency.max(1),
            lease: seconds(self.run_lease, "run-lease")?,
            run_worker: !self.no_worker,
            ..FlowSettings::default()
        };
        Ok(ServerConfig {
            listen: self.listen,
            public_url: self.public_url.clone(),
            node_url: self.node_url.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            secret_key: self.secret_key.clone(),
            allow_loopback: self.allow_loopback,
            allow_private: self.allow_private,
            invoke_retries: self.invoke_retries,
            rate_limit_per_minute: self.rate_limit,
            database_schema: self.database_schema.clone(),
            triggers,
            flows,
            admin_token,
            ..ServerConfig::default()
        })
    }
}

/// Runs `serve`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    init_logs(args.log_format, &args.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args.config()?))
}

async fn serve(config: ServerConfig) -> anyhow::Result<ExitCode> {
    let server = patchbay_server::start(config).await.context("the server could not start")?;
    println!("patchbay listening on {}", server.url);
    if let Some((email, token)) = &server.bootstrap {
        println!("first start: created the admin {email}; its API token (shown once, keep it safe):");
        println!("  {token}");
    }
    if let Some(setup) = &server.admin_token {
        let what = match (setup.bootstrapped, setup.added) {
            (true, _) => "first start: created the admin",
            (false, true) => "added to the admin",
            (false, false) => "valid for the admin",
        };
        println!("{ADMIN_TOKEN_VARIABLE}: {what} {}", setup.admin.email);
    }
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    println!("shutting down");
    server.shutdown().await.context("the server did not stop cleanly")?;
    Ok(ExitCode::SUCCESS)
}

/// Log output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object a line.
    Json,
}

/// Installs the log writer (standard error) with the filter directives.
pub(crate) fn init_logs(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("--log `{filter}` is not a valid filter (try `info`)"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the log writer: {e}"))
}
