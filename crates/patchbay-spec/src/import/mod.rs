//! Importers: formats other than Power Platform packages, turned into the connector model.

mod common;
pub mod openapi3;
pub mod postman;
