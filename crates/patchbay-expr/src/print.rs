//! Printing trees back to text that parses to the same tree.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::ast::{Access, Expr, ExprKind, Segment, Template};
use crate::lexer::{is_ident_continue, is_ident_start};

/// `true` when `name` can be written after a `.` (else it is printed as `['name']`).
fn is_identifier(name: &str) -> bool {
    name.starts_with(is_ident_start) && name.chars().all(is_ident_continue)
}

/// A string literal with `'` doubled.
fn quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    write!(f, "'{}'", s.replace('\'', "''"))
}

fn list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Null => f.write_str("null"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Number(n) => match n.as_f64() {
                Some(x) if n.is_f64() => write!(f, "{x:?}"),
                _ => write!(f, "{n}"),
            },
            ExprKind::String(s) => quoted(f, s),
            ExprKind::Array(items) => {
                f.write_char('[')?;
                list(f, items)?;
                f.write_char(']')
            }
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Path(segments) => f.write_str(&segments.join(".")),
            ExprKind::Member { target, access, null_safe } => {
                write!(f, "{target}")?;
                if *null_safe {
                    f.write_char('?')?;
                }
                match access {
                    Access::Property(name) if is_identifier(name) => write!(f, ".{name}"),
                    Access::Property(name) => {
                        f.write_char('[')?;
                        quoted(f, name)?;
                        f.write_char(']')
                    }
                    Access::Index(index) => write!(f, "[{index}]"),
                }
            }
        }
    }
}

/// Literal text inside a template: `@{` becomes `@@{`; a leading `@` (at the very start of the
/// template) becomes `@@`.
fn escape_text(out: &mut String, text: &str, at_start: bool) {
    let mut rest = text;
    if at_start && let Some(tail) = rest.strip_prefix('@') {
        out.push_str("@@");
        rest = tail;
    }
    out.push_str(&rest.replace("@{", "@@{"));
}

impl Display for Template {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        match self {
            Template::Literal(text) => escape_text(&mut out, text, true),
            Template::Expression(expr) => write!(out, "@{expr}")?,
            Template::Interpolated(segments) => {
                let merged = merge_text(segments);
                for (i, segment) in merged.iter().enumerate() {
                    match segment {
                        Segment::Text(text) => {
                            let next_is_expr = matches!(merged.get(i + 1), Some(Segment::Expr(_)));
                            let head = if next_is_expr { text.trim_end_matches('@') } else { text };
                            let at_start = out.is_empty();
                            escape_text(&mut out, head, at_start);
                            // `x@` before `@{…}` would read as the escape `x@@{`: print trailing `@`s
                            // as an interpolated string instead.
                            let ats = text.len() - head.len();
                            if ats > 0 {
                                write!(out, "@{{'{}'}}", "@".repeat(ats))?;
                            }
                        }
                        Segment::Expr(expr) => write!(out, "@{{{expr}}}")?,
                    }
                }
            }
        }
        f.write_str(&out)
    }
}

/// Adjacent text segments joined and empty ones dropped (the parser never produces either).
fn merge_text(segments: &[Segment]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for segment in segments {
        match (out.last_mut(), segment) {
            (_, Segment::Text(t)) if t.is_empty() => {}
            (Some(Segment::Text(prev)), Segment::Text(t)) => prev.push_str(t),
            _ => out.push(segment.clone()),
        }
    }
    out
}
