//! The transport stage of the request pipeline.
//!
//! One shared HTTP client per process (pooling, rustls with the ring provider, HTTP/2),
//! timeouts, a maximum response size, decompression, and a guard against server-side request
//! forgery; plus the retry policy, long-running (202) polling and paging built on it.
//!
//! Every wait is data before it is a sleep: [`retry::next_delay`] and
//! [`long_running::classify_async`] compute it, and the `Transport` helpers that sleep in
//! process ([`Transport::send_with_retry`], [`Transport::poll_until_done`]) are thin loops over
//! them, so a durable engine can store the same values as timer rows instead.

mod client;
mod errors;
pub mod guard;
pub mod long_running;
pub(crate) mod origin;
pub mod paging;
pub mod relay;
pub mod retry;

pub use client::Transport;
pub use long_running::{LongRunningError, LongRunningOptions, Pending, PollStep, classify_async};
pub use origin::headers_for;
pub(crate) use origin::{is_http, location_header, same_origin};
pub use paging::{PageOptions, PagingError};
pub use relay::{Relay, RelayFuture};
pub use retry::{Decision, RetryPolicy, classify, next_delay, parse_retry_after};

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
    /// The connection broke after it was established (reset, closed early); worth a retry.
    #[error("connection to {0} broke during the exchange")]
    Interrupted(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}
