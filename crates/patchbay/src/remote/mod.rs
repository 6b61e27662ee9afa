//! Talking to a running `patchbay serve`: the target server, an HTTP client, and the
//! paconn-style `connector create/update/list/download/share` commands.

mod bulk;
mod commands;
mod package;
pub mod table;

pub use commands::{
    CreateArgs, DownloadArgs, ListArgs, ShareArgs, UpdateArgs, create, download, list, share, update,
};

use std::fmt;
use std::time::Duration;

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;

use crate::login::{DEFAULT_PROFILE, Profile, Profiles};

/// Which server to talk to: `--url`/`--token` (or `PATCHBAY_URL`/`PATCHBAY_TOKEN`), falling back
/// to a profile saved by `patchbay login`.
#[derive(clap::Args, Clone)]
pub struct Target {
    /// The server's base URL (default: from the saved profile).
    #[arg(long, env = "PATCHBAY_URL", hide_env_values = true)]
    url: Option<String>,
    /// An API token (default: from the saved profile).
    #[arg(long, env = "PATCHBAY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The saved profile to use.
    #[arg(long, env = "PATCHBAY_PROFILE", hide_env_values = true, default_value = DEFAULT_PROFILE)]
    profile: String,
}

impl Target {
    /// The URL and token to use, each from the arguments or else the saved profile.
    pub fn resolve(&self) -> anyhow::Result<Profile> {
        if let (Some(url), Some(token)) = (&self.url, &self.token) {
            return Ok(Profile { url: url.clone(), token: token.clone() });
        }
        let saved = Profiles::load()?.profiles.remove(&self.profile);
        let url = self.url.clone().or_else(|| saved.as_ref().map(|p| p.url.clone()));
        let token = self.token.clone().or_else(|| saved.as_ref().map(|p| p.token.clone()));
        match (url, token) {
            (Some(url), Some(token)) => Ok(Profile { url, token }),
            _ => anyhow::bail!(
                "no server to talk to: run `patchbay login --url <server> --token <token>` first, \
                 or pass --url and --token (or set PATCHBAY_URL and PATCHBAY_TOKEN)"
            ),
        }
    }

    /// A client for the resolved server.
    pub fn client(&self) -> anyhow::Result<Client> {
        Client::new(&self.resolve()?)
    }
}

/// Only the server to talk to, for commands that take nothing else.
#[derive(clap::Args)]
pub struct TargetArgs {
    /// The server and token.
    #[command(flatten)]
    pub target: Target,
}

/// An error answer from the server: `{"error": {"code", "message"}, "diagnostics"?}`.
#[derive(Debug)]
pub struct ApiFailure {
    /// The HTTP status.
    pub status: u16,
    /// The error code, e.g. `invalid_package`.
    pub code: String,
    /// The server's message.
    pub message: String,
    /// Package diagnostics, on 422.
    pub diagnostics: Vec<Value>,
    /// The server's URL, for hints.
    url: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server answered {} {}: {}", self.status, self.code, self.message)?;
        match self.status {
            401 => write!(
                f,
                "; the token is not valid: log in again with `patchbay login --url {} --token <token>`",
                self.url
            ),
            403 => {
                f.write_str("; ask the connector's owner to share it with you (`patchbay connector share`)")
            }
            404 if self.code == "not_found" => f.write_str("; check the id with `patchbay connector list`"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ApiFailure {}

/// What the server answered: the JSON body on success, else the error.
pub struct Answer(Result<Value, ApiFailure>);

impl Answer {
    /// The body, or the error as an `anyhow` error.
    pub fn into_result(self) -> anyhow::Result<Value> {
        Ok(self.0?)
    }

    /// The body, or the server's error as is.
    pub fn into_inner(self) -> Result<Value, ApiFailure> {
        self.0
    }
}

/// An HTTP client for one server and token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    /// A client for `profile`'s server.
    pub fn new(profile: &Profile) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = profile.url.trim_end_matches('/').to_owned();
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "`{url}` is not a server URL; give one like http://127.0.0.1:8080"
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("patchbay-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Client { http, url, token: profile.token.clone() })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.send(Method::GET, path, None).await
    }

    /// Sends a request with an optional JSON body; transport failures are errors, server errors
    /// are an [`Answer`] holding an [`ApiFailure`].
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Answer> {
        let mut request = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "cannot reach the server at {}; is `patchbay serve` running there? (check --url)",
                self.url
            )
        })?;
        let status = response.status();
        let text = response.text().await.context("the server's answer was cut off; try again")?;
        let body: Value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(Answer(Ok(body)));
        }
        let error = &body["error"];
        let message =
            error["message"].as_str().map_or_else(|| text.chars().take(200).collect(), str::to_owned);
        Ok(Answer(Err(ApiFailure {
            status: status.as_u16(),
            code: error["code"].as_str().unwrap_or("http_error").to_owned(),
            message,
            diagnostics: body["diagnostics"].as_array().cloned().unwrap_or_default(),
            url: self.url.clone(),
        })))
    }
}

/// A diagnostic from the server's JSON, rustc-style: `error[PB0201]: message` then
/// `  --> file:line:column` (or the JSON pointer) and the hint.
pub fn render_diagnostic(diagnostic: &Value) -> String {
    let text = |key: &str| diagnostic[key].as_str().unwrap_or_default();
    let mut out = format!("{}[{}]: {}\n", text("severity"), text("code"), text("message"));
    let location = match (diagnostic["line"].as_u64(), diagnostic["column"].as_u64()) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", text("file")),
        _ => text("file").to_owned(),
    };
    out.push_str(&format!("  --> {location}"));
    if !text("pointer").is_empty() {
        out.push_str(&format!(" at {}", text("pointer")));
    }
    out.push('\n');
    if !text("hint").is_empty() {
        out.push_str(&format!("  = help: {}\n", text("hint")));
    }
    out
}

/// A single-threaded runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
