//! JSON string values as templates: `@expr`, `@{…}` interpolation and `@@` escapes (WDL), and the
//! policy-template dialect with `@call()` inside text and `{@…}` braces.

use serde_json::{Map, Value};

use crate::ast::{Segment, Template};
use crate::error::{EvalError, ParseError};
use crate::lexer::{Tok, is_ident_continue, is_ident_start};
use crate::parser::Parser;
use crate::scope::Scope;
use crate::value::to_text;

/// Parses a JSON string value of a workflow definition (Workflow Definition Language rules).
///
/// * `@expr` (the whole string) is an expression whose result keeps its JSON type;
/// * `…@{expr}…` interpolates; the result is a string (also when the string is exactly `@{expr}`);
/// * a leading `@@` is a literal `@`; elsewhere `@@{` is a literal `@{`;
/// * any other `@` is literal text.
pub fn parse_template(text: &str) -> Result<Template, ParseError> {
    if text.starts_with("@@") {
        return scan(text, 2, "@".to_string());
    }
    if text.starts_with('@') && !text.starts_with("@{") {
        let mut parser = Parser::new(text, 1);
        let expr = parser.expression()?;
        parser.expect(&Tok::Eof, "the end of the expression")?;
        return Ok(Template::Expression(expr));
    }
    scan(text, 0, String::new())
}

/// Scans text for `@{…}` interpolations from byte `from`, starting the literal buffer with `buf`.
fn scan(text: &str, from: usize, mut buf: String) -> Result<Template, ParseError> {
    let mut segments = Vec::new();
    let mut i = from;
    while let Some(found) = text[i..].find('@') {
        let at = i + found;
        buf.push_str(&text[i..at]);
        let after = &text[at + 1..];
        if after.starts_with('{') {
            if !buf.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut buf)));
            }
            let (expr, end) = braced_expression(text, at + 2, Parser::new)?;
            segments.push(Segment::Expr(expr));
            i = end;
        } else if after.starts_with("@{") {
            buf.push_str("@{");
            i = at + 3;
        } else {
            buf.push('@');
            i = at + 1;
        }
    }
    buf.push_str(&text[i..]);
    Ok(finish(segments, buf))
}

/// Parses an expression at `start` that must be followed by `}`; returns it and the end position.
fn braced_expression<'a>(
    text: &'a str,
    start: usize,
    parser: fn(&'a str, usize) -> Parser<'a>,
) -> Result<(crate::ast::Expr, usize), ParseError> {
    let mut parser = parser(text, start);
    let expr = parser.expression()?;
    parser.expect(&Tok::RBrace, "`}` to close the interpolation")?;
    Ok((expr, parser.pos()))
}

/// The template of the collected segments plus the trailing literal `buf`.
fn finish(mut segments: Vec<Segment>, buf: String) -> Template {
    if segments.is_empty() {
        return Template::Literal(buf);
    }
    if !buf.is_empty() {
        segments.push(Segment::Text(buf));
    }
    Template::Interpolated(segments)
}

/// Parses a policy-template parameter value (connector `apiProperties.json` dialect, spec §3.6).
///
/// On top of the WDL rules of [`parse_template`]: `@name(…)` and `@Request.Path` may appear anywhere
/// in text (`https://@connectionParameters('host')/api`), `{@expr}` interpolates (setproperty), every
/// member access is null-safe (a missing value interpolates as empty), and after the string-valued
/// functions `connectionParameters`, `header(s)` and `queryParameters` a `.` is text
/// (`https://@header('x').example.com`). An `@` that does not start a call or a `Request.` path is
/// text (`user@example.com`). A string that is exactly one `@expr` keeps the expression's JSON type.
pub fn parse_policy_template(text: &str) -> Result<Template, ParseError> {
    let mut segments = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    let mut whole = false;
    while i < text.len() {
        let rest = &text[i..];
        let Some(found) = rest.find(['@', '{']) else { break };
        let at = i + found;
        buf.push_str(&text[i..at]);
        let after = &text[at + 1..];
        let mut push_expr = |buf: &mut String, expr| {
            if !buf.is_empty() {
                segments.push(Segment::Text(std::mem::take(buf)));
            }
            segments.push(Segment::Expr(expr));
        };
        if text[at..].starts_with("{@") {
            let (expr, end) = braced_expression(text, at + 2, Parser::policy)?;
            push_expr(&mut buf, expr);
            i = end;
        } else if text[at..].starts_with('{') {
            buf.push('{');
            i = at + 1;
        } else if after.starts_with('@') {
            buf.push('@');
            i = at + 2;
        } else if after.starts_with('{') {
            let (expr, end) = braced_expression(text, at + 2, Parser::policy)?;
            push_expr(&mut buf, expr);
            i = end;
        } else if starts_embedded_expression(after) {
            let mut parser = Parser::policy(text, at + 1);
            let expr = parser.expression()?;
            whole = at == 0 && parser.pos() == text.len();
            push_expr(&mut buf, expr);
            i = parser.pos();
        } else {
            buf.push('@');
            i = at + 1;
        }
    }
    buf.push_str(&text[i.min(text.len())..]);
    if whole && let [Segment::Expr(expr)] = segments.as_slice() {
        return Ok(Template::Expression(expr.clone()));
    }
    Ok(finish(segments, buf))
}

/// `true` when text after an `@` starts a call (`name(`) or a `Request.` path.
fn starts_embedded_expression(after: &str) -> bool {
    if !after.starts_with(is_ident_start) {
        return false;
    }
    let len = after.find(|c: char| !is_ident_continue(c)).unwrap_or(after.len());
    let next = &after[len..];
    next.starts_with('(') || (after[..len].eq_ignore_ascii_case("Request") && next.starts_with('.'))
}

impl Template {
    /// Evaluates the template: a literal as is, a whole-string expression with its JSON type, an
    /// interpolation as a string.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        match self {
            Template::Literal(text) => Ok(Value::String(text.clone())),
            Template::Expression(expr) => expr.evaluate(scope),
            Template::Interpolated(segments) => {
                let mut out = String::new();
                for segment in segments {
                    match segment {
                        Segment::Text(text) => out.push_str(text),
                        Segment::Expr(expr) => out.push_str(&to_text(&expr.evaluate(scope)?)),
                    }
                }
                Ok(Value::String(out))
            }
        }
    }
}

/// Evaluates every string in a JSON value as a template (object keys are not evaluated), as Logic
/// Apps does for action inputs. Errors carry the JSON pointer of the failing string.
pub fn evaluate_json(value: &Value, scope: &dyn Scope) -> Result<Value, EvalError> {
    walk(value, scope, &mut String::new())
}

fn walk(value: &Value, scope: &dyn Scope, pointer: &mut String) -> Result<Value, EvalError> {
    match value {
        Value::String(text) => {
            let template = parse_template(text).map_err(EvalError::from);
            template.and_then(|t| t.evaluate(scope)).map_err(|mut e| {
                e.pointer
                    .get_or_insert_with(|| if pointer.is_empty() { "/".into() } else { pointer.clone() });
                e
            })
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                let result = walk(item, scope, pointer);
                pointer.truncate(len);
                out.push(result?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                let result = walk(item, scope, pointer);
                pointer.truncate(len);
                out.insert(key.clone(), result?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}
