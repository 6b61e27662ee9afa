//! Loading connectors from disk: package folders and single documents of every supported format.

mod detect;
mod path;
mod source;

pub use detect::{Format, detect_format};
pub use path::load_path;
pub use source::{Sources, read_document};

use crate::diag::Diagnostic;
use crate::model::Connector;

/// The result of loading: the connector (unless an error prevented building one), what was
/// found along the way, and the source texts to locate diagnostics in.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The connector; `None` when a file could not be read or parsed.
    pub connector: Option<Connector>,
    /// Findings of the loader, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Decoded text of every file read, for line and column lookups.
    pub sources: Sources,
    /// How the API definition file is named in diagnostics.
    pub definition_file: String,
    /// How the properties file is named in diagnostics.
    pub properties_file: String,
}
