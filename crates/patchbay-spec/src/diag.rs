//! Diagnostics: what a loader or the validator reports about a package.

use crate::json::Position;
use serde_json::{Value, json};
use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The package cannot be used as it is.
    Error,
    /// The package works, but something is likely wrong or non-portable.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// The lower-case name used in output (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, located as precisely as the input allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `PB0201`; see [`crate::codes`].
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The file it is about, as named in the package (e.g. `apiDefinition.swagger.json`).
    pub file: String,
    /// JSON pointer (RFC 6901) into that file; empty for the whole file.
    pub pointer: String,
    /// Line and column in the file, when known.
    pub position: Option<Position>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, in one line.
    pub hint: String,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and hint.
    pub fn new(
        code: &'static str,
        file: &str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let spec = crate::codes::lookup(code);
        Diagnostic {
            code,
            severity: spec.severity,
            file: file.to_string(),
            pointer: pointer.into(),
            position: None,
            message: message.into(),
            hint: spec.hint.to_string(),
        }
    }

    /// Replaces the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// Sets the position.
    pub fn at(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }

    /// Changes the severity (e.g. certification checks are warnings).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The diagnostic as a JSON object (for `--format json` and the API).
    pub fn to_json(&self) -> Value {
        json!({
            "code": self.code,
            "severity": self.severity.as_str(),
            "file": self.file,
            "pointer": self.pointer,
            "line": self.position.map(|p| p.line),
            "column": self.position.map(|p| p.column),
            "message": self.message,
            "hint": self.hint,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        match self.position {
            Some(p) => write!(f, " ({}:{}:{}", self.file, p.line, p.column)?,
            None => write!(f, " ({}", self.file)?,
        }
        if !self.pointer.is_empty() {
            write!(f, " at {}", self.pointer)?;
        }
        f.write_str(")")
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from segments.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    segments.into_iter().fold(String::new(), |mut out, s| {
        out.push('/');
        out.push_str(&escape_segment(s.as_ref()));
        out
    })
}
