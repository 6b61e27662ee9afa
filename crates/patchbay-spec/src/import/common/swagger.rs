//! Swagger 2.0–shaped JSON (what the importers build) read into the model's typed fields.
//!
//! Both importers first write a parameter or an operation's extensions the way a Swagger 2.0
//! file would have them, then read them here, so `x-ms-*` extensions land in the same typed
//! fields whatever the source format.

use crate::fields::Ctx;
use crate::model::{Object, Parameter, Response};
use serde_json::Value;

/// Reads a Swagger 2.0 parameter object (`name`, `in`, value keys or `schema`, `x-ms-*`) with
/// the package reader, so extensions land in the same typed fields whatever the source format.
pub(crate) fn parameter(map: Object, pointer: &str, ctx: &mut Ctx) -> Parameter {
    crate::package::read_parameter(Value::Object(map), pointer.to_string(), ctx)
}

/// The response given to an operation whose source describes none.
pub(crate) fn default_response() -> Response {
    Response {
        status: "default".to_string(),
        description: Some("Default response".to_string()),
        ..Response::default()
    }
}
