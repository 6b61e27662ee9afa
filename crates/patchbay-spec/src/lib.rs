//! The patchbay connector model and everything that reads and writes connector definitions.
#![deny(missing_docs)]

pub mod json;
