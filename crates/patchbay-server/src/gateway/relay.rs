//! Carrying one exchange through a gateway agent: request head, body chunks and end out; the
//! response head, body chunks and end back, gathered within the size limit. A caller that gives
//! up (the future is dropped) sends a cancel frame, so the agent stops too.

use super::hub::{Agent, GatewayHub, Traffic, metric_label};
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use patchbay_gateway::protocol::{CHUNK_BYTES, Failure, FailureKind, Frame, RequestHead};
use patchbay_runtime::transport::{Relay, RelayFuture, TransportError};
use patchbay_runtime::{WireRequest, WireResponse};
use patchbay_store::GatewayId;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

/// A gateway as a [`Relay`]: each exchange goes to one of its live agents.
#[derive(Debug)]
pub struct GatewayRelay {
    hub: Arc<GatewayHub>,
    gateway: GatewayId,
    max_response_bytes: usize,
    cluster: Option<Arc<super::cluster::Cluster>>,
}

impl GatewayRelay {
    /// A relay through `gateway`'s agents, accepting responses up to `max_response_bytes`.
    pub fn new(hub: Arc<GatewayHub>, gateway: GatewayId, max_response_bytes: usize) -> Self {
        GatewayRelay { hub, gateway, max_response_bytes, cluster: None }
    }

    /// The same relay, forwarding to another node of `cluster` when no agent is connected here.
    pub fn with_cluster(mut self, cluster: Option<Arc<super::cluster::Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Carries the exchange, counting it.
    async fn carry(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let (agent, traffic) = self.hub.pick(&self.gateway);
        traffic.requests.fetch_add(1, Ordering::Relaxed);
        let label = metric_label(&self.gateway);
        let result = match (agent, &self.cluster) {
            (Some(agent), _) => self.through(&agent, request, &traffic).await,
            (None, Some(cluster)) => cluster.forward(&self.gateway, request).await,
            (None, None) => {
                Err(TransportError::Connect(format!("gateway {} (no agent is connected)", self.gateway)))
            }
        };
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        if result.is_err() {
            traffic.failures.fetch_add(1, Ordering::Relaxed);
        }
        metrics::counter!("patchbay_gateway_requests_total", "gateway" => label, "outcome" => outcome)
            .increment(1);
        result
    }

    /// One exchange through `agent`.
    async fn through(
        &self,
        agent: &Arc<Agent>,
        request: WireRequest,
        traffic: &Traffic,
    ) -> Result<WireResponse, TransportError> {
        let (id, mut frames) = agent.open();
        let mut guard = Pending { agent: agent.clone(), id, finished: false };
        let gone =
            || TransportError::Interrupted(format!("gateway {} (its agent disconnected)", self.gateway));
        let head = RequestHead {
            method: request.method.to_string(),
            url: request.url.to_string(),
            headers: headers_out(&request.headers),
            body_len: request.body.len() as u64,
        };
        if !agent.send(id, &Frame::Request(head)).await {
            return Err(gone());
        }
        for start in (0..request.body.len()).step_by(CHUNK_BYTES) {
            let chunk = request.body.slice(start..(start + CHUNK_BYTES).min(request.body.len()));
            if !agent.send(id, &Frame::Body(chunk)).await {
                return Err(gone());
            }
        }
        if !agent.send(id, &Frame::End).await {
            return Err(gone());
        }
        traffic.bytes_sent.fetch_add(request.body.len() as u64, Ordering::Relaxed);
        metrics::counter!("patchbay_gateway_bytes_total", "gateway" => metric_label(&self.gateway), "direction" => "sent")
            .increment(request.body.len() as u64);
        let response = self.receive(&mut frames).await.map_err(|error| error.unwrap_or_else(gone))?;
        guard.finished = true;
        traffic.bytes_received.fetch_add(response.body.len() as u64, Ordering::Relaxed);
        metrics::counter!("patchbay_gateway_bytes_total", "gateway" => metric_label(&self.gateway), "direction" => "received")
            .increment(response.body.len() as u64);
        Ok(response)
    }

    /// Gathers the response; `Err(None)` when the agent went away.
    async fn receive(
        &self,
        frames: &mut mpsc::Receiver<Frame>,
    ) -> Result<WireResponse, Option<TransportError>> {
        let (status, headers) = match frames.recv().await {
            Some(Frame::Response(head)) => (head.status, head.headers),
            Some(Frame::Error(failure)) => return Err(Some(self.failed(failure))),
            Some(_) => {
                return Err(Some(TransportError::Other("the gateway agent answered out of order".into())));
            }
            None => return Err(None),
        };
        let status = StatusCode::from_u16(status)
            .map_err(|_| Some(TransportError::Other(format!("the gateway agent sent status {status}"))))?;
        let mut body = BytesMut::new();
        loop {
            match frames.recv().await {
                Some(Frame::Body(chunk)) => {
                    if chunk.len() > self.max_response_bytes.saturating_sub(body.len()) {
                        return Err(Some(TransportError::TooLarge(self.max_response_bytes)));
                    }
                    body.extend_from_slice(&chunk);
                }
                Some(Frame::End) => break,
                Some(Frame::Error(failure)) => return Err(Some(self.failed(failure))),
                Some(_) => {
                    return Err(Some(TransportError::Other(
                        "the gateway agent answered out of order".into(),
                    )));
                }
                None => return Err(None),
            }
        }
        Ok(WireResponse { status, headers: headers_in(headers), body: body.freeze() })
    }

    /// The transport error for an agent's failure report.
    fn failed(&self, failure: Failure) -> TransportError {
        let message = format!("gateway {}: {}", self.gateway, failure.message);
        match failure.kind {
            FailureKind::Forbidden => {
                TransportError::Forbidden { host: self.gateway.to_string(), reason: failure.message }
            }
            FailureKind::Connect => TransportError::Connect(message),
            FailureKind::Interrupted => TransportError::Interrupted(message),
            FailureKind::Timeout | FailureKind::Other => TransportError::Other(message),
        }
    }
}

impl Relay for GatewayRelay {
    fn exchange(&self, request: WireRequest) -> RelayFuture<'_> {
        Box::pin(self.carry(request))
    }
}

/// An exchange registered with an agent: forgotten when dropped, and cancelled at the agent
/// when it had not finished (the caller gave up, or it failed midway).
struct Pending {
    agent: Arc<Agent>,
    id: u64,
    finished: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.agent.close(self.id);
        if !self.finished {
            self.agent.try_send(self.id, &Frame::Cancel);
        }
    }
}

/// The request headers to send, without hop-by-hop and framing ones (the agent sets its own).
pub(crate) fn headers_out(headers: &HeaderMap) -> Vec<(String, Bytes)> {
    headers
        .iter()
        .filter(|(name, _)| !is_framing(name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), Bytes::copy_from_slice(value.as_bytes())))
        .collect()
}

/// The headers received, the ones that do not parse left out.
pub(crate) fn headers_in(headers: Vec<(String, Bytes)>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_maybe_shared(value))
        {
            map.append(name, value);
        }
    }
    map
}

/// Headers about one hop or the message framing.
fn is_framing(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "content-length"
            | "transfer-encoding"
            | "keep-alive"
            | "te"
            | "trailer"
            | "upgrade"
            | "proxy-connection"
    )
}
