//! Reading one document (JSON, tolerant, or YAML) and remembering its text.

use crate::diag::Diagnostic;
use crate::json::{self, Limits, Position};
use serde_json::Value;

/// The decoded text of every file read, to locate diagnostics by JSON pointer later.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<(String, String, bool)>,
}

impl Sources {
    /// Remembers a file's decoded text (`json` false for YAML, which is not located).
    pub fn add(&mut self, file: &str, text: String, json: bool) {
        self.files.push((file.to_string(), text, json));
    }

    /// A file's text.
    pub fn text(&self, file: &str) -> Option<&str> {
        self.files.iter().find(|(f, _, _)| f == file).map(|(_, t, _)| t.as_str())
    }

    /// Fills in the line and column of diagnostics that have a pointer but no position yet.
    pub fn locate_all(&self, diagnostics: &mut [Diagnostic]) {
        for d in diagnostics.iter_mut().filter(|d| d.position.is_none()) {
            d.position = self.locate(&d.file, &d.pointer);
        }
    }

    /// The position of `pointer` in `file`, falling back to the nearest existing parent.
    pub fn locate(&self, file: &str, pointer: &str) -> Option<Position> {
        let (_, text, is_json) = self.files.iter().find(|(f, _, _)| f == file)?;
        if !is_json {
            return None;
        }
        let mut p = pointer;
        loop {
            if let Some(pos) = json::locate(text, p) {
                return Some(pos);
            }
            p = &p[..p.rfind('/')?];
        }
    }
}

/// Parses `bytes` as JSON (tolerantly) or, when `yaml_allowed` and the text does not start like
/// JSON, as YAML. Leniencies become warnings, defects errors, all recorded in `diagnostics`.
pub fn read_document(
    bytes: &[u8],
    file: &str,
    yaml_allowed: bool,
    diagnostics: &mut Vec<Diagnostic>,
    sources: &mut Sources,
) -> Option<Value> {
    let limits = Limits::default();
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
    let looks_json = matches!(first, Some(b'{' | b'[' | b'/')) || first.is_none();
    if yaml_allowed && !looks_json && bytes.len() <= limits.max_bytes && std::str::from_utf8(bytes).is_ok() {
        return read_yaml(bytes, file, diagnostics, sources);
    }
    match json::read(bytes, &limits) {
        Ok(doc) => {
            for w in &doc.warnings {
                let d = Diagnostic::new("PB0103", file, "", w.message.clone()).at(w.position);
                diagnostics.push(d);
            }
            sources.add(file, doc.text, true);
            Some(doc.value)
        }
        Err(e) => {
            diagnostics.push(Diagnostic::new("PB0102", file, "", e.message.clone()).at(e.position));
            if bytes.len() <= limits.max_bytes {
                // Kept to show the offending line; not located by pointer, since it does not parse.
                sources.add(file, String::from_utf8_lossy(bytes).into_owned(), false);
            }
            None
        }
    }
}

fn read_yaml(
    bytes: &[u8],
    file: &str,
    diagnostics: &mut Vec<Diagnostic>,
    sources: &mut Sources,
) -> Option<Value> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    match yaml_serde::from_str::<Value>(&text) {
        Ok(value) => {
            sources.add(file, text, false);
            Some(value)
        }
        Err(e) => {
            let mut d = Diagnostic::new("PB0107", file, "", e.to_string());
            if let Some(loc) = e.location() {
                let line = u32::try_from(loc.line()).unwrap_or(u32::MAX);
                let column = u32::try_from(loc.column()).unwrap_or(u32::MAX);
                d = d.at(Position { line, column });
            }
            diagnostics.push(d);
            None
        }
    }
}
