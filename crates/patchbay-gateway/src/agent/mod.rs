//! The agent: runs inside the private network, keeps ONE outbound WebSocket open to the server
//! (TLS when the server URL is https), and carries the requests that arrive over it to the
//! destinations on its [`AllowList`], many at once, streaming bodies in chunks both ways.
//!
//! It pings the server and drops a socket that stays silent; when the socket closes it
//! reconnects after a jittered, growing delay ([`backoff::delay`]). Calls in flight when the
//! socket drops are abandoned (the server fails them); nothing is logged with a body, a query
//! string or a header. Each carried request gets `Via: 1.1 patchbay-gateway (<agent name>)`.

mod allow;
pub mod backoff;
mod exchange;
mod session;

pub use allow::{AllowError, AllowList};

use crate::protocol::{
    AGENT_NAME_HEADER, CONNECT_PATH, TUNNEL_CONNECT_PATH, TUNNEL_TO_HEADER, TUNNEL_URL_HEADER,
};
use http::HeaderValue;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use url::Url;

/// How an agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The server's base URL (`http://…` or `https://…`).
    pub server: Url,
    /// The gateway token (`pbg_…`).
    pub token: String,
    /// This agent's name, shown in the gateway's status.
    pub name: String,
    /// The destinations it may reach.
    pub allow: AllowList,
    /// How often to ping the server; a socket silent for three intervals is dropped.
    pub ping_interval: Duration,
    /// The longest a destination may take to answer one request completely.
    pub request_timeout: Duration,
    /// Dev tunnel mode: the local origin to expose (the token is then a user API token).
    pub tunnel_to: Option<Url>,
    /// Where to report connections and carried exchanges, for a live display.
    pub events: Option<tokio::sync::mpsc::UnboundedSender<AgentEvent>>,
}

/// What an agent reports as it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The socket is open; in tunnel mode, with the public URL the server gave.
    Connected {
        /// The tunnel's public URL.
        tunnel_url: Option<String>,
    },
    /// The socket closed; the agent reconnects.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// One exchange carried (or failed).
    Carried(Carried),
}

/// One exchange as reported: no query string, no header, no body.
#[derive(Debug, Clone, PartialEq)]
pub struct Carried {
    /// The method.
    pub method: String,
    /// The path (without the query string).
    pub path: String,
    /// The status, or `None` when it failed.
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub ms: f64,
}

impl AgentOptions {
    /// Options with the default ping interval (15 s) and request timeout (120 s).
    pub fn new(server: Url, token: impl Into<String>, name: impl Into<String>, allow: AllowList) -> Self {
        AgentOptions {
            server,
            token: token.into(),
            name: name.into(),
            allow,
            ping_interval: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            tunnel_to: None,
            events: None,
        }
    }

    /// Options for a dev tunnel exposing `to` (an http origin), authorised by a user API token.
    pub fn tunnel(server: Url, token: impl Into<String>, to: Url) -> Result<Self, AllowError> {
        let port = to.port_or_known_default().unwrap_or(80);
        let allow = AllowList::parse(&[format!("{}:{port}", to.host_str().unwrap_or_default())])?;
        Ok(AgentOptions { tunnel_to: Some(to), ..AgentOptions::new(server, token, "tunnel", allow) })
    }

    /// Reports to `events`.
    fn report(&self, event: AgentEvent) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }
}

/// Why the agent cannot run at all (as opposed to a connection that drops and is retried).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The server URL is not http or https.
    #[error("the server URL must start with http:// or https:// (got {0})")]
    Scheme(String),
    /// The server refused the token.
    #[error("the server refused the gateway token (HTTP {0}); check `--token`")]
    Refused(u16),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

/// Runs the agent until it fails for good (a refused token); connections that drop are retried.
pub async fn run(options: AgentOptions) -> Result<(), AgentError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let path = if options.tunnel_to.is_some() { TUNNEL_CONNECT_PATH } else { CONNECT_PATH };
    let endpoint = socket_url(&options.server, path)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|err| AgentError::Client(err.to_string()))?;
    let via = HeaderValue::from_str(&format!("1.1 patchbay-gateway ({})", options.name))
        .unwrap_or_else(|_| HeaderValue::from_static("1.1 patchbay-gateway"));
    let shared = Arc::new(exchange::Backend {
        client,
        allow: options.allow.clone(),
        timeout: options.request_timeout,
        via,
        events: options.events.clone(),
    });
    let mut attempt = 0;
    loop {
        match connect(&endpoint, &options).await {
            Ok((socket, tunnel_url)) => {
                attempt = 0;
                tracing::info!(target: "patchbay::gateway", server = %options.server, "connected");
                options.report(AgentEvent::Connected { tunnel_url });
                let reason = session::serve(socket, shared.clone(), options.ping_interval).await;
                tracing::warn!(target: "patchbay::gateway", %reason, "disconnected");
                options.report(AgentEvent::Disconnected { reason });
            }
            Err(ConnectError::Refused(status)) => return Err(AgentError::Refused(status)),
            Err(ConnectError::Other(reason)) => {
                tracing::warn!(target: "patchbay::gateway", %reason, "could not connect");
            }
        }
        let wait = backoff::delay(attempt);
        attempt = attempt.saturating_add(1);
        tokio::time::sleep(wait).await;
    }
}

/// The WebSocket URL of `path` on the server, from the server's base URL.
fn socket_url(server: &Url, path: &str) -> Result<Url, AgentError> {
    let scheme = match server.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => return Err(AgentError::Scheme(other.to_owned())),
    };
    let base = server.as_str().trim_end_matches('/');
    let text = format!("{scheme}{}{path}", &base[server.scheme().len()..]);
    Url::parse(&text).map_err(|_| AgentError::Scheme(server.to_string()))
}

/// Why one connection attempt failed.
enum ConnectError {
    /// The server answered 401 or 403: retrying will not help.
    Refused(u16),
    /// Anything else: retried.
    Other(String),
}

/// The socket the agent serves over.
type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the WebSocket, presenting the token and the agent's name (or the tunnel's origin);
/// answers the socket and, for a tunnel, its public URL.
async fn connect(endpoint: &Url, options: &AgentOptions) -> Result<(Socket, Option<String>), ConnectError> {
    let mut request =
        endpoint.as_str().into_client_request().map_err(|err| ConnectError::Other(err.to_string()))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", options.token))
        .map_err(|_| ConnectError::Other("the token holds characters a header cannot carry".into()))?;
    request.headers_mut().insert(http::header::AUTHORIZATION, bearer);
    if let Ok(name) = HeaderValue::from_str(&options.name) {
        request.headers_mut().insert(AGENT_NAME_HEADER, name);
    }
    if let Some(Ok(to)) = options.tunnel_to.as_ref().map(|to| HeaderValue::from_str(to.as_str())) {
        request.headers_mut().insert(TUNNEL_TO_HEADER, to);
    }
    // No Nagle delay: frames are small and many (it costs 40 ms a call against delayed ACKs).
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
    match tokio::time::timeout(Duration::from_secs(20), connecting).await {
        Ok(Ok((socket, response))) => {
            let url =
                response.headers().get(TUNNEL_URL_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            Ok((socket, url))
        }
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response)))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            Err(ConnectError::Refused(response.status().as_u16()))
        }
        Ok(Err(err)) => Err(ConnectError::Other(err.to_string())),
        Err(_) => Err(ConnectError::Other("timed out connecting".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_url_follows_the_scheme() {
        let url = |s: &str| socket_url(&Url::parse(s).unwrap(), CONNECT_PATH).map(|u| u.to_string());
        assert_eq!(url("http://127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/api/gateways/connect");
        assert_eq!(url("https://pb.example/base/").unwrap(), "wss://pb.example/base/api/gateways/connect");
        assert!(url("ftp://x").is_err());
    }
}
