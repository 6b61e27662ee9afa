//! The shared HTTP client: one exchange, bounded in time and size, guarded against SSRF.
//!
//! Redirects are **not followed**: a 3xx answer is returned to the caller as it is, because what
//! to do with a `Location` (follow it, rewrite it through the connector, hand it to the flow)
//! belongs to the pipeline, and any URL it then sends passes the same guard. Proxies from the
//! environment are ignored, since a proxy would resolve names out of the guard's sight.

use super::errors::{authority, from_reqwest};
use super::guard::{GuardedResolver, check_url};
use super::relay::Relay;
use super::{TransportError, TransportOptions};
use crate::wire::{WireRequest, WireResponse};
use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRAILER, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderValue, Method};
use std::sync::Arc;
use url::Url;

/// The most memory reserved up front for a body whose length the server announced.
const MAX_PREALLOCATION: usize = 1024 * 1024;

/// The shared client.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    options: Arc<TransportOptions>,
    relay: Option<Arc<dyn Relay>>,
}

impl Transport {
    /// Builds the client.
    pub fn new(options: TransportOptions) -> Result<Self, TransportError> {
        // No provider is chosen by crate features; a provider already installed stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(options.clone()))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(options.connect_timeout)
            .gzip(true)
            .deflate(true)
            .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| TransportError::Other(format!("could not build the HTTP client: {err}")))?;
        Ok(Transport { client, options: Arc::new(options), relay: None })
    }

    /// The same client, but every request is carried by `relay` (e.g. an on-premises gateway)
    /// instead of being sent directly; retries, polling and paging stay as they are.
    pub fn through(&self, relay: Arc<dyn Relay>) -> Transport {
        Transport { relay: Some(relay), ..self.clone() }
    }

    /// The options this client enforces.
    pub fn options(&self) -> &TransportOptions {
        &self.options
    }

    /// Sends one request; no retries.
    pub async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let limit = self.options.timeout;
        if let Some(relay) = &self.relay {
            return match tokio::time::timeout(limit, relay.exchange(request)).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::Timeout(limit)),
            };
        }
        check_url(&request.url, &self.options)?;
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout(limit)),
        }
    }

    /// Sends the request and reads the whole (decoded) body within the size limit.
    async fn exchange(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let url = request.url.clone();
        // An empty body is still sent (as `Content-Length: 0`) with methods that carry one;
        // some servers answer 411 otherwise.
        let mut headers = end_to_end(request.headers);
        if request.body.is_empty() && carries_body(&request.method) {
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let mut builder = self.client.request(request.method, request.url).headers(headers);
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let response = builder.send().await.map_err(|err| from_reqwest(&err, &url, &self.options))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(response, &url).await?;
        Ok(WireResponse { status, headers, body })
    }

    /// Reads the body chunk by chunk, failing as soon as it would exceed the limit.
    async fn read_body(&self, mut response: reqwest::Response, url: &Url) -> Result<Bytes, TransportError> {
        let max = self.options.max_response_bytes;
        let announced = response.content_length().map(|len| usize::try_from(len).unwrap_or(usize::MAX));
        if announced.is_some_and(|len| len > max) {
            return Err(TransportError::TooLarge(max));
        }
        let mut body = BytesMut::with_capacity(announced.unwrap_or(0).min(max).min(MAX_PREALLOCATION));
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(body.freeze()),
                Err(err) if err.is_timeout() || err.is_decode() => {
                    return Err(from_reqwest(&err, url, &self.options));
                }
                Err(err) => {
                    return Err(TransportError::Interrupted(format!("{} ({err})", authority(url))));
                }
            };
            if chunk.len() > max.saturating_sub(body.len()) {
                return Err(TransportError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
    }
}

/// Whether requests with this method normally have a body.
fn carries_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// The headers without hop-by-hop and framing ones, which the client sets itself.
fn end_to_end(mut headers: HeaderMap) -> HeaderMap {
    for name in [CONNECTION, CONTENT_LENGTH, TE, TRAILER, TRANSFER_ENCODING, UPGRADE] {
        headers.remove(name);
    }
    for name in ["keep-alive", "proxy-connection"] {
        headers.remove(name);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        for (name, value) in [("connection", "close"), ("content-length", "99"), ("keep-alive", "5")] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers.insert("x-kept", HeaderValue::from_static("yes"));
        let kept = end_to_end(headers);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["x-kept"], "yes");
    }

    #[tokio::test]
    async fn literal_loopback_is_refused_before_connecting() {
        let transport = Transport::new(TransportOptions::default()).unwrap();
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        let err = transport.send(WireRequest::new(http::Method::GET, url)).await.unwrap_err();
        assert!(matches!(err, TransportError::Forbidden { ref host, .. } if host == "127.0.0.1"), "{err}");
    }
}
