//! The result of a call: the backend's status and headers, and its body decoded by media type.

use crate::wire::WireResponse;
use base64::Engine;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// A response body, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// No body.
    Empty,
    /// A JSON document (the media type says JSON, or the text parses as JSON with no media type).
    Json(Value),
    /// Text (`text/*`, XML, …).
    Text(String),
    /// Anything else, with its media type.
    Binary {
        /// The media type.
        content_type: String,
        /// The bytes.
        bytes: bytes::Bytes,
    },
}

impl ResponseBody {
    /// Decodes a body by its media type.
    pub fn decode(content_type: Option<&str>, bytes: &bytes::Bytes) -> Self {
        if bytes.is_empty() {
            return ResponseBody::Empty;
        }
        let ct = content_type.unwrap_or("").to_ascii_lowercase();
        let jsonish = ct.contains("json") || ct.is_empty();
        if jsonish && let Ok(v) = serde_json::from_slice(bytes) {
            return ResponseBody::Json(v);
        }
        let textual = ct.starts_with("text/") || ct.contains("xml") || ct.contains("json") || ct.is_empty();
        match std::str::from_utf8(bytes) {
            Ok(text) if textual => ResponseBody::Text(text.to_string()),
            _ => ResponseBody::Binary { content_type: ct, bytes: bytes.clone() },
        }
    }

    /// The body as a workflow value: JSON as it is, text as a string, binary as
    /// `{"$content-type": …, "$content": <base64>}` (the Logic Apps convention).
    pub fn to_value(&self) -> Value {
        match self {
            ResponseBody::Empty => Value::Null,
            ResponseBody::Json(v) => v.clone(),
            ResponseBody::Text(t) => Value::String(t.clone()),
            ResponseBody::Binary { content_type, bytes } => json!({
                "$content-type": content_type,
                "$content": base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
        }
    }
}

/// A completed call.
#[derive(Debug, Clone)]
pub struct InvokeResponse {
    /// The backend's status.
    pub status: StatusCode,
    /// The backend's headers.
    pub headers: HeaderMap,
    /// The decoded body.
    pub body: ResponseBody,
    /// Where the body does not match the operation's response schema (warnings, not failures).
    pub schema_warnings: Vec<String>,
}

impl InvokeResponse {
    /// Decodes a wire response.
    pub fn from_wire(wire: WireResponse) -> Self {
        let content_type = wire.header("content-type").map(str::to_string);
        let body = ResponseBody::decode(content_type.as_deref(), &wire.body);
        InvokeResponse { status: wire.status, headers: wire.headers, body, schema_warnings: Vec::new() }
    }
}

/// The first `limit` characters of a body, for error messages.
pub fn excerpt(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(limit).collect();
    if text.chars().count() > limit {
        out.push('…');
    }
    out
}
