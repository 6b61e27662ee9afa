//! Load and validate in one step, with every diagnostic located in its file.

use crate::diag::{Diagnostic, has_errors};
use crate::load::{Loaded, Sources, load_path};
use crate::model::Connector;
use crate::validate::{Options, validate};
use std::path::Path;

/// A loaded and validated connector.
#[derive(Debug)]
pub struct Checked {
    /// The connector, unless loading failed.
    pub connector: Option<Connector>,
    /// Loader and validator findings, located.
    pub diagnostics: Vec<Diagnostic>,
    /// Source texts, to show the lines diagnostics point at.
    pub sources: Sources,
}

impl Checked {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        has_errors(&self.diagnostics)
    }
}

/// Loads `path` (a package folder or a document) and validates what loaded.
pub fn check_path(path: &Path, certification: bool) -> Checked {
    let Loaded { connector, mut diagnostics, sources, definition_file, properties_file } = load_path(path);
    if let Some(c) = &connector {
        let options = Options { certification, definition_file, properties_file };
        diagnostics.extend(validate(c, &options));
    }
    sources.locate_all(&mut diagnostics);
    Checked { connector, diagnostics, sources }
}
