//! The validator: rules over the connector model, each group in its own module, each finding a
//! [`Diagnostic`] with a stable code (see [`crate::codes`]).

mod certification;
mod connection;
mod dynamic;
mod operations;
mod policies;
mod references;
mod structure;
mod triggers;

use crate::diag::{Diagnostic, escape_segment};
use crate::model::{Connector, Method, Operation, PathItem};

/// What to check, and how files are named in diagnostics.
#[derive(Debug, Clone)]
pub struct Options {
    /// Also apply the certification checklist (as warnings).
    pub certification: bool,
    /// The API definition's file name, for diagnostics.
    pub definition_file: String,
    /// The properties file's name, for diagnostics.
    pub properties_file: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            certification: false,
            definition_file: "apiDefinition.swagger.json".to_string(),
            properties_file: "apiProperties.json".to_string(),
        }
    }
}

/// Collects the findings of one validation run.
pub struct Report<'a> {
    /// The connector being checked.
    pub connector: &'a Connector,
    /// The options in force.
    pub options: &'a Options,
    /// Findings so far.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report<'_> {
    /// A finding in the API definition.
    pub fn definition(&mut self, code: &'static str, pointer: impl Into<String>, message: impl Into<String>) {
        let d = Diagnostic::new(code, &self.options.definition_file, pointer, message);
        self.diagnostics.push(d);
    }

    /// A finding in the properties file.
    pub fn properties(&mut self, code: &'static str, pointer: impl Into<String>, message: impl Into<String>) {
        let d = Diagnostic::new(code, &self.options.properties_file, pointer, message);
        self.diagnostics.push(d);
    }
}

/// One group of rules.
type Rule = fn(&mut Report);

/// Every rule group, in the order their findings are listed.
const RULES: &[Rule] = &[
    structure::check,
    references::check,
    operations::check,
    triggers::check,
    dynamic::check,
    policies::check,
    connection::check,
];

/// Checks a connector; certification checks are added when the options ask for them.
pub fn validate(connector: &Connector, options: &Options) -> Vec<Diagnostic> {
    let mut report = Report { connector, options, diagnostics: Vec::new() };
    for rule in RULES {
        rule(&mut report);
    }
    if options.certification {
        certification::check(&mut report);
    }
    report.diagnostics
}

/// The JSON pointer of a path item.
pub fn path_pointer(item: &PathItem) -> String {
    format!("/paths/{}", escape_segment(&item.path))
}

/// The JSON pointer of an operation.
pub fn operation_pointer(op: &Operation) -> String {
    format!("/paths/{}/{}", escape_segment(&op.path), op.method.key())
}

/// The JSON pointer of the `index`th own parameter of an operation.
pub fn parameter_pointer(op: &Operation, index: usize) -> String {
    format!("{}/parameters/{index}", operation_pointer(op))
}

/// Whether an operation with this method has a body by convention.
pub fn method_has_body(method: Method) -> bool {
    matches!(method, Method::Post | Method::Put | Method::Patch)
}
