//! Several nodes: each node records in the store which gateways it holds agents of, and a node
//! without a live agent of a gateway forwards the call over HTTP to a node that has one
//! (`POST /api/gateways/{id}/relay`, authorised by the credential every node derives from the
//! shared secret key). The forwarded exchange is carried by that node's agents only, never
//! forwarded again.

use super::hub::GatewayHub;
use bytes::{BufMut, Bytes, BytesMut};
use http::StatusCode;
use patchbay_gateway::protocol::{Frame, RequestHead, ResponseHead, decode, encode};
use patchbay_runtime::transport::TransportError;
use patchbay_runtime::{WireRequest, WireResponse};
use patchbay_store::{GatewayId, Store};
use std::time::Duration;

/// The header a node presents its credential in.
pub const NODE_CREDENTIAL_HEADER: &str = "x-patchbay-node";

/// A node record not refreshed for this long is stale (agents refresh it with every ping).
const STALE_AFTER_MS: i64 = 45_000;

/// This node as part of a cluster of nodes sharing one store.
#[derive(Debug)]
pub struct Cluster {
    store: Store,
    node_url: String,
    credential: String,
    client: reqwest::Client,
}

impl Cluster {
    /// This node, reached by the others at `node_url`; `None` when the store has no secret key.
    pub fn new(store: Store, node_url: &str) -> Option<Cluster> {
        let credential = store.node_credential()?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        Some(Cluster { store, node_url: node_url.trim_end_matches('/').to_owned(), credential, client })
    }

    /// Records how many agents of `gateway` this node holds now.
    pub async fn announce(&self, hub: &GatewayHub, gateway: &GatewayId) {
        let agents = hub.status(gateway).agents.len();
        if let Err(error) = self.store.gateways().set_presence(gateway, &self.node_url, agents).await {
            tracing::warn!(target: "patchbay::gateway", %gateway, %error, "could not record the agents of this node");
        }
    }

    /// Whether `presented` is the nodes' credential.
    pub fn authorises(&self, presented: &str) -> bool {
        let (a, b) = (presented.as_bytes(), self.credential.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }

    /// Carries `request` through an agent of `gateway` held by another node.
    pub async fn forward(
        &self,
        gateway: &GatewayId,
        request: WireRequest,
    ) -> Result<WireResponse, TransportError> {
        let since = patchbay_store::now_ms() - STALE_AFTER_MS;
        let holders = self
            .store
            .gateways()
            .holders(gateway, &self.node_url, since)
            .await
            .map_err(|error| TransportError::Other(format!("gateway {gateway}: {error}")))?;
        let Some(node) = holders.first() else {
            return Err(TransportError::Connect(format!("gateway {gateway} (no agent is connected)")));
        };
        let answer = self
            .client
            .post(format!("{node}/api/gateways/{gateway}/relay"))
            .header(NODE_CREDENTIAL_HEADER, &self.credential)
            .body(pack_request(&request))
            .send()
            .await
            .map_err(|_| {
                TransportError::Connect(format!("gateway {gateway} (the node holding its agent at {node})"))
            })?;
        let status = answer.status();
        let bytes = answer
            .bytes()
            .await
            .map_err(|_| TransportError::Interrupted(format!("gateway {gateway} (the node at {node})")))?;
        if status != StatusCode::OK {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|body| body["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("the node at {node} answered {status}"));
            return Err(TransportError::Other(message));
        }
        unpack_response(&bytes)
            .ok_or_else(|| TransportError::Other(format!("gateway {gateway}: a garbled answer from {node}")))
    }
}

/// A frame's bytes behind a 4-byte length, then `rest`.
fn pack(frame: &Bytes, rest: &Bytes) -> Bytes {
    let mut out = BytesMut::with_capacity(4 + frame.len() + rest.len());
    out.put_u32(u32::try_from(frame.len()).unwrap_or(u32::MAX));
    out.put_slice(frame);
    out.put_slice(rest);
    out.freeze()
}

/// The frame and the rest of a packed message.
fn unpack(bytes: &Bytes) -> Option<(Frame, Bytes)> {
    let len = usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?)).ok()?;
    let end = 4usize.checked_add(len).filter(|end| *end <= bytes.len())?;
    let (_, frame) = decode(&bytes.slice(4..end)).ok()?;
    Some((frame, bytes.slice(end..)))
}

/// A request as one forwarded body: its head as a frame, then its body.
pub fn pack_request(request: &WireRequest) -> Bytes {
    let head = RequestHead {
        method: request.method.to_string(),
        url: request.url.to_string(),
        headers: super::relay::headers_out(&request.headers),
        body_len: request.body.len() as u64,
    };
    pack(&encode(0, &Frame::Request(head)), &request.body)
}

/// The request in a forwarded body.
pub fn unpack_request(bytes: &Bytes) -> Option<WireRequest> {
    let (Frame::Request(head), body) = unpack(bytes)? else { return None };
    let method = http::Method::from_bytes(head.method.as_bytes()).ok()?;
    let mut request = WireRequest::new(method, url::Url::parse(&head.url).ok()?);
    request.headers = super::relay::headers_in(head.headers);
    request.body = body;
    Some(request)
}

/// A response as one forwarded answer.
pub fn pack_response(response: &WireResponse) -> Bytes {
    let headers = response
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), Bytes::copy_from_slice(value.as_bytes())))
        .collect();
    let head = ResponseHead { status: response.status.as_u16(), headers };
    pack(&encode(0, &Frame::Response(head)), &response.body)
}

/// The response in a forwarded answer.
fn unpack_response(bytes: &Bytes) -> Option<WireResponse> {
    let (Frame::Response(head), body) = unpack(bytes)? else { return None };
    let status = StatusCode::from_u16(head.status).ok()?;
    Some(WireResponse { status, headers: super::relay::headers_in(head.headers), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_survive_packing() {
        let mut request =
            WireRequest::new(http::Method::PUT, url::Url::parse("http://10.0.0.5:8080/a?b=c").unwrap());
        request.headers.insert("x-k", http::HeaderValue::from_static("v"));
        request.body = Bytes::from_static(b"{\"x\":1}");
        let back = unpack_request(&pack_request(&request)).unwrap();
        assert_eq!((back.method, back.url, back.body), (request.method, request.url, request.body));
        assert_eq!(back.headers["x-k"], "v");
        let response = WireResponse {
            status: StatusCode::CREATED,
            headers: request.headers,
            body: Bytes::from_static(b"ok"),
        };
        let back = unpack_response(&pack_response(&response)).unwrap();
        assert_eq!((back.status, back.body), (StatusCode::CREATED, response.body));
        assert!(unpack_request(&Bytes::from_static(b"\0\0\0\x09garbage")).is_none());
        assert!(unpack_request(&Bytes::new()).is_none());
    }
}
