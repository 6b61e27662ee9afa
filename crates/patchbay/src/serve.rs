//! `patchbay serve`: run the server until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use patchbay_server::ServerConfig;

/// Arguments of `serve`; each has a `PATCHBAY_*` environment variable.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "PATCHBAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Base URL the server is reached at from outside (default http://<listen>).
    #[arg(long, env = "PATCHBAY_PUBLIC_URL")]
    public_url: Option<String>,
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
    fn config(&self) -> ServerConfig {
        let admin_token = std::env::var(ADMIN_TOKEN_VARIABLE).ok().filter(|token| !token.trim().is_empty());
        ServerConfig {
            listen: self.listen,
            public_url: self.public_url.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            secret_key: self.secret_key.clone(),
            allow_loopback: self.allow_loopback,
            allow_private: self.allow_private,
            invoke_retries: self.invoke_retries,
            rate_limit_per_minute: self.rate_limit,
            admin_token,
            ..ServerConfig::default()
        }
    }
}

/// Runs `serve`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    init_logs(args.log_format, &args.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args.config()))
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
fn init_logs(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("--log `{filter}` is not a valid filter (try `info`)"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the log writer: {e}"))
}
