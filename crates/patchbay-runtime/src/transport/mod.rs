//! PLACEHOLDER — being written in its own worktree. The interface below is fixed.
//!
//! One shared HTTP client per process (pooling, rustls with the ring provider, HTTP/2),
//! timeouts, a maximum response size, decompression, and a guard against server-side request
//! forgery; plus the retry policy, long-running (202) polling and paging built on it.

use crate::wire::{WireRequest, WireResponse};
use std::time::Duration;

/// Transport settings.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole exchange (default 120 s).
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: usize,
    /// Allow loopback addresses (127.0.0.0/8, ::1): tests and the local demo.
    pub allow_loopback: bool,
    /// Allow private and link-local addresses (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10).
    pub allow_private: bool,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            max_response_bytes: 100 * 1024 * 1024,
            allow_loopback: false,
            allow_private: false,
        }
    }
}

/// Why an exchange failed before a response arrived.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The SSRF guard refused the destination.
    #[error("refused to call {host}: {reason}")]
    Forbidden {
        /// The host.
        host: String,
        /// Why (e.g. "loopback address 127.0.0.1 is not allowed").
        reason: String,
    },
    /// Connecting failed.
    #[error("could not connect to {0}")]
    Connect(String),
    /// The exchange took too long.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The response body was larger than allowed.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// The shared client.
#[derive(Clone)]
pub struct Transport {
    _options: TransportOptions,
}

impl Transport {
    /// Builds the client.
    pub fn new(options: TransportOptions) -> Result<Self, TransportError> {
        Ok(Transport { _options: options })
    }

    /// Sends one request; no retries.
    pub async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let _ = request;
        todo!("transport")
    }
}
