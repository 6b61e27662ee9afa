//! Importers: formats other than Power Platform packages, turned into the connector model.

mod common;
pub mod openapi3;
pub mod postman;

pub use openapi3::import_openapi3;
pub use postman::import_postman;
