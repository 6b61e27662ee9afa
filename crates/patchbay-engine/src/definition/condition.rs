//! Conditions of `If` and `Until`: an `@expression` string, or the designer's object form
//! (`{"and": [{"equals": ["@variables('x')", 3]}]}`), compiled to one expression tree.

use patchbay_expr::{Expr, ExprKind, Segment, Template, parse_template};
use serde_json::Value;

use super::Diagnostic;

/// Comparison functions allowed in the object form.
const COMPARATORS: &[&str] =
    &["equals", "greater", "greaterOrEquals", "less", "lessOrEquals", "contains", "startsWith", "endsWith"];

/// Compiles a condition of `action` found at `pointer`.
pub fn compile(value: &Value, action: &str, pointer: &str, errors: &mut Vec<Diagnostic>) -> Option<Template> {
    match value {
        Value::String(text) => match parse_template(text) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(Diagnostic::expression(action, pointer, text, &e));
                None
            }
        },
        Value::Bool(b) => Some(Template::Expression(Expr::new(ExprKind::Bool(*b)))),
        Value::Object(_) => match object(value, action, pointer, errors) {
            Ok(expr) => Some(Template::Expression(expr)),
            Err(message) => {
                errors.push(Diagnostic::action(action, format!("{pointer}: {message}")));
                None
            }
        },
        _ => {
            errors.push(Diagnostic::action(
                action,
                format!("{pointer}: a condition must be a string or an object"),
            ));
            None
        }
    }
}

/// One condition object: `and`/`or` over an array, `not` over a condition, or a comparison.
fn object(value: &Value, action: &str, pointer: &str, errors: &mut Vec<Diagnostic>) -> Result<Expr, String> {
    let map = value.as_object().ok_or("a condition must be an object")?;
    let [(op, arg)] = map.iter().collect::<Vec<_>>()[..] else {
        return Err("a condition object must have exactly one operator".into());
    };
    let at = format!("{pointer}/{op}");
    match op.as_str() {
        "and" | "or" => {
            let items = arg.as_array().ok_or_else(|| format!("`{op}` takes an array"))?;
            let mut args = Vec::new();
            for (i, item) in items.iter().enumerate() {
                args.push(object(item, action, &format!("{at}/{i}"), errors)?);
            }
            Ok(match args.len() {
                0 => Expr::new(ExprKind::Bool(op == "and")),
                1 => args.remove(0),
                _ => call(op, args),
            })
        }
        "not" => Ok(call("not", vec![object(arg, action, &at, errors)?])),
        name if COMPARATORS.contains(&name) => {
            let items = arg
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| format!("`{op}` takes two operands"))?;
            let mut args = Vec::new();
            for (i, item) in items.iter().enumerate() {
                args.push(operand(item, action, &format!("{at}/{i}"), errors));
            }
            Ok(call(name, args))
        }
        other => Err(format!("unsupported condition operator `{other}`")),
    }
}

/// An operand: a template becomes its expression, text a string literal, interpolation a `concat`.
fn operand(value: &Value, action: &str, pointer: &str, errors: &mut Vec<Diagnostic>) -> Expr {
    match value {
        Value::String(text) => match parse_template(text) {
            Ok(Template::Expression(e)) => e,
            Ok(Template::Literal(s)) => Expr::new(ExprKind::String(s)),
            Ok(Template::Interpolated(segments)) => {
                let args = segments
                    .into_iter()
                    .map(|s| match s {
                        Segment::Text(t) => Expr::new(ExprKind::String(t)),
                        Segment::Expr(e) => call("string", vec![e]),
                    })
                    .collect();
                call("concat", args)
            }
            Err(e) => {
                errors.push(Diagnostic::expression(action, pointer, text, &e));
                Expr::new(ExprKind::Null)
            }
        },
        Value::Null => Expr::new(ExprKind::Null),
        Value::Bool(b) => Expr::new(ExprKind::Bool(*b)),
        Value::Number(n) => Expr::new(ExprKind::Number(n.clone())),
        other => call("json", vec![Expr::new(ExprKind::String(other.to_string()))]),
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::new(ExprKind::Call { name: name.to_string(), args })
}
