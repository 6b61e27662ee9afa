//! Importers: formats other than Power Platform packages, turned into the connector model.

use crate::fields::Ctx;
use crate::model::Connector;
use serde_json::Value;

/// Imports an OpenAPI 3.x document. (Being written.)
pub fn import_openapi3(document: Value, ctx: &mut Ctx) -> Connector {
    let _ = document;
    ctx.emit("PB0106", "", "OpenAPI 3 import is not available in this build");
    Connector::default()
}

/// Imports a Postman collection. (Being written.)
pub fn import_postman(document: Value, ctx: &mut Ctx) -> Connector {
    let _ = document;
    ctx.emit("PB0106", "", "Postman import is not available in this build");
    Connector::default()
}
