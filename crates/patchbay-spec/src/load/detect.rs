//! Which format a document is in.

use serde_json::Value;

/// A supported input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Swagger 2.0 (the Power Platform format).
    Swagger2,
    /// OpenAPI 3.0 or 3.1.
    OpenApi3,
    /// A Postman collection v2.0 or v2.1.
    Postman,
}

/// Detects the format from a document's top-level keys.
pub fn detect_format(document: &Value) -> Option<Format> {
    if document.get("swagger").is_some() {
        return Some(Format::Swagger2);
    }
    if document.get("openapi").is_some() {
        return Some(Format::OpenApi3);
    }
    let schema = document.pointer("/info/schema").and_then(Value::as_str).unwrap_or("");
    if schema.contains("schema.getpostman.com")
        || (document.get("item").is_some() && document.get("info").is_some())
    {
        return Some(Format::Postman);
    }
    None
}
