//! An HTTP request and response as they cross the wire: what the transport sends and receives.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

/// A fully built request.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL, query included.
    pub url: Url,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Bytes,
}

impl WireRequest {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: Url) -> Self {
        WireRequest { method, url, headers: HeaderMap::new(), body: Bytes::new() }
    }
}

/// A response, with its body read completely (bounded by the transport's limit).
#[derive(Debug, Clone)]
pub struct WireResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, decompressed.
    pub body: Bytes,
}

impl WireResponse {
    /// A header's value as text, when present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
