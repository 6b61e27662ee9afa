//! The server's settings.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use patchbay_runtime::transport::RetryPolicy;

/// Everything `start` needs to know; the CLI fills it from flags and `PATCHBAY_*` variables.
/// `Debug` hides the secret key, the admin token and the database URL (it may hold a password).
#[derive(Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Base URL the server is reached at from outside, when not `http://<listen>`.
    pub public_url: Option<String>,
    /// Base URL the other nodes reach this node at (gateway calls are forwarded to the node
    /// holding an agent); default `http://<listen>`.
    pub node_url: Option<String>,
    /// Folder for the SQLite database and the secret key file.
    pub data_dir: PathBuf,
    /// Database URL; default `sqlite://<data_dir>/patchbay.db`.
    pub database_url: Option<String>,
    /// PostgreSQL schema for patchbay's tables (created if missing); none: the search path's.
    pub database_schema: Option<String>,
    /// Secret key as base64 of 32 bytes; default the key file `<data_dir>/secret.key` (created, mode 0600).
    pub secret_key: Option<String>,
    /// Allow connectors to call loopback addresses.
    pub allow_loopback: bool,
    /// Allow connectors to call private and link-local addresses.
    pub allow_private: bool,
    /// Retries of a failed backend call made through the invoke API (exponential, 1 s apart at
    /// first, at most 5 s); 0 fails at once. Callers wait for the whole call, so keep it small.
    pub invoke_retries: u32,
    /// Calls per minute per connection through the invoke API (500, as Power Platform); 0 is no limit.
    pub rate_limit_per_minute: u32,
    /// How this node runs triggers (recurrence bounds, leases, callback limits).
    pub triggers: crate::triggers::TriggerSettings,
    /// How this node runs flows (concurrency, leases, the `Request` reply timeout).
    pub flows: crate::flows::FlowSettings,
    /// An API token for the admin, chosen by the operator (`PATCHBAY_ADMIN_TOKEN`): an empty store
    /// bootstraps the admin with it instead of a random token; otherwise it is made valid for the
    /// admin once (see `patchbay_store::People::ensure_admin_token`). Never logged.
    pub admin_token: Option<String>,
    /// How often expired OAuth sign-in states are deleted (also once at start).
    pub oauth_purge_interval: Duration,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |value: &Option<String>| value.as_ref().map(|_| "<hidden>");
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("node_url", &self.node_url)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &hidden(&self.database_url))
            .field("secret_key", &hidden(&self.secret_key))
            .field("allow_loopback", &self.allow_loopback)
            .field("allow_private", &self.allow_private)
            .field("invoke_retries", &self.invoke_retries)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("database_schema", &self.database_schema)
            .field("triggers", &self.triggers)
            .field("flows", &self.flows)
            .field("admin_token", &hidden(&self.admin_token))
            .field("oauth_purge_interval", &self.oauth_purge_interval)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            public_url: None,
            node_url: None,
            data_dir: PathBuf::from(".patchbay"),
            database_url: None,
            database_schema: None,
            secret_key: None,
            allow_loopback: false,
            allow_private: false,
            invoke_retries: 2,
            rate_limit_per_minute: 500,
            triggers: crate::triggers::TriggerSettings::default(),
            flows: crate::flows::FlowSettings::default(),
            admin_token: None,
            oauth_purge_interval: Duration::from_secs(5 * 60),
        }
    }
}

impl ServerConfig {
    /// The database URL: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("patchbay.db").display()),
        }
    }

    /// The retry policy of invoke API calls.
    pub fn retry_policy(&self) -> RetryPolicy {
        match self.invoke_retries {
            0 => RetryPolicy::None,
            count => RetryPolicy::Exponential {
                count,
                interval: Duration::from_secs(1),
                minimum_interval: Duration::from_millis(500),
                maximum_interval: Duration::from_secs(5),
            },
        }
    }

    /// The secret key file used when no key is configured.
    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }
}
