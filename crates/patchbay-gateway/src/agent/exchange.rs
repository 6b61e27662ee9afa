//! One exchange: the request to the destination (body streamed in from the socket) and its
//! response streamed back as frames.

use super::AllowList;
use crate::protocol::{CHUNK_BYTES, Failure, FailureKind, Frame, RequestHead, ResponseHead, encode};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use url::Url;

/// What every exchange of an agent shares.
#[derive(Debug)]
pub(super) struct Backend {
    /// The HTTP client towards the destinations.
    pub(super) client: reqwest::Client,
    /// The destinations allowed.
    pub(super) allow: AllowList,
    /// The longest one exchange may take.
    pub(super) timeout: Duration,
    /// The `Via` header value added to each request (`1.1 patchbay-gateway (<agent name>)`).
    pub(super) via: HeaderValue,
    /// Where carried exchanges are reported.
    pub(super) events: Option<mpsc::UnboundedSender<super::AgentEvent>>,
}

/// Runs exchange `id` and reports its failure, if any, as an error frame; returns `id`.
pub(super) async fn run_exchange(
    id: u64,
    head: RequestHead,
    body: Option<mpsc::Receiver<Bytes>>,
    backend: Arc<Backend>,
    out: mpsc::Sender<Message>,
) -> u64 {
    let started = Instant::now();
    let method = head.method.clone();
    let parsed = Url::parse(&head.url).ok();
    let target = parsed.as_ref().map(authority).unwrap_or_default();
    let path = parsed.as_ref().map(|url| url.path().to_owned()).unwrap_or_default();
    let exchange = carry(id, head, body, &backend, &out);
    let outcome = match tokio::time::timeout(backend.timeout, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(failure(
            FailureKind::Timeout,
            format!("the destination took longer than {:?}", backend.timeout),
        )),
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if let Some(events) = &backend.events {
        let status = outcome.as_ref().ok().copied();
        let carried = super::Carried { method: method.clone(), path, status, ms };
        let _ = events.send(super::AgentEvent::Carried(carried));
    }
    match outcome {
        Ok(status) => tracing::info!(target: "patchbay::gateway", %method, %target, status, ms, "carried"),
        Err(failed) => {
            tracing::info!(target: "patchbay::gateway", %method, %target, error = %failed.message, ms, "failed");
            let _ = out.send(frame(id, &Frame::Error(failed))).await;
        }
    }
    id
}

/// A failure to report.
fn failure(kind: FailureKind, message: impl Into<String>) -> Failure {
    Failure { kind, message: message.into() }
}

/// A frame as a WebSocket message.
fn frame(id: u64, frame: &Frame) -> Message {
    Message::Binary(encode(id, frame))
}

/// Sends the request and streams the response back; returns the status.
async fn carry(
    id: u64,
    head: RequestHead,
    body: Option<mpsc::Receiver<Bytes>>,
    backend: &Backend,
    out: &mpsc::Sender<Message>,
) -> Result<u16, Failure> {
    let url =
        Url::parse(&head.url).map_err(|_| failure(FailureKind::Other, "the request URL does not parse"))?;
    if !backend.allow.permits(&url) {
        return Err(failure(
            FailureKind::Forbidden,
            format!("{} is not on this agent's allow list", authority(&url)),
        ));
    }
    let method =
        Method::from_bytes(head.method.as_bytes()).map_err(|_| failure(FailureKind::Other, "bad method"))?;
    let mut request = backend.client.request(method, url.clone());
    for (name, value) in &head.headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
        {
            request = request.header(name, value);
        }
    }
    request = request.header(http::header::VIA, backend.via.clone());
    if let Some(chunks) = body {
        let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
            chunks.recv().await.map(|chunk| (Ok::<Bytes, std::io::Error>(chunk), chunks))
        });
        request = request
            .header(http::header::CONTENT_LENGTH, head.body_len)
            .body(reqwest::Body::wrap_stream(stream));
    }
    let mut response = request.send().await.map_err(|err| send_failure(&err, &url))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !is_hop_by_hop(name))
        .map(|(name, value)| (name.as_str().to_owned(), Bytes::copy_from_slice(value.as_bytes())))
        .collect();
    let closed = || failure(FailureKind::Interrupted, "the socket to the server closed");
    out.send(frame(id, &Frame::Response(ResponseHead { status, headers }))).await.map_err(|_| closed())?;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                return Err(failure(
                    FailureKind::Interrupted,
                    format!("{} broke off the response", authority(&url)),
                ));
            }
        };
        for start in (0..chunk.len()).step_by(CHUNK_BYTES) {
            let piece = chunk.slice(start..(start + CHUNK_BYTES).min(chunk.len()));
            out.send(frame(id, &Frame::Body(piece))).await.map_err(|_| closed())?;
        }
    }
    out.send(frame(id, &Frame::End)).await.map_err(|_| closed())?;
    Ok(status)
}

/// Headers that describe one hop, not the message.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(name.as_str(), "connection" | "transfer-encoding" | "keep-alive" | "te" | "trailer" | "upgrade")
}

/// `host:port` of a URL, for messages.
fn authority(url: &Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
}

/// The failure for a request that got no response.
fn send_failure(err: &reqwest::Error, url: &Url) -> Failure {
    if err.is_timeout() {
        failure(FailureKind::Timeout, format!("{} timed out", authority(url)))
    } else if err.is_connect() {
        failure(FailureKind::Connect, format!("could not connect to {}", authority(url)))
    } else {
        failure(FailureKind::Interrupted, format!("the exchange with {} broke", authority(url)))
    }
}
