//! Human output of diagnostics, in the style of rustc: the source line and a caret under the spot.

use patchbay_spec::load::Sources;
use patchbay_spec::{Diagnostic, Severity};
use std::fmt::Write;
use std::path::Path;

/// Renders one diagnostic; `base` is the package folder or file the diagnostic's file is in.
pub fn render(d: &Diagnostic, base: &Path, sources: &Sources) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
    let shown = if base.is_dir() { base.join(&d.file) } else { base.to_path_buf() };
    let location = match d.position {
        Some(p) => format!("{}:{}:{}", shown.display(), p.line, p.column),
        None => shown.display().to_string(),
    };
    let _ = writeln!(out, "  --> {location}");
    if let (Some(p), Some(text)) = (d.position, sources.text(&d.file)) {
        let line_no = p.line.to_string();
        let pad = " ".repeat(line_no.len());
        if let Some(line) = text.lines().nth((p.line as usize).saturating_sub(1)) {
            let line: String = line.chars().take(200).collect();
            let caret_at = (p.column as usize).saturating_sub(1).min(line.chars().count());
            let indent: String =
                line.chars().take(caret_at).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line_no} | {line}");
            let _ = writeln!(out, "{pad} | {indent}^");
        }
    }
    if !d.pointer.is_empty() {
        let _ = writeln!(out, "   = at: {}", d.pointer);
    }
    if !d.hint.is_empty() {
        let _ = writeln!(out, "   = hint: {}", d.hint);
    }
    out
}

/// Whether a diagnostic of `severity` is shown at the chosen minimum level.
pub fn shown(severity: Severity, minimum: Severity) -> bool {
    severity <= minimum
}
