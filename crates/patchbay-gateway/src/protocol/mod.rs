//! The gateway protocol: requests and responses multiplexed over one WebSocket as binary frames.
//!
//! Every frame is one binary WebSocket message: a kind byte, the request id (8 bytes, big-endian)
//! and a payload. The server opens an exchange with [`Frame::Request`], sends the body as
//! [`Frame::Body`] chunks of at most [`CHUNK_BYTES`] and closes it with [`Frame::End`]; the agent
//! answers with [`Frame::Response`], body chunks and [`Frame::End`], or [`Frame::Error`] at any
//! point. [`Frame::Cancel`] (server to agent) abandons an exchange whose caller gave up.

mod codec;

pub use codec::{decode, encode};

use bytes::Bytes;

/// The largest body chunk a frame carries.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The path on the server that agents open their WebSocket on.
pub const CONNECT_PATH: &str = "/api/gateways/connect";

/// The path on the server that dev tunnels open their WebSocket on (user API token).
pub const TUNNEL_CONNECT_PATH: &str = "/api/tunnels/connect";

/// The header a tunnel names the local origin it exposes with (e.g. `http://localhost:3000/`).
pub const TUNNEL_TO_HEADER: &str = "x-patchbay-tunnel-to";

/// The header of the server's upgrade answer that gives a tunnel its public URL.
pub const TUNNEL_URL_HEADER: &str = "x-patchbay-tunnel-url";

/// The header an agent names itself with (shown in the gateway's status).
pub const AGENT_NAME_HEADER: &str = "x-patchbay-agent";

/// One frame of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Server to agent: the start of a request.
    Request(RequestHead),
    /// Agent to server: the start of the response.
    Response(ResponseHead),
    /// A chunk of the body, in either direction.
    Body(Bytes),
    /// The body (request or response) is complete.
    End,
    /// Server to agent: the caller gave up; stop and forget the exchange.
    Cancel,
    /// Agent to server: the exchange failed before (or while) the response arrived.
    Error(Failure),
}

/// A request's method, URL and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// The headers, in order (values are bytes: header values need not be text).
    pub headers: Vec<(String, Bytes)>,
    /// The body's length in bytes (0: no body).
    pub body_len: u64,
}

/// A response's status and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, Bytes)>,
}

/// Why the agent could not complete an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// A message for people; never a body or a secret.
    pub message: String,
}

/// The kinds of failure an agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The destination is not on the agent's allow list (or the URL is not http/https).
    Forbidden = 1,
    /// The destination could not be reached.
    Connect = 2,
    /// The destination took too long.
    Timeout = 3,
    /// The connection to the destination broke during the exchange.
    Interrupted = 4,
    /// Anything else (a malformed request).
    Other = 5,
}

impl FailureKind {
    /// The kind for a wire byte (unknown bytes read as [`FailureKind::Other`]).
    pub fn from_byte(byte: u8) -> FailureKind {
        match byte {
            1 => FailureKind::Forbidden,
            2 => FailureKind::Connect,
            3 => FailureKind::Timeout,
            4 => FailureKind::Interrupted,
            _ => FailureKind::Other,
        }
    }
}

/// Why a received message is not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed gateway frame: {0}")]
pub struct FrameError(pub &'static str);
