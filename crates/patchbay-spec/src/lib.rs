//! The patchbay connector model and everything that reads and writes connector definitions.
#![deny(missing_docs)]

pub mod codes;
pub mod diag;
pub mod fields;
pub mod json;
pub mod model;
pub mod refs;

pub use diag::{Diagnostic, Severity};
pub use model::Connector;
pub mod export;
pub mod import;
pub mod load;
pub mod package;
pub mod validate;
