//! The request being built: binding creates it, security and request policies edit it, and it
//! becomes a [`WireRequest`] just before it is sent.

use crate::wire::WireRequest;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method};
use serde_json::Value;
use url::Url;

/// One part of a multipart form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormPart {
    /// The field name.
    pub name: String,
    /// The file name, for file parts.
    pub file_name: Option<String>,
    /// The part's media type, for file parts.
    pub content_type: Option<String>,
    /// The content.
    pub data: Bytes,
}

/// The body of a request being built.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DraftBody {
    /// No body.
    #[default]
    None,
    /// A JSON document (policies can edit it).
    Json(Value),
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, String)>),
    /// `multipart/form-data` parts.
    Multipart(Vec<FormPart>),
    /// Raw bytes with their media type.
    Raw {
        /// The media type.
        content_type: String,
        /// The bytes.
        bytes: Bytes,
    },
}

/// A request being built.
#[derive(Debug, Clone)]
pub struct HttpDraft {
    /// The method.
    pub method: Method,
    /// `scheme://host[:port][/basePath]`, without a trailing slash.
    pub base_url: String,
    /// The operation path with parameters substituted and encoded, starting with `/`.
    pub path: String,
    /// Query pairs, not yet encoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: DraftBody,
}

/// Why a draft cannot become a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the request URL `{url}` is not valid: {reason}")]
pub struct UrlError {
    /// The URL as built.
    pub url: String,
    /// What is wrong.
    pub reason: String,
}

impl HttpDraft {
    /// The absolute URL: base URL and path joined with one slash, then the query.
    pub fn url(&self) -> Result<Url, UrlError> {
        let base = self.base_url.trim_end_matches('/');
        let path = if self.path.starts_with('/') || self.path.is_empty() {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        let text = format!("{base}{path}");
        let mut url = Url::parse(&text).map_err(|e| UrlError { url: text.clone(), reason: e.to_string() })?;
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Turns the draft into the request that is sent, serialising the body.
    pub fn into_wire(self) -> Result<WireRequest, UrlError> {
        let url = self.url()?;
        let mut wire = WireRequest { method: self.method, url, headers: self.headers, body: Bytes::new() };
        let (content_type, body) = encode_body(self.body);
        if let Some(ct) = content_type
            && !wire.headers.contains_key(CONTENT_TYPE)
            && let Ok(value) = HeaderValue::from_str(&ct)
        {
            wire.headers.insert(CONTENT_TYPE, value);
        }
        wire.body = body;
        Ok(wire)
    }
}

/// The boundary used for multipart bodies (fixed, so requests are reproducible in tests).
pub const MULTIPART_BOUNDARY: &str = "patchbay-form-boundary-7d1f3a9c";

/// Serialises a body and says its media type.
fn encode_body(body: DraftBody) -> (Option<String>, Bytes) {
    match body {
        DraftBody::None => (None, Bytes::new()),
        DraftBody::Json(v) => (Some("application/json".into()), Bytes::from(v.to_string())),
        DraftBody::Form(fields) => {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                ser.append_pair(k, v);
            }
            (Some("application/x-www-form-urlencoded".into()), Bytes::from(ser.finish()))
        }
        DraftBody::Multipart(parts) => {
            let mut out = Vec::new();
            for part in parts {
                out.extend_from_slice(format!("--{MULTIPART_BOUNDARY}\r\n").as_bytes());
                let disposition = match &part.file_name {
                    Some(f) => {
                        format!("form-data; name=\"{}\"; filename=\"{}\"", quote(&part.name), quote(f))
                    }
                    None => format!("form-data; name=\"{}\"", quote(&part.name)),
                };
                out.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
                if let Some(ct) = &part.content_type {
                    out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&part.data);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
            (Some(format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}")), Bytes::from(out))
        }
        DraftBody::Raw { content_type, bytes } => (Some(content_type), bytes),
    }
}

/// Escapes a quoted multipart header value.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace(['\r', '\n'], " ")
}
