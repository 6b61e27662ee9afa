//! The patchbay connector model and everything that reads and writes connector definitions:
//! the tolerant JSON reader, loaders for Power Platform packages, Swagger 2.0, OpenAPI 3.x and
//! Postman collections, the validator with stable diagnostic codes, and the package exporter.
#![deny(missing_docs)]

pub mod check;
pub mod codes;
pub mod diag;
pub mod export;
pub mod fields;
pub mod import;
pub mod json;
pub mod load;
pub mod model;
pub mod package;
pub mod refs;
pub mod validate;

pub use check::{Checked, check_path};
pub use diag::{Diagnostic, Severity};
pub use load::{Loaded, load_path};
pub use model::Connector;
