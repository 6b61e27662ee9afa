//! Evaluation of an expression tree against a [`Scope`].
//!
//! Arguments are evaluated eagerly, left to right, before a function runs — also for `if`, `and`,
//! `or` and `coalesce`, as Logic Apps does (so `if(false, div(1, 0), 0)` fails).

use serde_json::{Map, Value};

use crate::ast::{Access, Expr, ExprKind};
use crate::error::{EvalError, EvalErrorKind};
use crate::functions;
use crate::scope::Scope;
use crate::value::{Num, type_name};

impl Expr {
    /// Evaluates the expression.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        eval(self, scope)
    }
}

fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    match &expr.kind {
        ExprKind::Null => Ok(Value::Null),
        ExprKind::Bool(b) => Ok(Value::Bool(*b)),
        ExprKind::Number(n) => Ok(Value::Number(n.clone())),
        ExprKind::String(s) => Ok(Value::String(s.clone())),
        ExprKind::Array(items) => {
            items.iter().map(|e| eval(e, scope)).collect::<Result<_, _>>().map(Value::Array)
        }
        ExprKind::Call { name, args } => {
            let values = args.iter().map(|e| eval(e, scope)).collect::<Result<Vec<_>, _>>()?;
            call(name, &values, scope).map_err(|e| e.at(expr.span.start))
        }
        ExprKind::Path(segments) => {
            let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
            scope.path(&refs).ok_or_else(|| {
                let message = format!("`{}` is not defined in this context", segments.join("."));
                EvalError::new(EvalErrorKind::UnknownPath, message).at(expr.span.start)
            })
        }
        ExprKind::Member { target, access, null_safe } => {
            let value = eval(target, scope)?;
            let key = match access {
                Access::Property(name) => Value::String(name.clone()),
                Access::Index(index) => eval(index, scope)?,
            };
            member(value, &key, *null_safe).map_err(|e| e.at(expr.span.start))
        }
    }
}

/// Calls function `name`: the scope first, then the built-in library.
fn call(name: &str, args: &[Value], scope: &dyn Scope) -> Result<Value, EvalError> {
    let canonical = functions::canonical_name(name).unwrap_or(name);
    if let Some(result) = scope.call(canonical, args) {
        return result.map_err(|e| e.in_function(canonical));
    }
    if let Some(def) = functions::lookup(name) {
        return def.call(scope, args);
    }
    if let Some(name) = functions::not_yet_name(name) {
        return Err(functions::not_yet(&format!("the function '{name}'")).in_function(name));
    }
    let message = if functions::is_scope_function(name) {
        format!("the function '{canonical}' is not available in this context")
    } else {
        format!("the template function '{name}' is not defined or not valid")
    };
    Err(EvalError::new(EvalErrorKind::UnknownFunction, message).in_function(canonical))
}

/// `value[key]` / `value.key`, with `?` semantics when `null_safe`.
fn member(value: Value, key: &Value, null_safe: bool) -> Result<Value, EvalError> {
    let fail =
        |kind, message: String| if null_safe { Ok(Value::Null) } else { Err(EvalError::new(kind, message)) };
    match (value, key) {
        (Value::Object(map), Value::String(name)) => match property(map, name) {
            Ok(v) => Ok(v),
            Err(available) => fail(
                EvalErrorKind::MissingProperty,
                format!("property '{name}' doesn't exist, available properties are '{available}'"),
            ),
        },
        (Value::Array(items), Value::Number(n)) => {
            let len = items.len();
            match Num::of(n) {
                Num::Int(i) if i >= 0 && (i as u64) < len as u64 => {
                    Ok(items.into_iter().nth(i as usize).unwrap_or_default())
                }
                _ => fail(
                    EvalErrorKind::IndexOutOfRange,
                    format!("index {} is outside the array of {len} items", crate::value::number_text(n)),
                ),
            }
        }
        (Value::Null, key) => fail(
            EvalErrorKind::InvalidAccess,
            format!("cannot select '{}' of a null value", crate::value::to_text(key)),
        ),
        (value, key) => fail(
            EvalErrorKind::InvalidAccess,
            format!(
                "cannot select {} '{}' of a value of type '{}'",
                type_name(key),
                crate::value::to_text(key),
                type_name(&value)
            ),
        ),
    }
}

/// A property by exact name, then case-insensitively, then as a Power Automate slash path
/// (`body/value`). The error carries the available names.
fn property(mut map: Map<String, Value>, name: &str) -> Result<Value, String> {
    if let Some(v) = map.remove(name) {
        return Ok(v);
    }
    if let Some(k) = map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned() {
        return Ok(map.remove(&k).unwrap_or_default());
    }
    if name.contains('/') {
        let mut current = Value::Object(map.clone());
        for part in name.split('/') {
            match current {
                Value::Object(inner) => match property(inner, part) {
                    Ok(v) => current = v,
                    Err(_) => return Err(available(&map)),
                },
                _ => return Err(available(&map)),
            }
        }
        return Ok(current);
    }
    Err(available(&map))
}

fn available(map: &Map<String, Value>) -> String {
    map.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}
